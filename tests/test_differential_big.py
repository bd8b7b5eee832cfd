"""Differential test on arrays big enough for the fast paths' memory machinery.

From :data:`~dualad.evaluators.record.IN_PLACE_SIZE` elements a replayed program writes results
into arrays it no longer reads; from :data:`~dualad.evaluators.record.BIG_ARRAY` a transform's
trace lets values go and reuses their arrays, and compiled code frees its locals and writes
with ``out=``. None of that may change a number. Random programs of broadcasting elementwise
ops, matrix products and reductions over matrices of 2^14 to 2^17 elements, some of them
keeping an intermediate node, its array or a view of it, run call after call through the
traced transforms (recorded, then replayed), ``ad.compile`` and the reference evaluators.
Every call must give the reference evaluators' numbers, write none of its inputs and nothing
the function kept, and hand out gradients that are the caller's own. The reference ``jvp`` is
itself checked against the complex-step derivative of the same program in plain numpy.
"""

import random

import numpy as np
import pytest

import dualad as ad
from dualad import evaluators
from dualad.evaluators.record import BIG_ARRAY, IN_PLACE_SIZE

REFERENCE = {"value": evaluators.ValueEvaluator, "reverse": evaluators.ReverseEvaluator,
             "forward": evaluators.ForwardEvaluator}
STEPS = ["sin", "tanh", "bell", "product", "sum", "difference", "square", "cube", "negative",
         "affine", "matmul", "column_sums", "centred_rows", "scaled_by_sums", "ratio",
         "softened", "hold", "hold_array", "hold_view"]


def random_program(seed):
    """(rows, columns, steps): each step an operation and where its operands come from."""
    rng = random.Random(seed)
    rows, columns = rng.choice([(128, 128), (128, 256), (256, 256), (256, 512)])
    steps = [(rng.choice(STEPS), rng.random(), rng.random()) for _ in range(rng.randint(4, 10))]
    return rows, columns, steps


def run_program(lib, program, x, y, held):
    """The program on ``x`` (rows, columns) and ``y`` (columns,) with ``lib``'s functions.
    The "hold" steps keep the last value in ``held``, as a function that keeps something
    does: the node itself, its array, or a view of its array."""
    _, columns, steps = program
    values = [x, y * 1.0 + x * 0.5, x * y]
    mixing = np.eye(columns) * 0.3 + 0.01
    for name, first, second in steps:
        a, b = values[int(first * len(values))], values[int(second * len(values))]
        if name == "sin":
            value = lib.sin(a)
        elif name == "tanh":
            value = lib.tanh(a)
        elif name == "bell":
            value = lib.exp(-a * a)
        elif name == "product":
            value = a * b
        elif name == "sum":
            value = a + b
        elif name == "difference":
            value = a - b
        elif name == "square":
            value = a * a
        elif name == "cube":
            value = a * a * a
        elif name == "negative":
            value = -a
        elif name == "affine":
            value = 0.5 * a + 1.0
        elif name == "matmul":
            value = lib.tanh(a @ mixing)
        elif name == "column_sums":
            value = a + lib.sum(a, axis=0)
        elif name == "centred_rows":
            value = a - lib.mean(a, axis=1, keepdims=True)
        elif name == "scaled_by_sums":
            value = a * lib.sum(b, axis=0) * 0.01
        elif name == "ratio":
            value = a / (1.0 + b * b)
        elif name == "softened":
            value = lib.sqrt(1.0 + a * a)
        else:                   # keep the last value, an intermediate more often than not
            last = values[-1]
            array = getattr(last, "value", last)
            held.append(last if name == "hold" else array if name == "hold_array" else
                        array[1:])
            value = a * 1.5
        values.append(value)
    out = values[-1]
    for value in values[-4:-1]:
        out = out + 0.3 * value
    return lib.sum(out * out) * 1e-3


def test_the_programs_cover_both_sizes():
    sizes = {random_program(seed)[0] * random_program(seed)[1] for seed in range(24)}
    assert min(sizes) >= IN_PLACE_SIZE and max(sizes) >= BIG_ARRAY


def assert_grads_close(actual, expected, what):
    for got, exact in zip(actual, expected, strict=True):
        scale = float(np.max(np.abs(exact)))
        np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-12 * scale, err_msg=what)


@pytest.mark.parametrize("seed", range(24))
def test_fast_paths_give_the_reference_numbers_call_after_call(seed, monkeypatch):
    program = random_program(seed)
    rows, columns, _ = program
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, (rows, columns)), rng.uniform(-1, 1, columns)
    x_dot, y_dot = rng.normal(size=(rows, columns)), rng.normal(size=columns)
    held = []

    def f(x, y):
        return run_program(ad, program, x, y, held)

    with monkeypatch.context() as patched:
        for mode, cls in REFERENCE.items():
            patched.setitem(evaluators.DEFAULT, mode, cls)
        value, grads = ad.value_and_grad(f, argnums=(0, 1))(x, y)
        _, tangent = ad.jvp(f, (x, y), (x_dot, y_dot))

    # every step is analytic, so the complex step gives the directional derivative to
    # round-off, with no difference of nearby numbers to lose digits in
    h = 1e-20
    held_by_numpy = []
    assert value == pytest.approx(run_program(np, program, x, y, held_by_numpy), rel=1e-12)
    stepped = run_program(np, program, x + 1j * h * x_dot, y + 1j * h * y_dot, [])
    assert tangent == pytest.approx(stepped.imag / h, rel=1e-9, abs=1e-12)

    def assert_kept_intact(what):
        """What the function kept, in every trace so far, has numpy's numbers still."""
        for k, kept in enumerate(held):
            expected = held_by_numpy[k % len(held_by_numpy)]
            np.testing.assert_allclose(np.asarray(getattr(kept, "value", kept), dtype=float),
                                       expected, rtol=1e-13, atol=1e-300, err_msg=what)

    value_and_grad = ad.value_and_grad(f, argnums=(0, 1))
    compiled = ad.compile(f, x, y, argnums=(0, 1))
    for call in range(4):                  # the first calls record, the later ones replay
        held.clear()
        xs, ys = x.copy(), y.copy()
        got, got_grads = value_and_grad(xs, ys)
        assert got == pytest.approx(value, rel=1e-12)
        assert_grads_close(got_grads, grads, f"traced value_and_grad, call {call}")
        assert_kept_intact(f"after value_and_grad, call {call}")
        out, dot = ad.jvp(f, (xs, ys), (x_dot, y_dot))
        assert out == pytest.approx(value, rel=1e-12)
        assert dot == pytest.approx(tangent, rel=1e-9, abs=1e-12)
        assert_kept_intact(f"after jvp, call {call}")
        got, compiled_grads = compiled.value_and_grad(xs, ys)
        assert got == pytest.approx(value, rel=1e-12)
        assert_grads_close(compiled_grads, grads, f"compiled value_and_grad, call {call}")
        assert compiled.jvp((xs, ys), (x_dot, y_dot))[1] == pytest.approx(tangent, rel=1e-9,
                                                                          abs=1e-12)
        assert_kept_intact(f"after the compiled calls, call {call}")
        np.testing.assert_array_equal(xs, x)         # no input is ever written
        np.testing.assert_array_equal(ys, y)
        for grad in (*got_grads, *compiled_grads):   # the caller's own: the next call's
            grad[...] = np.nan                       # numbers do not change with them
