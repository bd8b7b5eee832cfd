"""ForwardEvaluator: tangent propagation (forward mode, Jacobian-vector products).

One sweep from the inputs to the outputs, computing each value together with its tangent
x_dot = dx/d(input direction), as dual numbers do: out_dot = sum_j pd_j * x_dot_j over the
inputs that carry a tangent. Several directions go through in the same sweep when tangents carry
a leading batch axis (``batch=1``), as ForwardDiff.jl's chunks do. The rules come from the
registry; nothing here knows any particular op.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators import ForwardEvaluator
>>> x, y = ad.Var(2.0, name="x"), ad.Var(5.0, name="y")
>>> graph = ad.Graph(x * y + x)
>>> values, tangents = ForwardEvaluator(graph).run([2.0, 5.0], [1.0, 0.0])
>>> tangents[graph.output_positions[0]]            # d/dx (xy + x) = y + 1
6.0
"""

from ..errors import ShapeMismatchError
from ..values import as_value
from ..shapes import shape_of
from .base import Evaluator, push_tangent


class ForwardEvaluator(Evaluator):
    """Values and tangents of every node, given input values and input tangents.

    Parameters
    ----------
    graph : Graph
    wrt : sequence of int, optional
        Positions of the inputs whose tangents are given (default: all inputs, in order).
    batch : int
        0, or 1 when each tangent carries a leading axis of k directions (k columns of a
        Jacobian in one sweep).

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> from dualad.evaluators import ForwardEvaluator
    >>> x = ad.Var(np.array([1.0, 2.0]))
    >>> graph = ad.Graph(x * x)
    >>> _, tangents = ForwardEvaluator(graph, batch=1).run([x.value], [np.eye(2)])
    >>> tangents[-1].tolist()                      # the Jacobian diag(2x), one row per direction
    [[2.0, 0.0], [0.0, 4.0]]
    """

    #: Called with each term of each tangent (see push_tangent); the step recorders set it.
    on_term = None

    def __init__(self, graph, wrt=None, batch=0):
        super().__init__(graph)
        self.wrt = tuple(graph.input_positions if wrt is None else wrt)
        self.batch = batch

    def run(self, input_values, input_tangents, values=None):
        """(values, tangents) of all nodes; tangents are ``None`` where inactive.

        With ``values`` (every node's value, from an earlier sweep) only tangents are
        computed; ``input_values`` is then ignored.
        """
        graph = self.graph
        if len(input_tangents) != len(self.wrt):
            raise ValueError(f"ForwardEvaluator: {len(self.wrt)} inputs to differentiate but "
                             f"{len(input_tangents)} tangents")
        known = values is not None
        buffer = list(values) if known else graph.leaf_values(input_values)
        self._sweep(buffer, input_tangents, known)
        if not known:
            graph.check_guards(self.values)
        return self.values, self.tangents

    def _sweep(self, buffer, input_tangents, known):
        """The sweep itself, from a buffer holding the leaves' values (and, if ``known``, every
        node's)."""
        self.known = known
        self.values = buffer
        self.tangents = [None] * len(self.graph.nodes)
        for pos, tangent in zip(self.wrt, input_tangents):
            tangent = as_value(tangent, "ForwardEvaluator: a tangent")
            if shape_of(tangent)[self.batch:] != shape_of(self.values[pos]):
                raise ShapeMismatchError(
                    f"ForwardEvaluator: tangent of shape {shape_of(tangent)} for an input of "
                    f"shape {shape_of(self.values[pos])}")
            self.tangents[pos] = tangent
        self.walk()
        return self.values, self.tangents

    def visit(self, instruction):
        pos, prim, args, params = instruction
        values, tangents = self.values, self.tangents
        inputs = [values[a] for a in args]
        out = values[pos] if self.known else prim.evaluate(*inputs, **params)
        values[pos] = out
        tangents[pos] = push_tangent(prim, inputs, out, [tangents[a] for a in args],
                                     self.batch, params, self.on_term)
