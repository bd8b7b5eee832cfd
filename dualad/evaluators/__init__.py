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
from .scalar import ScalarForwardEvaluator, ScalarReverseEvaluator, ScalarValueEvaluator
from .symbolic import SympyEvaluator
from .value import ValueEvaluator

#: The evaluators the transforms and the ``Var`` facade run: the scalar fast path, which hands
#: anything but graphs of floats to the reference evaluators it extends.
DEFAULT = {"value": ScalarValueEvaluator, "reverse": ScalarReverseEvaluator,
           "forward": ScalarForwardEvaluator}

__all__ = ["Evaluator", "ValueEvaluator", "ForwardEvaluator", "ReverseEvaluator",
           "ScalarValueEvaluator", "ScalarReverseEvaluator", "ScalarForwardEvaluator",
           "CostEvaluator", "SympyEvaluator", "DEFAULT"]
