"""CostEvaluator: what each mode costs to compute a graph's whole Jacobian.

This module owns the cost model of :func:`dualad.compare`. For f: R^n -> R^m (n and m count
array elements), a mode is measured the way textbooks count it, one seed direction per sweep:

- **forward** runs n forward sweeps, one per input direction; each sweep computes every value
  again together with its tangent (dual numbers carry both);
- **reverse** evaluates f once, keeping every value (the tape), then runs m reverse sweeps,
  one per output direction, over that tape.

With ``batched=True`` every direction goes through one sweep instead (the evaluators'
``batch=1``, what ``ad.jacobian`` runs): forward mode then computes the values and each local
partial once and shares them between the n directions, as reverse mode shares its tape.

For each mode it reports four numbers.

``passes``
    The number of derivative sweeps: n for forward, m for reverse (however they are batched).
``ops``
    Arithmetic operations performed. Each sweep is the real evaluator, recorded as the program
    the fast paths run (:mod:`dualad.evaluators.record`), and each step of it is priced by
    its primitive's ``cost`` in the registry. Nothing here knows a derivative rule: a local
    partial costs what its rule computes (``exp`` reuses its output: 0; ``tanh``'s
    ``1 - out*out``: 2 per element), applying it costs one multiply per use (none when the
    partial is the number 1, as ``add``'s), and each accumulation one add. The prices:

    - an elementwise operation (``+ - * /``, ``sin``, ``exp``, ``sign``, ...): one per element
      of its result;
    - ``matmul``/``dot`` contracting q terms: q multiplies and q - 1 adds per result element;
    - ``sum`` folding N elements into M: N - M adds (``mean``: N, the adds and the divides);
    - reshaping, broadcasting, transposing and indexing: free (they move no arithmetic).

    Inputs or nodes a sweep's seed does not reach carry no tangent or adjoint and cost
    nothing, as in the evaluators; operations on constants alone are done once and not
    counted; a product computed twice in one step (the two shares of ``x * x``) is computed
    once. A user's rule that cannot be recorded runs as a call of its own code and has no
    price: its name is listed in ``unpriced``.
``peak_memory``
    Bytes of values alive at the worst moment of a sweep. Forward keeps a value (and its
    tangent) only until its last use in ``graph.program`` (outputs to the end), so a long chain
    needs constant memory. Reverse keeps the whole tape (every value) through its sweep, plus
    each adjoint from its first contribution until its node is visited (the inputs' adjoints
    are the result and stay). Constants and inputs count as values; the Jacobian being
    assembled (the same m x n numbers in both modes) does not.
``seconds``
    The median of ``repeats`` wall-clock runs of the evaluators the transforms run, computing
    the Jacobian that way (forward: n runs of ``FastForwardEvaluator``; reverse: one
    ``ValueEvaluator`` run and m runs of ``FastReverseEvaluator``, each sweep recorded once and
    replayed; batched: one sweep of each).

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators import CostEvaluator
>>> graph = ad.trace(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0)
>>> cost = CostEvaluator(graph, "reverse").run([2.0, 5.0])
>>> cost.passes, cost.ops, cost.jacobian.round(3).tolist()    # 5 for values, 9 for the sweep
(1, 14, [[5.5, 1.716]])
"""

import math
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import DualadError
from ..shapes import identity_blocks, shape_of, unit
from .base import Evaluator
from .fast import FastForwardEvaluator, FastReverseEvaluator
from .forward import ForwardEvaluator
from .record import Tape
from .reverse import ReverseEvaluator
from .value import ValueEvaluator

MODES = ("forward", "reverse")


# ---- counting: the sweeps recorded, each step priced by its primitive ----

def _recorded(graph, values, run):
    """Record ``run(tape, slots)`` on a counting tape and return the tape. ``slots`` holds a
    Slot for every node that depends on an input and the plain value of every other node (a
    constant, or an op of constants: computed once, not counted)."""
    tape = Tape(count_ops=True)
    depends = graph.depends_on_inputs()
    slots = [tape.input(v) if dependent else v for v, dependent in zip(values, depends)]
    run(tape, slots)
    return tape


def _values_run(graph):
    def run(tape, slots):
        buffer = [None] * len(slots)
        for pos in graph.leaf_positions:
            buffer[pos] = slots[pos]
        evaluator = ValueEvaluator(graph)
        evaluator.values = buffer
        evaluator.walk()
    return run


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
    return forward_columns(graph, input_values, one, zero)[0]


def forward_columns(graph, input_values, one=1.0, zero=0.0, order=None, deadline=math.inf):
    """``(jacobian, done)``: the columns of :func:`forward_sweeps` for the input elements in
    ``order`` (flat indices; all in turn by default), one sweep each, until
    ``time.monotonic()`` passes ``deadline`` (one column at least). The columns not reached
    are ``nan``, and ``done`` (one bool per column) marks them False.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.cost import forward_columns
    >>> graph = ad.trace(lambda x, y: x * y, 2.0, 5.0)
    >>> jacobian, done = forward_columns(graph, [2.0, 5.0], order=[1], deadline=0)
    >>> jacobian.tolist(), done.tolist()
    ([[nan, 2.0]], [False, True])
    """
    leaves = graph.leaf_values(input_values)
    elements = [(pos, index) for pos in graph.input_positions
                for index in np.ndindex(shape_of(leaves[pos]))]
    if not elements:   # no inputs: an m x 0 Jacobian
        values = ValueEvaluator(graph).run(input_values)
        return (np.zeros((sum(np.size(values[p]) for p in graph.output_positions), 0)),
                np.zeros(0, bool))
    evaluators, columns = {}, [None] * len(elements)
    for count, k in enumerate(range(len(elements)) if order is None else order):
        if count and time.monotonic() > deadline:
            break
        pos, index = elements[k]
        evaluator = evaluators.get(pos)
        if evaluator is None:      # recorded once, replayed
            evaluator = evaluators[pos] = FastForwardEvaluator(graph, wrt=(pos,))
        shape = shape_of(leaves[pos])
        values, tangents = evaluator.run(input_values, [unit(shape, index, one, zero)])
        columns[k] = np.concatenate([_flat(tangents[p], shape_of(values[p]), zero)
                                     for p in graph.output_positions])
    done = np.array([c is not None for c in columns])
    height = len(next(c for c in columns if c is not None))
    missing = np.full(height, np.nan)
    return np.stack([missing if c is None else c for c in columns], axis=1), done


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
    evaluator = FastReverseEvaluator(graph)        # recorded once, replayed
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


def batched_sweep(graph, input_values, mode):
    """The Jacobian (outputs x inputs, both flattened) from one sweep carrying every seed
    direction at once (``batch=1``): all input directions forward, or all output directions
    backward after one evaluation.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.cost import batched_sweep
    >>> graph = ad.trace(lambda x, y: (x * y, x + y), 2.0, 5.0)
    >>> batched_sweep(graph, [2.0, 5.0], "reverse").tolist()
    [[5.0, 2.0], [1.0, 1.0]]
    >>> batched_sweep(graph, [2.0, 5.0], "forward").tolist()
    [[5.0, 2.0], [1.0, 1.0]]
    """
    values = ValueEvaluator(graph).run(input_values)
    if mode == "forward":
        shapes = [shape_of(values[p]) for p in graph.input_positions]
        blocks, sizes = identity_blocks(shapes)
        _, tangents = ForwardEvaluator(graph, batch=1).run(None, blocks, values=values)
        rows = [np.zeros((sum(sizes), np.size(values[p]))) if tangents[p] is None else
                np.reshape(tangents[p], (sum(sizes), -1)) for p in graph.output_positions]
        return np.concatenate(rows, axis=1).T
    shapes = [shape_of(values[p]) for p in graph.output_positions]
    blocks, sizes = identity_blocks(shapes)
    adjoints = ReverseEvaluator(graph, batch=1).run(values, blocks)
    columns = [np.zeros((sum(sizes), np.size(values[p]))) if adjoints[p] is None else
               np.reshape(adjoints[p], (sum(sizes), -1)) for p in graph.input_positions]
    return np.concatenate(columns, axis=1)


SWEEPS = {"forward": forward_sweeps, "reverse": reverse_sweeps}


# ---- the evaluator ----

@dataclass
class ModeCost:
    """What one mode cost to compute a graph's Jacobian (see the module docstring).

    ``primal_ops`` is the part of ``ops`` spent on values: n evaluations' worth in forward
    mode with one sweep per direction (every sweep recomputes them), one otherwise.
    ``batched`` says whether every direction went through one sweep. ``max_error`` is filled
    in by :func:`dualad.compare` (the largest difference from sympy's Jacobian).

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
    batched: bool = False
    unpriced: list = field(default_factory=list)

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
    batched : bool
        False (the textbook count): one sweep per seed direction, each forward sweep computing
        the values again. True: every direction in one sweep (``batch=1``), the values and
        the local partials computed once and shared by all directions.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators import CostEvaluator
    >>> graph = ad.trace(lambda a, b, c: a * b * c, 1.0, 2.0, 3.0)
    >>> [CostEvaluator(graph, mode).run([1.0, 2.0, 3.0]).passes for mode in ("forward", "reverse")]
    [3, 1]
    """

    def __init__(self, graph, mode, batched=False):
        if mode not in MODES:
            raise DualadError(f"CostEvaluator: mode must be 'forward' or 'reverse', got {mode!r}")
        super().__init__(graph)
        self.mode = mode
        self.batched = bool(batched)
        self.unpriced = []

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
            if self.batched:
                jacobian = batched_sweep(graph, input_values, self.mode)
            else:
                jacobian = SWEEPS[self.mode](graph, input_values)
            seconds.append(time.perf_counter() - start)
        return ModeCost(mode=self.mode, passes=int(passes), ops=ops, primal_ops=primal_ops,
                        peak_memory=self.peak_memory(values), seconds=statistics.median(seconds),
                        jacobian=jacobian, repeats=repeats, batched=self.batched,
                        unpriced=sorted(set(self.unpriced)))

    # -- operation counts: the recorded sweeps, priced by the registry --

    def count_ops(self, values):
        """(all operations, operations on values) of this mode at the shapes of ``values``.

        Each sweep is the real evaluator, recorded (:mod:`dualad.evaluators.record`) and
        priced step by step by the registry (``Primitive.cost``). Seeds of one input (or
        output) all cost the same, so each is recorded once and counted per element; with
        ``batched``, all directions go through one sweep (values and partials computed once).
        """
        graph = self.graph
        primal = _recorded(graph, values, _values_run(graph))
        self.unpriced = list(primal.unpriced)
        if self.mode == "forward" and not self.batched:
            total = 0
            for pos in graph.input_positions:
                def run(tape, slots, pos=pos):
                    unit_tangent = tape.input(np.zeros(shape_of(values[pos])) if shape_of(
                        values[pos]) else 0.0)
                    buffer = [None] * len(slots)
                    for p in graph.leaf_positions:
                        buffer[p] = slots[p]
                    ForwardEvaluator(graph, wrt=(pos,))._sweep(buffer, [unit_tangent], False)
                sweep = _recorded(graph, values, run)
                self.unpriced += sweep.unpriced
                total += sweep.ops * int(np.size(values[pos]))
            passes = sum(int(np.size(values[p])) for p in graph.input_positions)
            return total, primal.ops * passes
        if self.mode == "forward":
            shapes = [shape_of(values[p]) for p in graph.input_positions]

            def run(tape, slots):
                directions = [tape.input(d) for d in identity_blocks(shapes)[0]]
                ForwardEvaluator(graph, batch=1)._sweep(list(slots), directions, True)
            sweep = _recorded(graph, values, run)
            self.unpriced += sweep.unpriced
            return primal.ops + sweep.ops, primal.ops
        total = primal.ops
        if not self.batched:
            for j, pos in enumerate(graph.output_positions):
                def run(tape, slots, j=j, pos=pos):
                    seeds = [None] * len(graph.outputs)
                    seeds[j] = tape.input(np.zeros(shape_of(values[pos])) if shape_of(
                        values[pos]) else 0.0)
                    ReverseEvaluator(graph).run(slots, seeds)
                sweep = _recorded(graph, values, run)
                self.unpriced += sweep.unpriced
                total += sweep.ops * int(np.size(values[pos]))
            return total, primal.ops
        shapes = [shape_of(values[p]) for p in graph.output_positions]

        def run(tape, slots):
            seeds = [tape.input(d) for d in identity_blocks(shapes)[0]]
            ReverseEvaluator(graph, batch=1).run(slots, seeds)
        sweep = _recorded(graph, values, run)
        self.unpriced += sweep.unpriced
        return total + sweep.ops, primal.ops

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
