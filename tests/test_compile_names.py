"""ad.compile with hostile names: nothing a user named runs, and the results stay right.

Names reach generated code from users in three ways: an input's name, an intermediate node's
name, and an op's name (a seed-style op's ``__name__``, a primitive's ``name``). Each test
builds a graph with such names, checks that a sentinel the injected code would set stays
untouched, and checks the compiled value, gradient and tangent against the interpreted
transforms and central differences.
"""

import builtins
import inspect
import keyword
import re
import symtable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualad as ad
from dualad.compile import RESERVED
from dualad.graph import apply_primitive
from dualad.primitives import Primitive

from strategies import central_difference

#: What an injected line would run: it appends to this list (reset by each test).
SENTINEL = "__dualad_test_injected__"
INJECTED = f"__import__('builtins').{SENTINEL}.append(1)"

HOSTILE_NAMES = [
    "x", "\U0001d465",                      # a mathematical italic x: NFKC makes it "x"
    "\uff45\uff58\uff49\uff54",             # fullwidth "exit"
    "\uff53\uff49\uff4e",                   # fullwidth "sin": would be the bound function
    "__import__", "lambda", "None", "v1", "x0_bar", "x0", "sin", "FLOAT", "ValueError",
    "ArithmeticError", "type", "convert_arguments", "m", "c1",
    f"a\n    {INJECTED}  #", f"b\r{INJECTED}", f"# {INJECTED}", "'''", '"', "", "2x",
    f"\u2028{INJECTED}", f"\x0c{INJECTED}",
]


@pytest.fixture(autouse=True)
def sentinel():
    setattr(builtins, SENTINEL, [])
    yield getattr(builtins, SENTINEL)
    delattr(builtins, SENTINEL)


def assert_safe_source(compiled):
    """Every line ASCII and printable; every global the code reads is one dualad bound."""
    source = compiled.source
    for line in source.split("\n"):
        assert line.isascii() and line.isprintable(), repr(line)
    bound = set(compiled._runtime.fast) - {"__builtins__", "__name__"}
    assert bound == set(compiled._runtime.fallback) - {"__builtins__", "__name__"}
    for chunk in source.split("\n\n\n"):
        table = symtable.symtable(chunk, "generated", "exec")
        for function in table.get_children():
            params = set(function.get_parameters())
            for symbol in function.get_symbols():
                name = symbol.get_name()
                if symbol.is_global():
                    assert name in bound or name in {"type", "ArithmeticError", "ValueError"}, \
                        name
                    assert name not in params
                if symbol.is_parameter() or symbol.is_assigned():
                    assert name not in bound and name not in RESERVED, name
                assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name), name
                assert not keyword.iskeyword(name)


def check_against_interpreted(compiled, graph, point, h=1e-6):
    """value, gradient (every input) and one tangent against the interpreted transforms,
    and the gradient loosely against central differences of the graph itself."""
    n = len(point)
    value, grads = compiled.value_and_grad(*point)
    ref_value, ref_grads = ad.value_and_grad(graph, argnums=tuple(range(n)))(*point)
    assert value == pytest.approx(ref_value, rel=1e-13)
    assert grads == pytest.approx(ref_grads, rel=1e-12, abs=1e-14)
    tangents = [0.5 + i for i in range(n)]
    out, tangent = compiled.jvp(point, tangents)
    ref_out, ref_tangent = ad.jvp(graph, point, tangents)
    assert (out, tangent) == pytest.approx((ref_out, ref_tangent), rel=1e-12)
    assert compiled(*point) == pytest.approx(ref_value, rel=1e-13)
    for i in range(n):
        fd = central_difference(lambda *xs: graph(*xs), point, i, h)
        assert grads[i] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def hostile_graph(names):
    """f = sum_i sin(x_i) * x_i + prod-like coupling, on inputs with the given names; the
    intermediate nodes get hostile names too."""
    leaves = [ad.Var(0.3 + 0.1 * i, name=name) for i, name in enumerate(names)]
    total = None
    for i, x in enumerate(leaves):
        term = ad.sin(x) * x
        term.name = names[-1 - i]
        total = term if total is None else total + term
        total.name = names[i]
    coupling = leaves[0] * leaves[-1]
    coupling.name = "v2"
    return ad.Graph(total + ad.exp(coupling * 0.1)), [x.value for x in leaves]


def test_hostile_input_and_node_names_run_nothing_and_compile_right(sentinel):
    graph, point = hostile_graph(HOSTILE_NAMES)
    f = ad.compile(graph, *point, argnums=tuple(range(len(point))))
    check_against_interpreted(f, graph, point)
    assert_safe_source(f)
    assert sentinel == []
    # the x and the italic x are two different parameters, fullwidth sin is not sin
    signature = f.source.split("\n")[0]
    params = signature[len("def primal("):-2].split(", ")
    assert len(set(params)) == len(point)
    assert params[:4] == ["x", "x1", "x2", "x3"]
    # a renamed name is shown, escaped, in a comment: one set of names in every view
    assert "# x1 stands for '\\U0001d465'" in f.source


@pytest.mark.parametrize("pair", [("x", "\U0001d465"), ("\uff53\uff49\uff4e", "sin"),
                                  ("x0", "\U0001d465"), ("v1", "x0_bar"), ("exit", "\uff45xit")])
def test_names_equal_after_normalisation_stay_two_arguments(pair):
    a, b = ad.Var(0.7, name=pair[0]), ad.Var(-1.3, name=pair[1])
    graph = ad.Graph(ad.sin(a) * b + a / (b * b))
    f = ad.compile(graph, 0.7, -1.3, argnums=(0, 1))
    value, (da, db) = f.value_and_grad(0.7, -1.3)
    # by hand: d/da = cos(a) b + 1/b^2, d/db = sin(a) - 2a/b^3
    assert value == pytest.approx(np.sin(0.7) * -1.3 + 0.7 / 1.69, rel=1e-14)
    assert da == pytest.approx(np.cos(0.7) * -1.3 + 1 / 1.69, rel=1e-14)
    assert db == pytest.approx(np.sin(0.7) - 1.4 / (-1.3) ** 3, rel=1e-14)
    assert_safe_source(f)


@pytest.mark.parametrize("op_name", [
    f"my_op\n        {INJECTED}  #",
    f"my_op\r{INJECTED}",
    f"sin\n{INJECTED}",
    "\uff53\uff49\uff4e", "__import__", "FLOAT", "ValueError", "x0_bar", "v1", "lambda", "",
    "m", "convert_arguments", "copy", "unbroadcast", "\U0001d465",
])
def test_a_seed_style_op_named_with_code_runs_nothing(op_name, sentinel):
    def double_sin(a):
        return 2.0 * np.sin(a)

    double_sin.__name__ = op_name
    x = ad.Var(0.4, name="x")
    y = ad.Var(op=double_sin, children=[x], pds=[lambda a: 2.0 * np.cos(a)])
    out = ad.sin(y) + y * x
    f = ad.compile(out, argnums=(0,))
    check_against_interpreted(f, ad.Graph(out), [0.4])
    # by hand: y = 2 sin x; d/dx [sin y + y x] = cos(y) 2 cos x + 2 cos(x) x + y
    y0 = 2.0 * np.sin(0.4)
    assert f.value_and_grad(0.4)[1][0] == pytest.approx(
        np.cos(y0) * 2 * np.cos(0.4) + 2 * np.cos(0.4) * 0.4 + y0, rel=1e-14)
    assert_safe_source(f)
    assert sentinel == []


def test_a_primitive_named_with_code_and_odd_parameter_keys_runs_nothing(sentinel):
    """A structural primitive (its jvp and vjp rules are called from the code, with its
    parameters as keyword arguments) whose name and parameter keys are hostile."""
    name = f"scaled_sum\n    {INJECTED}  #"

    def impl(x, **params):
        return float(np.sum(x)) * params["lambda"] * params["\uff4b"]

    def jvp(m, tangents, inputs, out, batch, **params):
        scale = params["lambda"] * params["\uff4b"]
        axes = tuple(range(batch, np.ndim(tangents[0])))
        return m.sum(tangents[0], axis=axes) * scale

    def vjp(m, out_bar, inputs, out, batch, needs=None, **params):
        scale = params["lambda"] * params["\uff4b"]
        shape = np.shape(inputs[0])
        bar = np.reshape(out_bar, np.shape(out_bar) + (1,) * len(shape))
        return (np.broadcast_to(bar * scale, np.shape(out_bar) + shape).copy(),)

    prim = Primitive(name=name, numpy=impl, jvp=jvp, vjp=vjp, nin=1)
    x0 = np.array([0.5, -1.0, 2.0])
    x = ad.Var(x0, name=f"x\n{INJECTED}")
    out = apply_primitive(prim, ad.sin(x), **{"lambda": 2.0, "\uff4b": 3.0})
    f = ad.compile(out)
    value, grad = f.value_and_grad(x0)
    assert value == pytest.approx(6.0 * np.sum(np.sin(x0)), rel=1e-14)
    np.testing.assert_allclose(grad, 6.0 * np.cos(x0), rtol=1e-14)
    _, tangent = f.jvp((x0,), (np.ones(3),))
    assert tangent == pytest.approx(6.0 * np.sum(np.cos(x0)), rel=1e-14)
    assert_safe_source(f)
    assert sentinel == []


def test_array_code_with_hostile_names_broadcasts_right(sentinel):
    a = ad.Var(np.array([[0.5], [1.5]]), name="\uff53\uff49\uff4e")
    b = ad.Var(np.array([1.0, 2.0, 3.0]), name=f"unbroadcast\n{INJECTED}")
    out = ad.sum(ad.sin(a) * b + a / b)
    f = ad.compile(out, argnums=(0, 1))
    value, (da, db) = f.value_and_grad(a.value, b.value)
    A, B = a.value, b.value
    assert value == pytest.approx(np.sum(np.sin(A) * B + A / B), rel=1e-14)
    np.testing.assert_allclose(da, np.sum(np.cos(A) * B + 1 / B, axis=1, keepdims=True),
                               rtol=1e-14)
    np.testing.assert_allclose(db, np.sum(np.sin(A) - A / B**2, axis=0), rtol=1e-14)
    assert_safe_source(f)
    assert sentinel == []


TRICKY = HOSTILE_NAMES + ["x1", "x0_", "v3", "v1_bar", "x_dot", "a_vjp", "NUMPY", "zeros",
                          "sin_2", "op", "op_2", "cos", "exp", "\u212a", "\ufb01", "\u00aa"]


@settings(max_examples=100)
@given(st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=6)), min_size=1,
                max_size=5),
       st.lists(st.one_of(st.none(), st.sampled_from(TRICKY), st.text(max_size=4)),
                min_size=3, max_size=3))
def test_any_names_at_all_compile_to_the_interpreted_numbers(input_names, node_names):
    leaves = [ad.Var(0.2 + 0.3 * i, name=name) for i, name in enumerate(input_names)]
    total = ad.cos(leaves[0])
    for i, x in enumerate(leaves):
        total = total * 0.5 + ad.exp(x) * x
        total.name = node_names[i % 3]
    graph = ad.Graph(total)
    point = [x.value for x in leaves]
    f = ad.compile(graph, *point, argnums=tuple(range(len(point))))
    setattr(builtins, SENTINEL, [])
    check_against_interpreted(f, graph, point)
    assert_safe_source(f)
    assert getattr(builtins, SENTINEL) == []


def test_compiled_arguments_are_the_graphs_input_names():
    # two leaves called x, and an unnamed one: one naming in to_sympy, trace_table and compile
    a, b, c = ad.Var(0.5, name="x"), ad.Var(2.0), ad.Var(1.5, name="x")
    graph = ad.Graph(ad.sin(a) * b + c * c)
    assert graph.input_names == ["x", "x1", "x_2"]
    f = ad.compile(graph, 0.5, 2.0, 1.5, argnums=(0, 1, 2))
    assert f.source.split("\n")[0] == "def primal(x, x1, x_2):"
    assert "stands for" not in f.source
    assert str(ad.to_sympy(graph)) == "x1*sin(x) + x_2**2"
    value, grads = f.value_and_grad(0.5, 2.0, 1.5)
    # by hand: d/dx = x1 cos(x), d/dx1 = sin(x), d/dx_2 = 2 x_2
    assert value == pytest.approx(2.0 * np.sin(0.5) + 2.25, rel=1e-14)
    np.testing.assert_allclose(grads, [2.0 * np.cos(0.5), np.sin(0.5), 3.0], rtol=1e-14)


def test_a_traced_method_is_named_by_its_own_parameters_not_its_function_s():
    # the names of a plain function are looked up once per code object; a bound method
    # shares its function's code but not its first parameter, so it is not taken from there
    class Model:
        def loss(self, x=1.0):
            return self * x if isinstance(self, ad.Var) else x * x

    assert ad.trace(Model.loss, 2.0).input_names == ["self"]
    assert ad.trace(Model().loss, 3.0).input_names == ["x"]
    assert ad.trace(Model.loss, 2.0).input_names == ["self"]


def test_a_function_with_defaults_keeps_its_names_when_traced_again():
    def f(rate, scale=2.0):
        return rate * scale

    assert [ad.trace(f, 1.5).input_names for _ in range(2)] == [["rate"], ["rate"]]
    f.__signature__ = inspect.Signature([inspect.Parameter(
        "r", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
    assert ad.trace(f, 1.5).input_names == ["r"]
