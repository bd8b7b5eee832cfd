"""dualad's own drawing: layers, order, no overlaps, routes around nodes, well-formed SVG."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import build_program, random_programs

import dualad as ad
from dualad.graphviz import picture
from dualad.layout import DETAIL, LINE_HEIGHT, Edge, Node, layered_layout, text_width
from dualad.partials import edge_partials, forward_sweep

SVG = "{http://www.w3.org/2000/svg}"


def survey_graph():
    return ad.trace(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0)


def box(placed, grow=0.0):
    return (placed.x - placed.width / 2 - grow, placed.y - placed.height / 2 - grow,
            placed.x + placed.width / 2 + grow, placed.y + placed.height / 2 + grow)


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(point, rect, margin=1.0):
    x, y = point
    return rect[0] + margin < x < rect[2] - margin and rect[1] + margin < y < rect[3] - margin


def route_samples(route, per_curve=24):
    """Points along a route as drawn: straight within columns, cubic curves across gaps."""
    points = route.points
    samples = [points[0]]
    for i in range(1, len(points)):
        (x0, y0), (x1, y1) = points[i - 1], points[i]
        for k in range(1, per_curve + 1):
            t = k / per_curve
            if i % 2 == 0:           # the curve with controls (mid, y0), (mid, y1)
                mid = (x0 + x1) / 2
                x = (1 - t) ** 3 * x0 + 3 * (1 - t) ** 2 * t * mid + 3 * (1 - t) * t ** 2 * mid \
                    + t ** 3 * x1
                y = (1 - t) ** 3 * y0 + 3 * (1 - t) ** 2 * t * y0 + 3 * (1 - t) * t ** 2 * y1 \
                    + t ** 3 * y1
            else:
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            samples.append((x, y))
    return samples


def label_box(route, font_size):
    size = font_size * DETAIL
    w, h = text_width(route.edge.label, size) / 2, size * LINE_HEIGHT / 2
    x, y = route.label_at
    return (x - w, y - h + 0.5, x + w, y + h - 0.5)


def check_drawing(drawing):
    """No two nodes overlap, no edge passes through a node it does not join, no two labels
    overlap, no label covers a node, every edge goes left to right, all inside the picture."""
    placed = list(drawing.nodes.values())
    for i, a in enumerate(placed):
        assert 0 <= box(a)[0] and box(a)[2] <= drawing.width
        assert 0 <= box(a)[1] and box(a)[3] <= drawing.height
        for b in placed[i + 1:]:
            assert not overlap(box(a, 2.0), box(b, 2.0)), (a.node.lines, b.node.lines)
    labels = []
    for route in drawing.routes:
        source, target = drawing.nodes[route.edge.source], drawing.nodes[route.edge.target]
        assert source.x < target.x
        for p in route_samples(route):
            for other in placed:
                if other.node.key not in (route.edge.source, route.edge.target):
                    assert not inside(p, box(other)), (route.edge, other.node.lines)
        if route.label_at is not None:
            labels.append(label_box(route, drawing.font_size))
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not overlap(a, b)
        for node in placed:
            assert not overlap(a, box(node))


def test_the_survey_graph_is_drawn_in_layers_without_crossings():
    graph = survey_graph()
    sweep = forward_sweep(graph, [2.0, 5.0], [1.0, 0.0])
    nodes, edges = picture(graph, values=sweep.values,
                           edge_labels=edge_partials(graph, sweep.partials))
    drawing = layered_layout(nodes, edges)
    check_drawing(drawing)
    titles = [[drawing.nodes[k].node.lines[0] for k in column] for column in drawing.columns]
    # inputs first and in order; each op one column after its deepest argument
    assert titles[0] == ["v₋₁ = x1", "v₀ = x2"]
    assert sorted(titles[1]) == ["v₁ = log(v₋₁)", "v₂ = v₋₁ * v₀", "v₃ = sin(v₀)"]
    assert titles[2:] == [["v₄ = v₁ + v₂"], ["v₅ = v₄ - v₃   (y)"]]
    assert drawing.crossings() == 0


def test_barycentre_sweeps_remove_the_crossings_of_the_given_order():
    # listed in this order, the second column would cross every edge of the first
    nodes = [Node(0, ("a",), "input"), Node(1, ("b",), "input"), Node(2, ("c",), "input"),
             Node(3, ("g(c)",)), Node(4, ("g(b)",)), Node(5, ("g(a)",)),
             Node(6, ("h",), output=True)]
    edges = [Edge(2, 3), Edge(1, 4), Edge(0, 5), Edge(3, 6), Edge(4, 6), Edge(5, 6)]
    drawing = layered_layout(nodes, edges)
    assert drawing.columns[0] == [0, 1, 2]          # inputs keep their order
    assert drawing.columns[1] == [5, 4, 3]
    assert drawing.crossings() == 0
    check_drawing(drawing)


def test_inputs_keep_their_order_even_when_swapping_them_would_remove_a_crossing():
    nodes = [Node(0, ("x",), "input"), Node(1, ("y",), "input"), Node(2, ("f(y)",)),
             Node(3, ("g(x)",)), Node(4, ("h",), output=True)]
    edges = [Edge(1, 2), Edge(0, 3), Edge(2, 4), Edge(3, 4)]
    drawing = layered_layout(nodes, edges)
    assert drawing.columns[0] == [0, 1]
    assert drawing.crossings() == 0     # the ops move instead
    check_drawing(drawing)


def test_a_constant_sits_just_before_its_first_user_and_long_edges_go_around_nodes():
    graph = ad.trace(lambda x: ad.exp(ad.sin(ad.cos(x))) * x + 2.0, 0.3)
    drawing = layered_layout(*picture(graph))
    check_drawing(drawing)
    constant = next(p for p in drawing.nodes.values() if p.node.kind == "constant")
    user = next(p for p in drawing.nodes.values() if p.node.lines[0].endswith("+ 2   (y)"))
    column = {k: c for c, keys in enumerate(drawing.columns) for k in keys}
    assert column[constant.node.key] == column[user.node.key] - 1
    # x reaches the multiply four columns on: its edge crosses three columns at waypoints
    long_edge = next(r for r in drawing.routes if len(r.points) > 4)
    assert len(long_edge.points) == 4 + 2 * 3


def test_duplicate_edges_are_drawn_once_and_cycles_are_refused():
    drawing = layered_layout([Node(0, ("x",), "input"), Node(1, ("x*x",))],
                             [Edge(0, 1, "3"), Edge(0, 1, "3")])
    assert len(drawing.routes) == 1
    with pytest.raises(ValueError, match="cycle"):
        layered_layout([Node(0, ("a",)), Node(1, ("b",))], [Edge(0, 1), Edge(1, 0)])
    with pytest.raises(ValueError, match="unknown node"):
        layered_layout([Node(0, ("a",))], [Edge(0, 7)])


@settings(max_examples=40)
@given(random_programs(max_inputs=4, max_ops=12))
def test_random_graphs_up_to_about_30_nodes_have_no_overlaps(program):
    n_inputs, steps = program
    point = [0.3 + 0.1 * k for k in range(n_inputs)]
    graph = ad.trace(lambda *xs: build_program(ad, n_inputs, steps, xs), *point)
    sweep = forward_sweep(graph, point, [1.0] + [0.0] * (n_inputs - 1))
    nodes, edges = picture(graph, values=sweep.values, tangents=sweep.derivatives,
                           edge_labels=edge_partials(graph, sweep.partials))
    drawing = layered_layout(nodes, edges)
    check_drawing(drawing)
    ET.fromstring(drawing.to_svg())                       # well-formed


def test_a_big_graph_is_drawn_and_crossings_do_not_grow_with_the_sweeps():
    from strategies import chained_graph
    graph, _ = chained_graph(ad, 120, seed=3)
    nodes, edges = picture(graph)
    drawing = layered_layout(nodes, edges)
    check_drawing(drawing)
    # the sweeps keep the best order seen: never worse than the order given
    from dualad import layout
    before = layout.SWEEPS
    try:
        layout.SWEEPS = 0
        unordered = layered_layout(nodes, edges).crossings()
    finally:
        layout.SWEEPS = before
    assert drawing.crossings() <= unordered


def test_svg_text_is_escaped_and_well_formed():
    x = ad.Var(1.0, name='</svg><script>alert("x")</script>&\x01')
    svg = ad.render(ad.sin(x) + np.ones(2), engine="dualad").decode("utf-8")
    root = ET.fromstring(svg.split("?>", 1)[1])
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert 'v₀ = </svg><script>alert("x")</script>&\ufffd' in texts
    assert "<script" not in svg
    assert {g.get("class") for g in root.iter(f"{SVG}g")} >= {"node input", "node op output",
                                                               "node constant", "edge"}
