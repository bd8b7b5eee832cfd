"""ad.compile: the generated code agrees with the interpreted evaluators, sympy and hand math."""

import warnings

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import dualad as ad
from dualad.compile import BLOCK_STEPS
from dualad.demo import seed_graph
from dualad.evaluators import ForwardEvaluator, ReverseEvaluator, ValueEvaluator
from dualad.primitives import REGISTRY

from strategies import (ELEMENTWISE, NUMPY_OPS, build_program, central_difference,
                        exact_partial, random_point, random_programs, sample_points,
                        symbols_for)


def seed(x, w):
    v1 = x * w
    v2 = ad.sin(v1)
    v3 = v1 + v2
    v4 = ad.square(v2)
    v5 = ad.exp(v3)
    v6 = v4 * w
    return v5 + v6


def interpreted(graph, args, tangents=None):
    """(value, gradient of every input, output tangent) from the reference evaluators."""
    values = ValueEvaluator(graph).run(args)
    out = graph.output_positions[0]
    adjoints = ReverseEvaluator(graph).run(values, [1.0])
    grads = [adjoints[p] if adjoints[p] is not None else np.zeros(np.shape(values[p]))
             for p in graph.input_positions]
    tangent = None
    if tangents is not None:
        _, tangent_values = ForwardEvaluator(graph).run(args, tangents)
        tangent = tangent_values[out]
    return values[out], grads, tangent


# ---- the seed program, against the numbers the seed's gradient descent prints ----

def test_seed_program_value_gradient_and_tangent_match_hand_derived_numbers():
    f = ad.compile(seed, 1.0, 4.0, argnums=1)
    value, dw = f.value_and_grad(1.0, 4.0)
    assert value == pytest.approx(27.906496678144, abs=1e-11)
    assert dw == pytest.approx(13.402273659200, abs=1e-11)
    # d v7/dx by hand: v7 = e^(xw + sin xw) + w sin^2(xw)
    x, w = 1.0, 4.0
    s, c = np.sin(x * w), np.cos(x * w)
    dx = np.exp(x * w + s) * (w + w * c) + w * 2 * s * c * w
    assert f.jvp((x, w), (1.0, 0.0)) == pytest.approx((27.906496678144, dx), rel=1e-12)
    assert f(x, w) == value


def test_a_var_or_graph_compiles_with_its_leaf_values_as_examples():
    x, w, v7 = seed_graph()
    for target in (v7, ad.Graph(v7)):
        f = ad.compile(target, argnums=(0, 1))
        v7.backward()
        value, (dx, dw) = f.value_and_grad(1.0, 4.0)
        assert (value, dx, dw) == pytest.approx((v7.value, x.deriv, w.deriv), rel=1e-14)


def test_seed_gradient_descent_follows_the_interpreted_one():
    f = ad.compile(seed, 1.0, 4.0, argnums=1)
    x, w, v7 = seed_graph()
    for _ in range(30):
        v7.forward()
        v7.backward()
        value, dw = f.value_and_grad(x.value, w.value)
        assert (value, dw) == pytest.approx((v7.value, w.deriv), rel=1e-13)
        w.value = w.value - 0.1 * w.deriv


# ---- random programs over the whole registry ----

@given(random_programs(), st.integers(0, 2**16))
def test_compiled_equals_interpreted_evaluators_on_random_programs(program, seed_):
    n_inputs, steps = program
    point = random_point(n_inputs, seed_)
    tangents = random_point(n_inputs, seed_ + 1)
    graph = ad.trace(lambda *xs: build_program(ad, n_inputs, steps, xs), *point)
    f = ad.compile(graph, *point, argnums=tuple(range(n_inputs)))
    assert f.scalar
    value, grads, tangent = interpreted(graph, point, tangents)
    got_value, got_grads = f.value_and_grad(*point)
    assert got_value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert got_grads == pytest.approx(grads, rel=1e-10, abs=1e-12)
    got = f.jvp(point, tangents)
    assert got == pytest.approx((value, tangent), rel=1e-10, abs=1e-12)
    assert f(*point) == pytest.approx(value, rel=1e-12, abs=1e-12)
    # and loosely against central differences of plain numpy (an independent reference)
    reference = lambda *xs: float(build_program(NUMPY_OPS, n_inputs, steps, xs))  # noqa: E731
    for i in range(n_inputs):
        fd = central_difference(reference, point, i)
        assert got_grads[i] == pytest.approx(fd, rel=1e-4, abs=1e-5)


@given(random_programs(max_inputs=3, max_ops=8), st.integers(0, 2**16))
def test_compiled_equals_interpreted_on_random_array_programs(program, seed_):
    """The same programs on arrays: a (3, 1), a (4,) and a float, so everything broadcasts."""
    n_inputs, steps = program
    rng = np.random.default_rng(seed_)
    shapes = [(3, 1), (4,), ()][:n_inputs]
    point = [rng.uniform(-1.5, 1.5, size=s) if s else float(rng.uniform(-1.5, 1.5))
             for s in shapes]
    tangents = [rng.normal(size=s) if s else float(rng.normal()) for s in shapes]
    graph = ad.trace(lambda *xs: ad.sum(build_program(ad, n_inputs, steps, xs)), *point)
    f = ad.compile(graph, *point, argnums=tuple(range(n_inputs)))
    assert not f.scalar
    value, grads, tangent = interpreted(graph, point, tangents)
    got_value, got_grads = f.value_and_grad(*point)
    assert got_value == pytest.approx(value, rel=1e-12)
    for got, expected, shape in zip(got_grads, grads, shapes):
        assert np.shape(got) == shape
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    got_out, got_tangent = f.jvp(point, tangents)
    assert got_tangent == pytest.approx(tangent, rel=1e-10, abs=1e-12)


# ---- each primitive against sympy (the compiled path gets the registry's own tests) ----

@pytest.mark.parametrize("name", ELEMENTWISE)
def test_compiled_gradient_of_each_primitive_matches_sympy(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    spec = prim.sympy(*symbols)
    points = sample_points(prim, 3, seed=3)
    f = ad.compile(getattr(ad, name), *points[0], argnums=tuple(range(prim.nin)))
    for args in points:
        value, grads = f.value_and_grad(*args)
        at = dict(zip(symbols, args))
        assert value == pytest.approx(float(spec.subs(at)), rel=1e-12, abs=1e-14)
        for i, grad in enumerate(grads):
            exact = float(exact_partial(prim, i, symbols).subs(at))
            assert grad == pytest.approx(exact, rel=1e-10, abs=1e-12)


# ---- arrays, broadcasting and structural ops ----

def broadcasting_function(a, b, c, W):
    h = ad.sin(a) * b + a ** 2 / c - ad.tanh(b) * 2.0
    z = ad.tanh(h @ W).T
    return ad.sum(ad.mean(z, axis=0) * c) + ad.sum(h, axis=1, keepdims=True).sum()


def test_array_graph_with_broadcasting_and_structural_ops_matches_the_evaluators():
    rng = np.random.default_rng(0)
    args = [rng.normal(size=(3, 1)), rng.normal(size=(1, 4)), 0.7, rng.normal(size=(4, 4))]
    f = ad.compile(broadcasting_function, *args, argnums=(0, 1, 2, 3))
    value, grads, _ = interpreted(f.graph, args)
    got_value, got_grads = f.value_and_grad(*args)
    assert got_value == pytest.approx(value, rel=1e-13)
    assert type(got_grads[2]) is float
    for got, expected, arg in zip(got_grads, grads, args):
        assert np.shape(got) == np.shape(arg)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    tangents = [rng.normal(size=np.shape(a)) for a in args]
    _, _, tangent = interpreted(f.graph, args, tangents)
    assert f.jvp(args, tangents)[1] == pytest.approx(tangent, rel=1e-12)


def test_array_function_gradient_matches_hand_written_numpy():
    x = np.linspace(-2.0, 2.0, 101)
    f = ad.compile(lambda x: ad.sum(ad.sin(x) * ad.exp(-x**2) + x**3), x)
    value, grad = f.value_and_grad(x)
    assert value == pytest.approx(np.sum(np.sin(x) * np.exp(-x**2) + x**3), rel=1e-13)
    by_hand = np.cos(x) * np.exp(-x**2) - 2 * x * np.sin(x) * np.exp(-x**2) + 3 * x**2
    np.testing.assert_allclose(grad, by_hand, rtol=1e-12, atol=1e-14)


def test_array_gradients_are_fresh_writable_arrays():
    x = np.array([1.0, 2.0, 3.0])
    f = ad.compile(lambda x: ad.sum(x), x)
    _, grad = f.value_and_grad(x)
    grad[0] = 5.0                       # a read-only broadcast view would raise here
    assert f.value_and_grad(x)[1].tolist() == [1.0, 1.0, 1.0]
    identity = ad.compile(lambda x, y: x * y, x, 2.0)
    out, tangent = identity.jvp((x, 2.0), (x, 0.0))
    assert tangent.tolist() == [2.0, 4.0, 6.0] and x.tolist() == [1.0, 2.0, 3.0]


def test_unused_inputs_get_zero_gradients_of_their_shape():
    f = ad.compile(lambda x, y: ad.sin(x), 1.0, 2.0, argnums=(0, 1))
    assert f.value_and_grad(0.0, 5.0) == (0.0, (1.0, 0.0))
    g = ad.compile(lambda x, y: ad.sum(x), np.ones(2), np.ones((2, 3)), argnums=1)
    assert g.value_and_grad(np.ones(2), np.ones((2, 3)))[1].tolist() == [[0.0] * 3] * 2


# ---- JAX conventions and errors ----

def test_argnums_int_gives_one_gradient_and_a_tuple_gives_a_tuple():
    f = lambda x, y: x * y * y  # noqa: E731
    assert ad.compile(f, 2.0, 3.0).value_and_grad(2.0, 3.0) == (18.0, 9.0)
    assert ad.compile(f, 2.0, 3.0, argnums=-1).value_and_grad(2.0, 3.0) == (18.0, 12.0)
    assert ad.compile(f, 2.0, 3.0, argnums=(1, 0)).value_and_grad(2.0, 3.0) == (18.0, (12.0, 9.0))
    with pytest.raises(ad.DualadError, match="argnums 2"):
        ad.compile(f, 2.0, 3.0, argnums=2)


def test_identity_and_constant_outputs():
    f = ad.compile(lambda x: x, 3.0)
    assert f.value_and_grad(2.0) == (2.0, 1.0)
    assert f.jvp((2.0,), (5.0,)) == (2.0, 5.0)
    g = ad.compile(lambda x: x * 0.0 + 1.5, 3.0)
    assert g.value_and_grad(2.0) == (1.5, 0.0)


def test_several_outputs_and_non_scalar_outputs_support_call_and_jvp_only():
    f = ad.compile(lambda x, y: (x * y, x + y), 2.0, 3.0)
    assert f(2.0, 3.0) == (6.0, 5.0)
    assert f.jvp((2.0, 3.0), (1.0, 0.0)) == ((6.0, 5.0), (3.0, 1.0))
    with pytest.raises(ad.ShapeMismatchError, match="2 outputs"):
        f.value_and_grad(2.0, 3.0)
    g = ad.compile(lambda x: x * 2.0, np.ones(3))
    with pytest.raises(ad.ShapeMismatchError, match=r"not a scalar \(shape \(3,\)\)"):
        g.value_and_grad(np.ones(3))
    assert g.jvp((np.ones(3),), (np.arange(3.0),))[1].tolist() == [0.0, 2.0, 4.0]


def test_ints_are_accepted_and_arrays_refused_by_float_code():
    f = ad.compile(lambda x: x * x, 1.0)
    assert f.value_and_grad(3) == (9.0, 6.0)
    assert f(np.float64(2.0)) == 4.0
    with pytest.raises(ad.ShapeMismatchError, match="compiled for float arguments.*'x'"):
        f.value_and_grad(np.ones(2))
    with pytest.raises(ad.DualadError, match="expected 1 argument"):
        f(1.0, 2.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_a_scalar_result_is_a_python_number_as_the_transforms_give_it(dtype):
    x = np.array([0.5, 2.0], dtype=dtype)
    f = lambda x: ad.sum(ad.sin(x) * x)                                # noqa: E731
    value = complex(np.sum(np.sin(x.astype(complex)) * x))              # by hand in numpy
    kind = complex if dtype is np.complex128 else float
    compiled = ad.compile(f, x)
    results = {"call": compiled(x), "value_and_grad": compiled.value_and_grad(x)[0],
               "jvp": compiled.jvp((x,), (np.ones_like(x),))[0],
               "ad.value_and_grad": ad.value_and_grad(f)(x)[0],
               "ad.jvp": ad.jvp(f, (x,), (np.ones_like(x),))[0]}
    for what, result in results.items():
        assert type(result) is kind, what
        assert result == pytest.approx(value, rel=1e-6), what


@pytest.mark.parametrize("example", [1.5, np.array([1.5, 2.5])])
def test_a_wrong_number_of_arguments_is_an_error_naming_the_arguments(example):
    f = ad.compile(lambda x, w: ad.sum(x * w), example, 2.0)
    for call, what in ((lambda *a: f(*a), "function"), (f.value_and_grad, "value_and_grad")):
        for args in ((example,), (example, 2.0, 3.0), ()):
            with pytest.raises(ad.DualadError,
                               match=rf"compiled {what}: expected 2 argument\(s\) \(x, w\), "
                                     rf"got {len(args)}; pass one value for each"):
                call(*args)
    with pytest.raises(ad.DualadError,
                       match=r"compiled jvp: expected 2 argument\(s\) \(x, w\), got 1 primal"):
        f.jvp((example,), (example,))
    with pytest.raises(ad.DualadError, match="compiled jvp: 2 primals but 1 tangents"):
        f.jvp((example, 2.0), (example,))
    several = ad.compile(lambda x: (x, x * x), 1.0)       # no gradient: that error wins
    with pytest.raises(ad.ShapeMismatchError, match="2 outputs"):
        several.value_and_grad(1.0)
    with pytest.raises(ad.DualadError, match=r"expected 1 argument\(s\) \(x\), got 0"):
        several()


def test_array_code_refuses_other_shapes():
    f = ad.compile(lambda x: ad.sum(x * x), np.ones(3))
    with pytest.raises(ad.ShapeMismatchError, match=r"shape \(4,\).*compiled for shape \(3,\)"):
        f.value_and_grad(np.ones(4))


def test_bad_targets_and_missing_examples_are_clear_errors():
    with pytest.raises(ad.DualadError, match="expected a function, a Graph or a Var"):
        ad.compile(3.0)
    lazy = ad.sin(ad.Var(name="x"))
    with pytest.raises(ad.DualadError, match="give a value for each input"):
        ad.compile(lazy)
    with pytest.raises(ad.DualadError, match="numbers or numeric arrays"):
        ad.compile(ad.Graph(ad.sin(ad.Var(1.0))), sp.Symbol("x"))


# ---- domain edges: the same nan/inf and warnings as the interpreted path ----

@pytest.mark.parametrize("f, at, expected", [
    (lambda x: ad.log(x) * x, -1.0, (np.nan, np.nan)),
    (lambda x: 1.0 / x, 0.0, (np.inf, -np.inf)),
    (lambda x: ad.exp(x), 1000.0, (np.inf, np.inf)),
    (lambda x: ad.sqrt(x) + x, -4.0, (np.nan, np.nan)),
])
def test_domain_edges_give_numpy_nan_and_inf_with_a_warning(f, at, expected):
    compiled = ad.compile(f, 1.0)
    with pytest.warns(RuntimeWarning):
        value, grad = compiled.value_and_grad(at)
    with pytest.warns(RuntimeWarning):
        reference = interpreted(compiled.graph, [at])
    assert type(value) is float and type(grad) is float
    np.testing.assert_equal((value, grad), expected)
    np.testing.assert_equal((value, grad), (reference[0], reference[1][0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(compiled(at)) == np.isnan(expected[0])


# ---- rules that cannot be written as code, names, size ----

def test_seed_style_operations_call_their_own_partials():
    p, q = ad.Var(3.0, name="p"), ad.Var(4.0, name="q")
    # partials written with numpy's functions are recorded like every rule (np.hypot is a
    # registry op); one that needs plain numbers (float(), math) is called as it is
    h = ad.Var(op=np.hypot, children=[p, q],
               pds=[lambda p, q: p / np.hypot(p, q), lambda p, q: float(q) / math.hypot(p, q)])
    f = ad.compile(h * p, argnums=(0, 1))
    for at in ((3.0, 4.0), (5.0, 12.0)):
        value, (dp, dq) = f.value_and_grad(*at)     # d(p hypot)/dp = hypot + p^2/hypot
        r = math.hypot(*at)
        assert (value, dp, dq) == pytest.approx((r * at[0], r + at[0] ** 2 / r,
                                                 at[1] * at[0] / r), rel=1e-14)
    assert "hypot(p, q)" in f.source and "call_partial_1_of_hypot(p, q, v1)" in f.source


def test_source_is_readable_deterministic_and_names_each_op():
    one = ad.compile(seed, 1.0, 4.0, argnums=1).source
    assert one == ad.compile(seed, 1.0, 4.0, argnums=1).source
    # numbered as trace_table numbers the nodes; the seed 1 and the shares equal to it are
    # not written; each step used once is written inside the one that uses it
    assert "v2 = sin(v1)" in one and "v4 = square(v2)" in one and "# square" in one
    assert "w_bar = v4 + x * v1_bar" in one and "v1_bar = v5 + cos(v1) * v2_bar" in one
    # one numbering everywhere: v_i is the node trace_table calls v_i, op for op
    lines = one.split("def value_and_grad")[0].splitlines()
    for row in ad.trace_table(seed, 1.0, 4.0).primal:
        if row.op not in ("input", "output"):
            (line,) = [x for x in lines if x.strip().startswith(f"v{row.index} = ")]
            assert line.endswith(f"# {row.op}")


def test_awkward_input_names_are_replaced():
    graph = ad.trace(lambda type, x_bar, sin: type * x_bar + ad.sin(sin), 1.0, 2.0, 3.0)
    f = ad.compile(graph, 1.0, 2.0, 3.0, argnums=(0, 1, 2))
    assert f.value_and_grad(1.0, 2.0, 0.0) == (2.0, (2.0, 1.0, 1.0))
    assert "def primal(x0, x1, sin):" in f.source and "sin_2(sin)" in f.source


def test_a_long_graph_whose_program_is_short_is_written_with_textbook_names():
    # 2,048 nodes: 1,024 sins of x and a tree of sums of them. Recorded, the sins are one
    # step (a CSE) and each level of the tree one more, so the primal program is short
    # and its lines name the nodes, though the graph is too long to be named up front.
    def tree(x):
        level = [ad.sin(x) for _ in range(1024)]
        while len(level) > 1:
            level = [level[i] + level[i + 1] for i in range(0, len(level), 2)]
        return level[0]

    f = ad.compile(tree, 0.3)
    assert len(f.graph) > BLOCK_STEPS
    assert f(0.7) == 1024 * math.sin(0.7)          # sums of equal terms: exact doublings
    primal = f.source[f.source.index("def primal"):]
    assert "v1 = sin(x)" in primal and "v1025 = v1 + v1" in primal
    value, slope = f.value_and_grad(0.7)
    assert slope == pytest.approx(1024 * math.cos(0.7), rel=1e-13)


def test_large_fan_out_and_a_ten_thousand_node_graph_compile():
    # 5,000 uses of x: its adjoint is written as chunked sums, not one 5,000-term expression
    def many(x):
        total = x
        for k in range(5_000):
            total = total + x * float(k % 7)
        return total

    f = ad.compile(many, 1.0)
    assert f.value_and_grad(2.0)[1] == 1.0 + sum(float(k % 7) for k in range(5_000))

    def chain(x):
        y = x
        for _ in range(10_000):
            y = ad.tanh(y) * 1.0001
        return y

    g = ad.compile(chain, 0.5)         # its compile time is measured in benchmarks/run.py
    reference = interpreted(g.graph, [0.3])
    assert g.value_and_grad(0.3) == pytest.approx((reference[0], reference[1][0]), rel=1e-12)
