"""The fast paths: the reference evaluators, recorded once and replayed.

This module owns ``FastValueEvaluator``, ``FastReverseEvaluator`` and ``FastForwardEvaluator``,
the evaluators the transforms and the ``Var`` facade run (``dualad.evaluators.DEFAULT``). They
compute exactly what ``ValueEvaluator``, ``ReverseEvaluator`` and ``ForwardEvaluator`` compute
(the test suite runs the same checks on both sets), because they *are* those evaluators: the
first run on a graph, for a given kind of values (Python floats, or arrays of given shapes), is
the reference evaluator run on :class:`~dualad.evaluators.record.Slot` values, which records
the sweep as a :class:`~dualad.evaluators.record.Program`; later runs replay the program, a
flat list of calls with no per-node dispatch. No derivative is assembled here.

The values sweep needs no recording: a graph's program of values is already a flat list
(``Graph.op_positions``/``op_args``), replayed with each op's ``math`` function on floats and
its numpy function on arrays.

Values of any other kind (Duals for Hessians, Vars inside another transform, sympy values,
complex numbers) go to the reference evaluators unchanged.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators.fast import FastReverseEvaluator, FastValueEvaluator
>>> g = ad.trace(lambda x, y: x * y + ad.sin(x), 0.0, 2.0)
>>> values = FastValueEvaluator(g).run([0.0, 2.0])
>>> adjoints = FastReverseEvaluator(g).run(values, [1.0])
>>> [adjoints[p] for p in g.input_positions]            # y + cos x, x
[3.0, 0.0]
"""

import functools
from collections import OrderedDict

import numpy as np

from ..graph import _collector_paused
from ..mathns import as_float
from ..release import note_reads
from ..shapes import shape_of
from ..structure import comparable_ops
from .forward import ForwardEvaluator
from .record import CSE_WINDOW, Slot, Tape
from .reverse import ReverseEvaluator
from .value import ValueEvaluator


#: numpy's type codes of the float and complex dtypes
_FLOAT_CODES = frozenset(np.typecodes["AllFloat"])


def _kinds(values):
    """What a program recorded on ``values`` is specific to: for each value "f" for a Python
    float, the dtype and shape for a float array, ``None`` for ``None``; ``None`` when a
    value is anything else (no program)."""
    kinds = []
    for value in values:
        kind = type(value)
        if kind is float:
            kinds.append("f")
        elif kind is np.ndarray:
            code = value.dtype.char
            if code not in _FLOAT_CODES:
                return None
            kinds.append((code, value.shape))
        elif value is None:
            kinds.append(None)
        else:
            return None
    return tuple(kinds)


#: Graphs of at most this many nodes share their programs with every graph of the same
#: structure (the transforms trace a Python function again at each call: the same structure).
SHARE_LIMIT = 100_000
#: How many structures keep their programs (the least recently used are dropped).
SHARED_STRUCTURES = 256
_SHARED = OrderedDict()


def _programs(graph):
    """The programs recorded for ``graph``, by what they were recorded for: kept with the
    graph, and shared by every graph of the same structure (same ops, params, arguments,
    inputs, outputs and guards: a program reads all the leaves' values, constants included,
    so it does not depend on them)."""
    programs = graph.__dict__.get("_programs")
    if programs is None:
        structure = graph.__dict__.get("structure")
        if structure is None:
            programs = _shared_programs(graph)
        else:           # a graph traced again with the same structure: no signature to make
            programs = structure.cache.get("programs")
            if programs is None:
                programs = structure.cache["programs"] = _shared_programs(graph)
        graph._programs = programs
    return programs


def _shared_programs(graph):
    """The programs of every graph with ``graph``'s signature (a dict of its own, when it has
    none)."""
    signature = _signature(graph) if len(graph) <= SHARE_LIMIT else None
    try:
        programs = None if signature is None else _SHARED.get(signature)
    except TypeError:       # a parameter that cannot be hashed after all
        signature = None
    if signature is None:
        return {}
    if programs is None:
        programs = _SHARED[signature] = {}
        if len(_SHARED) > SHARED_STRUCTURES:
            _SHARED.popitem(last=False)
    else:
        _SHARED.move_to_end(signature)
    return programs


def _signature(graph):
    """A description of ``graph``'s structure to look its programs up by, or ``None`` when it
    has none (an op that is not registered, parameters that cannot be compared)."""
    ops = comparable_ops(graph)
    if ops is None:
        return None
    parts = tuple([(prim, args, frozen) for _, prim, _, frozen, args in ops])
    return (len(graph.nodes), parts, tuple(graph.leaf_positions), graph.input_positions,
            graph.output_positions, graph.guards)


def _plain(value):
    return value.value if isinstance(value, Slot) else value


# ---- values ----

class _ValuePlan:
    """A graph's values sweep in columns: each op's function (``math`` on floats, numpy on
    arrays) and its arguments' positions (``b`` is -1 for one argument, -2 for more, whose
    positions are then in ``more``)."""

    def __init__(self, graph, scalar):
        nodes = graph.nodes
        self.functions, self.a, self.b, self.more = [], [], [], []
        for pos, args in zip(graph.op_positions, graph.op_args):
            prim, params = nodes[pos].op, nodes[pos].params
            if scalar and prim.math is not None and not params:
                function = prim.math
            else:
                function = functools.partial(prim.numpy, **params) if params else prim.numpy
                function = _floats(function) if scalar else function
            self.functions.append(function)
            self.a.append(args[0] if args else -1)
            self.b.append(args[1] if len(args) == 2 else -1 if len(args) == 1 else -2)
            if len(args) not in (1, 2):
                self.more.append(args)
        self.positions = graph.op_positions

    def run(self, values):
        more = iter(self.more)
        for function, pos, a, b in zip(self.functions, self.positions, self.a, self.b):
            if b >= 0:
                values[pos] = function(values[a], values[b])
            elif b == -1:
                values[pos] = function(values[a])
            else:
                values[pos] = function(*[values[k] for k in next(more)])
        return values


def _value_plan(graph, scalar):
    programs = _programs(graph)
    plan = programs.get(("values", scalar))
    if plan is None:
        plan = programs[("values", scalar)] = _ValuePlan(graph, scalar)
    return plan


def _elementwise(graph):
    """True when every op of ``graph`` is elementwise: floats then stay floats."""
    programs = _programs(graph)
    known = programs.get("elementwise")
    if known is None:
        nodes = graph.nodes
        known = programs["elementwise"] = all(nodes[p].op.elementwise for p in graph.op_positions)
    return known


def _floats(function):
    """``function`` with a numpy float64 result turned into a Python float."""
    def run(*args):
        return as_float(function(*args))
    return run


class FastValueEvaluator(ValueEvaluator):
    """``ValueEvaluator``, replaying the graph's own flat program on floats and arrays.

    A graph of floats and elementwise ops runs the fast way from the first call; arrays run
    the reference evaluator once for each set of shapes (its checks and messages), then the
    fast way.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.fast import FastValueEvaluator
    >>> FastValueEvaluator(ad.trace(lambda x: x * x + 1, 2.0)).run([3.0])[-1]
    10.0
    """

    def run(self, input_values):
        graph = self.graph
        values = graph.leaf_values(input_values)
        kinds = _kinds([values[p] for p in graph.leaf_positions])
        if kinds is None:
            return super().run(input_values)
        scalar = _elementwise(graph) and all(kind == "f" for kind in kinds)
        programs = _programs(graph)
        if not scalar and ("checked", kinds) not in programs:
            values = super().run(input_values)    # the reference run, with its shape checks
            programs[("checked", kinds)] = True
            return values
        try:
            _value_plan(graph, scalar).run(values)
        except (ArithmeticError, ValueError):
            if not scalar:
                raise
            return super().run(input_values)   # a domain edge: numpy's nan/inf, as arrays
        if not scalar:      # numpy gives a reduction to one number as a float64: a float, as
            for pos in graph.op_positions:          # the reference evaluator gives it
                values[pos] = as_float(values[pos])
        graph.check_guards(values)
        self.values = values
        return values


# ---- derivatives: record once, replay ----

def _remember_nodes(tape, graph, slots):
    """Tell ``tape`` that the graph's last ops are already computed (their values are the
    recorded sweep's inputs ``slots``): ``x * x`` that a rule computes again is read, not
    computed, and ``x * (-y)`` can be written from ``x * y``."""
    nodes = graph.nodes
    for pos, args in zip(graph.op_positions[-CSE_WINDOW:], graph.op_args[-CSE_WINDOW:]):
        tape.remember(nodes[pos].op, [slots[a] for a in args], nodes[pos].params, slots[pos])


def _keep_released(graph, program, values):
    """Compute the values a transform's trace let go of again, into ``values`` (a list by
    position, or ``None``: the nodes only), unless ``program`` is to be replayed and reads
    none of them (see :mod:`dualad.release`)."""
    released = graph.released
    if released and (program is None or not program.reads.isdisjoint(released)):
        graph.restore_released(values)


def _first_time(programs, key):
    """True the first time ``key`` is asked for: that run is the reference evaluator's own.
    Recording costs a few reference runs, so it is done where a sweep is run again: the
    second time (a graph evaluated twice, or a function traced again at the next call)."""
    if ("seen", key) in programs:
        return False
    programs[("seen", key)] = True
    return True


def _made_positions(programs, key, program, wanted):
    """The positions in ``wanted`` whose adjoints the from-inputs ``program`` (recorded under
    ``key``) makes as new arrays: its outputs are the value, then those adjoints in order.
    Worked out once per program."""
    made = programs.get(("made", key))
    if made is None:
        made = programs[("made", key)] = frozenset(
            [wanted[k - 1] for k in program.made_outputs() if k])
    return made


class FastReverseEvaluator(ReverseEvaluator):
    """``ReverseEvaluator``, recorded on the second run for each kind of values, then replayed.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.fast import FastReverseEvaluator
    >>> g = ad.trace(lambda x: x * x, 3.0)
    >>> FastReverseEvaluator(g).run([n.value for n in g.nodes], [1.0])[0]
    6.0
    """

    #: Takes the graph of a trace that let values go (``graph.released``): see _keep_released.
    restores_released = True
    #: Computes a gradient from the input values alone (:meth:`gradient_from_inputs`), so a
    #: transform's trace may leave its values uncomputed (``graph.deferred``).
    runs_from_inputs = True
    #: Set on an instance: only the adjoints of the inputs (of ``wrt``, where given) are
    #: wanted. The replayed program then keeps no other adjoint (the other entries of the
    #: adjoints returned are ``None`` on replays), and so holds less memory.
    inputs_only = False

    def run(self, values, seeds):
        graph = self.graph
        if len(seeds) != len(graph.outputs):
            _keep_released(graph, None, values)
            return super().run(values, seeds)       # its error message
        kinds = _kinds([values[p] for p in graph.leaf_positions] + list(seeds))
        if kinds is None:
            _keep_released(graph, None, values)
            return super().run(values, seeds)
        # a seed of exactly 1.0 (a gradient) is written as the number 1, so that the products
        # by it are not written at all
        ones = tuple([type(s) is float and s == 1.0 for s in seeds])
        only = self.inputs_only
        key = ("reverse", None if self.wrt is None else tuple(self.wrt), self.batch, kinds, ones,
               only)
        programs = _programs(graph)
        program = programs.get(key)
        if graph.released:
            _keep_released(graph, program, values)
        given = [s for s, one in zip(seeds, ones) if s is not None and not one]
        if program is None and _first_time(programs, key):
            return super().run(values, seeds)
        if program is None:
            with _collector_paused():        # recording makes many small objects
                tape = Tape()
                slots = [tape.input(v) for v in values]
                _remember_nodes(tape, graph, slots)
                slot_seeds = [None if s is None else 1.0 if one else tape.input(s)
                              for s, one in zip(seeds, ones)]
                adjoints = super().run(slots, slot_seeds)
                if only:
                    wanted = set(graph.input_positions if self.wrt is None else self.wrt)
                    kept = [a if p in wanted else None for p, a in enumerate(adjoints)]
                else:
                    kept = adjoints
                programs[key] = program = tape.program(kept)
                if graph.structure is not None:     # a function's trace: it may release
                    note_reads(programs, program, "reverse")
                adjoints = [_plain(a) for a in adjoints]
        else:
            adjoints = program.run(list(values) + given if given else values,
                                   scalar=program.scalar and all(k == "f" for k in kinds
                                                                 if k is not None))
            self.made = program.made_outputs()
        self.values, self.adjoints = values, adjoints
        return adjoints

    def gradient_from_inputs(self):
        """The value of the graph's one output and the adjoints by position (a dict: of the
        inputs, or of ``wrt``) for the seed 1.0, from the leaves' values
        alone (a trace's arguments, checked when it was made, and its constants): one
        recorded program computes the values, then the adjoints. On big arrays its
        elementwise steps, of both sweeps, run in cache-sized blocks; on small values it is one
        straight-line function. ``self.made`` lists the positions whose adjoints are new
        arrays.

        Returns ``None`` where there is no program to run: values of other kinds (Duals,
        sympy values, integers), an output that is not a scalar, or a run that raised (a
        domain error, say). The caller then computes the values and calls :meth:`run`, which
        says what is wrong in the reference evaluator's words. The program is recorded the
        first time it is asked for, since that is a function's second trace at least.

        Examples
        --------
        >>> import dualad as ad
        >>> from dualad.evaluators.fast import FastReverseEvaluator
        >>> g = ad.trace(lambda x, y: x * y + ad.sin(x), 0.0, 2.0)
        >>> value, adjoints = FastReverseEvaluator(g).gradient_from_inputs()
        >>> value, [adjoints[p] for p in g.input_positions]          # y + cos x, x
        (0.0, [3.0, 0.0])
        """
        graph = self.graph
        if len(graph.outputs) != 1 or self.batch:
            return None
        nodes = graph.nodes
        leaves = [nodes[p].value for p in graph.leaf_positions]
        kinds = _kinds(leaves)
        if kinds is None:
            return None
        wanted = graph.input_positions if self.wrt is None else tuple(self.wrt)
        key = ("from inputs", wanted, kinds)
        programs = _programs(graph)
        program = programs.get(key)
        if program is False:            # recorded once: not a scalar output
            return None
        if program is None:
            with _collector_paused():        # recording makes many small objects
                tape = Tape()
                slots = [None] * len(graph.nodes)
                for p, value in zip(graph.leaf_positions, leaves):
                    slots[p] = tape.input(value)
                sweep = ValueEvaluator(graph)
                sweep.values = slots
                try:
                    sweep.walk()
                except Exception:       # noqa: BLE001 (said again by the caller's own run)
                    return None
                out = slots[graph.output_positions[0]]
                if shape_of(_plain(out)) != ():
                    programs[key] = False
                    return None
                adjoints = ReverseEvaluator.run(self, slots, [1.0])
                programs[key] = program = tape.program([out] + [adjoints[p] for p in wanted])
                results = [_plain(out)] + [_plain(adjoints[p]) for p in wanted]
                self.made = frozenset()
        else:
            try:
                results = program.run(leaves, scalar=program.scalar
                                      and all(k == "f" for k in kinds))
            except Exception:           # noqa: BLE001 (said again by the caller's own run)
                return None
            self.made = _made_positions(programs, key, program, wanted)
        return results[0], dict(zip(wanted, results[1:]))

    @property
    def active(self):
        """Which nodes carry adjoints (``graph.activity(wrt)``), worked out when first asked
        for: a replay does not need it."""
        found = self.__dict__.get("_active")
        if found is None:
            found = self._active = self.graph.activity(self.wrt)
        return found

    @active.setter
    def active(self, value):
        self._active = value


class FastForwardEvaluator(ForwardEvaluator):
    """``ForwardEvaluator``, recorded on the second run for each kind of values, then replayed.

    ``outputs_only = True`` (set on an instance) says only the outputs' tangents are wanted:
    the replayed program then keeps no other tangent, and may reuse their arrays (the other
    entries of ``tangents`` are ``None`` on replays). Where the values are not given, it
    computes them too, and keeps only the outputs' and the guards' (the other entries of
    ``values`` are then ``None`` on replays).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.fast import FastForwardEvaluator
    >>> g = ad.trace(lambda x: x * x, 3.0)
    >>> FastForwardEvaluator(g).run([3.0], [1.0])[1][-1]
    6.0
    """

    outputs_only = False
    #: Takes the graph of a trace that let values go (``graph.released``): see _keep_released.
    restores_released = True
    #: Computes the values too where they are not given (``run(input_values, tangents)``), in
    #: the program of the tangents: a transform's trace may leave them uncomputed
    #: (``graph.deferred``).
    runs_from_inputs = True

    def run(self, input_values, input_tangents, values=None):
        graph = self.graph
        known = values is not None
        buffer = list(values) if known else graph.leaf_values(input_values)
        if len(input_tangents) != len(self.wrt):
            _keep_released(graph, None, values)
            return super().run(input_values, input_tangents, values)   # its error message
        kinds = _kinds([buffer[p] for p in graph.leaf_positions] + list(input_tangents))
        if kinds is None:
            _keep_released(graph, None, values)
            return super().run(input_values, input_tangents, values)
        only = self.outputs_only
        key = ("forward", self.wrt, self.batch, known, kinds, only)
        programs = _programs(graph)
        program = programs.get(key)
        if known and graph.released:
            _keep_released(graph, program, values)
            buffer = list(values)
        if program is None and _first_time(programs, key):
            return super().run(input_values, input_tangents, values)
        if program is None:
            with _collector_paused():        # recording makes many small objects
                tape = Tape()
                if known:
                    slots = [tape.input(v) for v in buffer]
                    _remember_nodes(tape, graph, slots)
                else:
                    slots = [None] * len(buffer)
                    for p in graph.leaf_positions:
                        slots[p] = tape.input(buffer[p])
                slot_tangents = [tape.input(t) for t in input_tangents]
                _, tangents = self._sweep(slots, slot_tangents, known)
                if only:
                    outputs = set(graph.output_positions)
                    kept = [t if p in outputs else None for p, t in enumerate(tangents)]
                    outputs.update(p for p, _ in graph.guards)
                    values_kept = [v if p in outputs else None
                                   for p, v in enumerate(self.values)]
                else:
                    kept, values_kept = tangents, self.values
                programs[key] = program = tape.program(([] if known else values_kept) + kept)
                if known and graph.structure is not None:
                    note_reads(programs, program, "forward")
                found = [_plain(v) for v in self.values], [_plain(t) for t in tangents]
        else:
            inputs = (buffer if known else [buffer[p] for p in graph.leaf_positions])
            results = program.run(list(inputs) + list(input_tangents),
                                  scalar=program.scalar and all(k == "f" for k in kinds))
            if known:
                found = buffer, results
            else:
                found = results[:len(buffer)], results[len(buffer):]
        if not known:
            graph.check_guards(found[0])
        self.values, self.tangents = found
        return found
