"""trace_table(): the survey's worked example (Baydin et al., JMLR 2018, Tables 2 and 3)."""

import json
import math
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import dualad as ad

from strategies import NUMPY_OPS, build_program, random_point, random_programs


def f(x1, x2):
    return ad.log(x1) + x1 * x2 - ad.sin(x2)


# The numbers as printed in the survey, to its three decimals.
SURVEY_VALUES = {-1: 2, 0: 5, 1: 0.693, 2: 10, 3: -0.959, 4: 10.693, 5: 11.652}
SURVEY_TANGENTS = {-1: 1, 0: 0, 1: 0.5, 2: 5, 3: 0, 4: 5.5, 5: 5.5}
# Table 3, line by line: (adjoint written to, its value after the line)
SURVEY_ADJOINT_LINES = [("v̄₅", 1), ("v̄₄", 1), ("v̄₃", -1), ("v̄₁", 1), ("v̄₂", 1),
                        ("v̄₀", -0.284), ("v̄₋₁", 5), ("v̄₀", 1.716), ("v̄₋₁", 5.5),
                        ("x̄1", 5.5), ("x̄2", 1.716)]


@pytest.fixture(params=["traced", "parsed"])
def table(request):
    if request.param == "traced":
        return ad.trace_table(f, 2.0, 5.0, direction="x1")
    return ad.trace_table(ad.parse("log(x1) + x1*x2 - sin(x2)"), 2.0, 5.0, direction="x1")


def test_primal_trace_matches_the_survey(table):
    assert sorted(table.values) == sorted(SURVEY_VALUES)
    for i, printed in SURVEY_VALUES.items():
        assert table.values[i] == pytest.approx(printed, abs=5e-4)
    assert [row.name for row in table.primal] == ["v₋₁", "v₀", "v₁", "v₂", "v₃", "v₄", "v₅",
                                                  "y"]
    assert [row.op for row in table.primal] == ["input", "input", "log", "multiply", "sin",
                                                "add", "subtract", "output"]
    assert table.primal[-1].value == pytest.approx(math.log(2) + 10 - math.sin(5), rel=1e-15)


def test_tangent_trace_matches_the_survey(table):
    for i, printed in SURVEY_TANGENTS.items():
        assert table.tangents[i] == pytest.approx(printed, abs=5e-4)
    assert [row.expression for row in table.tangent[2:7]] == [
        "v̇₋₁/v₋₁", "v̇₋₁ × v₀ + v̇₀ × v₋₁", "v̇₀ × cos(v₀)", "v̇₁ + v̇₂", "v̇₄ - v̇₃"]
    assert [row.numbers for row in table.tangent[2:7]] == [
        "1/2", "1 × 5 + 0 × 2", "0 × cos(5)", "0.5 + 5", "5.5 - 0"]
    assert table.tangent[-1].name == "ẏ" and table.tangent[-1].value == 5.5


def test_adjoint_trace_matches_the_survey_line_by_line(table):
    lines = [(row.name, row.value) for row in table.adjoint]
    assert [name for name, _ in lines] == [name for name, _ in SURVEY_ADJOINT_LINES]
    for (_, value), (_, printed) in zip(lines, SURVEY_ADJOINT_LINES):
        assert value == pytest.approx(printed, abs=5e-4)
    # the exact gradient: (1/x1 + x2, x1 - cos x2)
    assert table.adjoints[-1] == pytest.approx(0.5 + 5, rel=1e-15)
    assert table.adjoints[0] == pytest.approx(2 - math.cos(5), rel=1e-15)
    assert table.adjoint[7].expression == "v̄₀ + v̄₂ ∂v₂/∂v₀ = v̄₀ + v̄₂ × v₋₁"
    assert table.adjoint[7].numbers == "(-0.284) + 1 × 2"
    assert table.adjoint[2].expression == "v̄₅ ∂v₅/∂v₃ = v̄₅ × (-1)"
    assert table.adjoint[0].op == "seed" and table.adjoint[-1].op == "result"


def test_printed_traces_show_the_survey_lines(table):
    text = str(table)
    for line in ["v₃  = sin(v₀)  = -0.959", "v₅  = v₄ - v₃  = 11.652",
                 "v̇₂  = v̇₋₁ × v₀ + v̇₀ × v₋₁ = 5", "x̄2  = v̄₀"]:
        assert line in text
    assert text.splitlines()[0] == "Evaluation traces of f(x1, x2) at x1 = 2, x2 = 5"
    html = table._repr_html_()
    assert html.count("<table>") == 3 and "v̄₋₁" in html


def test_the_other_direction_gives_the_other_partial():
    table = ad.trace_table(f, 2.0, 5.0, direction="x2")
    assert table.tangents[5] == pytest.approx(2 - math.cos(5), rel=1e-15)
    same = ad.trace_table(f, 2.0, 5.0, direction=1)
    assert same.tangents == table.tangents
    mixed = ad.trace_table(f, 2.0, 5.0, direction={"x1": 1.0, "x2": 2.0})
    assert mixed.tangents[5] == pytest.approx(5.5 + 2 * (2 - math.cos(5)), rel=1e-15)
    assert ad.trace_table(f, 2.0, 5.0, direction=[1.0, 2.0]).tangents == mixed.tangents


def test_bad_directions_and_outputs_are_refused_clearly():
    with pytest.raises(ad.DualadError, match=r"no input named 'x3' \(inputs: x1, x2\)"):
        ad.trace_table(f, 2.0, 5.0, direction="x3")
    with pytest.raises(ad.DualadError, match="direction 2 is not an input position"):
        ad.trace_table(f, 2.0, 5.0, direction=2)
    with pytest.raises(ad.DualadError, match="3 direction value"):
        ad.trace_table(f, 2.0, 5.0, direction=[1, 0, 0])
    with pytest.raises(ad.DualadError, match="output 1 does not exist"):
        ad.trace_table(f, 2.0, 5.0, output=1)


def test_several_outputs_and_constants():
    table = ad.trace_table(lambda x: (3 * x, ad.exp(x) * 2.5), 0.0, output=1)
    assert [row.name for row in table.primal][-2:] == ["y₁", "y₂"]
    assert [row.expression for row in table.primal[1:4]] == ["3 × v₀", "exp(v₀)", "v₂ × 2.5"]
    assert [row.numbers for row in table.primal[1:4]] == ["3 × 0", "exp(0)", "1 × 2.5"]
    assert table.adjoint[0].name == "v̄₃" and table.adjoint[0].expression == "ȳ₂"
    assert table.adjoints[0] == 2.5                       # d/dx 2.5 e^x at 0
    assert 1 not in table.adjoints                        # y1 = 3x is not differentiated


def test_array_values_and_structural_ops():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    table = ad.trace_table(lambda x: ad.sum(ad.tanh(W @ x)), np.array([0.1, -0.2]))
    assert list(table.constants) == ["C₁"] and np.array_equal(table.constants["C₁"], W)
    assert table.primal[1].expression == "C₁ @ v₀"
    assert table.tangent[1].expression == "jvp[matmul](v̇₀)"
    s = 1 - np.tanh(W @ np.array([0.1, -0.2])) ** 2
    np.testing.assert_allclose(table.adjoints[0], W.T @ s, rtol=1e-15)
    assert "where C₁ = [[1, 2], [3, 4]]" in str(table)


def test_trace_rows_as_json():
    data = json.loads(json.dumps(ad.trace_table(f, 2.0, 5.0).to_dict()))
    assert data["primal"][4] == {"index": 3, "name": "v₃", "op": "sin",
                                 "expression": "sin(v₀)", "numbers": "sin(5)",
                                 "value": math.sin(5.0)}
    assert [row["value"] for row in data["adjoint"]][-2:] == [5.5, 2 - math.cos(5.0)]


def test_an_input_named_y_does_not_clash_with_the_output():
    table = ad.trace_table(ad.parse("x * y"), 2.0, 3.0)
    assert [row.name for row in table.primal][-1] == "f"
    assert table.adjoint[0].expression == "f̄"
    assert [row.name for row in table.adjoint][-2:] == ["x̄", "ȳ"]
    assert ad.compare(ad.parse("x * y"), 2.0, 3.0, repeats=1).output_labels == ["f"]


# ---- ready for slides: LaTeX and Markdown in the survey's layout ----

def _tex(text):
    """LaTeX written in either spacing (``\\dot v_1`` or ``\\dot{v}_{1}``), compared alike."""
    for drop in (r"\left", r"\right", "{", "}", " "):
        text = text.replace(drop, "")
    return text


def _latex_lines(latex):
    """Each row of the LaTeX tables, as the lines of its traces (the cells of a trace
    joined), and the table titles."""
    tables, titles = [], []
    for line in latex.splitlines():
        if line.startswith(r"\begin{tabular}"):
            spec = line[len(r"\begin{tabular}{"):-1]
            widths = [part.count("l") for part in spec.split("|")]
            tables.append([])
        elif line.startswith(r"\multicolumn"):
            titles.append(line)
        elif line.startswith("$"):
            cells = line.removesuffix(r" \\").split(" & ")
            traces, k = [], 0
            for width in widths:
                traces.append(" ".join(c.strip("$") for c in cells[k:k + width] if c))
                k += width
            tables[-1].append(traces)
    return tables, titles


# The survey's Table 2, left: the primal trace, with the numbers put in; dualad adds the value
# where the survey stops at the numbers, and writes v4 - v3 with v3's number in brackets
# (the survey simplifies it to 10.693 + 0.959).
SURVEY_TABLE_2_PRIMAL = [
    r"v_{-1} = x_1 = 2", r"v_0 = x_2 = 5",
    r"v_1 = \ln v_{-1} = \ln 2 = 0.693", r"v_2 = v_{-1} \times v_0 = 2 \times 5 = 10",
    r"v_3 = \sin v_0 = \sin 5 = -0.959", r"v_4 = v_1 + v_2 = 0.693 + 10 = 10.693",
    r"v_5 = v_4 - v_3 = 10.693 - (-0.959) = 11.652", r"y = v_5 = 11.652"]
# Table 2, right: the tangent trace, exactly as the survey writes it, plus the value.
SURVEY_TABLE_2_TANGENT = [
    r"\dot v_{-1} = \dot x_1 = 1", r"\dot v_0 = \dot x_2 = 0",
    r"\dot v_1 = \dot v_{-1}/v_{-1} = 1/2 = 0.5",
    r"\dot v_2 = \dot v_{-1} \times v_0 + \dot v_0 \times v_{-1} = 1 \times 5 + 0 \times 2 = 5",
    r"\dot v_3 = \dot v_0 \times \cos v_0 = 0 \times \cos 5 = 0",
    r"\dot v_4 = \dot v_1 + \dot v_2 = 0.5 + 5 = 5.5",
    r"\dot v_5 = \dot v_4 - \dot v_3 = 5.5 - 0 = 5.5", r"\dot y = \dot v_5 = 5.5"]
# Table 3: the adjoint trace, exactly as the survey writes it, read from its last line up
# (the order the sweep computes it).
SURVEY_TABLE_3 = [
    r"\bar v_5 = \bar y = 1",
    r"\bar v_4 = \bar v_5 \frac{\partial v_5}{\partial v_4} = \bar v_5 \times 1 = 1",
    r"\bar v_3 = \bar v_5 \frac{\partial v_5}{\partial v_3} = \bar v_5 \times (-1) = -1",
    r"\bar v_1 = \bar v_4 \frac{\partial v_4}{\partial v_1} = \bar v_4 \times 1 = 1",
    r"\bar v_2 = \bar v_4 \frac{\partial v_4}{\partial v_2} = \bar v_4 \times 1 = 1",
    r"\bar v_0 = \bar v_3 \frac{\partial v_3}{\partial v_0} = \bar v_3 \times \cos v_0 = -0.284",
    r"\bar v_{-1} = \bar v_2 \frac{\partial v_2}{\partial v_{-1}} = \bar v_2 \times v_0 = 5",
    r"\bar v_0 = \bar v_0 + \bar v_2 \frac{\partial v_2}{\partial v_0} "
    r"= \bar v_0 + \bar v_2 \times v_{-1} = 1.716",
    r"\bar v_{-1} = \bar v_{-1} + \bar v_1 \frac{\partial v_1}{\partial v_{-1}} "
    r"= \bar v_{-1} + \bar v_1/v_{-1} = 5.5",
    r"\bar x_1 = \bar v_{-1} = 5.5", r"\bar x_2 = \bar v_0 = 1.716"]
# and with the numbers put in, the survey's formulas at (2, 5)
SURVEY_TABLE_3_NUMBERS = [r"\bar y", r"1 \times 1", r"1 \times (-1)", r"1 \times 1", r"1 \times 1",
                          r"(-1) \times \cos 5", r"1 \times 5", r"(-0.284) + 1 \times 2",
                          "5 + 1/2", r"\bar v_{-1}", r"\bar v_0"]


def test_to_latex_reproduces_the_survey_tables_line_by_line(table):
    tables, titles = _latex_lines(table.to_latex())
    forward, reverse = tables
    assert [_tex(primal) for primal, _ in forward] == [_tex(t) for t in SURVEY_TABLE_2_PRIMAL]
    assert [_tex(tangent) for _, tangent in forward] == [_tex(t)
                                                         for t in SURVEY_TABLE_2_TANGENT]
    (formulas,) = _latex_lines(table.to_latex(show="formulas", mode="reverse"))[0]
    assert [_tex(line) for (line,) in formulas] == [_tex(t) for t in SURVEY_TABLE_3]
    (numbers,) = _latex_lines(table.to_latex(show="numbers", mode="reverse"))[0]
    assert [_tex(line.split(" = ")[1]) for (line,) in numbers] == [
        _tex(t) for t in SURVEY_TABLE_3_NUMBERS]
    assert "Forward primal trace" in titles[0] and r"$\dot{x}_{1} = 1$" in titles[0]
    assert r"Reverse adjoint trace ($\bar{y} = 1$)" in titles[1]


def test_to_markdown_reproduces_the_survey_tables_line_by_line(table):
    lines = table.to_markdown().splitlines()
    forward = lines[4:lines.index("", 4)]
    assert [_tex(line) for line in forward] == [
        _tex(f"| ${p}$ | ${t}$ |") for p, t in zip(SURVEY_TABLE_2_PRIMAL, SURVEY_TABLE_2_TANGENT)]
    reverse = table.to_markdown(show="formulas", mode="reverse").splitlines()[4:]
    assert [_tex(line) for line in reverse] == [_tex(f"| ${t}$ |") for t in SURVEY_TABLE_3]
    assert lines[2].startswith("| Forward primal trace | Forward tangent trace")


def check_latex(latex):
    """Well-formed LaTeX: braces and $ balanced, \\left with \\right, each row of a tabular
    with as many cells as its columns, headers spanning them all, nothing but ASCII."""
    body = [line for line in latex.splitlines() if not line.startswith("%")]
    text = "\n".join(body)
    assert text.isascii()
    depth = 0
    for k, c in enumerate(text):
        if c in "{}" and text[k - 1] != "\\":
            depth += 1 if c == "{" else -1
            assert depth >= 0
    assert depth == 0
    assert text.count(r"\left") == text.count(r"\right")
    assert text.count(r"\begin{tabular}") == text.count(r"\end{tabular}") >= 1
    columns = None
    for line in body:
        if line.startswith(r"\begin{tabular}"):
            columns = line[len(r"\begin{tabular}"):].count("l")
        elif line.startswith((r"\multicolumn", "$")):
            cells = line.removesuffix(r" \\").split(" & ")
            spans = [int(c[len(r"\multicolumn{"):].split("}")[0]) if c.startswith(r"\multi")
                     else 1 for c in cells]
            assert sum(spans) == columns, line
            assert all(c.count("$") % 2 == 0 for c in cells), line


def test_latex_is_well_formed_for_every_kind_of_line():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    functions = [(f, (2.0, 5.0)), (lambda x: (3 * x, ad.exp(x) * 2.5, x / 3 + x ** 2), (0.0,)),
                 (lambda x: ad.sum(ad.tanh(W @ x)), (np.array([0.1, -0.2]),)),
                 (lambda x_1, theta: ad.abs(x_1 - theta) * 1e-9, (1.0, 2.0)),
                 (lambda x: ad.arctan(x) / x, (-1e7,))]
    for function, point in functions:
        table = ad.trace_table(function, *point)
        for show in ("both", "formulas", "numbers"):
            check_latex(table.to_latex(show=show))
        latex = table._repr_latex_()
        assert latex.count(r"$$\begin{array}") == 2 and r"\multicolumn" not in latex
        for block in table.to_markdown().split("\n\n")[1:]:
            rows = [row.split(" | ") for row in block.splitlines()]
            assert len({len(row) for row in rows}) == 1
            assert all(cell.count("$") % 2 == 0 for row in rows for cell in row)
    table = ad.trace_table(lambda x_1, theta: ad.abs(x_1 - theta) * 1e-9, 1.0, 2.0)
    assert r"\left\vert " in table.to_latex() and r"10^{-9}" in table.to_latex()
    assert r"\dot{\theta}" in table.to_latex() and "x_{1}" in table.to_latex()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(tmp_path):
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    tables = [ad.trace_table(f, 2.0, 5.0).to_latex(),
              ad.trace_table(lambda x: ad.sum(ad.tanh(W @ x)), np.array([0.1, -0.2])).to_latex(),
              ad.trace_table(lambda x: ad.arctan(x) / x, 0.5).to_latex()]
    document = "\n\n".join([r"\documentclass{article}", r"\usepackage{amsmath}",
                            r"\begin{document}", *tables, r"\end{document}"])
    (tmp_path / "traces.tex").write_text(document)
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "traces.tex"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]


def test_show_and_decimals_are_options_of_every_writer():
    table = ad.trace_table(f, 2.0, 5.0)
    assert "v₁  = ln(v₋₁)  = 0.693" in str(table)
    assert "v₁  = ln(v₋₁)  = ln(2)             = 0.693" in table.to_text(show="both")
    assert "v₁  = ln(2)             = 0.693" in table.to_text(show="numbers")
    assert "v₁  = ln(v₋₁)  = 0.69315" in table.to_text(decimals=5)
    assert r"$= 0.7$" in table.to_latex(decimals=1)
    assert r"$v_{4} = v_{1} + v_{2} = 0.7 + 10 = 10.7$" in table.to_markdown(decimals=1)
    assert r"\bar{v}" not in table.to_latex(mode="forward")
    assert r"\dot{v}" not in table.to_markdown(mode="reverse")
    for writer in (table.to_text, table.to_latex, table.to_markdown):
        with pytest.raises(ad.DualadError, match="show must be one of 'formulas', 'numbers', "
                                                 "'both', got 'all'"):
            writer(show="all")
        with pytest.raises(ad.DualadError, match="decimals must be a whole number 0 or more, "
                                                 "got -1"):
            writer(decimals=-1)
    with pytest.raises(ad.DualadError, match="mode must be one of 'forward', 'reverse', "
                                             "'both', got 'tangent'"):
        table.to_latex(mode="tangent")


def test_the_formulas_are_the_rules_the_sweeps_ran():
    # a rule that is wrong on purpose (d/dx sin x is not 2 cos x): the traces show what the
    # sweeps computed, so they show the wrong rule, and its numbers give the wrong value
    from dualad.graph import apply_primitive
    from dualad.primitives import Primitive
    doubled = Primitive(name="sin2", numpy=np.sin, sympy=sp.sin,
                        pds=(lambda m, x, out: 2 * m.cos(x),))
    table = ad.trace_table(lambda x: apply_primitive(doubled, x), 0.0)
    assert table.tangent[1].expression == "2 × v̇₀ × cos(v₀)"
    assert table.tangent[1].numbers == "2 × 1 × cos(0)" and table.tangent[1].value == 2.0
    assert table.adjoint[1].expression == "v̄₁ ∂v₁/∂v₀ = 2 × v̄₁ × cos(v₀)"
    assert table.adjoint[1].value == 2.0


def test_a_rule_written_for_numpy_only_is_named_not_written():
    x = ad.Var(0.5, name="x")
    y = ad.Var(op=np.sin, children=[x], pds=[np.cos]) * x
    table = ad.trace_table(y)
    (line,) = [row for row in table.tangent if row.op not in ("input", "output", "multiply")]
    assert line.expression.startswith("(the rule of ") and line.numbers == ""
    assert line.value == pytest.approx(math.cos(0.5))
    check_latex(table.to_latex())


@settings(deadline=None)
@given(random_programs(max_ops=8), st.integers(0, 2**32 - 1))
def test_each_line_with_its_numbers_put_in_gives_its_value(program, seed):
    n_inputs, steps = program
    point = random_point(n_inputs, seed)
    function = lambda *xs: build_program(ad, n_inputs, steps, xs)              # noqa: E731
    table = ad.trace_table(function, *point)
    for row in table.primal + table.tangent + table.adjoint:
        line = row.line
        if not isinstance(line.formula, sp.Basic) or not row.numbers:
            continue
        exact = line.formula.subs({s: line.values[s] for s in line.formula.free_symbols})
        assert float(exact) == pytest.approx(row.value, rel=1e-9, abs=1e-12), row
    # and the last lines are the gradient, as central differences find it
    reference = lambda *xs: build_program(NUMPY_OPS, n_inputs, steps, xs)     # noqa: E731
    for k, row in enumerate(table.adjoint[-n_inputs:]):
        up, down = list(point), list(point)
        up[k] += 1e-6
        down[k] -= 1e-6
        assert row.value == pytest.approx((reference(*up) - reference(*down)) / 2e-6,
                                          rel=1e-4, abs=1e-5)
