"""Every step of one sweep, in order: :func:`walkthrough`, and a page that steps through it.

This module owns :func:`walkthrough`, :class:`Walkthrough` and :class:`WalkStep`, and the
self-contained HTML page (:meth:`Walkthrough.to_html`, :func:`page`) a lecturer steps through
with the arrow keys: the graph (dualad's own drawing, :mod:`dualad.layout`) with the current
node and edge highlighted, the step's text, and the trace table with the tangents or adjoints
filled in so far.

Nothing here computes a derivative. The steps are the records of the step recorders
(:class:`~dualad.evaluators.steps.ForwardSteps`, :class:`~dualad.evaluators.steps.ReverseSteps`,
run by :mod:`dualad.partials`): every partial, contribution, running sum and result shown is
one they noted, and the formulas are the same recorders run on sympy symbols. Names and
numbering are those of :func:`~dualad.trace_table` (:class:`~dualad.printing.TraceNames`).

Examples
--------
>>> import dualad as ad
>>> steps = ad.walkthrough(lambda x: ad.sin(x) * x, 0.0)
>>> len(steps), steps[-1].after
(4, 0.0)
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import sympy as sp

from .entry import prepare
from .errors import DualadError
from .graphviz import picture
from .layout import layered_layout, xml_text
from .partials import (direction_tangents, edge_partials, forward_sweep, formula_steps,
                       reverse_sweep)
from .printing import (BAR_ABOVE, DOT_ABOVE, TraceNames, accented, adjoint_name,
                       expression_text, format_value, output_name, tangent_name, value_name)
from .shapes import shape_of

MODES = ("reverse", "forward")
#: Longest formula of f shown in a page's title (longer ones are left out).
FORMULA_LIMIT = 90
#: A drawing the column beside the table would shrink below this share of its size gets the
#: page's whole width instead, the trace table going below it (readable on a projector).
SHRINK_LIMIT = 0.85
#: Smallest share of its size a drawing is shrunk to; a wider one scrolls sideways.
MIN_SCALE = 0.6


class WalkStep(NamedTuple):
    """One step of a sweep, ready to show; ``str(step)`` prints it.

    ``number`` counts from 1 of ``count``; ``node`` is the textbook name of the node updated
    (``target``, a graph position); ``source`` the node whose tangent or adjoint flowed
    (``None`` for a seed, or a structural op's forward term); ``edges`` the graph's edges
    ``(argument position, op position)`` the step uses; ``title``, ``partial`` (``""`` for a
    seed) and ``update`` its three lines of text; ``before``, ``after``, ``contribution``
    and ``partial_value`` the numbers; ``record`` the recorder's
    :class:`~dualad.evaluators.steps.Step` (``None`` for a forward seed, which is given, not
    computed).
    """

    number: int
    count: int
    node: str
    target: int
    source: object
    edges: tuple
    title: str
    partial: str
    update: str
    before: object
    after: object
    contribution: object
    partial_value: object
    record: object

    def __str__(self):
        lines = [f"step {self.number} of {self.count}: {self.title}"]
        if self.partial:
            lines.append(f"  local partial  {self.partial}")
        lines.append(f"  update         {self.update}")
        return "\n".join(lines)


@dataclass
class Walkthrough:
    """The steps of one sweep of one mode, in the order the sweep makes them.

    Made by :func:`walkthrough`. A sequence: ``len()``, indexing and iteration give
    :class:`WalkStep` records; ``str()`` prints them all. :meth:`to_html` and :meth:`save`
    make the page that steps through them.

    Attributes
    ----------
    mode : str
        ``"forward"`` or ``"reverse"``.
    function : str
        ``f(x1, x2)``; ``formula`` is its expression (``log(x1) + x1 * x2 - sin(x2)``), or
        ``""`` when too long to show.
    point, seed : str
        ``x1 = 2, x2 = 5`` and the seed (``ȳ = 1``, or the direction ``ẋ1 = 1, ẋ2 = 0``).
    steps : list of WalkStep
    results : list of str
        What the sweep gives (``x̄1 = v̄₋₁ = 5.5``, or ``ẏ = v̇₅ = 5.5``).
    """

    mode: str
    function: str
    formula: str
    point: str
    seed: str
    steps: list
    results: list
    graph: object = field(repr=False, default=None)
    names: object = field(repr=False, default=None)
    values: list = field(repr=False, default=None)
    initial: dict = field(repr=False, default_factory=dict)
    edge_labels: dict = field(repr=False, default_factory=dict)
    decimals: int = 3

    def __len__(self):
        return len(self.steps)

    def __getitem__(self, k):
        return self.steps[k]

    def __iter__(self):
        return iter(self.steps)

    @property
    def heading(self):
        """One line: which sweep, of what, where, from which seed, how many steps."""
        count = len(self.steps)
        return (f"{self.mode.capitalize()} sweep of {self.function} at {self.point}, "
                f"from {self.seed}: {count} step{'s' if count != 1 else ''}")

    def __repr__(self):
        return f"<Walkthrough: {self.heading}>"

    def __str__(self):
        parts = [self.heading, ""] + [str(step) for step in self.steps]
        return "\n".join(parts + ["", "result: " + ", ".join(self.results)])

    def to_html(self):
        """One self-contained HTML page that steps through the sweep (see :func:`page`).

        Examples
        --------
        >>> import dualad as ad
        >>> html = ad.walkthrough(lambda x: ad.exp(x), 0.0).to_html()
        >>> html.startswith("<!DOCTYPE html>") and "<svg" in html
        True
        """
        return page([self])

    def save(self, path):
        """Write :meth:`to_html` to ``path``; returns the path.

        Examples
        --------
        >>> import dualad as ad, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "sweep.html")
        >>> ad.walkthrough(lambda x: x * x, 3.0).save(path).name
        'sweep.html'
        """
        return save_page(path, [self])


def _check_mode(mode, direction, output):
    if mode not in MODES:
        raise DualadError(f"walkthrough: mode must be 'reverse' or 'forward', got {mode!r}")
    if mode == "reverse" and direction is not None:
        raise DualadError("walkthrough: direction is the seed of a forward sweep; a reverse "
                          "sweep is seeded by its output (output=...)")
    if mode == "forward" and output != 0:
        raise DualadError("walkthrough: output picks the seed of a reverse sweep; a forward "
                          "sweep gives the tangents of every output (its seed is direction=...)")


def walkthrough(f, *args, mode="reverse", direction=None, output=0, decimals=3):
    """The steps of one sweep of ``f`` at ``args``, in order, each with its numbers.

    A step names the node it updates, gives the local partial it uses (its formula in the
    textbook names, and its number) and the update with its numbers. In reverse mode each
    share added to an adjoint is a step of its own, so the fan-out sum is visible: in the
    survey's example x1 feeds ``log`` and ``*``, and its adjoint is 5 + 0.5 = 5.5. In
    forward mode each term of a tangent is a step, after one step per input for the seed.

    Parameters
    ----------
    f : callable, Graph or Var
        As every entry point takes it (a function with its point, a ``Graph``, an output
        ``Var``).
    *args : float or array
        The point.
    mode : {"reverse", "forward"}
    direction : str, int, sequence or dict, optional
        Forward mode's seed, as :func:`trace_table` takes it (by default the first input).
    output : int
        Reverse mode's seed: the output whose adjoint is 1 (1s for an array).
    decimals : int
        Decimal places shown.

    Returns
    -------
    Walkthrough

    Examples
    --------
    The survey's example (Baydin et al. 2018, Table 3):

    >>> import dualad as ad
    >>> def f(x1, x2):
    ...     return ad.log(x1) + x1 * x2 - ad.sin(x2)
    >>> steps = ad.walkthrough(f, 2, 5)
    >>> len(steps)
    9
    >>> print(steps[0])
    step 1 of 9: v₅ (the output y), the seed
      update         v̄₅ = ȳ = 1
    >>> print(steps[-1])
    step 9 of 9: v₋₁ (x1), from v₁ = log(v₋₁)
      local partial  ∂v₁/∂v₋₁ = 1/v₋₁ = 0.5
      update         v̄₋₁ = v̄₋₁ + v̄₁ ∂v₁/∂v₋₁ = v̄₋₁ + v̄₁/v₋₁ = 5 + 1 × 0.5 = 5.5
    >>> steps.results
    ['x̄1 = v̄₋₁ = 5.5', 'x̄2 = v̄₀ = 1.716']
    """
    _check_mode(mode, direction, output)
    graph, point, f_name = prepare(f, args, "walkthrough")
    count = len(graph.outputs)
    if not -count <= output < count:
        raise DualadError(f"walkthrough: output {output} does not exist (f has {count})")
    output %= count
    input_names = graph.input_names
    names = TraceNames(graph, graph.leaf_values(point))
    num = _numbers(decimals)
    if mode == "forward":
        tangents_in = direction_tangents(input_names, point, direction, "walkthrough")
        sweep = forward_sweep(graph, point, tangents_in, order=names.order)
        seed = ", ".join(f"{accented(n, DOT_ABOVE)} = {num(t)}"
                         for n, t in zip(input_names, tangents_in))
    else:
        tangents_in = ()
        sweep = reverse_sweep(graph, point, output, order=names.order)
        seed = f"{accented(output_name(output, count, input_names), BAR_ABOVE)} = 1"
    writer = _StepWriter(graph, names, mode, sweep, decimals)
    drafts = [writer.input_seed(pos, tangent)
              for pos, tangent in zip(graph.input_positions, tangents_in)]
    drafts += [writer.step(record) for record in sweep.steps
               if record.target in names.index]   # not a constant output: nothing flows
    steps = [step._replace(number=k + 1, count=len(drafts)) for k, step in enumerate(drafts)]
    updated = {step.target for step in steps}
    # the formula for a title, unless too long to read there
    formulas = [expression_text(graph, p, limit=FORMULA_LIMIT) for p in graph.output_positions]
    formula = "" if any("(an expression of" in f for f in formulas) else \
        ", ".join(formulas) if count == 1 else f"({', '.join(formulas)})"
    return Walkthrough(
        mode=mode, function=f"{f_name}({', '.join(input_names)})",
        formula=formula,
        point=", ".join(f"{n} = {num(v)}" for n, v in zip(input_names, point)) or "no inputs",
        seed=seed, steps=steps, results=writer.results(), graph=graph, names=names,
        values=sweep.values, initial={p: ("?" if p in updated else "0") for p in names.index},
        edge_labels=edge_partials(graph, sweep.partials, decimals), decimals=decimals)


def _numbers(decimals):
    return lambda x: format_value(x, decimals)


class _StepWriter:
    """The text of each step, from the recorder's records and the textbook names.

    Every number written is a record's (partial, running sum, contribution) or a value; the
    formulas are the forward recorder's records on symbols (:func:`formula_steps`), multiplied
    by the tangent or adjoint symbol as :func:`trace_table` writes them.
    """

    def __init__(self, graph, names, mode, sweep, decimals):
        self.graph, self.names, self.mode, self.sweep = graph, names, mode, sweep
        self.num = _numbers(decimals)
        index = self.index = names.index
        self.derivative_name = tangent_name if mode == "forward" else adjoint_name
        self.dots = [sp.Symbol(tangent_name(index[p])) if p in index else sp.Integer(0)
                     for p in range(len(graph.nodes))]
        self.bars = {p: sp.Symbol(adjoint_name(i)) for p, i in index.items()}
        self.formulas = {(s.instruction.pos, s.argument): s.partial
                         for s in formula_steps(graph, names, self.dots)
                         if s.partial is not None}
        count, inputs = len(graph.outputs), graph.input_names
        self.output_of = {p: output_name(k, count, inputs)
                          for k, p in reversed(list(enumerate(graph.output_positions)))}
        self.input_of = dict(zip(graph.input_positions, inputs))

    def who(self, pos):
        """v₋₁ (x1), v₅ (the output y), v₂"""
        if pos in self.input_of:
            return f"{self.names.name(pos)} ({self.input_of[pos]})"
        if pos in self.output_of:
            return f"{self.names.name(pos)} (the output {self.output_of[pos]})"
        return self.names.name(pos)

    def operation(self, instruction):
        return f"{self.names.name(instruction.pos)} = {self.names.expression(instruction)}"

    def factors(self, a, b):
        """'1 × 0.5' for scalars (a negative second factor in parentheses), else None."""
        if shape_of(a) or shape_of(b):
            return None
        second = self.num(b)
        return f"{self.num(a)} × {'(' + second + ')' if second.startswith('-') else second}"

    def _step(self, target, source, edges, title, partial, update, record, after):
        return WalkStep(0, 0, self.names.name(target), target, source, edges, title, partial,
                        update, None if record is None else record.before, after,
                        after if record is None else record.contribution,
                        None if record is None else record.partial, record)

    def input_seed(self, pos, tangent):
        """Forward mode's seed of one input: given, not computed (no record)."""
        update = (f"{tangent_name(self.index[pos])} = "
                  f"{accented(self.input_of[pos], DOT_ABOVE)} = {self.num(tangent)}")
        return self._step(pos, None, (), f"{self.who(pos)}, the seed", "", update, None,
                          tangent)

    def step(self, record):
        """The text of one record of the sweep."""
        target, instruction = record.target, record.instruction
        name = self.derivative_name(self.index[target])
        if instruction is None:                          # reverse mode's seed
            update = (f"{name} = {accented(self.output_of[target], BAR_ABOVE)} = "
                      f"{self.num(record.after)}")
            return self._step(target, None, (), f"{self.who(target)}, the seed", "", update,
                              record, record.after)
        if self.mode == "forward" and record.argument is None:
            title, source, edges, partial, chain, rule = self._jvp_term(record)
        else:
            title, source, edges, partial, chain, rule = self._share(record)
        numbers = None
        if record.partial is not None and source is not None:
            numbers = self.factors(self.sweep.derivatives[source], record.partial)
        numbers = numbers or self.num(record.contribution)
        after = self.num(record.after)
        if record.before is None:
            update = f"{name} = {chain}" + (f" = {rule}" if rule != chain else "") + \
                (f" = {numbers}" if numbers != after else "") + f" = {after}"
        else:
            added = f"- {rule[1:]}" if rule.startswith("-") else f"+ {rule}"
            update = (f"{name} = {name} + {chain} = {name} {added} = "
                      f"{self.num(record.before)} + {numbers} = {after}")
        return self._step(target, source, edges, title, partial, update, record, record.after)

    def _jvp_term(self, record):
        """A structural op's whole forward term: its rule is a Jacobian-vector product."""
        instruction = record.instruction
        present = [a for a in dict.fromkeys(instruction.args)
                   if self.sweep.derivatives[a] is not None]
        title = f"{self.operation(instruction)}, from {', '.join(map(self.who, present))}"
        rule = (f"jvp[{instruction.prim.name}]"
                f"({', '.join(tangent_name(self.index[a]) for a in present)})")
        return title, None, tuple((a, record.target) for a in present), "", rule, rule

    def _share(self, record):
        """One term of a tangent (forward) or one share of an adjoint (reverse)."""
        instruction, j = record.instruction, record.argument
        prim = instruction.prim
        if self.mode == "forward":
            op, arg = record.target, instruction.args[j]
            source = arg
            title = f"{self.operation(instruction)}, from {self.who(arg)}"
        else:
            op, arg = record.source, record.target
            source = op
            title = f"{self.who(arg)}, from {self.operation(instruction)}"
        v_op, v_arg = value_name(self.index[op]), value_name(self.index[arg])
        flowing = self.derivative_name(self.index[source])
        chain = f"{flowing} ∂{v_op}/∂{v_arg}"
        if record.partial is None:                       # a structural op's share
            partial = (f"∂{v_op}/∂{v_arg} is a Jacobian: the rule of {prim.name} gives its "
                       f"product with {flowing}")
            rule = f"vjp[{prim.name}]({flowing})[{j}]"
            return title, source, ((arg, op),), partial, chain, rule
        formula = self.formulas.get((op, j))
        number = self.num(record.partial)
        if formula is None:        # a rule written for numbers only: no formula to show
            return (title, source, ((arg, op),), f"∂{v_op}/∂{v_arg} = {number}", chain,
                    f"{flowing} × (the rule of {prim.name})")
        shown = str(formula)
        partial = f"∂{v_op}/∂{v_arg} = {shown}" + ("" if shown == number else f" = {number}")
        symbol = self.dots[source] if self.mode == "forward" else self.bars[source]
        return title, source, ((arg, op),), partial, chain, str(symbol * formula)

    def results(self):
        """What the sweep gives: the inputs' adjoints, or the outputs' tangents."""
        graph, values, derivatives = self.graph, self.sweep.values, self.sweep.derivatives

        def final(pos):
            if derivatives[pos] is not None:
                return self.num(derivatives[pos])
            return self.num(np.zeros(shape_of(values[pos])) if shape_of(values[pos]) else 0.0)

        if self.mode == "forward":
            return list(dict.fromkeys(
                f"{accented(self.output_of[p], DOT_ABOVE)} = "
                f"{tangent_name(self.index[p]) if p in self.index else '0'} = {final(p)}"
                for p in graph.output_positions))
        return [f"{accented(n, BAR_ABOVE)} = {adjoint_name(self.index[p])} = {final(p)}"
                for p, n in zip(graph.input_positions, graph.input_names)]


# ---- the page ----

def _script_json(data):
    """JSON that cannot end the ``<script>`` element holding it (``</script>``, ``<!--``)."""
    text = json.dumps(data, ensure_ascii=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _sweep_data(walk, prefix, lines):
    """What the page's script needs to show a walkthrough at any step; ``lines`` gives the
    line of each node's picture that holds its tangent or adjoint."""
    word = "tangent" if walk.mode == "forward" else "adjoint"
    num = _numbers(walk.decimals)
    return {
        "prefix": prefix, "word": word, "count": len(walk.steps),
        "initial": {str(p): text for p, text in walk.initial.items()},
        "lines": {str(p): line for p, line in lines.items()},
        "steps": [{"target": s.target, "source": s.source, "edges": [list(e) for e in s.edges],
                   "after": num(s.after),
                   "title": f"Step {s.number} of {s.count}: {s.title}",
                   "partial": f"local partial: {s.partial}" if s.partial else "",
                   "update": s.update} for s in walk.steps],
        "start": {"title": "Before the sweep: the values are known (the primal trace). "
                           "Press → or space for the first step.",
                  "partial": f"Seed: {walk.seed}", "update": ""},
        "results": "Result: " + "\n".join(walk.results),
    }


def _graph_svg(walk, prefix):
    nodes, edges = picture(walk.graph, values=walk.values, names=walk.names,
                           edge_labels=walk.edge_labels, decimals=walk.decimals)
    word = "tangent" if walk.mode == "forward" else "adjoint"
    num = _numbers(walk.decimals)
    texts = {}
    for step in walk.steps:
        texts.setdefault(step.target, set()).add(f"{word} = {num(step.after)}")
    drawn, lines = [], {}
    for node in nodes:
        if node.key in walk.initial:
            lines[node.key] = len(node.lines)
            node = node._replace(lines=node.lines + (f"{word} = {walk.initial[node.key]}",),
                                 reserve=tuple(sorted(texts.get(node.key, ()))))
        drawn.append(node)
    drawing = layered_layout(drawn, edges)
    svg = drawing.to_svg(id_prefix=prefix, css_class="dualad-graph", title=walk.function)
    # as wide as the column allows, but not more than half again its own size, nor less
    # than MIN_SCALE of it (then the graph scrolls, following the current step)
    style = f"max-width: {drawing.width * 1.5:.0f}px; min-width: {drawing.width * MIN_SCALE:.0f}px"
    return f'<div class="canvas" style="{style}">{svg}</div>', lines


def _table_html(walk, prefix):
    word = "tangent" if walk.mode == "forward" else "adjoint"
    names, graph = walk.names, walk.graph
    rows = [f'<tr><th></th><th></th><th>value</th><th>{word}</th></tr>']
    inputs = dict(zip(graph.input_positions, graph.input_names))
    ordered = list(graph.input_positions) + [i.pos for i in names.order]
    for pos in ordered:
        expression = inputs.get(pos) or names.expression(
            next(i for i in names.order if i.pos == pos))
        rows.append(f'<tr id="{prefix}row-{pos}"><td class="name">{xml_text(names.name(pos))}</td>'
                    f'<td class="expr">= {xml_text(expression)}</td>'
                    f'<td class="num">{xml_text(format_value(walk.values[pos], walk.decimals))}'
                    f'</td><td class="num derivative" id="{prefix}cell-{pos}">'
                    f'{xml_text(walk.initial.get(pos, ""))}</td></tr>')
    return "<table class=\"trace\">" + "".join(rows) + "</table>"


def page(walkthroughs, title=None):
    """One self-contained HTML page stepping through one or more sweeps.

    Everything is inline (CSS, script, SVG): the page needs no network and no other file.
    Keys: → or space (next), ← (back), Home and End (first, last); the same as buttons. Each
    sweep shows its graph, with the current step's node and edge highlighted and the local
    partials on the edges used so far, the step's text (the node, the local partial, the
    update with its numbers), and the trace table with the tangents or adjoints filled in so
    far. With several sweeps (the forward and the reverse one), tabs switch between them.

    Parameters
    ----------
    walkthroughs : list of Walkthrough
    title : str, optional
        The page's title (by default the first sweep's function and point).

    Returns
    -------
    str

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.walkthrough import page
    >>> f = lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2)
    >>> html = page([ad.walkthrough(f, 2, 5, mode="forward"), ad.walkthrough(f, 2, 5)])
    >>> html.count('<section class="sweep"'), "http" in html.replace("http://www.w3.org", "")
    (2, False)
    """
    walkthroughs = list(walkthroughs)
    if not walkthroughs:
        raise DualadError("walkthrough page: no sweep to show")
    first = walkthroughs[0]
    title = title or (f"{first.function}{' = ' + first.formula if first.formula else ''} at "
                      f"{first.point}")
    several = len(walkthroughs) > 1
    tabs = "".join(f'<button type="button" class="tab" data-sweep="{k}">'
                   f'{xml_text(walk.mode.capitalize())} sweep ({xml_text(walk.seed)})</button>'
                   for k, walk in enumerate(walkthroughs)) if several else ""
    sections, data = [], []
    for k, walk in enumerate(walkthroughs):
        prefix = f"s{k}-"
        svg, lines = _graph_svg(walk, prefix)
        data.append(_sweep_data(walk, prefix, lines))
        heading = "" if several else f"<h2>{xml_text(walk.heading)}</h2>"
        sections.append(f"""<section class="sweep" id="{prefix}sweep" data-sweep="{k}">
{heading}<div class="controls">{tabs}<span class="gap"></span>
<button type="button" data-go="first" title="first (Home)">&#x21E4; first</button>
<button type="button" data-go="back" title="back (&#x2190;)">&#x25C0; back</button>
<span class="counter" id="{prefix}counter"></span>
<button type="button" data-go="next" title="next (&#x2192; or space)">next &#x25B6;</button>
<button type="button" data-go="last" title="last (End)">last &#x21E5;</button>
</div>
<div class="panel" aria-live="polite">
<div class="step-title" id="{prefix}title"></div>
<div class="step-partial" id="{prefix}partial"></div>
<div class="step-update" id="{prefix}update"></div>
</div>
<div class="main">
<div class="graph">{svg}
<p class="legend">{_LEGEND[walk.mode]}</p></div>
<div class="side">{_table_html(walk, prefix)}
<p class="results" id="{prefix}results"></p></div>
</div>
</section>""")
    keys = ("Keys: &#x2192; or space: next step &#xB7; &#x2190;: back &#xB7; Home, End: first, "
            "last" + (" &#xB7; 1, 2: switch sweep" if several else ""))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{xml_text(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>{xml_text(title)}</h1><p class="keys">{keys}</p></header>
{"".join(sections)}
<script type="application/json" id="dualad-walkthrough-data">{_script_json(data)}</script>
<script>{_SCRIPT.replace("SHRINK_LIMIT", str(SHRINK_LIMIT))}</script>
</body>
</html>
"""


def save_page(path, walkthroughs, title=None):
    """Write :func:`page` to ``path`` (UTF-8); returns the path as a ``Path``.

    Examples
    --------
    >>> import dualad as ad, tempfile, os
    >>> from dualad.walkthrough import save_page
    >>> path = os.path.join(tempfile.mkdtemp(), "sweeps.html")
    >>> save_page(path, [ad.walkthrough(lambda x: x * x, 3.0)]).stat().st_size > 1000
    True
    """
    path = Path(path)
    path.write_text(page(walkthroughs, title), encoding="utf-8")
    return path


_LEGEND = {
    "reverse": "Orange: the adjoint this step adds to. Dashed blue: the node whose adjoint "
               "flows back along the orange edge. Red numbers on the edges: the local "
               "partials used so far.",
    "forward": "Orange: the tangent this step adds to. Dashed blue: the input whose tangent "
               "flows along the orange edge. Red numbers on the edges: the local partials "
               "used so far.",
}

_CSS = """
body { font-family: "DejaVu Sans", Verdana, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0.4em 1.2em; color: #111; background: #fff; font-size: 18px; }
header { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: 1.5em; }
header h1 { font-size: 1.4em; margin: 0.1em 0; font-weight: normal; }
h2 { font-size: 1.1em; font-weight: normal; margin: 0.3em 0; color: #333; }
.keys, .legend { color: #666; margin: 0.2em 0; font-size: 0.8em; }
.tab { font: inherit; padding: 0.2em 0.8em; border: 2px solid #888; background: #f4f4f4;
       border-radius: 6px; cursor: pointer; }
.tab.active { background: #fff3d6; border-color: #e07b00; }
.sweep[hidden] { display: none; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5em;
             margin: 0.3em 0; }
.controls .gap { flex: 1 1 0; }
.controls button { font: inherit; padding: 0.25em 0.8em; border: 1px solid #888;
                   border-radius: 6px; background: #f7f7f7; cursor: pointer; }
.controls button:disabled { color: #aaa; cursor: default; }
.counter { min-width: 9em; text-align: center; font-weight: bold; }
.panel { border-left: 6px solid #e07b00; background: #fffaf0; padding: 0.35em 0.9em;
         margin: 0.3em 0 0.6em 0; min-height: 4.2em; font-size: 1.1em; }
.step-title { font-weight: bold; }
.step-partial, .step-update { margin-top: 0.2em; }
.main { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.graph { flex: 3 1 560px; min-width: 0; overflow: auto; }
.graph .canvas svg { width: 100%; height: auto; display: block; }
.side { flex: 0 1 auto; }
.main.wide { flex-direction: column; }
.main.wide .graph { flex: 1 1 auto; width: 100%; }
table.trace { border-collapse: collapse; font-size: 1em; }
table.trace td, table.trace th { padding: 0.15em 0.6em; border-bottom: 1px solid #ddd;
                                 text-align: left; white-space: pre; }
table.trace th { color: #555; font-weight: normal; }
table.trace td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.trace tr.current td { background: #ffe3a8; }
table.trace tr.source td { background: #e3eefc; }
td.derivative.filled { font-weight: bold; }
.results { font-weight: bold; font-size: 1.1em; white-space: pre-line; }
.dualad-graph .edge .label { visibility: hidden; }
.dualad-graph .edge.used .label, .dualad-graph .edge.current .label { visibility: visible; }
.dualad-graph .edge.current .stroke { stroke: #e07b00; stroke-width: 4; stroke-dasharray: 10 6;
                                      animation: flow 0.8s linear infinite; }
.dualad-graph.reverse .edge.current .stroke { animation-direction: reverse; }
.dualad-graph .edge.current .label { font-weight: bold; }
.dualad-graph .node.current .shape { stroke: #e07b00; stroke-width: 4; fill: #fff3d6; }
.dualad-graph .node.source .shape { stroke: #2a6cc4; stroke-width: 3; stroke-dasharray: 6 3; }
.dualad-graph .node text.filled { font-weight: bold; }
@keyframes flow { to { stroke-dashoffset: -32; } }
@media (prefers-reduced-motion: reduce) { .dualad-graph .edge.current .stroke { animation: none; } }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dualad-walkthrough-data").textContent);
  var at = data.map(function () { return 0; });
  var visible = 0;
  function byId(id) { return document.getElementById(id); }
  function setClass(el, name, on) { if (el) { el.classList.toggle(name, !!on); } }
  function show(k, step) {
    var sweep = data[k], p = sweep.prefix, n = sweep.count;
    step = Math.max(0, Math.min(n, step));
    at[k] = step;
    var latest = {}, used = {};
    for (var i = 0; i < step; i++) {
      var s = sweep.steps[i];
      latest[s.target] = s.after;
      s.edges.forEach(function (e) { used[e[0] + "-" + e[1]] = true; });
    }
    var section = byId(p + "sweep");
    section.querySelectorAll(".current, .source, .used").forEach(function (el) {
      el.classList.remove("current", "source", "used");
    });
    section.querySelectorAll(".edge .stroke").forEach(function (stroke) {
      stroke.setAttribute("marker-end", "url(#" + p + "arrow)");
    });
    Object.keys(sweep.initial).forEach(function (key) {
      var filled = Object.prototype.hasOwnProperty.call(latest, key);
      var text = filled ? latest[key] : sweep.initial[key];
      var line = byId(p + "node-" + key + "-line-" + sweep.lines[key]);
      if (line) { line.textContent = sweep.word + " = " + text; setClass(line, "filled", filled); }
      var cell = byId(p + "cell-" + key);
      if (cell) { cell.textContent = text; setClass(cell, "filled", filled); }
    });
    Object.keys(used).forEach(function (key) { setClass(byId(p + "edge-" + key), "used", true); });
    var current = step > 0 ? sweep.steps[step - 1] : null;
    var texts = current || sweep.start;
    byId(p + "title").textContent = texts.title;
    byId(p + "partial").textContent = texts.partial;
    byId(p + "update").textContent = texts.update;
    byId(p + "counter").textContent = "step " + step + " of " + n;
    byId(p + "results").textContent = step === n ? sweep.results : "";
    if (current) {
      var node = byId(p + "node-" + current.target);
      setClass(node, "current", true);
      if (node && node.scrollIntoView) {            // a graph wider than the page scrolls
        node.scrollIntoView({block: "nearest", inline: "center"});
      }
      setClass(byId(p + "row-" + current.target), "current", true);
      if (current.source !== null) {
        setClass(byId(p + "node-" + current.source), "source", true);
        setClass(byId(p + "row-" + current.source), "source", true);
      }
      current.edges.forEach(function (e) {
        var edge = byId(p + "edge-" + e[0] + "-" + e[1]);
        setClass(edge, "current", true);
        setClass(edge, "used", false);
        if (edge) {
          edge.querySelector(".stroke").setAttribute("marker-end", "url(#" + p + "arrow-hot)");
        }
      });
    }
    section.querySelector('[data-go="first"]').disabled = step === 0;
    section.querySelector('[data-go="back"]').disabled = step === 0;
    section.querySelector('[data-go="next"]').disabled = step === n;
    section.querySelector('[data-go="last"]').disabled = step === n;
  }
  function go(k, how) {
    var n = data[k].count;
    var target = {first: 0, back: at[k] - 1, next: at[k] + 1, last: n}[how];
    show(k, target);
  }
  function fit() {
    // beside the table if the drawing keeps most of its size there, else above the table
    document.querySelectorAll("section.sweep:not([hidden]) .main").forEach(function (main) {
      var svg = main.querySelector("svg.dualad-graph");
      main.classList.remove("wide");
      var room = main.querySelector(".graph").clientWidth;
      if (svg && room < SHRINK_LIMIT * Number(svg.getAttribute("width"))) {
        main.classList.add("wide");
      }
    });
  }
  function select(k) {
    visible = k;
    document.querySelectorAll("section.sweep").forEach(function (section) {
      section.hidden = Number(section.dataset.sweep) !== k;
    });
    fit();
    document.querySelectorAll("button.tab").forEach(function (tab) {
      setClass(tab, "active", Number(tab.dataset.sweep) === k);
    });
  }
  document.querySelectorAll("section.sweep").forEach(function (section) {
    var k = Number(section.dataset.sweep);
    var svg = section.querySelector("svg.dualad-graph");
    if (svg && data[k].word === "adjoint") { svg.classList.add("reverse"); }
    section.querySelectorAll("[data-go]").forEach(function (button) {
      button.addEventListener("click", function () { go(k, button.dataset.go); });
    });
    show(k, 0);
  });
  document.querySelectorAll("button.tab").forEach(function (tab) {
    tab.addEventListener("click", function () { select(Number(tab.dataset.sweep)); });
  });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var how = {ArrowRight: "next", " ": "next", PageDown: "next", ArrowLeft: "back",
               PageUp: "back", Backspace: "back", Home: "first", End: "last"}[event.key];
    if (how) { event.preventDefault(); go(visible, how); return; }
    var k = Number(event.key) - 1;
    if (k >= 0 && k < data.length) { select(k); }
  });
  window.addEventListener("resize", fit);
  select(0);
}());
"""
