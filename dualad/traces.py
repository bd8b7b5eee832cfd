"""The evaluation traces: primal, forward tangent and reverse adjoint, as textbooks print them.

This module owns :func:`trace_table` and :class:`TraceTable`. The lines are numbered as the
standard survey prints them (Baydin et al., "Automatic differentiation in machine learning: a
survey", JMLR 2018, Tables 2 and 3), by :class:`~dualad.printing.TraceNames`. Every number
comes from the real evaluators; the formulas shown are the registry's own rules run on sympy
symbols.

Examples
--------
>>> import dualad as ad
>>> table = ad.trace_table(lambda x: ad.exp(x) * x, 0.0)
>>> table.values[1], table.tangents[2], table.adjoints[0]
(1.0, 1.0, 1.0)
"""

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import sympy as sp

from .entry import prepare
from .errors import DualadError
from .evaluators.base import local_partials
from .evaluators.forward import ForwardEvaluator
from .evaluators.reverse import ReverseEvaluator
from .printing import (BAR_ABOVE, DOT_ABOVE, TraceNames, accented, adjoint_name, format_value,
                       html_table, output_name, plain_json, tangent_name, text_table,
                       value_name)
from .shapes import shape_of
from .values import as_value


def _point_text(names, values, decimals=3):
    return ", ".join(f"{n} = {format_value(v, decimals)}" for n, v in zip(names, values))


class TraceRow(NamedTuple):
    """One line of a trace: ``index`` (the i of v_i, ``None`` for a result line), ``name``
    (v₁, v̇₁, v̄₁, y, x̄1), ``op`` (the operation; ``input``, ``output``, ``seed`` or
    ``result`` for the other lines), ``expression`` (how the line is computed) and ``value``.

    Examples
    --------
    >>> from dualad.traces import TraceRow
    >>> row = TraceRow(1, "v₁", "log", "log(v₋₁)", 0.693)
    >>> row.value, row[0]
    (0.693, 1)
    """

    index: int
    name: str
    op: str
    expression: str
    value: object

    def to_dict(self):
        return {"index": self.index, "name": self.name, "op": self.op,
                "expression": self.expression, "value": plain_json(self.value)}


class _TextbookOrder:
    """Walk the program in the trace's numbering order (any topological order gives the same
    numbers; this one lists the lines as the survey does)."""

    order = ()

    def walk(self, reverse=False):
        for instruction in (reversed(self.order) if reverse else self.order):
            self.visit(instruction)


class _TracingForward(_TextbookOrder, ForwardEvaluator):
    pass


class _RecordingReverse(_TextbookOrder, ReverseEvaluator):
    """The reverse evaluator, noting every contribution to an adjoint as it is made."""

    def run(self, values, seeds):
        self.log, self.current, self.remaining = [], None, []
        return super().run(values, seeds)

    def visit(self, instruction):
        self.current, self.remaining = instruction, list(range(len(instruction.args)))
        super().visit(instruction)

    def accumulate(self, pos, contribution):
        before = self.adjoints[pos]
        super().accumulate(pos, contribution)
        argument = None
        if self.current is not None:
            argument = next(j for j in self.remaining if self.current.args[j] == pos)
            self.remaining.remove(argument)
        self.log.append((self.current, argument, pos, before, self.adjoints[pos]))


def _constant_symbol(name, value):
    if shape_of(value) == () and float(value).is_integer():
        return sp.Integer(int(value))
    return sp.Symbol(name)


def _rule_text(make):
    """Text of a formula built from the registry's rules on sympy symbols. A user's seed-style
    rule may be written for numpy only; its line then names the rule instead."""
    try:
        return str(make())
    except Exception:  # noqa: BLE001 - display only: any failure means "cannot show it"
        return None


@dataclass
class TraceTable:
    """The evaluation traces of a function at a point, as textbooks print them.

    Made by :func:`trace_table`. ``primal``, ``tangent`` and ``adjoint`` are lists of
    :class:`TraceRow` (index them, or read ``row.value``); the adjoint trace is in reverse
    order, one line per contribution to an adjoint, as the survey's Table 3. ``values``,
    ``tangents`` and ``adjoints`` map the textbook index i of v_i to its number (the final
    adjoint). ``str()`` prints the three traces; Jupyter shows them as HTML tables.

    Examples
    --------
    >>> import dualad as ad
    >>> table = ad.trace_table(lambda x: ad.exp(x) * x, 0.0)
    >>> table.values[1], table.tangents[2], table.adjoints[0]
    (1.0, 1.0, 1.0)
    """

    function: str
    point: dict
    direction: dict
    seed: str
    primal: list
    tangent: list
    adjoint: list
    values: dict
    tangents: dict
    adjoints: dict
    constants: dict = field(default_factory=dict)
    decimals: int = 3

    def sections(self):
        """(title, rows) of the three traces."""
        direction = ", ".join(f"{accented(n, DOT_ABOVE)} = {format_value(v, self.decimals)}"
                              for n, v in self.direction.items())
        return [("Forward primal trace", self.primal),
                (f"Forward tangent trace ({direction})", self.tangent),
                (f"Reverse adjoint trace ({self.seed}), in reverse order", self.adjoint)]

    def __str__(self):
        lines = [f"Evaluation traces of {self.function} at "
                 f"{', '.join(f'{n} = {format_value(v, self.decimals)}' for n, v in self.point.items())}"]
        for title, rows in self.sections():
            lines += ["", title]
            table = [[r.name, "=", r.expression, "=", format_value(r.value, self.decimals)]
                     for r in rows]
            lines.append(text_table(table, gap=" "))
            if title.startswith("Forward primal") and self.constants:
                lines += [f"where {name} = {format_value(value, self.decimals)}"
                          for name, value in self.constants.items()]
        return "\n".join(lines)

    def _repr_html_(self):
        parts = []
        for title, rows in self.sections():
            parts.append(html_table(["", "", "value"],
                                    [[r.name, r.expression, format_value(r.value, self.decimals)]
                                     for r in rows], caption=title))
        return "\n".join(parts)

    def to_dict(self):
        """The traces as plain lists and numbers (for JSON)."""
        return {"function": self.function,
                "point": {n: plain_json(v) for n, v in self.point.items()},
                "direction": {n: plain_json(v) for n, v in self.direction.items()},
                "primal": [r.to_dict() for r in self.primal],
                "tangent": [r.to_dict() for r in self.tangent],
                "adjoint": [r.to_dict() for r in self.adjoint]}


def _direction(graph, point, direction, names):
    """One tangent per input from ``direction``: an input's name or position (that input
    gets 1s, the others 0s), or one tangent per input (a sequence, or a dict by name)."""
    zeros = [np.zeros(shape_of(v)) if shape_of(v) else 0.0 for v in point]
    ones = [np.ones(shape_of(v)) if shape_of(v) else 1.0 for v in point]
    if direction is None:
        direction = 0
    if isinstance(direction, str):
        if direction not in names:
            raise DualadError(f"trace_table: no input named {direction!r} "
                              f"(inputs: {', '.join(names)})")
        direction = names.index(direction)
    if isinstance(direction, (int, np.integer)):
        if not -len(names) <= direction < len(names):
            raise DualadError(f"trace_table: direction {direction} is not an input position "
                              f"(there are {len(names)} inputs)")
        tangents = list(zeros)
        tangents[direction] = ones[direction]
        return tangents
    if isinstance(direction, dict):
        unknown = sorted(set(direction) - set(names))
        if unknown:
            raise DualadError(f"trace_table: no input named {unknown[0]!r} "
                              f"(inputs: {', '.join(names)})")
        return [as_value(direction[n]) if n in direction else z for n, z in zip(names, zeros)]
    tangents = [as_value(t) for t in direction]
    if len(tangents) != len(names):
        raise DualadError(f"trace_table: {len(tangents)} direction value(s) for "
                          f"{len(names)} inputs ({', '.join(names)})")
    return tangents


def trace_table(f, *args, direction=None, output=0, decimals=3):
    """The evaluation traces of ``f`` at ``args``: primal, forward tangent and reverse adjoint.

    Lines are numbered as the standard survey prints them (Baydin et al., "Automatic
    differentiation in machine learning: a survey", JMLR 2018, Tables 2 and 3): inputs
    v_{1-n} ... v_0, then each operation v_1, v_2, ... The tangent trace follows one input
    direction; the adjoint trace lists, in reverse order, every contribution
    v̄_j = v̄_j + v̄_i dv_i/dv_j as the reverse sweep makes it. Numbers come from the real
    evaluators; the formulas are the registry's rules run on sympy symbols.

    Parameters
    ----------
    f : callable or Graph
    *args : float or array
        The point (a Graph may be given without it, at its inputs' current values).
    direction : str, int, sequence or dict, optional
        The input direction of the tangent trace: an input's name or position (1 for it, 0
        for the others; the default is the first input), or one tangent per input.
    output : int
        Which output the adjoint trace differentiates (seeded with 1s).
    decimals : int
        Decimal places shown when printing.

    Returns
    -------
    TraceTable

    Examples
    --------
    >>> import dualad as ad
    >>> table = ad.trace_table(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2, 5)
    >>> print(table)
    Evaluation traces of f(x1, x2) at x1 = 2, x2 = 5
    <BLANKLINE>
    Forward primal trace
    v₋₁ = x1       = 2
    v₀  = x2       = 5
    v₁  = log(v₋₁) = 0.693
    v₂  = v₋₁ * v₀ = 10
    v₃  = sin(v₀)  = -0.959
    v₄  = v₁ + v₂  = 10.693
    v₅  = v₄ - v₃  = 11.652
    y   = v₅       = 11.652
    <BLANKLINE>
    Forward tangent trace (ẋ1 = 1, ẋ2 = 0)
    v̇₋₁ = ẋ1              = 1
    v̇₀  = ẋ2              = 0
    v̇₁  = v̇₋₁/v₋₁         = 0.5
    v̇₂  = v̇₋₁*v₀ + v̇₀*v₋₁ = 5
    v̇₃  = v̇₀*cos(v₀)      = 0
    v̇₄  = v̇₁ + v̇₂         = 5.5
    v̇₅  = v̇₄ - v̇₃         = 5.5
    ẏ   = v̇₅              = 5.5
    <BLANKLINE>
    Reverse adjoint trace (ȳ = 1), in reverse order
    v̄₅  = ȳ                                = 1
    v̄₄  = v̄₅ ∂v₅/∂v₄ = v̄₅                  = 1
    v̄₃  = v̄₅ ∂v₅/∂v₃ = -v̄₅                 = -1
    v̄₁  = v̄₄ ∂v₄/∂v₁ = v̄₄                  = 1
    v̄₂  = v̄₄ ∂v₄/∂v₂ = v̄₄                  = 1
    v̄₀  = v̄₃ ∂v₃/∂v₀ = v̄₃*cos(v₀)          = -0.284
    v̄₋₁ = v̄₂ ∂v₂/∂v₋₁ = v̄₂*v₀              = 5
    v̄₀  = v̄₀ + v̄₂ ∂v₂/∂v₀ = v̄₀ + v̄₂*v₋₁    = 1.716
    v̄₋₁ = v̄₋₁ + v̄₁ ∂v₁/∂v₋₁ = v̄₋₁ + v̄₁/v₋₁ = 5.5
    x̄1  = v̄₋₁                              = 5.5
    x̄2  = v̄₀                               = 1.716
    >>> table.adjoints[-1], round(table.adjoints[0], 3)
    (5.5, 1.716)
    """
    graph, point, f_name = prepare(f, args, "trace_table")
    names = graph.input_names
    tangents_in = _direction(graph, point, direction, names)
    count = len(graph.outputs)
    if not -count <= output < count:
        raise DualadError(f"trace_table: output {output} does not exist (f has {count})")
    output %= count

    book = TraceNames(graph, graph.leaf_values(point))     # names constants by their values
    index, name = book.index, book.name
    forward = _TracingForward(graph)
    forward.order = book.order
    values, tangents = forward.run(point, tangents_in)

    # sympy symbols standing for every value, tangent and adjoint, named as in the book
    value_symbol = {p: (sp.Symbol(name(p)) if p in index else _constant_symbol(name(p), v))
                    for p, v in enumerate(values)}
    tangent_symbol = {p: sp.Symbol(tangent_name(i)) for p, i in index.items()}
    adjoint_symbol = {p: sp.Symbol(adjoint_name(i)) for p, i in index.items()}

    inputs = list(zip(graph.input_positions, names))
    outputs = [(p, output_name(k, count, names)) for k, p in enumerate(graph.output_positions)]

    primal = [TraceRow(index[p], name(p), "input", n, values[p]) for p, n in inputs]
    primal += [TraceRow(index[i.pos], name(i.pos), i.prim.name, book.expression(i),
                        values[i.pos]) for i in book.order]
    primal += [TraceRow(index.get(p), y, "output", name(p), values[p]) for p, y in outputs]

    def tangent_text(instruction):
        prim, args = instruction.prim, instruction.args
        present = [j for j, a in enumerate(args) if tangents[a] is not None]
        if not present:
            return "0"
        if not prim.elementwise:
            return f"jvp[{prim.name}]({', '.join(tangent_name(index[args[j]]) for j in present)})"
        # one term per argument, in argument order, as the survey writes them
        text = _rule_text(lambda: " + ".join(
            str(pd * tangent_symbol[args[j]]) for j, pd in enumerate(local_partials(
                prim, [value_symbol[a] for a in args], value_symbol[instruction.pos], present))
            if j in present).replace("+ -", "- "))
        return text or f"(the rule of {prim.name})"

    tangent = [TraceRow(index[p], tangent_name(index[p]), "input", accented(n, DOT_ABOVE),
                        tangents[p]) for p, n in inputs]
    tangent += [TraceRow(index[i.pos], tangent_name(index[i.pos]), i.prim.name,
                         tangent_text(i), _zero_if_none(tangents[i.pos], values[i.pos]))
                for i in book.order]
    tangent += [TraceRow(index.get(p), accented(y, DOT_ABOVE), "output",
                         tangent_name(index[p]) if p in index else "0",
                         _zero_if_none(tangents[p], values[p])) for p, y in outputs]

    out_pos, out_name = outputs[output]
    seeds = [None] * count
    seeds[output] = np.ones(shape_of(values[out_pos])) if shape_of(values[out_pos]) else 1.0
    reverse = _RecordingReverse(graph)
    reverse.order = book.order
    adjoints = reverse.run(values, seeds)
    seed_name = accented(out_name, BAR_ABOVE)

    def adjoint_text(source, argument, target, before):
        prim, args = source.prim, source.args
        chain = (f"{adjoint_name(index[source.pos])} "
                 f"∂{value_name(index[source.pos])}/∂{value_name(index[target])}")
        if prim.elementwise:
            rule = _rule_text(lambda: adjoint_symbol[source.pos] * local_partials(
                prim, [value_symbol[a] for a in args], value_symbol[source.pos],
                [argument])[argument])
            rule = rule or f"(the rule of {prim.name})"
        else:
            rule = f"vjp[{prim.name}]({adjoint_name(index[source.pos])})[{argument}]"
        if before is not None:
            return f"{adjoint_name(index[target])} + {chain} = {adjoint_name(index[target])} + {rule}"
        return f"{chain} = {rule}"

    adjoint = []
    for source, argument, target, before, after in reverse.log:
        if target not in index:
            continue    # an output that is a constant: nothing to differentiate
        if source is None:
            adjoint.append(TraceRow(index[target], adjoint_name(index[target]), "seed",
                                    seed_name, after))
        else:
            adjoint.append(TraceRow(index[target], adjoint_name(index[target]),
                                    source.prim.name,
                                    adjoint_text(source, argument, target, before), after))
    adjoint += [TraceRow(None, accented(n, BAR_ABOVE), "result", adjoint_name(index[p]),
                         _zero_if_none(adjoints[p], values[p])) for p, n in inputs]

    return TraceTable(
        function=f"{f_name}({', '.join(names)})",
        point=dict(zip(names, point)),
        direction=dict(zip(names, tangents_in)),
        seed=f"{seed_name} = 1",
        primal=primal, tangent=tangent, adjoint=adjoint,
        values={index[p]: values[p] for p in index},
        tangents={index[p]: _zero_if_none(tangents[p], values[p]) for p in index},
        adjoints={index[p]: adjoints[p] for p in index if adjoints[p] is not None},
        constants=book.constants, decimals=decimals)


def _zero_if_none(derivative, value):
    if derivative is not None:
        return derivative
    return np.zeros(shape_of(value)) if shape_of(value) else 0.0
