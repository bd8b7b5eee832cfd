"""Forward == reverse == sympy == finite differences, on every primitive and on random graphs."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import dualad as ad
from dualad.primitives import REGISTRY

from strategies import (ELEMENTWISE, NUMPY_OPS, build_program, exact_partial, random_point,
                        random_programs, sample_points, symbols_for)


@pytest.fixture(autouse=True)
def _every_evaluator_set(evaluators_in_use):
    """Each test here runs on the reference evaluators and on every fast path."""


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_forward_reverse_and_sympy_agree_on_every_primitive(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    spec = prim.sympy(*symbols)
    f = getattr(ad, name)
    argnums = tuple(range(prim.nin))
    for args in sample_points(prim, 4, seed=3):
        exact = [float(exact_partial(prim, i, symbols).subs(dict(zip(symbols, args))))
                 for i in range(prim.nin)]
        reverse = ad.grad(f, argnums=argnums)(*args)
        forward = ad.grad(f, argnums=argnums, mode="forward")(*args)
        np.testing.assert_allclose(reverse, exact, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(forward, exact, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_dual_numbers_take_every_derivative_from_the_registry(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    spec = prim.sympy(*symbols)
    for args in sample_points(prim, 3, seed=4):
        for i in range(prim.nin):
            duals = [ad.Dual(a, 1.0 if j == i else 0.0) for j, a in enumerate(args)]
            out = prim.numpy(*duals)
            exact_value = float(spec.subs(dict(zip(symbols, args))))
            exact = float(exact_partial(prim, i, symbols).subs(dict(zip(symbols, args))))
            if prim.zero_derivative:      # no tangent flows: a plain number comes out
                assert not isinstance(out, ad.Dual) and exact == 0.0
                out = ad.Dual(out, 0.0)
            assert isinstance(out, ad.Dual)
            assert out.primal == pytest.approx(exact_value, rel=1e-12, abs=1e-12)
            assert out.tangent == pytest.approx(exact, rel=1e-10, abs=1e-12)


def central_gradient(f, point, h=1e-6):
    grads = []
    for i in range(len(point)):
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        grads.append((f(*up) - f(*down)) / (2 * h))
    return np.array(grads)


@given(random_programs(), st.integers(0, 2**32 - 1))
def test_forward_equals_reverse_equals_finite_differences_on_random_graphs(program, seed):
    n_inputs, steps = program
    point = random_point(n_inputs, seed)
    f = lambda *xs: build_program(ad, n_inputs, steps, xs)              # noqa: E731
    reference = lambda *xs: build_program(NUMPY_OPS, n_inputs, steps, xs)  # noqa: E731
    argnums = tuple(range(n_inputs))
    value, reverse = ad.value_and_grad(f, argnums=argnums)(*point)
    forward = ad.grad(f, argnums=argnums, mode="forward")(*point)
    assert value == pytest.approx(reference(*point), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-12)
    fd = central_gradient(reference, point)
    np.testing.assert_allclose(reverse, fd, rtol=1e-4, atol=1e-5)


@given(random_programs(max_inputs=3, max_ops=10), st.integers(0, 2**32 - 1))
def test_u_dot_J_v_equals_u_J_dot_v_on_random_graphs(program, seed):
    n_inputs, steps = program
    rng = np.random.default_rng(seed)
    point = random_point(n_inputs, seed)
    # several outputs: the graph's result scaled by different constants, plus each input
    def f(*xs):
        out = build_program(ad, n_inputs, steps, xs)
        return (out, out * xs[0], ad.sin(out) + xs[-1])
    v = tuple(float(x) for x in rng.standard_normal(n_inputs))
    u = tuple(float(x) for x in rng.standard_normal(3))
    _, jv = ad.jvp(f, tuple(point), v)
    _, vjp_fn = ad.vjp(f, *point)
    ujt = vjp_fn(u)
    # a derivative nan in both modes (hypot's at (0, 0): 0 / 0) is the same answer
    assert np.dot(u, jv) == pytest.approx(np.dot(ujt, v), rel=1e-9, abs=1e-10, nan_ok=True)


@given(random_programs(max_inputs=3, max_ops=10, arrays=True), st.integers(0, 2**32 - 1))
def test_jacobian_modes_agree_on_random_graphs_with_array_inputs(program, seed):
    n_inputs, steps = program
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-1.5, 1.5, size=3) for _ in range(n_inputs)]
    f = lambda *a: build_program(ad, n_inputs, steps, a)               # noqa: E731
    argnums = tuple(range(n_inputs))
    forward = ad.jacobian(f, argnums, mode="forward")(*xs)
    reverse = ad.jacobian(f, argnums, mode="reverse")(*xs)
    for jf, jr in zip(forward, reverse):
        assert jf.shape == (3, 3)
        np.testing.assert_allclose(jf, jr, rtol=1e-9, atol=1e-12)
    # and against central differences of the same program run by numpy
    reference = lambda *a: build_program(NUMPY_OPS, n_inputs, steps, a)   # noqa: E731
    for i, jf in enumerate(forward):
        fd = np.zeros((3, 3))
        for k in range(3):
            up = [x.copy() for x in xs]
            down = [x.copy() for x in xs]
            up[i][k] += 1e-6
            down[i][k] -= 1e-6
            fd[:, k] = (reference(*up) - reference(*down)) / 2e-6
        np.testing.assert_allclose(jf, fd, rtol=1e-4, atol=1e-5)
