"""Every registry entry against sympy and finite differences (loops over REGISTRY)."""

import math

import numpy as np
import pytest
import sympy as sp

import dualad as ad
from dualad.mathns import MATH, NUMPY, SYMPY
from dualad.primitives import REGISTRY
from dualad.shapes import shape_of

from strategies import (ELEMENTWISE, STRUCTURAL, central_difference, central_difference_input,
                        exact_partial, sample_points, symbols_for)


def test_registry_has_every_contract_op():
    contract = {"add", "subtract", "multiply", "divide", "negative", "square", "exp", "sin",
                "cos", "power", "sqrt", "log", "tan", "tanh", "sinh", "cosh", "arcsin",
                "arccos", "arctan", "abs", "log1p", "expm1", "maximum", "minimum", "sum",
                "mean", "dot", "matmul", "transpose"}
    assert contract <= set(REGISTRY)
    for name in contract:
        assert callable(getattr(ad, name)), name


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_numpy_and_math_implementations_match_the_sympy_spec(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    reference = sp.lambdify(symbols, prim.sympy(*symbols), "mpmath")
    for args in sample_points(prim, 5):
        expected = float(reference(*args))
        assert float(prim.numpy(*args)) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert float(prim.math(*args)) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_each_partial_is_sympy_diff_of_the_spec(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    spec = prim.sympy(*symbols)
    for i, pd in enumerate(prim.pds):
        rule = pd(SYMPY, *symbols, spec)
        difference = sp.simplify(sp.sympify(rule) - exact_partial(prim, i, symbols))
        assert difference == 0, f"{name}: partial {i} is {rule}, sympy says " \
                                f"{exact_partial(prim, i, symbols)}"


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_each_partial_matches_sympy_and_central_differences_at_points(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    spec = prim.sympy(*symbols)
    for args in sample_points(prim, 6, seed=1):
        out = prim.numpy(*args)
        for i, pd in enumerate(prim.pds):
            exact = float(exact_partial(prim, i, symbols).subs(dict(zip(symbols, args))).evalf(30))
            for m in (MATH, NUMPY):
                assert pd(m, *args, out) == pytest.approx(exact, rel=1e-10, abs=1e-12)
            if central_difference_input(prim, i):
                fd = central_difference(prim.numpy, args, i)
                assert fd == pytest.approx(exact, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_reverse_mode_through_var_matches_sympy_per_primitive(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    spec = prim.sympy(*symbols)
    for args in sample_points(prim, 3, seed=2):
        leaves = [ad.Var(a) for a in args]
        out = getattr(ad, name)(*leaves)
        out.backward()
        for i, leaf in enumerate(leaves):
            exact = float(exact_partial(prim, i, symbols).subs(dict(zip(symbols, args))))
            assert leaf.deriv == pytest.approx(exact, rel=1e-10, abs=1e-12)


def test_abs_has_derivative_zero_at_zero():
    x = ad.Var(0.0)
    ad.abs(x).backward()
    assert x.deriv == 0.0
    assert sp.diff(sp.Abs(sp.Symbol("x", real=True)), "x").subs("x", 0) == 0


def test_maximum_and_minimum_split_ties():
    for name in ("maximum", "minimum"):
        a, b = ad.Var(2.0), ad.Var(2.0)
        getattr(ad, name)(a, b).backward()
        assert (a.deriv, b.deriv) == (0.5, 0.5)
    s, t = sp.symbols("s t", real=True)
    assert sp.diff(sp.Max(s, t), s).subs({s: 2, t: 2}) == sp.Rational(1, 2)


# ---- structural ops: vector-Jacobian and Jacobian-vector rules ----

RNG = np.random.default_rng(7)

STRUCTURAL_CASES = [
    ("sum", [(3, 4)], {}),
    ("sum", [(3, 4)], {"axis": 0}),
    ("sum", [(2, 3, 4)], {"axis": (0, 2)}),
    ("sum", [(3, 4)], {"axis": -1, "keepdims": True}),
    ("mean", [(3, 4)], {}),
    ("mean", [(3, 4)], {"axis": 1}),
    ("transpose", [(3, 4)], {}),
    ("transpose", [(2, 3, 4)], {"axes": (1, 2, 0)}),
    ("reshape", [(3, 4)], {"shape": (2, 6)}),
    ("reshape", [(3, 4)], {"shape": (12,)}),
    ("broadcast_to", [(3, 1)], {"shape": (2, 3, 4)}),
    ("broadcast_to", [(4,)], {"shape": (3, 4)}),
    ("getitem", [(3, 4)], {"index": (1,)}),
    ("getitem", [(3, 4)], {"index": (slice(None), np.array([0, 2, 2]))}),
    ("getitem", [(5,)], {"index": (slice(1, 4),)}),
    ("scatter_add", [(3,)], {"shape": (2, 4), "index": (1, np.array([0, 3, 3]))}),
    ("matmul", [(3, 4), (4, 2)], {}),
    ("matmul", [(4,), (4, 2)], {}),
    ("matmul", [(3, 4), (4,)], {}),
    ("matmul", [(4,), (4,)], {}),
    ("matmul", [(2, 3, 4), (4, 5)], {}),
    ("matmul", [(3, 4), (2, 4, 5)], {}),
    ("dot", [(3, 4), (4, 2)], {}),
    ("dot", [(4,), (4,)], {}),
    ("dot", [(3, 4), (4,)], {}),
]


def numeric_jacobian(f, xs, i, h=1e-6):
    """d f / d xs[i] by central differences, as an array of shape out.shape + x.shape."""
    x = xs[i]
    out_shape = np.shape(f(*xs))
    jac = np.zeros(out_shape + x.shape)
    for idx in np.ndindex(x.shape):
        up = [a.copy() for a in xs]
        down = [a.copy() for a in xs]
        up[i][idx] += h
        down[i][idx] -= h
        jac[(Ellipsis,) + idx] = (np.asarray(f(*up)) - np.asarray(f(*down))) / (2 * h)
    return jac


@pytest.mark.parametrize("name,shapes,params", STRUCTURAL_CASES)
def test_structural_vjp_and_jvp_match_finite_differences(name, shapes, params):
    prim = REGISTRY[name]
    xs = [RNG.standard_normal(s) for s in shapes]
    out = prim.numpy(*xs, **params)
    f = lambda *a: prim.numpy(*a, **params)  # noqa: E731
    for i in range(len(xs)):
        jac = numeric_jacobian(f, xs, i)
        out_ndim = np.ndim(out)
        # vjp with a one-hot cotangent gives one row of the Jacobian
        g = RNG.standard_normal(np.shape(out))
        bar = prim.vjp(NUMPY, g, xs, out, 0, **params)[i]
        expected = np.tensordot(g, jac, axes=out_ndim)
        np.testing.assert_allclose(bar, expected, rtol=1e-6, atol=1e-8)
        # jvp with only this input's tangent
        t = RNG.standard_normal(xs[i].shape)
        tangents = [None] * len(xs)
        tangents[i] = t
        dot = prim.jvp(NUMPY, tangents, xs, out, 0, **params)
        expected = np.tensordot(jac, t, axes=xs[i].ndim)
        np.testing.assert_allclose(dot, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,shapes,params", STRUCTURAL_CASES)
def test_structural_rules_with_a_batch_axis_equal_one_direction_at_a_time(name, shapes, params):
    prim = REGISTRY[name]
    xs = [RNG.standard_normal(s) for s in shapes]
    out = prim.numpy(*xs, **params)
    k = 3
    gs = RNG.standard_normal((k,) + np.shape(out))
    batched = prim.vjp(NUMPY, gs, xs, out, 1, **params)
    for i in range(len(xs)):
        one_by_one = np.stack([prim.vjp(NUMPY, g, xs, out, 0, **params)[i] for g in gs])
        np.testing.assert_allclose(batched[i], one_by_one, rtol=1e-12, atol=1e-12)
        ts = RNG.standard_normal((k,) + xs[i].shape)
        tangents = [None] * len(xs)
        tangents[i] = ts
        batched_dot = prim.jvp(NUMPY, tangents, xs, out, 1, **params)
        singles = []
        for t in ts:
            tangents[i] = t
            singles.append(prim.jvp(NUMPY, tangents, xs, out, 0, **params))
        np.testing.assert_allclose(batched_dot, np.stack(singles), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,shapes,params", [c for c in STRUCTURAL_CASES if c[0] != "mean"])
def test_structural_vjp_on_symbols_is_sympy_jacobian_transpose(name, shapes, params):
    prim = REGISTRY[name]
    xs = [np.array(sp.symbols(f"{'ab'[i]}0:{int(np.prod(s))}", real=True),
                   dtype=object).reshape(s) for i, s in enumerate(shapes)]
    out = prim.sympy(*xs, **params)
    out_flat = np.asarray(out, dtype=object).reshape(-1)
    gs = np.array(sp.symbols(f"g0:{out_flat.size}", real=True), dtype=object)
    g = gs.reshape(shape_of(np.asarray(out, dtype=object)))
    if g.shape == ():
        g = gs[0]
    bars = prim.vjp(SYMPY, g, xs, out, 0, **params)
    for i, x in enumerate(xs):
        for idx in np.ndindex(x.shape):
            reference = sum(gk * sp.diff(ok, x[idx]) for gk, ok in zip(gs, out_flat))
            assert sp.expand(np.asarray(bars[i], dtype=object)[idx] - reference) == 0


def test_dot_refuses_stacks_of_matrices_with_a_clear_error():
    with pytest.raises(ad.ShapeMismatchError, match=r"dot: .*\(2, 3, 4\)"):
        ad.dot(ad.Var(np.ones((2, 3, 4))), np.ones((4, 2)))


def test_float_fast_path_falls_back_to_numpy_at_domain_edges():
    with np.errstate(all="ignore"):
        assert math.isnan(ad.log(ad.Var(-1.0)).value)
        assert ad.divide(ad.Var(1.0), 0.0).value == math.inf
        assert math.isnan(ad.sqrt(ad.Var(-4.0)).value)
