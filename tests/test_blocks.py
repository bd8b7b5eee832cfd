"""Programs on big arrays: run for memory, and their elementwise steps run block by block.

Every number must be the one the reference evaluators give, bit for bit: the blocks only
change where temporaries live, never what is computed.
"""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualad as ad
from dualad.evaluators import ForwardEvaluator, ReverseEvaluator, ValueEvaluator
from dualad import release
from dualad.evaluators import blocks
from dualad.evaluators.blocks import BLOCK, elementwise_part, in_blocks
from dualad.evaluators.record import BIG_ARRAY, Tape
from dualad.primitives import REGISTRY

from strategies import build_program, random_programs

N = 3 * BLOCK + 37            # several blocks and a short last one
BIG = BIG_ARRAY + 5           # a program over arrays this long is run for memory
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-310, 1e308, 0.5, 710.0])


def ufuncs():
    return sorted(name for name, p in REGISTRY.items()
                  if p.elementwise and isinstance(p.numpy, np.ufunc))


@pytest.mark.parametrize("name", ufuncs())
def test_every_elementwise_ufunc_gives_the_same_bits_on_blocks_as_on_the_whole_array(name):
    ufunc = REGISTRY[name].numpy
    rng = np.random.default_rng(len(name))
    args = []
    for k in range(ufunc.nin):
        a = rng.normal(size=N) * [0.5, 3.0, 40.0, 1e3][k + len(name) % 3]
        a[: len(SPECIAL)] = np.roll(SPECIAL, k)       # signed zeros, infinities, nan, extremes
        args.append(a)
    with np.errstate(all="ignore"):
        whole = ufunc(*args)
        (blocked,) = in_blocks(lambda *a: (ufunc(*a),), (N,), args, [])
    assert blocked.dtype == whole.dtype
    assert blocked.tobytes() == whole.tobytes()


def f_array(x):
    return ad.sum(ad.sin(x) * ad.exp(-x * x) + x * x * x)


def by_reference(graph, x, v):
    """Value, gradient and jvp by the readable reference evaluators."""
    values = ValueEvaluator(graph).run([x])
    adjoints = ReverseEvaluator(graph).run(values, [1.0])
    _, tangents = ForwardEvaluator(graph).run([x], [v])
    out = graph.output_positions[0]
    return values[out], adjoints[graph.input_positions[0]], tangents[out]


def compiled_both_ways(monkeypatch, f, *args, **options):
    """``ad.compile`` of f in blocks, and written over whole arrays (blocks turned off)."""
    in_blocks_ = ad.compile(f, *args, **options)
    in_blocks_.source
    with monkeypatch.context() as patch:
        patch.setattr(blocks, "MIN_STEPS", 10**9)
        whole = ad.compile(f, *args, **options)
        whole.source
    assert "in_blocks(" in in_blocks_.source and "in_blocks(" not in whole.source
    return in_blocks_, whole


def test_replayed_and_compiled_sweeps_on_big_arrays_equal_the_reference_bit_for_bit(
        monkeypatch):
    """Replays give the reference's bits; compiled code (whose sums of a gradient's terms
    come in its lines' order) the same bits in blocks as over whole arrays, and the
    reference's numbers to rounding."""
    rng = np.random.default_rng(0)
    x, v = rng.uniform(-2, 2, BIG), rng.normal(size=BIG)
    graph = ad.trace(f_array, x)
    value, grad, dot = by_reference(graph, x, v)
    # and the reference itself against the hand-derived derivative
    e = np.exp(-x * x)
    np.testing.assert_allclose(grad, np.cos(x) * e - 2 * x * np.sin(x) * e + 3 * x * x,
                               rtol=1e-12, atol=1e-14)
    for _ in range(3):                         # the reference run, recording, then replays
        got_value, got_grad = ad.value_and_grad(f_array)(x)
        assert got_value == value and got_grad.tobytes() == grad.tobytes()
        got_value, got_dot = ad.jvp(f_array, (x,), (v,))
        assert got_value == value and got_dot == dot
    compiled, whole = compiled_both_ways(monkeypatch, f_array, x)
    c_value, c_grad = compiled.value_and_grad(x)
    w_value, w_grad = whole.value_and_grad(x)
    assert c_value == w_value == value and c_grad.tobytes() == w_grad.tobytes()
    np.testing.assert_allclose(c_grad, grad, rtol=1e-14, atol=1e-14)
    assert compiled.jvp((x,), (v,)) == whole.jvp((x,), (v,)) == (value, dot)
    assert compiled(x) == value
    assert "in_blocks(elementwise_jvp" in compiled.source


def test_blocks_take_numbers_broadcast_arrays_constants_and_views(monkeypatch):
    """A scalar argument is read whole, an array of the same shape (a constant too) in
    blocks; a (1,)-shaped array broadcasts, so its steps run on the whole arrays. A strided
    view and a float32 array at call time give the reference's numbers too."""
    rng = np.random.default_rng(1)
    c = rng.normal(size=BIG)
    one = np.array([0.25])

    def f(x, a):
        y = ad.tanh(x * a + c) * x - ad.cos(x) * a
        return ad.sum(y * y + x * one - y * 2.0)

    x = rng.normal(size=BIG)
    graph = ad.trace(f, x, 1.5)
    compiled, whole = compiled_both_ways(monkeypatch, f, x, 1.5, argnums=(0, 1))
    strided = rng.normal(size=2 * BIG)[::2]
    for point in (x, strided, x.astype(np.float32)):
        values = ValueEvaluator(graph).run([point, 1.5])
        adjoints = ReverseEvaluator(graph).run(values, [1.0])
        value = values[graph.output_positions[0]]
        gx, ga = (adjoints[p] for p in graph.input_positions)
        for _ in range(3):
            got_value, (got_x, got_a) = ad.value_and_grad(f, argnums=(0, 1))(point, 1.5)
            assert got_value == value and got_x.tobytes() == gx.tobytes() and got_a == ga
        c_value, (c_x, c_a) = compiled.value_and_grad(point, 1.5)
        w_value, (w_x, w_a) = whole.value_and_grad(point, 1.5)
        assert c_value == w_value and c_x.tobytes() == w_x.tobytes() and c_a == w_a
        tolerance = 1e-13 if point.dtype == np.float64 else 1e-5   # float32 results
        np.testing.assert_allclose(c_x, gx, rtol=tolerance, atol=tolerance)
        assert c_a == pytest.approx(ga, rel=tolerance)
    # by hand at one element: d/da of sum(y^2 + x/4 - 2y), y = tanh(xa + c) x - cos(x) a
    t = np.tanh(x * 1.5 + c)
    y = t * x - np.cos(x) * 1.5
    dy_da = (1 - t * t) * x * x - np.cos(x)
    assert ad.value_and_grad(f, argnums=(0, 1))(x, 1.5)[1][1] == pytest.approx(
        np.sum((2 * y - 2.0) * dy_da), rel=1e-10)


def test_the_part_in_blocks_is_the_elementwise_steps_and_keeps_what_the_rest_reads():
    x0 = np.linspace(-1.0, 1.0, BIG)
    tape = Tape()
    x = tape.input(x0)
    y = ad.exp(x) * x + 1.0           # elementwise: in blocks
    total = ad.sum(y)                 # a reduction: after them, over the whole of y
    program = tape.program([total, y * 2.0])
    registers = [None] * program.size
    registers[program.inputs[0]] = x0
    for r, value in program.literals.items():
        registers[r] = value
    part = elementwise_part(program, registers)
    steps = list(program.steps)
    assert [steps[k][0].name for k in part.steps] == ["exp", "multiply", "add", "multiply"]
    assert [steps[k][0].name for k in part.rest] == ["sum"]
    assert len(part.kept) == 2        # y, read by the sum, and y * 2, an output
    got_total, got_twice = program.run([x0])
    y0 = np.exp(x0) * x0 + 1.0
    assert got_total == np.sum(y0) and got_twice.tobytes() == (y0 * 2.0).tobytes()


def test_a_compiled_jvp_on_big_arrays_holds_less_memory_than_hand_written_numpy():
    """Hand-written numpy value and gradient of f hold six arrays of x's size at their peak;
    the compiled jvp, in blocks, less than half of one: its two sums are of blocks."""
    x = np.linspace(-2.0, 2.0, 10**6)
    compiled = ad.compile(f_array, x)
    compiled.jvp((x,), (x,))
    tracemalloc.start()
    try:
        compiled.jvp((x,), (x,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes / 2


def test_minus_a_plus_minus_a_is_recorded_as_minus_of_a_plus_a_with_the_same_signed_zeros():
    a0 = np.array([0.0, -0.0, 1.5, -2.0, np.inf])
    tape = Tape()
    a = tape.input(a0)
    total = -a + -a
    program = tape.program([total])
    assert [f.name for f, *_ in program.steps] == ["add", "negative"]
    expected = (-a0) + (-a0)
    got = program.run([a0])[0]
    assert got.tobytes() == expected.tobytes()          # -0.0 stays -0.0, 0.0 stays 0.0
    assert list(np.signbit(got)) == [True, False, True, False, True]


@settings(max_examples=30, deadline=None)
@given(random_programs(max_inputs=3, max_ops=10))
def test_random_programs_on_big_arrays_replay_the_reference_and_compile_the_same_bits(
        monkeypatch, program):
    """Random elementwise programs over the registry on arrays of BIG elements: replays give
    the reference evaluators' bits, compiled code gives the same bits in blocks as over whole
    arrays, and both modes agree with each other."""
    n_inputs, steps = program
    rng = np.random.default_rng(len(steps))
    inputs = [rng.uniform(-1.5, 1.5, BIG) for _ in range(n_inputs)]
    tangents = [rng.normal(size=BIG) for _ in range(n_inputs)]
    argnums = tuple(range(n_inputs))

    def f(*xs):
        return ad.sum(build_program(ad, n_inputs, steps, xs))

    graph = ad.trace(f, *inputs)
    values = ValueEvaluator(graph).run(inputs)
    adjoints = ReverseEvaluator(graph).run(values, [1.0])
    _, dots = ForwardEvaluator(graph).run(inputs, tangents)
    out = graph.output_positions[0]
    grads = [adjoints[p] for p in graph.input_positions]
    for _ in range(3):                          # the reference run, recording, then replays
        value, got = ad.value_and_grad(f, argnums=argnums)(*inputs)
        assert value == values[out]
        assert all(g.tobytes() == e.tobytes() for g, e in zip(got, grads))
        assert ad.jvp(f, tuple(inputs), tuple(tangents)) == (values[out], dots[out])
    # forward and reverse mode: <grad, v> is the jvp
    along = sum(float(np.dot(g, t)) for g, t in zip(grads, tangents))
    assert dots[out] == pytest.approx(along, rel=1e-9, abs=1e-9 * BIG)
    with monkeypatch.context() as patch:
        patch.setattr(blocks, "MIN_STEPS", 10**9)
        whole = ad.compile(f, *inputs, argnums=argnums)
        expected = whole.value_and_grad(*inputs), whole.jvp(inputs, tangents)
    compiled = ad.compile(f, *inputs, argnums=argnums)
    (c_value, c_grads), c_jvp = compiled.value_and_grad(*inputs), compiled.jvp(inputs, tangents)
    (w_value, w_grads), w_jvp = expected
    assert c_value == w_value and c_jvp == w_jvp
    assert all(c.tobytes() == w.tobytes() for c, w in zip(c_grads, w_grads))
    for c, e in zip(c_grads, grads):
        np.testing.assert_allclose(c, e, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", ["C", "F", "reversed", "strided", "read-only"])
def test_every_memory_layout_replays_the_reference_bit_for_bit(layout):
    """numpy lays out the results of a Fortran-ordered array in its order, and a sum adds in
    that order: such arrays run over whole arrays, the C-contiguous ones in blocks, and every
    layout gives the reference's bits."""
    rng = np.random.default_rng(7)
    base = rng.normal(size=(300, 400))
    x = {"C": base, "F": np.asfortranarray(base), "reversed": base[::-1, ::-1],
         "strided": rng.normal(size=(300, 800))[:, ::2], "read-only": base.copy()}[layout]
    x.flags.writeable = layout != "read-only"
    graph = ad.trace(f_array, x)
    value, grad, dot = by_reference(graph, x, x)
    for _ in range(3):
        got_value, got_grad = ad.value_and_grad(f_array)(x)
        assert got_value == value and got_grad.tobytes() == grad.tobytes()
        assert ad.jvp(f_array, (x,), (x,)) == (value, dot)


def test_an_array_the_blocks_write_for_the_rest_is_written_again_only_when_nothing_holds_it(
        monkeypatch):
    # the max's operand is written into the same memory at every run (a spare); a reshape
    # of it, an output the caller keeps, holds it, and the next run writes a new array
    monkeypatch.setattr(release, "SPARE_ARRAYS", {})
    x0 = np.linspace(-1.0, 1.0, BIG)
    tape = Tape()
    x = tape.input(x0)
    y = (ad.exp(x) * x + 1.0) * 2.0       # four steps: in blocks
    program = tape.program([ad.sum(y), ad.reshape(y, (BIG, 1))])
    runs = [program.run([x0 + shift]) for shift in (0.0, 0.5, 1.0)]
    for (total, column), shift in zip(runs, (0.0, 0.5, 1.0)):
        y0 = (np.exp(x0 + shift) * (x0 + shift) + 1.0) * 2.0
        assert total == np.sum(y0) and column.tobytes() == y0.tobytes()
    assert len({id(column.base) for _, column in runs}) == 3
    alone = tape.program([ad.max(y)])
    alone.run([x0])
    held = release.SPARE_ARRAYS[(BIG,)]
    assert len(held) == 1
    first = id(held[0])
    assert alone.run([x0 + 0.5])[0] == np.max((np.exp(x0 + 0.5) * (x0 + 0.5) + 1.0) * 2.0)
    assert len(held) == 1 and id(held[0]) == first      # the same memory, written again


def test_the_reference_count_is_what_keeps_an_output_s_array(monkeypatch):
    # with the check made to pass anything, the reshaped output is written over by the
    # next run: the test above would fail, so it tests the check
    monkeypatch.setattr(blocks, "held_by_list_alone", lambda values, k: True)
    x0 = np.linspace(-1.0, 1.0, BIG)
    tape = Tape()
    x = tape.input(x0)
    y = (ad.exp(x) * x + 1.0) * 2.0       # four steps: in blocks
    program = tape.program([ad.sum(y), ad.reshape(y, (BIG, 1))])
    _, column = program.run([x0])
    kept = column.copy()
    program.run([x0 + 0.5])
    assert not np.array_equal(column, kept)


@settings(max_examples=25, deadline=None)
@given(st.integers(BIG_ARRAY, 4 * BIG_ARRAY), st.integers(-300, 300), st.integers(0, 2**16))
def test_a_sum_of_blocks_added_in_numpy_s_order_is_numpy_s_sum_bit_for_bit(size, scale, seed):
    # the array only a sum reads is not kept: its blocks' sums are added as numpy's pairwise
    # summation adds the halves, so the total is numpy's own, with numbers of every size
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=size) * 10.0 ** rng.integers(-abs(scale) // 3 - 1, abs(scale) // 3 + 1,
                                                       size=size)
    tape = Tape()
    x = tape.input(x0)
    program = tape.program([ad.sum(ad.sin(x) * x * x - x * 0.5)])
    got = program.run([x0])[0]
    assert [r for r, _, _ in program._part.folded] and program._part.kept == []
    expected = np.sum(np.sin(x0) * x0 * x0 - x0 * 0.5)
    assert got.tobytes() == expected.tobytes() and type(got) is type(expected)


@settings(max_examples=15, deadline=None)
@given(st.integers(BIG_ARRAY, 4 * BIG_ARRAY), st.integers(0, 300), st.integers(0, 2**16))
def test_compiled_code_sums_its_blocks_in_numpy_s_order(size, scale, seed):
    # compiled code folds a sum of an elementwise array as the replayed program does: the
    # array is never written whole, and the sum is numpy's own bit for bit, at points of
    # numbers of every size (where the order of additions shows) and at points the blocks
    # were not planned for (float32, a strided view), which run over the whole arrays
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=size) * 10.0 ** rng.integers(-scale // 3 - 1, scale // 3 + 1, size=size)
    v0 = rng.normal(size=size)

    def f(x):
        return ad.sum(ad.sin(x) * x * x - x * 0.5)

    def by_numpy(x, v):
        return (np.sum(np.sin(x) * x * x - x * 0.5),
                np.sum((np.cos(x) * x * x + np.sin(x) * (2 * x) - 0.5) * v))

    compiled = ad.compile(f, x0)
    assert "sums=(lambda part: sum(part" in compiled.source
    value, dot = by_numpy(x0, v0)
    assert compiled(x0) == value
    got_value, grad = compiled.value_and_grad(x0)
    assert got_value == value
    got_value, got_dot = compiled.jvp((x0,), (v0,))
    assert got_value == value
    np.testing.assert_allclose(got_dot, dot, rtol=1e-9, atol=1e-9 * np.sum(np.abs(grad * v0)))
    np.testing.assert_allclose(np.dot(grad, v0), dot, rtol=1e-9,
                               atol=1e-9 * np.sum(np.abs(grad * v0)))
    for other in (np.clip(x0, -1e12, 1e12).astype(np.float32), np.repeat(x0, 2)[::2]):
        expected = np.sum(np.sin(other) * other * other - other * 0.5)
        same = np.asarray(expected).tobytes()     # bit for bit
        # a Python float as users get it, which holds a float32 exactly: compared in its dtype
        for result in (compiled(other), compiled.value_and_grad(other)[0]):
            assert type(result) is float
            assert np.asarray(result, dtype=expected.dtype).tobytes() == same


def test_numpy_s_order_of_additions_is_what_the_parts_reproduce(monkeypatch):
    # added left to right instead, the sums of the parts differ from numpy's: the order is
    # what the test above checks
    rng = np.random.default_rng(0)
    x0 = rng.normal(size=21 * BLOCK + 13) * 10.0 ** rng.integers(-12, 12, size=21 * BLOCK + 13)
    lengths, order = blocks.pairwise_parts(x0.size)
    sums = [np.add.reduce(p) for p in np.split(x0, np.cumsum(lengths)[:-1])]
    assert blocks.added_in_parts(sums, order) == np.add.reduce(x0)
    assert sum(sums[1:], sums[0]) != np.add.reduce(x0)
