"""Pictures of graphs: every kind of f, labels (values, tangents, adjoints, partials), SVG
without Graphviz, and the ``dualad graph`` options."""

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import dualad as ad
from dualad.cli import main
from dualad.graphviz import NOTEBOOK_MAX_NODES, svg_for_notebook

SVG = "{http://www.w3.org/2000/svg}"


def survey(x1, x2):
    return ad.log(x1) + x1 * x2 - ad.sin(x2)


def svg_texts(svg):
    if isinstance(svg, bytes):
        svg = svg.decode("utf-8")
    root = ET.fromstring(svg.split("?>", 1)[-1])
    return root, ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def dot_edges(dot):
    return dict(re.findall(r"  (n\d+ -> n\d+) \[label=\"([^\"]*)\"\];", dot))


@pytest.fixture
def no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))           # no 'dot' anywhere on PATH


def test_to_dot_takes_a_function_with_its_point_and_shows_values_and_adjoints():
    dot = ad.to_dot(survey, 2.0, 5.0)
    # the survey's numbers: x1's adjoint 1/x1 + x2, x2's x1 - cos(x2)
    assert 'label="v₋₁ = x1\\nvalue = 2\\nadjoint = 5.5"' in dot
    assert f'label="v₀ = x2\\nvalue = 5\\nadjoint = {2 - math.cos(5):.3f}"' in dot
    assert 'label="v₅ = v₄ - v₃   (y)\\nvalue = 11.652\\nadjoint = 1"' in dot


def test_to_dot_of_a_graph_at_a_point_and_of_a_var_alone_agree():
    graph = ad.parse("log(x1) + x1*x2 - sin(x2)")
    at_point = ad.to_dot(graph, 2.0, 5.0)
    x1, x2 = ad.Var(2.0, name="x1"), ad.Var(5.0, name="x2")
    y = survey(x1, x2)
    assert "adjoint" not in ad.to_dot(y)                 # no backward() yet: nothing known
    y.backward()
    assert ad.to_dot(y) == at_point
    # a Var alone, but asked for tangents: at its leaves' values
    assert 'label="v₀ = x2\\nvalue = 5\\ntangent = 1"' in ad.to_dot(y, direction="x2")


def test_tangents_along_a_direction_are_the_survey_numbers():
    dot = ad.to_dot(survey, 2.0, 5.0, direction="x1")
    assert 'tangent = 5.5"' in dot and "adjoint" not in dot
    assert 'label="v₃ = sin(v₀)\\nvalue = -0.959\\ntangent = 0"' in dot
    dot = ad.to_dot(survey, 2.0, 5.0, direction={"x2": 1.0})
    assert f'(y)\\nvalue = 11.652\\ntangent = {2 - math.cos(5):.3f}"' in dot


def test_edges_show_the_local_partials_as_numbers_or_formulas():
    numbers = dot_edges(ad.to_dot(survey, 2.0, 5.0, partials=True))
    # hand-derived: d log(x1)/dx1 = 1/2, d(x1 x2)/dx1 = 5, /dx2 = 2, d sin(x2)/dx2 = cos 5
    assert sorted(numbers.values()) == sorted(["0.5", "5", "2", f"{math.cos(5):.3f}", "1", "1",
                                               "1", "-1"])
    formulas = dot_edges(ad.to_dot(ad.parse("log(x1) + x1*x2 - sin(x2)"), partials=True))
    assert sorted(formulas.values()) == sorted(["1/v₋₁", "v₀", "v₋₁", "cos(v₀)", "1", "1", "1",
                                                "-1"])
    assert dot_edges(ad.to_dot(survey, 2.0, 5.0, partials="formula")) == formulas


def test_an_argument_used_twice_is_one_edge_labelled_with_both_partials():
    assert dot_edges(ad.to_dot(lambda x: x * x, 3.0, partials=True)) == {"n0 -> n1": "3 + 3"}


def test_a_structural_op_has_no_partial_on_its_edge():
    matrix = np.array([[1.0, 2.0], [3.0, 4.0]])
    dot = ad.to_dot(lambda x: ad.sum(ad.sin(matrix @ x)), np.array([0.1, 0.2]), partials=True)
    labelled = dot_edges(dot)
    assert len(labelled) == 1                            # only sin's edge
    (label,) = labelled.values()
    assert label == "[" + ", ".join(f"{c:.3f}".rstrip("0") for c in np.cos(matrix @ [0.1, 0.2])) \
        + "]"


def test_bad_labels_are_refused_naming_the_function():
    with pytest.raises(ad.DualadError, match="to_dot: partials must be False, True, 'number' or "
                                             "'formula', got 'all'"):
        ad.to_dot(survey, 2.0, 5.0, partials="all")
    with pytest.raises(ad.DualadError, match="render: no input named 'x3'"):
        ad.render(survey, 2.0, 5.0, engine="dualad", direction="x3")
    with pytest.raises(ad.DualadError, match=r"to_dot: give a value for each input \(x1, x2\)"):
        ad.to_dot(ad.parse("log(x1) + x1*x2 - sin(x2)"), partials="number")


def test_render_draws_svg_without_graphviz(no_graphviz, tmp_path):
    written = ad.render(survey, 2.0, 5.0, tmp_path / "survey.svg", partials=True)
    assert written == tmp_path / "survey.svg"
    root, texts = svg_texts(written.read_text("utf-8"))
    assert root.tag == f"{SVG}svg"
    assert "v₂ = v₋₁ * v₀" in texts and "adjoint = 5.5" in texts and "0.5" in texts
    # the kinds of node keep their shapes: inputs ellipses, ops boxes, outputs doubled
    assert len(root.findall(f".//{SVG}g[@class='node input']/{SVG}ellipse")) == 2
    assert len(root.findall(f".//{SVG}g[@class='node op output']/{SVG}rect")) == 2


def test_render_keeps_taking_a_path_second_and_refuses_it_twice(tmp_path):
    x = ad.Var(1.0, name="x")
    y = ad.exp(x)
    assert ad.render(y, str(tmp_path / "a.svg"), engine="dualad").exists()
    assert ad.render(y, path=tmp_path / "b.svg", engine="dualad").exists()
    assert ad.render(survey, 2.0, 5.0, path=str(tmp_path / "c.svg"), engine="dualad").exists()
    with pytest.raises(ad.DualadError, match="render: the path is given twice"):
        ad.render(y, tmp_path / "d.svg", path=tmp_path / "e.svg")
    with pytest.raises(ad.DualadError, match="render: engine 'tikz' is not one of graphviz, "
                                             "dualad"):
        ad.render(y, engine="tikz")
    with pytest.raises(ad.DualadError, match="render: dualad's own drawing is SVG only; PNG "
                                             "needs Graphviz"):
        ad.render(y, tmp_path / "f.png", engine="dualad")


def test_the_notebook_picture_is_dualads_drawing_without_graphviz(no_graphviz):
    x = ad.Var(2.0, name="x")
    y = ad.sin(x) * x
    y.backward()
    _, texts = svg_texts(y._repr_svg_())
    assert f"adjoint = {math.sin(2) + 2 * math.cos(2):.3f}" in texts
    assert "<svg" in ad.Graph(y)._repr_svg_()
    chain = x
    for _ in range(NOTEBOOK_MAX_NODES):
        chain = ad.sin(chain)
    assert svg_for_notebook(chain) is None               # too large to read: text instead


def test_cli_graph_draws_svg_without_graphviz(no_graphviz, tmp_path, capsys):
    assert main(["graph", "sin(x*w) + w", "--at", "x=1,w=4", "--direction", "x",
                 "--partials", "--format", "svg"]) == 0
    _, texts = svg_texts(capsys.readouterr().out)
    # d/dx (sin(xw) + w) = w cos(xw) = 4 cos 4, and the partial of sin is cos(4)
    assert f"tangent = {4 * math.cos(4):.3f}" in texts and f"{math.cos(4):.3f}" in texts
    path = tmp_path / "g.svg"
    assert main(["graph", "sin(x*w) + w", "--partials", "--engine", "dualad", "--format",
                 "svg", "-o", str(path)]) == 0
    _, texts = svg_texts(path.read_text("utf-8"))
    assert "cos(v₁)" in texts


@pytest.mark.parametrize("argv, message", [
    (["graph", "x*y", "--direction", "x"], "--direction needs --at"),
    (["graph", "x*y", "--at", "x=1,y=2", "--direction", "z"],
     "--direction: z is not a name in the expression (its names: x, y)"),
    (["graph", "x*y", "--partials", "number"], "--partials number needs --at"),
    (["graph", "x*y", "--engine", "dualad"], "--engine is for --format svg or png"),
    (["graph", "x*y", "--engine", "dualad", "--format", "png", "-o", "g.png"],
     "dualad's own drawing is SVG only"),
])
def test_cli_graph_refuses_bad_options_in_one_line(argv, message, capsys, tmp_path,
                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
