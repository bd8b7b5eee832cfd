"""Verification, with sympy as the referee: the sympy bridge, ``verify`` and the registry proof.

This module owns :func:`to_sympy` and :func:`from_sympy` (graphs to and from sympy
expressions), :func:`verify` with its :class:`VerificationReport`, and :func:`prove_registry`.
It owns no derivative rule and runs no derivative algorithm of its own: the algorithms are the
evaluators, run on floats and, through :class:`~dualad.evaluators.SympyEvaluator`'s values, on
sympy expressions and 30-digit numbers. The referee shares nothing with them except each op's
``sympy`` form: its derivatives come from ``sympy.diff``.

How ``verify`` checks a gradient (see ``docs/verify.md``):

1. at the given point, in floating point: forward mode and reverse mode against sympy's
   derivative (evaluated with 30 digits) and against a derivative-free oracle (complex step
   where every op is complex-analytic, else Richardson-extrapolated central differences);
2. symbolically, for all inputs: the expression each algorithm computes (the evaluators run on
   sympy symbols) minus ``sympy.diff`` of the primal expression must simplify to 0; this runs
   in a worker process under a time limit (:mod:`dualad.timelimit`);
3. as evidence where no proof came: both derivatives in 30-digit arithmetic at the given point
   and at random points nearby, the reference computed through the graph's shared structure
   (the chain rule over each op's ``sympy.diff``), so a graph of thousands of nodes costs
   thousands of small steps instead of one exponentially large expression.

Examples
--------
>>> import dualad as ad
>>> report = ad.verify(lambda x, w: ad.sin(x * w) + ad.exp(x) / w, 1.0, 4.0)
>>> report.ok, report.proved
(True, True)
"""

import functools
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import expm1 as sympy_expm1, log1p as sympy_log1p

from .errors import DualadError, ExpressionError, GradientMismatchError
from .evaluators import SympyEvaluator, ValueEvaluator
from .evaluators.cost import forward_sweeps, reverse_sweeps
from .evaluators.symbolic import (exact, input_symbols, symbol_names, sympy_free_ops,
                                  with_constants)
from .graph import Graph, Var, apply_primitive, as_node, as_value, trace
from .mathns import SYMPY, diff_almost_everywhere
from .primitives import BOOLEAN, POSITIVE, REGISTRY
from .shapes import shape_of, unit
from .timelimit import Worker, collect

#: Digits of the arithmetic the referee evaluates derivatives in.
DIGITS = 30
#: Two 30-digit derivatives "agree" when they differ by less than this, relative to their size.
AGREEMENT = 1e-15
# ---- the bridge: graphs to sympy and back ----

def to_sympy(var_or_graph, **assumptions):
    """The sympy expression of a ``Var``, or the expressions of a ``Graph``'s outputs.

    Symbols are named after the leaves (unnamed inputs become ``x0``, ``x1``, ...; array inputs
    give object arrays of symbols ``x[0]``, ...). Constants become sympy numbers of the same
    value (``2.0`` -> ``2``, ``math.pi`` -> ``pi``, ``0.1`` -> ``0.1``); each op contributes
    its registry ``sympy`` form.

    Parameters
    ----------
    var_or_graph : Var or Graph
    **assumptions
        sympy assumptions for every symbol (``positive=True``); none by default.

    Returns
    -------
    sympy expression, or a tuple of them for a graph with several outputs (an object array
    of expressions for an array-valued output).

    Raises
    ------
    DualadError
        If the graph uses an op with no sympy form (a seed-style user op).

    Examples
    --------
    >>> import dualad as ad
    >>> x, w = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
    >>> ad.to_sympy(ad.sin(x * w) + ad.exp(x) / w)
    sin(w*x) + exp(x)/w
    >>> ad.to_sympy(ad.parse("x*y, x**2.5 / 2"))
    (x*y, x**2.5/2)
    """
    if isinstance(var_or_graph, Var):
        graph = Graph(var_or_graph)
    elif isinstance(var_or_graph, Graph):
        graph = var_or_graph
    else:
        raise DualadError(f"to_sympy: expected a Var or a Graph, got "
                          f"{type(var_or_graph).__name__}")
    symbols = input_symbols(graph, assumptions=[assumptions] * len(graph.inputs))
    values = SympyEvaluator(graph).run(symbols)
    outputs = tuple(values[p] for p in graph.output_positions)
    return outputs[0] if graph.single_output else outputs


#: sympy function classes with one argument, and the registry op each one becomes.
SYMPY_FUNCTIONS = {
    sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tan: "tan",
    sp.sinh: "sinh", sp.cosh: "cosh", sp.tanh: "tanh", sp.asin: "arcsin", sp.acos: "arccos",
    sp.atan: "arctan", sp.Abs: "abs", sympy_log1p: "log1p", sympy_expm1: "expm1",
}
_SUPPORTED = ("Add, Mul, Pow, Max, Min, numbers, symbols, "
              + ", ".join(sorted(f.__name__ for f in SYMPY_FUNCTIONS)))


def _negative_coefficient(term):
    return term.as_coeff_Mul()[0].is_negative


def _parts(expr):
    """How one sympy node becomes dualad ops: ``(kind, sympy children, detail)``.

    Only this node is looked at; its children are built separately (and shared).
    """
    if isinstance(expr, sp.Symbol):
        return "input", (), None
    if expr.is_Atom and expr.is_number:           # 2, 1/3, 0.5, pi, E; also I, oo, nan
        if not expr.is_finite or not expr.is_real:
            raise ExpressionError(f"from_sympy: the number {expr} is not a finite real number")
        if expr.is_Rational and expr.q != 1:
            return "ratio", (), None      # p/q as a division, so it reads back exactly
        return "constant", (), None
    if isinstance(expr, sp.Add):
        # in printed order (so errors name the first function a reader sees), a positive
        # term leading
        terms = sorted(expr.as_ordered_terms(), key=_negative_coefficient)
        signs = [_negative_coefficient(t) for t in terms]
        return "add", tuple(-t if s else t for t, s in zip(terms, signs)), signs
    if isinstance(expr, sp.Mul):
        # x*y/(2*z): numerator factors, then denominators (negative powers as divisions)
        coefficient, rest = expr.as_coeff_Mul()
        factors = rest.as_ordered_factors()
        numerator = [f for f in factors if not _is_reciprocal(f)]
        denominator = [f.base ** -f.exp for f in factors if _is_reciprocal(f)]
        return "multiply", tuple(numerator + denominator), (coefficient, len(numerator))
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        if exponent == sp.S.Half:
            return "sqrt", (base,), None
        if exponent == 2:
            return "square", (base,), None
        if _is_reciprocal(expr):
            return "reciprocal", (base ** -exponent,), None
        return "power", (base, exponent), None
    if isinstance(expr, (sp.Max, sp.Min)):
        return ("maximum" if isinstance(expr, sp.Max) else "minimum"), expr.args, None
    name = SYMPY_FUNCTIONS.get(expr.func)
    if name is not None and len(expr.args) == 1:
        return name, expr.args, None
    what = getattr(expr.func, "__name__", type(expr).__name__)
    shown = str(expr)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise ExpressionError(f"from_sympy: {what} has no dualad primitive (in {shown}); "
                          f"supported: {_SUPPORTED}")


def _is_reciprocal(expr):
    return expr.is_Pow and expr.exp.is_Number and expr.exp.is_negative


def _constant(value):
    try:
        return as_node(float(value))
    except (OverflowError, TypeError):
        raise ExpressionError(f"from_sympy: the number {value} does not fit in a float") from None


def _fold(name, nodes):
    result = nodes[0]
    for node in nodes[1:]:
        result = apply_primitive(REGISTRY[name], result, node)
    return result


def _build(kind, expr, children, detail, leaves):
    """The dualad node for one sympy node whose children are already built."""
    if kind == "input":
        name = expr.name
        if name in leaves and leaves[name][0] != expr:
            raise ExpressionError(f"from_sympy: two different symbols are both named {name!r}")
        leaves.setdefault(name, (expr, Var(name=name)))
        return leaves[name][1]
    if kind == "constant":
        return _constant(expr)
    if kind == "ratio":
        return apply_primitive(REGISTRY["divide"], _constant(expr.p), _constant(expr.q))
    if kind == "add":
        result = children[0] if not detail[0] else apply_primitive(REGISTRY["negative"],
                                                                   children[0])
        for node, negative in zip(children[1:], detail[1:]):
            result = apply_primitive(REGISTRY["subtract" if negative else "add"], result, node)
        return result
    if kind == "multiply":
        coefficient, n_numerator = detail
        numerator, denominator = list(children[:n_numerator]), list(children[n_numerator:])
        p, q = (coefficient.p, coefficient.q) if coefficient.is_Rational else (coefficient, 1)
        if abs(p) != 1:
            numerator.insert(0, _constant(p))
        if q != 1:
            denominator.insert(0, _constant(q))
        result = _fold("multiply", numerator) if numerator else as_node(1.0)
        if denominator:
            result = apply_primitive(REGISTRY["divide"], result, _fold("multiply", denominator))
        return apply_primitive(REGISTRY["negative"], result) if p == -1 else result
    if kind == "reciprocal":
        return apply_primitive(REGISTRY["divide"], as_node(1.0), children[0])
    if kind in ("maximum", "minimum"):
        return _fold(kind, children)
    return apply_primitive(REGISTRY[kind], *children)


def from_sympy(expr):
    """Build a :class:`~dualad.graph.Graph` from a sympy expression (or a sequence of them).

    ``Add`` and ``Mul`` of any length become chains of ``add``/``subtract`` and
    ``multiply``/``divide``; ``x**(1/2)`` becomes ``sqrt``, ``x**2`` ``square``, other powers
    ``power``; ``exp, log, sin, cos, tan, sinh, cosh, tanh, asin, acos, atan, Abs, Max, Min``
    (and sympy's ``log1p``, ``expm1`` from ``sympy.codegen.cfunctions``) their registry ops;
    numbers (also ``pi``, ``E``) constants. A subexpression used twice becomes one shared node.
    The inputs are the free symbols, in alphabetical order of their names (as in ``parse``).

    Raises
    ------
    ExpressionError
        Naming the first function (in reading order) that has no dualad primitive, or for
        anything that is not a sympy expression (text is refused: use :func:`dualad.parse`).

    Examples
    --------
    >>> import sympy as sp, dualad as ad
    >>> x, w = sp.symbols("x w")
    >>> g = ad.from_sympy(sp.sin(x * w) + sp.exp(x) / w)
    >>> [leaf.name for leaf in g.inputs], round(g(4.0, 1.0), 6)
    (['w', 'x'], -0.077232)
    >>> ad.from_sympy(sp.gamma(x) + 1)
    Traceback (most recent call last):
      ...
    dualad.errors.ExpressionError: from_sympy: gamma has no dualad primitive (in gamma(x)); ...
    """
    several = isinstance(expr, (list, tuple))
    exprs = list(expr) if several else [expr]
    for e in exprs:
        if not isinstance(e, sp.Expr):
            hint = "; to read text use dualad.parse" if isinstance(e, str) else ""
            raise ExpressionError(f"from_sympy: expected a sympy expression, got "
                                  f"{type(e).__name__}{hint}")
    built, parts, leaves = {}, {}, {}
    # post-order over the expression DAG with an explicit stack; shared subexpressions once
    stack = [(e, False) for e in reversed(exprs)]
    while stack:
        node, expanded = stack.pop()
        if node in built:
            continue
        if not expanded:
            if node not in parts:
                parts[node] = _parts(node)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(parts[node][1]) if c not in built)
            continue
        kind, children, detail = parts[node]
        built[node] = _build(kind, node, [built[c] for c in children], detail, leaves)
    inputs = [leaves[name][1] for name in sorted(leaves)]
    outputs = [built[e] for e in exprs]
    return Graph(outputs if several else outputs[0], inputs=inputs)


# ---- one Jacobian entry per (output element, input element) ----

def _element(value, index):
    return value if index == () else np.asarray(value)[index]


def _elements(graph, shapes, positions):
    return [(k, index) for k, pos in enumerate(positions) for index in np.ndindex(shapes[pos])]


def _jacobians(graph, point, values, one, zero):
    """The Jacobian as forward mode computes it (one sweep per input element) and as reverse
    mode computes it (one sweep per output element), rows over output elements, columns over
    input elements. Runs on floats or on sympy values, whichever ``point`` and ``values`` hold.
    """
    return (forward_sweeps(graph, point, one, zero),
            reverse_sweeps(graph, point, one, zero, values=values))


# ---- the derivative-free oracle, in floating point ----

def _flat_outputs(graph, point):
    values = ValueEvaluator(graph).run(point)
    return np.concatenate([np.ravel(np.asarray(values[p])) for p in graph.output_positions])


def _perturbed(point, i, index, delta):
    moved = list(point)
    if index == ():
        moved[i] = point[i] + delta
    else:
        moved[i] = np.array(point[i], dtype=np.result_type(point[i], delta))
        moved[i][index] = moved[i][index] + delta
    return moved


def is_analytic(graph):
    """True when every op of ``graph`` is a registry op that is complex-analytic (so the
    complex step applies): no ``abs``, ``maximum``, ``minimum`` and no user ops.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.verify import is_analytic
    >>> is_analytic(ad.parse("sin(x) * y")), is_analytic(ad.parse("abs(x)"))
    (True, False)
    """
    return all(REGISTRY.get(ins.prim.name) is ins.prim and ins.prim.analytic is not False
               for ins in graph.program)


def _complex_step(graph, point, i, index, h=1e-20):
    # f(x + ih) = f(x) + ih f'(x) + O(h^2): the imaginary part has no cancellation at all
    return _flat_outputs(graph, _perturbed(point, i, index, 1j * h)).imag / h


def _central_difference(graph, point, i, index, step=1e-3):
    def slope(h):
        up = _flat_outputs(graph, _perturbed(point, i, index, h))
        down = _flat_outputs(graph, _perturbed(point, i, index, -h))
        return (up - down) / (2 * h)

    x = float(_element(point[i], index))
    h = step * abs(x) if x != 0 else step
    for _ in range(6):   # shrink the step when it leaves the domain
        # Richardson: the h^2 error terms of the two central differences cancel
        estimate = (4 * slope(h / 2) - slope(h)) / 3
        if np.all(np.isfinite(estimate)):
            break
        h /= 10
    return estimate


def _oracle(graph, point, n_rows):
    """The Jacobian by complex step (if the graph allows it) or central differences."""
    analytic = is_analytic(graph)
    step = _complex_step if analytic else _central_difference
    shapes = [shape_of(v) for v in point]
    columns = [(i, index) for i, shape in enumerate(shapes) for index in np.ndindex(shape)]
    jacobian = np.zeros((n_rows, len(columns)))
    with np.errstate(all="ignore"):
        for b, (i, index) in enumerate(columns):
            jacobian[:, b] = step(graph, point, i, index)
    return ("complex step" if analytic else "central differences"), jacobian


# ---- the referee in 30-digit arithmetic ----

_EPSILON = sp.Symbol("epsilon", real=True)


def _float30(value):
    if isinstance(value, np.ndarray):
        out = np.empty(value.shape, dtype=object)
        for index in np.ndindex(value.shape):
            out[index] = sp.Float(float(value[index]), DIGITS)
        return out
    return sp.Float(float(value), DIGITS)


def _rounded(value):
    if isinstance(value, np.ndarray):
        return np.vectorize(_rounded, otypes=[object])(value) if value.size else value
    return value if isinstance(value, sp.Float) else value.evalf(DIGITS)


def _rounding(prim):
    """``prim`` with its sympy form rounded to 30 digits after each use; rules unchanged.

    Without it a 30-digit sweep can leave floats: sympy computes v - v as exactly 0 even for
    a Float v, then cos(0) as exactly 1, leaves tanh(1) unevaluated, and the expressions grow
    from there.
    """
    spec = prim.sympy
    return replace(prim, sympy=lambda *args, **params: _rounded(spec(*args, **params)))


def _at_zero(value):
    """d/d(epsilon) at epsilon = 0, elementwise: sympy's derivative of a perturbed spec."""
    at = lambda e: sp.diff(e, _EPSILON).subs(_EPSILON, 0)  # noqa: E731
    if isinstance(value, np.ndarray):
        return np.vectorize(at, otypes=[object])(value) if value.size else value
    return at(value)


def _directional(prim, inputs, directions, params):
    """sympy.diff of ``prim``'s sympy form along ``directions`` (input index -> tangent)."""
    moved = [v + _EPSILON * directions[j] if j in directions else v
             for j, v in enumerate(inputs)]
    return _at_zero(prim.evaluate_symbolic(*moved, **params))


@functools.lru_cache(maxsize=None)
def sympy_partials(prim):
    """``sympy.diff`` of an elementwise op's sympy form by each argument, on real symbols:
    ``(symbols, partials)``, computed once per op.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> from dualad.verify import sympy_partials
    >>> sympy_partials(REGISTRY["divide"])
    ((s0, s1), (1/s1, -s0/s1**2))
    """
    symbols = tuple(sp.Symbol(f"s{j}", real=True) for j in range(prim.nin))
    spec = prim.sympy(*symbols)
    return symbols, tuple(sp.diff(spec, s) for s in symbols)


def _partial_at(prim, j, inputs):
    """The ``j``-th sympy partial of ``prim`` at these input values (elementwise)."""
    symbols, partials = sympy_partials(prim)
    at = lambda *args: partials[j].xreplace(dict(zip(symbols, args)))  # noqa: E731
    if any(isinstance(v, np.ndarray) for v in inputs):
        return np.vectorize(at, otypes=[object])(*inputs)
    return at(*inputs)


def reference_jacobian(graph, values):
    """``sympy.diff`` of the graph's outputs at the point where ``values`` were computed.

    The derivative is taken through the graph's shared structure: each op's sympy form is
    differentiated by ``sympy.diff`` (:func:`sympy_partials` for an elementwise op, evaluated at
    its input values; a directional derivative for a structural op) and the chain rule
    combines them, one
    column per input element. Nothing of the registry's derivative rules or of the evaluators
    is used. ``values`` are every node's values from :class:`SympyEvaluator` (30-digit numbers,
    say).

    Examples
    --------
    >>> import sympy as sp, dualad as ad
    >>> from dualad.evaluators import SympyEvaluator
    >>> from dualad.verify import reference_jacobian
    >>> g = ad.parse("x * sin(y)")
    >>> values = SympyEvaluator(g).run([sp.Float(2, 30), sp.Float(0, 30)])
    >>> reference_jacobian(g, values).tolist()          # [sin y, x cos y] at x = 2, y = 0
    [[0, 2.00000000000000000000000000000]]
    """
    shapes = [shape_of(v) for v in values]
    columns = _elements(graph, shapes, graph.input_positions)
    rows = _elements(graph, shapes, graph.output_positions)
    n = len(columns)
    tangents = [None] * len(graph.nodes)
    for b, (i, index) in enumerate(columns):
        pos = graph.input_positions[i]
        tangents[pos] = tangents[pos] or [None] * n
        tangents[pos][b] = unit(shapes[pos], index, sp.S.One, sp.S.Zero)
    for pos, prim, args, params in graph.program:
        incoming = [tangents[a] for a in args]
        if all(t is None for t in incoming):
            continue
        inputs = [values[a] for a in args]
        outgoing = [None] * n
        if prim.elementwise:
            partials = {j: _partial_at(prim, j, inputs)
                        for j, t in enumerate(incoming) if t is not None}
            for d in range(n):
                terms = [partials[j] * incoming[j][d] for j in partials
                         if incoming[j][d] is not None]
                outgoing[d] = sum(terms[1:], terms[0]) if terms else None
        else:
            for d in range(n):
                directions = {j: t[d] for j, t in enumerate(incoming)
                              if t is not None and t[d] is not None}
                if directions:
                    outgoing[d] = _directional(prim, inputs, directions, params)
        tangents[pos] = outgoing
    jacobian = np.full((len(rows), n), sp.S.Zero, dtype=object)
    for a, (k, out_index) in enumerate(rows):
        column_tangents = tangents[graph.output_positions[k]]
        for b in range(n):
            if column_tangents is not None and column_tangents[b] is not None:
                jacobian[a, b] = _element(column_tangents[b], out_index)
    return jacobian


def reference_jacobian_at(graph, point):
    """:func:`reference_jacobian` at a numeric point, in 30-digit arithmetic, as floats.

    Rows are outputs and columns inputs, each flattened in order; ``nan`` where sympy's
    derivative is undefined (a pole, a complex value).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.verify import reference_jacobian_at
    >>> reference_jacobian_at(ad.parse("x * sin(y)"), [2.0, 0.0]).tolist()
    [[0.0, 2.0]]
    """
    digits30 = with_constants(graph, _float30, _rounding)
    values = SympyEvaluator(digits30).run([_float30(v) for v in point])
    reference = reference_jacobian(digits30, values)
    return np.array([[_as_float(r) for r in row] for row in reference], dtype=float)


def _is_real_number(value):
    if isinstance(value, np.ndarray):
        return all(_is_real_number(v) for v in value.flat)
    return bool(value.is_Number and value.is_finite)


def _random_point(point, positive, rng, spread):
    """A point near ``point``: positive inputs stay positive (moved by a factor)."""
    moved = []
    for i, value in enumerate(point):
        size = shape_of(value)
        if i in positive:
            moved.append(value * np.exp(rng.uniform(-spread, spread, size)))
        else:
            scale = np.maximum(np.abs(value), 1.0)
            moved.append(value + scale * rng.uniform(-spread, spread, size))
        if size == ():
            moved[-1] = float(moved[-1])
    return moved


def _as_float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _numbers_work(graph, point, positive, points, seed):
    """The worker comparing each algorithm with the reference in 30 digits, point by point.

    Yields ``(point, reference, forward_errors, reverse_errors, scales)`` per point: the
    first is the given point, then ``points`` random points where every value is real.
    """
    def work():
        digits30 = with_constants(graph, _float30, _rounding)
        rng = np.random.default_rng(seed)
        checked, tries = 0, 0
        candidate = point
        while checked <= points and tries < 20 * (points + 1):
            tries += 1
            at = [_float30(v) for v in candidate]
            values = SympyEvaluator(digits30).run(at)
            if checked == 0 or _is_real_number_all(values):
                reference = reference_jacobian(digits30, values)
                forward, reverse = _jacobians(digits30, at, values, sp.S.One, sp.S.Zero)
                scales = [max(1.0, abs(_as_float(r))) for r in reference.flat]
                errors = [[_as_float(sp.Abs(a - r)) for a, r in zip(m.flat, reference.flat)]
                          for m in (forward, reverse)]
                yield ([np.asarray(v).tolist() for v in candidate],
                       [_as_float(r) for r in reference.flat], errors[0], errors[1], scales)
                checked += 1
            spread = 0.5 if tries < 10 * (points + 1) else 0.1
            candidate = _random_point(point, positive, rng, spread)
    return work


def _is_real_number_all(values):
    return all(v is None or _is_real_number(v) for v in values)


# ---- the proof, for all inputs ----

def _short(expr, limit=200):
    text = str(expr)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _split_powers(expr):
    # a**(b + c) -> a**b * a**c: true for every nonzero base a (exponents add under exp and
    # log), which sympy only applies by itself when it knows a != 0. It lets b*a**(b - 1) (the
    # registry's power rule) meet a**b*b/a (sympy.diff's).
    return expr.expand(power_exp=True, force=True, mul=False, multinomial=False, log=False,
                       power_base=False, basic=False)


def prove_equal(expr, reference, thorough=True):
    """Try to show ``expr - reference`` is 0, cheap steps first.

    The steps: as built; after ``expand`` (with ``a**(b+c)`` written ``a**b*a**c``); after
    ``cancel`` (as rational functions of the remaining functions); and, if ``thorough``, after
    ``simplify`` of the difference as built. Each is an identity wherever both expressions are
    defined (nonzero denominators and bases). Returns ``(verdict, how)``: verdict
    ``"proved"``, ``"disproved"`` (the difference is a nonzero number) or ``"unproved"``
    (sympy left an expression).

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.verify import prove_equal
    >>> a, b = sp.symbols("a b", real=True)
    >>> prove_equal(b * a**(b - 1), sp.diff(a**b, a))
    ('proved', 'the difference is 0 after expand')
    >>> prove_equal(1 + sp.tan(a)**2, 1 / sp.cos(a)**2)
    ('proved', 'the difference is 0 after simplify')
    >>> prove_equal(sp.sin(a), sp.cos(a))[0]
    'unproved'
    """
    difference = expr - reference
    if difference == 0:
        return "proved", "identical once sympy has put both in canonical form"
    left = sp.expand(_split_powers(difference))
    if left == 0:
        return "proved", "the difference is 0 after expand"
    left = sp.cancel(left)
    if left == 0:
        return "proved", "the difference is 0 after expand and cancel"
    if thorough:
        left = sp.simplify(difference)
        if left == 0:
            return "proved", "the difference is 0 after simplify"
    if left.is_number and left.is_zero is False:
        return "disproved", f"the difference simplifies to {_short(left)}"
    return "unproved", f"sympy left the difference as {_short(left)}"


def _proof_work(graph, symbols):
    """The worker proving each algorithm's expression equal to sympy.diff, entry by entry.

    Yields ``("phase", name)`` as it builds the expressions, then
    ``(row, column, mode, verdict, how, algorithm's expression, sympy.diff)`` per entry.
    """
    def work():
        exact_graph = with_constants(graph, exact)
        values = SympyEvaluator(exact_graph).run(symbols)
        yield ("phase", "the primal expression")
        forward, reverse = _jacobians(exact_graph, symbols, values, sp.S.One, sp.S.Zero)
        yield ("phase", "the algorithms' derivative expressions")
        shapes = [shape_of(v) for v in values]
        rows = _elements(exact_graph, shapes, exact_graph.output_positions)
        columns = _elements(exact_graph, shapes, exact_graph.input_positions)
        pending = []
        for a, (k, out_index) in enumerate(rows):
            output = _element(values[exact_graph.output_positions[k]], out_index)
            for b, (i, in_index) in enumerate(columns):
                reference = sp.diff(output, _element(symbols[i], in_index))
                for mode, jacobian in (("forward", forward), ("reverse", reverse)):
                    pending.append((a, b, mode, jacobian[a, b], reference))
        # the cheap steps for every entry first; then simplify, which may take long, for
        # the rest, so a slow entry does not hold up the others
        for thorough in (False, True):
            still = []
            for a, b, mode, expr, reference in pending:
                verdict, how = prove_equal(expr, reference, thorough)
                if verdict == "unproved" and not thorough:
                    still.append((a, b, mode, expr, reference))
                else:
                    yield (a, b, mode, verdict, how, _short(expr), _short(reference))
            pending = still
    return work


# ---- the report ----

@dataclass
class Derivative:
    """One entry of the Jacobian as each method found it (``None`` where a method did not run).

    Attributes
    ----------
    label, input : str
        ``"df/dx"``, and the input it is taken with respect to (``"x"``, ``"x[1]"``).
    forward, reverse : float
        What each mode computed, in floating point, at the point.
    oracle : float
        The complex step or central differences at the point.
    sympy : float
        ``sympy.diff`` at the point, computed with 30 digits (rounded to a float).
    proof : dict
        mode -> ``(verdict, how)``, verdict ``"proved"``, ``"unproved"`` or ``"disproved"``.
    expressions : dict
        ``"forward"``, ``"reverse"``, ``"sympy.diff"`` -> the derivative expression as text
        (shortened beyond 200 characters), as each algorithm and sympy computed it.

    Examples
    --------
    >>> import dualad as ad
    >>> d = ad.verify(lambda x: x * x, 3.0).derivatives[0]
    >>> d.label, d.forward, d.reverse, d.sympy
    ('df/dx', 6.0, 6.0, 6.0)
    """

    label: str
    input: str
    forward: float
    reverse: float
    oracle: float
    sympy: float = None
    proof: dict = field(default_factory=dict)
    expressions: dict = field(default_factory=dict)


@dataclass
class Check:
    """One row of the report: one mode checked by one method.

    ``ok`` is None when the check could not run (the reason is in ``detail``).

    Examples
    --------
    >>> import dualad as ad
    >>> [(c.mode, c.method) for c in ad.verify(lambda x: x * x, 3.0).checks][:2]
    [('forward', 'sympy.diff at the point'), ('forward', 'complex step at the point')]
    """

    mode: str
    method: str
    ok: bool = None
    max_abs_error: float = None
    detail: str = ""
    worst: int = None
    verdict: str = None

    @property
    def result(self):
        """``"ok"``, ``"FAILED"``, ``"not run"``, or a proof's ``"proved"``/``"not proved"``.

        Examples
        --------
        >>> import dualad as ad
        >>> [c.result for c in ad.verify(lambda x: x * x, 3.0).checks][:4]
        ['ok', 'ok', 'ok', 'proved']
        """
        if self.ok is False:
            return "FAILED"
        return self.verdict or ("ok" if self.ok else "not run")


@dataclass
class VerificationReport:
    """What :func:`verify` found: a verdict and the evidence for it.

    Attributes
    ----------
    ok : bool
        Every check that ran agreed within its tolerance (and no proof found a difference).
    proved : bool
        sympy proved the derivative each mode computes equal to ``sympy.diff`` for all inputs
        (under ``assumptions``), for every entry. Never True on numerical evidence alone.
    max_abs_error : float
        The largest absolute difference any check found between a mode and a reference.
    derivatives : list of Derivative
        Each Jacobian entry as forward mode, reverse mode, sympy and the oracle found it.
    checks : list of Check
        One row per mode and method.
    assumptions : str
        The assumptions on the inputs under which the proof holds.
    notes : list of str
        Why something was not proved or not checked.

    Examples
    --------
    >>> import dualad as ad
    >>> report = ad.verify(lambda x: ad.log(x) * x, 2.0)
    >>> report.ok, report.proved, report.assumptions
    (True, True, 'x > 0')
    """

    function: str
    point: dict
    derivatives: list
    checks: list
    assumptions: str
    notes: list
    seconds: float = 0.0

    @property
    def ok(self):
        return all(check.ok is not False for check in self.checks)

    @property
    def proved(self):
        return bool(self.derivatives) and all(
            d.proof.get(mode, ("unproved",))[0] == "proved"
            for d in self.derivatives for mode in ("forward", "reverse"))

    @property
    def max_abs_error(self):
        errors = [c.max_abs_error for c in self.checks if c.max_abs_error is not None]
        return max(errors) if errors else math.nan

    def failures(self):
        """The checks that failed, worst first.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> x = ad.Var(1.0, name="x")
        >>> report = ad.verify(ad.Var(op=np.exp, children=[x], pds=[np.cos]))
        >>> [c.mode for c in report.failures()], report.failures()[0].method
        (['forward', 'reverse'], 'central differences at the point')
        """
        failed = [c for c in self.checks if c.ok is False]
        return sorted(failed, key=lambda c: -(c.max_abs_error or 0.0))

    def raise_if_failed(self):
        """Raise :class:`~dualad.errors.GradientMismatchError` naming the input whose
        derivative disagrees, and by how much; return the report when every check passed.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> x = ad.Var(1.0, name="x")
        >>> wrong = ad.Var(op=np.sin, children=[x], pds=[np.sin])   # d sin = sin? no
        >>> ad.verify(wrong).raise_if_failed()
        Traceback (most recent call last):
          ...
        dualad.errors.GradientMismatchError: verify: df/dx, the derivative with respect to x, ...
        """
        failed = self.failures()
        if not failed:
            return self
        check = failed[0]
        if check.worst is None:
            raise GradientMismatchError(f"verify: {check.mode} mode failed "
                                        f"{check.method}: {check.detail}")
        d = self.derivatives[check.worst]
        got = d.forward if check.mode == "forward" else d.reverse
        raise GradientMismatchError(
            f"verify: {d.label}, the derivative with respect to {d.input}, disagrees: "
            f"{check.mode} mode gives {got:.12g}, {check.detail}")

    def __str__(self):
        point = ", ".join(f"{name} = {_show_value(v)}" for name, v in self.point.items())
        verdict = ("ok" if self.ok else "FAILED") + (", proved" if self.proved
                                                     else ", not proved")
        lines = [f"verify {self.function}({', '.join(self.point)}) at {point}: {verdict}", ""]
        methods = [("forward", "forward"), ("reverse", "reverse"), ("sympy", "sympy.diff")]
        oracle = next(c.method[:-len(" at the point")] for c in self.checks
                      if c.method.endswith("at the point") and "sympy" not in c.method)
        methods.append(("oracle", oracle))
        width = max(len("derivative"), *(len(d.label) for d in self.derivatives[:20]))
        lines.append("  ".join([f"{'derivative':<{width}}"] + [f"{m[1]:<20}" for m in methods])
                     .rstrip())
        for d in self.derivatives[:20]:
            cells = [_show_number(getattr(d, attr)) for attr, _ in methods]
            lines.append("  ".join([f"{d.label:<{width}}"] + [f"{c:<20}" for c in cells])
                         .rstrip())
        if len(self.derivatives) > 20:
            lines.append(f"... ({len(self.derivatives) - 20} more entries)")
        lines.append("")
        lines.append(f"{'mode':<8} {'check against':<34} {'max abs error':<14} result")
        for c in self.checks:
            error = "-" if c.max_abs_error is None else f"{c.max_abs_error:.1e}"
            detail = f" ({c.detail})" if c.detail else ""
            lines.append(f"{c.mode:<8} {c.method:<34} {error:<14} {c.result}{detail}")
        lines.append("")
        lines.append(f"assumptions: {self.assumptions}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def _show_value(value):
    if shape_of(value) == ():
        return f"{value:g}"
    return np.array2string(np.asarray(value), precision=6, separator=", ")


def _show_number(value):
    return "-" if value is None else f"{value:.12g}"


# ---- verify ----

def _graph_and_point(f, args):
    """The graph to check, its input values and a name for the function."""
    if isinstance(f, Var):
        graph = Graph(f)
        name = f.name or "f"
        if not args:
            args = [leaf.value for leaf in graph.inputs]
    elif isinstance(f, Graph):
        graph, name = f, "f"
        if not args and all(leaf.value is not None for leaf in graph.inputs):
            args = [leaf.value for leaf in graph.inputs]
    elif callable(f):
        graph = trace(f, *args)
        name = getattr(f, "__name__", "f")
        name = name if name.isidentifier() else "f"
    else:
        hint = "; for expression text use verify(dualad.parse(text), ...)" if isinstance(
            f, str) else ""
        raise DualadError(f"verify: expected a function, a Graph or a Var, got "
                          f"{type(f).__name__}{hint}")
    names = symbol_names(graph)
    if len(args) != len(graph.inputs):
        raise DualadError(f"verify: the function has {len(graph.inputs)} input(s) "
                          f"({', '.join(names)}) but {len(args)} value(s) were given")
    if not graph.inputs:
        raise DualadError("verify: the function has no inputs, so no derivative to check")
    point = [as_value(a) for a in args]
    for name_i, value in zip(names, point):
        if value is None or np.iscomplexobj(value) or not np.all(np.isfinite(value)):
            raise DualadError(f"verify: the value of {name_i} must be a finite real number "
                              f"or array, got {value!r}")
    return graph, point, name


def _positive_inputs(graph, point):
    """Inputs that feed an argument whose domain is positive and are positive at the point:
    the proof may assume them positive (it then claims the result only there)."""
    inputs = {pos: i for i, pos in enumerate(graph.input_positions)}
    found = set()
    for instruction in graph.program:
        for j, arg in enumerate(instruction.args):
            if arg in inputs and instruction.prim.domain[j].is_subset(POSITIVE):
                i = inputs[arg]
                if np.all(np.asarray(point[i]) > 0):
                    found.add(i)
    return found


def _compare(mode, method, got, reference, rtol, atol, detail_name):
    """A Check row comparing one mode's Jacobian with a reference Jacobian."""
    errors = np.abs(np.asarray(got, dtype=float) - np.asarray(reference, dtype=float))
    errors = np.where(np.isnan(errors), np.inf, errors).ravel()
    bad = errors > atol + rtol * np.abs(np.asarray(reference, dtype=float)).ravel()
    worst = int(np.argmax(np.where(bad, errors, -1.0) if bad.any() else errors))
    ref = float(np.ravel(reference)[worst])
    check = Check(mode, method, ok=not bad.any(), max_abs_error=float(errors.max()), worst=worst)
    if bad.any():
        relative = errors[worst] / abs(ref) if ref else math.inf
        check.detail = (f"{detail_name} give{'s' if detail_name.startswith('sympy') else ''} "
                        f"{ref:.12g} (off by {errors[worst]:.3g}, relative {relative:.2g})")
    return check


def verify(f, *args, rtol=1e-8, atol=1e-10, fd_rtol=1e-5, fd_atol=1e-7, time_limit=10.0,
           points=5, seed=0):
    """Check the derivatives dualad computes for ``f``, numerically and symbolically.

    Forward mode and reverse mode are each compared with

    - ``sympy.diff`` of the primal expression, evaluated with 30 digits at the point;
    - a derivative-free oracle: the complex step when every op is complex-analytic, else
      Richardson-extrapolated central differences (tolerances ``fd_rtol``, ``fd_atol``);
    - ``sympy.diff`` for all inputs: the expression the mode computes (the evaluators run on
      sympy symbols) minus ``sympy.diff`` must simplify to 0. When sympy cannot decide within
      ``time_limit`` seconds, the report says so and rests on the same comparison in 30-digit
      arithmetic at the point and at ``points`` random points nearby: ``proved`` stays False.

    Ops with no sympy form (seed-style user ops) are checked by the oracle only, and the
    report says they were not proved. The numeric checks at the point are always done.

    Parameters
    ----------
    f : callable, Graph or Var
        A function (traced at ``args``), a graph, or a ``Var`` (its graph; ``args`` default to
        its leaves' current values).
    *args : float or array
        The point: one value per input.
    rtol, atol : float
        Tolerances against exact references (sympy, complex step): ``|d - ref| <= atol +
        rtol |ref|``.
    fd_rtol, fd_atol : float
        Tolerances against central differences.
    time_limit : float
        Seconds for the symbolic work (run in worker processes, so it can be stopped).
    points : int
        Random points for the 30-digit comparison.
    seed : int
        Seed of those random points, so a report can be reproduced.

    Returns
    -------
    VerificationReport
        ``.ok``, ``.proved``, ``.max_abs_error``, one row per mode and method in ``.checks``,
        a readable ``str()``, and ``.raise_if_failed()``.

    Examples
    --------
    >>> import dualad as ad
    >>> report = ad.verify(lambda x, w: ad.exp(x * w) / w, 1.0, 4.0)
    >>> report.ok, report.proved
    (True, True)
    >>> [round(d.reverse, 6) for d in report.derivatives]   # [e^(xw), e^(xw) (x/w - 1/w^2)]
    [54.59815, 10.237153]
    """
    started = time.monotonic()
    graph, point, name = _graph_and_point(f, args)
    names = symbol_names(graph)
    user_ops = sympy_free_ops(graph)
    positive = _positive_inputs(graph, point)
    workers = {}
    if not user_ops:
        assumptions = [{"positive": True} if i in positive else {"real": True}
                       for i in range(len(names))]
        symbols = input_symbols(graph, [shape_of(v) for v in point], assumptions)
        workers["numbers"] = Worker(_numbers_work(graph, point, positive, points, seed))
        workers["proof"] = Worker(_proof_work(graph, symbols))

    try:
        # at the point, in floating point: always done, while the workers run
        values = ValueEvaluator(graph).run(point)
        forward, reverse = _jacobians(graph, point, values, 1.0, 0.0)
        oracle_name, oracle = _oracle(graph, point, forward.shape[0])
        row_labels, column_labels = _labels_for(graph, name, values, names)
        collect(list(workers.values()), max(0.0, time_limit - (time.monotonic() - started)))
    finally:
        for worker in workers.values():
            worker.stop()
    derivatives = [Derivative(label=f"d{r}/d{c}", input=c, forward=float(forward[a, b]),
                              reverse=float(reverse[a, b]), oracle=float(oracle[a, b]))
                   for a, r in enumerate(row_labels) for b, c in enumerate(column_labels)]
    notes = []
    numbers = workers.get("numbers")
    proof = workers.get("proof")
    reference = None
    if numbers is not None and numbers.messages:
        reference = np.reshape(numbers.messages[0][1], forward.shape)
        for d, value in zip(derivatives, reference.flat):
            d.sympy = float(value)
    if proof is not None:
        _record_proofs(proof, derivatives, len(column_labels))

    fd_tol = (fd_rtol, fd_atol) if oracle_name == "central differences" else (rtol, atol)
    checks = []
    for mode, jacobian in (("forward", forward), ("reverse", reverse)):
        if reference is not None:
            checks.append(_compare(mode, "sympy.diff at the point", jacobian, reference,
                                   rtol, atol, "sympy.diff"))
        else:
            checks.append(Check(mode, "sympy.diff at the point",
                                detail=_why_not(user_ops, numbers, time_limit)))
        checks.append(_compare(mode, f"{oracle_name} at the point", jacobian, oracle,
                               *fd_tol, oracle_name))
        checks.append(_random_points_check(mode, numbers, user_ops, time_limit))
        checks.append(_proof_check(mode, derivatives, proof, user_ops, time_limit))
    assumed = ", ".join(f"{n} > 0" if i in positive else f"{n} real"
                        for i, n in enumerate(names))
    if user_ops:
        notes.append(f"op{'s' if len(user_ops) > 1 else ''} {', '.join(map(repr, user_ops))} "
                     "ha" + ("ve" if len(user_ops) > 1 else "s") + " no sympy form (a user op "
                     f"defined with Var(op=..., pds=...)): checked by {oracle_name} only, "
                     "not proved")
    for worker_name, worker in workers.items():
        if worker.error:
            notes.append(f"the {worker_name} worker failed: {worker.error}")
        if not worker.bounded:
            notes.append("this platform cannot fork: the time limit was not enforced")
    return VerificationReport(function=name, point=dict(zip(names, point)),
                              derivatives=derivatives, checks=checks, assumptions=assumed,
                              notes=notes, seconds=time.monotonic() - started)


def _labels_for(graph, name, values, names):
    single = len(graph.outputs) == 1
    show = lambda n, index: n if index == () else f"{n}[{', '.join(map(str, index))}]"  # noqa
    rows = [show(name if single else f"{name}{k}", index)
            for k, pos in enumerate(graph.output_positions)
            for index in np.ndindex(shape_of(values[pos]))]
    columns = [show(names[i], index) for i, pos in enumerate(graph.input_positions)
               for index in np.ndindex(shape_of(values[pos]))]
    return rows, columns


def _why_not(user_ops, worker, time_limit):
    if user_ops:
        return f"no sympy form for {', '.join(map(repr, user_ops))}"
    if worker is not None and worker.error:
        return f"failed: {worker.error}"
    return f"did not finish within the time limit of {time_limit:g} s"


def _random_points_check(mode, worker, user_ops, time_limit):
    method = "sympy.diff at random points"
    if worker is None or len(worker.messages) < 2:
        why = _why_not(user_ops, worker, time_limit)
        if worker is not None and len(worker.messages) == 1 and worker.finished:
            why = "no random point nearby where every value is real"
        return Check(mode, method, detail=why)
    column = 2 if mode == "forward" else 3
    errors = np.array([e for message in worker.messages for e in message[column]])
    scales = np.array([s for message in worker.messages for s in message[4]])
    errors = np.where(np.isnan(errors), np.inf, errors)
    n_points = len(worker.messages) - 1
    method = f"sympy.diff at {n_points} random point{'s' * (n_points > 1)}"
    bad = errors > AGREEMENT * scales
    check = Check(mode, method, ok=not bad.any(), max_abs_error=float(errors.max()))
    if bad.any():
        where = int(np.argmax(np.where(bad, errors, -1.0)))
        per_point = len(worker.messages[0][1])
        message = worker.messages[where // per_point]
        check.worst = where % per_point
        point = ", ".join(_show_value(np.asarray(v)) for v in message[0])
        check.detail = (f"at ({point}) sympy.diff gives {message[1][check.worst]:.12g} "
                        f"(off by {errors[where]:.3g})")
    else:
        check.detail = "30 digits" + ("" if worker.finished else
                                      f"; stopped at the time limit of {time_limit:g} s")
    return check


def _record_proofs(worker, derivatives, n_columns):
    for message in worker.messages:
        if message[0] == "phase":
            continue
        a, b, mode, verdict, how, expression, reference = message
        d = derivatives[a * n_columns + b]
        d.proof[mode] = (verdict, how)
        d.expressions[mode] = expression
        d.expressions["sympy.diff"] = reference


def _proof_check(mode, derivatives, worker, user_ops, time_limit):
    method = "sympy.diff, proof for all inputs"
    if worker is None:
        return Check(mode, method, detail=_why_not(user_ops, worker, time_limit))
    verdicts = [d.proof.get(mode) for d in derivatives]
    proved = sum(v is not None and v[0] == "proved" for v in verdicts)
    disproved = [k for k, v in enumerate(verdicts) if v is not None and v[0] == "disproved"]
    check = Check(mode, method, ok=not disproved,
                  verdict="proved" if proved == len(derivatives) else "not proved")
    check.detail = f"{proved} of {len(derivatives)}"
    if disproved:
        check.worst = disproved[0]
        check.detail += f"; {derivatives[disproved[0]].label}: {verdicts[disproved[0]][1]}"
    elif proved < len(derivatives):
        unproved = next((k for k, v in enumerate(verdicts) if v is not None and v[0] !=
                         "proved"), None)
        if unproved is not None:
            check.detail += f"; {derivatives[unproved].label}: {verdicts[unproved][1]}"
        elif worker.error:
            check.detail += f"; the proof failed: {worker.error}"
        else:
            phases = [m[1] for m in worker.messages if m[0] == "phase"]
            stage = ("building the primal expression" if not phases else
                     "building the derivative expressions" if len(phases) == 1 else
                     "simplifying")
            check.detail += (f"; stopped at the time limit of {time_limit:g} s while "
                             f"{stage}")
    return check


# ---- the registry, rule by rule ----

#: Shapes for a structural op that declares no ``examples`` of its own.
_DEFAULT_EXAMPLES = {1: (([(2, 3)], {}),), 2: (([(2, 3), (3, 2)], {}),)}


@dataclass
class RuleProof:
    """One registry rule against ``sympy.diff`` of its op's sympy form.

    Examples
    --------
    >>> from dualad.verify import prove_registry
    >>> rule = next(r for r in prove_registry().rules if r.op == "divide" and r.rule == "d/db")
    >>> rule.expression, rule.reference, rule.verdict
    ('-a/b**2', '-a/b**2', 'proved')
    """

    op: str
    rule: str
    expression: str
    reference: str
    verdict: str
    how: str
    assumptions: str = ""


def _domain_symbol(name, domain):
    if domain == BOOLEAN:
        return sp.Symbol(name)          # a condition
    if domain.is_subset(POSITIVE):
        return sp.Symbol(name, positive=True)
    return sp.Symbol(name, real=True)


def _elementwise_rules(prim):
    names = ["x"] if prim.nin == 1 else list("abcdefgh"[:prim.nin])
    symbols = [_domain_symbol(n, d) for n, d in zip(names, prim.domain)]
    spec = prim.sympy(*symbols)
    assumed = ", ".join(f"{s} > 0" if s.is_positive else f"{s} real" if s.is_real else
                        f"{s} boolean" for s in symbols)
    if prim.boolean:
        yield RuleProof(prim.name, "all", "-", "-", "proved", "a boolean value: no derivative "
                        "flows through it", assumed)
        return
    for j, pd in enumerate(prim.pds):
        rule = exact(pd(SYMPY, *symbols, spec))
        reference = diff_almost_everywhere(spec, symbols[j])
        verdict, how = prove_equal(rule, reference)
        if prim.zero_derivative and verdict == "proved":
            how += " (away from the jumps, where it is not defined)"
        yield RuleProof(prim.name, f"d/d{symbols[j]}", _short(rule, 60), _short(reference, 60),
                        verdict, how, assumed)


def _symbol_array(prefix, shape):
    array = np.empty(shape, dtype=object)
    for n, index in enumerate(np.ndindex(shape)):
        array[index] = sp.Symbol(f"{prefix}{n}", real=True)
    return array if shape else array[()]


def _worst_verdict(pairs):
    """Combine elementwise proofs: disproved beats unproved beats proved."""
    pairs = list(pairs)
    for verdict in ("disproved", "unproved"):
        for v, how in pairs:
            if v == verdict:
                return v, how
    return "proved", pairs[0][1] if pairs else "nothing to prove"


def _structural_rules(prim, shapes, params):
    xs = [_symbol_array("ab"[j] if prim.nin <= 2 else f"x{j}_", s) for j, s in enumerate(shapes)]
    where = f"shapes {', '.join(map(str, shapes))}" + "".join(f", {k}={v}"
                                                             for k, v in params.items())
    out = prim.evaluate_symbolic(*xs, **params)
    out_flat = list(np.ravel(np.asarray(out, dtype=object)))
    g = _symbol_array("g", shape_of(out))
    g_flat = list(np.ravel(np.asarray(g, dtype=object)))
    for j, x in enumerate(xs):
        x_flat = list(np.ravel(np.asarray(x, dtype=object)))
        name = "ab"[j] if prim.nin <= 2 else f"x{j}"
        # jvp: d out = sum_i (d out / d x_i) t_i
        t = _symbol_array("t", shapes[j])
        tangents = [None] * prim.nin
        tangents[j] = t
        t_flat = list(np.ravel(np.asarray(t, dtype=object)))
        out_dot = np.ravel(np.asarray(prim.jvp(SYMPY, tangents, xs, out, 0, **params),
                                      dtype=object))
        expected = [sum((sp.diff(o, xi) * ti for xi, ti in zip(x_flat, t_flat)), sp.S.Zero)
                    for o in out_flat]
        verdict, how = _worst_verdict(prove_equal(a, r) for a, r in zip(out_dot, expected))
        yield RuleProof(prim.name, f"jvp for {name}, {where}", "(arrays)", "(arrays)",
                        verdict, how)
        # vjp: x_bar_i = sum_k g_k (d out_k / d x_i)
        x_bar = np.ravel(np.asarray(prim.vjp(SYMPY, g, xs, out, 0, **params)[j], dtype=object))
        expected = [sum((gk * sp.diff(o, xi) for gk, o in zip(g_flat, out_flat)), sp.S.Zero)
                    for xi in x_flat]
        verdict, how = _worst_verdict(prove_equal(a, r) for a, r in zip(x_bar, expected))
        yield RuleProof(prim.name, f"vjp for {name}, {where}", "(arrays)", "(arrays)",
                        verdict, how)


def _registry_work(registry):
    def work():
        for prim in registry.values():
            if prim.sympy is None:
                yield RuleProof(prim.name, "all", "-", "-", "unproved", "no sympy form")
            elif prim.elementwise:
                yield from _elementwise_rules(prim)
            else:
                examples = prim.examples or _DEFAULT_EXAMPLES.get(prim.nin, ())
                for shapes, params in examples:
                    try:
                        yield from _structural_rules(prim, shapes, params)
                    except Exception as err:  # a user's op that does not take these shapes
                        yield RuleProof(prim.name, f"shapes {shapes}", "-", "-", "unproved",
                                        f"could not run: {type(err).__name__}: {err}")
    return work


@dataclass
class RegistryProof:
    """The result of :func:`prove_registry`: one :class:`RuleProof` per rule.

    Examples
    --------
    >>> import dualad as ad
    >>> proof = ad.prove_registry()
    >>> proof.ok, sorted({rule.verdict for rule in proof.rules})
    (True, ['proved'])
    """

    rules: list
    finished: bool
    time_limit: float
    error: str = None

    @property
    def ok(self):
        return (self.finished and bool(self.rules)
                and all(rule.verdict == "proved" for rule in self.rules))

    def __str__(self):
        lines = ["every registry rule against sympy.diff of its op's sympy form", "",
                 f"{'op':<10} {'rule':<6} {'dualad rule':<22} {'sympy.diff':<22} "
                 f"{'assuming':<16} result"]
        structural = []
        for r in self.rules:
            if r.expression == "(arrays)":
                structural.append(r)
                continue
            lines.append(f"{r.op:<10} {r.rule:<6} {r.expression:<22} {r.reference:<22} "
                         f"{r.assumptions:<16} {_verdict(r)}")
        if structural:
            lines += ["", f"{'op':<10} {'rule (on arrays of real symbols)':<52} result"]
            lines += [f"{r.op:<10} {r.rule:<52} {_verdict(r)}" for r in structural]
        ops = len({r.op for r in self.rules})
        proved = sum(r.verdict == "proved" for r in self.rules)
        lines.append("")
        lines.append(f"{ops} ops, {len(self.rules)} rules, {proved} proved"
                     + ("" if self.finished else
                        f"; stopped at the time limit of {self.time_limit:g} s")
                     + (f"; failed: {self.error}" if self.error else ""))
        return "\n".join(lines)


def _verdict(rule):
    return rule.verdict if rule.verdict == "proved" else f"{rule.verdict} ({rule.how})"


def prove_registry(registry=None, time_limit=120.0):
    """Prove every rule of the registry equal to ``sympy.diff`` of its op's sympy form.

    Each elementwise op's local partial, for every argument, on symbols with the assumptions of
    the op's domain (``positive=True`` for ``log``); each structural op's jvp and vjp, for
    every argument, on arrays of symbols of the shapes in each op's ``examples``. The work
    runs in a worker process, stopped after ``time_limit`` seconds.

    Parameters
    ----------
    registry : dict, optional
        name -> Primitive; ``dualad.REGISTRY`` by default.

    Examples
    --------
    >>> import dualad as ad
    >>> proof = ad.prove_registry()
    >>> proof.ok
    True
    >>> print(proof)  # doctest: +ELLIPSIS
    every registry rule against sympy.diff of its op's sympy form
    ...
    tan        d/dx   tan(x)**2 + 1          tan(x)**2 + 1          x real           proved
    ...
    """
    worker = Worker(_registry_work(REGISTRY if registry is None else registry))
    collect([worker], time_limit)
    return RegistryProof(rules=list(worker.messages), finished=worker.finished,
                         time_limit=time_limit, error=worker.error)
