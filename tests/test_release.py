"""A transform's trace on big arrays lets go of the values no program reads, and nothing can
tell: the numbers are the reference evaluators' bit for bit, values the function keeps stay,
and every other use (another mode, other shapes, another structure) computes them again.

A trace releases where it computes its values: here every test runs the transforms as they
run where their evaluators cannot compute values and derivatives from the inputs alone (see
the fixture below)."""

import subprocess
import sys
import threading
import types
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualad as ad
from dualad import release
from dualad.evaluators import ForwardEvaluator, ReverseEvaluator
from dualad.evaluators.fast import FastForwardEvaluator, FastReverseEvaluator
from dualad.graph import traced
from dualad.release import RELEASE_SIZE
from strategies import build_program, random_programs

N = RELEASE_SIZE


def reference(f, x, v):
    """f's value, gradient (of its sum) and tangent along ``v``, by the reference evaluators
    on a graph the user traces (which releases nothing)."""
    graph = ad.trace(f, x)
    values = [node.value for node in graph.nodes]
    assert all(value is not None for value in values)
    adjoints = ReverseEvaluator(graph).run(values, [1.0])
    _, tangents = ForwardEvaluator(graph).run([x], [v])
    out = graph.output_positions[0]
    return values[out], adjoints[graph.input_positions[0]], tangents[out]


def bell(x):
    return ad.sum(ad.sin(x) * ad.exp(-x * x) + x * x * x)


def calls_agree(f, x, v, expected, calls):
    """``calls`` calls each of ``jvp`` and ``value_and_grad`` of ``f`` at ``x`` give
    ``expected`` (the reference's value, gradient and tangent) bit for bit."""
    value, gradient, tangent = expected
    for _ in range(calls):
        out, dot = ad.jvp(f, (x,), (v,))
        assert out == value and dot == tangent
        out, grad = ad.value_and_grad(f)(x)
        assert out == value and np.array_equal(grad, gradient)


def point(seed=0, size=N):
    rng = np.random.default_rng(seed)
    return rng.uniform(-2.0, 2.0, size), rng.normal(size=size)


@pytest.fixture(autouse=True)
def values_in_the_trace(monkeypatch):
    """The transforms as they run where their evaluators cannot compute values and
    derivatives from the inputs alone: their traces compute the values, and release them.
    (Elsewhere the traces of a function that reads no value as it runs defer them, and
    there is nothing to release: see tests/test_deferred.py.)"""
    monkeypatch.setattr(FastReverseEvaluator, "runs_from_inputs", False)
    monkeypatch.setattr(FastForwardEvaluator, "runs_from_inputs", False)


def test_a_trace_lets_go_of_what_no_program_reads_and_the_numbers_are_the_references():
    x, v = point()
    value, gradient, tangent = reference(bell, x, v)
    for _ in range(5):
        out, dot = ad.jvp(bell, (x,), (v,))
        assert out == value and dot == tangent
    graph = traced(bell, (x,), release_values="forward")
    # sin(x) * exp(-x*x) + x*x*x, where -x*x is (-x)*x: forward mode reads x, sin(x),
    # exp(-x*x) and x*x; -x, (-x)*x, the product, x*x*x and the sum's operand go
    assert names(graph, graph.released) == ["negative", "multiply", "multiply", "multiply",
                                            "add"]
    assert all(graph.nodes[p].value is None for p in graph.released)
    kept = [p for p in range(len(graph.nodes)) if p not in graph.released]
    assert all(graph.nodes[p].value is not None for p in kept)
    for _ in range(4):
        out, grad = ad.value_and_grad(bell)(x)
        assert out == value and np.array_equal(grad, gradient)
    # reverse mode reads the product sin(x) exp(-x*x) (the gradient reuses it) and not sin(x)
    graph = traced(bell, (x,), release_values="reverse")
    assert names(graph, graph.released) == ["sin", "negative", "multiply", "multiply", "add"]
    assert len(traced(bell, (x,), release_values="forward").released) == 5
    out, dot = ad.jvp(bell, (x,), (v,))
    assert out == value and dot == tangent


def names(graph, positions):
    return [graph.nodes[p].op.name for p in positions]


def test_a_graph_the_user_traces_keeps_every_value():
    x, v = point(1)
    for _ in range(5):
        ad.jvp(bell, (x,), (v,))
    graph = ad.trace(bell, x)
    assert graph.released == ()
    assert all(node.value is not None for node in graph.nodes)


def test_values_the_function_keeps_are_not_let_go():
    x, v = point(2)
    kept = []

    def f(x):
        square = x * x
        kept.append(-square)            # a temporary, kept in a list
        return ad.sum(ad.exp(kept[-1]) * 3.0 + x)

    for _ in range(5):
        out, dot = ad.jvp(f, (x,), (v,))
    assert all(np.array_equal(k.value, -(x * x)) for k in kept[1:])
    value, _, tangent = reference(f, x, v)
    assert out == value and dot == tangent


def test_the_refcount_check_is_what_keeps_them(monkeypatch):
    # with the check made to pass anything, the kept temporary loses its value: the test
    # above would fail, so it tests the check
    x, v = point(3)
    kept = []

    def f(x):
        kept.append(-(x * x))
        return ad.sum(ad.exp(kept[-1]) * 3.0 + x)

    for _ in range(5):
        ad.jvp(f, (x,), (v,))
    monkeypatch.setattr(release, "_extra_references",
                        lambda entries: [release._UNHELD] * len(entries))
    ad.jvp(f, (x,), (v,))
    assert kept[-1].value is None


def test_a_branch_taken_the_other_way_computes_released_values_again():
    x, v = point(4)
    flip = {"on": False}

    def f(x):
        y = ad.sin(x) * ad.exp(-x * x)
        if flip["on"]:
            return ad.sum(ad.cos(y) * y)
        return ad.sum(y * y + x)

    for _ in range(5):
        ad.value_and_grad(f)(x)
        ad.jvp(f, (x,), (v,))
    flip["on"] = True
    calls_agree(f, x, v, reference(f, x, v), 4)


def test_other_shapes_and_other_tangents_compute_released_values_again():
    for size in (N, N + 8, 2 * N, N):
        x, v = point(size, size)
        calls_agree(bell, x, v, reference(bell, x, v), 3)


def test_restore_computes_each_released_value_bit_for_bit():
    x, v = point(5)
    for _ in range(5):
        ad.jvp(bell, (x,), (v,))
    graph = traced(bell, (x,), release_values="forward")
    released = graph.released
    assert released
    full = ad.trace(bell, x)
    graph.restore_released()
    assert graph.released == ()
    for p in released:
        assert np.array_equal(graph.nodes[p].value, full.nodes[p].value)


def test_a_transform_inside_the_function_keeps_its_own_values():
    x, v = point(6)

    def f(x):
        inner = ad.grad(lambda y: ad.sum(ad.sin(y) * y))(x * 2.0)
        return ad.sum(ad.exp(-x * x) * inner + x * x)

    calls_agree(f, x, v, reference(f, x, v), 5)


def test_threads_release_their_own_traces():
    x, v = point(7)
    value, gradient, tangent = reference(bell, x, v)
    failures = []

    def work():
        for _ in range(6):
            out, dot = ad.jvp(bell, (x,), (v,))
            out2, grad = ad.value_and_grad(bell)(x)
            if not (out == value and dot == tangent and out2 == value
                    and np.array_equal(grad, gradient)):
                failures.append((out, dot))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert release.ACTIVE == []


def test_an_error_in_the_function_leaves_no_trace_releasing():
    x, v = point(8)

    def f(x):
        y = ad.exp(-x * x) * 2.0
        if ad.sum(y).value > 1e9:
            raise RuntimeError("never")
        return ad.sum(y * x)

    for _ in range(5):
        ad.jvp(f, (x,), (v,))

    def broken(x):
        ad.exp(-x * x) * 2.0
        raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        for _ in range(5):
            ad.jvp(broken, (x,), (v,))
    assert release.ACTIVE == [] and release.current() is None


class Switchable:
    """One Python function (one code object) whose program is chosen from outside."""

    def __init__(self, program):
        self.program = program

    def function(self):
        holder = self

        def f(x):
            n_inputs, steps = holder.program
            return ad.sum(build_program(ad, n_inputs, steps, [x] * n_inputs))
        return f


@settings(max_examples=30, deadline=None)
@given(random_programs(max_inputs=2, max_ops=8), random_programs(max_inputs=2, max_ops=8),
       st.integers(0, 2**16))
def test_random_programs_give_the_references_numbers_call_after_call(first, second, seed):
    switch = Switchable(first)
    f = switch.function()
    rng = np.random.default_rng(seed)
    x, v = rng.uniform(-1.5, 1.5, N), rng.normal(size=N)
    for program in (first, second, first):
        switch.program = program
        calls_agree(f, x, v, reference(f, x, v), 4)


def test_a_released_node_reached_through_its_consumer_is_computed_again():
    # the plan comes from the last trace; where this one reaches a released node through a
    # consumer's children and uses it again, the node builder computes it again
    x, v = point(9)
    reach = {"on": False}
    seen = []

    def f(x):
        z = ad.exp(-(x * x)) * 2.0
        if reach["on"]:
            negation = z.children[0].children[0]    # -(x*x): nothing held it
            seen.append(negation.value is None)
            product = negation * 3.0                # the function sees its value
            assert np.array_equal(product.value, -(x.value * x.value) * 3.0)
            return ad.sum(z + product)
        return ad.sum(z)

    reach["on"] = True
    value, gradient, tangent = reference(f, x, v)
    reach["on"] = False
    for _ in range(6):
        ad.jvp(f, (x,), (v,))
    reach["on"] = True
    seen.clear()
    for _ in range(3):
        out, dot = ad.jvp(f, (x,), (v,))
        assert out == value and dot == tangent
    assert seen[0]          # the first was let go, and the product was still right


def test_views_and_matrix_products_on_big_arrays_give_the_references_numbers():
    # reshape and transpose make views of the arrays they are given, getitem a view, and
    # matmul a new array: released values under them are still the references' numbers
    rng = np.random.default_rng(3)
    w = rng.normal(size=(256, 256)) / 16

    def f(x):
        m = ad.reshape(ad.exp(x * 0.5) - 1.0, (256, 256))
        t = ad.transpose(ad.tanh(m @ w))
        return ad.sum(t[1:, :] * t[1:, :]) + ad.mean(ad.sin(x) * x)

    x, v = rng.uniform(-1.0, 1.0, N), rng.normal(size=N)
    calls_agree(f, x, v, reference(f, x, v), 5)
    for mode in ("forward", "reverse"):
        assert traced(f, (x,), release_values=mode).released


def test_arrays_let_go_are_written_again_and_arrays_the_function_keeps_never_are():
    # a released array nothing holds is a spare: the next trace writes a new value into it
    # instead of asking the system for fresh memory. An array the function keeps (itself, or
    # a view of it) is held, so never a spare, and keeps its numbers call after call.
    x, v = point(10)
    kept = []

    expected = reference(kept_arrays(kept), x, v)
    kept.clear()
    calls_agree(kept_arrays(kept), x, v, expected, 6)
    assert intact(kept, x)
    assert sum(len(arrays) for arrays in release.SPARE_ARRAYS.values()) > 0   # spares made


def test_the_reference_count_of_the_array_is_what_keeps_it(monkeypatch):
    # with the array's check made to pass anything, a kept array is written over: the test
    # above would fail, so it tests the check
    x, v = point(11)
    kept = []
    for _ in range(5):
        ad.jvp(kept_arrays(kept), (x,), (v,))
    monkeypatch.setattr(release, "_references", lambda value: release._UNHELD_ARRAY)
    for _ in range(3):
        ad.jvp(kept_arrays(kept), (x,), (v,))
    assert not intact(kept, x)


def test_an_array_with_a_weak_reference_is_never_a_spare():
    # a weak reference does not count in the array's references; it still reaches the
    # array, so the array is let go (and dies) rather than written over
    x, v = point(13)
    refs, seen = [], []
    calls_agree(weakly_held(refs, seen), x, v, reference(weakly_held(refs, seen), x, v), 6)
    assert seen and all(seen)


def test_the_weak_reference_check_is_what_keeps_it(monkeypatch):
    # with weak references not looked for, the array is a spare and the next trace writes
    # another node's numbers into it: the test above would fail, so it tests the check
    x, v = point(14)
    refs, seen = [], []
    for _ in range(5):
        ad.jvp(weakly_held(refs, seen), (x,), (v,))
    monkeypatch.setattr(release.weakref, "getweakrefcount", lambda value: 0)
    for _ in range(3):
        ad.jvp(weakly_held(refs, seen), (x,), (v,))
    assert not all(seen)


def weakly_held(refs, seen):
    """A function (one code object) that keeps a weak reference to the array of the node its
    sum reads, which the trace lets go of, and notes in ``seen``, once it has made a new
    array, whether each array it still reaches has its numbers."""
    def f(x):
        square = x * x
        total = np.sin(x.value) * np.exp(-(x.value * x.value)) + square.value * x.value
        seen.extend(ref() is None or np.array_equal(ref(), total) for ref in refs)
        total = ad.sin(x) * ad.exp(-square) + square * x
        refs.append(weakref.ref(total.value))
        return ad.sum(total)
    return f


def intact(kept, x):
    """True when every array ``kept_arrays(kept)`` kept still has its numbers."""
    square = x * x
    return (all(np.array_equal(negation, -square) for negation in kept[0::2])
            and all(np.array_equal(view, (np.sin(x) * np.exp(-square))[1:])
                    for view in kept[1::2]))


def kept_arrays(kept):
    """A function (one code object, whatever ``kept``) that puts into ``kept`` the array of
    a node the trace lets go of, and a view of another's."""
    def f(x):
        square = x * x
        negation = -square
        kept.append(negation.value)
        product = ad.sin(x) * ad.exp(negation)
        kept.append(product.value[1:])
        return ad.sum(product + square * x)
    return f


@pytest.mark.parametrize("name", ["equal", "greater", "logical_and", "arctan2", "power",
                                  "maximum", "floor"])
def test_only_float64_ufuncs_write_into_spares(name):
    # a comparison's booleans written into an array of floats would come out as 0.0 and 1.0
    prim = ad.primitives.REGISTRY[name]
    state = release.Releasing({}, spares={(N,): [np.zeros(N)]})
    a, b = point(12)
    operands = (a, b)[:prim.nin]
    with np.errstate(all="ignore"):
        got = state.computed_in_spare(prim, operands)
        expected = prim.numpy(*operands)
    if expected.dtype == np.float64:
        assert got is not None and got.tobytes() == expected.tobytes()
    else:
        assert got is None and state.spares[(N,)]


def test_spares_are_kept_within_their_bytes_for_every_function_together(monkeypatch):
    # many functions on big arrays share one pool of spares, of at most SPARE_BYTES
    # (each on arrays of its own length: without the limit, every length keeps its own)
    limit = 3 * (N + 64) * 8
    monkeypatch.setattr(release, "SPARE_ARRAYS", {})
    monkeypatch.setattr(release, "SPARE_BYTES", limit)
    for k in range(6):
        x, v = point(15, N + 8 * k)
        f = another_function(bell, k)
        calls_agree(f, x, v, reference(f, x, v), 4)
    held = sum(a.nbytes for arrays in release.SPARE_ARRAYS.values() for a in arrays)
    assert 0 < held <= limit


def another_function(f, k):
    """``f`` with a code object of its own (so a structure of its own), named ``f_k``."""
    code = f.__code__.replace(co_name=f"{f.__name__}_{k}")
    return types.FunctionType(code, f.__globals__, code.co_name, f.__defaults__,
                              f.__closure__)


FAULTS_PER_CALL = """
import resource
import numpy as np
import dualad as ad
rng = np.random.default_rng(0)
X, Y = rng.normal(size=(256, 784)), rng.normal(size=(256, 10))
W1, b1 = rng.normal(size=(784, 128)) / 28, np.zeros(128)
W2, b2 = rng.normal(size=(128, 10)) / 11, np.zeros(10)

def loss(W1, b1, W2, b2):
    d = ad.tanh(X @ W1 + b1) @ W2 + b2 - Y
    return ad.mean(d * d)

compiled = ad.compile(loss, W1, b1, W2, b2, argnums=(0, 1, 2, 3))
gradient = ad.value_and_grad(ad.trace(loss, W1, b1, W2, b2), argnums=(0, 1, 2, 3))
for step in (lambda: compiled.value_and_grad(W1, b1, W2, b2), lambda: gradient(W1, b1, W2, b2)):
    for _ in range(5):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        step()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heap, as on Linux")
def test_the_next_call_reuses_the_pages_of_the_last_on_arrays_of_a_few_hundred_kib():
    # A fresh process (nothing big freed yet, so glibc's thresholds are their defaults) runs
    # the 784-128-10 MLP step, compiled and on a traced graph. Each call's arrays take about
    # 1.8 MiB of heap above what is free; without keep_freed_memory glibc gives it back at
    # the end of every call and the next faults all of it in again: about 420 page faults a
    # call, the same as the two matrix products' time. With it, the pages stay.
    run = subprocess.run([sys.executable, "-c", FAULTS_PER_CALL], capture_output=True,
                         text=True, timeout=120, check=True)
    faults = [float(line) for line in run.stdout.split()]
    assert len(faults) == 2 and max(faults) < 20, faults
