"""Conventions at the edges of domains (JAX's, which are the mathematically right ones).

Each expected number is derived by hand in the comment beside it.
"""

import math
import warnings

import numpy as np
import pytest

import dualad as ad


def test_power_rule_at_zero():
    # d/dx x**0 = 0 (x**0 = 1 is constant), d/dx x**1 = 1, d/dx x**2 = 2x = 0 at 0
    assert ad.grad(lambda x: x ** 0)(0.0) == 0.0
    assert ad.grad(lambda x: x ** 1)(0.0) == 1.0
    assert ad.grad(lambda x: x ** 2)(0.0) == 0.0
    assert ad.grad(lambda x: x ** 0, mode="forward")(0.0) == 0.0
    # d/dy 0**y = 0**y log 0, but 0**y = 0 for y > 0: the slope in y is 0
    assert ad.grad(lambda x, y: x ** y, argnums=1)(0.0, 2.0) == 0.0
    assert ad.grad(lambda x, y: x ** y, argnums=1, mode="forward")(0.0, 2.0) == 0.0
    # the Hessian of x**1 is 0 everywhere, 0 included; of x**2 it is 2
    assert ad.hessian(lambda x: x ** 1)(0.0) == 0.0
    assert ad.hessian(lambda x: x ** 2)(0.0) == 2.0


def test_third_derivative_of_a_square_at_zero_is_zero():
    third = ad.grad(ad.grad(ad.grad(lambda x: x ** 2)))
    assert third(0.0) == 0.0
    assert third(1.5) == 0.0
    # and of x**3 it is 6, at 0 too
    assert ad.grad(ad.grad(ad.grad(lambda x: x ** 3)))(0.0) == 6.0


def test_one_zero_element_does_not_turn_a_hessian_row_into_nan():
    x = np.array([0.0, 1.0, 2.0])
    H = ad.hessian(lambda x: ad.sum(x ** 2) + x[1] * x[2])(x)
    # d2/dxi dxj of sum x^2 + x1 x2: 2 on the diagonal, 1 at (1, 2) and (2, 1)
    expected = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 1.0], [0.0, 1.0, 2.0]])
    np.testing.assert_array_equal(H, expected)
    H = ad.hessian(lambda x: ad.sum(x ** 1) * 3.0)(x)
    np.testing.assert_array_equal(H, np.zeros((3, 3)))


def test_compiled_power_rule_at_zero():
    f = ad.compile(lambda x: x ** 0 + x ** 1, 0.0)
    assert f.value_and_grad(0.0) == (1.0, 1.0)      # 1 + 0, and 0 + 1
    g = ad.compile(lambda x, y: x ** y, 0.0, 2.0, argnums=(0, 1))
    assert g.value_and_grad(0.0, 2.0) == (0.0, (0.0, 0.0))   # 2*0**1 and 0**2 log-free 0


def test_power_of_a_negative_base_with_a_variable_exponent_is_nan_not_a_number():
    # (-2)**y is not real for non-integer y near 2: d/dy is undefined, and says so
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = ad.grad(lambda x, y: x ** y, argnums=1)(-2.0, 2.0)
    assert math.isnan(g)
