"""The sympy bridge: SympyEvaluator, to_sympy, from_sympy, and the evaluators run on symbols."""

import inspect
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from sympy.codegen.cfunctions import expm1, log1p

import dualad as ad
from dualad.evaluators import ForwardEvaluator, ReverseEvaluator, SympyEvaluator
from dualad.evaluators.symbolic import exact, sympy_number, with_constants

from strategies import build_program, random_programs

x, y, z, w = sp.symbols("x y z w")


# ---- SympyEvaluator and to_sympy ----

def test_to_sympy_names_symbols_after_the_leaves():
    a, b = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
    assert ad.to_sympy(ad.sin(a * b) + ad.exp(a) / b) == sp.sin(x * w) + sp.exp(x) / w


def test_unnamed_and_repeated_names_get_distinct_stable_symbols():
    a, b, c = ad.Var(1.0, name="x"), ad.Var(2.0), ad.Var(3.0, name="x")
    expr = ad.to_sympy(a + 2 * b + 3 * c)
    assert expr == sp.Symbol("x") + 2 * sp.Symbol("x1") + 3 * sp.Symbol("x_2")
    assert ad.to_sympy(a + 2 * b + 3 * c) == expr   # the same names every time


def test_to_sympy_keeps_constants_faithful():
    a = ad.Var(2.0, name="x")
    assert ad.to_sympy(a * 0.1) == sp.Float(0.1) * x
    assert ad.to_sympy(a * 3.0 + math.pi) == 3 * x + sp.pi
    assert ad.to_sympy(a ** 2.5) == x ** sp.Float(2.5)


def test_exact_numbers_are_the_shortest_decimal_as_a_rational():
    assert exact(0.1) == sp.Rational(1, 10)
    assert exact(-2.5e-3) == sp.Rational(-1, 400)
    assert exact(3.0) == 3 and exact(math.e) == sp.E
    assert exact(np.array([0.5, 2.0])).tolist() == [sp.Rational(1, 2), 2]
    assert sympy_number(float("inf")) == sp.oo


def test_to_sympy_of_a_graph_with_several_outputs_and_assumptions():
    exprs = ad.to_sympy(ad.parse("x*y, log(x)"), positive=True)
    xp, yp = sp.symbols("x y", positive=True)
    assert exprs == (xp * yp, sp.log(xp))


def test_array_inputs_become_arrays_of_symbols():
    v = ad.Var(np.array([1.0, 2.0, 3.0]), name="v")
    expr = ad.to_sympy(ad.sum(v * v))
    v0, v1, v2 = sp.symbols("v[0] v[1] v[2]")
    assert sp.expand(expr - (v0**2 + v1**2 + v2**2)) == 0


def test_sympy_evaluator_refuses_a_user_op_by_name():
    a = ad.Var(1.0, name="x")
    user = ad.Var(op=np.sin, children=[a], pds=[np.cos])
    with pytest.raises(ad.DualadError, match="op 'sin' has no sympy form"):
        ad.to_sympy(ad.exp(user))


def test_to_sympy_of_a_1000_deep_chain_says_it_is_too_deep_and_verify_works_there():
    x0 = ad.Var(0.5, name="x")
    chain = x0
    for _ in range(1000):
        chain = ad.sin(chain)
    with pytest.raises(ad.DualadError, match=r"to_sympy: the expression is too deep for sympy "
                                             r"\(1000 operations nested\); verify"):
        ad.to_sympy(chain)
    report = ad.verify(chain, time_limit=20.0)
    assert report.ok and not report.proved
    # d/dx sin(sin(...sin(x))) = product of cos over the chain's inputs
    value, slope = 0.5, 1.0
    for _ in range(1000):
        slope *= math.cos(value)
        value = math.sin(value)
    assert report.derivatives[0].reverse == pytest.approx(slope, rel=1e-12)
    assert report.derivatives[0].sympy == pytest.approx(slope, rel=1e-12)
    assert "too deep for sympy" in [c for c in report.checks if "proof" in c.method][0].detail


def test_to_sympy_of_a_shallow_chain_works():
    x0 = ad.Var(0.5, name="x")
    chain = x0
    for _ in range(50):
        chain = ad.sin(chain)
    expr = ad.to_sympy(chain)
    assert expr.func == sp.sin and sp.count_ops(expr) == 50


def test_sympy_evaluator_takes_any_sympy_values():
    graph = ad.parse("x * y + sin(x)")
    t = sp.Symbol("t")
    assert SympyEvaluator(graph).run([t, t**2])[-1] == t**3 + sp.sin(t)


@pytest.mark.parametrize("text", ["sin(x*w) + exp(x)/w", "log(x1) + x1*x2 - sin(x2)",
                                  "x**2.5 * tanh(y) / (1 + y*y)", "maximum(x, y) * abs(x - y)",
                                  "arcsin(x / 2) + arctan(x * y) - sqrt(y)"])
def test_forward_and_reverse_on_symbols_give_sympy_diff(text):
    """Running the evaluators on sympy values yields each algorithm's derivative expression."""
    graph = with_constants(ad.parse(text))
    names = [leaf.name for leaf in graph.inputs]
    symbols = [sp.Symbol(n, positive=True) for n in names]
    values = SympyEvaluator(graph).run(symbols)
    primal = values[graph.output_positions[0]]
    adjoints = ReverseEvaluator(graph).run(values, [sp.S.One])
    for pos, symbol in zip(graph.input_positions, symbols):
        reference = sp.diff(primal, symbol)
        _, tangents = ForwardEvaluator(graph, wrt=[pos]).run(symbols, [sp.S.One])
        assert sp.simplify(tangents[graph.output_positions[0]] - reference) == 0
        assert sp.simplify(adjoints[pos] - reference) == 0


def test_symbolic_tangents_and_constants_stay_exact():
    graph = ad.parse("x * y")
    _, tangents = ForwardEvaluator(graph, wrt=[1]).run([x, y], [sp.S.One])
    assert str(tangents[-1]) == "x"            # not 1.0*x: the unit tangent stays an Integer
    exact_graph = with_constants(ad.parse("x * 3"))
    _, tangents = ForwardEvaluator(exact_graph).run([x], [sp.S.One])
    assert tangents[-1] == 3 and isinstance(tangents[-1], sp.Integer)


# ---- from_sympy ----

@pytest.mark.parametrize("expr,ops", [
    (x / y, ["divide"]),
    (x**-2, ["square", "divide"]),
    (1 / sp.sqrt(x), ["sqrt", "divide"]),
    (x**2.5, ["power"]),
    (x**y, ["power"]),
    (-x / 2, ["divide", "negative"]),
    (y - x, ["subtract"]),
    (sp.Max(x, y, z), ["maximum", "maximum"]),
    (sp.Min(x, y), ["minimum"]),
    (sp.Abs(x), ["abs"]),
    (log1p(x) + expm1(y), ["expm1", "log1p", "add"]),
])
def test_from_sympy_maps_onto_registry_ops(expr, ops):
    graph = ad.from_sympy(expr)
    assert [n.op.name for n in graph.nodes if n.op is not None] == ops


FUNCTIONS = [sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh, sp.tanh, sp.asin,
             sp.acos, sp.atan, sp.Abs, sp.sqrt]

ROUND_TRIP = [
    sp.sin(x * w) + sp.exp(x) / w,
    sp.log(x) + x * y - sp.sin(y),
    -3 * x / (2 * y * z**2) + sp.Rational(1, 3),
    sp.pi * x + sp.E - 0.25 * y,
    sp.Max(x, y) - sp.Min(y, z) + sp.Abs(x - z),
    x**sp.Rational(1, 3) + 2**x + x**y + x**2.5,
    sp.tanh(sp.asin(x / 2)) * sp.atan(y) ** 3 / sp.cosh(sp.acos(z / 3)),
] + [f(x) for f in FUNCTIONS]


@pytest.mark.parametrize("expr", ROUND_TRIP, ids=str)
def test_round_trip_to_sympy_of_from_sympy_is_the_same_expression(expr):
    back = ad.to_sympy(ad.from_sympy(expr))
    assert back == expr or sp.simplify(back - expr) == 0


@pytest.mark.parametrize("expr", ROUND_TRIP, ids=str)
def test_from_sympy_evaluates_like_sympy(expr):
    graph = ad.from_sympy(expr)
    names = [leaf.name for leaf in graph.inputs]
    point = {"x": 0.7, "y": 1.3, "z": 0.4, "w": 2.1}
    expected = float(expr.evalf(30, subs={sp.Symbol(n): point[n] for n in names}))
    assert graph(*(point[n] for n in names)) == pytest.approx(expected, rel=1e-12)


def test_log1p_and_expm1_read_back_as_their_registry_specs():
    assert ad.to_sympy(ad.from_sympy(log1p(x) * expm1(y))) == sp.log(x + 1) * (sp.exp(y) - 1)


@settings(max_examples=40)
@given(random_programs())
def test_round_trip_of_random_graphs(program):
    n_inputs, steps = program
    graph = ad.trace(lambda *xs: build_program(ad, n_inputs, steps, xs), *([0.5] * n_inputs))
    expr = ad.to_sympy(graph)
    back = ad.to_sympy(ad.from_sympy(expr))
    assert back == expr or sp.simplify(back - expr) == 0


def test_from_sympy_inputs_are_alphabetical_and_shared_subexpressions_one_node():
    s = sp.sin(x * y)
    graph = ad.from_sympy(s**2 + s + z)
    assert [leaf.name for leaf in graph.inputs] == ["x", "y", "z"]
    assert sum(n.op is not None and n.op.name == "sin" for n in graph.nodes) == 1


def test_from_sympy_builds_several_outputs_and_long_sums():
    many = sp.symbols("a0:3000")
    graph = ad.from_sympy([sp.Add(*many), x * y])
    assert len(graph.outputs) == 2
    assert graph(*([1.0] * 3000), 2.0, 3.0) == (3000.0, 6.0)


@pytest.mark.parametrize("expr,name", [
    (sp.gamma(x) + 1, "gamma"),
    (x * sp.sinc(x), "sinc"),
    (sp.Heaviside(x, 1) * sp.erfc(x), "erfc"),
    (sp.floor(x) + sp.erf(x), "erf"),        # erf(x) comes first in reading order
    (sp.Function("f")(x), "f"),
    (sp.Derivative(sp.Function("g")(x), x), "Derivative"),
    (sp.sin(sp.besselj(0, x)), "besselj"),
])
def test_from_sympy_names_the_first_unsupported_function(expr, name):
    with pytest.raises(ad.ExpressionError, match=rf"from_sympy: {name} has no dualad primitive"):
        ad.from_sympy(expr)


@pytest.mark.parametrize("expr,ops", [
    (sp.sign(x) * sp.floor(y), ["sign", "floor", "multiply"]),
    (sp.Heaviside(x), ["divide", "heaviside"]),   # sympy's H(0) = 1/2 is an argument
    (sp.atan2(y, x), ["arctan2"]),
    (x > y, ["greater"]),
    (sp.And(x > 0, y > 0, x > y), ["greater", "greater", "logical_and", "greater",
                                   "logical_and"]),
])
def test_from_sympy_reads_every_op_whose_sympy_form_is_one_function(expr, ops):
    graph = ad.from_sympy(expr)
    assert sorted(n.op.name for n in graph.nodes if n.op is not None) == sorted(ops)


def test_from_sympy_reads_an_op_registered_at_run_time():
    with pytest.raises(ad.ExpressionError, match="asinh has no dualad primitive"):
        ad.from_sympy(sp.asinh(x))
    ad.register(ad.Primitive(name="arcsinh", numpy=np.arcsinh, sympy=sp.asinh,
                             pds=(lambda m, x, out: 1 / m.sqrt(1 + x * x),)))
    graph = ad.from_sympy(2 * sp.asinh(x))
    assert [n.op.name for n in graph.nodes if n.op is not None] == ["arcsinh", "multiply"]
    assert graph(0.75) == pytest.approx(2 * float(sp.asinh(sp.Rational(3, 4)).evalf(20)),
                                        rel=1e-14)


def test_from_sympy_refuses_text_and_non_real_numbers():
    with pytest.raises(ad.ExpressionError, match="got str; to read text use dualad.parse"):
        ad.from_sympy("sin(x)")
    with pytest.raises(ad.ExpressionError, match="not a finite real number"):
        ad.from_sympy(x + sp.I)
    with pytest.raises(ad.ExpressionError, match="does not fit in a float"):
        ad.from_sympy(x * sp.Integer(10) ** 400)


def test_no_raw_text_reaches_sympify_in_the_bridge():
    import dualad.evaluators.symbolic
    import importlib
    modules = [importlib.import_module(f"dualad.{name}")
               for name in ("sympy_bridge", "referee", "verify", "registry_proof")]
    for module in modules + [dualad.evaluators.symbolic]:
        source = inspect.getsource(module)
        for forbidden in ("sympify(", "eval(", "exec(", "parse_expr"):
            assert forbidden not in source, (module.__name__, forbidden)
