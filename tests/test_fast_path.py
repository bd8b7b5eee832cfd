"""The fast paths: the reference evaluators recorded once, then replayed without them."""

import math

import numpy as np
import pytest

import dualad as ad
from dualad.evaluators.fast import _programs
from dualad.evaluators import record
from dualad.evaluators.record import IN_PLACE_SIZE, STRAIGHT_AFTER, Program
from dualad.evaluators import (FastForwardEvaluator, FastReverseEvaluator, FastValueEvaluator,
                               ForwardEvaluator, ReverseEvaluator, ValueEvaluator)


def seed_like(x, w):
    v1 = x * w
    v2 = ad.sin(v1)
    return ad.exp(v1 + v2) + v2 ** 2 * w


def seed_gradient(w):
    # dv7/dw at x = 1, by hand: e^(w + sin w)(1 + cos w) + 2 sin w cos w w + sin^2 w
    s, c = math.sin(w), math.cos(w)
    return math.exp(w + s) * (1 + c) + 2 * s * c * w + s * s


def test_after_the_first_run_the_reference_evaluators_do_not_run(monkeypatch):
    graph = ad.trace(seed_like, 1.0, 4.0)
    for _ in range(2):                                             # the reference, then record
        values = FastValueEvaluator(graph).run([1.0, 4.0])
        FastReverseEvaluator(graph).run(values, [1.0])
        FastForwardEvaluator(graph).run([1.0, 4.0], [0.0, 1.0])

    def refuse(*args, **kwargs):
        raise AssertionError("the reference evaluator ran")
    for cls in (ValueEvaluator, ReverseEvaluator, ForwardEvaluator):
        monkeypatch.setattr(cls, "visit", refuse)
    for w in (4.0, 2.5):                                           # replay, at new points too
        values = FastValueEvaluator(graph).run([1.0, w])
        adjoints = FastReverseEvaluator(graph).run(values, [1.0])
        _, tangents = FastForwardEvaluator(graph).run([1.0, w], [0.0, 1.0])
        assert adjoints[graph.input_positions[1]] == pytest.approx(seed_gradient(w), rel=1e-14)
        assert tangents[graph.output_positions[0]] == pytest.approx(seed_gradient(w), rel=1e-14)


def test_the_recorded_sweep_is_the_one_assembly_with_constants_folded():
    graph = ad.trace(lambda x: x * x, 3.0)
    values = FastValueEvaluator(graph).run([3.0])
    for _ in range(2):
        FastReverseEvaluator(graph).run(values, [1.0])
    (program,) = [p for k, p in graph._programs.items() if k[0] == "reverse"]
    # d(x*x): the seed 1 times each partial writes nothing, so both shares are x itself;
    # their sum is the one step
    assert [f.name for f, *_ in program.steps] == ["add"]


def test_domain_edges_give_numpys_nan_and_inf_as_the_reference_does():
    graph = ad.trace(lambda x: ad.log(x) + 1 / x, 1.0)
    for value_cls, reverse_cls in [(ValueEvaluator, ReverseEvaluator),
                                   (FastValueEvaluator, FastReverseEvaluator)]:
        for _ in range(3):                                  # reference, record, replay
            with pytest.warns(RuntimeWarning):
                values = value_cls(graph).run([-1.0])
            assert math.isnan(values[-1])
            with pytest.warns(RuntimeWarning):
                values = value_cls(graph).run([0.0])
                adjoints = reverse_cls(graph).run(values, [1.0])
            assert values[-1] == -math.inf or math.isnan(values[-1])
            assert not math.isfinite(adjoints[0])


def test_a_small_program_run_often_is_written_out_and_gives_the_same_numbers():
    x = np.array([[0.5, -1.0, 2.0], [0.25, 3.0, -0.75]])
    w = np.array([0.3, -0.2, 0.1])
    graph = ad.trace(lambda x, w: ad.mean(ad.tanh(x @ w) ** 2) + ad.log(ad.sum(w * w)), x, w)
    values = FastValueEvaluator(graph).run([x, w])
    for _ in range(2):                                      # the reference, then record
        FastReverseEvaluator(graph).run(values, [1.0])
    (program,) = [p for k, p in graph._programs.items() if k[0] == "reverse"]
    looped = program.run(values)
    for _ in range(STRAIGHT_AFTER + 1):
        written = program.run(values)
    assert program._straight                                # the function was written
    assert len(written) == len(looped)
    for a, b in zip(written, looped):
        assert (a is None) == (b is None)
        if a is not None:
            assert type(a) is type(b) and np.array_equal(a, b)    # bit for bit
    # d/dw by hand: (2/2) sum_i tanh(x_i.w)(1 - tanh^2(x_i.w)) x_i / 2 ... + 2w / sum(w^2)
    t = np.tanh(x @ w)
    expected = (2 * t * (1 - t * t)) @ x / 2 + 2 * w / np.sum(w * w)
    np.testing.assert_allclose(written[graph.input_positions[1]], expected, rtol=1e-13)


def test_a_written_out_scalar_program_gives_numpys_nan_at_a_domain_edge(monkeypatch):
    monkeypatch.setattr(record, "STRAIGHT_AFTER", 0)
    graph = ad.trace(lambda x: ad.log(x) * x, 2.0)
    values = FastValueEvaluator(graph).run([2.0])
    for _ in range(3):
        adjoints = FastReverseEvaluator(graph).run(values, [1.0])
    assert adjoints[0] == pytest.approx(math.log(2.0) + 1.0, rel=1e-15)
    with pytest.warns(RuntimeWarning):
        values = FastValueEvaluator(graph).run([-1.0])
        adjoints = FastReverseEvaluator(graph).run(values, [1.0])
    assert math.isnan(adjoints[0]) and type(adjoints[0]) is float


def test_arrays_and_batches_are_recorded_per_shape():
    graph = ad.trace(lambda x: ad.sum(ad.sin(x) * x), np.array([0.5, 1.0]))
    for x in (np.array([0.5, 1.0]), np.array([0.2, 0.3]), np.array([0.1, 0.2, 0.3])):
        for _ in range(3):
            values = FastValueEvaluator(graph).run([x])
            adjoints = FastReverseEvaluator(graph).run(values, [1.0])
            np.testing.assert_allclose(adjoints[0], np.cos(x) * x + np.sin(x), rtol=1e-14)
    g2 = ad.trace(lambda x: ad.sin(x) * x, 0.5)
    for _ in range(3):
        _, tangents = FastForwardEvaluator(g2, batch=1).run([0.5], [np.array([1.0, 2.0])])
        np.testing.assert_allclose(tangents[-1],
                                   (np.cos(0.5) * 0.5 + np.sin(0.5)) * np.array([1, 2]))


def test_duals_and_sympy_values_go_to_the_reference():
    graph = ad.trace(lambda x: ad.sin(x) * x, 0.5)
    values = FastValueEvaluator(graph).run([ad.Dual(0.5, 1.0)])
    assert values[-1].tangent == pytest.approx(math.cos(0.5) * 0.5 + math.sin(0.5))
    assert not getattr(graph, "_programs", {}).get(("reverse", None, 0, None))


def test_seed_style_user_ops_are_recorded_as_calls_and_still_work():
    x = ad.Var(0.3)
    y = ad.Var(op=np.sin, children=[x], pds=[lambda x: float(np.cos(x))]) * 2.0
    for point in (0.3, 0.7, 0.9):
        x.value = point
        y.forward()
        y.backward()                       # the partial calls float(): written as one call
        assert x.deriv == pytest.approx(2 * math.cos(point))


def test_graphs_of_one_structure_share_their_programs():
    def f(x, w):
        return ad.sum(ad.tanh(x @ w))
    x, w = np.ones((3, 2)), np.full((2, 4), 0.5)
    grads = [ad.grad(f, argnums=1)(x, w * k) for k in (1.0, 2.0, 3.0)]   # traced at each call
    graphs = [ad.trace(f, x, w * k) for k in (1.0, 2.0)]
    FastValueEvaluator(graphs[0]).run([x, w])
    assert graphs[0]._programs is graphs[1].__dict__.get("_programs", graphs[0]._programs)
    for k, grad in zip((1.0, 2.0, 3.0), grads):
        s = 1 - np.tanh(x @ (w * k)) ** 2              # d/dw sum tanh(x w) = x^T (1 - tanh^2)
        np.testing.assert_allclose(grad, x.T @ s, rtol=1e-13)


# ---- replays that write into arrays no later step reads ----

def test_replayed_sweeps_reuse_dead_arrays_without_touching_live_ones():
    """An array no later step reads takes the next elementwise result in place; one with a
    view taken of it (reshape), an input, or an output never does. Each call's numbers are
    the hand-derived gradient, call after call: d/dx sum(r(x^2) * (x^2 + 1) + x^3 - x e^-x)
    = 4x^3 + 2x + 3x^2 - e^-x + x e^-x, with r the reshape (a view of x^2)."""
    n = 2 * IN_PLACE_SIZE                    # arrays big enough to be written in place

    def f(x):
        sq = x * x
        viewed = ad.reshape(sq, (2, n // 2))
        return ad.sum(ad.reshape(viewed, (n,)) * (sq + 1.0) + x * x * x - x * ad.exp(-x))

    def by_hand(x):
        return 4 * x**3 + 2 * x + 3 * x**2 - np.exp(-x) + x * np.exp(-x)

    grad = ad.grad(f)
    compiled = ad.compile(f, np.linspace(0.1, 0.6, n))
    for k in range(4):                       # the first runs record, the later ones replay
        x = np.linspace(-1.0, 1.5, n) + 0.1 * k
        kept = x.copy()
        np.testing.assert_allclose(grad(x), by_hand(x), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(compiled.value_and_grad(x)[1], by_hand(x), rtol=1e-13,
                                   atol=1e-13)
        np.testing.assert_array_equal(x, kept)          # the input is never written
    programs = [p for p in _programs(ad.trace(f, x)).values() if isinstance(p, Program)]
    assert any(getattr(run, "__qualname__", "").startswith("_in_place")
               for p in programs for run in p.runners(False))


def test_small_arrays_are_not_written_in_place():
    """Below IN_PLACE_SIZE elements a new array costs less than the checks: the same sweep,
    with no in-place step, and the same numbers (d/dx sum(x^2 sin x) = 2x sin x + x^2 cos x)."""
    f = lambda x: ad.sum(x * x * ad.sin(x))                             # noqa: E731
    x = np.linspace(-1.0, 1.0, 5)
    for _ in range(3):
        np.testing.assert_allclose(ad.grad(f)(x), 2 * x * np.sin(x) + x * x * np.cos(x),
                                   rtol=1e-14)
    programs = [p for p in _programs(ad.trace(f, x)).values() if isinstance(p, Program)]
    assert programs and all(p.reusable() for p in programs)
    assert not any(getattr(run, "__qualname__", "").startswith("_in_place")
                   for p in programs for run in p.runners(False))


def test_gradients_are_never_the_callers_own_arrays():
    """d/dx sum(x y) = y and d/dy = x: the gradient has y's numbers in an array of its own,
    from the interpreted path and from compiled code; writing into it changes nothing else."""
    x, y, z = np.array([1.0, 2.0]), np.array([3.0, 4.0]), np.array([5.0, 6.0])
    compiled = ad.compile(lambda x, y: ad.sum(x * y), x, y, argnums=(0, 1))
    for gx, gy in (ad.grad(lambda x, y: ad.sum(x * y), argnums=(0, 1))(x, y),
                   compiled.value_and_grad(x, y)[1]):
        assert gx is not y and gy is not x
        gx[0] = gy[0] = 99.0
        assert x.tolist() == [1.0, 2.0] and y.tolist() == [3.0, 4.0]
    # one computed array that is the gradient of two inputs comes back as two arrays
    both = ad.compile(lambda x, y, z: ad.sum((x + y) * z), x, y, z, argnums=(0, 1))
    gx, gy = both.value_and_grad(x, y, z)[1]
    assert gx is not gy and gx.tolist() == gy.tolist() == [5.0, 6.0]


def test_a_recorded_sweep_subtracts_instead_of_adding_a_negation_and_reads_known_values():
    """-1 * a added to b is recorded as b - a, (-a) * b as -(a * b) (the same bits), b * a is
    a * b, and x * x that a rule computes again is the node x * x: fewer passes, and the
    hand-derived gradient of
    sum(sin(x) e^(-x^2) + x^3), cos(x) e^(-x^2) - 2x sin(x) e^(-x^2) + 3x^2."""
    f = lambda x: ad.sum(ad.sin(x) * ad.exp(-x * x) + x * x * x)        # noqa: E731
    x = np.linspace(-2.0, 2.0, 7)
    e = np.exp(-x * x)
    expected = np.cos(x) * e - 2 * x * np.sin(x) * e + 3 * x * x
    graph = ad.trace(f, x)
    grad = ad.grad(graph)
    for _ in range(3):
        np.testing.assert_allclose(grad(x), expected, rtol=1e-13, atol=1e-15)
    from dualad.evaluators.fast import _programs
    program = next(p for k, p in _programs(graph).items()
                   if isinstance(k, tuple) and k[0] == "reverse" and hasattr(p, "steps"))
    names = [getattr(function, "name", "") for function, _, _, _ in program.steps]
    assert "subtract" in names and "negative" not in names
    # x * x and e^(-x^2) sin(x) are nodes computed going forward, and (-x) * a is -(x * a),
    # which is x's other term: 2 products, not 5
    assert names.count("multiply") == 2
    source = ad.compile(f, x).source
    assert "-1 *" not in source and "- v2_bar" in source


# ---- gradients handed over without a copy ----

def _calls(transform, *args, times=4):
    """``transform`` called ``times`` times (the reference run, the recording, replays)."""
    return [transform(*args) for _ in range(times)]


def test_a_gradient_the_replay_made_is_the_users_alone(evaluators_in_use):
    c = np.array([1.0, -2.0, 3.0])
    x = np.array([0.5, 0.25, -1.0])
    grads = _calls(ad.grad(lambda x: ad.sum(ad.sin(x) * c)), x)
    for g in grads:
        np.testing.assert_allclose(g, np.cos(x) * c, rtol=1e-15)
    grads[-2][:] = 99.0                      # a user writes into a gradient...
    np.testing.assert_array_equal(c, [1.0, -2.0, 3.0])          # ...not into anything else
    np.testing.assert_allclose(grads[-1], np.cos(x) * c, rtol=1e-15)
    np.testing.assert_allclose(ad.grad(lambda x: ad.sum(ad.sin(x) * c))(x), np.cos(x) * c,
                               rtol=1e-15)
    assert len({id(g) for g in grads}) == len(grads)


def test_ops_the_registry_marks_new_array_never_return_a_view():
    marked = [prim for prim in ad.REGISTRY.values() if prim.new_array]
    assert {"matmul", "sum", "mean"} <= {prim.name for prim in marked}
    rng = np.random.default_rng(0)
    for prim in marked:
        for shapes, params in prim.examples:
            inputs = [rng.normal(size=shape) for shape in shapes]
            result = prim.numpy(*inputs, **params)
            assert not any(np.shares_memory(result, x) for x in inputs), (prim.name, shapes)


@pytest.mark.parametrize("f, expected", [
    (lambda x, y: ad.sum(x) + ad.sum(y), lambda x, y: (np.ones(3), np.ones(3))),
    (lambda x, y: ad.sum((x + y) * np.array([1.0, 2.0, 3.0])),          # one array, two inputs
     lambda x, y: (np.array([1.0, 2.0, 3.0]),) * 2),
    (lambda x, y: ad.sum(ad.transpose(ad.reshape(x, (3, 1)) * y)),      # a view of a product
     lambda x, y: (np.full(3, y.sum()), np.full(3, x.sum()))),
])
def test_gradients_that_are_views_seeds_or_shared_are_copied(f, expected, evaluators_in_use):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    for gx, gy in _calls(ad.grad(f, argnums=(0, 1)), x, y):
        want_x, want_y = expected(x, y)
        np.testing.assert_allclose(gx, want_x, rtol=1e-15)
        np.testing.assert_allclose(gy, want_y, rtol=1e-15)
        assert not np.shares_memory(gx, gy)
        assert not np.shares_memory(gx, x) and not np.shares_memory(gy, y)
        gx[...] = np.nan                     # writable, and changes nothing the next call sees
        gy[...] = np.nan


def test_a_graph_differentiated_again_hands_out_new_arrays(evaluators_in_use):
    c = np.array([2.0, 3.0])
    graph = ad.trace(lambda x: ad.sum(ad.exp(x) * c), np.zeros(2))
    value_and_grad = ad.value_and_grad(graph)
    results = _calls(value_and_grad, np.array([0.0, 1.0]))
    results[-2][1][:] = 0.0
    for value, grad in results[-1:]:
        np.testing.assert_allclose(grad, np.exp([0.0, 1.0]) * c, rtol=1e-15)
    assert not any(np.shares_memory(results[i][1], results[j][1])
                   for i in range(4) for j in range(i))


@pytest.mark.parametrize("n", [4, 2 * IN_PLACE_SIZE])
def test_an_error_numpy_raises_in_an_array_replay_reaches_the_caller(n):
    """Under ``np.errstate(divide="raise")`` a division by zero in a replayed array sweep is
    raised as numpy raised it (the fallback to numpy is for Python floats at a domain edge
    only): d/dx sqrt(x) = 1 / (2 sqrt(x)) divides by zero at 0, the value sqrt(0) does not."""
    grad = ad.grad(lambda x: ad.sum(ad.sqrt(x)))
    x = np.linspace(0.1, 0.5, n)
    for _ in range(3):                       # the reference run, the recording, a replay
        np.testing.assert_allclose(grad(x), 0.5 / np.sqrt(x), rtol=1e-14)
    at_zero = np.linspace(0.0, 0.5, n)
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        grad(at_zero)


# ---- steps a recording writes for less ----

def _program_of(graph, kind):
    return next(p for k, p in _programs(graph).items()
                if isinstance(k, tuple) and k[0] == kind and hasattr(p, "steps"))


def test_a_column_times_a_row_is_recorded_as_their_broadcast_product():
    """The gradient of mean((tanh(X W1) w2 - y)^2) for a w2 of one column, by hand:
    g = 2 (tanh(X W1) w2 - y) / n, dw2 = h^T g, dW1 = X^T ((g w2^T) (1 - h^2)), h = tanh(X W1).
    ``g w2^T`` is a column times a row: recorded as a broadcast multiply, not a matmul."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 1))
    W1, w2 = rng.normal(size=(4, 3)), rng.normal(size=(3, 1))

    def loss(W1, w2):
        d = ad.tanh(X @ W1) @ w2 - y
        return ad.mean(d * d)

    h = np.tanh(X @ W1)
    g = 2 * (h @ w2 - y) / len(y)
    expected = (X.T @ (g * w2.T * (1 - h * h)), h.T @ g)
    step = ad.value_and_grad(loss, argnums=(0, 1))
    for _ in range(4):                  # the reference run, the recording, replays
        value, grads = step(W1, w2)
        assert value == pytest.approx(np.mean((h @ w2 - y) ** 2), rel=1e-14)
        for got, want in zip(grads, expected):
            np.testing.assert_allclose(got, want, rtol=1e-13)
    graph = ad.trace(loss, W1, w2)
    for _ in range(2):
        FastReverseEvaluator(graph, wrt=graph.input_positions).gradient_from_inputs()
    program = _program_of(graph, "from inputs")
    # X W1, h w2, X^T dz and h^T g are products; g w2^T is not written as one
    assert [getattr(f, "name", "") for f, *_ in program.steps].count("matmul") == 4


def test_the_broadcast_product_gives_the_numbers_matmul_gives_at_inf_nan_and_zero():
    """The reference evaluator's matmul and the replay's multiply: the same numbers at inf,
    nan, 0 and products that underflow (equal as numbers: only a zero's sign may differ)."""
    a = np.array([[np.inf], [0.0], [np.nan], [-0.0], [1e-200], [3.0]])
    b = np.array([[0.0, -1e-200, 2.0, -np.inf]])
    f = lambda a, b: ad.sum(ad.sin(a @ b) * np.arange(24.0).reshape(6, 4))    # noqa: E731
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        graph = ad.trace(f, a, b)
        reference = ValueEvaluator(graph).run([a, b])
        for _ in range(3):
            values = FastValueEvaluator(graph).run([a, b])
    for r, v in zip(reference, values):
        np.testing.assert_array_equal(v, r)         # nan where nan, equal elsewhere
    product = values[graph.op_positions[0]]
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(np.isnan(product), np.isnan(a @ b))


def test_float_array_kernels_compute_what_the_ops_numpy_computes():
    """Every op with a ``float_array_kernel``: the kernel's numbers, dtype and shape are those
    of ``numpy`` on float arrays, contiguous or not, of both float widths."""
    marked = [prim for prim in ad.REGISTRY.values() if prim.float_array_kernel is not None]
    assert {"sum", "transpose"} <= {prim.name for prim in marked}
    rng = np.random.default_rng(5)
    extra = {"sum": [([(2, 3, 4)], {"axis": (0, 2), "keepdims": True}),
                     ([(2, 3)], {"axis": None, "keepdims": False})],
             "transpose": [([(2, 3)], {"axes": (1, 0)}), ([(2, 3, 4)], {"axes": (2, 0, 1)}),
                           ([(2, 3, 4)], {})]}
    for prim in marked:
        for shapes, params in list(prim.examples) + extra.get(prim.name, []):
            for dtype in (np.float64, np.float32):
                for view in (lambda x: x, lambda x: np.asfortranarray(x)[..., ::-1]):
                    inputs = [view(rng.normal(size=shape).astype(dtype)) for shape in shapes]
                    want = prim.numpy(*inputs, **params)
                    got = prim.float_array_kernel(**params)(*inputs)
                    assert type(got) is type(want) and np.shape(got) == np.shape(want)
                    assert np.asarray(got).dtype == np.asarray(want).dtype
                    np.testing.assert_array_equal(got, want)


def test_a_replay_runs_the_float_array_kernels_and_gives_the_hand_derived_gradient():
    """f(x) = sum(transpose(x, (2, 0, 1)) * c, axis=(0, 1)) . u, so df/dx[i, j, k] =
    c[k, i, j] u[j]; after the recording the sum and transpose steps run numpy's C
    functions directly (no Python kernel of dualad's in between)."""
    rng = np.random.default_rng(7)
    x, c, u = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 2, 3)), rng.normal(size=3)
    f = lambda x: ad.sum(ad.sum(ad.transpose(x, (2, 0, 1)) * c, axis=(0, 1)) * u)  # noqa: E731
    expected = np.transpose(c, (1, 2, 0)) * u[None, :, None]
    grad = ad.grad(f)
    for _ in range(4):
        np.testing.assert_allclose(grad(x), expected, rtol=1e-14)
    graph = ad.trace(f, x)
    for _ in range(2):
        FastReverseEvaluator(graph).gradient_from_inputs()
    program = _program_of(graph, "from inputs")
    kernels = {ad.REGISTRY["sum"].numpy, ad.REGISTRY["transpose"].numpy}
    runners = program.runners(False)
    names = [getattr(f, "name", "") for f, *_ in program.steps]
    assert "sum" in names and "transpose" in names and len(runners) == len(names)
    assert not any(getattr(r, "func", r) in kernels for r in runners)
