"""parse(text): expressions become graphs; unsafe or malformed text is refused, never run."""

import math

import numpy as np
import pytest
import sympy as sp

import dualad as ad


@pytest.mark.parametrize("text,point,expected", [
    ("sin(x*w) + exp(x)/w", {"x": 1.0, "w": 4.0}, math.sin(4.0) + math.e / 4),
    ("log(x1) + x1*x2 - sin(x2)", {"x1": 2.0, "x2": 5.0}, math.log(2) + 10 - math.sin(5)),
    ("x**2.5", {"x": 3.0}, 3.0**2.5),
    ("-x + +y - 2*pi", {"x": 1.0, "y": 4.0}, 3.0 - 2 * math.pi),
    ("maximum(a, b) - min(a, b) + asin(c)", {"a": 1.0, "b": 3.0, "c": 0.5}, 2 + math.asin(0.5)),
])
def test_parse_builds_a_graph_with_alphabetical_inputs(text, point, expected):
    graph = ad.parse(text)
    names = [leaf.name for leaf in graph.inputs]
    assert names == sorted(point)
    assert graph(*(point[n] for n in names)) == pytest.approx(expected, rel=1e-12)


def test_parse_gradient_matches_sympy():
    graph = ad.parse("log(x1) + x1*x2 - sin(x2)")
    x1, x2 = sp.symbols("x1 x2")
    f = sp.log(x1) + x1 * x2 - sp.sin(x2)
    from dualad.evaluators import ReverseEvaluator, ValueEvaluator
    values = ValueEvaluator(graph).run([2.0, 5.0])
    adjoints = ReverseEvaluator(graph).run(values, [1.0])
    for leaf_pos, symbol in zip(graph.input_positions, (x1, x2)):
        exact = float(sp.diff(f, symbol).subs({x1: 2, x2: 5}))
        assert adjoints[leaf_pos] == pytest.approx(exact)


def test_a_top_level_tuple_gives_several_outputs():
    graph = ad.parse("x*y, x+y")
    assert len(graph.outputs) == 2
    assert graph(2.0, 3.0) == (6.0, 5.0)


def test_parse_evaluates_on_arrays():
    graph = ad.parse("x * y + 1")
    np.testing.assert_allclose(graph(np.array([1.0, 2.0]), 3.0), [4.0, 7.0])


UNSAFE = {
    "x.__class__": "attribute access",
    "().__class__.__bases__[0]": "subscripts",
    "x[0]": "subscripts",
    "(lambda: 0)()": "calling anything but a function name",
    "lambda x: x": "lambdas",
    "__import__('os').system('true')": "calling anything but a function name",
    "__import__('os')": "unknown function '__import__'",
    "import os": "not a valid expression",
    "x = 1": "not a valid expression",
    "x; y": "not a valid expression",
    "[x for x in y]": "comprehensions",
    "(x for x in y)": "comprehensions",
    "{x: 1}": "dicts",
    "eval('1')": "unknown function 'eval'",
    "exec('1')": "unknown function 'exec'",
    "open('f')": "unknown function 'open'",
    "sympify('x')": "unknown function 'sympify'",
    "sin(x=1)": "keyword arguments",
    "sin(*x)": "starred arguments",
    "'abc'": "the constant 'abc'",
    "f'{x}'": "strings",
    "x if y else z": "conditional expressions",
    "x < y": "comparisons",
    "x and y": "boolean operators",
    "(y := 2)": "assignments",
    "x // y": "the operator FloorDiv",
    "x % y": "the operator Mod",
    "~x": "the operator Invert",
    "True": "the constant True",
    "sin": "the function name 'sin' used as a value",
    "__builtins__": "the name '__builtins__'",
}


@pytest.mark.parametrize("text", sorted(UNSAFE))
def test_unsafe_text_is_refused(text):
    with pytest.raises(ad.ExpressionError) as info:
        ad.parse(text)
    assert isinstance(info.value, ValueError)
    assert UNSAFE[text] in str(info.value)
    assert "^" in str(info.value) or "nested" in str(info.value)


def test_errors_point_at_the_offending_part():
    with pytest.raises(ad.ExpressionError) as info:
        ad.parse("sin(x) + y.real")
    message = str(info.value)
    assert "(column 10)" in message
    text_line, caret_line = message.splitlines()[1:3]
    assert text_line.strip() == "sin(x) + y.real"
    assert caret_line.index("^") - text_line.index("s") == 9
    assert caret_line.count("^") == len("y.real")


def test_wrong_argument_counts_and_empty_text_are_refused():
    with pytest.raises(ad.ExpressionError, match="sin takes 1 argument, got 2"):
        ad.parse("sin(x, y)")
    with pytest.raises(ad.ExpressionError, match="empty"):
        ad.parse("   ")
    with pytest.raises(ad.ExpressionError, match="expected expression text"):
        ad.parse(None)


@pytest.mark.parametrize("text", ["9**9**9**9", "10**10**10", "1e999999 * x",
                                  "2**2**2**2**2**2"])
def test_enormous_constants_are_floats_that_overflow_to_inf(text):
    # computed in floats, never as exact integers with millions of digits
    with np.errstate(all="ignore"):
        graph = ad.parse(text)
        assert graph(*([1.0] * len(graph.inputs))) == math.inf


def test_a_literal_too_long_for_an_integer_is_refused():
    with pytest.raises(ad.ExpressionError, match="not a valid expression.*5000 digits"):
        ad.parse("9" * 5000)


def test_very_long_or_deeply_nested_text_is_refused_clearly():
    with pytest.raises(ad.ExpressionError, match="longer than"):
        ad.parse("x+" * 20_000 + "x")
    with pytest.raises(ad.ExpressionError, match="nested"):
        ad.parse("(" * 1000 + "x" + ")" * 1000)


def test_refused_text_runs_no_code(tmp_path):
    marker = tmp_path / "ran"
    attempts = [f"__import__('os').system('touch {marker}')",
                f"open('{marker}', 'w')",
                f"[open('{marker}', 'w') for _ in x]",
                f"(lambda: open('{marker}', 'w'))()"]
    for text in attempts:
        with pytest.raises(ad.ExpressionError):
            ad.parse(text)
    assert not marker.exists()


def test_the_parser_never_hands_text_to_eval_exec_or_sympify():
    import inspect
    import dualad.parse
    source = inspect.getsource(dualad.parse)
    for forbidden in ("eval(", "exec(", "sympify(", "compile("):
        assert forbidden not in source


@pytest.mark.parametrize("text,point,expected", [
    ("x^2", {"x": 3.0}, 9.0),
    ("2*x^2 + 1", {"x": 3.0}, 19.0),              # a power binds before * and +
    ("-x^2", {"x": 3.0}, -9.0),                   # -(x^2), as in sympy and on paper
    ("2^3^2", {}, 512.0),                         # right to left: 2^(3^2)
    ("x^-1 + y^0.5", {"x": 4.0, "y": 9.0}, 3.25),
    ("ln(x) + log(x)", {"x": math.e}, 2.0),
    ("e^x - exp(x) + e", {"x": 1.5}, math.e),
    ("pi*e", {}, math.pi * math.e),
])
def test_the_notation_of_the_papers(text, point, expected):
    graph = ad.parse(text)
    assert [leaf.name for leaf in graph.inputs] == sorted(point)
    assert graph(*(point[n] for n in sorted(point))) == pytest.approx(expected, rel=1e-14)


def test_a_caret_power_has_the_derivative_of_a_power():
    graph = ad.parse("x^3 * y")
    x, y = sp.symbols("x y")
    for args in [(2.0, 5.0), (-1.5, 0.5)]:
        exact = [float(sp.diff(x**3 * y, s).subs({x: args[0], y: args[1]})) for s in (x, y)]
        np.testing.assert_allclose(ad.grad(graph, argnums=(0, 1))(*args), exact, rtol=1e-14)
    assert ad.verify(graph, 2.0, 5.0).proved


def test_errors_point_into_the_text_as_typed_when_it_has_carets():
    with pytest.raises(ad.ExpressionError) as info:
        ad.parse("x^2 + y^2 + z.real")
    text_line, caret_line = str(info.value).splitlines()[1:3]
    assert text_line.strip() == "x^2 + y^2 + z.real"        # not x**2 + ...
    assert caret_line.index("^") - text_line.index("x") == len("x^2 + y^2 + ")
    assert caret_line.count("^") == len("z.real")
    with pytest.raises(ad.ExpressionError) as info:
        ad.parse("x^^2")
    assert "x^^2" in str(info.value)


def test_e_is_euler_s_number_not_a_name():
    assert ad.parse("e").inputs == [] and ad.parse("e")() == math.e
    assert [leaf.name for leaf in ad.parse("e1 * x + e").inputs] == ["e1", "x"]
