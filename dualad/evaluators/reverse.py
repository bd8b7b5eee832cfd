"""ReverseEvaluator: Linnainmaa's backward pass (reverse mode, vector-Jacobian products).

One sweep from the outputs back to the inputs: each node's adjoint x_bar = d(output)/d(x) is
the sum over its uses of (local partial) * (the user's adjoint), summed back to x's shape where
broadcasting widened it. It needs every intermediate value (the tape), which is why reverse
mode's memory grows with the graph. The rules come from the registry; nothing here knows any
particular op.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators import ReverseEvaluator, ValueEvaluator
>>> x, y = ad.Var(2.0, name="x"), ad.Var(5.0, name="y")
>>> graph = ad.Graph(x * y + x)
>>> values = ValueEvaluator(graph).run([2.0, 5.0])
>>> adjoints = ReverseEvaluator(graph).run(values, [1.0])
>>> [adjoints[p] for p in graph.input_positions]     # d/dx = y + 1, d/dy = x
[6.0, 2.0]
"""

import numpy as np

from ..errors import ShapeMismatchError
from ..mathns import is_symbolic
from ..shapes import shape_of
from .base import Evaluator, pull_adjoints


def default_seed(value, what, hint="pass a seed of that shape"):
    """The seed 1 for a scalar output; for anything else an error giving its shape.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.evaluators.reverse import default_seed
    >>> default_seed(2.5, "backward")
    1.0
    >>> default_seed(np.zeros(3), "backward")
    Traceback (most recent call last):
      ...
    dualad.errors.ShapeMismatchError: backward: the output must be a scalar, but it is not (shape (3,)); pass a seed of that shape
    """
    if type(value) is float:
        return 1.0
    shape = shape_of(value)
    if shape != ():
        raise ShapeMismatchError(f"{what}: the output must be a scalar, but it is not "
                                 f"(shape {shape}); {hint}")
    if is_symbolic(value):
        import sympy
        return sympy.S.One
    return 1.0


class ReverseEvaluator(Evaluator):
    """Adjoints of every node, given the values of a forward sweep and seeds for the outputs.

    Parameters
    ----------
    graph : Graph
    wrt : sequence of int, optional
        Positions of the inputs to differentiate with respect to (default: all inputs). Only
        nodes depending on them get adjoints; the rest (constants) get ``None``.
    batch : int
        0, or 1 when each seed carries a leading axis of several cotangents (rows of a
        Jacobian) that go back in one sweep.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> from dualad.evaluators import ReverseEvaluator
    >>> a, b = ad.Var(np.ones((3, 1))), ad.Var(np.ones((1, 4)))
    >>> graph = ad.Graph(a * b)
    >>> adjoints = ReverseEvaluator(graph).run([n.value for n in graph.nodes], [np.ones((3, 4))])
    >>> adjoints[0].shape, adjoints[1].shape       # summed back to each input's shape
    ((3, 1), (1, 4))
    """

    #: Called with each input's share of each adjoint (see pull_adjoints); the step recorders
    #: set it.
    on_term = None
    #: The positions whose adjoints the last run made as new arrays that nothing else holds
    #: (the transforms hand those to users without a copy). None of them here: an adjoint may
    #: be a seed or a value the graph holds.
    made = frozenset()

    def __init__(self, graph, wrt=None, batch=0):
        super().__init__(graph)
        self.wrt = wrt
        self.batch = batch

    def run(self, values, seeds):
        """Adjoints of all nodes (``None`` where inactive), one seed per output."""
        graph = self.graph
        if len(seeds) != len(graph.outputs):
            raise ValueError(f"ReverseEvaluator: {len(graph.outputs)} outputs but "
                             f"{len(seeds)} seeds")
        self.values = values
        self.adjoints = [None] * len(graph.nodes)
        self.active = graph.activity(self.wrt)
        for pos, seed in zip(graph.output_positions, seeds):
            if seed is None or not self.active[pos]:
                continue
            expected = shape_of(seed)[self.batch:]
            if expected != shape_of(values[pos]):
                raise ShapeMismatchError(f"ReverseEvaluator: seed of shape {shape_of(seed)} "
                                         f"for an output of shape {shape_of(values[pos])}")
            self.accumulate(pos, seed)
        self.walk(reverse=True)
        return self.adjoints

    def accumulate(self, pos, contribution):
        # A fresh sum, never +=: y = x * x must give 2x, and a caller's seed array stays put.
        current = self.adjoints[pos]
        self.adjoints[pos] = contribution if current is None else current + contribution

    def visit(self, instruction):
        pos, prim, args, params = instruction
        out_bar = self.adjoints[pos]
        if out_bar is None:
            return
        values, active = self.values, self.active
        inputs = [values[a] for a in args]
        wanted = [j for j, a in enumerate(args) if active[a]]
        bars = pull_adjoints(prim, inputs, values[pos], out_bar, wanted, self.batch, params,
                             self.on_term)
        for j in wanted:
            self.accumulate(args[j], bars[j])


def as_result(adjoint, value, batch=0, made=False):
    """An adjoint in the form a user gets it: zeros for ``None``, floats for scalars,
    fresh writable arrays otherwise (an array the run ``made``, which nothing else holds, is
    already one).

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.evaluators.reverse import as_result
    >>> as_result(None, np.ones(2)).tolist(), as_result(np.float64(3.0), 1.0)
    ([0.0, 0.0], 3.0)
    """
    if type(adjoint) is np.ndarray and adjoint.dtype.kind == "f":    # the usual case
        if adjoint.ndim == 0 and not batch:
            return adjoint.item()
        return adjoint if made else np.array(adjoint)
    if adjoint is None:
        adjoint = np.zeros(shape_of(value))
    if is_symbolic(adjoint) or hasattr(adjoint, "primal") or hasattr(adjoint, "children"):
        return adjoint  # symbolic, a Dual, or a Var (a derivative taken inside a trace)
    if shape_of(adjoint) == () and not batch:
        return np.asarray(adjoint).item()
    return np.array(adjoint)
