"""Pictures and text: DOT output, rendering with Graphviz (and without it), number formats."""

import shutil

import numpy as np
import pytest

import dualad as ad
from dualad.evaluators import ForwardEvaluator
from dualad.graphviz import svg_for_notebook
from dualad.printing import TraceNames, format_number, text_table

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="the Graphviz 'dot' program is not installed")


def survey_graph():
    return ad.trace(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0)


def test_dot_text_of_a_small_graph_with_values_and_adjoints():
    x, w = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
    y = x * w + 2
    y.backward()
    assert ad.to_dot(y) == "\n".join([
        'digraph dualad {',
        '  rankdir=LR;',
        '  node [fontname="Helvetica", fontsize=11];',
        '  n0 [shape=ellipse, label="v₋₁ = x\\nvalue = 1\\nadjoint = 4"];',
        '  n1 [shape=ellipse, label="v₀ = w\\nvalue = 4\\nadjoint = 1"];',
        '  n2 [shape=box, label="v₁ = v₋₁ * v₀\\nvalue = 4\\nadjoint = 1"];',
        '  n3 [shape=plaintext, label="2"];',
        '  n4 [shape=box, peripheries=2, label="v₂ = v₁ + 2   (y)\\nvalue = 6\\nadjoint = 1"];',
        '  n0 -> n2;',
        '  n1 -> n2;',
        '  n2 -> n4;',
        '  n3 -> n4;',
        '}'])


def test_dot_numbers_nodes_as_the_survey_and_shows_given_tangents():
    graph = survey_graph()
    values, tangents = ForwardEvaluator(graph).run([2.0, 5.0], [1.0, 0.0])
    dot = ad.to_dot(graph, values=values, tangents=tangents)
    assert 'label="v₃ = sin(v₀)\\nvalue = -0.959\\ntangent = 0"' in dot
    assert 'label="v₅ = v₄ - v₃   (y)\\nvalue = 11.652\\ntangent = 5.5"' in dot
    assert "adjoint" not in dot          # a fresh trace has no adjoints yet
    # one edge per use: log <- x1, * <- x1, x2, sin <- x2, + <- v1, v2, - <- v4, v3
    assert dot.count("->") == 8


def test_dot_of_a_parsed_graph_without_values_and_with_several_outputs():
    dot = ad.to_dot(ad.parse("x*x, exp(x)"))
    assert 'n0 [shape=ellipse, label="v₀ = x"];' in dot
    assert "(y₁)" in dot and "(y₂)" in dot
    assert dot.count("n0 -> n1;") == 1   # x * x: one edge, not two


def test_dot_escapes_quotes_and_backslashes_in_names():
    x = ad.Var(1.0, name='a"b\\c')
    assert 'label="v₀ = a\\"b\\\\c\\nvalue = 1"' in ad.to_dot(ad.sin(x))


def test_array_constants_are_named_and_shown():
    x = ad.Var(np.ones(2), name="x")
    dot = ad.to_dot(np.array([[1.0, 2.0], [3.0, 4.0]]) @ x)
    assert 'label="C₁ = [[1, 2], [3, 4]]"' in dot
    assert "v₁ = C₁ @ v₀" in dot


def test_to_dot_refuses_other_things():
    with pytest.raises(ad.DualadError, match="to_dot: expected a function, a Graph or a Var, "
                                             "got a str"):
        ad.to_dot("x + 1")


def test_png_without_graphviz_says_how_to_install_it_and_svg_still_works(tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))          # no 'dot' anywhere on PATH
    with pytest.raises(ad.MissingDependencyError) as caught:
        ad.render(ad.sin(ad.Var(1.0)), tmp_path / "g.png")
    message = str(caught.value)
    assert "Graphviz 'dot' program was not found" in message
    assert "apt install graphviz" in message and "brew install graphviz" in message
    assert "conda" in message
    assert isinstance(caught.value, ImportError)
    assert not (tmp_path / "g.png").exists()
    with pytest.raises(ad.MissingDependencyError):
        ad.render(ad.sin(ad.Var(1.0)), tmp_path / "g.svg", engine="graphviz")
    # SVG is dualad's own drawing, and Jupyter shows it
    svg = ad.render(ad.sin(ad.Var(1.0, name="x")), tmp_path / "g.svg").read_text("utf-8")
    assert svg.startswith("<?xml") and "v₁ = sin(v₀)" in svg
    assert "v₁ = sin(v₀)" in svg_for_notebook(ad.sin(ad.Var(1.0, name="x")))
    assert "<svg" in ad.Graph(ad.sin(ad.Var(1.0)))._repr_svg_()
    assert "<svg" in ad.sin(ad.Var(1.0))._repr_svg_()


def test_render_refuses_unknown_formats(tmp_path):
    with pytest.raises(ad.DualadError, match="format 'gif' is not one of svg, png, pdf"):
        ad.render(ad.sin(ad.Var(1.0)), tmp_path / "g.gif")


@needs_dot
def test_render_writes_svg_and_png(tmp_path):
    x = ad.Var(2.0, name="x")
    y = ad.exp(x) * x
    y.backward()
    svg = ad.render(y, tmp_path / "graph.svg")
    text = svg.read_text()
    assert "<svg" in text and "exp(v₀)" in text
    png = ad.render(y, tmp_path / "graph.out", format="png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_dot
def test_var_and_graph_show_themselves_as_svg_in_jupyter():
    y = ad.sin(ad.Var(1.0, name="x"))
    assert "<svg" in y._repr_svg_()
    assert "<svg" in ad.Graph(y)._repr_svg_()


def test_numbers_are_printed_as_the_survey_prints_them():
    assert [format_number(v) for v in (2.0, 0.6931471805599453, -0.9589242746631385,
                                       10.693147180559945, 1.7163378145367738)] == \
        ["2", "0.693", "-0.959", "10.693", "1.716"]
    assert format_number(-2.5e-9) == "-2.5e-09" and format_number(3e7) == "3e+07"


def test_tables_align_names_with_combining_marks():
    table = text_table([["v̇₋₁", "1"], ["v₀", "22"]], align="<>")
    assert table.splitlines() == ["v̇₋₁   1", "v₀   22"]


def test_trace_names_follow_the_survey_levels():
    names = TraceNames(survey_graph())
    assert [names.expression(i) for i in names.order] == [
        "log(v₋₁)", "v₋₁ * v₀", "sin(v₀)", "v₁ + v₂", "v₄ - v₃"]
