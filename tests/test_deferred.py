"""A transform's trace of a function it has traced before defers the values: one recorded
program computes them with the derivatives. Nothing can tell but the clock: the numbers are
the reference evaluators' bit for bit, a value the function reads as it runs is its value,
nodes the function keeps have their values when read, and errors say what they said."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings

import dualad as ad
from dualad.errors import ShapeMismatchError
from dualad.evaluators import ForwardEvaluator, ReverseEvaluator
from dualad.evaluators.record import BIG_ARRAY
from dualad.graph import Var, traced
from strategies import build_program, random_programs


def reference(f, args, tangents=None):
    """f's value, gradients of every argument and tangent along ``tangents``, by the
    reference evaluators on a graph the user traces (which computes every value)."""
    graph = ad.trace(f, *args)
    values = [node.value for node in graph.nodes]
    adjoints = ReverseEvaluator(graph).run(values, [1.0])
    out = graph.output_positions[0]
    grads = [adjoints[p] for p in graph.input_positions]
    if tangents is None:
        return values[out], grads
    _, dots = ForwardEvaluator(graph).run(list(args), list(tangents))
    return values[out], grads, dots[out]


def bell(x):
    return ad.sum(ad.sin(x) * ad.exp(-x * x) + x * x * x)


def bell_by_hand(x):
    """bell's value and gradient, derived by hand."""
    e = np.exp(-x * x)
    value = np.sum(np.sin(x) * e + x * x * x)
    return value, np.cos(x) * e - 2 * x * np.sin(x) * e + 3 * x * x


def deferred(f, *args):
    """True when a transform's trace of ``f`` at ``args`` now defers its values."""
    graph = traced(f, list(args), defer=True)
    return graph.deferred and all(type(graph.nodes[p]) is not Var
                                  for p in graph.op_positions)


SIZES = (None, 5, BIG_ARRAY + 3)       # floats, small arrays, arrays run in blocks


@pytest.mark.parametrize("size", SIZES)
def test_value_and_grad_and_jvp_give_the_references_numbers_call_after_call(size):
    rng = np.random.default_rng(1)
    point = (lambda: float(rng.uniform(-2, 2))) if size is None else (
        lambda: rng.uniform(-2, 2, size))
    for call in range(6):
        x, v = point(), point()
        value, (grad,), dot = reference(bell, (x,), (v,))
        out, got = ad.value_and_grad(bell)(x)
        assert out == value and np.array_equal(got, grad)
        out, tangent = ad.jvp(bell, (x,), (v,))
        assert out == value and tangent == dot
        by_hand, gradient = bell_by_hand(np.asarray(x))
        assert np.isclose(out, by_hand, rtol=1e-12) and np.allclose(got, gradient, rtol=1e-12)
    assert deferred(bell, x)


def test_a_small_network_step_gives_the_references_numbers():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))

    def loss(W1, b1, W2, b2):
        d = ad.tanh(X @ W1 + b1) @ W2 + b2 - Y
        return ad.mean(d * d)

    step = ad.value_and_grad(loss, argnums=(0, 1, 2, 3))
    for call in range(5):
        params = (rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 1)),
                  rng.normal(size=1))
        value, grads = reference(loss, params)
        out, got = step(*params)
        assert out == value
        for g, expected in zip(got, grads, strict=True):
            assert np.array_equal(g, expected)
        # by hand: backprop through the two layers
        h = np.tanh(X @ params[0] + params[1])
        d = 2 * (h @ params[2] + params[3] - Y) / Y.size
        dz = d @ params[2].T * (1 - h * h)
        assert np.allclose(got[0], X.T @ dz) and np.allclose(got[3], d.sum(axis=0))
    assert deferred(loss, *params)


def test_a_value_read_as_the_function_runs_is_its_value_and_later_traces_compute_as_they_go():
    seen = []

    def f(x):
        y = ad.sin(x) * x
        seen.append(float(ad.sum(y).value))            # read while the function runs
        return ad.sum(y * y) if ad.sum(x) > 0 else ad.sum(-y)

    rng = np.random.default_rng(3)
    for call in range(6):
        x = rng.uniform(-1, 1, 4) + (0.5 if call % 2 else -0.5)
        value, (grad,) = reference(f, (x,))
        out, got = ad.value_and_grad(f)(x)
        assert out == value and np.array_equal(got, grad)
        assert seen[-1] == np.sum(np.sin(x) * x)
        y, dy = np.sin(x) * x, np.cos(x) * x + np.sin(x)
        assert np.allclose(got, 2 * y * dy if x.sum() > 0 else -dy)
    assert not deferred(f, x)       # it reads values: its traces compute them as they go


def test_nodes_the_function_keeps_have_their_values_when_read_after_the_call():
    kept = []

    def f(x):
        s = ad.sin(x)
        kept.append(s)
        return ad.sum(s * ad.exp(x)), {"s": s, "double": 2 * s}

    for x in (np.linspace(0, 1, 3), np.linspace(1, 2, 3), np.linspace(-1, 0, 3)):
        (out, aux), grad = ad.value_and_grad(f, has_aux=True)(x)
        assert np.array_equal(aux["s"], np.sin(x)) and np.array_equal(aux["double"],
                                                                      2 * np.sin(x))
        assert np.array_equal(kept[-1].value, np.sin(x))
        assert "Var(sin" in repr(kept[-1])
        assert np.allclose(grad, (np.cos(x) + np.sin(x)) * np.exp(x))
    assert out == np.sum(np.sin(x) * np.exp(x))


def test_a_long_chain_read_at_its_end_is_computed_without_recursion():
    def chain(x):
        for _ in range(5000):
            x = ad.sin(x) * 0.5 + 0.1
        return x, x

    expected = 0.3
    for _ in range(5000):
        expected = np.sin(expected) * 0.5 + 0.1
    for call in range(3):
        (out, last), grad = ad.value_and_grad(chain, has_aux=True)(0.3)
        assert out == expected and last == expected
    graph = traced(lambda x: chain(x)[0], [0.3], defer=True)
    traced(lambda x: chain(x)[0], [0.3], defer=True)
    assert graph.nodes[-1].value == expected        # 10,000 deferred nodes, read from the end


def test_errors_say_what_they_said():
    def product(x, y):
        return ad.sum(x * y)

    for _ in range(3):
        ad.value_and_grad(product)(np.ones(3), np.ones(3))
        ad.jvp(product, (np.ones(3), np.ones(3)), (np.ones(3), np.ones(3)))
    with pytest.raises(ShapeMismatchError, match=r"multiply.*\(3,\).*\(4,\)"):
        ad.value_and_grad(product)(np.ones(3), np.ones(4))
    with pytest.raises(ShapeMismatchError, match=r"multiply.*\(3,\).*\(4,\)"):
        ad.jvp(product, (np.ones(3), np.ones(4)), (np.ones(3), np.ones(4)))

    def column_sums(x):
        return ad.sum(x, axis=0)

    for _ in range(3):
        ad.value_and_grad(column_sums)(np.ones(4))
    with pytest.raises(ShapeMismatchError, match=r"grad.*shape \(2,\)"):
        ad.value_and_grad(column_sums)(np.ones((3, 2)))
    assert ad.value_and_grad(column_sums)(np.arange(4.0))[0] == 6.0


def test_a_domain_edge_gives_numpys_nan_as_before():
    f = lambda x: ad.log(x) * x                      # noqa: E731
    for x in (2.0, 3.0, 4.0):
        assert ad.grad(f)(x) == np.log(x) + 1
    with np.errstate(invalid="ignore"):
        out, grad = ad.value_and_grad(f)(-1.0)
    assert np.isnan(out) and np.isnan(grad)


def test_a_transform_inside_the_function_is_differentiated():
    def f(x):
        inner = ad.grad(lambda y: x * y * y)(1.0)    # 2x
        return x * inner                             # 2x^2: the derivative is 4x

    for x in (1.0, 2.0, 3.0, -1.5):
        assert ad.value_and_grad(f)(x) == (2 * x * x, 4 * x)


def test_another_threads_trace_computes_its_values_while_one_defers():
    x = np.linspace(0, 1, 50)
    stop, problems = threading.Event(), []

    def deferring():
        while not stop.is_set():
            out, grad = ad.value_and_grad(bell)(x)
            if out != bell_by_hand(x)[0]:
                problems.append("deferring thread: a wrong value")

    thread = threading.Thread(target=deferring)
    thread.start()
    try:
        for _ in range(300):
            graph = ad.trace(lambda y: ad.sum(ad.exp(y) * y), x)
            if not all(type(node) is Var and node.value is not None for node in graph.nodes):
                problems.append("a user's trace has a node without its value")
    finally:
        stop.set()
        thread.join()
    assert not problems


@settings(max_examples=40, deadline=None)
@given(random_programs(max_inputs=2, max_ops=8, arrays=True))
def test_random_programs_give_the_references_numbers_at_each_call(program):
    n_inputs, steps = program

    def f(x):
        return ad.sum(build_program(ad, n_inputs, steps, [x] * n_inputs))

    rng = np.random.default_rng(len(steps))
    for call in range(4):
        x, v = rng.uniform(-1, 1, 3), rng.normal(size=3)
        value, (grad,), dot = reference(f, (x,), (v,))
        out, got = ad.value_and_grad(f)(x)
        assert out == value and np.array_equal(got, grad)
        out, tangent = ad.jvp(f, (x,), (v,))
        assert out == value and tangent == dot
