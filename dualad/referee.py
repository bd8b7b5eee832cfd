"""The referee: derivatives that share no code with dualad's modes.

This module owns every reference :mod:`dualad.verify` compares the modes with:

- the derivative-free oracle, in floating point: the complex step where every op is
  complex-analytic, else Richardson-extrapolated central differences;
- ``sympy.diff`` of each op's sympy form, chained through the graph and evaluated in 30-digit
  arithmetic (:func:`reference_jacobian`, :func:`reference_jacobian_at`, :func:`sympy_partials`),
  at the point and at random points nearby;
- the proof steps (:func:`prove_equal`): the expression a mode computes minus ``sympy.diff``,
  simplified towards 0.

It owns no derivative rule and runs no derivative algorithm of its own (the modes are the
evaluators, which it only calls to get the numbers it checks), and it writes no report: that is
:mod:`dualad.verify`. Graphs become sympy expressions in :mod:`dualad.sympy_bridge`.

Examples
--------
>>> import dualad as ad
>>> from dualad.referee import reference_jacobian_at
>>> reference_jacobian_at(ad.parse("x * sin(y)"), [2.0, 0.0]).tolist()   # [sin y, x cos y]
[[0.0, 2.0]]
"""

import functools
import math
from dataclasses import replace

import numpy as np
import sympy as sp

from .evaluators import SympyEvaluator, ValueEvaluator
from .evaluators.cost import forward_sweeps, reverse_sweeps
from .evaluators.symbolic import exact, with_constants
from .primitives import REGISTRY
from .shapes import shape_of, unit

#: Digits of the arithmetic the referee evaluates derivatives in.
DIGITS = 30
#: Two 30-digit derivatives "agree" when they differ by less than this, relative to their size.
AGREEMENT = 1e-15


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
    >>> from dualad.referee import is_analytic
    >>> is_analytic(ad.parse("sin(x) * y")), is_analytic(ad.parse("abs(x)"))
    (True, False)
    """
    return all(REGISTRY.get(ins.prim.name) is ins.prim and ins.prim.analytic
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
    >>> from dualad.referee import sympy_partials
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
    >>> from dualad.referee import reference_jacobian
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
    >>> from dualad.referee import reference_jacobian_at
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
    >>> from dualad.referee import prove_equal
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
