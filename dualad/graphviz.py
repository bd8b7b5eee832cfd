"""Pictures of graphs: what each node and edge shows, as Graphviz DOT text or drawn as SVG.

This module owns :func:`to_dot`, :func:`render` and the SVG a ``Var`` or ``Graph`` shows in
Jupyter, and the one description of a picture both engines draw (:func:`picture`): each node's
textbook name and operation and, where known, its value, tangent and adjoint; each edge's local
partial. Graphviz's ``dot`` program draws it where it is installed; dualad's own layered drawing
(:mod:`dualad.layout`) draws SVG everywhere. Names and numbers come from
:mod:`dualad.printing`; the numbers shown from the step recorders (:mod:`dualad.partials`).

Examples
--------
>>> import dualad as ad
>>> ad.to_dot(ad.sin(ad.Var(1.0, name="x"))).splitlines()[0]
'digraph dualad {'
"""

import os
import shutil
import subprocess
from pathlib import Path

from .entry import prepare
from .errors import DualadError, MissingDependencyError
from .graph import Graph, Var
from .layout import LABEL_COLOUR, Edge, Node, layered_layout
from .partials import (direction_tangents, edge_partials, forward_sweep, partial_formulas,
                       reverse_sweep)
from .printing import TraceNames, format_value, output_name

INSTALL_GRAPHVIZ = ("install Graphviz: 'apt install graphviz' (Debian, Ubuntu), "
                    "'brew install graphviz' (macOS) or 'conda install -c conda-forge "
                    "graphviz'; or paste the text of to_dot() into any Graphviz viewer")
#: Larger graphs are not drawn automatically in Jupyter (the picture would be unreadable).
NOTEBOOK_MAX_NODES = 300
#: What ``partials=`` may ask for on the edges.
PARTIALS = (False, True, "number", "formula")


def picture(graph, values=None, tangents=None, adjoints=None, edge_labels=None, names=None,
            decimals=3):
    """What a picture of ``graph`` shows: a :class:`~dualad.layout.Node` per node and an
    :class:`~dualad.layout.Edge` per argument (``x * x``: one edge).

    A node's first line is its textbook name and operation as :func:`trace_table` writes
    them (``v₂ = v₋₁ * v₀``), with the output's name (``(y)``); then, where the buffer is
    given and holds a value for it, ``value = ...``, ``tangent = ...``, ``adjoint = ...``.
    Inputs are ellipses, operations boxes, constants plain text; outputs have a double
    border. ``edge_labels`` maps ``(argument position, op position)`` to an edge's label;
    ``names`` are the graph's :class:`~dualad.printing.TraceNames` (made if not given).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.graphviz import picture
    >>> nodes, edges = picture(ad.trace(lambda x: ad.exp(x) * 2, 0.0))
    >>> [node.lines for node in nodes]
    [('v₀ = x',), ('v₁ = exp(v₀)',), ('2',), ('v₂ = v₁ * 2   (y)',)]
    >>> [(edge.source, edge.target) for edge in edges]
    [(0, 1), (1, 3), (2, 3)]
    """
    nodes = graph.nodes
    names = names if names is not None else TraceNames(graph, values)
    edge_labels = edge_labels or {}
    outputs = {pos: output_name(k, len(graph.outputs), graph.input_names)
               for k, pos in reversed(list(enumerate(graph.output_positions)))}
    inputs = {pos: k for k, pos in enumerate(graph.input_positions)}
    instructions = {instruction.pos: instruction for instruction in graph.program}
    drawn = []
    for pos, node in enumerate(nodes):
        if pos in inputs:
            kind, title = "input", f"{names.name(pos)} = {names.input_name(inputs[pos])}"
        elif node.op is None:
            kind, title = "constant", names.name(pos)
            if names.name(pos) in names.constants:
                value = values[pos] if values is not None else node.value
                title += f" = {format_value(value, decimals)}"
        else:
            kind = "op"
            title = f"{names.name(pos)} = {names.expression(instructions[pos])}"
        lines = [title + (f"   ({outputs[pos]})" if pos in outputs else "")]
        if kind != "constant":
            for word, buffer in (("value", values), ("tangent", tangents),
                                 ("adjoint", adjoints)):
                if buffer is not None and buffer[pos] is not None:
                    lines.append(f"{word} = {format_value(buffer[pos], decimals)}")
        drawn.append(Node(pos, tuple(lines), kind, pos in outputs))
    edges = [Edge(a, pos, edge_labels.get((a, pos), ""))
             for pos, _, args, _ in graph.program for a in dict.fromkeys(args)]
    return drawn, edges


def _labels(f, args, what, values=None, tangents=None, adjoints=None, partials=False,
            direction=None):
    """The graph of ``f`` and what its picture shows, from what the caller gave.

    Given alone, a ``Var`` or ``Graph`` shows its nodes' ``.value`` and ``.deriv`` (as set by
    ``backward()``). At a point (a function with its arguments, or a Graph or Var with values
    given), the values there and the adjoints of the first output; with ``direction``, the
    tangents along it instead. Buffers given explicitly win.
    """
    if partials not in PARTIALS or partials is None:
        raise DualadError(f"{what}: partials must be False, True, 'number' or 'formula', "
                          f"got {partials!r}")
    at_point = bool(args) or not isinstance(f, (Var, Graph))
    needs_point = at_point or direction is not None or partials == "number"
    graph, point, _ = prepare(f, args, what, point_required=needs_point)
    names = graph.input_names
    shown = {}
    if at_point and direction is None:
        sweep = reverse_sweep(graph, point)
        shown = dict(values=sweep.values, adjoints=sweep.derivatives)
    elif not at_point:
        shown = dict(values=[n.value for n in graph.nodes],
                     adjoints=[n.deriv for n in graph.nodes])
    edge_labels = None
    if point is not None and (direction is not None or partials in (True, "number")):
        tangents_in = direction_tangents(names, point, direction, what)
        sweep = forward_sweep(graph, point, tangents_in)
        if direction is not None:
            shown = dict(values=sweep.values, tangents=sweep.derivatives)
        if partials:
            edge_labels = edge_partials(graph, sweep.partials)
    if partials == "formula" or (partials is True and point is None):
        edge_labels = edge_partials(graph, partial_formulas(graph, TraceNames(graph)))
    for word, given in (("values", values), ("tangents", tangents), ("adjoints", adjoints)):
        if given is not None:
            shown[word] = given
    return graph, shown, edge_labels


def _dot_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(f, *args, values=None, tangents=None, adjoints=None, partials=False,
           direction=None):
    """The graph as Graphviz DOT text: one node per value, edges from inputs to uses.

    Each label shows the node's textbook name and operation (as in :func:`trace_table`), and,
    where known, its value, tangent and adjoint; edges may show the local partials. Inputs are
    ellipses, operations boxes, constants plain text; outputs have a double border.

    Parameters
    ----------
    f : callable, Graph or Var
        A Python function with its point, a ``Graph`` or an output ``Var`` (as every entry
        point takes them).
    *args : float or array
        The point. Given alone, a ``Var`` or ``Graph`` shows its nodes' ``.value`` and
        ``.deriv`` (set by ``backward()``); at a point, the labels show the values there and
        the adjoints of the first output.
    values, tangents, adjoints : list, optional
        One entry per node of the graph (``None`` where unknown), as the evaluators return
        them; they replace what would be shown.
    partials : bool or {"number", "formula"}
        Label each edge with the local partial d(op)/d(argument): its number at the point
        (``"number"``; ``True`` gives numbers where the point is known, formulas otherwise)
        or its formula in the textbook names (``"formula"``, as ``1/v₋₁``). Structural ops
        (a whole Jacobian) have none.
    direction : str, int, sequence or dict, optional
        Show the tangents along this input direction (as :func:`trace_table` takes it)
        instead of adjoints.

    Returns
    -------
    str

    Examples
    --------
    >>> import dualad as ad
    >>> x = ad.Var(2.0, name="x")
    >>> y = ad.sin(x) * 3
    >>> y.backward()
    >>> print(ad.to_dot(y))
    digraph dualad {
      rankdir=LR;
      node [fontname="Helvetica", fontsize=11];
      n0 [shape=ellipse, label="v₀ = x\\nvalue = 2\\nadjoint = -1.248"];
      n1 [shape=box, label="v₁ = sin(v₀)\\nvalue = 0.909\\nadjoint = 3"];
      n2 [shape=plaintext, label="3"];
      n3 [shape=box, peripheries=2, label="v₂ = v₁ * 3   (y)\\nvalue = 2.728\\nadjoint = 1"];
      n0 -> n1;
      n1 -> n3;
      n2 -> n3;
    }

    A function at a point, with tangents along x and the local partials on the edges:

    >>> print(ad.to_dot(lambda x: ad.sin(x) * 3, 0.0, direction="x", partials=True))
    digraph dualad {
      rankdir=LR;
      node [fontname="Helvetica", fontsize=11];
      edge [fontname="Helvetica", fontsize=10, fontcolor="#9c2f1f"];
      n0 [shape=ellipse, label="v₀ = x\\nvalue = 0\\ntangent = 1"];
      n1 [shape=box, label="v₁ = sin(v₀)\\nvalue = 0\\ntangent = 1"];
      n2 [shape=plaintext, label="3"];
      n3 [shape=box, peripheries=2, label="v₂ = v₁ * 3   (y)\\nvalue = 0\\ntangent = 3"];
      n0 -> n1 [label="1"];
      n1 -> n3 [label="3"];
      n2 -> n3;
    }
    """
    graph, shown, edge_labels = _labels(f, args, "to_dot", values, tangents, adjoints,
                                        partials, direction)
    return _dot_text(*picture(graph, edge_labels=edge_labels, **shown))


SHAPES = {"input": "ellipse", "op": "box", "constant": "plaintext"}


def _dot_text(nodes, edges):
    lines = ["digraph dualad {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
    if any(edge.label for edge in edges):
        lines.append(f'  edge [fontname="Helvetica", fontsize=10, fontcolor="{LABEL_COLOUR}"];')
    for node in nodes:
        border = ", peripheries=2" if node.output else ""
        lines.append(f"  n{node.key} [shape={SHAPES[node.kind]}{border}, "
                     f"label={_dot_string(chr(10).join(node.lines))}];")
    for edge in edges:
        label = f" [label={_dot_string(edge.label)}]" if edge.label else ""
        lines.append(f"  n{edge.source} -> n{edge.target}{label};")
    lines.append("}")
    return "\n".join(lines)


def _dot_program(what, fmt):
    program = shutil.which("dot")
    if program is None:
        needs = "" if fmt == "svg" else f", which {fmt.upper()} needs (SVG does not)"
        raise MissingDependencyError(f"{what}: the Graphviz 'dot' program was not found on "
                                     f"PATH{needs}; {INSTALL_GRAPHVIZ}")
    return program


def _run_dot(dot_text, fmt, what):
    try:
        result = subprocess.run([_dot_program(what, fmt), f"-T{fmt}"], input=dot_text.encode(),
                                capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DualadError(f"{what}: running Graphviz 'dot' failed: {err}") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise DualadError(f"{what}: Graphviz 'dot' failed"
                          f"{': ' + message[0] if message else ''}")
    return result.stdout


FORMATS = ("svg", "png", "pdf")
ENGINES = ("graphviz", "dualad")


def draw_svg(nodes, edges, title=None):
    """dualad's own drawing (:mod:`dualad.layout`) of a :func:`picture`, as SVG text.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.graphviz import draw_svg, picture
    >>> svg = draw_svg(*picture(ad.trace(lambda x: ad.sin(x), 1.0)))
    >>> svg.startswith("<svg") and "v₁ = sin(v₀)" in svg
    True
    """
    return layered_layout(nodes, edges).to_svg(title=title)


def _split_path(args, path, what):
    """``render(var, "graph.svg")``: a last positional argument that is a path (a str or
    ``os.PathLike``, never a point) is where to write."""
    if args and isinstance(args[-1], (str, os.PathLike)):
        if path is not None:
            raise DualadError(f"{what}: the path is given twice ({args[-1]!r} and {path!r})")
        return args[:-1], args[-1]
    return args, path


def render(f, *args, path=None, format=None, engine=None, **labels):  # noqa: A002
    """Draw the graph as SVG (with or without Graphviz), PNG or PDF, to ``path`` or as bytes.

    Parameters
    ----------
    f : callable, Graph or Var
        As for :func:`to_dot`.
    *args : float or array
        The point, as for :func:`to_dot`; then, optionally, the path (a ``str`` or
        ``os.PathLike``): ``render(y, "graph.svg")``, ``render(f, 2.0, 5.0, "graph.svg")``.
    path : str or Path, optional
        Where to write the picture; without it the picture is returned as bytes.
    format : {"svg", "png", "pdf"}, optional
        By default taken from the file's suffix (``graph.png``), else SVG.
    engine : {"graphviz", "dualad"}, optional
        Who draws: Graphviz's ``dot`` program, or dualad's own layered drawing (SVG only, no
        dependency). By default Graphviz where ``dot`` is installed, else dualad for SVG.
    **labels
        ``values``, ``tangents``, ``adjoints``, ``partials``, ``direction``, as for
        :func:`to_dot`.

    Returns
    -------
    Path or bytes
        The file written, or the picture itself when no ``path`` is given.

    Raises
    ------
    MissingDependencyError
        For PNG or PDF (or ``engine="graphviz"``) when the Graphviz ``dot`` program is not
        installed; the message says how to install it.

    Examples
    --------
    >>> import dualad as ad, tempfile, os
    >>> x = ad.Var(1.0, name="x")
    >>> path = os.path.join(tempfile.mkdtemp(), "graph.svg")
    >>> written = ad.render(ad.exp(x), path)
    >>> open(written, encoding="utf-8").read().lstrip().startswith("<?xml")
    True
    >>> svg = ad.render(lambda x1, x2: ad.log(x1) + x1 * x2, 2.0, 5.0, engine="dualad",
    ...                 partials=True)
    >>> "v₂ = v₋₁ * v₀" in svg.decode() and "<svg" in svg.decode()
    True
    """
    args, path = _split_path(args, path, "render")
    path = None if path is None else Path(path)
    fmt = (format or (path.suffix.lstrip(".") if path else "") or "svg").lower()
    if fmt not in FORMATS:
        raise DualadError(f"render: format {fmt!r} is not one of {', '.join(FORMATS)}")
    if engine is not None and engine not in ENGINES:
        raise DualadError(f"render: engine {engine!r} is not one of {', '.join(ENGINES)}")
    if engine is None:
        engine = "graphviz" if shutil.which("dot") or fmt != "svg" else "dualad"
    if engine == "dualad" and fmt != "svg":
        raise DualadError(f"render: dualad's own drawing is SVG only; {fmt.upper()} needs "
                          "Graphviz (engine='graphviz')")
    graph, shown, edge_labels = _labels(f, args, "render", **labels)
    nodes, edges = picture(graph, edge_labels=edge_labels, **shown)
    if engine == "graphviz":
        drawing = _run_dot(_dot_text(nodes, edges), fmt, "render")
    else:
        drawing = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                   + draw_svg(nodes, edges) + "\n").encode("utf-8")
    if path is None:
        return drawing
    path.write_bytes(drawing)
    return path


def svg_for_notebook(var_or_graph):
    """SVG text of the graph for Jupyter: Graphviz's drawing where ``dot`` is installed,
    dualad's own otherwise; ``None`` (so Jupyter falls back to text) when the graph is too
    large to read (more than ``NOTEBOOK_MAX_NODES`` nodes).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.graphviz import svg_for_notebook
    >>> "<svg" in svg_for_notebook(ad.Var(1.0) + 1)
    True
    """
    graph = var_or_graph if isinstance(var_or_graph, Graph) else Graph(var_or_graph)
    if len(graph) > NOTEBOOK_MAX_NODES:
        return None
    nodes, edges = picture(graph, values=[n.value for n in graph.nodes],
                           adjoints=[n.deriv for n in graph.nodes])
    if shutil.which("dot") is not None:
        try:
            return _run_dot(_dot_text(nodes, edges), "svg", "svg").decode()
        except DualadError:
            pass            # dualad's own drawing, then
    return draw_svg(nodes, edges)
