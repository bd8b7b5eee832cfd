"""Evaluators: one class per way of running a graph.

Each evaluator walks ``Graph.program`` (forward or reversed), keeps its per-run state in its
own buffers (lists indexed by position in ``Graph.nodes``), and reads every derivative rule
from :mod:`dualad.primitives`. A new mode or number system is a new class here.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators import ValueEvaluator
>>> x = ad.Var(2.0)
>>> ValueEvaluator(ad.Graph(x * x)).run([3.0])[-1]
9.0
"""

from .base import Evaluator
from .cost import CostEvaluator
from .forward import ForwardEvaluator
from .reverse import ReverseEvaluator
from .fast import FastForwardEvaluator, FastReverseEvaluator, FastValueEvaluator
from .symbolic import SympyEvaluator
from .value import ValueEvaluator

#: The evaluators the transforms and the ``Var`` facade run: the fast paths, which record the
#: reference evaluators once per graph and kind of values and replay them (and hand any other
#: kind of value to the reference evaluators they extend).
DEFAULT = {"value": FastValueEvaluator, "reverse": FastReverseEvaluator,
           "forward": FastForwardEvaluator}

__all__ = ["Evaluator", "ValueEvaluator", "ForwardEvaluator", "ReverseEvaluator",
           "FastValueEvaluator", "FastReverseEvaluator", "FastForwardEvaluator",
           "CostEvaluator", "SympyEvaluator", "DEFAULT"]
