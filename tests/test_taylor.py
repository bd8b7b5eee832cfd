"""Taylor mode (ad.taylor, ad.Taylor) against sympy.diff: coefficients g^(j)(0)/j! of
g(t) = f(x + t v), for every elementwise op of the registry and for compositions."""

import math
import sys

import numpy as np
import pytest
import sympy as sp

import dualad as ad
from dualad.mathns import diff_almost_everywhere
from dualad.primitives import BOOLEAN, REGISTRY

from strategies import ELEMENTWISE, sample_points, symbols_for

T = sp.Symbol("t", real=True)


def sympy_coefficients(expr, symbols, point, direction, order):
    """g^(j)(0)/j!, j = 0..order, for g(t) = expr at point + t direction (sympy's calculus)."""
    at = {}
    for s, x, v in zip(symbols, point, direction):
        if isinstance(x, bool):                          # a condition: fixed
            expr = expr.xreplace({s: sp.S(x)})
        else:
            expr = expr.xreplace({s: s + (T if v == 1 else T * sp.Float(v, 40))})
            at[s] = sp.Float(x, 40)
    out = []
    for j in range(order + 1):
        out.append(float(expr.xreplace({T: 0}).evalf(30, subs=at)) / math.factorial(j))
        expr = diff_almost_everywhere(expr, T)
    return out


def assert_coefficients(got, expected, rel=1e-9):
    scale = max(1.0, max(abs(e) for e in expected))
    for j, (g, e) in enumerate(zip(got, expected)):
        assert g == pytest.approx(e, rel=rel, abs=rel * scale), f"coefficient {j}"


# ---- every elementwise op ----

@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if not REGISTRY[n].boolean])
def test_every_elementwise_op_matches_sympy(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    spec = prim.sympy(*symbols)
    moving = [i for i, d in enumerate(prim.domain) if d != BOOLEAN]
    # one unit direction per moving input, and a mixed one
    units = [tuple(1.0 if j == k else 0.0 for j in range(len(moving))) for k in range(len(moving))]
    mixed = tuple(0.6 if j % 2 == 0 else -0.3 for j in range(len(moving)))
    directions = units if len(moving) == 1 else units + [mixed]
    for args in sample_points(prim, 2, seed=5):
        def f(*xs, args=args):
            full = list(args)
            for i, x in zip(moving, xs):
                full[i] = x
            return getattr(ad, name)(*full)

        point = [args[i] for i in moving]
        for direction in directions:
            got = ad.taylor(f, *point, order=6, direction=direction if len(point) > 1
                            else None)
            full_direction = [0.0] * len(args)
            for i, v in zip(moving, direction):
                full_direction[i] = v
            expected = sympy_coefficients(spec, symbols, args, full_direction, 6)
            assert_coefficients(got, expected)


# ---- compositions ----

COMPOSITIONS = [
    (lambda x: ad.exp(ad.sin(x)) / (1 + x * x), lambda x: sp.exp(sp.sin(x)) / (1 + x * x), 0.3),
    (lambda x: ad.sqrt(1 + x * x) * ad.log(x), lambda x: sp.sqrt(1 + x * x) * sp.log(x), 1.7),
    (lambda x: ad.tanh(x) ** 3 - x ** 2.5, lambda x: sp.tanh(x) ** 3 - x ** sp.Rational(5, 2),
     0.8),
    (lambda x: ad.arctan(x) / ad.cosh(x) + ad.tan(x / 2), lambda x: sp.atan(x) / sp.cosh(x)
     + sp.tan(x / 2), -0.4),
    (lambda x: ad.arcsin(x / 2) * ad.expm1(x) - ad.log1p(x * x),
     lambda x: sp.asin(x / 2) * (sp.exp(x) - 1) - sp.log(1 + x * x), 0.9),
]


@pytest.mark.parametrize("k", range(len(COMPOSITIONS)))
def test_compositions_match_sympy(k):
    f, spec, x0 = COMPOSITIONS[k]
    x = sp.Symbol("x", positive=x0 > 0, real=True)
    expected = sympy_coefficients(spec(x), [x], [x0], [1.0], 8)
    assert_coefficients(ad.taylor(f, x0, order=8), expected)


def test_several_inputs_along_a_direction():
    a, b = sp.symbols("a b", real=True)
    spec = a * b + sp.sin(a) * sp.exp(b) - a / (1 + b * b)
    f = lambda x, y: x * y + ad.sin(x) * ad.exp(y) - x / (1 + y * y)    # noqa: E731
    for direction in ((0.3, -1.2), {"y": 1.0}, "x"):
        vector = {"x": (1.0, 0.0)}.get(direction, None) if isinstance(direction, str) else \
            ((0.0, 1.0) if isinstance(direction, dict) else direction)
        expected = sympy_coefficients(spec, [a, b], [0.5, -0.7], vector, 7)
        assert_coefficients(ad.taylor(f, 0.5, -0.7, order=7, direction=direction), expected)


W = np.array([[0.5, -1.0, 0.25], [1.5, 0.3, -0.7]])


def test_vector_input_through_structural_ops():
    xs = sp.symbols("x0:3", real=True)
    Ws = sp.Matrix(W.tolist())
    z = Ws * sp.Matrix(xs)
    spec = (sum(sp.tanh(zi) for zi in z) * xs[0] + sum(sp.exp(xi) for xi in xs) / 3
            - (xs[0] * xs[2] + xs[1] * xs[1] + xs[2] * xs[0]) + sp.sin(xs[1]) * xs[2])

    def f(x):
        return (ad.sum(ad.tanh(W @ x)) * x[0] + ad.mean(ad.exp(x)) - ad.dot(x, x[::-1])
                + ad.sin(x[1]) * ad.reshape(x, (3, 1))[2, 0])

    point, direction = np.array([0.2, -0.4, 0.9]), np.array([1.0, 0.5, -0.25])
    expected = sympy_coefficients(spec, xs, point, direction, 6)
    assert_coefficients(ad.taylor(f, point, order=6, direction=direction), expected)


def test_vector_output_and_matrix_products():
    xs = sp.symbols("x0:3", real=True)
    spec = sp.Matrix(W.tolist()) * sp.Matrix([sp.sin(x) * x for x in xs])
    point, direction = np.array([0.1, 0.7, -0.3]), np.array([0.4, -1.0, 1.0])
    got = ad.taylor(lambda x: ad.matmul(W, ad.sin(x) * x), point, order=5,
                    direction=direction)
    assert got.shape == (6, 2)
    for row in range(2):
        expected = sympy_coefficients(spec[row], xs, point, direction, 5)
        assert_coefficients(got[:, row], expected)
    # a quadratic form x^T A x: the product of two polynomials, both moving
    A = np.array([[2.0, 1.0], [0.0, 3.0]])
    x0, v = np.array([1.0, -1.0]), np.array([0.5, 2.0])
    got = ad.taylor(lambda x: x @ (A @ x), x0, order=3, direction=v)
    assert got.tolist() == pytest.approx([x0 @ A @ x0, v @ A @ x0 + x0 @ A @ v, v @ A @ v, 0.0])


# ---- high orders: long chains of coefficients ----

def test_division_to_high_order():
    # 1/x at 3: (-1)^j / 3^(j+1). divide's own partial would need 3^(2^j) here (inf by j = 10)
    got = ad.taylor(lambda x: 1 / x, 3.0, order=40)
    assert_coefficients(got, [(-1) ** j / 3 ** (j + 1) for j in range(41)], rel=1e-12)
    got = ad.taylor(lambda x: (1 + x) / (2 - x), 0.0, order=30)   # 1/2 + sum 3/2^(j+1) t^j
    assert_coefficients(got, [0.5] + [3 / 2 ** (j + 1) for j in range(1, 31)], rel=1e-12)


def test_the_highest_order():
    k = ad.taylor.__globals__["MAX_ORDER"]
    assert_coefficients(ad.taylor(ad.exp, 0.0, order=k),
                        [1 / math.factorial(j) for j in range(k + 1)], rel=1e-12)
    assert_coefficients(ad.taylor(lambda x: ad.sqrt(1 + x), 0.0, order=k),
                        [float(sp.binomial(sp.Rational(1, 2), j)) for j in range(k + 1)],
                        rel=1e-10)
    assert_coefficients(ad.taylor(lambda x: (1 + x) ** 0.5, 0.0, order=k),
                        [float(sp.binomial(sp.Rational(1, 2), j)) for j in range(k + 1)],
                        rel=1e-10)
    got = ad.taylor(lambda x: ad.sum(ad.sin(W @ x)), np.zeros(3), order=k,
                    direction=np.ones(3))
    rates = W @ np.ones(3)        # sum_i sin(r_i t): odd powers, (-1)^m r^(2m+1)/(2m+1)!
    expected = [0.0 if j % 2 == 0 else float(sum((-1) ** (j // 2) * r ** j for r in rates))
                / math.factorial(j) for j in range(k + 1)]
    assert_coefficients(got, expected, rel=1e-10)


# ---- the transform's edges ----

def test_order_one_is_forward_mode():
    f = lambda x, y: ad.log(x) + x * y - ad.sin(y)         # noqa: E731
    value, slope = ad.jvp(f, (2.0, 5.0), (1.0, 0.5))
    assert ad.taylor(f, 2.0, 5.0, order=1, direction=(1.0, 0.5)).tolist() == [value, slope]
    assert ad.taylor(f, 2.0, 5.0, order=0, direction=(1.0, 0.5)).tolist() == [value]


def test_graphs_vars_several_outputs_and_constants():
    graph = ad.parse("exp(x) * y, x - y")
    first, second = ad.taylor(graph, 0.0, 2.0, order=3, direction={"x": 1.0})
    assert first.tolist() == pytest.approx([2.0, 2.0, 1.0, 1 / 3])
    assert second.tolist() == [-2.0, 1.0, 0.0, 0.0]
    x = ad.Var(1.0, name="x")
    assert ad.taylor(x * x, order=2).tolist() == [1.0, 2.0, 1.0]
    assert ad.taylor(lambda x: ad.floor(x) + 2.0, 1.5, order=2).tolist() == [3.0, 0.0, 0.0]


def test_branches_and_where():
    relu_square = lambda x: x * x if x > 0 else 0.0 * x              # noqa: E731
    assert ad.taylor(relu_square, 2.0, order=2).tolist() == [4.0, 4.0, 1.0]
    f = lambda x: ad.where(x > 0, ad.sqrt(ad.where(x > 0, x, 1.0)), 0.0)   # noqa: E731
    assert ad.taylor(f, 4.0, order=2).tolist() == pytest.approx([2.0, 0.25, -1 / 64])
    assert ad.taylor(f, -1.0, order=2).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("call, message", [
    (lambda: ad.taylor(ad.sin, 1.0, order=-1), "order must be a whole number from 0 to 100"),
    (lambda: ad.taylor(ad.sin, 1.0, order=2.0), "order must be a whole number"),
    (lambda: ad.taylor(ad.sin, 1.0, order=True), "order must be a whole number"),
    (lambda: ad.taylor(ad.sin, 1.0, order=101), "from 0 to 100, got 101"),
    (lambda: ad.taylor(lambda x, y: x * y, 1.0, 2.0, order=2),
     r"f has 2 input elements \(x, y\); give direction="),
    (lambda: ad.taylor(ad.sin, np.ones(2), order=2), "give direction="),
    (lambda: ad.taylor(ad.sin, np.ones(2), order=2, direction=np.ones(3)),
     r"the direction of x has shape \(3,\), but x has shape \(2,\)"),
    (lambda: ad.taylor(lambda x, y: x, 1.0, 2.0, order=2, direction="z"),
     "no input named 'z'"),
    (lambda: ad.taylor(lambda x, y: x, 1.0, 2.0, order=2, direction=(1.0,)),
     "one tangent per input"),
    (lambda: ad.taylor(ad.sin, 1.0, order=2, direction=float("nan")), "must be finite"),
    (lambda: ad.taylor(ad.sin, 1j, order=2), "must be real numbers"),
    (lambda: ad.taylor("sin(x)", 1.0, order=2), "use ad.parse"),
])
def test_bad_input_is_refused_clearly(call, message):
    with pytest.raises(ad.DualadError, match=message):
        call()


# ---- the number type ----

def test_taylor_numbers_compute_like_polynomials():
    x = ad.Taylor([2.0, 1.0, 0.0, 0.0])                  # 2 + t
    assert (x * x * x).coefficients.tolist() == [8.0, 12.0, 6.0, 1.0]
    assert (x - 2).coefficients.tolist() == [0.0, 1.0, 0.0, 0.0]
    assert ad.Taylor([2.0, 1.0]).coefficients.tolist() == \
        [ad.Dual(2.0, 1.0).primal, ad.Dual(2.0, 1.0).tangent]
    assert bool(x > 1) and not bool(x < 1)
    assert np.sign(x - 3) == -1.0                        # constant ops give plain values
    v = ad.Taylor([np.array([1.0, 2.0]), np.array([1.0, 0.0]), 0.0])
    assert v.coefficients.shape == (3, 2)
    assert ad.sum(v * v).coefficients.tolist() == [5.0, 2.0, 1.0]
    assert v[1].coefficients.tolist() == [2.0, 0.0, 0.0]


def test_taylor_text_forms():
    t = ad.Taylor([0.0, 1.0, 0.0, 0.0])
    assert str(np.exp(t)) == "1 + 1t + 0.5t² + 0.166667t³"
    assert str(np.sin(t)) == "0 + 1t + 0t² - 0.166667t³"
    assert np.cos(t)._repr_latex_() == "$1 + 0t - 0.5t^{2} + 0t^{3}$"
    assert repr(1 / (1 - t)) == "Taylor([1.0, 1.0, 1.0, 1.0])"


def test_taylor_numbers_refuse_what_is_not_a_polynomial():
    with pytest.raises(ad.DualadError, match="at least one coefficient"):
        ad.Taylor([])
    with pytest.raises(ad.DualadError, match="expected a sequence of coefficients"):
        ad.Taylor(2.0)
    with pytest.raises(ad.ShapeMismatchError, match=r"coefficient 1 has shape \(3,\)"):
        ad.Taylor([np.zeros(2), np.zeros(3)])
    with pytest.raises(ad.DualadError, match="coefficient 1 is a Dual"):
        ad.Taylor([1.0, ad.Dual(1.0, 1.0)])
    with pytest.raises(ad.DualadError, match="a Taylor polynomial and a Dual"):
        ad.Taylor([1.0, 1.0]) * ad.Dual(1.0, 1.0)
    with pytest.raises(ad.DerivativeLostError, match=r"x.coefficient\(0\)"):
        float(ad.Taylor([1.0, 1.0]))


# ---- how the work grows with the order ----

def polynomials_made(monkeypatch, f, *args, order, **kwargs):
    """How many lazy polynomials computing ``f``'s coefficients to ``order`` makes."""
    made = []
    lazy = ad.Taylor._lazy.__func__

    def counting(cls, known, k, rule):
        made.append(k)
        return lazy(cls, known, k, rule)

    monkeypatch.setattr(ad.Taylor, "_lazy", classmethod(counting))
    ad.taylor(f, *args, order=order, **kwargs)
    monkeypatch.undo()
    return len(made)


@pytest.mark.parametrize("f", [ad.sin, ad.tan, ad.sqrt, ad.arcsin, lambda x: 1 / x,
                               lambda x: ad.exp(ad.cos(x)) * x])
def test_partials_close_on_themselves_instead_of_growing_per_order(monkeypatch, f):
    # sin's partial cos(u) has partial -sin(u), the polynomial being computed: a fixed number
    # of polynomials per op, so each op costs O(k^2) coefficient products
    assert polynomials_made(monkeypatch, f, 0.5, order=8) == \
        polynomials_made(monkeypatch, f, 0.5, order=40)


def test_structural_ops_make_one_slope_per_order(monkeypatch):
    g = lambda x: ad.sum(ad.sin(x) @ W.T)                   # noqa: E731
    low = polynomials_made(monkeypatch, g, np.ones(3), order=8, direction=np.ones(3))
    high = polynomials_made(monkeypatch, g, np.ones(3), order=40, direction=np.ones(3))
    assert high == low           # linear ops: each slope jvp(u; u'_i) is a plain value


def test_power_makes_a_polynomial_per_order_and_says_so_when_too_deep(monkeypatch):
    # the partial b a^(b-1) is another power: a new polynomial for every order
    assert polynomials_made(monkeypatch, lambda x: x ** 0.5, 2.0, order=40) > \
        polynomials_made(monkeypatch, lambda x: x ** 0.5, 2.0, order=8) + 30
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        with pytest.raises(ad.DualadError, match="power: its Taylor coefficients to order 100 "
                                                 "nest too deeply"):
            ad.taylor(lambda x: x ** 0.5, 2.0, order=100)
    finally:
        sys.setrecursionlimit(limit)
