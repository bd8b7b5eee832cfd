"""Differential test: every way dualad computes a Jacobian agrees, on random array programs.

Hypothesis draws a program (:func:`strategies.array_programs`): a few array inputs of random
small shapes, then steps taken from smooth elementwise ops of the registry, broadcasting binary
ops, indexing of every kind (ints, slices with steps, ``None``, ``...``, integer and boolean
arrays, adjacent or separated), ``sum``/``mean`` with ``axis`` and ``keepdims``, ``reshape``,
``transpose`` and ``matmul``; the output is a scalar or a vector. The same program runs on
dualad Vars and on plain numpy arrays. The Jacobian with respect to every input from

- batched forward mode (``ad.jacobian(mode="forward")``: every direction in one sweep),
- unbatched forward mode (one ``ad.jvp`` per input element),
- reverse mode (``ad.jacobian(mode="reverse")``),
- ``ad.compile`` (``.jvp`` per input element, and ``.value_and_grad`` for a scalar output)

must agree to round-off, and with central differences of the numpy program loosely.

CI runs a few hundred programs on each evaluator set (1.5 times the hypothesis profile's ``max_examples``). To run
thousands of fresh ones, set ``DUALAD_DIFFERENTIAL_PROGRAMS`` and pick the non-derandomized
profile::

    DUALAD_HYPOTHESIS_PROFILE=dev DUALAD_DIFFERENTIAL_PROGRAMS=5000 \\
        python -m pytest -q -p no:cacheprovider tests/test_differential.py
"""

import os

import numpy as np
import pytest
from hypothesis import given, settings

import dualad as ad

from strategies import NUMPY_OPS, array_programs, central_jacobian, run_array_program

PROGRAMS = int(os.environ.get("DUALAD_DIFFERENTIAL_PROGRAMS",
                              3 * settings.default.max_examples // 2))


@pytest.fixture(autouse=True)
def _every_evaluator_set(evaluators_in_use):
    """Each program runs on the reference evaluators and on the scalar fast path."""


def unit(shape, i):
    """The direction along element ``i`` of a value of ``shape`` (a float for a scalar)."""
    if shape == ():
        return 1.0
    direction = np.zeros(shape)
    direction[i] = 1.0
    return direction


def assert_close(actual, expected, rtol, scale, what):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), expected, rtol=rtol,
                               atol=rtol * scale, err_msg=what)


@settings(max_examples=PROGRAMS)
@given(array_programs())
def test_every_mode_agrees_on_random_array_programs(program):
    inputs = program["inputs"]
    f = lambda *xs: run_array_program(ad, program, xs)                # noqa: E731
    reference = lambda *xs: run_array_program(NUMPY_OPS, program, xs)  # noqa: E731
    argnums = tuple(range(len(inputs)))
    out = np.asarray(reference(*inputs))
    scalar_output = program["weights"] is not None

    forward = ad.jacobian(f, argnums, mode="forward")(*inputs)
    reverse = ad.jacobian(f, argnums, mode="reverse")(*inputs)
    graph = ad.trace(f, *inputs)
    compiled = ad.compile(f, *inputs, argnums=argnums)
    np.testing.assert_allclose(graph(*inputs), out, rtol=1e-12, atol=1e-12)
    zeros = [unit(np.shape(x), ()) * 0.0 for x in inputs]
    for k, x in enumerate(inputs):
        shape = np.shape(x)
        fd = central_jacobian(lambda xk: reference(*inputs[:k], xk, *inputs[k + 1:]), x)
        exact = np.asarray(reverse[k], dtype=float)
        scale = max(1.0, float(np.max(np.abs(exact), initial=0.0)))
        assert np.shape(forward[k]) == np.shape(exact) == out.shape + shape
        assert_close(forward[k], exact, 1e-9, scale, f"batched forward vs reverse, input {k}")
        for i in np.ndindex(shape):
            tangents = list(zeros)
            tangents[k] = unit(shape, i)
            column = exact[(Ellipsis,) + i]
            _, tangent = ad.jvp(graph, tuple(inputs), tuple(tangents))
            assert_close(tangent, column, 1e-9, scale, f"jvp along input {k} element {i}")
            _, tangent = compiled.jvp(inputs, tangents)
            assert_close(tangent, column, 1e-9, scale, f"compiled jvp, input {k} element {i}")
        assert_close(exact, fd, 1e-5, scale, f"reverse vs central differences, input {k}")
    if scalar_output:
        value, grads = compiled.value_and_grad(*inputs)
        assert_close(value, out, 1e-12, max(1.0, abs(float(out))), "compiled value")
        for k, grad in enumerate(grads):
            exact = np.asarray(reverse[k], dtype=float)
            scale = max(1.0, float(np.max(np.abs(exact), initial=0.0)))
            assert_close(grad, exact, 1e-9, scale, f"compiled value_and_grad, input {k}")
