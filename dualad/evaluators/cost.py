"""CostEvaluator: what each mode costs to compute a graph's whole Jacobian.

This module owns the cost model of :func:`dualad.compare`. For f: R^n -> R^m (n and m count
array elements), a mode is measured the way textbooks count it, one seed direction per sweep:

- **forward** runs n forward sweeps, one per input direction; each sweep computes every value
  again together with its tangent (dual numbers carry both);
- **reverse** evaluates f once, keeping every value (the tape), then runs m reverse sweeps,
  one per output direction, over that tape.

For each mode it reports four numbers.

``passes``
    The number of derivative sweeps: n for forward, m for reverse.
``ops``
    Arithmetic operations actually performed, counted by running the *real* evaluators on
    :class:`Tally` values: abstract arrays that carry only a shape and count every numpy call
    made on them. Nothing here knows a derivative rule; the registry's rules run exactly as
    they do on numbers, so the count is the evaluators' own work. The price list:

    - an elementwise operation (``+ - * /``, ``sin``, ``exp``, ``sign``, ...): one per element
      of its result;
    - ``matmul``/``dot`` contracting q terms: q multiplies and q - 1 adds per result element;
    - ``sum`` folding N elements into M: N - M adds (``mean``: N, the adds and the divides);
    - reshaping, broadcasting, transposing and taking shapes: free (they move no arithmetic).

    So a local partial costs what its rule does (``exp`` reuses its output: 0; ``tanh``'s
    ``1 - out*out``: 2 per element), applying it costs one multiply per use, and each
    accumulation one add, because that is what :mod:`dualad.evaluators.forward` and
    :mod:`dualad.evaluators.reverse` do. Inputs or nodes a sweep's seed does not reach carry no
    tangent or adjoint and cost nothing, as in the evaluators. Operations whose inputs are all
    constants are folded before counting.
``peak_memory``
    Bytes of values alive at the worst moment of a sweep. Forward keeps a value (and its
    tangent) only until its last use in ``graph.program`` (outputs to the end), so a long chain
    needs constant memory. Reverse keeps the whole tape (every value) through its sweep, plus
    each adjoint from its first contribution until its node is visited (the inputs' adjoints
    are the result and stay). Constants and inputs count as values; the Jacobian being
    assembled (the same m x n numbers in both modes) does not.
``seconds``
    The median of ``repeats`` wall-clock runs of the real evaluators computing the Jacobian
    that way (forward: n runs of ``ForwardEvaluator``; reverse: one ``ValueEvaluator`` run and
    m runs of ``ReverseEvaluator``).

The evaluators can also push k directions through one sweep (``batch=1``); that shares the
values and the partials between directions but does the same multiply-adds per direction.
The textbook count above is the one that shows where the crossover between the modes lies.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators import CostEvaluator
>>> graph = ad.trace(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0)
>>> cost = CostEvaluator(graph, "reverse").run([2.0, 5.0])
>>> cost.passes, cost.ops, cost.jacobian.round(3).tolist()    # 5 for values, 12 for the sweep
(1, 17, [[5.5, 1.716]])
"""

import math
import numbers
import statistics
import time
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from ..errors import DualadError
from ..shapes import shape_of, unit
from .base import Evaluator
from .forward import ForwardEvaluator
from .reverse import ReverseEvaluator
from .value import ValueEvaluator

MODES = ("forward", "reverse")


# ---- counting numbers ----

class Meter:
    """The running count of arithmetic operations shared by the Tallies of one run."""

    def __init__(self):
        self.ops = 0


#: numpy functions that only view, move or describe data: no arithmetic, no cost.
FREE = {np.reshape, np.broadcast_to, np.transpose, np.swapaxes, np.expand_dims, np.squeeze}
#: numpy functions that answer a question about the shape; they return plain Python values.
SHAPE_QUERIES = {np.ndim, np.shape, np.size}


def _stand_in(x):
    """A Tally as a real (zero-stride, allocation-free) array of its shape, to let numpy
    itself work out result shapes."""
    return np.broadcast_to(np.float64(1.0), x.shape) if isinstance(x, Tally) else x


def _contracted(a):
    """How many terms matmul/dot add up per result element: a's last axis."""
    shape = shape_of(a)
    return shape[-1] if shape else 1


class Tally(NDArrayOperatorsMixin, numbers.Number):
    """An abstract value of a given shape whose every numpy operation adds its cost to a meter.

    Running an evaluator on Tallies computes no numbers, only the operation count of the
    run (see the module docstring for the price of each numpy function). Python operators go
    through numpy ufuncs (``NDArrayOperatorsMixin``), so ``1 - out * out`` in a rule counts as
    two operations per element.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.evaluators.cost import Meter, Tally
    >>> meter = Meter()
    >>> x = Tally((3,), meter)
    >>> y = np.sin(x) * 2 + x          # 3 sines, 3 multiplies, 3 adds
    >>> y.shape, meter.ops
    ((3,), 9)
    """

    __slots__ = ("shape", "meter")

    def __init__(self, shape, meter):
        self.shape = tuple(shape)
        self.meter = meter

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    def __repr__(self):
        return f"Tally(shape={self.shape})"

    def __bool__(self):
        raise DualadError("CostEvaluator: a rule branches on a value; operations can only be "
                          "counted for rules without Python control flow on values")

    __float__ = __bool__

    def _meter(self, values):
        return next(v.meter for v in values if isinstance(v, Tally))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or ufunc.nout != 1 or "out" in kwargs:
            raise DualadError(f"CostEvaluator: no cost rule for numpy.{ufunc.__name__}"
                              f"{'' if method == '__call__' else '.' + method}")
        with np.errstate(all="ignore"):
            shape = np.shape(ufunc(*(_stand_in(x) for x in inputs), **kwargs))
        size = math.prod(shape)
        if ufunc is np.matmul:
            size *= 2 * _contracted(inputs[0]) - 1   # q multiplies, q - 1 adds
        self._meter(inputs).ops += size
        return Tally(shape, self._meter(inputs))

    def __array_function__(self, func, types, args, kwargs):
        stand_ins = [_stand_in(a) for a in args]
        if func in SHAPE_QUERIES:
            return func(*stand_ins, **kwargs)
        meter = self._meter(args)
        with np.errstate(all="ignore"):
            shape = np.shape(func(*stand_ins, **kwargs))
        size = math.prod(shape)
        if func in FREE:
            pass
        elif func is np.sum:
            meter.ops += np.size(stand_ins[0]) - size              # N - M adds
        elif func is np.mean:
            meter.ops += np.size(stand_ins[0])                     # adds and divides
        elif func is np.dot or func is np.matmul:
            meter.ops += size * (2 * _contracted(args[0]) - 1)
        else:
            raise DualadError(f"CostEvaluator: no cost rule for numpy.{func.__name__}")
        return Tally(shape, meter)


# ---- the Jacobian one seed direction per sweep (the real evaluators, timed) ----

def _flat(value, shape, zero):
    """A tangent or adjoint as a flat row (``zero`` everywhere when it is ``None``)."""
    if value is None:
        return np.full(math.prod(shape), zero, dtype=np.asarray(zero).dtype)
    return np.ravel(np.asarray(value))


def forward_sweeps(graph, input_values, one=1.0, zero=0.0):
    """The Jacobian (outputs x inputs, both flattened) from one forward sweep per input
    direction; each sweep seeds one element of one input with ``one``.

    Runs on floats or, with ``one=S.One, zero=S.Zero``, exactly on sympy values.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.cost import forward_sweeps
    >>> graph = ad.trace(lambda x, y: (x * y, x + y), 2.0, 5.0)
    >>> forward_sweeps(graph, [2.0, 5.0]).tolist()
    [[5.0, 2.0], [1.0, 1.0]]
    """
    leaves = graph.leaf_values(input_values)
    columns = []
    for pos in graph.input_positions:
        shape = shape_of(leaves[pos])
        evaluator = ForwardEvaluator(graph, wrt=(pos,))
        for index in np.ndindex(shape):
            values, tangents = evaluator.run(input_values, [unit(shape, index, one, zero)])
            columns.append(np.concatenate([_flat(tangents[p], shape_of(values[p]), zero)
                                           for p in graph.output_positions]))
    if not columns:   # no inputs: an m x 0 Jacobian
        values = ValueEvaluator(graph).run(input_values)
        return np.zeros((sum(np.size(values[p]) for p in graph.output_positions), 0))
    return np.stack(columns, axis=1)


def reverse_sweeps(graph, input_values, one=1.0, zero=0.0, values=None):
    """The Jacobian (outputs x inputs, both flattened) from one evaluation and one reverse
    sweep per output direction; each sweep seeds one element of one output with ``one``.

    ``values`` (every node's value at ``input_values``) skips the evaluation.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.cost import reverse_sweeps
    >>> graph = ad.trace(lambda x, y: (x * y, x + y), 2.0, 5.0)
    >>> reverse_sweeps(graph, [2.0, 5.0]).tolist()
    [[5.0, 2.0], [1.0, 1.0]]
    """
    if values is None:
        values = ValueEvaluator(graph).run(input_values)
    in_shapes = [shape_of(values[p]) for p in graph.input_positions]
    evaluator = ReverseEvaluator(graph)
    rows = []
    for j, pos in enumerate(graph.output_positions):
        shape = shape_of(values[pos])
        for index in np.ndindex(shape):
            seeds = [None] * len(graph.outputs)
            seeds[j] = unit(shape, index, one, zero)
            adjoints = evaluator.run(values, seeds)
            rows.append(np.concatenate(
                [_flat(adjoints[p], s, zero) for p, s in zip(graph.input_positions, in_shapes)]))
    if not rows:
        return np.zeros((0, sum(math.prod(s) for s in in_shapes)))
    return np.stack(rows, axis=0)


SWEEPS = {"forward": forward_sweeps, "reverse": reverse_sweeps}


# ---- the evaluator ----

@dataclass
class ModeCost:
    """What one mode cost to compute a graph's Jacobian (see the module docstring).

    ``primal_ops`` is the part of ``ops`` spent on values: n evaluations' worth in forward
    mode (every sweep recomputes them), one in reverse mode. ``max_error`` is filled in by
    :func:`dualad.compare` (the largest difference from sympy's Jacobian).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators import CostEvaluator
    >>> cost = CostEvaluator(ad.trace(lambda x: ad.sin(x), 0.0), "forward").run([0.0])
    >>> cost.ops, cost.primal_ops, cost.derivative_ops    # sin; cos, times the tangent
    (3, 1, 2)
    """

    mode: str
    passes: int
    ops: int
    primal_ops: int
    peak_memory: int
    seconds: float
    jacobian: np.ndarray = field(repr=False)
    repeats: int = 1
    max_error: float = None

    @property
    def derivative_ops(self):
        """Operations spent on tangents or adjoints (and the partials they use)."""
        return self.ops - self.primal_ops


def _nbytes(value):
    return np.asarray(value).nbytes if value is not None else 0


class CostEvaluator(Evaluator):
    """Measure one mode (``"forward"`` or ``"reverse"``) computing a graph's whole Jacobian.

    Parameters
    ----------
    graph : Graph
    mode : {"forward", "reverse"}

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators import CostEvaluator
    >>> graph = ad.trace(lambda a, b, c: a * b * c, 1.0, 2.0, 3.0)
    >>> [CostEvaluator(graph, mode).run([1.0, 2.0, 3.0]).passes for mode in ("forward", "reverse")]
    [3, 1]
    """

    def __init__(self, graph, mode):
        if mode not in MODES:
            raise DualadError(f"CostEvaluator: mode must be 'forward' or 'reverse', got {mode!r}")
        super().__init__(graph)
        self.mode = mode

    def run(self, input_values, repeats=5):
        """Measure the mode at these input values; returns a :class:`ModeCost`.

        ``repeats`` timed runs of the real evaluators give ``seconds`` (their median) and the
        Jacobian.
        """
        if repeats < 1:
            raise DualadError(f"CostEvaluator: repeats must be at least 1, got {repeats}")
        graph = self.graph
        values = ValueEvaluator(graph).run(input_values)
        if self.mode == "forward":
            passes = sum(np.size(values[p]) for p in graph.input_positions)
        else:
            passes = sum(np.size(values[p]) for p in graph.output_positions)
        ops, primal_ops = self.count_ops(values)
        seconds, jacobian = [], None
        for _ in range(repeats):
            start = time.perf_counter()
            jacobian = SWEEPS[self.mode](graph, input_values)
            seconds.append(time.perf_counter() - start)
        return ModeCost(mode=self.mode, passes=int(passes), ops=ops, primal_ops=primal_ops,
                        peak_memory=self.peak_memory(values), seconds=statistics.median(seconds),
                        jacobian=jacobian, repeats=repeats)

    # -- operation counts: the real evaluators, run on Tallies --

    def count_ops(self, values):
        """(all operations, operations on values) of this mode, from shapes of ``values``.

        Seeds of one input (or output) all cost the same, so each input (output) is counted
        once and multiplied by its number of elements.
        """
        graph, meter = self.graph, Meter()

        def tallies(positions):
            return [Tally(shape_of(values[p]), meter) for p in positions]

        ValueEvaluator(graph).run(tallies(graph.input_positions))
        primal = meter.ops
        if self.mode == "forward":
            total = 0
            for pos in graph.input_positions:
                meter.ops = 0
                ForwardEvaluator(graph, wrt=(pos,)).run(tallies(graph.input_positions),
                                                        tallies([pos]))
                total += meter.ops * int(np.size(values[pos]))
            passes = sum(int(np.size(values[p])) for p in graph.input_positions)
            return total, primal * passes
        meter.ops = 0
        tape = ValueEvaluator(graph).run(tallies(graph.input_positions))
        total = primal
        for j, pos in enumerate(graph.output_positions):
            meter.ops = 0
            seeds = [None] * len(graph.outputs)
            seeds[j] = Tally(shape_of(values[pos]), meter)
            ReverseEvaluator(graph).run(tape, seeds)
            total += meter.ops * int(np.size(values[pos]))
        return total, primal

    # -- memory: value lifetimes over the program --

    def visit(self, instruction):
        for a in instruction.args:
            self.last_use[a] = instruction.pos

    def lifetimes(self):
        """The position of each node's last use (its own position when nothing uses it;
        the end of the program for outputs)."""
        nodes = self.graph.nodes
        self.last_use = list(range(len(nodes)))
        for i, node in enumerate(nodes):
            if node.op is None:
                self.last_use[i] = 0   # leaves exist from the start
        self.walk()
        for pos in self.graph.output_positions:
            self.last_use[pos] = len(nodes)
        return self.last_use

    def peak_memory(self, values):
        """Peak bytes alive during the worst sweep of this mode (see the module docstring)."""
        graph = self.graph
        last_use = self.lifetimes()
        sizes = [_nbytes(v) for v in values]
        if self.mode == "forward":
            return max((self._forward_peak(graph.activity((pos,)), sizes, last_use)
                        for pos in graph.input_positions), default=sum(sizes))
        return max((self._reverse_peak(pos, sizes) for pos in graph.output_positions),
                   default=sum(sizes))

    def _forward_peak(self, active, sizes, last_use):
        # a node holds its value, and its tangent when the sweep's seed reaches it
        change = [0] * (len(sizes) + 2)
        for i, node in enumerate(self.graph.nodes):
            held = sizes[i] * (2 if active[i] else 1)
            born = 0 if node.op is None else i
            change[born] += held
            change[max(last_use[i], born) + 1] -= held
        live = peak = 0
        for delta in change:
            live += delta
            peak = max(peak, live)
        return peak

    def _reverse_peak(self, out_pos, sizes):
        # the whole tape, plus adjoints from their first contribution to their node's visit
        graph = self.graph
        active = graph.activity()
        tape = sum(sizes)
        has_adjoint = [False] * len(sizes)
        has_adjoint[out_pos] = active[out_pos]
        live = peak = sizes[out_pos] if active[out_pos] else 0
        for pos, _, args, _ in reversed(graph.program):
            if not has_adjoint[pos]:
                continue
            for a in args:
                if active[a] and not has_adjoint[a]:
                    has_adjoint[a] = True
                    live += sizes[a]
            peak = max(peak, live)
            live -= sizes[pos]    # visited: its adjoint has been passed on
        return tape + peak
