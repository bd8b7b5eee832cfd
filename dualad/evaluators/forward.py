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

import numpy as np

from ..errors import ShapeMismatchError
from ..graph import as_value
from ..mathns import namespace_for
from ..shapes import align_tangent, shape_of
from .base import Evaluator, local_partials


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

    def __init__(self, graph, wrt=None, batch=0):
        super().__init__(graph)
        self.wrt = tuple(graph.input_positions if wrt is None else wrt)
        self.batch = batch

    def run(self, input_values, input_tangents):
        """(values, tangents) of all nodes; tangents are ``None`` where inactive."""
        graph = self.graph
        if len(input_tangents) != len(self.wrt):
            raise ValueError(f"ForwardEvaluator: {len(self.wrt)} inputs to differentiate but "
                             f"{len(input_tangents)} tangents")
        self.values = graph.leaf_values(input_values)
        self.tangents = [None] * len(graph.nodes)
        for pos, tangent in zip(self.wrt, input_tangents):
            tangent = as_value(tangent)
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
        out = values[pos] = prim.evaluate(*inputs, **params)
        in_tangents = [tangents[a] for a in args]
        wanted = [j for j, t in enumerate(in_tangents) if t is not None]
        if not wanted:
            return  # a constant to this sweep, like JAX's symbolic Zero
        if prim.elementwise:
            pds = local_partials(prim, inputs, out, wanted)
            ndim = len(shape_of(out))
            out_dot = None
            for j in wanted:
                term = pds[j] * align_tangent(in_tangents[j], ndim, self.batch)
                out_dot = term if out_dot is None else out_dot + term
            target = shape_of(in_tangents[wanted[0]])[:self.batch] + shape_of(out)
            if shape_of(out_dot) != target:
                out_dot = np.broadcast_to(out_dot, target)
        else:
            m = namespace_for(*inputs, *(in_tangents[j] for j in wanted))
            out_dot = prim.jvp(m, in_tangents, inputs, out, self.batch, **params)
        tangents[pos] = out_dot
