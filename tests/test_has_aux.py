"""has_aux=True on the transforms: JAX's conventions, hand-derived numbers."""

from collections import namedtuple

import numpy as np
import pytest

import dualad as ad


def loss_with_aux(w):
    """sum(w^2) and, beside it, what a training loop logs."""
    loss = ad.sum(w * w)
    return loss, {"loss": loss, "scaled": (2 * w, [w[0]]), "step": 7, "tag": "epoch"}


W = np.array([1.0, -2.0, 3.0])


def check_aux(aux):
    assert aux["loss"] == 14.0 and type(aux["loss"]) is float
    np.testing.assert_array_equal(aux["scaled"][0], 2 * W)
    assert isinstance(aux["scaled"][0], np.ndarray) and isinstance(aux["scaled"], tuple)
    assert aux["scaled"][1] == [1.0]
    assert aux["step"] == 7 and aux["tag"] == "epoch"


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_grad_returns_the_gradient_and_the_aux(mode):
    g, aux = ad.grad(loss_with_aux, has_aux=True, mode=mode)(W)
    np.testing.assert_array_equal(g, 2 * W)
    check_aux(aux)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_value_and_grad_returns_value_and_aux_then_the_gradient(mode):
    (value, aux), g = ad.value_and_grad(loss_with_aux, has_aux=True, mode=mode)(W)
    assert value == 14.0
    np.testing.assert_array_equal(g, 2 * W)
    check_aux(aux)


def test_aux_that_is_not_a_var_is_returned_as_it_was_given():
    marker = object()
    g, aux = ad.grad(lambda x: (x * x, marker), has_aux=True)(3.0)
    assert g == 6.0 and aux is marker
    Point = namedtuple("Point", "x y")
    g, aux = ad.grad(lambda x: (x * x, Point(x, 5)), has_aux=True)(3.0)
    assert aux == Point(3.0, 5) and type(aux) is Point


def test_argnums_with_aux():
    grads, aux = ad.grad(lambda x, y: (x * y, x + y), argnums=(0, 1), has_aux=True)(2.0, 5.0)
    assert grads == (5.0, 2.0) and aux == 7.0


def test_jvp_and_vjp_return_the_aux_last():
    out, tangent, aux = ad.jvp(lambda x: (ad.sin(x), x * 2), (0.0,), (3.0,), has_aux=True)
    assert (out, tangent, aux) == (0.0, 3.0, 0.0)
    out, vjp_fn, aux = ad.vjp(lambda x: (x * np.array([1.0, 2.0]), ad.sum(x)), 3.0,
                              has_aux=True)
    np.testing.assert_array_equal(out, [3.0, 6.0])
    assert vjp_fn(np.array([1.0, 1.0])) == (3.0,) and aux == 3.0


@pytest.mark.parametrize("jacobian", [ad.jacobian, ad.jacfwd, ad.jacrev])
def test_jacobians_return_the_jacobian_and_the_aux(jacobian):
    J, aux = jacobian(lambda x: (x ** 2, ad.sum(x)), has_aux=True)(W)
    np.testing.assert_array_equal(J, np.diag(2 * W))
    assert aux == 2.0


def test_hessian_returns_the_hessian_and_the_aux():
    H, aux = ad.hessian(lambda x: (x ** 3, x ** 2), has_aux=True)(2.0)
    assert H == 12.0 and aux == 4.0


def test_inside_another_transform_the_aux_stays_differentiable():
    # inner: d/dy (x y^2) = 2xy = 2x at y = 1, aux x y = x; outer: d/dx (2x + x) = 3
    def outer(x):
        g, aux = ad.grad(lambda y: (x * y * y, x * y), has_aux=True)(1.0)
        return g + aux
    assert ad.grad(outer)(5.0) == 3.0


def test_each_call_gets_its_own_aux():
    g = ad.grad(lambda x: (x * x, x + 1), has_aux=True)
    assert g(1.0) == (2.0, 2.0) and g(4.0) == (8.0, 5.0)


@pytest.mark.parametrize("transform", [ad.grad, ad.value_and_grad, ad.jacobian, ad.jacfwd,
                                       ad.jacrev, ad.hessian])
def test_a_function_that_does_not_return_a_pair_is_refused(transform):
    name = {"jacfwd": "jacobian", "jacrev": "jacobian"}.get(transform.__name__,
                                                          transform.__name__)
    with pytest.raises(ad.DualadError, match=rf"{name}\(has_aux=True\): the function must "
                                             r"return a pair \(output, aux\); it returned a "
                                             r"Var \(Var\(multiply, value=9.0\)\)"):
        transform(lambda x: x * x, has_aux=True)(3.0)
    with pytest.raises(ad.DualadError, match="a pair"):
        transform(lambda x: (x, x, x), has_aux=True)(3.0)


def test_jvp_and_vjp_refuse_a_function_that_does_not_return_a_pair():
    with pytest.raises(ad.DualadError, match=r"jvp\(has_aux=True\): the function must return"):
        ad.jvp(lambda x: x, (1.0,), (1.0,), has_aux=True)
    with pytest.raises(ad.DualadError, match=r"vjp\(has_aux=True\): the function must return"):
        ad.vjp(lambda x: x, 1.0, has_aux=True)


def test_a_graph_has_no_aux():
    graph = ad.parse("x * x")
    with pytest.raises(ad.DualadError, match=r"grad\(has_aux=True\): needs a Python function "
                                             r"returning a pair \(output, aux\), got a Graph"):
        ad.grad(graph, has_aux=True)
