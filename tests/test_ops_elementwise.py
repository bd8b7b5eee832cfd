"""The elementwise ops of issue 11 and stop_gradient, in every feature, against numpy by
central differences; their conventions at kinks; their traps at +-1,000.

(The registry-wide tests in test_registry.py, test_modes_agree.py and test_compile.py check
each one's partials against sympy on scalars too.)"""

import numpy as np
import pytest

import dualad as ad
from dualad.primitives import REGISTRY

from strategies import central_hessian, central_jacobian, sample_points

REFERENCE = {
    "clip": np.clip, "arctan2": np.arctan2, "hypot": np.hypot, "log2": np.log2,
    "log10": np.log10, "exp2": np.exp2, "cbrt": np.cbrt, "logaddexp": np.logaddexp,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),      # the textbook formula
}
NAMES = sorted(REFERENCE)


def vector_points(name, count=4, seed=5):
    """``count`` points of the op's domain, as one vector per argument."""
    return [np.array(column) for column in zip(*sample_points(REGISTRY[name], count, seed))]


@pytest.mark.parametrize("name", NAMES)
def test_batched_jacobians_in_both_modes_match_central_differences(name):
    args = vector_points(name)
    op, reference = getattr(ad, name), REFERENCE[name]
    for i in range(len(args)):
        def along(x, i=i):
            return [x if k == i else a for k, a in enumerate(args)]
        expected = central_jacobian(lambda x: reference(*along(x)), args[i])
        for mode in ("forward", "reverse"):
            J = ad.jacobian(lambda *xs: op(*xs), argnums=i, mode=mode)(*args)
            np.testing.assert_allclose(J, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_hessian_matches_central_differences(name):
    args = vector_points(name)
    op, reference = getattr(ad, name), REFERENCE[name]
    weights = np.array([0.5, -1.0, 1.5, 2.0])
    for i in range(len(args)):
        def along(x, i=i):
            return [x if k == i else a for k, a in enumerate(args)]
        H = ad.hessian(lambda *xs: ad.sum(op(*xs) * weights), argnums=i)(*args)
        expected = central_hessian(lambda x: np.sum(reference(*along(x)) * weights),
                                          args[i])
        np.testing.assert_allclose(H, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_compiled_value_and_grad_and_jvp_match_central_differences(name):
    args = vector_points(name)
    op, reference = getattr(ad, name), REFERENCE[name]
    argnums = tuple(range(len(args)))
    compiled = ad.compile(lambda *xs: ad.sum(op(*xs)), *args, argnums=argnums)
    value, grads = compiled.value_and_grad(*args)
    assert value == pytest.approx(np.sum(reference(*args)), rel=1e-12)
    tangents = [np.linspace(0.5, 1.0, a.size) for a in args]
    out, tangent = compiled.jvp(tuple(args), tuple(tangents))
    expected_tangent = 0.0
    for i in argnums:
        def along(x, i=i):
            return [x if k == i else a for k, a in enumerate(args)]
        expected = central_jacobian(lambda x: np.sum(reference(*along(x))), args[i])
        np.testing.assert_allclose(grads[i], expected, rtol=1e-6, atol=1e-8)
        expected_tangent += np.sum(expected * tangents[i])
    assert tangent == pytest.approx(expected_tangent, rel=1e-6)


FORMULAS = {
    "clip": ("clip(x, 0.2, 0.8)", lambda x: np.clip(x, 0.2, 0.8)),
    "arctan2": ("arctan2(x, x - 2) + atan2(1, x)",
                lambda x: np.arctan2(x, x - 2) + np.arctan2(1, x)),
    "hypot": ("hypot(x, 3)", lambda x: np.hypot(x, 3)),
    "log2": ("log2(x + 3)", lambda x: np.log2(x + 3)),
    "log10": ("log10(x * x + 1)", lambda x: np.log10(x * x + 1)),
    "exp2": ("exp2(x / 2)", lambda x: np.exp2(x / 2)),
    "cbrt": ("cbrt(x - 3)", lambda x: np.cbrt(x - 3)),
    "logaddexp": ("logaddexp(x, 2 * x)", lambda x: np.logaddexp(x, 2 * x)),
    "sigmoid": ("sigmoid(x) + expit(-x * x)",
                lambda x: REFERENCE["sigmoid"](x) + REFERENCE["sigmoid"](-x * x)),
}


@pytest.mark.parametrize("name", NAMES)
def test_parse_knows_the_name(name):
    text, reference = FORMULAS[name]
    graph = ad.parse(text)
    for x in (0.5, 1.3, -0.4):
        assert graph(x) == pytest.approx(reference(x), rel=1e-13)
        for mode in ("reverse", "forward"):
            assert ad.grad(graph, mode=mode)(x) == pytest.approx(
                central_jacobian(reference, x), rel=1e-7)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "sigmoid"])
def test_numpys_function_reaches_the_op(name):
    args = vector_points(name)
    node = getattr(np, name)(ad.Var(args[0]), *args[1:])
    assert isinstance(node, ad.Var) and node.op.name == name
    np.testing.assert_allclose(node.value, REFERENCE[name](*args), rtol=1e-14)
    dual = getattr(np, name)(ad.Dual(args[0], np.ones_like(args[0])), *args[1:])
    expected = np.diag(central_jacobian(lambda x: REFERENCE[name](x, *args[1:]), args[0]))
    np.testing.assert_allclose(dual.tangent, expected, rtol=1e-6, atol=1e-8)


# ---- clip: JAX's derivative, minimum(maximum(x, lo), hi) with ties split 1/2 ----

def test_clip_follows_jax_at_the_bounds():
    grad_x = ad.grad(lambda x, lo, hi: ad.clip(x, lo, hi), argnums=(0, 1, 2))
    # (d/dx, d/dlo, d/dhi): inside, below, above, at each bound, and lo > hi (hi everywhere)
    assert grad_x(0.5, 0.0, 1.0) == (1.0, 0.0, 0.0)
    assert grad_x(-1.0, 0.0, 1.0) == (0.0, 1.0, 0.0)
    assert grad_x(2.0, 0.0, 1.0) == (0.0, 0.0, 1.0)
    assert grad_x(0.0, 0.0, 1.0) == (0.5, 0.5, 0.0)
    assert grad_x(1.0, 0.0, 1.0) == (0.5, 0.0, 0.5)
    assert grad_x(0.5, 1.0, 0.0) == (0.0, 0.0, 1.0)
    assert grad_x(1.0, 1.0, 1.0) == (0.25, 0.25, 0.5)
    forward = ad.grad(lambda x, lo, hi: ad.clip(x, lo, hi), argnums=(0, 1, 2), mode="forward")
    assert forward(0.0, 0.0, 1.0) == (0.5, 0.5, 0.0)


def test_clip_takes_numpys_arguments():
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(ad.clip(x, None, 1.0), [-2.0, 0.5, 1.0])
    np.testing.assert_array_equal(ad.clip(x, a_min=0.0), [0.0, 0.5, 3.0])
    np.testing.assert_array_equal(ad.clip(x, min=0.0, max=1.0), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(np.clip(ad.Var(x), a_min=0.0, a_max=1.0).value, [0, 0.5, 1])
    np.testing.assert_array_equal(ad.grad(lambda y: ad.sum(ad.clip(y, None, 1.0)))(x),
                                  [1.0, 1.0, 0.0])
    with pytest.raises(ad.DualadError, match="clip: give a lower bound a_min, an upper bound"):
        ad.clip(x)
    with pytest.raises(ad.DualadError, match="clip: give a_min or min, not both"):
        ad.clip(x, 0.0, 1.0, min=0.0)
    with pytest.raises(ad.DualadError, match="clip: the numpy argument out="):
        np.clip(ad.Var(x), 0.0, 1.0, out=np.zeros(3))


# ---- the others at their edges ----

def test_cbrt_is_the_real_cube_root_and_undefined_in_slope_at_zero():
    assert ad.cbrt(-8.0) == -2.0
    assert ad.grad(ad.cbrt)(-8.0) == pytest.approx(1 / 12, rel=1e-15)     # 1/(3 * 4)
    assert ad.grad(ad.cbrt, mode="forward")(8.0) == pytest.approx(1 / 12, rel=1e-15)


def test_cbrt_at_zero():
    # the slope is infinite at 0, and so is 1/(3 cbrt(x)^2), with numpy's warning
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert ad.grad(ad.cbrt)(0.0) == np.inf
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        assert ad.grad(ad.cbrt, mode="forward")(0.0) == np.inf


def test_arctan2_in_every_quadrant():
    for y, x in ((1.0, 2.0), (1.0, -2.0), (-1.0, -2.0), (-1.0, 2.0)):
        grads = ad.grad(ad.arctan2, argnums=(0, 1))(y, x)
        r2 = x * x + y * y
        assert grads == pytest.approx((x / r2, -y / r2), rel=1e-15)
        assert ad.arctan2(y, x) == np.arctan2(y, x)


def test_logarithms_and_powers_of_two_by_hand():
    assert ad.grad(ad.log2)(4.0) == pytest.approx(1 / (4 * np.log(2)), rel=1e-15)
    assert ad.grad(ad.log10)(5.0) == pytest.approx(1 / (5 * np.log(10)), rel=1e-15)
    assert ad.grad(ad.exp2)(3.0) == pytest.approx(8 * np.log(2), rel=1e-15)
    assert ad.grad(ad.hypot, argnums=(0, 1))(3.0, 4.0) == (0.6, 0.8)


def test_logaddexp_and_sigmoid_are_exact_far_from_zero():
    for base in (1000.0, -1000.0):
        assert ad.logaddexp(base, base) == base + np.log(2)
        # exp(a - out) with out known to the float spacing at 1,000 (1.1e-13)
        assert ad.grad(ad.logaddexp, argnums=(0, 1))(base, base) == pytest.approx((0.5, 0.5),
                                                                                  rel=1e-12)
        a, b = ad.grad(lambda y: ad.logaddexp(y[0], y[1]))(np.array([base, base - 40.0]))
        assert a == pytest.approx(1.0, abs=1e-16) and b == pytest.approx(np.exp(-40), rel=1e-12)
    assert ad.sigmoid(1000.0) == 1.0 and ad.sigmoid(-1000.0) == 0.0
    assert ad.sigmoid(np.array([1000.0, -1000.0])).tolist() == [1.0, 0.0]
    assert ad.sigmoid(-40.0) == pytest.approx(np.exp(-40) / (1 + np.exp(-40)), rel=1e-15)
    for x in (1000.0, -1000.0, np.array([1000.0, -1000.0])):
        assert np.all(ad.grad(lambda y: ad.sum(ad.sigmoid(y)))(x) == 0.0)
    assert ad.grad(ad.sigmoid)(0.0) == 0.25


# ---- stop_gradient ----

def test_stop_gradient_passes_the_value_and_no_derivative():
    f = lambda x: x * ad.stop_gradient(x)                    # noqa: E731
    for mode in ("reverse", "forward"):
        assert ad.value_and_grad(f, mode=mode)(3.0) == (9.0, 3.0)
    assert ad.hessian(f)(3.0) == 0.0
    assert ad.jvp(ad.stop_gradient, (2.0,), (1.0,)) == (2.0, 0.0)
    assert ad.stop_gradient(ad.Dual(2.0, 1.0)) == 2.0        # no tangent: a plain number
    compiled = ad.compile(f, 3.0)
    assert compiled.value_and_grad(4.0) == (16.0, 4.0)
    assert ad.grad(ad.parse("x * stop_gradient(x)"))(3.0) == 3.0
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(
        ad.jacobian(lambda y: y * ad.stop_gradient(y), mode="forward")(x), np.diag(x))


def test_verify_reports_what_stop_gradient_cuts():
    # its value is x, so the function is x^2, whose derivative 2x the modes do not give
    report = ad.verify(lambda x: x * ad.stop_gradient(x), 3.0, time_limit=10.0)
    assert not report.ok
    # where the stopped value cancels, as in a stabilised logsumexp, verify agrees
    report = ad.verify(lambda x: ad.stop_gradient(x) + ad.log(ad.exp(x - ad.stop_gradient(x))),
                       3.0, time_limit=10.0)
    assert report.ok


# ---- compare and the traces ----

def test_compare_counts_and_differentiates_the_new_ops():
    def f(x, y):
        return (ad.clip(x, -1.0, 1.0) * ad.sigmoid(y) + ad.logaddexp(x, y) + ad.hypot(x, y),
                ad.arctan2(y, x) + ad.log2(y * y + 1) + ad.log10(x * x + 1)
                + ad.exp2(x) + ad.cbrt(y) + ad.stop_gradient(x) * y)
    point = (0.4, 1.3)
    report = ad.compare(f, *point)

    def reference(x, y):
        return np.array([np.clip(x, -1, 1) / (1 + np.exp(-y)) + np.logaddexp(x, y)
                         + np.hypot(x, y),
                         np.arctan2(y, x) + np.log2(y * y + 1) + np.log10(x * x + 1)
                         + np.exp2(x) + np.cbrt(y)])
    expected = np.stack([central_jacobian(lambda x: reference(x, point[1]), point[0]),
                         central_jacobian(lambda y: reference(point[0], y), point[1])], axis=1)
    expected[1, 1] += point[0]          # stop_gradient(x) * y: only its y-derivative, x
    for mode in (report.forward, report.reverse):
        np.testing.assert_allclose(mode.jacobian, expected, rtol=1e-6)
        assert mode.ops > 0


def test_trace_table_writes_the_rules_of_the_new_ops():
    table = ad.trace_table(lambda x: ad.sigmoid(x) * ad.log2(x), 2.0)
    assert [row.op for row in table.primal][1:3] == ["sigmoid", "log2"]
    s = 1 / (1 + np.exp(-2.0))
    assert table.adjoints[0] == pytest.approx(s * (1 - s) * 1.0 + s / (2 * np.log(2)),
                                              rel=1e-12)
