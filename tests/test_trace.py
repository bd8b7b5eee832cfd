"""trace_table(): the survey's worked example (Baydin et al., JMLR 2018, Tables 2 and 3)."""

import json
import math

import numpy as np
import pytest

import dualad as ad


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
        "v̇₋₁/v₋₁", "v̇₋₁*v₀ + v̇₀*v₋₁", "v̇₀*cos(v₀)", "v̇₁ + v̇₂", "v̇₄ - v̇₃"]
    assert table.tangent[-1].name == "ẏ" and table.tangent[-1].value == 5.5


def test_adjoint_trace_matches_the_survey_line_by_line(table):
    lines = [(row.name, row.value) for row in table.adjoint]
    assert [name for name, _ in lines] == [name for name, _ in SURVEY_ADJOINT_LINES]
    for (_, value), (_, printed) in zip(lines, SURVEY_ADJOINT_LINES):
        assert value == pytest.approx(printed, abs=5e-4)
    # the exact gradient: (1/x1 + x2, x1 - cos x2)
    assert table.adjoints[-1] == pytest.approx(0.5 + 5, rel=1e-15)
    assert table.adjoints[0] == pytest.approx(2 - math.cos(5), rel=1e-15)
    assert table.adjoint[7].expression == "v̄₀ + v̄₂ ∂v₂/∂v₀ = v̄₀ + v̄₂*v₋₁"
    assert table.adjoint[0].op == "seed" and table.adjoint[-1].op == "result"


def test_printed_traces_show_the_survey_lines(table):
    text = str(table)
    for line in ["v₃  = sin(v₀)  = -0.959", "v₅  = v₄ - v₃  = 11.652",
                 "v̇₂  = v̇₋₁*v₀ + v̇₀*v₋₁ = 5", "x̄2  = v̄₀"]:
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
    assert [row.expression for row in table.primal[1:4]] == ["3 * v₀", "exp(v₀)", "v₂ * 2.5"]
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
                                 "expression": "sin(v₀)", "value": math.sin(5.0)}
    assert [row["value"] for row in data["adjoint"]][-2:] == [5.5, 2 - math.cos(5.0)]


def test_an_input_named_y_does_not_clash_with_the_output():
    table = ad.trace_table(ad.parse("x * y"), 2.0, 3.0)
    assert [row.name for row in table.primal][-1] == "f"
    assert table.adjoint[0].expression == "f̄"
    assert [row.name for row in table.adjoint][-2:] == ["x̄", "ȳ"]
    assert ad.compare(ad.parse("x * y"), 2.0, 3.0, repeats=1).output_labels == ["f"]
