"""The reductions and scans (dualad/reductions.py) against numpy's own functions by central
differences, in every feature, and their traps: ties, zeros, and +-1,000."""

import numpy as np
import pytest
import sympy as sp

import dualad as ad
from dualad.mathns import NUMPY
from dualad.primitives import REGISTRY
from dualad.reductions import amax, amin, linear_scan

from strategies import central_hessian, central_jacobian

RNG = np.random.default_rng(11)


# ---- independent references: numpy's functions, or the textbook formula ----

def _logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def _softmax(x, axis=-1):
    return np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))


REFERENCE = {"max": np.max, "min": np.min, "prod": np.prod, "cumsum": np.cumsum,
             "cumprod": np.cumprod, "var": np.var, "std": np.std, "logsumexp": _logsumexp,
             "softmax": _softmax, "log_softmax": _log_softmax}

#: (op, input shape, keyword arguments): every op, with axis, keepdims and ddof.
CASES = [
    ("max", (5,), {}), ("max", (3, 4), {"axis": 1}), ("max", (2, 3, 2), {"axis": (0, 2)}),
    ("max", (3, 4), {"axis": 0, "keepdims": True}),
    ("min", (5,), {}), ("min", (3, 4), {"axis": -1, "keepdims": True}),
    ("prod", (4,), {}), ("prod", (3, 4), {"axis": 0}), ("prod", (2, 3, 2), {"axis": (1, 2)}),
    ("prod", (2, 3), {"keepdims": True}),
    ("cumsum", (4,), {}), ("cumsum", (3, 4), {"axis": 1}), ("cumsum", (2, 3), {}),
    ("cumprod", (5,), {}), ("cumprod", (3, 4), {"axis": 0}), ("cumprod", (2, 3), {}),
    ("var", (5,), {}), ("var", (3, 4), {"axis": 1, "ddof": 1}),
    ("var", (3, 4), {"axis": 0, "keepdims": True}),
    ("std", (5,), {}), ("std", (3, 4), {"axis": 0, "ddof": 1, "keepdims": True}),
    ("logsumexp", (5,), {}), ("logsumexp", (3, 4), {"axis": 1}),
    ("logsumexp", (2, 3, 2), {"axis": (0, 2), "keepdims": True}),
    ("softmax", (5,), {}), ("softmax", (3, 4), {"axis": 0}), ("softmax", (2, 3), {"axis": None}),
    ("log_softmax", (5,), {}), ("log_softmax", (3, 4), {"axis": 0}),
]
IDS = [f"{name}-{shape}-{kwargs}" for name, shape, kwargs in CASES]


def point(name, shape):
    """A point away from ties (max, min) and zeros: distinct values, none near 0."""
    size = int(np.prod(shape))
    values = RNG.permutation(np.linspace(0.3, 1.7, size)) * RNG.choice([-1.0, 1.0], size)
    return values.reshape(shape)


def weights_for(value):
    return RNG.uniform(0.5, 1.5, np.shape(value))


def scalar_functions(name, kwargs, weights):
    """sum(weights * op(sin(x))) with dualad and with the reference (the sin makes a chain
    and a nonzero Hessian)."""
    op = getattr(ad, name)
    return (lambda x: ad.sum(op(ad.sin(x), **kwargs) * weights),
            lambda x: np.sum(REFERENCE[name](np.sin(x), **kwargs) * weights))


@pytest.mark.parametrize("name,shape,kwargs", CASES, ids=IDS)
def test_value_is_numpys(name, shape, kwargs):
    x = point(name, shape)
    np.testing.assert_allclose(getattr(ad, name)(x, **kwargs), REFERENCE[name](x, **kwargs),
                               rtol=1e-13, atol=1e-14)
    node = getattr(ad, name)(ad.Var(x), **kwargs)
    assert node.op.name == name
    np.testing.assert_allclose(node.value, REFERENCE[name](x, **kwargs), rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("name,shape,kwargs", CASES, ids=IDS)
def test_gradient_in_both_modes_matches_central_differences(name, shape, kwargs):
    x = point(name, shape)
    f, reference = scalar_functions(name, kwargs, weights_for(REFERENCE[name](x, **kwargs)))
    expected = central_jacobian(reference, x)
    for mode in ("reverse", "forward"):
        value, g = ad.value_and_grad(f, mode=mode)(x)
        assert value == pytest.approx(reference(x), rel=1e-12)
        np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,shape,kwargs", CASES, ids=IDS)
def test_batched_jacobian_in_both_modes_matches_central_differences(name, shape, kwargs):
    x = point(name, shape)
    op = getattr(ad, name)
    expected = central_jacobian(lambda y: REFERENCE[name](y, **kwargs), x)
    for mode in ("forward", "reverse"):
        J = ad.jacobian(lambda y: op(y, **kwargs), mode=mode)(x)
        np.testing.assert_allclose(J, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,shape,kwargs", CASES, ids=IDS)
def test_hessian_and_nested_gradients_match_central_differences(name, shape, kwargs):
    x = point(name, shape)
    f, reference = scalar_functions(name, kwargs, weights_for(REFERENCE[name](x, **kwargs)))
    expected = central_hessian(reference, x)
    np.testing.assert_allclose(ad.hessian(f)(x), expected, rtol=1e-5, atol=1e-6)
    # reverse over reverse: the rules run on Vars of the enclosing trace
    w = RNG.uniform(-1.0, 1.0, shape)
    nested = ad.grad(lambda y: ad.sum(ad.grad(f)(y) * w))(x)
    np.testing.assert_allclose(nested, np.tensordot(expected, w, axes=len(shape)),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,shape,kwargs", CASES, ids=IDS)
def test_compiled_value_and_grad_and_jvp_match_central_differences(name, shape, kwargs):
    x = point(name, shape)
    f, reference = scalar_functions(name, kwargs, weights_for(REFERENCE[name](x, **kwargs)))
    compiled = ad.compile(f, x)
    y = x * 0.9
    value, g = compiled.value_and_grad(y)
    assert value == pytest.approx(reference(y), rel=1e-12)
    expected = central_jacobian(reference, y)
    np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8)
    t = RNG.uniform(-1.0, 1.0, shape)
    out, tangent = compiled.jvp((y,), (t,))
    assert out == pytest.approx(reference(y), rel=1e-12)
    assert tangent == pytest.approx(np.sum(expected * t), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name,shape,kwargs", CASES, ids=IDS)
def test_dual_numbers_push_the_tangent(name, shape, kwargs):
    x = point(name, shape)
    t = RNG.uniform(-1.0, 1.0, shape)
    out = getattr(ad, name)(ad.Dual(x, t), **kwargs)
    expected = np.tensordot(central_jacobian(lambda y: REFERENCE[name](y, **kwargs), x), t,
                            axes=len(shape))
    np.testing.assert_allclose(out.tangent, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ["max", "min", "prod", "cumsum", "cumprod", "var", "std"])
def test_numpys_functions_reach_the_ops(name):
    x = point(name, (3, 4))
    kwargs = {"axis": 1}
    node = getattr(np, name)(ad.Var(x), **kwargs)
    assert isinstance(node, ad.Var) and node.op.name == name
    np.testing.assert_allclose(node.value, getattr(np, name)(x, **kwargs), rtol=1e-13)
    dual = getattr(np, name)(ad.Dual(x, np.ones_like(x)), **kwargs)
    assert isinstance(dual, ad.Dual)
    g = ad.grad(lambda y: ad.sum(getattr(np, name)(y, **kwargs)))(x)
    np.testing.assert_allclose(g, central_jacobian(lambda y: np.sum(getattr(np, name)(
        y, **kwargs)), x), rtol=1e-6, atol=1e-8)


def test_numpy_keyword_arguments_reach_the_ops():
    x = point("var", (3, 4))
    assert np.var(ad.Var(x), ddof=1).value == pytest.approx(np.var(x, ddof=1))
    assert np.max(ad.Var(x), axis=0, keepdims=True).value.shape == (1, 4)
    assert ad.var(x, correction=1) == pytest.approx(np.var(x, ddof=1))


def test_every_reduction_is_proved_by_the_registry_proof():
    proof = ad.prove_registry()
    assert proof.ok, str(proof)
    for name in REFERENCE:
        rules = [r for r in proof.rules if r.op == name]
        assert {r.rule.split(" for ")[0] for r in rules} == {"jvp", "vjp"}, name
        assert len(rules) >= 4 and all(r.verdict == "proved" for r in rules), name


# ---- max and min: ties share the derivative equally ----

def test_max_ties_share_the_gradient_equally():
    for mode in ("reverse", "forward"):
        g = ad.grad(lambda x: ad.max(x), mode=mode)
        np.testing.assert_array_equal(g(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
        np.testing.assert_allclose(g(np.array([2.0, 2.0, 2.0])), [1 / 3, 1 / 3, 1 / 3],
                                   rtol=1e-15)
        np.testing.assert_array_equal(g(np.array([4.0, 1.0, 2.0])), [1.0, 0.0, 0.0])
    rows = np.array([[1.0, 5.0, 5.0, 5.0], [7.0, 0.0, 7.0, 1.0]])
    J = ad.jacobian(lambda x: ad.max(x, axis=1), mode="forward")(rows)
    np.testing.assert_allclose(J[0, 0], [0, 1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(J[1, 1], [0.5, 0, 0.5, 0])
    np.testing.assert_allclose(ad.jacobian(lambda x: ad.max(x, axis=1), mode="reverse")(rows), J)


def test_min_ties_share_the_gradient_equally():
    g = ad.grad(lambda x: ad.min(x, axis=0).sum())(np.array([[1.0, 2.0], [1.0, 0.0]]))
    np.testing.assert_array_equal(g, [[0.5, 0.0], [0.5, 1.0]])


def test_amax_is_sympys_max_where_the_elements_differ():
    a, b, c = sp.symbols("a b c", real=True)
    spec, sympys = amax(a, b, c), sp.Max(a, b, c)
    for values in ([1, 3, 2], [5, -1, 4], [-2, -3, -1]):
        at = dict(zip((a, b, c), map(sp.Integer, values)))
        assert spec.subs(at) == sympys.subs(at)
        for s in (a, b, c):
            assert sp.diff(spec, s).subs(at) == sp.diff(sympys, s).subs(at)
    # at a three-way tie sympy's Heaviside gives each 1/2 (3/2 in all); amax gives 1/3
    tie = {a: 2, b: 2, c: 2}
    assert sp.diff(sympys, a).subs(tie) == sp.Rational(1, 2)
    assert sp.diff(spec, a).subs(tie) == sp.Rational(1, 3)
    assert sp.diff(amin(a, b), b).subs({a: 1, b: 1}) == sp.Rational(1, 2)


# ---- prod and cumprod: zeros ----

def test_prod_is_right_with_one_zero_and_with_several():
    for mode in ("reverse", "forward"):
        g = ad.grad(lambda x: ad.prod(x), mode=mode)
        np.testing.assert_array_equal(g(np.array([2.0, 0.0, 5.0])), [0.0, 10.0, 0.0])
        np.testing.assert_array_equal(g(np.array([0.0, 3.0, 0.0])), [0.0, 0.0, 0.0])
        np.testing.assert_array_equal(g(np.array([0.0])), [1.0])
    # d^2 prod / dx_i dx_j = the product of the elements other than i and j
    H = ad.hessian(lambda x: ad.prod(x))(np.array([2.0, 0.0, 5.0]))
    np.testing.assert_array_equal(H, [[0.0, 5.0, 0.0], [5.0, 0.0, 2.0], [0.0, 2.0, 0.0]])
    H = ad.hessian(lambda x: ad.prod(x))(np.array([0.0, 3.0, 0.0]))
    np.testing.assert_array_equal(H, [[0.0, 0.0, 3.0], [0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])


def test_cumprod_is_right_with_zeros():
    x = np.array([2.0, 0.0, 5.0, 0.0])
    # d y_k / d x_i = the product of x_0..x_k but x_i, for i <= k
    expected = np.array([[1, 0, 0, 0], [0, 2, 0, 0], [0, 10, 0, 0], [0, 0, 0, 0]], float)
    for mode in ("forward", "reverse"):
        np.testing.assert_array_equal(ad.jacobian(ad.cumprod, mode=mode)(x), expected)


def test_linear_scan_solves_the_recurrence():
    a, b = RNG.uniform(-2, 2, (3, 9)), RNG.uniform(-2, 2, (2, 3, 9))   # b has a batch axis
    s = linear_scan(NUMPY, a, b, -1)
    expected = np.zeros_like(b)
    previous = np.zeros((2, 3))
    for k in range(9):
        previous = a[:, k] * previous + b[..., k]
        expected[..., k] = previous
    np.testing.assert_allclose(s, expected, rtol=1e-12)


# ---- logsumexp, softmax, log_softmax: stable at 1,000 and at -1,000 ----

@pytest.mark.parametrize("base", [1000.0, -1000.0, 0.0])
def test_logsumexp_softmax_and_log_softmax_are_exact_far_from_zero(base):
    # softmax is about (1/4, 3/4) at every base: exactly 1/(1 + e^-d), 1/(1 + e^d) for the
    # difference d of the two floats (exact in floating point), whatever their rounding
    x = np.array([base, base + np.log(3.0)])
    d = x[1] - x[0]
    p = np.array([1 / (1 + np.exp(d)), 1 / (1 + np.exp(-d))])
    # logsumexp itself is known to the float spacing at 1,000 (1.1e-13), and so is x - out
    assert ad.logsumexp(x) == pytest.approx(x[0] + np.log1p(np.exp(d)), rel=1e-15, abs=1e-13)
    np.testing.assert_allclose(ad.grad(ad.logsumexp)(x), p, rtol=1e-12)
    np.testing.assert_allclose(ad.grad(ad.logsumexp, mode="forward")(x), p, rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(ad.logsumexp)(x), np.diag(p) - np.outer(p, p),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ad.softmax(x), p, rtol=1e-14)
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(ad.jacobian(ad.softmax, mode=mode)(x),
                                   np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(ad.jacobian(ad.log_softmax, mode=mode)(x),
                                   np.eye(2) - p[None, :], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ad.log_softmax(x), np.log(p), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ad.hessian(lambda y: ad.log_softmax(y)[0])(x),
                               -(np.diag(p) - np.outer(p, p)), rtol=1e-12, atol=1e-15)


def test_logsumexp_of_minus_infinity_entries_is_finite():
    x = np.array([-np.inf, 0.0, 0.0])
    assert ad.logsumexp(x) == pytest.approx(np.log(2.0))
    np.testing.assert_allclose(ad.grad(ad.logsumexp)(x), [0.0, 0.5, 0.5])


# ---- var and std ----

def test_var_and_std_by_hand():
    x = np.array([1.0, 2.0, 4.0])                     # mean 7/3
    deviation = x - 7 / 3
    np.testing.assert_allclose(ad.grad(ad.var)(x), 2 * deviation / 3, rtol=1e-14)
    np.testing.assert_allclose(ad.grad(lambda y: ad.var(y, ddof=1))(x), deviation, rtol=1e-14)
    std = np.sqrt(np.sum(deviation**2) / 3)
    np.testing.assert_allclose(ad.grad(ad.std, mode="forward")(x), deviation / (3 * std),
                               rtol=1e-14)


# ---- arguments numpy has and dualad refuses ----

@pytest.mark.parametrize("call,message", [
    (lambda x: ad.max(x, out=np.zeros(())), r"max: the numpy argument out="),
    (lambda x: ad.min(x, initial=5.0), r"min: the numpy argument initial="),
    (lambda x: ad.prod(x, dtype=np.float32), r"prod: the numpy argument dtype="),
    (lambda x: ad.cumsum(x, axis=(0, 1)), r"cumsum: axis must be None or an int"),
    (lambda x: ad.var(x, ddof=4), r"var: ddof=4 leaves no degrees of freedom for groups of 4"),
    (lambda x: ad.std(ad.Var(x), axis=0, ddof=2), r"std: ddof=2 .* groups of 2 elements"),
    (lambda x: ad.var(x, ddof="1"), r"var: ddof must be a number"),
    (lambda x: ad.logsumexp(x, b=np.ones(2)), r"logsumexp: the numpy argument b="),
    (lambda x: ad.logsumexp(x, return_sign=True), r"logsumexp: return_sign=True"),
    (lambda x: ad.softmax(x, where=x > 0), r"softmax: the numpy argument where="),
    (lambda x: ad.max(x, axis="rows"), r"max: axis must be None, an int or a tuple"),
])
def test_unsupported_arguments_are_refused_by_name(call, message):
    with pytest.raises(ad.DualadError, match=message):
        call(np.ones((2, 2)))


def test_an_axis_out_of_range_names_the_op():
    with pytest.raises(ad.ShapeMismatchError, match="max"):
        ad.max(ad.Var(np.ones(3)), axis=1)


# ---- the other features ----

def test_trace_table_and_to_sympy_show_the_ops():
    table = ad.trace_table(lambda x: ad.max(x) * 2.0, np.array([1.0, 3.0]))
    assert "max(v₀)" in str(table) and "vjp[max]" in str(table)
    np.testing.assert_array_equal(table.adjoints[0], [0.0, 2.0])
    x = ad.Var(np.array([1.0, 2.0]), name="x")
    assert str(ad.to_sympy(ad.max(x))) == "amax(x[0], x[1])"
    assert str(ad.to_sympy(ad.prod(x))) == "x[0]*x[1]"


def test_verify_proves_gradients_through_the_reductions():
    x = np.array([0.3, -1.2, 2.0])
    for f in (lambda y: ad.max(y) * ad.sum(y), lambda y: ad.prod(y) + ad.var(y),
              lambda y: ad.sum(ad.softmax(y) * np.array([1.0, 2.0, 3.0])),
              lambda y: ad.logsumexp(y) + ad.sum(ad.cumprod(y))):
        report = ad.verify(f, x, time_limit=30.0)
        assert report.ok and report.proved, str(report)


def test_compare_runs_on_the_reductions():
    x = np.array([0.3, -1.2, 2.0])
    report = ad.compare(lambda y: ad.softmax(y) * ad.max(y), x)
    expected = central_jacobian(lambda y: _softmax(y) * np.max(y), x)
    np.testing.assert_allclose(report.forward.jacobian, expected, rtol=1e-6)
    np.testing.assert_allclose(report.reverse.jacobian, expected, rtol=1e-6)


def test_costs_are_the_textbook_counts():
    assert REGISTRY["max"].cost([(3, 4)], (3,), axis=1) == 9            # 12 - 3 comparisons
    assert REGISTRY["prod"].cost([(3, 4)], (), axis=None) == 11
    assert REGISTRY["cumsum"].cost([(3, 4)], (3, 4), axis=1) == 9       # 3 adds per row
    assert REGISTRY["cumsum"].cost([(3, 4)], (12,), axis=None) == 11
    assert REGISTRY["softmax"].cost([(3, 4)], (3, 4), axis=-1) == 5 * 12 - 2 * 3
