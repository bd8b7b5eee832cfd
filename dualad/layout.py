"""Layered drawings of graphs, as SVG, in pure Python: dualad's own pictures.

This module owns the geometry of a picture and nothing else: which column (layer) each node
goes in, the order of the nodes within a column, their coordinates, the routes of the edges and
the SVG text. It knows nothing of derivatives: :mod:`dualad.graphviz` says what each node and
edge shows (lists of :class:`Node` and :class:`Edge`), and the walkthrough page draws with the
same code. Graphviz stays the better engine where it is installed.

The method is Sugiyama's, in its simplest form:

1. layers by topological depth: inputs in the first column (on the left), an operation one
   column after its deepest argument, a constant just before its first user;
2. an edge that spans several columns gets a waypoint in each column it crosses, so it is
   routed around the nodes there;
3. the order within each column comes from a few sweeps of the barycentre heuristic (each
   node moves to the mean position of its neighbours in the column before, then after),
   keeping the order with the fewest crossings; inputs stay in their given order;
4. each column is placed vertically as close as possible to the neighbours of its nodes
   without overlap (a least-squares fit under "one below the other" constraints, solved
   exactly by pool-adjacent-violators);
5. edges are smooth curves between columns, with arrow heads, spread over the sides of the
   nodes they join, and an edge's label sits in the gap before its target's column, moved up
   or down where two labels would overlap.

Text widths are estimated (no font metrics in the standard library) generously, so labels fit
the common sans-serif fonts.

Examples
--------
>>> from dualad.layout import Edge, Node, layered_layout
>>> drawing = layered_layout([Node(0, ("x",), "input"), Node(1, ("sin(x)",), output=True)],
...                          [Edge(0, 1, "cos(x)")])
>>> drawing.nodes[0].x < drawing.nodes[1].x             # inputs on the left
True
>>> drawing.to_svg().startswith("<svg")
True
"""

import bisect
import html
import re
from dataclasses import dataclass
from typing import NamedTuple

from .printing import display_width

#: Font size of the first line of a node (its name and operation), in pixels: large enough to
#: read on a projector. The other lines are a little smaller.
FONT_SIZE = 16
FONT_FAMILY = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
#: A generous estimate of the width of one character, in units of the font size.
CHAR_WIDTH = 0.62
DETAIL = 0.875              # size of the lines below the first, relative to the first
LINE_HEIGHT = 1.35          # in units of each line's font size
SWEEPS = 6                  # barycentre sweeps (down and up) when ordering columns
PLACEMENT_ROUNDS = 10       # rounds of vertical placement


class Node(NamedTuple):
    """What one node shows.

    ``key`` identifies it (the graph position); ``lines`` are its text, the first being its
    title; ``kind`` is ``"input"`` (an ellipse, in the first column, never reordered among
    inputs), ``"op"`` (a box) or ``"constant"`` (plain text, placed just before its first
    user); ``output`` draws a double border; ``reserve`` are texts a line may be replaced by
    later (the walkthrough fills in numbers), so the node is drawn wide enough for them.
    """

    key: int
    lines: tuple
    kind: str = "op"
    output: bool = False
    reserve: tuple = ()


class Edge(NamedTuple):
    """An edge from node ``source`` to node ``target`` (keys), with an optional ``label``."""

    source: int
    target: int
    label: str = ""


class Placed(NamedTuple):
    """A node with its centre ``(x, y)`` and its ``width`` and ``height``, in pixels."""

    node: Node
    x: float
    y: float
    width: float
    height: float


class Route(NamedTuple):
    """An edge as drawn: the points it passes through (leaving its source, then the left and
    right edges of each column it crosses, then entering its target), and where the centre of
    its label is (``None`` without a label). Between columns it is a smooth curve, within a
    column straight (:attr:`path`)."""

    edge: Edge
    points: tuple
    label_at: tuple

    @property
    def path(self):
        """The route as SVG path data."""
        points = self.points
        parts = [f"M {points[0][0]:.1f} {points[0][1]:.1f}"]
        for i in range(1, len(points)):
            (x0, y0), (x1, y1) = points[i - 1], points[i]
            if i % 2 == 0:               # across a gap between columns: a smooth curve
                middle = (x0 + x1) / 2
                parts.append(f"C {middle:.1f} {y0:.1f} {middle:.1f} {y1:.1f} "
                             f"{x1:.1f} {y1:.1f}")
            elif abs(x1 - x0) > 0.5:     # within a column: straight (none if no length, so
                parts.append(f"L {x1:.1f} {y1:.1f}")   # the arrow head follows the curve)
        return " ".join(parts)


def text_width(text, size=FONT_SIZE):
    """Estimated width in pixels of ``text`` at font ``size`` (combining marks take none).

    Examples
    --------
    >>> from dualad.layout import text_width
    >>> text_width("v̇₁", 10) == text_width("ab", 10)
    True
    """
    return display_width(text) * CHAR_WIDTH * size


def _line_sizes(font_size, count):
    return [font_size] + [font_size * DETAIL] * (count - 1)


def _node_size(node, font_size):
    sizes = _line_sizes(font_size, len(node.lines))
    widest = max([text_width(t, s) for t, s in zip(node.lines, sizes)]
                 + [text_width(t, font_size * DETAIL) for t in node.reserve] + [font_size])
    tall = sum(s * LINE_HEIGHT for s in sizes)
    if node.kind == "input":        # the text's box inside the ellipse: sqrt(2) larger
        return widest * 1.42 + font_size, tall * 1.42 + font_size * 0.2
    if node.kind == "constant":
        return widest + font_size * 0.5, tall + font_size * 0.2
    return widest + font_size * 1.4, tall + font_size * 0.8


def _topological(keys, edges):
    """Keys in an order where every edge goes forward (Kahn), or an error for a cycle."""
    incoming = {k: 0 for k in keys}
    after = {k: [] for k in keys}
    for edge in edges:
        incoming[edge.target] += 1
        after[edge.source].append(edge.target)
    ready = [k for k in reversed(keys) if incoming[k] == 0]
    order = []
    while ready:
        key = ready.pop()
        order.append(key)
        for nxt in reversed(after[key]):
            incoming[nxt] -= 1
            if incoming[nxt] == 0:
                ready.append(nxt)
    if len(order) != len(keys):
        raise ValueError("layered_layout: the edges form a cycle")
    return order


def _inversions(pairs):
    """Number of crossing pairs among segments (a, b) between two columns (a Fenwick count)."""
    pairs = sorted(pairs)
    ranks = sorted({b for _, b in pairs})
    tree = [0] * (len(ranks) + 1)
    crossings = 0
    for seen, (_, b) in enumerate(pairs):
        r = bisect.bisect_left(ranks, b) + 1
        below, i = 0, r          # how many seen so far have b' <= b
        while i > 0:
            below += tree[i]
            i -= i & -i
        crossings += seen - below
        while r <= len(ranks):
            tree[r] += 1
            r += r & -r
    return crossings


def _isotonic(targets):
    """The non-decreasing sequence closest to ``targets`` in least squares (PAV)."""
    blocks = []                               # [sum, count] of pooled runs
    for t in targets:
        blocks.append([t, 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    fitted = []
    for total, count in blocks:
        fitted += [total / count] * count
    return fitted


def _fit_column(desired, separations):
    """Positions closest to ``desired`` with ``y[i+1] - y[i] >= separations[i]``."""
    offsets = [0.0]
    for s in separations:
        offsets.append(offsets[-1] + s)
    fitted = _isotonic([d - o for d, o in zip(desired, offsets)])
    return [f + o for f, o in zip(fitted, offsets)]


@dataclass
class Drawing:
    """A laid-out graph: ``nodes`` (key -> :class:`Placed`), ``routes`` (one :class:`Route`
    per edge), ``columns`` (the keys of each column, top to bottom, waypoints left out),
    ``width`` and ``height`` in pixels, and the ``font_size``.

    Examples
    --------
    >>> from dualad.layout import Edge, Node, layered_layout
    >>> d = layered_layout([Node(0, ("a",), "input"), Node(1, ("b",), "input"),
    ...                     Node(2, ("a*b",))], [Edge(0, 2), Edge(1, 2)])
    >>> d.columns, d.crossings()
    ([[0, 1], [2]], 0)
    """

    nodes: dict
    routes: list
    columns: list
    width: float
    height: float
    font_size: float
    _segments: list = None

    def crossings(self):
        """How many pairs of edges cross (counted between neighbouring columns)."""
        return sum(_inversions(pairs) for pairs in self._segments)

    def to_svg(self, id_prefix="", css_class="dualad-graph", title=None):
        """The drawing as SVG text (see :func:`drawing_svg`)."""
        return drawing_svg(self, id_prefix=id_prefix, css_class=css_class, title=title)


def layered_layout(nodes, edges=(), font_size=FONT_SIZE):
    """Lay out a directed acyclic graph in columns, inputs on the left.

    Parameters
    ----------
    nodes : list of Node
    edges : list of Edge, optional
        Between keys of ``nodes``; an edge given twice is drawn once (with the first label).
    font_size : float
        Pixels of the first line of each node; everything else scales with it.

    Returns
    -------
    Drawing

    Raises
    ------
    ValueError
        For an edge between unknown keys, or edges that form a cycle.

    Examples
    --------
    >>> from dualad.layout import Edge, Node, layered_layout
    >>> nodes = [Node(0, ("x1",), "input"), Node(1, ("x2",), "input"),
    ...          Node(2, ("sin(x2)",)), Node(3, ("x1 * x2",)), Node(4, ("-",), output=True)]
    >>> d = layered_layout(nodes, [Edge(1, 2), Edge(0, 3), Edge(1, 3), Edge(3, 4),
    ...                            Edge(2, 4)])
    >>> [[d.nodes[k].node.lines[0] for k in column] for column in d.columns]
    [['x1', 'x2'], ['x1 * x2', 'sin(x2)'], ['-']]
    >>> d.crossings()
    0
    """
    nodes = list(nodes)
    by_key = {node.key: node for node in nodes}
    if len(by_key) != len(nodes):
        raise ValueError("layered_layout: two nodes have the same key")
    unique = {}
    for edge in edges:
        if edge.source not in by_key or edge.target not in by_key:
            raise ValueError(f"layered_layout: edge {edge.source} -> {edge.target} joins an "
                             "unknown node")
        unique.setdefault((edge.source, edge.target), edge)
    edges = list(unique.values())
    keys = [node.key for node in nodes]
    order = _topological(keys, edges)

    # 1. columns: inputs first, an operation after its deepest argument, a constant before
    #    its first user
    preds = {k: [] for k in keys}
    succs = {k: [] for k in keys}
    for edge in edges:
        preds[edge.target].append(edge.source)
        succs[edge.source].append(edge.target)
    layer = {}
    for key in order:
        layer[key] = 1 + max((layer[p] for p in preds[key]), default=-1)
    for key in reversed(order):
        if by_key[key].kind == "constant" and not preds[key] and succs[key]:
            layer[key] = max(min(layer[s] for s in succs[key]) - 1, 0)
    depth = 1 + max(layer.values(), default=0)

    # 2. slots: the nodes, and one waypoint per column an edge crosses
    slots = list(keys)                   # slot i is a node key or a waypoint ("w", edge, col)
    slot_layer = {k: layer[k] for k in keys}
    up = {k: [] for k in keys}           # neighbouring slots in the column before / after
    down = {k: [] for k in keys}
    chains = []
    for e, edge in enumerate(edges):
        chain = [edge.source]
        for col in range(layer[edge.source] + 1, layer[edge.target]):
            waypoint = ("w", e, col)
            slots.append(waypoint)
            slot_layer[waypoint] = col
            up[waypoint], down[waypoint] = [], []
            chain.append(waypoint)
        chain.append(edge.target)
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
        chains.append(chain)
    columns = [[] for _ in range(depth)]
    for slot in slots:                   # nodes in the given order, waypoints by edge
        columns[slot_layer[slot]].append(slot)
    columns = _order_columns(columns, up, down, by_key)

    # 3. coordinates
    size = {}
    for slot in slots:
        size[slot] = (_node_size(by_key[slot], font_size) if slot in by_key
                      else (0.0, font_size * 0.5))
    label_size = font_size * DETAIL
    col_width = [max([size[s][0] for s in column] + [font_size]) for column in columns]
    gap = [0.0] * depth                  # space before each column, for the labels there
    for edge, chain in zip(edges, chains):
        col = layer[edge.target]
        gap[col] = max(gap[col], text_width(edge.label, label_size) + font_size * 3
                       if edge.label else 0.0)
    margin = font_size
    left = []
    x = margin
    for col in range(depth):
        if col:
            x += max(gap[col], font_size * 4.5)
        left.append(x)
        x += col_width[col]
    y = _place_vertically(columns, up, down, size, by_key, font_size)

    # 4. routes
    centre_x = {s: left[slot_layer[s]] + col_width[slot_layer[s]] / 2 for s in slots}
    out_ports, in_ports = _ports(edges, chains, y, size, by_key, font_size)
    routes = []
    for e, (edge, chain) in enumerate(zip(edges, chains)):
        route = _route(edge, chain, e, left, col_width, slot_layer, centre_x, y, out_ports,
                       in_ports, size, by_key)
        if edge.label:
            route = route._replace(label_at=_label_at(route, text_width(edge.label, label_size),
                                                      font_size))
        routes.append(route)
    routes = _spread_labels(routes, label_size)

    # 5. everything inside the picture, with a margin
    boxes = [(centre_x[k] - size[k][0] / 2, y[k] - size[k][1] / 2,
              centre_x[k] + size[k][0] / 2, y[k] + size[k][1] / 2) for k in keys]
    for route in routes:
        if route.label_at is not None:
            w = text_width(route.edge.label, label_size) / 2
            boxes.append((route.label_at[0] - w, route.label_at[1] - label_size,
                          route.label_at[0] + w, route.label_at[1] + label_size))
    top = min((b[1] for b in boxes), default=0.0)
    shift = margin - top
    placed = {k: Placed(by_key[k], centre_x[k], y[k] + shift, *size[k]) for k in keys}
    routes = [_shifted(route, shift) for route in routes]
    width = max((b[2] for b in boxes), default=0.0) + margin
    height = max((b[3] for b in boxes), default=0.0) + shift + margin
    position = {s: i for column in columns for i, s in enumerate(column)}
    segments = [[(position[a], position[b]) for a in columns[col] for b in down[a]]
                for col in range(depth - 1)]
    return Drawing(placed, routes, [[s for s in column if s in by_key] for column in columns],
                   width, height, font_size, segments)


def _order_columns(columns, up, down, by_key):
    """A few barycentre sweeps; the order with the fewest crossings wins."""
    def crossings(cols):
        position = {s: i for column in cols for i, s in enumerate(column)}
        return sum(_inversions([(position[a], position[b]) for a in cols[c] for b in down[a]])
                   for c in range(len(cols) - 1))

    def reorder(column, neighbours, position):
        here = {s: i for i, s in enumerate(column)}

        def key(slot):
            near = neighbours[slot]
            centre = sum(position[n] for n in near) / len(near) if near else here[slot]
            return (centre, here[slot])
        ordered = sorted(column, key=key)
        # inputs keep their given order: they take the seats the sort gave to inputs
        inputs = [s for s in column if s in by_key and by_key[s].kind == "input"]
        if len(inputs) > 1:
            seats = iter(inputs)
            ordered = [next(seats) if s in by_key and by_key[s].kind == "input" else s
                       for s in ordered]
        return ordered

    best, fewest = [list(c) for c in columns], crossings(columns)
    current = [list(c) for c in columns]
    for _ in range(SWEEPS):
        if fewest == 0:
            break
        for c in range(1, len(current)):
            position = {s: i for i, s in enumerate(current[c - 1])}
            current[c] = reorder(current[c], up, position)
        for c in range(len(current) - 2, -1, -1):
            position = {s: i for i, s in enumerate(current[c + 1])}
            current[c] = reorder(current[c], down, position)
        count = crossings(current)
        if count < fewest:
            best, fewest = [list(c) for c in current], count
    return best


def _place_vertically(columns, up, down, size, by_key, font_size):
    """Centres y of every slot: near its neighbours, never overlapping within a column."""
    def separation(a, b):
        room = font_size * (0.9 if a in by_key and b in by_key else 0.35)
        return (size[a][1] + size[b][1]) / 2 + room

    y = {}
    for column in columns:
        desired = [0.0] * len(column)
        for slot, value in zip(column, _fit_column(
                desired, [separation(a, b) for a, b in zip(column, column[1:])])):
            y[slot] = value
    # centre the columns on each other before pulling nodes towards their neighbours
    middle = max((sum(y[s] for s in c) / len(c) for c in columns if c), default=0.0)
    for column in columns:
        mean = sum(y[s] for s in column) / len(column) if column else 0.0
        for s in column:
            y[s] += middle - mean

    def settle(column, neighbours):
        desired = []
        for slot in column:
            near = [y[n] for n in neighbours(slot)]
            desired.append(sum(near) / len(near) if near else y[slot])
        fitted = _fit_column(desired, [separation(a, b) for a, b in zip(column, column[1:])])
        for slot, value in zip(column, fitted):
            y[slot] = value

    for _ in range(PLACEMENT_ROUNDS):
        for column in columns[1:]:
            settle(column, lambda s: up[s])
        for column in reversed(columns[:-1]):
            settle(column, lambda s: down[s])
    for column in columns:
        settle(column, lambda s: up[s] + down[s])
    return y


def _side_x(slot, dy, centre_x, size, by_key, sign):
    """x where a horizontal line at height dy from the centre leaves the node's side."""
    half_w, half_h = size[slot][0] / 2, size[slot][1] / 2
    if slot in by_key and by_key[slot].kind == "input" and half_h > 0:
        ratio = min(abs(dy) / half_h, 1.0)
        return centre_x + sign * half_w * (1 - ratio * ratio) ** 0.5
    return centre_x + sign * half_w


def _ports(edges, chains, y, size, by_key, font_size):
    """Where each edge leaves its source and enters its target: spread over the side, in
    the order of the slot at the other end (so edges leaving one node do not cross)."""
    outs, ins = {}, {}
    for e, chain in enumerate(chains):
        outs.setdefault(chain[0], []).append((y[chain[1]], e))
        ins.setdefault(chain[-1], []).append((y[chain[-2]], e))
    out_ports, in_ports = {}, {}
    for ports, table in ((outs, out_ports), (ins, in_ports)):
        for slot, ends in ports.items():
            ends.sort()
            count = len(ends)
            height = size[slot][1]
            step = min(height * 0.7 / count, font_size * 0.9) if count > 1 else 0.0
            for i, (_, e) in enumerate(ends):
                table[e] = (i - (count - 1) / 2) * step
    return out_ports, in_ports


def _route(edge, chain, e, left, col_width, slot_layer, centre_x, y, out_ports, in_ports,
           size, by_key):
    source, target = chain[0], chain[-1]
    dy_out, dy_in = out_ports[e], in_ports[e]
    start = (_side_x(source, dy_out, centre_x[source], size, by_key, +1), y[source] + dy_out)
    end = (_side_x(target, dy_in, centre_x[target], size, by_key, -1), y[target] + dy_in)
    # points: leave the source's column at its right edge, cross each column between at the
    # waypoint's height, reach the target's column at its left edge
    col = slot_layer[source]
    points = [start, (left[col] + col_width[col], start[1])]
    for waypoint in chain[1:-1]:
        col = slot_layer[waypoint]
        points += [(left[col], y[waypoint]), (left[col] + col_width[col], y[waypoint])]
    col = slot_layer[target]
    points += [(left[col], end[1]), end]
    return Route(edge, tuple(points), None)


def _label_at(route, width, font_size):
    """Where an edge's label goes: on the curve across the gap before its target, as near
    the target as the label fits (there the edges entering a node have drawn apart), and
    never before the middle of the gap."""
    (x0, y0), (x1, y1) = route.points[-3], route.points[-2]
    x = max((x0 + x1) / 2, x1 - font_size * 1.1 - width / 2)
    # the curve's x(t) = x0 + (x1 - x0) (1.5 t (1 - t) + t^3) increases with t: bisect
    low, high = 0.0, 1.0
    for _ in range(40):
        t = (low + high) / 2
        if x0 + (x1 - x0) * (1.5 * t * (1 - t) + t ** 3) < x:
            low = t
        else:
            high = t
    return (x, y0 + (y1 - y0) * (3 * t * t - 2 * t ** 3))


def _spread_labels(routes, label_size):
    """Labels in the same gap moved apart vertically (as little as possible) to not overlap."""
    gaps = {}
    for i, route in enumerate(routes):
        if route.label_at is not None:     # the gap before the target's column
            gaps.setdefault(round(route.points[-2][0]), []).append(i)
    routes = list(routes)
    for members in gaps.values():
        members.sort(key=lambda i: routes[i].label_at[1])
        fitted = _fit_column([routes[i].label_at[1] for i in members],
                             [label_size * LINE_HEIGHT] * (len(members) - 1))
        for i, value in zip(members, fitted):
            routes[i] = routes[i]._replace(label_at=(routes[i].label_at[0], value))
    return routes


def _shifted(route, dy):
    points = tuple((x, y + dy) for x, y in route.points)
    label_at = None if route.label_at is None else (route.label_at[0], route.label_at[1] + dy)
    return Route(route.edge, points, label_at)


# ---- SVG ----

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text):
    """``text`` safe inside an XML or HTML element or attribute: escaped, and characters XML
    cannot hold replaced by U+FFFD.

    Examples
    --------
    >>> from dualad.layout import xml_text
    >>> xml_text('</script> & "x"\\x00')
    '&lt;/script&gt; &amp; &quot;x&quot;\ufffd'
    """
    return html.escape(_NOT_XML.sub("\ufffd", str(text)), quote=True)


STROKE = "#333333"
EDGE_COLOUR = "#555555"
INPUT_FILL = "#e8f1fb"
OP_FILL = "#ffffff"
LABEL_COLOUR = "#9c2f1f"
HOT_COLOUR = "#e07b00"      # the arrow head of an edge a page highlights


def _node_svg(placed, id_prefix, font_size):
    node = placed.node
    x, y, w, h = placed.x, placed.y, placed.width, placed.height
    kind = node.kind
    parts = [f'<g class="node {kind}{" output" if node.output else ""}" '
             f'id="{xml_text(id_prefix)}node-{node.key}" data-key="{node.key}">']
    if kind == "input":
        shape = (f'<ellipse class="shape" cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2:.1f}" '
                 f'ry="{h / 2:.1f}" fill="{INPUT_FILL}" stroke="{STROKE}" stroke-width="1.5"/>')
        outer = (f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2 + 4:.1f}" ry="{h / 2 + 4:.1f}" '
                 f'fill="none" stroke="{STROKE}" stroke-width="1.2"/>')
    elif kind == "op":
        shape = (f'<rect class="shape" x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" '
                 f'width="{w:.1f}" height="{h:.1f}" rx="4" fill="{OP_FILL}" '
                 f'stroke="{STROKE}" stroke-width="1.5"/>')
        outer = (f'<rect x="{x - w / 2 - 4:.1f}" y="{y - h / 2 - 4:.1f}" width="{w + 8:.1f}" '
                 f'height="{h + 8:.1f}" rx="6" fill="none" stroke="{STROKE}" '
                 f'stroke-width="1.2"/>')
    else:
        shape = (f'<rect class="shape" x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" '
                 f'width="{w:.1f}" height="{h:.1f}" fill="none" stroke="none"/>')
        outer = (f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" '
                 f'height="{h:.1f}" fill="none" stroke="{STROKE}" stroke-width="1.2"/>')
    if node.output:
        parts.append(outer)
    parts.append(shape)
    sizes = _line_sizes(font_size, len(node.lines))
    top = y - sum(s * LINE_HEIGHT for s in sizes) / 2
    for i, (text, size) in enumerate(zip(node.lines, sizes)):
        middle = top + size * LINE_HEIGHT / 2
        top += size * LINE_HEIGHT
        parts.append(f'<text class="line line-{i}" id="{xml_text(id_prefix)}node-{node.key}-'
                     f'line-{i}" x="{x:.1f}" y="{middle:.1f}" font-size="{size:.1f}" '
                     f'text-anchor="middle" dominant-baseline="central" xml:space="preserve">'
                     f'{xml_text(text)}'
                     f'</text>')
    parts.append("</g>")
    return "".join(parts)


def _edge_svg(route, id_prefix, font_size):
    edge = route.edge
    ident = f"{xml_text(id_prefix)}edge-{edge.source}-{edge.target}"
    parts = [f'<g class="edge" id="{ident}" data-source="{edge.source}" '
             f'data-target="{edge.target}">',
             f'<path class="stroke" d="{route.path}" fill="none" stroke="{EDGE_COLOUR}" '
             f'stroke-width="1.6" marker-end="url(#{xml_text(id_prefix)}arrow)"/>']
    if route.label_at is not None:
        x, y = route.label_at
        size = font_size * DETAIL
        w, h = text_width(edge.label, size) + size * 0.4, size * 1.3
        parts.append(f'<g class="label"><rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" '
                     f'width="{w:.1f}" height="{h:.1f}" rx="3" fill="#ffffff" '
                     f'fill-opacity="0.85"/>'
                     f'<text id="{ident}-label" x="{x:.1f}" y="{y:.1f}" font-size="{size:.1f}" '
                     f'text-anchor="middle" dominant-baseline="central" xml:space="preserve" '
                     f'fill="{LABEL_COLOUR}">{xml_text(edge.label)}</text></g>')
    parts.append("</g>")
    return "".join(parts)


def drawing_svg(drawing, id_prefix="", css_class="dualad-graph", title=None):
    """A :class:`Drawing` as one self-contained SVG element (no external fonts or files).

    Nodes are ``<g class="node KIND" id="{id_prefix}node-KEY">`` with one ``<text>`` per line
    (``id="...node-KEY-line-I"``); edges are ``<g class="edge" id="{id_prefix}edge-S-T">``
    with a ``<path>`` and, when labelled, a ``<text class="label">``: pages can find and
    restyle them. Every text is escaped.

    Examples
    --------
    >>> from dualad.layout import Node, drawing_svg, layered_layout
    >>> svg = drawing_svg(layered_layout([Node(0, ("a < b",), "input")]))
    >>> "a &lt; b" in svg and svg.endswith("</svg>")
    True
    """
    w, h = max(drawing.width, 1.0), max(drawing.height, 1.0)
    prefix = xml_text(id_prefix)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{xml_text(css_class)}" '
             f'width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.1f} {h:.1f}" '
             f'font-family="{FONT_FAMILY}" fill="#000000">']
    if title:
        parts.append(f"<title>{xml_text(title)}</title>")
    parts.append(f'<defs><marker id="{prefix}arrow" viewBox="0 0 10 10" refX="9" refY="5" '
                 f'markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" '
                 f'orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="{EDGE_COLOUR}"/>'
                 f'</marker><marker id="{prefix}arrow-hot" viewBox="0 0 10 10" refX="9" '
                 f'refY="5" markerWidth="14" markerHeight="14" markerUnits="userSpaceOnUse" '
                 f'orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="{HOT_COLOUR}"/>'
                 f'</marker></defs>')
    parts.append(f'<rect width="{w:.1f}" height="{h:.1f}" fill="#ffffff"/>')
    parts += [_edge_svg(route, id_prefix, drawing.font_size) for route in drawing.routes]
    parts += [_node_svg(placed, id_prefix, drawing.font_size)
              for placed in drawing.nodes.values()]
    parts.append("</svg>")
    return "\n".join(parts)
