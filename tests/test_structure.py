"""A function traced again reuses its last graph's structure only when the new trace has it:
the graph rebuilt from the structure is, attribute by attribute, the graph a sort builds, and
every difference (an op, a parameter, sharing, a constant for an input, a branch, an output)
gives a new sort and the right derivative."""

import functools
import gc
import types
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualad as ad
from dualad.graph import Graph, Guard
from dualad.structure import Structure, frozen_params, UNHASHABLE
from strategies import build_program, random_point, random_programs

GRAPH_PARTS = ("input_positions", "output_positions", "guards", "leaf_positions",
               "op_positions", "op_args")


def same_graph(rebuilt, sorted_graph):
    """``rebuilt`` has the sorted graph's nodes (the same objects, in the same order) and the
    same positions."""
    assert [id(n) for n in rebuilt.nodes] == [id(n) for n in sorted_graph.nodes]
    for part in GRAPH_PARTS:
        assert list(getattr(rebuilt, part)) == list(getattr(sorted_graph, part)), part
    assert rebuilt.single_output == sorted_graph.single_output
    assert [id(n) for n in rebuilt.inputs] == [id(n) for n in sorted_graph.inputs]
    assert [id(n) for n in rebuilt.outputs] == [id(n) for n in sorted_graph.outputs]


def sorted_again(graph):
    """The graph of the same nodes, as the constructor sorts it."""
    guards = [Guard(graph.nodes[p], outcome) for p, outcome in graph.guards]
    fresh = Graph(graph.outputs, inputs=graph.inputs, guards=guards)
    fresh.single_output = graph.single_output
    return fresh


class Switchable:
    """One Python function (one code object) whose program is chosen from outside."""

    def __init__(self):
        self.program = None

    def function(self):
        holder = self

        def f(*xs):
            n_inputs, steps = holder.program
            return build_program(ad, n_inputs, steps, xs)
        return f


@given(random_programs(max_inputs=3, max_ops=8), random_programs(max_inputs=3, max_ops=8),
       st.booleans())
def test_a_second_trace_is_rebuilt_exactly_when_its_structure_is_the_same(first, second,
                                                                          repeat):
    switch = Switchable()
    f = switch.function()
    switch.program = first
    one = ad.trace(f, *random_point(first[0], 1))
    switch.program = first if repeat else second
    n_inputs = switch.program[0]
    if n_inputs != first[0]:
        return      # another argument count is another key
    point = random_point(n_inputs, 2)
    two = ad.trace(f, *point)
    same_graph(two, sorted_again(two))
    if repeat:
        assert two.structure is one.structure is not None
    # either way the gradient is the one of the program traced now, by central differences
    grads = ad.grad(f, argnums=tuple(range(n_inputs)))(*point)
    for k in range(n_inputs):
        h = 1e-6
        up = [v + h * (j == k) for j, v in enumerate(point)]
        down = [v - h * (j == k) for j, v in enumerate(point)]
        numeric = (f_value(f, up) - f_value(f, down)) / (2 * h)
        assert grads[k] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def f_value(f, point):
    return ad.trace(f, *point)(*point)


def test_sharing_differs():
    """x * x and x * y have the same ops and arguments' count: the walk sees the sharing."""
    use_twice = [True]

    def f(x, y):
        return x * (x if use_twice[0] else y)
    g = ad.value_and_grad(f, argnums=(0, 1))
    assert g(3.0, 5.0) == (9.0, (6.0, 0.0))
    use_twice[0] = False
    assert g(3.0, 5.0) == (15.0, (5.0, 3.0))
    use_twice[0] = True
    assert g(3.0, 5.0) == (9.0, (6.0, 0.0))


def test_a_constant_where_an_input_was():
    constant = [False]

    def f(x, y):
        return x * (2.0 if constant[0] else y)
    g = ad.grad(f, argnums=(0, 1))
    assert g(3.0, 5.0) == (5.0, 3.0)
    constant[0] = True
    assert g(3.0, 5.0) == (2.0, 0.0)


def test_parameters_differ():
    axis = [0]

    def f(w):
        return ad.sum(ad.sum(w * w, axis=axis[0]) * np.array([1.0, 2.0]))
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = ad.grad(f)
    np.testing.assert_allclose(g(w), [[2.0, 8.0], [6.0, 16.0]])     # 2 w_ij * c_j
    axis[0] = 1
    np.testing.assert_allclose(g(w), [[2.0, 4.0], [12.0, 16.0]])    # 2 w_ij * c_i
    axis[0] = 0
    np.testing.assert_allclose(g(w), [[2.0, 8.0], [6.0, 16.0]])


@pytest.mark.parametrize("reduce", [ad.sum, ad.mean])
def test_keepdims_changed_between_calls(reduce):
    # sum and mean share one parameters dict for each (axis, keepdims): a trace whose
    # keepdims differs must still be told apart from the last one, here by its gradient
    keep = [False]
    v = np.array([0.5, -1.0, 2.0])

    def f(w):
        return ad.sum(ad.sin(reduce(w, axis=1, keepdims=keep[0]) * v))
    w = np.arange(9.0).reshape(3, 3) / 10
    s = w.sum(axis=1) / (3 if reduce is ad.mean else 1)
    scale = 1 / 3 if reduce is ad.mean else 1.0
    flat = np.repeat((np.cos(s * v) * v * scale)[:, None], 3, axis=1)       # sin(s_i v_i)
    kept = np.repeat((np.cos(np.outer(s, v)) @ v * scale)[:, None], 3, axis=1)  # sin(s_i v_j)
    g = ad.grad(f)
    for k in (False, False, False, True, True, True, False, True):
        keep[0] = k
        np.testing.assert_allclose(g(w), kept if k else flat, rtol=1e-12)


def test_sum_and_mean_share_one_parameters_dict_for_each_pair_of_values():
    x = ad.Var(np.ones((2, 2)))
    a, b = ad.sum(x, axis=0), ad.sum(x, axis=np.int64(0), keepdims=0)
    assert a.params is b.params and a.params == {"axis": 0, "keepdims": False}
    assert type(b.params["axis"]) is int and type(b.params["keepdims"]) is bool
    assert ad.mean(x, axis=[0]).params == {"axis": (0,), "keepdims": False}
    others = [ad.sum(x, axis=0, keepdims=True), ad.sum(x, axis=(0,)), ad.sum(x), ad.sum(x, 1)]
    assert len({id(a.params)} | {id(o.params) for o in others}) == 5


def test_a_branch_that_goes_the_other_way():
    def f(x):
        return x * 2.0 if x > 0 else x * 3.0
    g = ad.value_and_grad(f)
    assert g(1.0) == (2.0, 2.0)
    assert g(-1.0) == (-3.0, 3.0)
    assert g(2.0) == (4.0, 2.0)
    first, second = ad.trace(f, 1.0), ad.trace(f, 2.0)
    assert second.structure is first.structure
    same_graph(second, sorted_again(second))            # the guard at the same position
    assert second.guards == first.guards == sorted_again(second).guards != ()
    with pytest.raises(ad.BranchChangedError):
        second(-1.0)


def test_outputs_shared_or_not():
    both_same = [True]

    def f(x):
        y = ad.sin(x)
        return (y, y) if both_same[0] else (y, ad.sin(x))
    for flag in (True, False, True):
        both_same[0] = flag
        graph = ad.trace(f, 0.5)
        same_graph(graph, sorted_again(graph))
        assert len(graph) == (2 if flag else 3)
        jac = ad.jacobian(f)(0.5)
        np.testing.assert_allclose(np.ravel(jac), [np.cos(0.5)] * 2)


def test_an_input_returned_as_it_is():
    def f(x, y):
        return x
    for _ in range(2):
        assert ad.grad(f, argnums=(0, 1))(1.0, 2.0) == (1.0, 0.0)


def test_nested_transforms_are_not_rebuilt_inside():
    def f(x):
        return x * x * x
    d2 = ad.grad(ad.grad(f))
    assert d2(2.0) == 12.0
    assert d2(3.0) == 18.0


def test_a_structure_holds_no_values():
    def f(x):
        return ad.sum(ad.exp(x) * x)
    x = np.linspace(0.0, 1.0, 1000)
    value, grad = ad.value_and_grad(f)(x)
    np.testing.assert_allclose(grad, np.exp(x) * (1 + x))
    kept = weakref.ref(x)
    graph = ad.trace(f, x)
    assert graph.structure is not None
    del x, graph, value, grad
    gc.collect()
    assert kept() is None


def test_structures_are_shared_only_with_registered_ops_and_comparable_parameters():
    seed_op = ad.Var(op=np.sin, children=[ad.Var(1.0)], pds=[np.cos])
    assert Structure.of(Graph(seed_op)) is None
    assert frozen_params({"a": object.__new__(type("Unhashable", (), {"__hash__": None}))}) \
        is UNHASHABLE



def test_many_functions_traced_are_forgotten_at_once_and_still_right():
    from dualad import structure

    def times(x, k):
        return x * k
    for k in range(structure.REMEMBERED + 5):
        code = times.__code__.replace(co_name=f"times_{k}")     # a code object of its own
        f = types.FunctionType(code, globals())
        assert ad.grad(f)(2.0, float(k + 1)) == k + 1
    assert 0 < len(structure._REMEMBERED) <= structure.REMEMBERED


def decorated(f):
    """A user's decorator: every function it wraps runs the wrapper's one code object."""
    @functools.wraps(f)
    def wrapper(*args):
        return f(*args) * 2.0
    return wrapper


def test_functions_wrapped_by_one_decorator_each_keep_their_own_structure():
    @decorated
    def f(x):
        return ad.sin(x) * x

    @decorated
    def g(x):
        return ad.exp(x) + x

    first = ad.trace(f, 1.0)
    assert ad.trace(g, 1.0).structure is not first.structure
    again = ad.trace(f, 2.0)
    assert again.structure is first.structure          # rebuilt, not sorted anew
    assert again.input_names == ["x"]
    assert ad.grad(f)(2.0) == pytest.approx(2.0 * (np.cos(2.0) * 2.0 + np.sin(2.0)), rel=1e-15)


def test_two_functions_with_aux_called_in_turn_keep_their_structures(monkeypatch):
    def f(x):
        return ad.sin(x) * x, "f"

    def g(x):
        return ad.exp(x) + x, "g"
    vg_f = ad.value_and_grad(f, has_aux=True)
    vg_g = ad.value_and_grad(g, has_aux=True)
    vg_f(0.5), vg_g(0.5)
    made = []
    original = Structure.of
    monkeypatch.setattr(Structure, "of", classmethod(
        lambda cls, graph: made.append(graph) or original(graph)))
    for x in (0.1, 0.2, 0.3):
        (value, aux), grad = vg_f(x)
        assert aux == "f" and value == pytest.approx(np.sin(x) * x, rel=1e-15)
        assert grad == pytest.approx(np.cos(x) * x + np.sin(x), rel=1e-15)
        (value, aux), grad = vg_g(x)
        assert aux == "g" and value == pytest.approx(np.exp(x) + x, rel=1e-15)
        assert grad == pytest.approx(np.exp(x) + 1.0, rel=1e-15)
    assert made == []           # every trace was rebuilt from its own function's structure
