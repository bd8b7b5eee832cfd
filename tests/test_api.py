"""The transforms against hand-derived numbers, sympy and finite differences."""

import threading

import numpy as np
import pytest
import sympy as sp

import dualad as ad
from dualad import evaluators


@pytest.fixture(autouse=True)
def _every_evaluator_set(evaluators_in_use):
    """Each test here runs on the reference evaluators and on every fast path."""


# ---- grad and value_and_grad ----

def test_grad_of_the_survey_example_matches_hand_derived_values():
    f = lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2)         # noqa: E731
    # d/dx1 = 1/x1 + x2 = 5.5, d/dx2 = x1 - cos(x2) at (2, 5)
    for mode in ("reverse", "forward"):
        g1, g2 = ad.grad(f, argnums=(0, 1), mode=mode)(2.0, 5.0)
        assert g1 == pytest.approx(5.5)
        assert g2 == pytest.approx(2.0 - np.cos(5.0))
    value, g = ad.value_and_grad(f)(2.0, 5.0)
    assert value == pytest.approx(np.log(2) + 10 - np.sin(5))
    assert g == pytest.approx(5.5) and isinstance(g, float)


def test_grad_returns_arrays_in_the_argument_shape():
    x = np.arange(6.0).reshape(2, 3) / 10
    for mode in ("reverse", "forward"):
        g = ad.grad(lambda x: ad.sum(ad.sin(x) * x), mode=mode)(x)
        assert isinstance(g, np.ndarray) and g.shape == (2, 3)
        np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x))


def test_a_scalar_value_is_a_python_float_at_every_call():
    # the first calls trace and record; later calls replay a recorded program, whose sum is
    # a numpy float64: users get a plain float from every one of them (the transforms, a
    # traced Graph called, Var.forward()), as the reference evaluators and compiled code give
    f = lambda x: ad.sum(ad.sin(x) * x)                               # noqa: E731
    x, v = np.array([0.5, 2.0]), np.array([1.0, -1.0])
    expected = float(np.sum(np.sin(x) * x))                          # by hand in numpy
    slope = float(np.dot(np.cos(x) * x + np.sin(x), v))               # f'(x) . v by hand
    value_and_grad = ad.value_and_grad(f)
    graph = ad.trace(f, x)
    leaf = ad.Var(x, name="x")
    node = f(leaf)
    for call in range(40):
        value, _ = value_and_grad(x)
        assert type(value) is float and value == pytest.approx(expected), call
        assert type(graph(x)) is float and graph(x) == pytest.approx(expected), call
        assert type(node.forward()) is float and type(node.value) is float, call
        out, tangent = ad.jvp(f, (x,), (v,))
        assert type(out) is float and out == pytest.approx(expected), call
        assert type(tangent) is float and tangent == pytest.approx(slope), call
    for value in (np.float64(2.5), np.array(2.5), 2.5):
        assert type(ad.jvp(lambda x: x * 1.0, (value,), (1.0,))[0]) is float


def kind_of(result):
    """A result's form as users see it: Python types, and dtype and shape for arrays."""
    if isinstance(result, (tuple, list)):
        return (type(result).__name__, *map(kind_of, result))
    if isinstance(result, dict):
        return tuple(sorted((key, kind_of(value)) for key, value in result.items()))
    if isinstance(result, np.ndarray):
        return ("ndarray", result.dtype.str, result.shape)
    return type(result).__name__


def outcome(call):
    """The kind of what ``call()`` returns, or the class of the error it raises."""
    try:
        return kind_of(call())
    except ad.DualadError as error:
        return type(error).__name__


REFERENCE = {"value": evaluators.ValueEvaluator, "reverse": evaluators.ReverseEvaluator,
             "forward": evaluators.ForwardEvaluator}
SHAPES_OF_ARGUMENTS = {"float": 0.7, "0-d array": np.array(0.7), "vector": np.array([0.5, 2.0]),
                       "ints": np.array([1, 2]), "matrix": np.arange(6.0).reshape(2, 3) / 7,
                       "complex": np.array([0.5 + 0.1j, 2.0])}


@pytest.mark.parametrize("argument", sorted(SHAPES_OF_ARGUMENTS))
def test_every_call_gives_results_of_the_reference_evaluators_kinds(argument, evaluators_in_use,
                                                                       monkeypatch):
    """Call after call (traced, recorded, replayed, written out), each transform gives what
    the reference evaluators give: the same Python types, dtypes and shapes, or the same
    error (a gradient of an output that is not a scalar)."""
    x = SHAPES_OF_ARGUMENTS[argument]
    ones = np.ones_like(x) if isinstance(x, np.ndarray) else 1.0
    functions = {"sum": lambda x: ad.sum(ad.sin(x) * x), "mean": lambda x: ad.mean(ad.exp(x) * x),
                 "elementwise": lambda x: ad.tanh(x) * x,
                 "two outputs": lambda x: (ad.sum(x * x), ad.sin(x))}
    for name, f in functions.items():
        calls = {"jvp": lambda: ad.jvp(f, (x,), (ones,)),
                 "jacobian": lambda: ad.jacobian(f)(x),
                 "jacobian, reverse": lambda: ad.jacobian(f, mode="reverse")(x)}
        if name != "two outputs":
            calls["value_and_grad"] = lambda: ad.value_and_grad(f)(x)
            calls["grad, forward"] = lambda: ad.grad(f, mode="forward")(x)
            calls["value_and_grad, aux"] = lambda: ad.value_and_grad(
                lambda x: (f(x), {"h": ad.sin(x)}), has_aux=True)(x)
        for what, call in calls.items():
            with monkeypatch.context() as reference:
                for mode, cls in REFERENCE.items():
                    reference.setitem(evaluators.DEFAULT, mode, cls)
                expected = outcome(call)
            for k in range(5):
                assert outcome(call) == expected, (name, what, k)


def test_grad_of_a_non_scalar_output_says_it_must_be_a_scalar_and_gives_the_shape():
    for mode in ("reverse", "forward"):
        with pytest.raises(ad.ShapeMismatchError, match=r"grad: .*must be a scalar.*\(3,\)"):
            ad.grad(lambda x: x * 2, mode=mode)(np.ones(3))
    with pytest.raises(ad.ShapeMismatchError, match="2 outputs"):
        ad.grad(lambda x: (x, x))(1.0)


def test_argnums_and_modes_are_checked():
    with pytest.raises(ad.DualadError, match="argnums 2"):
        ad.grad(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    with pytest.raises(ad.DualadError, match="mode must be one of"):
        ad.grad(lambda x: x, mode="sideways")
    assert ad.grad(lambda x, y: x * y, argnums=-1)(3.0, 2.0) == 3.0


def test_an_argument_the_function_ignores_has_zero_gradient():
    g = ad.grad(lambda x, y: x * 2.0, argnums=(0, 1))(1.0, np.ones(2))
    assert g[0] == 2.0
    np.testing.assert_array_equal(g[1], np.zeros(2))


# ---- jvp and vjp ----

def test_jvp_and_vjp_with_array_shapes():
    W = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    f = lambda x: ad.tanh(W @ x)                                   # noqa: E731
    x = np.array([0.1, -0.2, 0.3])
    v = np.array([1.0, 0.5, -1.0])
    u = np.array([2.0, -1.0])
    J = (1 - np.tanh(W @ x) ** 2)[:, None] * W                     # hand-derived
    out, jv = ad.jvp(f, (x,), (v,))
    np.testing.assert_allclose(out, np.tanh(W @ x))
    np.testing.assert_allclose(jv, J @ v)
    out, vjp_fn = ad.vjp(f, x)
    (ujt,) = vjp_fn(u)
    np.testing.assert_allclose(ujt, u @ J)
    (again,) = vjp_fn(2 * u)               # the tape is reused
    np.testing.assert_allclose(again, 2 * u @ J)
    with pytest.raises(ad.ShapeMismatchError, match=r"cotangent 0 has shape \(3,\)"):
        vjp_fn(np.ones(3))
    with pytest.raises(ad.ShapeMismatchError, match=r"tangent 0 has shape \(2,\)"):
        ad.jvp(f, (x,), (np.ones(2),))


def test_jvp_and_vjp_with_several_outputs():
    f = lambda x, y: (x * y, x + y)                                # noqa: E731
    out, dot = ad.jvp(f, (2.0, 3.0), (1.0, 1.0))
    assert out == (6.0, 5.0) and dot == (5.0, 2.0)
    out, vjp_fn = ad.vjp(f, 2.0, 3.0)
    assert vjp_fn((1.0, 0.0)) == (3.0, 2.0)
    assert vjp_fn(0.0, 1.0) == (1.0, 1.0)


# ---- Jacobians ----

def numeric_jacobian(f, x, h=1e-6):
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1)


A53 = np.array([[0.2, -0.5, 1.0], [0.3, 0.1, -0.4], [1.2, 0.0, 0.5], [-0.7, 0.8, 0.2],
                [0.4, 0.4, -0.9]])


def f_3_to_5(x):
    return ad.sin(A53 @ x) * ad.sum(x ** 2) + ad.exp(A53 @ x * 0.1)


def f_5_to_3(x):
    return ad.tanh(A53.T @ (x * ad.cos(x)))


def numpy_3_to_5(x):
    return np.sin(A53 @ x) * np.sum(x ** 2) + np.exp(A53 @ x * 0.1)


def numpy_5_to_3(x):
    return np.tanh(A53.T @ (x * np.cos(x)))


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_jacobian_in_every_mode_matches_finite_differences(mode):
    x3 = np.array([0.3, -0.7, 1.1])
    x5 = np.array([0.5, -0.2, 0.9, 1.3, -1.0])
    J = ad.jacobian(f_3_to_5, mode=mode)(x3)
    assert J.shape == (5, 3)
    np.testing.assert_allclose(J, numeric_jacobian(numpy_3_to_5, x3), rtol=1e-6, atol=1e-8)
    J = ad.jacobian(f_5_to_3, mode=mode)(x5)
    assert J.shape == (3, 5)
    np.testing.assert_allclose(J, numeric_jacobian(numpy_5_to_3, x5), rtol=1e-6, atol=1e-8)


def test_jacfwd_and_jacrev_are_the_two_modes():
    x = np.array([0.3, -0.7, 1.1])
    np.testing.assert_allclose(ad.jacfwd(f_3_to_5)(x), ad.jacrev(f_3_to_5)(x), rtol=1e-12)


def test_auto_mode_picks_forward_when_inputs_are_fewer_than_outputs(monkeypatch):
    from dualad import api
    used = []
    real_forward, real_reverse = api._forward_jacobian, api._reverse_jacobian
    monkeypatch.setattr(api, "_forward_jacobian",
                        lambda *a: used.append("forward") or real_forward(*a))
    monkeypatch.setattr(api, "_reverse_jacobian",
                        lambda *a: used.append("reverse") or real_reverse(*a))
    ad.jacobian(f_3_to_5)(np.ones(3))
    ad.jacobian(f_5_to_3)(np.ones(5))
    assert used == ["forward", "reverse"]


def test_jacobian_layout_for_matrix_arguments_and_several_outputs():
    X = np.arange(6.0).reshape(2, 3) / 10
    J = ad.jacobian(lambda X: ad.sum(X ** 2, axis=0))(X)
    assert J.shape == (3, 2, 3)
    expected = np.zeros((3, 2, 3))
    for j in range(3):
        expected[j, :, j] = 2 * X[:, j]
    np.testing.assert_allclose(J, expected)
    J1, J2 = ad.jacobian(lambda x: (x * 2, ad.sum(x)), mode="forward")(np.ones(2))
    np.testing.assert_allclose(J1, 2 * np.eye(2))
    np.testing.assert_allclose(J2, [1.0, 1.0])


# ---- Hessians ----

def test_hessian_matches_sympy_hessian():
    x, y, z = sp.symbols("x y z")
    expr = sp.exp(x * y) + sp.sin(y) * z ** 3 + sp.log(x) * z
    f = lambda x, y, z: ad.exp(x * y) + ad.sin(y) * z ** 3 + ad.log(x) * z   # noqa: E731
    point = {x: 0.7, y: -0.4, z: 1.3}
    exact = np.array(sp.hessian(expr, (x, y, z)).subs(point).evalf(), dtype=float)
    H = ad.hessian(f, argnums=(0, 1, 2))(0.7, -0.4, 1.3)
    np.testing.assert_allclose(np.array(H, dtype=float), exact, rtol=1e-10)


def test_hessian_of_a_vector_argument_matches_sympy():
    xs = sp.symbols("x0:3")
    expr = sp.tanh(xs[0] * xs[1]) + xs[2] ** 2 * xs[0] + sp.cos(xs[1] + xs[2])
    W = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    def f(x):
        a, b, c = (ad.dot(W[i], x) for i in range(3))
        return ad.tanh(a * b) + c ** 2 * a + ad.cos(b + c)
    point = np.array([0.5, -0.3, 0.8])
    exact = np.array(sp.hessian(expr, xs).subs(dict(zip(xs, point))).evalf(), dtype=float)
    np.testing.assert_allclose(ad.hessian(f)(point), exact, rtol=1e-10)


def test_hessian_vector_product_matches_sympy():
    x, y = sp.symbols("x y")
    expr = x ** 3 * y + sp.sin(x * y)
    H = np.array(sp.hessian(expr, (x, y)).subs({x: 1.1, y: 0.4}).evalf(), dtype=float)
    hv = ad.hvp(lambda x, y: x ** 3 * y + ad.sin(x * y), (1.1, 0.4), (1.0, -2.0))
    np.testing.assert_allclose(hv, H @ np.array([1.0, -2.0]), rtol=1e-10)


# ---- nesting ----

def test_perturbation_confusion_case_gives_one():
    # ForwardDiff.jl's ConfusionTest: d/dx [x * d/dy (x + y)] at x = 1 is 1
    inner = lambda x: ad.grad(lambda y: x + y)(1.0)               # noqa: E731
    assert ad.grad(lambda x: x * inner(x))(1.0) == 1.0
    assert ad.grad(lambda x: x * inner(x), mode="forward")(1.0) == 1.0
    out, dot = ad.jvp(lambda x: x * ad.jvp(lambda y: x + y, (1.0,), (1.0,))[1], (1.0,), (1.0,))
    assert dot == 1.0


def test_grad_of_grad_is_the_second_derivative():
    t = sp.Symbol("t")
    expr = sp.sin(t) * sp.exp(t / 2) + t ** 4
    f = lambda t: ad.sin(t) * ad.exp(t / 2) + t ** 4               # noqa: E731
    for outer in ("reverse", "forward"):
        for inner in ("reverse", "forward"):
            second = ad.grad(ad.grad(f, mode=inner), mode=outer)(0.8)
            assert second == pytest.approx(float(sp.diff(expr, t, 2).subs(t, 0.8)), rel=1e-12)


# ---- trace once, evaluate many times ----

def test_a_traced_graph_is_re_evaluated_without_re_tracing():
    calls = []

    def f(x, w):
        calls.append(1)
        return ad.exp(x * w) + w ** 2

    graph = ad.trace(f, 1.0, 2.0)
    assert len(calls) == 1
    for x, w in [(0.5, 1.5), (-1.0, 0.3)]:
        value, (gx, gw) = ad.value_and_grad(graph, argnums=(0, 1))(x, w)
        assert value == pytest.approx(np.exp(x * w) + w ** 2)
        assert gx == pytest.approx(w * np.exp(x * w))
        assert gw == pytest.approx(x * np.exp(x * w) + 2 * w)
        _, dot = ad.jvp(graph, (x, w), (1.0, 0.0))
        assert dot == pytest.approx(w * np.exp(x * w))
    assert len(calls) == 1


def test_a_traced_branch_is_checked_where_the_graph_is_reused():
    def f(x):
        return x * 2 if x > 0 else -x
    graph = ad.trace(f, 1.0)
    assert graph(3.0) == 6.0             # the x > 0 branch, recorded at x = 1, still holds
    with pytest.raises(ad.BranchChangedError, match="x > 0 was taken as True"):
        graph(-3.0)                      # it would go the other way: refused, not -6
    with pytest.raises(ad.BranchChangedError):
        ad.grad(graph)(-3.0)
    assert ad.grad(f)(-3.0) == -1.0      # re-tracing at -3 takes the other branch


# ---- re-entrancy ----

def test_one_graph_evaluated_from_four_threads_at_once():
    graph = ad.trace(lambda x, y: ad.sin(x * y) + x ** 3 / y, 1.0, 2.0)
    grad_fn = ad.value_and_grad(graph, argnums=(0, 1))
    errors, barrier = [], threading.Barrier(4)

    def worker(k):
        barrier.wait()
        for i in range(300):
            x, y = 0.1 * k + 0.001 * i, 1.0 + 0.5 * k
            value, (gx, gy) = grad_fn(x, y)
            expected = (np.sin(x * y) + x ** 3 / y,
                        y * np.cos(x * y) + 3 * x ** 2 / y,
                        x * np.cos(x * y) - x ** 3 / y ** 2)
            if not np.allclose((value, gx, gy), expected, rtol=1e-12, atol=1e-14):
                errors.append((k, i, (value, gx, gy), expected))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ---- Dual numbers on their own ----

def test_dual_arithmetic_with_numbers_arrays_and_duals():
    x = ad.Dual(1.5, 1.0)
    y = np.sin(x)
    assert y.primal == np.sin(1.5) and y.tangent == np.cos(1.5)
    z = 2 / x + x ** 2 - 3 * x + np.array([1.0, 2.0]) * x
    np.testing.assert_allclose(z.primal, 2 / 1.5 + 1.5 ** 2 - 4.5 + np.array([1.5, 3.0]))
    np.testing.assert_allclose(z.tangent, -2 / 1.5 ** 2 + 3.0 - 3 + np.array([1.0, 2.0]))
    assert x < 2 and x > 1 and x == 1.5 and not (x != 1.5)


def test_dual_with_several_directions_is_a_jacobian_in_one_pass():
    v = ad.Dual(np.array([1.0, 2.0, 3.0]), np.eye(3))
    out = ad.Dual(np.array([0.5, 0.5]), np.zeros((3, 2)))
    M = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])
    y = np.tanh(M @ v) + out
    J = (1 - np.tanh(M @ v.primal) ** 2)[:, None] * M
    np.testing.assert_allclose(y.tangent, J.T)      # row k: direction e_k
    s = np.sum(v * v)
    np.testing.assert_allclose(s.tangent, 2 * v.primal)


def test_dual_errors_are_clear():
    with pytest.raises(ad.ShapeMismatchError, match="tangent shape"):
        ad.Dual(np.ones(3), np.ones(2))
    with pytest.raises(ad.DualadError, match="numpy.fmod on a Dual"):
        np.fmod(ad.Dual(1.0, 1.0), 1.0)


# ---- many unit directions run in groups ----

@pytest.mark.parametrize("budget", [1, 7, 40, 2**22])
def test_batched_jacobians_in_groups_of_directions_agree_with_the_formula(monkeypatch, budget):
    """Where the tangents of all unit directions would not fit (BATCH_ELEMENTS numbers at a
    node), forward and reverse Jacobians and forward gradients run in groups: the same numbers,
    d tanh(Wx)_i/dW_ij = (1 - tanh(Wx)_i^2) x_j and d/dx_j = (1 - tanh(Wx)_i^2) W_ij."""
    import dualad.shapes
    monkeypatch.setattr(dualad.shapes, "BATCH_ELEMENTS", budget)
    rng = np.random.default_rng(3)
    W, x = rng.normal(size=(3, 4)), rng.normal(size=4)
    slope = 1 - np.tanh(W @ x) ** 2
    by_hand_W = np.zeros((3, 3, 4))
    for i in range(3):
        by_hand_W[i, i] = slope[i] * x
    by_hand_x = slope[:, None] * W
    for mode in ("forward", "reverse"):
        JW, Jx = ad.jacobian(lambda W, x: ad.tanh(W @ x), argnums=(0, 1), mode=mode)(W, x)
        np.testing.assert_allclose(JW, by_hand_W, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(Jx, by_hand_x, rtol=1e-13, atol=1e-15)
    gW, gx = ad.grad(lambda W, x: ad.sum(ad.tanh(W @ x)), argnums=(0, 1), mode="forward")(W, x)
    np.testing.assert_allclose(gW, np.outer(slope, x), rtol=1e-13)
    np.testing.assert_allclose(gx, slope @ W, rtol=1e-13)
