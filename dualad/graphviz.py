"""Pictures of graphs through Graphviz: DOT text, and the ``dot`` program to draw it.

This module owns :func:`to_dot`, :func:`render` and the SVG a ``Var`` or ``Graph`` shows in
Jupyter. Node names, numbers and the textbook numbering come from :mod:`dualad.printing`.

Examples
--------
>>> import dualad as ad
>>> ad.to_dot(ad.sin(ad.Var(1.0, name="x"))).splitlines()[0]
'digraph dualad {'
"""

import shutil
import subprocess
from pathlib import Path

from .errors import DualadError, MissingDependencyError
from .graph import Graph, Var
from .printing import TraceNames, format_value, output_name

INSTALL_GRAPHVIZ = ("install Graphviz: 'apt install graphviz' (Debian, Ubuntu), "
                    "'brew install graphviz' (macOS) or 'conda install -c conda-forge "
                    "graphviz'; or paste the text of to_dot() into any Graphviz viewer")
#: Larger graphs are not drawn automatically in Jupyter (the picture would be unreadable).
NOTEBOOK_MAX_NODES = 300


def _as_graph(var_or_graph, what):
    if isinstance(var_or_graph, Graph):
        return var_or_graph
    if isinstance(var_or_graph, Var):
        return Graph(var_or_graph)
    raise DualadError(f"{what}: expected a Var or a Graph, got {type(var_or_graph).__name__}")


def _dot_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(var_or_graph, values=None, tangents=None, adjoints=None):
    """The graph as Graphviz DOT text: one node per value, edges from inputs to uses.

    Each label shows the node's textbook name and operation (as in :func:`trace_table`), and,
    where known, its value, tangent and adjoint. Inputs are ellipses, operations boxes,
    constants plain text; outputs have a double border.

    Parameters
    ----------
    var_or_graph : Var or Graph
    values, tangents, adjoints : list, optional
        One entry per node of the graph (``None`` where unknown), as the evaluators return
        them. By default values are the nodes' ``.value`` and adjoints their ``.deriv`` (set
        by ``backward()``); tangents are shown only when given.

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
    """
    graph = _as_graph(var_or_graph, "to_dot")
    nodes = graph.nodes
    values = values if values is not None else [n.value for n in nodes]
    adjoints = adjoints if adjoints is not None else [n.deriv for n in nodes]
    names = TraceNames(graph, values)
    outputs = {pos: output_name(k, len(graph.outputs), [n.name for n in graph.inputs])
               for k, pos in reversed(list(enumerate(graph.output_positions)))}
    inputs = {pos: k for k, pos in enumerate(graph.input_positions)}
    instructions = {instruction.pos: instruction for instruction in graph.program}
    lines = ["digraph dualad {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=11];']
    for pos, node in enumerate(nodes):
        if pos in inputs:
            shape, title = "ellipse", f"{names.name(pos)} = {names.input_name(inputs[pos])}"
        elif node.op is None:
            shape, title = "plaintext", names.name(pos)
            if names.name(pos) in names.constants:
                title += f" = {format_value(values[pos])}"
        else:
            shape = "box"
            title = f"{names.name(pos)} = {names.expression(instructions[pos])}"
        label = [title + (f"   ({outputs[pos]})" if pos in outputs else "")]
        if node.op is not None or pos in inputs:
            for word, buffer in (("value", values), ("tangent", tangents),
                                 ("adjoint", adjoints)):
                if buffer is not None and buffer[pos] is not None:
                    label.append(f"{word} = {format_value(buffer[pos])}")
        border = ", peripheries=2" if pos in outputs else ""
        lines.append(f"  n{pos} [shape={shape}{border}, label={_dot_string(chr(10).join(label))}];")
    for pos, _, args, _ in graph.program:
        for a in dict.fromkeys(args):       # x * x: one edge
            lines.append(f"  n{a} -> n{pos};")
    lines.append("}")
    return "\n".join(lines)


def _dot_program(what):
    program = shutil.which("dot")
    if program is None:
        raise MissingDependencyError(f"{what}: the Graphviz 'dot' program was not found on "
                                     f"PATH; {INSTALL_GRAPHVIZ}")
    return program


def _run_dot(dot_text, fmt, what):
    try:
        result = subprocess.run([_dot_program(what), f"-T{fmt}"], input=dot_text.encode(),
                                capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise DualadError(f"{what}: running Graphviz 'dot' failed: {err}") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise DualadError(f"{what}: Graphviz 'dot' failed"
                          f"{': ' + message[0] if message else ''}")
    return result.stdout


FORMATS = ("svg", "png", "pdf")


def render(var_or_graph, path=None, format=None, **labels):  # noqa: A002 - Graphviz's word
    """Draw the graph with Graphviz (SVG, PNG or PDF), to ``path`` or as bytes.

    Parameters
    ----------
    var_or_graph : Var or Graph
    path : str or Path, optional
        Where to write the picture; without it the picture is returned as bytes.
    format : {"svg", "png", "pdf"}, optional
        By default taken from the file's suffix (``graph.png``), else SVG.
    **labels
        ``values``, ``tangents``, ``adjoints``, as for :func:`to_dot`.

    Returns
    -------
    Path or bytes
        The file written, or the picture itself when no ``path`` is given.

    Raises
    ------
    MissingDependencyError
        When the Graphviz ``dot`` program is not installed; the message says how to install it.

    Examples
    --------
    >>> import dualad as ad, tempfile, os
    >>> x = ad.Var(1.0, name="x")
    >>> path = os.path.join(tempfile.mkdtemp(), "graph.svg")
    >>> try:
    ...     written = ad.render(ad.exp(x), path)
    ... except ad.MissingDependencyError as err:    # no Graphviz on this machine
    ...     written = None
    >>> written is None or open(written).read().lstrip().startswith("<?xml")
    True
    """
    path = None if path is None else Path(path)
    fmt = (format or (path.suffix.lstrip(".") if path else "") or "svg").lower()
    if fmt not in FORMATS:
        raise DualadError(f"render: format {fmt!r} is not one of {', '.join(FORMATS)}")
    picture = _run_dot(to_dot(var_or_graph, **labels), fmt, "render")
    if path is None:
        return picture
    path.write_bytes(picture)
    return path


def svg_for_notebook(var_or_graph):
    """SVG text of the graph for Jupyter, or ``None`` (so Jupyter falls back to text) when
    Graphviz is not installed or the graph is too large to read.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.graphviz import svg_for_notebook
    >>> svg = svg_for_notebook(ad.Var(1.0) + 1)
    >>> svg is None or "<svg" in svg
    True
    """
    graph = _as_graph(var_or_graph, "svg")
    if shutil.which("dot") is None or len(graph) > NOTEBOOK_MAX_NODES:
        return None
    try:
        return _run_dot(to_dot(graph), "svg", "svg").decode()
    except DualadError:
        return None


