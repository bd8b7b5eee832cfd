"""The walk every evaluator shares; no formulas.

This module owns :class:`Evaluator`: it holds a graph and visits its program in order
(``walk()``) or in reverse (``walk(reverse=True)``). Subclasses own their buffers and say what a
visit does. Local partials are combined with tangents/adjoints here once, for every
elementwise op, by :func:`local_partials`.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators.base import Evaluator
>>> class CountOps(Evaluator):
...     def visit(self, instruction):
...         self.count += 1
>>> counter = CountOps(ad.Graph(ad.sin(ad.Var(1.0)) * 2))
>>> counter.count = 0; counter.walk(); counter.count
2
"""

from ..mathns import call_in_namespace


class Evaluator:
    """Base class: holds a graph, walks its instruction list, leaves buffers to subclasses.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators import Evaluator, ValueEvaluator
    >>> issubclass(ValueEvaluator, Evaluator)
    True
    """

    def __init__(self, graph):
        self.graph = graph

    def walk(self, reverse=False):
        """Visit every operation node, children first (or, reversed, parents first)."""
        program = self.graph.program
        for instruction in (reversed(program) if reverse else program):
            self.visit(instruction)

    def visit(self, instruction):
        raise NotImplementedError


def local_partials(prim, inputs, out, wanted):
    """The local partials d(out)/d(input_j) of an elementwise op, for each ``j`` in ``wanted``.

    Each rule runs in the namespace its argument types call for (floats, arrays and Duals, or
    sympy values). Partials of inputs not in ``wanted`` are not computed at all.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> from dualad.evaluators.base import local_partials
    >>> local_partials(REGISTRY["multiply"], (2.0, 5.0), 10.0, (0, 1))
    [5.0, 2.0]
    """
    return [call_in_namespace(prim.pds[j], *inputs, out) if j in wanted else None
            for j in range(len(inputs))]
