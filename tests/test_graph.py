"""The shared graph and the seed's Var facade: order, fan-out, scale, operators, broadcasting."""

import numpy as np
import pytest
import sympy as sp

import dualad as ad
from dualad.evaluators import ReverseEvaluator, ValueEvaluator


@pytest.fixture(autouse=True)
def _every_evaluator_set(evaluators_in_use):
    """The Var facade runs on the reference evaluators and on every fast path."""


def test_topological_order_puts_children_first_and_is_stable():
    x, y = ad.Var(1.0, name="x"), ad.Var(2.0, name="y")
    a = x * y
    b = ad.sin(a)
    c = a + b
    order = ad.topological_order([c])
    assert [id(n) for n in order] == [id(n) for n in (x, y, a, b, c)]
    assert [id(n) for n in ad.topological_order([c])] == [id(n) for n in order]


def test_graph_exposes_inputs_outputs_nodes_and_evaluates_at_new_points():
    x, y = ad.Var(1.0, name="x"), ad.Var(2.0, name="y")
    z = x * y + 3
    graph = ad.Graph(z)
    assert [n.name for n in graph.inputs] == ["x", "y"]
    assert graph.outputs == [z]
    assert len(graph) == len(graph.nodes) == 5
    assert graph(2.0, 5.0) == 13.0
    two = ad.Graph([z, x * x])
    assert two(3.0, 1.0) == (6.0, 9.0)
    assert z.value == 5.0  # evaluating a Graph never writes to the nodes


def test_fan_out_accumulates_adjoints():
    x = ad.Var(3.0)
    y = x * x          # x used twice by one node
    z = y + x * 2.0    # and again by another
    z.backward()
    assert x.deriv == 2 * 3.0 + 2.0


def test_backward_twice_gives_the_same_derivatives():
    x, w = ad.Var(1.0), ad.Var(4.0)
    v = ad.exp(x * w) + ad.sin(w)
    v.backward()
    first = (x.deriv, w.deriv)
    v.backward()
    assert (x.deriv, w.deriv) == first


def test_forward_recomputes_from_current_leaf_values():
    x = ad.Var(2.0)
    y = ad.square(x) + 1
    x.value = 3.0
    assert y.forward() == 10.0
    y.backward()
    assert x.deriv == 6.0


def test_lazy_leaves_without_values_are_filled_by_forward():
    x = ad.Var(name="x")
    y = ad.sin(x) * 2
    assert y.value is None
    x.value = 0.0
    assert y.forward() == 0.0
    y.backward()
    assert x.deriv == 2.0


def test_a_chain_of_a_million_nodes_runs_without_recursion_error():
    x = ad.Var(0.5)
    y = x
    for _ in range(1_000_000):
        y = ad.sin(y)
    assert len(ad.Graph(y)) == 1_000_001
    y.forward()
    y.backward()
    # reference: iterate the chain rule by hand on floats
    value, deriv = 0.5, 1.0
    for _ in range(1_000_000):
        deriv *= np.cos(value)
        value = np.sin(value)
    assert y.value == pytest.approx(value, rel=1e-12)
    assert x.deriv == pytest.approx(deriv, rel=1e-9)


# ---- operators, numbers and arrays on either side, numpy ufuncs ----

def test_operators_with_numbers_on_either_side():
    x = ad.Var(2.0)
    cases = {
        "x + 3": (x + 3, 5.0, 1.0), "3 + x": (3 + x, 5.0, 1.0),
        "x - 3": (x - 3, -1.0, 1.0), "3 - x": (3 - x, 1.0, -1.0),
        "x * 3": (x * 3, 6.0, 3.0), "3 * x": (3 * x, 6.0, 3.0),
        "x / 4": (x / 4, 0.5, 0.25), "4 / x": (4 / x, 2.0, -1.0),
        "x ** 3": (x**3, 8.0, 12.0), "3 ** x": (3**x, 9.0, 9.0 * np.log(3.0)),
        "-x": (-x, -2.0, -1.0), "abs(-x)": (abs(-x), 2.0, 1.0),
    }
    for text, (node, value, deriv) in cases.items():
        node.backward()
        assert node.value == pytest.approx(value), text
        assert x.deriv == pytest.approx(deriv), text


def test_operators_with_arrays_on_either_side():
    x = ad.Var(np.array([1.0, 2.0]))
    a = np.array([3.0, 5.0])
    for node, deriv in [(x * a, a), (a * x, a), (a - x, -np.ones(2)), (x / a, 1 / a),
                        (a + x, np.ones(2))]:
        assert isinstance(node, ad.Var)
        ad.sum(node).backward()
        np.testing.assert_allclose(x.deriv, deriv)
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = m @ x
    assert isinstance(y, ad.Var)
    ad.sum(y).backward()
    np.testing.assert_allclose(x.deriv, m.sum(axis=0))
    z = x @ m
    ad.sum(z).backward()
    np.testing.assert_allclose(x.deriv, m.sum(axis=1))


def test_numpy_ufuncs_on_a_var_return_vars():
    x = ad.Var(1.5)
    for ufunc, deriv in [(np.sin, np.cos(1.5)), (np.exp, np.exp(1.5)), (np.tanh, 1 - np.tanh(1.5)**2),
                         (np.sqrt, 0.5 / np.sqrt(1.5)), (np.log, 1 / 1.5)]:
        y = ufunc(x)
        assert isinstance(y, ad.Var)
        y.backward()
        assert x.deriv == pytest.approx(deriv)
    y = np.add(x, 1)
    assert isinstance(y, ad.Var) and y.value == 2.5
    total = np.sum(ad.Var(np.ones(3)) * 2)
    assert isinstance(total, ad.Var) and total.value == 6.0


def test_unsupported_numpy_function_says_so():
    with pytest.raises(ad.DualadError, match="numpy.fmod on a Var"):
        np.fmod(ad.Var(1.5), 1.0)
    with pytest.raises(ad.DualadError, match="numpy.median on a Var"):
        np.median(ad.Var(np.ones(3)))


def test_piecewise_constant_numpy_functions_see_plain_values():
    assert np.floor(ad.Var(1.5)) == 1.0
    assert np.sign(ad.Var(-2.0)) == -1.0


# ---- broadcasting ----

def test_broadcasting_gradients_come_back_in_each_input_shape():
    a_val = np.arange(3.0).reshape(3, 1) + 1
    b_val = np.arange(4.0).reshape(1, 4) + 1
    a, b = ad.Var(a_val), ad.Var(b_val)
    out = ad.sum(a * b + ad.sin(a) / b)
    out.backward()
    assert a.deriv.shape == (3, 1) and b.deriv.shape == (1, 4)
    # hand-derived: d/da_i = sum_j (b_j + cos(a_i) / b_j), d/db_j = sum_i (a_i - sin(a_i) / b_j^2)
    np.testing.assert_allclose(a.deriv, (b_val + np.cos(a_val) / b_val).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(b.deriv, (a_val - np.sin(a_val) / b_val**2).sum(axis=0, keepdims=True))


def test_scalar_broadcast_against_an_array_gets_the_summed_gradient():
    s = ad.Var(2.0)
    x = ad.Var(np.array([1.0, 2.0, 3.0]))
    ad.sum(s * x).backward()
    assert s.deriv == pytest.approx(6.0)
    assert isinstance(s.deriv, float)


def test_shapes_that_do_not_broadcast_raise_naming_op_and_shapes():
    with pytest.raises(ad.ShapeMismatchError, match=r"multiply: shapes \(3,\) and \(4,\) do not broadcast"):
        ad.Var(np.ones(3)) * np.ones(4)
    with pytest.raises(ValueError):
        ad.add(np.ones((2, 3)), ad.Var(np.ones((3, 2))))
    with pytest.raises(ad.ShapeMismatchError, match=r"matmul: .*\(2, 3\) and \(2, 3\)"):
        ad.Var(np.ones((2, 3))) @ np.ones((2, 3))


def test_backward_on_a_non_scalar_output_needs_a_seed():
    x = ad.Var(np.array([1.0, 2.0, 3.0]))
    y = x * 2
    with pytest.raises(ad.ShapeMismatchError, match=r"must be a scalar, but it is not \(shape \(3,\)\)"):
        y.backward()
    y.backward(seed=np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(x.deriv, [2.0, 0.0, 2.0])
    with pytest.raises(ad.ShapeMismatchError, match="seed of shape"):
        y.backward(seed=np.ones(2))


def test_seed_arrays_passed_in_are_not_modified():
    x = ad.Var(np.array([1.0, 2.0]))
    y = x + x
    seed = np.array([1.0, 1.0])
    y.backward(seed=seed)
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_allclose(x.deriv, [2.0, 2.0])


# ---- a tiny network against hand-written backprop ----

def test_matmul_tanh_network_matches_hand_derived_backprop():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3))
    W1_val, W2_val = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    y_true = rng.standard_normal((5, 2))
    W1, W2 = ad.Var(W1_val), ad.Var(W2_val)
    H = ad.tanh(X @ W1)
    loss = ad.mean(ad.square(H @ W2 - y_true))
    loss.backward()
    # hand-written backprop in numpy
    h_pre = X @ W1_val
    h = np.tanh(h_pre)
    err = h @ W2_val - y_true
    d_out = 2 * err / err.size
    dW2 = h.T @ d_out
    dh = d_out @ W2_val.T
    dW1 = X.T @ (dh * (1 - h**2))
    assert loss.value == pytest.approx(np.mean(err**2))
    np.testing.assert_allclose(W2.deriv, dW2, rtol=1e-12)
    np.testing.assert_allclose(W1.deriv, dW1, rtol=1e-12)


# ---- seed-style custom ops ----

def test_seed_style_custom_op_with_partials_of_child_values():
    a, b = ad.Var(3.0), ad.Var(2.0)
    hypot = ad.Var(op=np.hypot, children=[a, b],
                   pds=[lambda a, b: a / np.hypot(a, b), lambda a, b: b / np.hypot(a, b)])
    assert hypot.value == pytest.approx(np.sqrt(13.0))
    (hypot * 2).backward()
    assert a.deriv == pytest.approx(2 * 3 / np.sqrt(13))
    assert b.deriv == pytest.approx(2 * 2 / np.sqrt(13))


def test_seed_style_op_with_ufunc_partial_and_output_argument():
    x = ad.Var(0.3)
    s = ad.Var(op=np.sin, children=[x], pds=[np.cos])
    e = ad.Var(op=np.exp, children=[s], pds=[lambda v, out: out])
    e.backward()
    assert x.deriv == pytest.approx(np.exp(np.sin(0.3)) * np.cos(0.3))


def test_seed_style_subtract_with_the_right_partials():
    # the seed's bug: subtract used _add_pd for its second partial
    a, b = ad.Var(5.0), ad.Var(3.0)
    ad.subtract(a, b).backward()
    assert (a.deriv, b.deriv) == (1.0, -1.0)


def test_seed_style_op_with_wrong_number_of_partials_is_refused():
    with pytest.raises(ad.DualadError, match="2 children but 1 partials"):
        ad.Var(op=np.add, children=[ad.Var(1.0), ad.Var(2.0)], pds=[lambda a, b: 1.0])


def test_evaluators_keep_their_own_buffers():
    x = ad.Var(1.0, name="x")
    y = ad.sin(x) * x
    graph = ad.Graph(y)
    values = ValueEvaluator(graph).run([2.0])
    adjoints = ReverseEvaluator(graph).run(values, [1.0])
    assert adjoints[graph.input_positions[0]] == pytest.approx(np.cos(2.0) * 2 + np.sin(2.0))
    assert x.value == 1.0 and x.deriv is None and y.deriv is None


def test_constants_get_no_derivative_and_nothing_is_computed_for_them():
    x = ad.Var(-2.0)
    y = x ** 2           # d/d(exponent) would need log(-2): never computed
    y.backward()
    assert x.deriv == -4.0
    assert y.children[1].constant and y.children[1].deriv is None


def test_symbolic_values_flow_through_the_same_rules():
    s = sp.Symbol("s")
    x = ad.Var(s, name="x")
    y = ad.sin(x) * x
    graph = ad.Graph(y)
    values = ValueEvaluator(graph).run([s])
    adjoints = ReverseEvaluator(graph).run(values, [sp.S.One])
    assert sp.simplify(adjoints[0] - sp.diff(sp.sin(s) * s, s)) == 0


def test_indexing_unpacking_and_stack_build_differentiable_graphs():
    x = ad.Var(np.array([1.0, 2.0, 3.0]))
    a, b, c = x
    y = ad.stack([a * b, ad.sin(c), x[np.array([0, 0])].sum()])
    ad.sum(y * np.array([1.0, 2.0, 3.0])).backward()
    # hand-derived: d/dx0 = x1 + 3*2, d/dx1 = x0, d/dx2 = 2 cos x2
    np.testing.assert_allclose(x.deriv, [2.0 + 6.0, 1.0, 2 * np.cos(3.0)])


def test_bad_indices_raise_dualad_errors():
    x = ad.Var(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ad.ShapeMismatchError, match=r"getitem: .*out of bounds.*\(3,\)"):
        x[5]
    with pytest.raises(ad.ShapeMismatchError, match="getitem: index 1.5"):
        x[1.5]
    with pytest.raises(ad.ShapeMismatchError, match=r"stack: .*\(\) and \(3,\)"):
        ad.stack([x, ad.Var(1.0)])
    with pytest.raises(TypeError):
        len(ad.Var(1.0))


def _post_order(roots, stopped):
    """Depth-first post-order, children in argument order, written the plain recursive way
    (the reference the iterative sort must agree with, node for node)."""
    order, seen = [], set()

    def visit(node):
        if id(node) in seen:
            return
        if id(node) not in stopped:
            for child in node.children:
                visit(child)
        if id(node) not in seen:
            seen.add(id(node))
            order.append(node)
    for root in roots:
        visit(root)
    return order


@pytest.mark.parametrize("seed", range(60))
def test_the_iterative_sort_is_the_depth_first_post_order_in_argument_order(seed):
    from dualad.graph import _sorted_nodes
    rng = np.random.default_rng(seed)
    nodes = [ad.Var(float(k)) for k in range(3)]
    for _ in range(int(rng.integers(1, 40))):
        a, b = (nodes[int(k)] for k in rng.integers(0, len(nodes), size=2))
        kind = int(rng.integers(0, 4))
        nodes.append(a * b if kind == 0 else ad.sin(a) if kind == 1 else
                     a + b * 2.0 if kind == 2 else ad.where(a > b, a, b))
    roots = [nodes[int(k)] for k in rng.integers(0, len(nodes), size=int(rng.integers(1, 4)))]
    cut = rng.integers(0, len(nodes), size=int(rng.integers(0, 3)))
    stopped = {id(nodes[int(k)]) for k in cut}
    order, position = _sorted_nodes(roots, stopped)
    expected = _post_order(roots, stopped)
    assert [id(n) for n in order] == [id(n) for n in expected]
    assert position == {id(n): k for k, n in enumerate(expected)}
