"""Compiled functions: the recorded sweeps written out as straight-line Python.

This module owns :func:`compile` and :class:`CompiledFunction`. It knows no derivative rule and
assembles no chain rule: it records the sweeps the evaluators make (the reference evaluators run
on recording values, :mod:`dualad.evaluators.record`) at the example arguments, and writes each
recorded :class:`~dualad.evaluators.record.Program` as Python: one assignment per step, a call
of the op's own function (``cos(v1)``) or its operator (``v1 * v2_bar``), with a step used once
written inside the step that uses it. The same programs are what the fast paths replay and what
``compare`` counts; compiled code only drops the interpretation.

Three functions are written: ``primal``, ``value_and_grad`` (the values, then the reverse
sweep, seeded with 1) and ``jvp`` (values and tangents in one forward sweep). ``value_and_grad``
is written and compiled at once, the other two on first use. Nodes are named as
:func:`dualad.trace_table` and the survey number them (``v1``, ``v2``, ...; an adjoint
``v3_bar``, a tangent ``v3_dot``); other intermediate results are ``t1``, ``t2``, ...

Graphs of Python floats (no structural ops) compile to ``math`` calls; anything else compiles
to numpy, specialised to the shapes of the example arguments. At a domain edge where ``math``
raises (``log(-1.0)``, ``1.0 / 0.0``) the whole call is run again with the same code bound to
numpy on float64 values, which returns ``nan``/``inf`` with numpy's warning, as the
interpreted evaluators do. A branch decision recorded while tracing (``if x > 0:``) is
checked by the code; where it would go the other way, the function is traced and compiled again
at that point when ``compile`` was given the Python function, and refused with
:class:`~dualad.errors.BranchChangedError` when it was given a graph.

A program of more than :data:`BLOCK_STEPS` steps is written as several functions of at most
:data:`BLOCK_LINES` lines over one list of registers, each compiled on its own, so a graph of
a million nodes compiles in bounded memory. Blocks that differ only in their register numbers
(a chain, an unrolled loop) are compiled once (:mod:`dualad.block_code`).

No text from a user ever runs. Every identifier in the code is ASCII and made by dualad: an
input's name only as far as its ASCII letters and digits go (and only where that collides with
nothing), else ``x0``, ``x1``, ...; the functions the code calls get names of their own that
collide with no local, no builtin the code uses and no other binding. Names appear in comments
as they are when plain, else ``ascii()``-escaped (see :func:`shown`).

Examples
--------
>>> import dualad as ad
>>> f = ad.compile(lambda x, w: ad.sin(x * w) + w, 1.0, 4.0, argnums=1)
>>> value, dw = f.value_and_grad(1.0, 4.0)          # d/dw = x cos(xw) + 1
>>> round(value, 6), round(dw, 6)
(3.243198, 0.346356)
"""

import builtins
import collections
import itertools
import keyword
import linecache
import math
import re
import types
import weakref

import numpy as np

from .block_code import BlockCode, side_by_side
from .entry import check_argnums, prepare
from .errors import BranchChangedError, DualadError, ShapeMismatchError
from .evaluators.forward import ForwardEvaluator
from .evaluators.blocks import BLOCK, elementwise_part, in_blocks
from .evaluators.record import BIG_ARRAY, Slot, Tape
from .evaluators.reverse import ReverseEvaluator
from .evaluators.steps import _Ordered
from .evaluators.value import ValueEvaluator
from .graph import Graph, _collector_paused
from .mathns import as_float, as_number, is_symbolic, numpy_scalars
from .primitives import REGISTRY, Primitive
from .printing import TraceNames
from .shapes import shape_of
from .values import as_value, is_traced

# ---- names ----
# Every identifier in generated code is ASCII and made here: Python reads identifiers after
# NFKC normalisation, so a user's name such as "\U0001d465" (a mathematical italic x) would
# be the same identifier as "x", and a fullwidth "sin" would be the bound function sin.
# A user's text (an op's name, an input's name) reaches the source only as an identifier made
# from its ASCII letters, digits and underscores, or in a comment through :func:`shown`.

#: Names the generated code uses besides its bindings: its functions, the helpers
#: CompiledFunction puts in its globals, and the builtins it calls. No input, node or binding
#: is ever given one of these names.
RESERVED = frozenset(("primal", "value_and_grad", "jvp", "FLOAT", "convert_arguments",
                      "rerun_with_numpy", "branch_changed", "fresh", "copied", "number", "type",
                      "bool",
                      "ArithmeticError", "ValueError", "r", "in_blocks", "elementwise_primal",
                      "elementwise_value_and_grad", "elementwise_jvp"))
_LOCAL_NAME = re.compile(r"\A[vt]\d+\Z|_(bar|dot)\Z|\Ablock_")   # never used for a global
_PLAIN = re.compile(r"[A-Za-z0-9_.]+\Z")
MAX_NAME = 32    # characters of a user's text kept in an identifier
#: Steps of a program written with local variables; a longer one is written in blocks.
BLOCK_STEPS = 2000
#: Lines of each function a long program is written in (Python compiles short functions a
#: little faster per line).
BLOCK_LINES = 500
#: Longest expression a step is written into before it gets a line of its own.
MAX_EXPRESSION = 100


def _identifier(text):
    """The ASCII letters and digits of ``text``, each run of anything else one ``_``, with no
    ``_`` at either end (a keyword gets a trailing ``_``); ``""`` when nothing is left.

    Callers check that it starts with a letter and does not collide.

    Examples
    --------
    >>> from dualad.compile import _identifier
    >>> _identifier("log_softmax"), _identifier("my op\\n#"), _identifier("\\uff53in")
    ('log_softmax', 'my_op', 'in_')
    """
    name = re.sub(r"[^A-Za-z0-9]+", "_", str(text))[:MAX_NAME].strip("_")
    return name + "_" if keyword.iskeyword(name) else name


def shown(name):
    """A user's name as a comment in generated code shows it: as it is when it is plain
    (ASCII letters, digits, ``_`` and ``.``), else ``ascii()``-escaped in quotes, so no line
    break or other control character can reach the source.

    Examples
    --------
    >>> from dualad.compile import shown
    >>> print(shown("multiply"), shown("my_op\\n    import os  #"), shown("\\uff53in"))
    multiply 'my_op\\n    import os  #' '\\uff53in'
    """
    text = str(name)
    return text if _PLAIN.match(text) else ascii(text)


class Bindings:
    """The global names generated code uses, each bound to a float and a numpy object.

    The same source runs twice: with the float bindings (``cos`` is ``math.cos``) and with the
    numpy bindings (``cos`` is ``numpy.cos``). ``bind`` returns the name to write; a name is
    never bound to two different things, and never equals a name in ``taken``.

    Examples
    --------
    >>> import math, numpy as np
    >>> from dualad.compile import Bindings
    >>> names = Bindings(taken={"x"})
    >>> names.bind("cos", math.cos, np.cos), names.bind("x", abs)
    ('cos', 'x_2')
    """

    def __init__(self, taken=()):
        self.scalar, self.numpy = {}, {}
        self.taken = set(taken) | RESERVED
        self._named = {}
        self._suffix = {}

    def bind(self, preferred, scalar_obj, numpy_obj=None):
        numpy_obj = scalar_obj if numpy_obj is None else numpy_obj
        key = (preferred, id(scalar_obj), id(numpy_obj))
        name = self._named.get(key)
        if name is not None:
            return name
        base = _identifier(preferred)
        if not base[:1].isalpha() or _LOCAL_NAME.search(base):
            base = f"op_{base}" if base else "op"
        name = base
        while name in self.taken or name in self.scalar or _LOCAL_NAME.search(name):
            if (name in self.scalar and self.scalar[name] is scalar_obj
                    and self.numpy[name] is numpy_obj):
                break
            self._suffix[base] = self._suffix.get(base, 1) + 1
            name = f"{base}_{self._suffix[base]}"
        self.scalar[name], self.numpy[name] = scalar_obj, numpy_obj
        self._named[key] = name
        return name


def _argument_names(graph):
    """Names for the inputs: the graph's one naming (:attr:`Graph.input_names`, as every view
    calls them) made ASCII identifiers, where that gives a usable one (starting with a letter,
    not reserved, not like a generated name, no collision), else ``x0``, ``x1``, ...; and the
    names that changed.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.compile import _argument_names
    >>> x, y, z = ad.Var(1.0, name="x"), ad.Var(2.0, name="x"), ad.Var(3.0, name="\u03b8")
    >>> _argument_names(ad.Graph(x * y * z))
    (['x', 'x_2', 'x2'], [('x2', '\u03b8')])
    """
    used, names, renamed = set(), [], []
    views = graph.input_names
    given = {_identifier(view) for view in views}
    for i, view in enumerate(views):
        name = _identifier(view)
        if (not name[:1].isalpha() or name in RESERVED or _LOCAL_NAME.search(name)
                or name in used):
            name = f"x{i}"
            while name in used or name in given:
                name += "_"
        used.add(name)
        names.append(name)
        if view != name:
            renamed.append((name, view))
    return names, renamed


# ---- recording the three sweeps at the example values ----

def _leaves(graph, tape, point):
    """A buffer with every leaf: the inputs as the tape's inputs, constants as they are."""
    buffer = [None] * len(graph.nodes)
    nodes = graph.nodes
    for pos in graph.leaf_positions:
        buffer[pos] = nodes[pos].value
    for pos, value in zip(graph.input_positions, point):
        buffer[pos] = tape.input(value)
    return buffer


class _InOrder(_Ordered, ValueEvaluator):
    """The values sweep in a given order of the program."""


def _values(graph, buffer, order=None):
    evaluator = _InOrder(graph)
    evaluator.order = order
    evaluator.values = buffer
    evaluator.walk()
    return buffer


class _ReverseInOrder(_Ordered, ReverseEvaluator):
    """The reverse sweep, walking a given order of the program backwards."""


class _ForwardInOrder(_Ordered, ForwardEvaluator):
    """The forward sweep in a given order of the program."""


def _guards(graph, values):
    return [values[pos] for pos, _ in graph.guards]


def record_primal(graph, point, order=None):
    """The values sweep, recorded: outputs are the graph's outputs, then its guards.
    ``order`` (a topological order of ``graph.program``) is the order the lines come in."""
    tape = Tape()
    values = _values(graph, _leaves(graph, tape, point), order)
    return tape, values, [values[p] for p in graph.output_positions] + _guards(graph, values)


def record_value_and_grad(graph, point, wrt, order=None):
    """The values, then the reverse sweep seeded with 1: outputs are the value, the adjoints
    of the inputs in ``wrt`` (positions among the inputs), then the guards."""
    tape = Tape()
    values = _values(graph, _leaves(graph, tape, point), order)
    positions = [graph.input_positions[i] for i in wrt]
    reverse = _ReverseInOrder(graph, wrt=positions)
    reverse.order = order
    adjoints = reverse.run(values, [1.0])
    outputs = [values[graph.output_positions[0]]] + [adjoints[p] for p in positions]
    return tape, values, outputs + _guards(graph, values), adjoints


def record_jvp(graph, point, order=None):
    """Values and tangents in one forward sweep: the tangents of the inputs come after the
    inputs; outputs are the graph's outputs, their tangents, then the guards."""
    tape = Tape()
    buffer = _leaves(graph, tape, point)
    directions = [tape.input(np.ones(shape_of(v)) if shape_of(v) else 1.0) for v in point]
    evaluator = _ForwardInOrder(graph)
    evaluator.order = order
    values, tangents = evaluator._sweep(buffer, directions, False)
    outputs = ([values[p] for p in graph.output_positions]
               + [tangents[p] for p in graph.output_positions])
    return tape, values, outputs + _guards(graph, values), tangents


def _users(graph):
    """node position -> the positions of the ops that use it, in the program's order."""
    users = {}
    for pos, args in zip(graph.op_positions, graph.op_args):
        for a in dict.fromkeys(args):
            users.setdefault(a, []).append(pos)
    return users


# ---- writing a program as Python ----

# Python operator precedence, enough to parenthesise generated expressions minimally.
ATOM, POWER, UNARY, PRODUCT, SUM = 5, 4, 3, 2, 1
#: The ops written with Python's operators (the same meaning on floats and on arrays).
OPERATORS = {"add": ("+", SUM), "subtract": ("-", SUM), "multiply": ("*", PRODUCT),
             "divide": ("/", PRODUCT), "negative": ("-", UNARY)}


def _python_literal(value):
    """The source text of a plain constant (a number, a string, a tuple of them), or None."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return repr(None if value is None else bool(value))
    if isinstance(value, (int, np.integer)):
        return repr(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return repr(float(value))          # float(...): numpy's float64 repr is not a literal
    if isinstance(value, str):
        return ascii(value)
    if isinstance(value, tuple):
        parts = [_python_literal(v) for v in value]
        if None in parts:
            return None
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return None


class _Writer:
    """Writes one program as the body of a Python function."""

    def __init__(self, program, names, bindings, scalar, comments):
        self.program, self.names, self.bindings = program, names, bindings
        self.scalar, self.comments = scalar, comments
        self.temporaries = itertools.count(1)
        self._call_names = {}      # (function, without params) -> its bound name
        self._operators = {}       # function -> its operator (see ``operator``), or None

    @staticmethod
    def _uses(steps, outputs):
        """register -> how many times ``steps`` read it (an output counts twice more)."""
        uses = {}
        for _, refs, _, _ in steps:
            for r in refs:
                uses[r] = uses.get(r, 0) + 1
        for r in outputs:
            if r is not None:
                uses[r] = uses.get(r, 0) + 2    # an output gets a name of its own
        return uses

    def _writes_into(self):
        """register -> the argument whose array the step's result may be written into (``out=``):
        one :meth:`Program.reusable` finds, recorded as a float64 array of the result's shape.
        Shapes recorded hold at every call (the arguments' are checked), unless an opaque call
        may return other shapes: then none."""
        program = self.program
        if not all(isinstance(f, Primitive) for f in program.functions):
            return {}
        layouts, found = program.layouts, {}
        steps = list(program.steps)
        for k, which in program.reusable().items():
            arg, out = steps[k][1][which], steps[k][3]
            layout = layouts.get(out)
            if layout is not None and layout[1] == np.float64 and layouts.get(arg) == layout:
                found[out] = which
        return found

    def literal(self, value):
        """A constant as source text: a literal where Python has one, else a bound name."""
        text = _python_literal(value)
        if text is not None and not isinstance(value, (tuple, str)):
            return text, ATOM if not text.startswith("-") else UNARY
        name = self.bindings.bind("c", value)
        return name, ATOM

    def call_name(self, function, params):
        """The bound name of a step's function (the op's ``math`` one on floats, else its
        numpy one, or the opaque call)."""
        key = (function, not params)
        found = self._call_names.get(key)
        if found is None:
            found = self._call_names[key] = self._call_name(function, params)
        return found

    def _call_name(self, function, params):
        if not isinstance(function, Primitive):
            return self.bindings.bind(f"call_{function.name}", function)
        numpy_fn = function.numpy
        if self.scalar:
            scalar_fn = function.math if function.math is not None and not params else \
                function.evaluate
        else:
            scalar_fn = numpy_fn
        return self.bindings.bind(function.name, scalar_fn, numpy_fn)

    def params_text(self, function, params):
        out = []
        for key, value in (params or {}).items():
            text = _python_literal(value)
            if text is None:
                text = self.bindings.bind(f"{function.name}_{key}", value)
            if key.isidentifier() and key.isascii() and not keyword.iskeyword(key):
                out.append(f"{key}={text}")
            else:
                out.append(f"**{{{ascii(key)}: {text}}}")
        return out

    def operator(self, function):
        """(symbol, precedence) of the Python operator a step of ``function`` without
        parameters is written with (a registry op in :data:`OPERATORS`), else None."""
        found = self._operators.get(function, False)
        if found is False:
            found = self._operators[function] = (
                OPERATORS.get(function.name) if isinstance(function, Primitive)
                and REGISTRY.get(function.name) is function else None)
        return found

    def expression(self, function, params, args):
        """(text, precedence) of a step applied to argument texts ``args`` (text, prec)."""
        operator = None if params else self.operator(function)
        if operator is not None and len(args) == 2:
            symbol, prec = operator
            (a, pa), (b, pb) = args
            left = a if pa >= prec else f"({a})"
            right = b if pb > prec else f"({b})"
            return f"{left} {symbol} {right}", prec
        if operator is not None and len(args) == 1 and function.name == "negative":
            a, pa = args[0]
            return f"-{a if pa >= UNARY else f'({a})'}", UNARY
        name = self.call_name(function, params)
        texts = [a for a, _ in args]
        if params:
            texts += self.params_text(function, params)
        return f"{name}({', '.join(texts)})", ATOM

    def lines(self, registers, free=False, steps=None, outputs=None, params=(), given=(),
              inline=True):
        """The assignments, with ``registers(r)`` the text of register r where it is stored
        (a local name, or ``r[k]``). With ``free``, a ``del`` follows the line that reads a
        local for the last time (on arrays: its memory is reused by the next result, as the
        replayed programs reuse it), and a result may be written into the array of an
        argument read for the last time (``out=``). Returns (lines, text of each output).

        By default the lines are the program's steps and return its outputs; ``steps`` and
        ``outputs`` write a part of it. ``params`` are registers read by their local names
        (a function's parameters), ``given`` registers assigned to locals before these
        lines (freed like the lines' own). With ``inline`` false, every step is a line of its
        own, so that each result can be written into an array read for the last time."""
        program = self.program
        steps = list(program.steps) if steps is None else steps
        outputs = program.outputs if outputs is None else outputs
        known = {}                                    # register -> (text, precedence)
        for r in program.inputs:
            known[r] = (registers(r), ATOM)
        for r, value in program.literals.items():
            known[r] = self.literal(value)
        for r in (*params, *given):
            known[r] = (registers(r), ATOM)
        body = []
        uses = self._uses(steps, outputs)
        written = {r: registers(r) for r in given} if free else {}  # register -> its local
        reads = {}          # an inlined register -> the locals its text reads (with free)
        held = collections.Counter()   # a local -> how many inlined texts not yet written read it
        waiting = {}        # locals read for the last time, to free once no text holds them
        into = self._writes_into() if free else {}
        for function, refs, step_params, out in steps:
            args = [known[r] for r in refs]
            text, prec = self.expression(function, step_params, args)
            inlined = (inline and uses.get(out, 0) == 1 and out not in self.names
                      and len(text) <= MAX_EXPRESSION and isinstance(function, Primitive))
            if free:
                needs = set()
                for r in refs:
                    inner = reads.pop(r, None)
                    if inner is not None:
                        held.subtract(inner)
                        needs |= inner
                    elif r in written:
                        needs.add(r)
            for r in refs:      # a register read for the last time is forgotten (memory)
                left = uses[r] = uses[r] - 1
                if not left:
                    del known[r]
                    if free and r in written:
                        waiting[r] = True
            if inlined:
                known[out] = (text, prec)
                if free:
                    reads[out] = needs
                    held.update(needs)
                continue
            target = registers(out)
            which = into.get(out)
            if (which is not None and refs[which] in written and not uses[refs[which]]
                    and not held[refs[which]]):
                # the argument's array, read for the last time (here, and in no text inlined
                # into a later line), takes the result
                text = (f"{self.call_name(function, step_params)}("
                        f"{', '.join(a for a, _ in args)}, out={written[refs[which]]})")
            line = f"{target} = {text}"
            comment = self.comments.get(out)
            if comment and len(line) < 64:
                line = f"{line:<40}  # {comment}"
            body.append(line)
            if free:
                dead = [r for r in waiting if not held[r]]
                if dead:
                    body.append(f"del {', '.join(written.pop(r) for r in dead)}")
                    for r in dead:
                        del waiting[r]
                written[out] = target
            known[out] = (target, ATOM)
        return body, [None if r is None else known[r][0] for r in outputs]


def _local_names(program, names):
    """The name of each register written with locals: the given names (nodes, inputs), else
    ``t1``, ``t2``, ..."""
    counter = itertools.count(1)
    table = dict(names)

    def name(r):
        found = table.get(r)
        if found is None:
            found = table[r] = f"t{next(counter)}"
        return found
    return name


# ---- running the generated code ----

_FILE_COUNTER = itertools.count(1)
_FLOAT64 = np.dtype(np.float64)


def _floats_of(result):
    """numpy float64 results (of the numpy rerun) back to Python floats, through tuples."""
    if isinstance(result, tuple):
        return tuple(_floats_of(r) for r in result)
    return as_float(result)


def _forget_sources(filenames):
    for filename in filenames:
        linecache.cache.pop(filename, None)


def _reraise(name, *args):
    raise  # noqa: PLE0704  (called from an except block: re-raises what numpy raised)


def fresh(value):
    """``value``, or a copy of it when it is an array that shares memory with another (an
    input, a view): what compiled code returns is the caller's own."""
    if type(value) is np.ndarray and value.base is not None:
        return np.array(value)
    return value


def copied(value):
    """A copy of an array the code did not compute (an argument, a constant), so that what
    compiled code returns is never the caller's own argument or the function's constant."""
    return np.array(value) if type(value) is np.ndarray else value


def number(value):
    """A scalar result of code on arrays as users get it: the Python number a numpy scalar or
    a 0-d array holds, as the transforms give it (:func:`~dualad.mathns.as_number`); anything
    else as :func:`fresh` gives it."""
    return fresh(as_number(value))


class _BranchChanged(Exception):
    """Raised by compiled code where a branch decision recorded while tracing would flip."""


def _branch_changed(k):
    raise _BranchChanged(k)


class _Runtime:
    """The helpers generated code calls: argument conversion, the numpy rerun, guards."""

    def __init__(self, arg_names, scalar):
        self.arg_names = arg_names   # function name -> its parameter names
        self.scalar = scalar
        self.fast = self.fallback = None     # the two namespaces the code is run in

    def convert_arguments(self, name, *args):
        values = [as_value(a, f"compiled {name}: argument {k}") for k, a in enumerate(args)]
        for arg, value in zip(self.arg_names[name], values):
            if type(value) is not float:
                raise ShapeMismatchError(
                    f"compiled {name}: compiled for float arguments, got "
                    f"{type(value).__name__} of shape {shape_of(value)} for {arg!r}; "
                    "compile again with example arguments of that kind")
        return self.fast[name](*values)

    def rerun_with_numpy(self, name, *args):
        values = numpy_scalars(args)
        result = self.fallback[name](*values)
        return _floats_of(result) if self.scalar else result


class CompiledFunction:
    """A function compiled by :func:`compile`: straight-line Python for each mode.

    Attributes
    ----------
    source : str
        The generated Python code of the three functions (``primal``, ``value_and_grad``,
        ``jvp``): one line per node, each commented with its operation.
    graph : Graph
        The graph the code was generated from.
    argnums : int or tuple of int
        The arguments ``value_and_grad`` differentiates with respect to.

    Examples
    --------
    >>> import dualad as ad
    >>> f = ad.compile(lambda x, y: x * y + ad.exp(x), 0.0, 2.0, argnums=(0, 1))
    >>> f(0.0, 3.0)
    1.0
    >>> f.value_and_grad(0.0, 3.0)            # (x y + e^x, (y + e^x, x))
    (1.0, (4.0, 0.0))
    >>> f.jvp((0.0, 3.0), (1.0, 0.0))         # the tangent in direction x: y + e^x
    (1.0, 4.0)
    """

    def __init__(self, graph, point, argnums, function=None):
        self.graph = graph
        self.argnums = argnums
        self._function = function
        self._point = point
        self._wrt, self._single = (check_argnums(argnums, len(graph.inputs), "compile")
                                   if graph.inputs else ((), not isinstance(argnums, (tuple,
                                                                                     list))))
        values = graph.leaf_values(point)
        nodes = graph.nodes
        self.scalar = (all(type(values[p]) is float for p in graph.leaf_positions)
                       and all(nodes[p].op.elementwise for p in graph.op_positions))
        # every value of a scalar graph is a number; a long one with one output, no branch to
        # check and nothing to name up front is evaluated only by recording its gradient below
        # (which raises what an evaluation here would), not once more here
        evaluated = not (self.scalar and len(graph) > BLOCK_STEPS and not graph.guards
                         and graph.inputs and len(graph.outputs) == 1)
        if evaluated:
            values = ValueEvaluator(graph).run(point)
        self._input_shapes = [shape_of(values[p]) for p in graph.input_positions]
        self._output_shapes = ([shape_of(values[p]) for p in graph.output_positions]
                               if evaluated else [()] * len(graph.output_positions))
        self._arg_names, self._renamed = _argument_names(graph)
        # the textbook names order and name a short program's lines; a long one's lines are
        # registers, and only which positions the textbook numbers is needed (see _record)
        self._textbook = TraceNames(graph, values) if len(graph) <= BLOCK_STEPS else None
        out = graph.output_positions
        self._grad_problem = None
        if not graph.inputs:
            self._grad_problem = "value_and_grad: the function has no arguments"
        elif len(out) != 1:
            self._grad_problem = (f"value_and_grad: the function has {len(out)} outputs; "
                                  "differentiate one scalar output")
        elif self._output_shapes[0] != ():
            self._grad_problem = (f"value_and_grad: the output is not a scalar (shape "
                                  f"{self._output_shapes[0]}); differentiate a scalar, e.g. "
                                  "its sum")
        self.bindings = Bindings(taken=set(self._arg_names))
        names = self._arg_names
        self._runtime = runtime = _Runtime({"primal": names, "value_and_grad": names,
                                            "jvp": names + [f"{n}_dot" for n in names]},
                                           self.scalar)
        common = {"__name__": "dualad.compiled", "__builtins__": builtins,
                  "convert_arguments": runtime.convert_arguments,
                  "branch_changed": _branch_changed, "fresh": fresh, "copied": copied,
                  "number": number, "in_blocks": in_blocks}
        runtime.fast = dict(common, FLOAT=float, rerun_with_numpy=runtime.rerun_with_numpy)
        runtime.fallback = dict(common, FLOAT=np.float64, rerun_with_numpy=_reraise)
        self._sources = {}
        self._compiled = {}
        self._filenames = []
        self._variants = []
        self._block_code = BlockCode()     # the code of a long program's blocks, by shape
        weakref.finalize(self, _forget_sources, self._filenames)
        if self._grad_problem is None:
            self._load("value_and_grad")

    # -- writing and compiling --

    def _write(self, name):
        """Record the sweep ``name`` at the example point and write it as Python source."""
        # the recording (values, Slots, the tape) is gone before the source is written
        program, names, comments = self._record(name)
        params = list(self._arg_names)
        if name == "jvp":
            params += [f"{n}_dot" for n in self._arg_names]
        source = self._function_source(name, program, params, names, comments)
        return program, source

    def _record(self, name):
        """The program of the sweep ``name`` at the example point, the names of its registers
        (the nodes' textbook names) and the comments of the lines that compute them."""
        graph, point = self.graph, self._point
        inputs = dict(zip(graph.input_positions, self._arg_names))
        with _collector_paused():
            order = self._textbook.order if len(graph) <= BLOCK_STEPS else None
            if name == "primal":
                tape, values, outputs = record_primal(graph, point, order)
                derivatives, suffix = None, ""
            elif name == "value_and_grad":
                tape, values, outputs, derivatives = record_value_and_grad(graph, point,
                                                                           self._wrt, order)
                suffix = "_bar"
            else:
                tape, values, outputs, derivatives = record_jvp(graph, point, order)
                suffix = "_dot"
            program = tape.program(outputs)
            tape.steps.clear()      # the program has them; the Slots below only need registers
        # a long program is written with registers r[k]: its lines are commented with the op
        # alone, and the nodes' names only mark which registers get a line of their own
        short = len(program) <= BLOCK_STEPS
        if short and self._textbook is None:    # a long graph whose program is short
            self._textbook = TraceNames(graph, ValueEvaluator(graph).run(point))
        # the textbook numbers the inputs and the ops: a long program needs only which
        index = (self._textbook.index if short else
                 set(graph.input_positions).union(graph.op_positions))
        names, comments = {}, {}
        for pos, value in enumerate(values):
            if isinstance(value, Slot) and value.register not in names:
                names[value.register] = (inputs.get(pos) or f"v{index[pos]}") if short else None
                if pos in index and pos not in inputs:
                    comments[value.register] = shown(graph.nodes[pos].op.name)
        for k, r in enumerate(program.inputs[len(point):]):     # the jvp's tangents
            names[r] = f"{self._arg_names[k]}_dot"
        if derivatives is not None:
            users = _users(graph) if short else None
            for pos, found in enumerate(derivatives):
                if isinstance(found, Slot) and found.register not in names and pos in index:
                    if not short:       # an adjoint read once is written into its reader
                        continue
                    base = inputs.get(pos) or f"v{index[pos]}"
                    names[found.register] = base + suffix
                    if suffix == "_bar":
                        shown_users = [f"v{index[u]} ({shown(graph.nodes[u].op.name)})"
                                       for u in users.get(pos, ())[:3]]
                        more = ", ..." if len(users.get(pos, ())) > 3 else ""
                        comments[found.register] = (f"{base} feeds {', '.join(shown_users)}"
                                                    f"{more}")
                    elif pos not in inputs:
                        comments[found.register] = (f"{shown(graph.nodes[pos].op.name)}: "
                                                    "partial times tangent")
        return program, names, comments

    def _function_source(self, name, program, params, names, comments):
        writer = _Writer(program, names, self.bindings, self.scalar, comments)
        blocks = len(program) > BLOCK_STEPS
        prefix = ""
        if blocks:
            body, outputs = writer.lines(lambda r: f"r[{r}]")
        else:
            # on big arrays, each local is freed after its last read (``del``): the next result
            # then reuses that memory, as the replayed program lets its registers go
            free = not self.scalar and program.largest >= BIG_ARRAY
            local = _local_names(program, names)
            part = self._elementwise_part(program) if free else None
            if part is None:
                body, outputs = writer.lines(local, free=free)
            else:
                prefix, body, outputs = self._elementwise_source(name, writer, part, local)
        guards = self.graph.guards
        n_guards = len(guards)
        results = outputs[:len(outputs) - n_guards] if n_guards else outputs
        checks = []
        for k, ((pos, outcome), text) in enumerate(zip(guards, outputs[len(results):])):
            checks.append(f"if {'not ' if outcome else ''}{text}:")
            checks.append(f"    return branch_changed({k})")
        computed = set(program.outs)
        # an argument or constant returned, or one array returned twice, is returned copied
        times = collections.Counter(results)
        borrowed = {text for r, text in zip(program.outputs, outputs)
                    if r is not None and (r not in computed or times[text] > 1)}
        returns = self._returns(name, results, borrowed)
        renamed = [f"    # {new} stands for {shown(old)}" for new, old in self._renamed]
        header = [f"def {name}({', '.join(params)}):"] + renamed
        if self.scalar and params:
            tests = [f"type({p}) is not FLOAT" for p in params]
            rows = [" or ".join(tests[i:i + 3]) for i in range(0, len(tests), 3)]
            test = rows[0] if len(rows) == 1 else "(" + "\n            or ".join(rows) + ")"
            header += [f"    if {test}:",
                       f"        return convert_arguments({name!r}, {', '.join(params)})"]
        rerun = (f"        return rerun_with_numpy({name!r}{', ' if params else ''}"
                 f"{', '.join(params)})")
        if not blocks:
            lines = header + ["    try:"]
            lines += [f"        {line}" for line in body + checks] or ["        pass"]
            lines += ["    except (ArithmeticError, ValueError):  # a domain edge such as "
                      "log(-1.0)", rerun, f"    return {returns}"]
            return prefix + "\n".join(lines) + "\n", []
        # a long program: one list of registers, and blocks of lines, each a function
        chunks = [body[i:i + BLOCK_LINES] for i in range(0, len(body), BLOCK_LINES)]
        block_names = [f"block_{name}_{k}" for k in range(len(chunks))]
        lines = header + [f"    r = [None] * {program.size}"]
        lines += [f"    r[{reg}] = {p}" for reg, p in zip(program.inputs, params)]
        lines += ["    try:"] + [f"        {b}(r)" for b in block_names]
        lines += [f"        {line}" for line in checks]
        lines += ["    except (ArithmeticError, ValueError):  # a domain edge such as "
                  "log(-1.0)", rerun, f"    return {returns}"]
        block_sources = [f"def {b}(r):\n" + "\n".join(f"    {line}" for line in chunk) + "\n"
                         for b, chunk in zip(block_names, chunks)]
        return "\n".join(lines) + "\n", block_sources

    def _elementwise_part(self, program):
        """The steps of ``program`` to run in blocks (see :mod:`~dualad.evaluators.blocks`),
        planned with the example point's values (a jvp's tangents have their primals' kinds),
        or None. An array only a whole ``sum`` reads is summed block by block (in numpy's
        order), not written whole: the replayed program does the same."""
        registers = [None] * program.size
        point = self._point
        for k, r in enumerate(program.inputs):
            registers[r] = point[k % len(point)]
        for r, value in program.literals.items():
            registers[r] = value
        return elementwise_part(program, registers, fold_sums=True)

    def _elementwise_source(self, name, writer, part, local):
        """The elementwise steps of a program on big arrays as a function of blocks of its
        arrays, which ``in_blocks`` runs block by block, and the lines of the rest: (that
        function's source, the lines of the body, the texts of the outputs)."""
        program = writer.program
        steps = list(program.steps)
        taken = (*part.sliced, *part.numbers)
        summed = [r for r, _, _ in part.folded]        # each block of these is summed
        # one ufunc a line, each result written into a block temporary read for the last
        # time, as the replayed blocks do: on blocks of 256 KiB numpy's own reuse of the
        # temporaries of an expression (a * b - c) costs more than calls with out=
        lines, kept = writer.lines(local, free=True, steps=[steps[k] for k in part.steps],
                                   outputs=[*part.kept, *summed], params=taken, inline=False)
        function = f"elementwise_{name}"
        source = [f"def {function}({', '.join(local(r) for r in taken)}):",
                  f"    # the elementwise steps, on {BLOCK} elements of each array at a time "
                  "(so that they stay in the cache)"]
        source += [f"    {line}" for line in lines]
        source += [f"    return {', '.join(kept)}{',' if len(kept) == 1 else ''}"]

        def outside(r):
            value = program.literals.get(r)
            return local(r) if value is None else writer.literal(value)[0]

        def several(texts):
            return f"({texts[0]},)" if len(texts) == 1 else f"({', '.join(texts)})"

        results = [*part.kept, *(out for _, _, out in part.folded)]
        targets = ", ".join(local(r) for r in results) + ("," if len(results) == 1 else "")
        call = [f"{targets} = in_blocks({function}, {part.shape!r}, "
                f"{several([outside(r) for r in part.sliced])}, "
                f"{several([local(r) for r in part.numbers])}"]
        if part.folded:     # a sum of each block as it is made, added in numpy's order
            sums = [writer.expression(steps[k][0], steps[k][2], [("part", ATOM)])[0]
                    for _, k, _ in part.folded]
            call[0] += ","
            call += [f"    sums=(lambda part: {sums[0]},"]
            call += [f"          lambda part: {text}," for text in sums[1:]]
            call[-1] += "))"
        else:
            call[0] += ")"
        body, outputs = writer.lines(local, free=True, steps=[steps[k] for k in part.rest],
                                     given=results)
        return "\n".join(source) + "\n\n\n", call + body, outputs

    def _returns(self, name, results, borrowed=()):
        def result(text, shape):
            if text is None:
                return "0.0" if self.scalar or shape == () else \
                    f"{self.bindings.bind('zeros', np.zeros)}({shape!r})"
            if self.scalar:
                return text
            if shape == ():         # a float, as users get it
                return f"number(copied({text}))" if text in borrowed else f"number({text})"
            return f"{'copied' if text in borrowed else 'fresh'}({text})"

        def several(items):
            return items[0] if len(items) == 1 else "(" + ", ".join(items) + ")"
        outs = self._output_shapes
        n = len(outs)
        if name == "value_and_grad":
            grads = [result(t, self._input_shapes[i]) for t, i in zip(results[1:], self._wrt)]
            grad = grads[0] if self._single else "(" + ", ".join(grads) + \
                ("," if len(grads) == 1 else "") + ")"
            return f"{result(results[0], ())}, {grad}"
        values = [result(t, s) for t, s in zip(results[:n], outs)]
        single = self.graph.single_output
        if name == "primal":
            return values[0] if single else "(" + ", ".join(values) + ",)" if n == 1 else \
                several(values)
        tangents = [result(t, s) for t, s in zip(results[n:], outs)]
        if single:
            return f"{values[0]}, {tangents[0]}"
        return f"({', '.join(values)}{',' if n == 1 else ''}), " \
               f"({', '.join(tangents)}{',' if n == 1 else ''})"

    def _load(self, name):
        """Write, compile and bind one generated function (once)."""
        found = self._compiled.get(name)
        if found is not None:
            return found
        program, (source, blocks) = self._write(name)
        self._sources[name] = (program, source, blocks)
        runtime = self._runtime
        runtime.fast.update(self.bindings.scalar if self.scalar else self.bindings.numpy)
        runtime.fallback.update(self.bindings.numpy)
        # a long program's blocks: each shape compiled once; then, the compiler's objects gone,
        # each block's register numbers made anew side by side in memory (see block_code)
        with _collector_paused():
            codes = [self._block_code.function(
                text, f"<dualad.compile-{next(_FILE_COUNTER)}:{name}>") for text in blocks]
            for code in map(side_by_side, codes):
                runtime.fast[code.co_name] = types.FunctionType(code, runtime.fast)
                runtime.fallback[code.co_name] = types.FunctionType(code, runtime.fallback)
        filename = f"<dualad.compile-{next(_FILE_COUNTER)}:{name}>"
        # Registered so tracebacks and inspect show the generated lines (until this object
        # is collected: see _forget_sources); a long program's blocks are not kept.
        if len(blocks) == 0:
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            self._filenames.append(filename)
        with _collector_paused():
            code = builtins.compile(source, filename, "exec")
        exec(code, runtime.fast)      # our own generated text, never user input
        exec(code, runtime.fallback)
        self._compiled[name] = runtime.fast[name]
        return runtime.fast[name]

    @property
    def source(self):
        """The generated Python code of the three functions (``primal``, ``value_and_grad``
        when the output is a scalar, ``jvp``)."""
        names = ["primal", "value_and_grad", "jvp"]
        if self._grad_problem is not None:
            names.remove("value_and_grad")
        texts = []
        for name in names:
            self._load(name)
            _, source, blocks = self._sources[name]
            texts.append(source + "".join("\n\n" + block for block in blocks))
        return "\n\n".join(texts)

    def __repr__(self):
        kind = "floats" if self.scalar else "arrays"
        return (f"<CompiledFunction of {len(self.graph)} nodes on {kind}, "
                f"argnums={self.argnums}>")

    # -- calling --

    def _count_error(self, what, got):
        """The error for a call with ``got`` arguments instead of one per input."""
        names = ", ".join(self._arg_names) or "none"
        return DualadError(f"compiled {what}: expected {len(self._arg_names)} argument(s) "
                           f"({names}), got {got}; pass one value for each")

    def _check(self, args, shapes, what):
        if len(args) != len(shapes):
            raise self._count_error(what, len(args))
        if not self.scalar:
            for a, shape in zip(args, shapes):
                if type(a) is not np.ndarray or a.dtype is not _FLOAT64 or a.shape != shape:
                    break
            else:
                return args      # float64 arrays of the compiled shapes are taken as they are
        values = [as_value(a, f"compiled {what}: argument {k}") for k, a in enumerate(args)]
        for value in values:
            if is_symbolic(value) or is_traced(value):
                raise DualadError(f"compiled {what}: arguments must be numbers or numeric "
                                  f"arrays, got {type(value).__name__}")
        if not self.scalar:
            for i, (value, shape) in enumerate(zip(values, shapes)):
                if shape_of(value) != shape:
                    raise ShapeMismatchError(
                        f"compiled {what}: argument {i} has shape {shape_of(value)}, but the "
                        f"function was compiled for shape {shape}; compile again for it")
        return values

    def _run(self, name, args, primals):
        """Run compiled ``name`` (its results are as users get them: see ``_returns``); where
        a branch recorded while tracing would flip, run the variant compiled at a point on
        that side (tracing the function again), or refuse."""
        try:
            return self._load(name)(*args)
        except _BranchChanged:
            pass
        for variant in self._variants:
            try:
                return variant._load(name)(*args)
            except _BranchChanged:
                continue
        if self._function is None:
            # a graph has no function to trace again: say which branch flips, and where
            ValueEvaluator(self.graph).run(primals)
            raise BranchChangedError("compiled: a branch recorded while tracing would go "
                                     "the other way here")   # (check_guards raised above)
        variant = CompiledFunction(*prepare(self._function, primals, "compile")[:2],
                                   self.argnums, self._function)
        self._variants.append(variant)
        return variant._load(name)(*args)

    def __call__(self, *args):
        """The function's value (a tuple for several outputs).

        Examples
        --------
        >>> import dualad as ad
        >>> ad.compile(lambda x: 2 * x, 1.0)(3.0)
        6.0
        """
        if self.scalar and len(args) == len(self._arg_names) and not self.graph.guards:
            return self._load("primal")(*args)
        values = self._check(args, self._input_shapes, "function")
        return self._run("primal", values, values)

    def value_and_grad(self, *args):
        """``(value, gradient)`` at ``args``: the gradient with respect to ``argnums``.

        As in JAX, an int ``argnums`` gives one gradient and a tuple gives a tuple of them,
        each in the shape of its argument. The output must be a single scalar.

        Raises
        ------
        ShapeMismatchError
            If the output is not a scalar, or an argument's shape is not the compiled one.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> f = ad.compile(lambda x: ad.sum(x * x), np.array([1.0, 2.0]))
        >>> f.value_and_grad(np.array([3.0, 4.0]))
        (25.0, array([6., 8.]))
        """
        if self._grad_problem is not None:
            raise ShapeMismatchError(self._grad_problem)
        if self.scalar and len(args) == len(self._arg_names) and not self.graph.guards:
            return self._compiled["value_and_grad"](*args)   # straight to generated code
        values = self._check(args, self._input_shapes, "value_and_grad")
        return self._run("value_and_grad", values, values)

    def jvp(self, primals, tangents):
        """``(output, output tangent)`` in the direction ``tangents``: forward mode.

        ``primals`` and ``tangents`` are sequences with one entry per argument, each tangent
        in the shape of its primal (JAX's ``jvp`` convention).

        Examples
        --------
        >>> import dualad as ad
        >>> f = ad.compile(lambda x, y: x * y, 2.0, 3.0)
        >>> f.jvp((2.0, 3.0), (1.0, 1.0))         # d(xy) = y dx + x dy
        (6.0, 5.0)
        """
        primals, tangents = tuple(primals), tuple(tangents)
        if len(primals) != len(self._arg_names):
            raise self._count_error("jvp", f"{len(primals)} primal(s)")
        if len(tangents) != len(primals):
            raise DualadError(f"compiled jvp: {len(primals)} primals but {len(tangents)} "
                              "tangents; give one tangent per primal, in its shape")
        values = self._check(primals + tangents, self._input_shapes * 2, "jvp")
        return self._run("jvp", values, values[:len(primals)])


def compile(f, *example_args, argnums=0):
    """Generate straight-line Python for ``f``'s value, gradient and tangent; compile once.

    The code is the sweeps the evaluators make, recorded at the example arguments and written
    out (see the module docstring), so it computes what the interpreted transforms compute,
    without their per-node overhead. Graphs of floats use the ``math`` module; anything else
    uses numpy and is specialised to the example arguments' shapes.

    Parameters
    ----------
    f : callable, Graph or Var
        A function of floats/arrays written with dualad ops (traced at ``example_args``), a
        ``Graph``, or an output ``Var`` (its graph's inputs are its non-constant leaves).
    *example_args : float or array
        Where to trace ``f``; for a Graph or Var they default to the inputs' current values.
    argnums : int or tuple of int
        The arguments ``value_and_grad`` differentiates with respect to.

    Returns
    -------
    CompiledFunction
        With ``__call__``, ``value_and_grad``, ``jvp`` and ``source``.

    Raises
    ------
    DualadError
        If ``f`` is not a function, Graph or Var, example values are missing or symbolic, or
        ``argnums`` does not name arguments.

    Examples
    --------
    >>> import dualad as ad
    >>> f = ad.compile(lambda x: ad.exp(2 * x), 0.0)
    >>> f.value_and_grad(0.0)
    (1.0, 2.0)
    >>> print(f.source.split("\\n\\n")[0])
    def primal(x):
        if type(x) is not FLOAT:
            return convert_arguments('primal', x)
        try:
            v1 = 2.0 * x                              # multiply
            v2 = exp(v1)                              # exp
        except (ArithmeticError, ValueError):  # a domain edge such as log(-1.0)
            return rerun_with_numpy('primal', x)
        return v2
    """
    graph, point, _ = prepare(f, example_args, "compile")
    for value in point:
        if is_symbolic(value) or is_traced(value):
            raise DualadError(f"compile: example arguments must be numbers or numeric arrays, "
                              f"got {type(value).__name__}")
    function = f if callable(f) and not isinstance(f, Graph) and not is_traced(f) else None
    # Recording and compiling make many small objects: without pausing the cyclic collector
    # it would rescan the (large, acyclic) graph many times over.
    with _collector_paused():
        return CompiledFunction(graph, point, argnums, function)
