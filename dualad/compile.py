"""Compiled functions: straight-line Python generated from the registry's rules.

This module owns :func:`compile` and :class:`CompiledFunction`. It writes no derivative
formula of its own: it runs each registry rule (``prim.pds[j](m, *inputs, out)``) on a
*code-emitting* math namespace, :class:`CodeNamespace`, whose values are :class:`Code`
expressions. ``m.cos(x)`` on that namespace returns the text ``cos(x)``, and ``1 - out * out``
returns ``1 - v5 * v5``; each node then becomes one assignment in the generated source, so
shared subexpressions stay shared. Primal operations are emitted the same way: running a
primitive's float implementation (``operator.mul``) on code writes ``a * b``, and anything that
cannot run on code (``math.pow``, a user's own function) becomes a call of the very function
the interpreted evaluators call. Structural operations (``sum``, ``matmul``, ...) call their
registry ``jvp``/``vjp`` rules from the generated code.

Three functions are generated: the primal, ``value_and_grad`` (the forward sweep, then the
adjoint sweep of reverse mode) and ``jvp`` (values and tangents in one forward sweep). The
evaluators in :mod:`dualad.evaluators` stay the readable reference; the tests check that the
compiled functions agree with them to round-off.

Graphs of Python floats (no structural ops) compile to ``math`` calls; anything else compiles
to numpy, specialised to the shapes of the example arguments (broadcasting and un-broadcasting
are decided at compile time). At a domain edge where ``math`` raises (``log(-1.0)``,
``1.0 / 0.0``) the whole compiled call is rerun with the same code bound to numpy on float64
values, which returns ``nan``/``inf`` with numpy's warning, as the interpreted evaluators do.
A constant expression that Python refuses (``1 / 0.0`` from the rule ``1 / b`` at a constant
``b = 0``) is written with ``FLOAT(...)``, which is ``numpy.float64`` in that rerun.

No text from a user ever runs. Every identifier in the code is ASCII and made by dualad: an
input's or node's own name only as far as its ASCII letters and digits go (and only where that
collides with nothing), else ``x0``, ``v1``, ...; the functions the code calls get names of
their own that collide with no local, no builtin the code uses and no other binding. Names
appear in comments as they are when plain, else ``ascii()``-escaped (see :func:`shown`).

Examples
--------
>>> import dualad as ad
>>> f = ad.compile(lambda x, w: ad.sin(x * w) + w, 1.0, 4.0, argnums=1)
>>> value, dw = f.value_and_grad(1.0, 4.0)          # d/dw = x cos(xw) + 1
>>> round(value, 6), round(dw, 6)
(3.243198, 0.346356)
"""

import builtins
import functools
import itertools
import keyword
import linecache
import math
import numbers
import re
import weakref

import numpy as np

from .errors import DualadError, ShapeMismatchError
from .evaluators.value import ValueEvaluator
from .graph import Graph, Var, _collector_paused, as_value, trace
from .mathns import MATH, NUMPY, as_float, call_in_namespace, is_symbolic
from .shapes import shape_of, unbroadcast

# ---- code expressions ----

# Python operator precedence, enough to parenthesise generated expressions minimally.
ATOM, POWER, UNARY, PRODUCT, SUM = 5, 4, 3, 2, 1


class Code:
    """A Python expression being generated, with arithmetic that writes code.

    ``text`` is the expression, ``prec`` its precedence (to add only the parentheses needed),
    ``number`` the value when it is a literal constant (so ``1 * g`` folds to ``g``), and
    ``fresh`` whether it evaluates to a newly made array (one that may be handed to a user
    without copying). Comparisons and ``bool()`` raise ``TypeError``: a rule that branches on a
    value cannot be turned into straight-line code, and is called at run time instead.

    Examples
    --------
    >>> from dualad.compile import Code
    >>> x, y = Code("x"), Code("y")
    >>> print(1 - x * y, -(x + y), 1 * x, x / (x * y))
    1 - x * y -(x + y) x x / (x * y)
    """

    __slots__ = ("text", "prec", "number", "fresh")
    __array_ufunc__ = None   # numpy defers to Code's operators instead of making arrays
    __hash__ = object.__hash__

    def __init__(self, text, prec=ATOM, number=None, fresh=True):
        self.text = text
        self.prec = prec
        self.number = number
        self.fresh = fresh

    def __repr__(self):
        return f"Code({self.text!r})"

    def __str__(self):
        return self.text

    def __bool__(self):
        raise TypeError("the truth value of generated code is not known until it runs")

    def _no_comparison(self, other):
        raise TypeError("generated code cannot be compared while it is generated")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _no_comparison

    def __add__(self, other):
        return _add(self, code_of(other))

    def __radd__(self, other):
        return _add(code_of(other), self)

    def __sub__(self, other):
        return _subtract(self, code_of(other))

    def __rsub__(self, other):
        return _subtract(code_of(other), self)

    def __mul__(self, other):
        return _multiply(self, code_of(other))

    def __rmul__(self, other):
        return _multiply(code_of(other), self)

    def __truediv__(self, other):
        return _divide(self, code_of(other))

    def __rtruediv__(self, other):
        return _divide(code_of(other), self)

    def __pow__(self, other):
        return _binary(self, code_of(other), "**", POWER, operator_pow)

    def __rpow__(self, other):
        return _binary(code_of(other), self, "**", POWER, operator_pow)

    def __neg__(self):
        if self.number is not None:
            return literal(-self.number)
        operand = self.text if self.prec >= UNARY else f"({self.text})"
        return Code(f"-{operand}", UNARY)

    def __pos__(self):
        return self


def operator_pow(a, b):
    return a**b


def literal(number):
    """A number as a ``Code`` literal (``repr`` round-trips floats exactly).

    Examples
    --------
    >>> from dualad.compile import literal
    >>> literal(0.1).text, literal(-2).prec < literal(2).prec
    ('0.1', True)
    """
    if isinstance(number, (bool, np.bool_)) or not isinstance(number, numbers.Real):
        raise TypeError(f"not a real number: {number!r}")
    number = int(number) if isinstance(number, numbers.Integral) else float(number)
    if not math.isfinite(number):
        raise TypeError(f"{number!r} has no literal")
    text = repr(number)
    return Code(text, UNARY if text.startswith("-") else ATOM, number, fresh=False)


def code_of(value):
    """``value`` as a ``Code``: Code stays, real numbers become literals, else ``TypeError``."""
    return value if isinstance(value, Code) else literal(value)


def _binary(a, b, symbol, prec, fold):
    if a.number is not None and b.number is not None:
        try:
            return literal(fold(a.number, b.number))
        except TypeError:
            pass  # an infinite result (no literal): Python computes it at run time
        except ArithmeticError:
            # 1 / 0.0, 0.0 ** -1: Python raises at run time, and the rerun must give numpy's
            # inf or nan, so one operand is made a FLOAT (numpy.float64 in the rerun's globals)
            a = Code(f"FLOAT({a.text})")
    left = a.text if (a.prec > prec if symbol == "**" else a.prec >= prec) else f"({a.text})"
    right_ok = b.prec >= UNARY if symbol == "**" else b.prec > prec
    right = b.text if right_ok else f"({b.text})"
    return Code(f"{left} {symbol} {right}", prec)


# Folding identities are exact in floating point (up to the sign of a zero): 1 * g = g,
# -1 * g = -g, 0 + x = x, x / 1 = x.
def _add(a, b):
    if a.number == 0:
        return b
    if b.number == 0:
        return a
    return _binary(a, b, "+", SUM, lambda p, q: p + q)


def _subtract(a, b):
    if b.number == 0:
        return a
    if a.number == 0:
        return -b
    return _binary(a, b, "-", SUM, lambda p, q: p - q)


def _multiply(a, b):
    for one, other in ((a, b), (b, a)):
        if one.number == 1 and other.number is None:
            return other
        if one.number == -1 and other.number is None:
            return -other
    return _binary(a, b, "*", PRODUCT, lambda p, q: p * q)


def _divide(a, b):
    if b.number == 1 and a.number is None:
        return a
    return _binary(a, b, "/", PRODUCT, lambda p, q: p / q)


# ---- names in generated code ----
#
# Every identifier in generated code is ASCII and made here: Python reads identifiers after
# NFKC normalisation, so a user's name such as "\U0001d465" (a mathematical italic x) would
# be the same identifier as "x", and a fullwidth "sin" would be the bound function sin.
# A user's text (an op's name, an input's name) reaches the source only as an identifier made
# from its ASCII letters, digits and underscores, or in a comment through :func:`shown`.

#: Names the generated code uses besides its bindings: its three functions, the helpers
#: CompiledFunction puts in its globals, and the builtins it calls. No input, node or binding
#: is ever given one of these names.
RESERVED = frozenset(("primal", "value_and_grad", "jvp", "FLOAT", "convert_arguments",
                      "rerun_with_numpy", "type", "ArithmeticError", "ValueError"))
_NODE_NAME = re.compile(r"_(bar|dot|vjp)\Z")          # suffixes of generated names
_LOCAL_NAME = re.compile(r"\Av\d+\Z|_(bar|dot|vjp)\Z")  # never used for a global
_PLAIN = re.compile(r"[A-Za-z0-9_.]+\Z")
MAX_NAME = 32    # characters of a user's text kept in an identifier


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
        if not base[:1].isalpha():
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


class CodeNamespace:
    """A math namespace whose functions write code: ``m.cos(x)`` is the Code ``cos(x)``.

    Every function of :data:`dualad.mathns.MATH` is available. Calling one binds its name (to
    the ``MATH`` function for float code, the ``NUMPY`` one for array code) in ``bindings``.

    Examples
    --------
    >>> from dualad.compile import Code, CodeNamespace
    >>> from dualad.primitives import REGISTRY
    >>> m = CodeNamespace()
    >>> print(REGISTRY["sin"].pds[0](m, Code("x"), Code("v1")))      # d/dx sin x = cos x
    cos(x)
    >>> print(REGISTRY["arcsin"].pds[0](m, Code("x"), Code("v1")))
    1 / sqrt(1 - x * x)
    """

    def __init__(self, bindings=None):
        self.bindings = Bindings() if bindings is None else bindings

    def __getattr__(self, name):
        function = MATH.__dict__.get(name)
        if name.startswith("_") or not callable(function):
            raise AttributeError(name)
        target = self.bindings.bind(name, function, getattr(NUMPY, name))

        def emit(*args):
            return Code(f"{target}({', '.join(code_of(a).text for a in args)})")

        return emit


# ---- the generator ----

#: Longest sum written as one expression (deeper nesting strains the bytecode compiler).
MAX_TERMS = 32


def _python_literal(value):
    """The source text of a parameter value, when it is a plain constant; else None."""
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    if isinstance(value, str):
        return ascii(value)
    if isinstance(value, np.integer):
        return repr(int(value))
    if isinstance(value, tuple):
        parts = [_python_literal(v) for v in value]
        if None in parts:
            return None
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return None


def _tuple_text(items):
    items = list(items)
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


class _Writer:
    """Writes the source of the three functions for one graph and its example values."""

    def __init__(self, graph, values, wrt, wrt_is_int, scalar):
        self.graph, self.values, self.scalar = graph, values, scalar
        self.wrt, self.wrt_is_int = wrt, wrt_is_int
        self.names = [None] * len(graph.nodes)   # each node's variable name (or None)
        self.code = [None] * len(graph.nodes)    # each node's value as Code
        self.renamed = []                        # (name in the code, the user's name)
        local = self._local_names()
        self.arg_names = [self.names[p] for p in graph.input_positions]
        self.bindings = Bindings(taken=local)
        self.m = CodeNamespace(self.bindings)
        self._inline_ok, self._rule_ok, self._called = {}, {}, {}
        self._partials = {}
        self._name_nodes()
        self.value_lines = [self._value_line(instr) for instr in graph.program]

    # -- names --

    def _local_names(self):
        """Names for the inputs (their own, where usable, else x0, x1, ...) and for the
        operation nodes (their own names where the user gave some, else v1, v2, ...).

        A user's name is used as far as its ASCII letters and digits go (see
        :func:`_identifier`); one that changes on the way is listed in ``self.renamed``."""
        graph, used = self.graph, set()

        def usable(name):
            return (name[:1].isalpha() and name not in RESERVED and not _NODE_NAME.search(name)
                    and name not in used)

        given = {_identifier(leaf.name) for leaf in graph.inputs if leaf.name is not None}
        for i, (pos, leaf) in enumerate(zip(graph.input_positions, graph.inputs)):
            name = _identifier(leaf.name) if leaf.name is not None else ""
            if not usable(name):
                name = f"x{i}"
                while name in used or name in given:
                    name += "_"
            used.add(name)
            self.names[pos] = name
        for instr in graph.program:
            user_name = graph.nodes[instr.pos].name
            name = _identifier(user_name) if user_name is not None else ""
            if usable(name):
                used.add(name)
                self.names[instr.pos] = name
        count = itertools.count(1)
        for instr in graph.program:
            if self.names[instr.pos] is None:
                name = f"v{next(count)}"
                while name in used:
                    name = f"v{next(count)}"
                self.names[instr.pos] = name
        for pos in list(graph.input_positions) + [instr.pos for instr in graph.program]:
            user_name = graph.nodes[pos].name
            if user_name is not None and user_name != self.names[pos]:
                self.renamed.append((self.names[pos], user_name))
        return used

    def _name_nodes(self):
        for pos in self.graph.input_positions:
            self.code[pos] = Code(self.names[pos], fresh=False)
        for instr in self.graph.program:   # fresh unless its expression says otherwise
            self.code[instr.pos] = Code(self.names[instr.pos])
        constant_count = 0
        for pos, node in enumerate(self.graph.nodes):
            if self.code[pos] is not None:
                continue
            constant_count += 1
            value = self.values[pos]
            try:
                self.code[pos] = literal(value) if type(value) is float else None
            except TypeError:
                pass      # inf or nan: bound as a named constant below
            if self.code[pos] is None:
                name = self.bindings.bind(f"c{constant_count}", value)
                self.names[pos], self.code[pos] = name, Code(name, fresh=False)

    # -- values --

    def _value_line(self, instr):
        pos, prim, args, params = instr
        expr = self._value_code(prim, [self.code[a] for a in args], params)
        if not expr.fresh:
            self.code[pos].fresh = False
        return f"{self.names[pos]} = {expr.text}", shown(prim.name)

    def _value_code(self, prim, inputs, params):
        if prim.elementwise and prim.math is not None and self._inline_ok.get(prim, True):
            # The float implementation run on code: operator.mul writes "a * b".
            try:
                expr = prim.math(*inputs)
            except Exception:    # math.pow, abs, a user's function: called by name instead
                expr = None
            if isinstance(expr, Code):
                return expr
            self._inline_ok[prim] = False
        name = self._called.get(prim)
        if name is None:
            scalar_impl = prim.math if prim.math is not None else prim.evaluate
            name = self._called[prim] = self.bindings.bind(prim.name, scalar_impl, prim.numpy)
        text = ", ".join([c.text for c in inputs] + self._params_text(prim, params))
        return Code(f"{name}({text})", fresh=prim.elementwise)

    def _params_text(self, prim, params):
        out = []
        for key, value in params.items():
            text = _python_literal(value)
            if text is None:
                text = self.bindings.bind(f"{prim.name}_{key}", value)
            plain = isinstance(key, str) and _identifier(key) == key and key[:1].isalpha()
            out.append(f"{key}={text}" if plain else f"**{{{ascii(str(key))}: {text}}}")
        return out

    # -- local partials, each run once per node and shared by both sweeps --

    def partial(self, instr, j):
        key = (instr.pos, j)
        pd = self._partials.get(key)
        if pd is None:
            pd = self._partials[key] = self._partial_code(instr, j)
        return pd

    def _partial_code(self, instr, j):
        pos, prim, args, _ = instr
        rule = prim.pds[j]
        inputs = [self.code[a] for a in args]
        if self._rule_ok.get(rule, True):
            try:
                return code_of(rule(self.m, *inputs, self.code[pos]))
            except Exception:  # the rule needs real values (a user's numpy code): call it
                self._rule_ok[rule] = False
        name = self.bindings.bind(f"{prim.name}_pd{j}", rule)
        m = self.bindings.bind("m", MATH, NUMPY)
        text = ", ".join([m] + [c.text for c in inputs] + [self.code[pos].text])
        return Code(f"{name}({text})")

    def partial_shape(self, instr, j):
        """The shape of a local partial at the example point (array graphs only)."""
        pos, prim, args, _ = instr
        # on numpy values, so that 1 / b at a constant b = 0.0 is inf (its shape is all we need)
        values = [np.float64(self.values[p]) if type(self.values[p]) is float else self.values[p]
                  for p in (*args, pos)]
        with np.errstate(all="ignore"):
            pd = call_in_namespace(prim.pds[j], *values)
        return shape_of(pd)

    def shape(self, pos):
        return shape_of(self.values[pos])

    # -- the three functions --

    def primal(self):
        body = ["# values, one per node"] + [self._commented(*line) for line in self.value_lines]
        return self._function("primal", self.arg_names, body, self._outputs(self.code))

    def value_and_grad(self):
        graph = self.graph
        out_pos = graph.output_positions[0]
        active = graph.activity([graph.input_positions[i] for i in self.wrt])
        terms = [[] for _ in graph.nodes]        # contributions to each adjoint, in order
        users = [[] for _ in graph.nodes]
        bars = [None] * len(graph.nodes)
        body = ["# forward sweep: values, one per node"]
        body += [self._commented(*line) for line in self.value_lines]
        body.append("# reverse sweep: adjoints, each the sum over the node's uses")
        if active[out_pos]:
            terms[out_pos].append(literal(1.0))
        for instr in reversed(graph.program):
            pos, prim, args, params = instr
            if not active[pos] or not terms[pos]:
                continue
            bars[pos] = bar = self._emit_sum(body, pos, terms[pos], users[pos], "_bar")
            wanted = [j for j, a in enumerate(args) if active[a]]
            for j in wanted:
                users[args[j]].append(pos)
            if prim.elementwise:
                for j in wanted:
                    term = self.partial(instr, j) * bar
                    if not self.scalar:
                        shape = np.broadcast_shapes(self.partial_shape(instr, j),
                                                    self.shape(pos))
                        if shape != self.shape(args[j]):
                            name = self.bindings.bind("unbroadcast", unbroadcast)
                            term = Code(f"{name}({term.text}, {self.shape(args[j])!r})")
                    terms[args[j]].append(term)
            else:
                name = f"{self.names[pos]}_vjp"
                rule = self.bindings.bind(f"{prim.name}_vjp", prim.vjp)
                call = ", ".join([self.bindings.bind("NUMPY", NUMPY), bar.text,
                                  _tuple_text(self.code[a].text for a in args),
                                  self.code[pos].text, "0"] + self._params_text(prim, params))
                body.append(self._commented(f"{name} = {rule}({call})",
                                            f"{shown(prim.name)}: its vjp rule"))
                for j in wanted:
                    terms[args[j]].append(Code(f"{name}[{j}]", fresh=False))
        grads = []
        for i in self.wrt:
            pos = graph.input_positions[i]
            if terms[pos]:
                bars[pos] = self._emit_sum(body, pos, terms[pos], users[pos], "_bar")
            grads.append(self._result(bars[pos], pos))
        grad = grads[0] if self.wrt_is_int else _tuple_text(grads)
        return self._function("value_and_grad", self.arg_names, body,
                              f"{self.code[out_pos].text}, {grad}")

    def jvp(self):
        graph = self.graph
        active = graph.activity()
        tangents = [None] * len(graph.nodes)
        dots = [f"{name}_dot" for name in self.arg_names]
        for pos, name in zip(graph.input_positions, dots):
            tangents[pos] = Code(name, fresh=False)
        body = ["# one forward sweep: each value, then its tangent"]
        for instr, line in zip(graph.program, self.value_lines):
            body.append(self._commented(*line))
            pos, prim, args, params = instr
            if not active[pos]:
                continue
            name = f"{self.names[pos]}_dot"
            if prim.elementwise:
                wanted = [j for j, a in enumerate(args) if tangents[a] is not None]
                expr = functools.reduce(
                    _add, [self.partial(instr, j) * tangents[args[j]] for j in wanted])
                if not self.scalar:
                    shape = np.broadcast_shapes(*(np.broadcast_shapes(
                        self.partial_shape(instr, j), self.shape(args[j])) for j in wanted))
                    if shape != self.shape(pos):
                        call = self.bindings.bind("broadcast_to", np.broadcast_to)
                        expr = Code(f"{call}({expr.text}, {self.shape(pos)!r})", fresh=False)
                comment = f"{shown(prim.name)}: sum of partial * tangent"
            else:
                rule = self.bindings.bind(f"{prim.name}_jvp", prim.jvp)
                call = ", ".join([self.bindings.bind("NUMPY", NUMPY),
                                  _tuple_text("None" if tangents[a] is None else tangents[a].text
                                              for a in args),
                                  _tuple_text(self.code[a].text for a in args),
                                  self.code[pos].text, "0"] + self._params_text(prim, params))
                expr = Code(f"{rule}({call})", fresh=False)
                comment = f"{shown(prim.name)}: its jvp rule"
            body.append(self._commented(f"{name} = {expr.text}", comment))
            tangents[pos] = Code(name, fresh=expr.fresh)
        outs = [self._result(tangents[p], p) for p in graph.output_positions]
        tangent_out = outs[0] if graph.single_output else _tuple_text(outs)
        return self._function("jvp", self.arg_names + dots, body,
                              f"{self._outputs(self.code)}, {tangent_out}")

    # -- pieces --

    def _emit_sum(self, body, pos, terms, users, suffix):
        """Write ``name = t1 + t2 + ...`` (in chunks) and return the name as Code."""
        name = f"{self.names[pos]}{suffix}"
        comment = self._uses_comment(pos, users)
        first = functools.reduce(_add, terms[:MAX_TERMS])
        body.append(self._commented(f"{name} = {first.text}", comment))
        fresh = first.fresh
        for start in range(MAX_TERMS, len(terms), MAX_TERMS):
            more = functools.reduce(_add, [Code(name)] + terms[start:start + MAX_TERMS])
            body.append(f"{name} = {more.text}")
            fresh = True
        return Code(name, fresh=fresh)

    def _uses_comment(self, pos, users):
        if not users:
            return "the seed: d(output)/d(output) = 1"
        uses = [f"{self.names[u]} ({shown(self.graph.nodes[u].op.name)})" for u in users[:4]]
        more = f", ... ({len(users)} uses)" if len(users) > 4 else ""
        return f"{self.names[pos]} feeds " + ", ".join(uses) + more

    def _result(self, code, pos):
        """The text returning a derivative: zeros where there is none, a copy where the array
        might be shared (an input, a broadcast view), as the interpreted results are."""
        if code is None:
            if self.scalar:
                return "0.0"
            return f"{self.bindings.bind('zeros', np.zeros)}({self.shape(pos)!r})"
        if self.scalar or code.fresh or self.shape(pos) == ():
            return code.text
        return f"{self.bindings.bind('copy', np.array)}({code.text})"

    def _outputs(self, code):
        outs = [code[p].text for p in self.graph.output_positions]
        return outs[0] if self.graph.single_output else _tuple_text(outs)

    @staticmethod
    def _commented(text, comment):
        if not (comment.isascii() and comment.isprintable()):
            comment = ascii(comment)     # never a line break: see shown()
        return f"{text:<36}  # {comment}"

    def _function(self, name, params, body, returns):
        signature = ", ".join(params)
        lines = [f"def {name}({signature}):"]
        lines += [f"    # {code_name} stands for {shown(user_name)}"
                  for code_name, user_name in self.renamed]
        if self.scalar and params:
            checks = [f"type({p}) is not FLOAT" for p in params]
            rows = [" or ".join(checks[i:i + 3]) for i in range(0, len(checks), 3)]
            check = rows[0] if len(rows) == 1 else "(" + "\n            or ".join(rows) + ")"
            lines += [f"    if {check}:",
                      f"        return convert_arguments({name!r}, {signature})"]
        lines += ["    try:"] + [f"        {line}" for line in body]
        if len(body) == 1 or all(line.startswith("#") for line in body):
            lines.append("        pass")
        lines += ["    except (ArithmeticError, ValueError):  # a domain edge such as log(-1.0)",
                  f"        return rerun_with_numpy({name!r}{', ' if params else ''}"
                  f"{signature})",
                  f"    return {returns}"]
        return "\n".join(lines) + "\n"


# ---- running the generated code ----

_FILE_COUNTER = itertools.count(1)


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


class _Runtime:
    """The helpers generated code calls: argument conversion and the numpy rerun."""

    def __init__(self, arg_names, scalar):
        self.arg_names = arg_names   # function name -> its parameter names
        self.scalar = scalar
        self.fast = self.fallback = None     # the two namespaces the code is run in

    def convert_arguments(self, name, *args):
        values = [as_value(a) for a in args]
        for arg, value in zip(self.arg_names[name], values):
            if type(value) is not float:
                raise ShapeMismatchError(
                    f"compiled {name}: compiled for float arguments, got "
                    f"{type(value).__name__} of shape {shape_of(value)} for {arg!r}; "
                    "compile again with example arguments of that kind")
        return self.fast[name](*values)

    def rerun_with_numpy(self, name, *args):
        values = [np.float64(a) if type(a) is float else a for a in args]
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

    def __init__(self, graph, argnums, writer):
        self.graph = graph
        self.argnums = argnums
        self.scalar = writer.scalar
        self._input_shapes = [shape_of(writer.values[p]) for p in graph.input_positions]
        self._arg_names = names = writer.arg_names
        out = graph.output_positions
        self._grad_problem = None
        if not names:
            self._grad_problem = "value_and_grad: the function has no arguments"
        elif len(out) != 1:
            self._grad_problem = (f"value_and_grad: the function has {len(out)} outputs; "
                                  "differentiate one scalar output")
        elif shape_of(writer.values[out[0]]) != ():
            self._grad_problem = (f"value_and_grad: the output is not a scalar (shape "
                                  f"{shape_of(writer.values[out[0]])}); differentiate a "
                                  "scalar, e.g. its sum")
        self._sources = {"primal": writer.primal(), "jvp": writer.jvp()}
        if self._grad_problem is None:
            self._sources["value_and_grad"] = writer.value_and_grad()
        self.source = "\n\n".join(self._sources[name] for name in
                                   ("primal", "value_and_grad", "jvp") if name in self._sources)
        self._runtime = runtime = _Runtime({"primal": names, "value_and_grad": names,
                                            "jvp": names + [f"{n}_dot" for n in names]},
                                           self.scalar)
        common = {"__name__": "dualad.compiled", "__builtins__": builtins,
                  "convert_arguments": runtime.convert_arguments}
        runtime.fast = dict(common, FLOAT=float, rerun_with_numpy=runtime.rerun_with_numpy)
        runtime.fast.update(writer.bindings.scalar if self.scalar else writer.bindings.numpy)
        runtime.fallback = dict(common, FLOAT=np.float64, rerun_with_numpy=_reraise)
        runtime.fallback.update(writer.bindings.numpy)
        # value_and_grad is compiled now; primal and jvp on first use (Python's compiler is
        # most of the cost on a large graph: about 7 us per generated line).
        self._primal = self._jvp = self._value_and_grad = None
        self._filenames = []
        weakref.finalize(self, _forget_sources, self._filenames)
        if self._grad_problem is None:
            self._value_and_grad = self._load("value_and_grad")
        else:
            self._value_and_grad = self._refuse_gradient

    def _refuse_gradient(self, *args):
        raise ShapeMismatchError(self._grad_problem)

    def _load(self, name):
        """Compile one generated function and run its definition in both namespaces."""
        source = self._sources[name]
        filename = f"<dualad.compile-{next(_FILE_COUNTER)}:{name}>"
        # Registered so tracebacks and inspect show the generated lines (until this object
        # is collected: see _forget_sources).
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        self._filenames.append(filename)
        with _collector_paused():
            code = builtins.compile(source, filename, "exec")
        exec(code, self._runtime.fast)      # our own generated text, never user input
        exec(code, self._runtime.fallback)
        return self._runtime.fast[name]

    def __repr__(self):
        kind = "floats" if self.scalar else "arrays"
        return (f"<CompiledFunction of {len(self.graph)} nodes on {kind}, "
                f"argnums={self.argnums}>")

    def _count_error(self, what, got):
        """The error for a call with ``got`` arguments instead of one per input."""
        names = ", ".join(self._arg_names) or "none"
        return DualadError(f"compiled {what}: expected {len(self._arg_names)} argument(s) "
                           f"({names}), got {got}; pass one value for each")

    def _check(self, args, shapes, what):
        if len(args) != len(shapes):
            raise self._count_error(what, len(args))
        values = [as_value(a) for a in args]
        if not self.scalar:
            for i, (value, shape) in enumerate(zip(values, shapes)):
                if shape_of(value) != shape:
                    raise ShapeMismatchError(
                        f"compiled {what}: argument {i} has shape {shape_of(value)}, but the "
                        f"function was compiled for shape {shape}; compile again for it")
        return values

    def _outputs(self, result):
        return result if self.scalar else _floats_of(result)

    def __call__(self, *args):
        """The function's value (a tuple for several outputs).

        Examples
        --------
        >>> import dualad as ad
        >>> ad.compile(lambda x: 2 * x, 1.0)(3.0)
        6.0
        """
        if self.scalar:
            if len(args) != len(self._arg_names):
                raise self._count_error("function", len(args))
            return (self._primal or self._load_primal())(*args)
        values = self._check(args, self._input_shapes, "function")
        return self._outputs((self._primal or self._load_primal())(*values))

    def _load_primal(self):
        self._primal = self._load("primal")
        return self._primal

    def _load_jvp(self):
        self._jvp = self._load("jvp")
        return self._jvp

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
        if self.scalar and len(args) == len(self._arg_names):
            return self._value_and_grad(*args)    # the fast path: straight to generated code
        values = self._check(args, self._input_shapes, "value_and_grad")
        return self._outputs(self._value_and_grad(*values))

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
        if self.scalar:
            self._check(primals, self._input_shapes, "jvp")
            return (self._jvp or self._load_jvp())(*primals, *tangents)
        values = self._check(primals + tangents, self._input_shapes * 2, "jvp")
        return self._outputs((self._jvp or self._load_jvp())(*values))


def _argnums_tuple(argnums, count):
    as_tuple = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    out = []
    for a in as_tuple:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -count <= a < count:
            raise DualadError(f"compile: argnums {argnums!r} does not name arguments of a "
                              f"function of {count} argument(s)")
        out.append(int(a) % count)
    if len(set(out)) != len(out):
        raise DualadError(f"compile: argnums {argnums!r} names an argument twice")
    return tuple(out)


def compile(f, *example_args, argnums=0):
    """Generate straight-line Python for ``f``'s value, gradient and tangent; compile once.

    The code comes from the registry's rules, run on a code-emitting math namespace (see the
    module docstring), so it computes what the interpreted evaluators compute, without their
    per-node overhead. Graphs of floats use the ``math`` module; anything else uses numpy and
    is specialised to the example arguments' shapes.

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
            # values, one per node
            v1 = 2.0 * x                          # multiply
            v2 = exp(v1)                          # exp
        except (ArithmeticError, ValueError):  # a domain edge such as log(-1.0)
            return rerun_with_numpy('primal', x)
        return v2
    """
    if isinstance(f, (Graph, Var)):
        graph = f if isinstance(f, Graph) else Graph(f)
        if not example_args:
            example_args = [leaf.value for leaf in graph.inputs]
            if any(v is None for v in example_args):
                raise DualadError("compile: the graph's inputs have no values; pass "
                                  "example arguments")
    elif callable(f):
        graph = trace(f, *example_args)
    else:
        raise DualadError(f"compile: expected a function, Graph or Var, got "
                          f"{type(f).__name__}")
    if len(example_args) != len(graph.inputs):
        raise DualadError(f"compile: the graph has {len(graph.inputs)} input(s), got "
                          f"{len(example_args)} example argument(s)")
    args = [as_value(a) for a in example_args]
    for a in args:
        if is_symbolic(a) or hasattr(a, "primal"):
            raise DualadError(f"compile: example arguments must be numbers or numeric arrays, "
                              f"got {type(a).__name__}")
    wrt = _argnums_tuple(argnums, len(args)) if args else ()
    values = ValueEvaluator(graph).run(args)
    scalar = (all(type(v) is float for v in values)
              and all(instr.prim.elementwise for instr in graph.program))
    # Generating and compiling makes many small objects: without pausing the cyclic collector
    # it would rescan the (large, acyclic) graph many times over.
    with _collector_paused():
        writer = _Writer(graph, values, wrt, not isinstance(argnums, (tuple, list)), scalar)
        return CompiledFunction(graph, argnums, writer)
