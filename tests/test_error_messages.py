"""Errors that say what to do: stack's axis, hessian of a non-scalar, indexing a scalar.

(A compiled function called with the wrong number of arguments is in test_compile.py.)
"""

import re

import numpy as np
import pytest

import dualad as ad


@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("axis", range(-5, 5))
def test_stack_takes_the_axes_numpy_takes_and_refuses_the_others(shape, axis):
    rng = np.random.default_rng(len(shape))
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    try:
        expected = np.stack([a, b], axis=axis)
    except np.exceptions.AxisError:
        with pytest.raises(ad.ShapeMismatchError,
                           match=rf"stack: axis {axis} is out of bounds for the result's "
                                 rf"{len(shape) + 1} dimension\(s\) \(values of shape "
                                 rf"{re.escape(str(shape))}, so axis is from "
                                 rf"{-len(shape) - 1} to {len(shape)}\)"):
            ad.stack([ad.Var(a), ad.Var(b)], axis=axis)
        return
    got = ad.stack([ad.Var(a), ad.Var(b)], axis=axis).value
    np.testing.assert_array_equal(got, expected)


def test_stack_gradient_along_the_last_axis():
    # f(x) = sum(stack([x, x*x], axis=-1) * w): df/dx = w[..., 0] + 2 x w[..., 1]
    x = np.array([1.0, -2.0, 0.5])
    w = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    grad = ad.grad(lambda x: ad.sum(ad.stack([x, x * x], axis=-1) * w))(x)
    np.testing.assert_allclose(grad, w[:, 0] + 2 * x * w[:, 1], rtol=1e-15)
    grad = ad.grad(lambda x: ad.sum(ad.stack([x, x * x], axis=np.int64(1)) * w))(x)
    np.testing.assert_allclose(grad, w[:, 0] + 2 * x * w[:, 1], rtol=1e-15)


def test_stack_refuses_an_axis_that_is_not_an_integer():
    with pytest.raises(ad.DualadError, match="stack: axis must be an integer, got 1.0"):
        ad.stack([ad.Var(1.0), 2.0], axis=1.0)


def test_hessian_of_a_non_scalar_says_to_reduce_it_and_suggests_no_missing_argument():
    with pytest.raises(ad.ShapeMismatchError) as error:
        ad.hessian(lambda x: x * x)(np.ones(2))
    message = str(error.value)
    assert message.startswith("hessian: the output must be a scalar, but it is not "
                              "(shape (2,))")
    assert "ad.sum(...)" in message and "jacobian" in message
    assert "seed" not in message          # hessian takes no seed


def test_indexing_a_scalar_var_is_a_dualad_error_saying_what_to_do():
    with pytest.raises(ad.DualadError, match=r"getitem: .*shape \(\)"):
        ad.Var(3.0)[0]
