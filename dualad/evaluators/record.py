"""Recorded sweeps: a run of the evaluators written down as a straight-line program.

This module owns :class:`Slot`, :class:`Tape` and :class:`Program`. A ``Slot`` is a value being
recorded: it carries its real value (so every shape and every result is known, and the run
that records is a real run) and its register in the program being written. Running the
reference evaluators (the one assembly of the chain rule, :mod:`dualad.evaluators.base`) on
Slots writes every primitive they apply onto a ``Tape``: the values, the local partials (the
registry's rules run on Slots), the products and sums of the chain rule, the un-broadcasting.
The tape becomes a ``Program``: registers, and one step per primitive application.

A program is what the fast paths replay (:mod:`dualad.evaluators.fast`), what ``ad.compile``
writes as Python source, and what ``compare`` counts: each consumer reads the same record of
the one walk, and none of them knows a derivative rule.

While recording, a step that is only a constant (all its arguments plain) is computed at once
and not written; multiplying by a literal 1 or adding a literal 0 writes nothing; a step equal
to one written just before (``x * g`` twice, for ``y = x * x``) is written once; a column
times a row (``g @ w.T`` for a ``w`` of one column) is written as their broadcast product.
A rule that cannot run on Slots (a user's partial that calls ``float(x)``, or branches on a
value) is written as one opaque call of the rule on the values.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators.record import Tape
>>> tape = Tape()
>>> x = tape.input(2.0)
>>> y = ad.sin(x) * x
>>> program = tape.program([y])
>>> program.run([0.5])[0] == 0.5 * ad.sin(0.5)
True
>>> print(program)
r1 = sin(r0)
r2 = multiply(r1, r0)
"""

import functools
import itertools
from collections import OrderedDict

import numpy as np

from ..mathns import as_float, numpy_scalars
from ..overload import Overloaded
from ..primitives import OVERLOADED_TYPES, REGISTRY, Primitive
from ..release import keep_freed_memory
from ..shapes import shape_of
from ..values import NO_PARAMS, RECORDING_TYPES
from .blocks import elementwise_part, plain_ufunc

#: How many recent steps a new step is compared with, to write a repeated one once.
CSE_WINDOW = 64
#: A program that wrote an array of at least this many elements is run for memory: each step
#: just before the step that first needs it, and every array let go after its last reader
#: (fresh memory costs page faults, which on 10^6-element arrays cost as much as arithmetic).
BIG_ARRAY = 2**16
#: A program that wrote an array of at least this many elements (128 KiB of float64, where
#: the C library starts to hand out fresh pages) writes results into dead arguments' arrays.
#: On smaller arrays a new array costs less than the checks that writing in place needs.
IN_PLACE_SIZE = 2**14
#: Such a program asks the C library to keep freed memory for this many arrays of its largest
#: size, so that its next run reuses its pages (see :func:`dualad.release.keep_freed_memory`).
KEPT_ARRAYS = 4
#: A program of at most this many steps, run :data:`STRAIGHT_AFTER` times on small values, is
#: written as one straight-line Python function of its steps (see :func:`_straight_line`):
#: the loop over the steps costs 50 ns to 300 ns a step, about half of what a step on floats
#: costs and a tenth of one on small arrays. Writing and compiling the function costs what 30
#: to 150 runs of the loop save.
STRAIGHT_STEPS = 256
STRAIGHT_AFTER = 32


class Unrecordable(TypeError):
    """A rule asked a recorded value for something only a number has (``bool()``,
    ``float()``); the recorder then writes the rule as one opaque call."""


class Slot(Overloaded):
    """A value being recorded: its real ``value`` and its ``register`` on a ``tape``.

    Examples
    --------
    >>> from dualad.evaluators.record import Tape
    >>> tape = Tape()
    >>> x = tape.input(3.0)
    >>> y = x * 2                  # the literal 2 is register 1, y register 2
    >>> y.value, y.register, (x * 2).register      # the same step again is not written twice
    (6.0, 2, 2)
    """

    __slots__ = ("value", "register", "tape")
    _plain_attribute = "value"

    def __init__(self, value, register, tape):
        self.value = value
        self.register = register
        self.tape = tape

    @staticmethod
    def _apply(prim, args, params):
        for a in args:
            if type(a) is Slot:
                return a.tape.apply(prim, args, params)
        raise TypeError("no recorded value among the arguments")

    @staticmethod
    def _plain(x):
        return x.value if isinstance(x, Slot) else x

    def __bool__(self):
        raise Unrecordable("a rule branches on a recorded value")

    def _lost(self, conversion):
        raise Unrecordable(f"a rule asks for {conversion}() of a recorded value")

    def __repr__(self):
        return f"Slot(r{self.register}, value={self.value!r})"


OVERLOADED_TYPES[Slot] = Slot._apply


def _opaque_call(function, args, kwargs, name=None):
    """Record ``function(*args, **kwargs)`` (some arguments Slots) as one opaque step."""
    tape = next(a.tape for a in itertools.chain(args, kwargs.values()) if isinstance(a, Slot))
    return tape.opaque(function, args, kwargs, name=name)


RECORDING_TYPES[Slot] = _opaque_call


def _step_key(prim, refs, params):
    """A hashable key of a step, or ``None`` when its parameters are not hashable. The
    arguments of ``add`` and ``multiply`` are keyed in order of register: ``b * a`` is ``a * b``,
    bit for bit (IEEE addition and multiplication commute)."""
    if not params:
        if prim.name in _COMMUTATIVE and len(refs) == 2 and refs[0] > refs[1] \
                and REGISTRY.get(prim.name) is prim:
            refs = (refs[1], refs[0])
        return (prim, refs)
    try:
        key = (prim, refs, tuple(sorted(params.items())))
        hash(key)
        return key
    except TypeError:
        return None


_COMMUTATIVE = frozenset(("add", "multiply"))


class Tape:
    """The program being written while the evaluators run on Slots.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.evaluators.record import Tape
    >>> tape = Tape()
    >>> x = tape.input(np.array([1.0, 2.0]))
    >>> y = x * 1.0 + 0.0          # writes nothing: multiplying by 1, adding 0
    >>> y is x, len(tape.steps)
    (True, 0)
    """

    def __init__(self, count_ops=False):
        self.count = 0
        self.inputs = []
        #: with ``count_ops``: the operations of the steps written, each priced by its
        #: primitive's ``cost`` (the price list of ``compare``), and the opaque calls, which
        #: have no price
        self.count_ops = count_ops
        self.ops = 0
        self.unpriced = []
        self.literals = {}            # register -> value
        self.steps = []               # (function, argument registers, params, register)
        self._literal_registers = {}
        self._recent = OrderedDict()  # step key -> (value, register), the last CSE_WINDOW steps
        self._negations = {}          # register of -x -> (value, register) of x
        #: every value written so far is a Python number (the program may use ``math``)
        self.scalar = True
        #: the number of elements of the largest value a step has written
        self.largest = 1
        #: register -> (shape, dtype) of each array of at least BIG_ARRAY elements written
        self.layouts = {}
        #: the registers written by steps of an op with a ``float_array_kernel`` whose
        #: arguments were all float arrays (a replay may run that kernel)
        self.on_float_arrays = set()

    def _new_register(self):
        register = self.count
        self.count += 1
        return register

    def input(self, value):
        """A new input of the program, with its value for this run."""
        slot = Slot(value, self.count, self)
        self.count += 1
        self.inputs.append(slot.register)
        return slot

    def literal(self, value):
        """The register holding the constant ``value`` (one register per distinct number)."""
        if isinstance(value, (float, int, bool, np.floating, np.integer, np.bool_)):
            key = (type(value), value)
        else:
            key = ("object", id(value))
        register = self._literal_registers.get(key)
        if register is None:
            register = self._literal_registers[key] = self._new_register()
            self.literals[register] = value
        return register

    def _reference(self, value):
        return value.register if isinstance(value, Slot) else self.literal(value)

    def apply(self, prim, args, params):
        """Apply ``prim`` to ``args`` (some of them Slots): compute it, and write the step."""
        values, refs, recorded = [], [], False
        for a in args:
            if type(a) is Slot:
                values.append(a.value)
                refs.append(a.register)
                recorded = True
            else:
                values.append(a)
                refs.append(None)
        value = prim.evaluate(*values, **params)
        if not recorded:
            return value                      # a constant: computed now, not written
        name = prim.name
        literal = None in refs
        if literal and name in _NEUTRAL:
            same = _identity(prim, args, value)
            if same is not None:
                return same
        if ((literal or self._negations) and name in _SHORTER
                and not self.count_ops):      # counts price the rule as written
            shorter = self._shorter(prim, args, value)
            if shorter is not None:
                return shorter
        if name == "matmul" and not self.count_ops and _outer_product(prim, values):
            return self.apply(REGISTRY["multiply"], args, NO_PARAMS)
        if literal:
            for k, ref in enumerate(refs):
                if ref is None:
                    refs[k] = self.literal(_as_number(prim, args, k, value))
        refs = tuple(refs)
        step_key = ((prim, refs) if not params and name not in _COMMUTATIVE
                    else _step_key(prim, refs, params))
        if step_key is not None:
            known = self._recent.get(step_key)
            if known is not None:
                return Slot(known[0], known[1], self)
        slot = Slot(value, self.count, self)
        self.count += 1
        self.steps.append((prim, refs, params, slot.register))
        if prim.float_array_kernel is not None and all(
                type(v) is np.ndarray and v.dtype.kind == "f" for v in values):
            self.on_float_arrays.add(slot.register)
        if name == "negative" and type(args[0]) is Slot and REGISTRY.get("negative") is prim:
            self._negations[slot.register] = (args[0].value, args[0].register)
        if type(value) not in _NUMBERS:
            self.scalar = False
            size = getattr(value, "size", 1)
            if size > self.largest:
                self.largest = size
            if size >= BIG_ARRAY and type(value) is np.ndarray:
                self.layouts[slot.register] = (value.shape, value.dtype)
        if self.count_ops:
            self.ops += prim.cost([shape_of(v) for v in values], shape_of(value), **params)
        if step_key is not None:
            recent = self._recent
            recent[step_key] = (value, slot.register)   # not the Slot: no cycle via .tape
            if len(recent) > CSE_WINDOW:
                recent.popitem(last=False)
        return slot

    def _shorter(self, prim, args, value):
        """The same numbers in fewer passes, or None. Rounding is symmetric in sign, so these
        are equal bit for bit: ``-1 * x`` is ``-x``, ``a * (-b)`` is ``-(a * b)`` (which may
        be computed already), ``-(-x)`` is ``x``, ``a + (-b)`` is ``a - b`` (IEEE
        subtraction is the addition of the negation), and ``(-a) + (-a)`` is ``-(a + a)``."""
        if prim is not REGISTRY.get(prim.name):
            return None
        negations = self._negations
        if prim.name == "negative":
            source = negations.get(getattr(args[0], "register", None))
            if source is not None and type(source[0]) is type(value):
                return Slot(source[0], source[1], self)
        elif prim.name == "multiply":
            for keep, drop in ((0, 1), (1, 0)):
                kept = args[keep]
                if (type(kept) is Slot and _is_literal(args[drop], -1)
                        and shape_of(kept.value) == shape_of(value)
                        and getattr(kept.value, "dtype", None) == getattr(value, "dtype", None)
                        and type(kept.value) is type(value)):
                    return self.apply(REGISTRY["negative"], (kept,), NO_PARAMS)
            for keep, negated in ((0, 1), (1, 0)):
                source = negations.get(getattr(args[negated], "register", None))
                if source is not None:
                    pair = [None, None]
                    pair[keep], pair[negated] = args[keep], Slot(source[0], source[1], self)
                    product = self.apply(prim, tuple(pair), NO_PARAMS)
                    if type(product) is not Slot or type(product.value) is not type(value):
                        return None
                    return self.apply(REGISTRY["negative"], (product,), NO_PARAMS)
        elif prim.name == "add":
            first, second = (negations.get(getattr(a, "register", None)) for a in args)
            if first is not None and second is not None and first[1] == second[1]:
                # (-a) + (-a) is -(a + a), the sign of a zero included (not so for -a + -b)
                a = Slot(first[0], first[1], self)
                total = self.apply(prim, (a, a), NO_PARAMS)
                if type(total) is not Slot or type(total.value) is not type(value):
                    return None
                return self.apply(REGISTRY["negative"], (total,), NO_PARAMS)
            for keep, negated in ((0, 1), (1, 0)):
                source = negations.get(getattr(args[negated], "register", None))
                if source is not None:
                    return self.apply(REGISTRY["subtract"],
                                      (args[keep], Slot(source[0], source[1], self)), NO_PARAMS)
        return None

    def remember(self, prim, args, params, slot):
        """Say that ``prim(*args, **params)`` (args Slots) is already ``slot``'s value: a later
        step equal to it reads ``slot``'s register instead of computing it again (a value of
        the graph, given to a recorded sweep as an input, that a rule computes again)."""
        refs = tuple(a.register for a in args)
        key = _step_key(prim, refs, params)
        if key is not None:
            recent = self._recent
            recent[key] = (slot.value, slot.register)
            if len(recent) > CSE_WINDOW:
                recent.popitem(last=False)
        if prim.name == "negative" and REGISTRY.get("negative") is prim:
            self._negations[slot.register] = (args[0].value, args[0].register)

    def opaque(self, function, args, kwargs=None, name=None):
        """Write ``function(*args, **kwargs)`` as one step run on the values at replay; its
        result (one value, or a tuple of them) comes back as Slots. ``name`` says what it is
        (in programs, generated code and unpriced counts)."""
        kwargs = kwargs or {}
        plain = [a.value if isinstance(a, Slot) else a for a in args]
        plain_kwargs = {k: (v.value if isinstance(v, Slot) else v) for k, v in kwargs.items()}
        value = function(*plain, **plain_kwargs)
        refs = tuple(self._reference(a) for a in args)
        slot_kwargs = {k: v for k, v in kwargs.items() if isinstance(v, Slot)}
        fixed = {k: v for k, v in plain_kwargs.items() if k not in slot_kwargs}
        names = tuple(slot_kwargs)
        refs = refs + tuple(v.register for v in slot_kwargs.values())
        call = _Opaque(function, len(args), names, fixed, name)
        self.scalar = False            # what it returns at replay is not known in advance
        if self.count_ops:
            self.unpriced.append(call.name)
        slot = Slot(value, self._new_register(), self)
        self.steps.append((call, refs, None, slot.register))
        if isinstance(value, tuple):
            parts = []
            for k, part in enumerate(value):
                if part is None:
                    parts.append(None)
                    continue
                picked = Slot(part, self._new_register(), self)
                self.steps.append((_Pick(k), (slot.register,), None, picked.register))
                parts.append(picked)
            return tuple(parts)
        return slot

    def program(self, outputs):
        """The program computing ``outputs`` (Slots, plain constants or ``None``) from the
        inputs; steps nothing needs are left out."""
        registers = [None if out is None else self._reference(out) for out in outputs]
        return Program(self, registers)


_NUMBERS = (float, int, bool)


class _Opaque:
    """A call written as one step: a function of the values (``n`` positional arguments,
    then the keyword arguments ``names``, and fixed keyword arguments)."""

    def __init__(self, function, n, names, fixed, name=None):
        self.function, self.n, self.names, self.fixed = function, n, names, fixed
        self.name = name or getattr(function, "__name__", type(function).__name__)

    def __call__(self, *values):
        kwargs = dict(zip(self.names, values[self.n:]), **self.fixed)
        return self.function(*values[:self.n], **kwargs)


class _Pick:
    """One part of an opaque step's tuple."""

    def __init__(self, k):
        self.k = k
        self.name = f"part {k}"

    def __call__(self, value):
        return value[self.k]


def _is_literal(value, number):
    """True for a plain ``number``, or a plain array holding only ``number``."""
    if isinstance(value, Slot) or isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.number)):
        return value == number
    return (isinstance(value, np.ndarray) and value.dtype.kind in "fiu"
            and bool(np.all(value == number)))


def _as_number(prim, args, k, value):
    """A literal array operand of an elementwise step that holds one number throughout (a
    broadcast seed, ``mean``'s ``1/n``) as that number, when the step's result keeps the shape
    and dtype it has: numpy then broadcasts a scalar instead of reading an array."""
    literal = args[k]
    if (type(literal) is not np.ndarray or literal.dtype != np.float64 or literal.size < 2
            or not prim.elementwise or type(value) is not np.ndarray
            or value.dtype != np.float64):
        return literal
    if not any(type(a) is Slot and type(a.value) is np.ndarray and a.value.shape == value.shape
               and a.value.dtype == np.float64 for a in args):
        return literal
    bits = literal.view(np.int64)
    if not np.all(bits == bits.flat[0]):      # the same number throughout, bit for bit
        return literal
    return float(literal.flat[0])


#: The ops with a neutral element: multiplying by 1, adding or subtracting 0 copies.
_NEUTRAL = frozenset(("multiply", "add", "subtract"))
#: The ops Tape._shorter writes in fewer passes.
_SHORTER = frozenset(("multiply", "add", "negative"))


def _outer_product(prim, values):
    """True where ``prim`` is the registry's matmul of a column by a row, float64 arrays of
    shapes (n, 1) and (1, m): a tape writes that step as the broadcast ``a * b``. numpy's
    matmul runs a general product there, a sum of one term per entry, and takes about twice
    as long (the vjp of ``x @ w`` for a ``w`` of one column is such a product). The numbers
    are the same: each entry is one rounded product; only a zero's sign may differ, where
    matmul's sum from +0.0 turns a product's -0.0 into +0.0.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.primitives import REGISTRY
    >>> from dualad.evaluators.record import _outer_product
    >>> _outer_product(REGISTRY["matmul"], (np.ones((3, 1)), np.ones((1, 2))))
    True
    >>> _outer_product(REGISTRY["matmul"], (np.ones((3, 2)), np.ones((2, 2))))
    False
    """
    if prim is not REGISTRY.get("matmul") or len(values) != 2:
        return False
    a, b = values
    return (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2
            and a.shape[1] == 1 and b.shape[0] == 1
            and a.dtype == np.float64 and b.dtype == np.float64)


def _identity(prim, args, value):
    """The argument a step would only copy (x * 1, 1 * x, x + 0, 0 + x, x - 0), or None."""
    if prim is not REGISTRY.get(prim.name):
        return None
    neutral = 1 if prim.name == "multiply" else 0
    candidates = ((0, 1), (1, 0)) if prim.name != "subtract" else ((0, 1),)
    for keep, drop in candidates:
        kept = args[keep]
        if (isinstance(kept, Slot) and _is_literal(args[drop], neutral)
                and shape_of(kept.value) == shape_of(value)
                and getattr(kept.value, "dtype", float) == getattr(value, "dtype", float)):
            return kept
    return None


# ---- the program ----

class Program:
    """A recorded sweep: inputs, literals and steps over registers, and the output registers.

    ``run(values)`` computes the outputs at new input values (of the kinds recorded: floats, or
    arrays of the same shapes). A program recorded on Python floats runs each step with the
    op's ``math`` function, and where one raises at a domain edge (``math.log(-1.0)``) the whole
    run is done again with numpy, which returns ``nan``/``inf`` as arrays would.

    The steps are kept in columns (a few machine words per step, so the program of a
    million-node graph stays small): ``functions`` (a
    :class:`~dualad.primitives.Primitive`, or an opaque call), ``params``, and the argument and
    result registers; :attr:`steps` gives them back one tuple per step.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.record import Tape
    >>> tape = Tape()
    >>> x = tape.input(1.0)
    >>> program = tape.program([ad.log(x)])
    >>> program.run([2.0])[0] == ad.log(2.0), len(program)
    (True, 1)
    """

    def __init__(self, tape, outputs):
        needed = {r for r in outputs if r is not None}
        kept = []
        for step in reversed(tape.steps):
            if step[3] in needed:
                kept.append(step)
                needed.update(step[1])
        kept.reverse()
        #: the number of elements of the largest value a step wrote when it was recorded
        self.largest = tape.largest
        #: register -> (shape, dtype) of the big arrays the steps wrote when recorded
        self.layouts = {}
        if self.largest >= IN_PLACE_SIZE:       # arrays of 128 KiB or more: see the function
            keep_freed_memory(KEPT_ARRAYS * 8 * self.largest)
        if self.largest >= BIG_ARRAY:
            kept = _needed_first(kept, outputs)
            self.layouts = {step[3]: tape.layouts[step[3]] for step in kept
                            if step[3] in tape.layouts}
        self.inputs = list(tape.inputs)
        self.literals = {r: v for r, v in tape.literals.items() if r in needed}
        self.on_float_arrays = tape.on_float_arrays & needed
        self.outputs = outputs
        # (index, register) of the outputs that are not None: a gradient's program has one
        # output per node, most of them None
        self._present = [(k, r) for k, r in enumerate(outputs) if r is not None]
        self.size = tape.count
        #: recorded on Python numbers only: the ``math`` functions may run it
        self.scalar = tape.scalar
        functions, arguments, params, outs = zip(*kept) if kept else ((), (), (), ())
        self.functions = list(functions)
        self.params = [p or None for p in params]
        # arguments: one or two registers in first/second; other counts in `rest`, in order,
        # marked by second == -2. The lists share one int object per register, made here one
        # after the other so that they lie side by side in memory: a run reads each step's
        # register numbers as well as its registers, and the recording's ints lie wherever
        # its freed objects left room (on the 10,000-node random DAG, a gradient's replay
        # took 445 ns to 481 ns a node with those, 207 ns to 254 ns with these)
        number = [r + 0 for r in range(self.size)]
        self.outs = [number[r] for r in outs]
        self.first = [number[refs[0]] if refs else -1 for refs in arguments]
        self.second = [number[refs[1]] if len(refs) == 2 else -1 if len(refs) == 1 else -2
                       for refs in arguments]
        self.rest = [refs for refs in arguments if len(refs) not in (1, 2)]
        # the inputs are registers 0, 1, ... in order (Tape.input numbers them first), so a run
        # starts from a copy of its input values
        self._inputs_first = self.inputs == list(range(len(self.inputs)))
        self._runners = {}
        self._straight = {}           # scalar -> the steps as one function, once written
        self._runs = 0
        self._dying = None
        self._part = None             # the steps run in blocks: None before the first run

    def __len__(self):
        return len(self.functions)

    @property
    def reads(self):
        """The registers the steps read, and the outputs' (made when first asked for). A
        program recorded on a graph's values, registers 0, 1, ... by position, reads those
        positions and no others.

        Examples
        --------
        >>> import dualad as ad
        >>> from dualad.evaluators.record import Tape
        >>> tape = Tape()
        >>> x, y = tape.input(1.0), tape.input(2.0)
        >>> sorted(tape.program([ad.sin(x)]).reads)
        [0, 2]
        """
        reads = self.__dict__.get("_reads")
        if reads is None:
            reads = set(self.first)
            reads.update(self.second)
            for refs in self.rest:
                reads.update(refs)
            reads.discard(-1)
            reads.discard(-2)
            reads.update(r for r in self.outputs if r is not None)
            reads = self._reads = frozenset(reads)
        return reads

    @property
    def steps(self):
        """Each step as ``(function, argument registers, params, register)``."""
        rest = iter(self.rest)
        for function, a, b, params, out in zip(self.functions, self.first, self.second,
                                               self.params, self.outs):
            refs = next(rest) if b == -2 else (a,) if b == -1 else (a, b)
            yield function, refs, params, out

    def __str__(self):
        lines = []
        for function, refs, params, register in self.steps:
            name = getattr(function, "name", "?")
            shown = [f"r{r}" if r not in self.literals else _shown(self.literals[r])
                     for r in refs]
            shown += [f"{k}={v!r}" for k, v in (params or {}).items()]
            lines.append(f"r{register} = {name}({', '.join(shown)})")
        return "\n".join(lines)

    def runners(self, scalar):
        """The callable of each step for this kind of run (built once per kind). On arrays
        (of at least :data:`IN_PLACE_SIZE` elements), a step whose argument is an array no
        later step reads writes its result into that array (see :meth:`reusable`) instead of
        allocating a new one."""
        built = self._runners.get(scalar)
        if built is None:
            arrays = self.on_float_arrays
            built = [_runner(f, p, scalar, out in arrays)
                     for f, p, out in zip(self.functions, self.params, self.outs)]
            if not scalar and self.largest >= IN_PLACE_SIZE:
                for k, which in self.reusable().items():
                    built[k] = _in_place(self.functions[k].numpy, which)
            self._runners[scalar] = built
        return built

    def made_outputs(self):
        """The indices of the outputs that every run makes as new arrays nothing else holds:
        each is written by a step that returns a new array (an elementwise ufunc, or an op the
        registry marks ``new_array``: not a view, an input or a literal) and is no other output
        too. A caller may hand these to users without a copy.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> from dualad.evaluators.record import Tape
        >>> tape = Tape()
        >>> x = tape.input(np.ones(3))
        >>> y = ad.sin(x)
        >>> sorted(tape.program([y, ad.transpose(y), x, y]).made_outputs())
        []
        >>> sorted(tape.program([y, ad.transpose(y), x]).made_outputs())
        [0]
        """
        made = self.__dict__.get("_made")
        if made is None:
            writes = {out: (function, refs, params)
                      for function, refs, params, out in self.steps}
            counts = {}
            for r in self.outputs:
                counts[r] = counts.get(r, 0) + 1
            made = set()
            for k, r in enumerate(self.outputs):
                step = writes.get(r)
                if step is None or counts[r] > 1:
                    continue
                function = step[0]
                if plain_ufunc(*step) or (isinstance(function, Primitive)
                                          and function.new_array):
                    made.add(k)
            made = self._made = frozenset(made)
        return made

    def reusable(self):
        """step -> which argument (0 or 1) the step may write its result into: an array made
        by an elementwise numpy step (so the program's own, and nobody's view), read by
        elementwise steps only (so no view of it exists), for the last time here, and not an
        output. The same reuse numpy makes of a temporary in ``a + b + c``."""
        made, readers_ok, last = set(), {}, {}
        ufunc_steps = []
        for k, (function, refs, params, out) in enumerate(self.steps):
            plain = plain_ufunc(function, refs, params)
            ufunc_steps.append(plain)
            for r in refs:
                last[r] = k
                if not plain:
                    readers_ok[r] = False
            if plain:
                made.add(out)
        outputs = set(self.outputs)
        found = {}
        for k, (function, refs, params, out) in enumerate(self.steps):
            if not ufunc_steps[k]:
                continue
            for which, r in enumerate(refs):
                if (r in made and last[r] == k and readers_ok.get(r, True)
                        and r not in outputs):
                    found[k] = which
                    break
        return found

    def run(self, input_values, scalar=None):
        """The outputs at these input values (``None`` where an output is ``None``).

        ``scalar`` (default: the program was recorded on Python numbers and every input is a
        Python float) chooses the ``math`` functions; at a domain edge they give way to numpy.
        """
        if scalar is None:
            scalar = self.scalar and all(type(v) is float for v in input_values)
        try:
            return self._run_steps(input_values, scalar)
        except (ArithmeticError, ValueError):
            if not scalar:
                raise
            values = numpy_scalars(input_values)
            return [None if v is None else as_float(v) for v in self.run(values, scalar=False)]

    def _run_steps(self, input_values, scalar):
        """:meth:`run`'s steps, with the ``math`` functions where ``scalar``: written out as
        one function (see :data:`STRAIGHT_STEPS`), else in a loop."""
        if ((scalar or self.largest < BIG_ARRAY) and self._inputs_first
                and len(input_values) == len(self.inputs)
                and len(self.functions) <= STRAIGHT_STEPS):
            straight = self._straight.get(scalar)
            if straight is None:
                self._runs += 1
                if self._runs > STRAIGHT_AFTER:
                    straight = self._straight[scalar] = _straight_line(self, scalar)
            if straight is not None:
                return straight(input_values)
        if self._inputs_first and len(input_values) == len(self.inputs):
            registers = list(input_values)
            registers.extend([None] * (self.size - len(registers)))
        else:
            registers = [None] * self.size
            for register, value in zip(self.inputs, input_values):
                registers[register] = value
        for register, value in self.literals.items():
            registers[register] = value
        rest = iter(self.rest)
        if scalar or self.largest < BIG_ARRAY:
            dying = _NOTHING
        else:                   # big arrays: run for memory (see _run_for_memory)
            dying = self._run_for_memory(registers)
            if dying is None:
                return self._results(registers)
        for function, a, b, out, dead in zip(self.runners(scalar), self.first, self.second,
                                             self.outs, dying):
            if b >= 0:
                registers[out] = function(registers[a], registers[b])
            elif b == -1:
                registers[out] = function(registers[a])
            else:
                registers[out] = function(*[registers[r] for r in next(rest)])
            if dead:                    # only when running for memory
                for r in dead:
                    registers[r] = None
        return self._results(registers)

    def _results(self, registers):
        """The outputs' values (``None`` where an output is ``None``)."""
        results = [None] * len(self.outputs)
        for k, r in self._present:
            results[k] = registers[r]
        return results

    def _run_for_memory(self, registers):
        """A program on big arrays: where enough of its steps are elementwise over one shape,
        run it in blocks (see :mod:`~dualad.evaluators.blocks`) and return None; else the
        registers to let go after each step (each array freed after its last read, unless the
        caller holds it)."""
        part = self._part
        if part is None:
            part = self._part = elementwise_part(self, registers, fold_sums=True) or False
        if part:
            part.run(registers)
            return None
        dying = self._dying
        if dying is None:
            found = self.last_reads(range(len(self)))
            dying = self._dying = [found.get(k, ()) for k in range(len(self))]
        return dying

    def last_reads(self, indices):
        """step -> the registers that step, of the steps ``indices`` (in the order they run),
        reads last, leaving out outputs and literals (the next run reads them where they
        are): what a run lets go of after each step."""
        steps = list(self.steps)
        last = {}
        for k in indices:
            for r in steps[k][1]:
                last[r] = k
        kept = set(self.outputs) | set(self.literals)
        found = {}
        for r, k in last.items():
            if r not in kept:
                found.setdefault(k, []).append(r)
        return {k: tuple(registers) for k, registers in found.items()}


def _straight_line(program, scalar):
    """``program``'s steps as one Python function of its input values, returning what
    :meth:`Program.run` returns: each step a line ``r5 = f2(r0, r4)`` calling the step's
    runner (the same callables, in the same order, so the same results bit for bit), each
    register a local. The text is made here from register numbers alone (no name, op or
    value of the user's reaches it); runners and literals are the function's globals.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.record import Tape, _straight_line
    >>> tape = Tape()
    >>> x = tape.input(2.0)
    >>> program = tape.program([ad.sin(x) * x])
    >>> _straight_line(program, True)([0.5]) == program.run([0.5])
    True
    """
    namespace = {"__builtins__": {}}
    lines = ["def straight(values):"]
    if program.inputs:
        lines.append(f"    {', '.join(f'r{r}' for r in program.inputs)}, = values")
    for r, value in program.literals.items():
        namespace[f"r{r}"] = value
    for k, (runner, (_, refs, _, out)) in enumerate(zip(program.runners(scalar),
                                                        program.steps)):
        namespace[f"f{k}"] = runner
        lines.append(f"    r{out} = f{k}({', '.join(f'r{r}' for r in refs)})")
    results = ", ".join("None" if r is None else f"r{r}" for r in program.outputs)
    lines.append(f"    return [{results}]")
    code = compile("\n".join(lines) + "\n", "<dualad program>", "exec")
    exec(code, namespace)          # text made of register numbers only, never user input
    return namespace["straight"]


def _needed_first(steps, outputs):
    """``steps`` reordered so that each runs as late as it can: a depth-first walk from the
    outputs, in order, placing a step after the steps that make its arguments (iterative, for
    programs of a million steps). A value is then made just before it is first read, and so
    lives for as short a time as the program's shape allows: forward mode's ``sin(x)`` is not
    made first and held while ``exp(-x*x)`` and its tangent are made. The same operations on
    the same numbers, so the results are the same bit for bit."""
    maker = {step[3]: k for k, step in enumerate(steps)}
    placed = [False] * len(steps)
    order = []
    for r in outputs:
        k = maker.get(r)
        if k is None or placed[k]:
            continue
        placed[k] = True
        stack = [(k, iter(steps[k][1]))]
        while stack:
            k, refs = stack[-1]
            for a in refs:
                j = maker.get(a)
                if j is not None and not placed[j]:
                    placed[j] = True
                    stack.append((j, iter(steps[j][1])))
                    break
            else:
                stack.pop()
                order.append(steps[k])
    return order


def _shown(value):
    """A literal in a printed program: its value, or an array's shape."""
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"<array {value.shape}>"
    return repr(value)


_FLOAT64 = np.dtype(np.float64)
_NOTHING = itertools.repeat(())      # no register let go after any step


def _in_place(ufunc, which):
    """``ufunc`` on one or two arguments, writing into argument ``which`` where that is a float64
    array the result fits exactly (the other argument a Python float or an array of its
    shape and dtype), else into a new array."""
    if which == 0:
        def run(x, y=None):
            if (type(x) is np.ndarray and x.dtype is _FLOAT64 and x.flags.writeable
                    and (y is None or type(y) is float or (type(y) is np.ndarray
                         and y.shape == x.shape and y.dtype is _FLOAT64))):
                return ufunc(x, out=x) if y is None else ufunc(x, y, out=x)
            return ufunc(x) if y is None else ufunc(x, y)
    else:
        def run(x, y):
            if (type(y) is np.ndarray and y.dtype is _FLOAT64 and y.flags.writeable
                    and (type(x) is float or (type(x) is np.ndarray and x.shape == y.shape
                                              and x.dtype is _FLOAT64))):
                return ufunc(x, y, out=y)
            return ufunc(x, y)
    return run


def _runner(function, params, scalar, on_float_arrays=False):
    """The callable a step runs: the op's ``math`` function on floats, its
    ``float_array_kernel`` where the step read float arrays when recorded, else its numpy
    function."""
    if not isinstance(function, Primitive):
        return function
    if scalar and function.math is not None and not params:
        return function.math
    if on_float_arrays and function.float_array_kernel is not None:
        return function.float_array_kernel(**(params or {}))
    implementation = function.numpy
    if params:
        implementation = functools.partial(implementation, **params)
    return implementation


def record(run, values):
    """Run ``run(*slots)`` on Slots made from ``values`` and return ``(tape, slots, result)``.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.record import record
    >>> tape, (x,), y = record(lambda x: ad.exp(x) * 2.0, [0.0])
    >>> y.value, len(tape.steps)
    (2.0, 2)
    """
    tape = Tape()
    slots = [None if v is None else tape.input(v) for v in values]
    return tape, slots, run(*slots)
