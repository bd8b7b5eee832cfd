"""Checks shared by the tests of ops given with a numpy reference: every mode of dualad
against central differences of the numpy function."""

import numpy as np
import pytest

import dualad as ad
from strategies import central_jacobian


def reference_jacobians(numpy_f, args):
    """Central differences of the numpy function, one Jacobian per argument."""
    def along(i):
        return lambda y: numpy_f(*args[:i], y, *args[i + 1:])
    return [central_jacobian(along(i), args[i]) for i in range(len(args))]


def check_jacobians(f, numpy_f, args, mode, rtol=1e-6, atol=1e-8):
    """The value on Vars is numpy's, and ``ad.jacobian`` (several directions in one sweep) is
    the central differences."""
    np.testing.assert_allclose(np.asarray(f(*[ad.Var(a) for a in args]).value),
                               numpy_f(*args), rtol=1e-12, atol=1e-12)
    jacobians = ad.jacobian(f, argnums=tuple(range(len(args))), mode=mode)(*args)
    for jacobian, reference in zip(jacobians, reference_jacobians(numpy_f, args)):
        np.testing.assert_allclose(jacobian, reference, rtol=rtol, atol=atol)


def check_one_direction(f, numpy_f, args, rng, rtol=1e-6, atol=1e-8):
    """One direction at a time: ``ad.jvp``, numpy's own function on Duals, ``ad.vjp`` and
    the compiled value_and_grad and jvp of <g, f>, each against the central differences."""
    references = reference_jacobians(numpy_f, args)
    tangents = tuple(rng.standard_normal(np.shape(a)) for a in args)
    expected_dot = sum(np.tensordot(j, t, axes=np.ndim(t)) for j, t in zip(references, tangents))
    _, out_dot = ad.jvp(f, args, tangents)
    np.testing.assert_allclose(out_dot, expected_dot, rtol=rtol, atol=atol)
    duals = [ad.Dual(a, t) for a, t in zip(args, tangents)]
    np.testing.assert_allclose(numpy_f(*duals).tangent, expected_dot, rtol=rtol, atol=atol)
    g = rng.standard_normal(np.shape(numpy_f(*args)))
    expected_bars = [np.tensordot(g, j, axes=np.ndim(g)) for j in references]
    _, pullback = ad.vjp(f, *args)
    for bar, expected in zip(pullback(g), expected_bars):
        np.testing.assert_allclose(bar, expected, rtol=rtol, atol=atol)
    compiled = ad.compile(lambda *a: ad.sum(f(*a) * g), *args, argnums=tuple(range(len(args))))
    value, grads = compiled.value_and_grad(*args)
    assert value == pytest.approx(np.sum(numpy_f(*args) * g), rel=1e-12, abs=1e-12)
    for grad, expected in zip(grads, expected_bars):
        np.testing.assert_allclose(grad, expected, rtol=rtol, atol=atol)
    _, compiled_dot = compiled.jvp(args, tangents)
    assert compiled_dot == pytest.approx(np.sum(expected_dot * g), rel=rtol, abs=atol)
