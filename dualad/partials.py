"""What the step recorders say about a graph, ready to be shown: the sweeps at a point, and
the formulas of the local partials.

This module owns running :class:`~dualad.evaluators.steps.ForwardSteps` and
:class:`~dualad.evaluators.steps.ReverseSteps` for the pictures (:mod:`dualad.graphviz`) and the
walkthrough (:mod:`dualad.walkthrough`): on numbers at a point, and on sympy symbols named as
the textbook names the nodes (v₋₁, v₀, v₁, ... of :class:`~dualad.printing.TraceNames`), which
gives the formulas the registry's rules compute. It computes no derivative of its own: every
partial, tangent and adjoint it hands on is one the recorders noted.

Examples
--------
>>> import dualad as ad
>>> from dualad.partials import edge_partials, forward_sweep, partial_formulas
>>> from dualad.printing import TraceNames
>>> graph = ad.trace(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0)
>>> formulas = partial_formulas(graph, TraceNames(graph))
>>> sorted(str(f) for f in formulas.values())
['-1', '1', '1', '1', '1/v₋₁', 'cos(v₀)', 'v₀', 'v₋₁']
>>> sweep = forward_sweep(graph, [2.0, 5.0], [1.0, 0.0])
>>> labels = edge_partials(graph, sweep.partials)   # (argument, op) -> the partial
>>> labels[(0, 1)], labels[(0, 3)], labels[(2, 5)]   # d log(x1)/dx1, d(x1 x2)/dx1, cos(x2)
('0.5', '5', '0.284')
"""

from typing import NamedTuple

import numpy as np
import sympy as sp

from .errors import DualadError
from .evaluators.steps import ForwardSteps, ReverseSteps
from .evaluators.value import ValueEvaluator
from .printing import format_value
from .shapes import shape_of
from .values import as_value


def direction_tangents(names, point, direction, what):
    """One tangent per input from ``direction``, as :func:`~dualad.trace_table` takes it.

    ``direction`` is an input's name or position (that input gets 1s, the others 0s; ``None``
    means the first input), or one tangent per input (a sequence, or a dict by name, the
    inputs not named getting 0s). Errors name ``what``.

    Examples
    --------
    >>> from dualad.partials import direction_tangents
    >>> direction_tangents(["x1", "x2"], [2.0, 5.0], "x2", "walkthrough")
    [0.0, 1.0]
    >>> direction_tangents(["x1", "x2"], [2.0, 5.0], "y", "walkthrough")
    Traceback (most recent call last):
      ...
    dualad.errors.DualadError: walkthrough: no input named 'y' (inputs: x1, x2)
    """
    zeros = [np.zeros(shape_of(v)) if shape_of(v) else 0.0 for v in point]
    if direction is None:
        direction = 0
    if isinstance(direction, str):
        if direction not in names:
            raise DualadError(f"{what}: no input named {direction!r} "
                              f"(inputs: {', '.join(names) or 'none'})")
        direction = names.index(direction)
    if isinstance(direction, (int, np.integer)) and not isinstance(direction, bool):
        if not -len(names) <= direction < len(names):
            raise DualadError(f"{what}: direction {direction} is not an input position "
                              f"(there are {len(names)} inputs)")
        tangents = list(zeros)
        shape = shape_of(point[direction])
        tangents[direction] = np.ones(shape) if shape else 1.0
        return tangents
    if isinstance(direction, dict):
        unknown = sorted(set(direction) - set(names))
        if unknown:
            raise DualadError(f"{what}: no input named {unknown[0]!r} "
                              f"(inputs: {', '.join(names)})")
        return [as_value(direction[n], f"{what}: the direction of {n}") if n in direction
                else z for n, z in zip(names, zeros)]
    if isinstance(direction, (str, bytes, bool)) or not hasattr(direction, "__iter__"):
        raise DualadError(f"{what}: direction must be an input's name or position, or one "
                          f"tangent per input; got {direction!r}")
    tangents = [as_value(t, f"{what}: direction {k}") for k, t in enumerate(direction)]
    if len(tangents) != len(names):
        raise DualadError(f"{what}: {len(tangents)} direction value(s) for "
                          f"{len(names)} inputs ({', '.join(names)})")
    for name, tangent, value in zip(names, tangents, point):
        if shape_of(tangent) != shape_of(value):
            raise DualadError(f"{what}: the direction of {name} has shape {shape_of(tangent)}"
                              f" but {name} has shape {shape_of(value)}")
    return tangents


class Sweep(NamedTuple):
    """One recorded sweep: every node's ``values`` and ``derivatives`` (tangents or adjoints,
    ``None`` where none flowed), the recorder's ``steps`` in order, and ``partials``, the
    local partial of each ``(op position, argument)`` as the sweep used it."""

    values: list
    derivatives: list
    steps: list
    partials: dict


def _partials(steps):
    return {(s.instruction.pos, s.argument): s.partial for s in steps
            if s.instruction is not None and s.argument is not None and s.partial is not None}


def forward_sweep(graph, point, tangents, order=None):
    """Run :class:`ForwardSteps` at ``point`` along ``tangents`` (one per input), visiting
    the program in ``order`` (by default the graph's own).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.partials import forward_sweep
    >>> sweep = forward_sweep(ad.trace(lambda x: ad.sin(x), 0.0), [0.0], [1.0])
    >>> sweep.derivatives, sweep.partials
    ([1.0, 1.0], {(1, 0): 1.0})
    """
    recorder = ForwardSteps(graph)
    recorder.order = order
    values, derivatives = recorder.run(point, tangents)
    return Sweep(values, derivatives, recorder.steps, _partials(recorder.steps))


def reverse_sweep(graph, point, output=0, order=None):
    """Values, then :class:`ReverseSteps` seeded with 1s on output ``output``, visiting the
    program in reverse ``order`` (by default the graph's own).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.partials import reverse_sweep
    >>> sweep = reverse_sweep(ad.trace(lambda x: x * x, 3.0), [3.0])
    >>> sweep.derivatives[0], [s.contribution for s in sweep.steps]
    (6.0, [1.0, 3.0, 3.0])
    """
    values = ValueEvaluator(graph).run(point)
    seeds = [None] * len(graph.outputs)
    shape = shape_of(values[graph.output_positions[output]])
    seeds[output] = np.ones(shape) if shape else 1.0
    recorder = ReverseSteps(graph)
    recorder.order = order
    derivatives = recorder.run(values, seeds)
    return Sweep(values, derivatives, recorder.steps, _partials(recorder.steps))


def value_symbols(graph, names):
    """A sympy symbol per node, named as the textbook names it (v₋₁, v₀, ...); a whole-number
    scalar constant is that number, other constants a symbol named as they are shown.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.partials import value_symbols
    >>> from dualad.printing import TraceNames
    >>> graph = ad.trace(lambda x: 2 * x + 0.5, 1.0)
    >>> value_symbols(graph, TraceNames(graph))
    [2, v₀, v₁, 0.5, v₂]
    """
    symbols = []
    for pos, node in enumerate(graph.nodes):
        value = node.value
        if pos not in names.index and shape_of(value) == () and value is not None \
                and float(np.real(value)).is_integer() and not np.iscomplexobj(value):
            symbols.append(sp.Integer(int(np.real(value))))
        else:
            symbols.append(sp.Symbol(names.name(pos)))
    return symbols


class _FormulaSteps(ForwardSteps):
    """``ForwardSteps`` on symbols. Each node's tangent is replaced by its own symbol once
    computed, so each term reads as the textbook writes it (``v̇₋₁*v₀``); a rule that does not
    run on sympy values (a seed-style op written for numpy only) leaves no record."""

    def visit(self, instruction):
        done, pos = len(self.steps), instruction.pos
        try:
            super().visit(instruction)
        except Exception:  # noqa: BLE001 - display only: no formula for this op
            del self.steps[done:]
            if any(self.tangents[a] is not None for a in instruction.args):
                self.tangents[pos] = self.symbols[pos]
            return
        if self.tangents[pos] is not None:
            self.tangents[pos] = self.symbols[pos]


def formula_steps(graph, names, tangent_symbols):
    """The records of a forward sweep on symbols: each elementwise step's ``partial`` is the
    rule's formula in the textbook names, its ``contribution`` the term ``partial * v̇_j``.

    ``tangent_symbols`` has one symbol per node (the inputs' are the seeds).

    Examples
    --------
    >>> import dualad as ad, sympy as sp
    >>> from dualad.partials import formula_steps
    >>> from dualad.printing import TraceNames
    >>> graph = ad.trace(lambda x: ad.exp(x) * x, 0.0)
    >>> dots = [sp.Symbol(f"d{p}") for p in range(len(graph))]
    >>> [(s.partial, s.contribution) for s in formula_steps(graph, TraceNames(graph), dots)]
    [(v₁, d0*v₁), (v₀, d1*v₀), (v₁, d0*v₁)]
    """
    recorder = _FormulaSteps(graph)
    recorder.symbols = list(tangent_symbols)
    values = value_symbols(graph, names)
    inputs = [recorder.symbols[p] for p in graph.input_positions]
    recorder.run(None, inputs, values=values)
    return [s for s in recorder.steps if s.instruction is not None
            and s.instruction.prim.elementwise]


def partial_formulas(graph, names):
    """The formula of each local partial, ``(op position, argument) -> sympy expression``,
    over the textbook names; structural ops (whose rule is a whole Jacobian product) and rules
    that do not run on sympy values have none.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.partials import partial_formulas
    >>> from dualad.printing import TraceNames
    >>> graph = ad.trace(lambda x, y: x / y, 1.0, 2.0)
    >>> partial_formulas(graph, TraceNames(graph))
    {(2, 0): 1/v₀, (2, 1): -v₋₁/v₀**2}
    """
    dots = [sp.Symbol(f"d{pos}") for pos in range(len(graph.nodes))]
    return _partials(formula_steps(graph, names, dots))


def edge_partials(graph, partials, decimals=3):
    """Edge labels ``(argument position, op position) -> text`` from the partials of each
    ``(op position, argument)``: numbers or formulas. An argument used twice (``x * x``) is one
    edge; its label is the sum of its partials, written out (``3 + 3``).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.partials import edge_partials
    >>> graph = ad.trace(lambda x: x * x, 3.0)
    >>> edge_partials(graph, {(1, 0): 3.0, (1, 1): 3.0})
    {(0, 1): '3 + 3'}
    """
    labels = {}
    for pos, _, args, _ in graph.program:
        for j, a in enumerate(args):
            partial = partials.get((pos, j))
            if partial is None:
                continue
            text = partial if isinstance(partial, str) else (
                str(partial) if isinstance(partial, sp.Basic) else format_value(partial,
                                                                                 decimals))
            if (a, pos) in labels:
                text = labels[(a, pos)] + " + " + (f"({text})" if text.startswith("-") else text)
            labels[(a, pos)] = text
    return labels
