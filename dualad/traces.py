"""The evaluation traces: primal, forward tangent and reverse adjoint, as textbooks print them.

This module owns :func:`trace_table` and :class:`TraceTable`: the traces as rows of data, as
text, as HTML, and ready for slides (:meth:`TraceTable.to_latex`,
:meth:`TraceTable.to_markdown`). The lines are numbered and laid out as the standard survey
prints them (Baydin et al., "Automatic differentiation in machine learning: a survey", JMLR
2018, Tables 2 and 3), by :class:`~dualad.printing.TraceNames`.

Nothing here applies the chain rule. The step recorders
(:class:`~dualad.evaluators.steps.ForwardSteps`, :class:`~dualad.evaluators.steps.ReverseSteps`)
run the one assembly of each mode twice: on the values, which gives every number, and on
sympy symbols named v₁, v̇₁, v̄₁, ..., which gives every formula (each term as the sweep
computed it, from the registry's local partial). Formulas and numbers are printed in the
survey's notation by :mod:`dualad.printing`.

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
from .evaluators.steps import ForwardSteps, ReverseSteps
from .partials import direction_tangents
from .printing import (BAR_ABOVE, DOT_ABOVE, TraceNames, accented, adjoint_name, format_number,
                       format_value, formula_latex, formula_text, html_table, latex_name,
                       latex_number, output_name, plain_json, tangent_name,
                       text_table, trace_latex_name, value_name)
from .shapes import shape_of

#: What a trace line shows besides its value (the ``show`` option of the writers).
SHOW = ("formulas", "numbers", "both")
#: Which traces the slide writers give (their ``mode`` option).
MODES = ("forward", "reverse", "both")


class TraceRow(NamedTuple):
    """One line of a trace.

    ``index`` is the i of v_i (``None`` for a result line); ``name`` the quantity the line
    sets (v₁, v̇₁, v̄₁, y, x̄1); ``op`` the operation (``input``, ``output``, ``seed`` or
    ``result`` for the other lines); ``expression`` how the line is computed, in symbols;
    ``value`` its number; ``numbers`` the expression with the numbers put in (``""`` where
    there is none: array values, a rule that does not run on symbols); ``line`` what the
    LaTeX and Markdown writers need.

    Examples
    --------
    >>> from dualad.traces import TraceRow
    >>> row = TraceRow(1, "v₁", "log", "ln(v₋₁)", 0.693, "ln(2)")
    >>> row.value, row.numbers, row[0]
    (0.693, 'ln(2)', 1)
    """

    index: int
    name: str
    op: str
    expression: str
    value: object
    numbers: str = ""
    line: object = None

    def to_dict(self):
        return {"index": self.index, "name": self.name, "op": self.op,
                "expression": self.expression, "numbers": self.numbers,
                "value": plain_json(self.value)}


class _Line(NamedTuple):
    """How a line is written: its name in LaTeX; for a reverse line, the chain rule's product
    (``v̄₅ ∂v₅/∂v₄``) as (text, LaTeX); the formula, a sympy expression over the book's
    symbols, or (text, LaTeX) where no rule runs on symbols; and the number each symbol
    stands for on this line (``None``: no numbers to show)."""

    latex_name: str
    formula: object
    values: dict = None
    chain: tuple = None


class _Notation(NamedTuple):
    """The LaTeX of every symbol of a table."""

    latex: dict

    def text(self, formula):
        """A formula (a sympy expression, or (text, LaTeX)) as text."""
        return formula[0] if isinstance(formula, tuple) else formula_text(formula)

    def tex(self, formula):
        """A formula (a sympy expression, or (text, LaTeX)) as LaTeX."""
        return formula[1] if isinstance(formula, tuple) else formula_latex(formula, self.latex)

    def numbers(self, line, decimals, latex=False):
        """The line's formula with its numbers put in, or ``None``."""
        formula = line.formula
        if line.values is None or not isinstance(formula, sp.Basic) or formula.is_Atom:
            return None       # nothing to put numbers in, or only the value itself
        names = {}
        for symbol in formula.free_symbols:
            value = line.values.get(symbol)
            if value is None or shape_of(value) != ():
                return None
            text = format_number(value, decimals)
            if latex:
                text = latex_number(text)
                names[symbol] = rf"\left({text}\right)" if text.startswith("-") else text
            else:
                names[symbol] = f"({text})" if text.startswith("-") else text
        if latex:
            return formula_latex(formula, {**self.latex, **names})
        return formula_text(formula, names)


def _check_options(show, decimals, mode=None):
    if show not in SHOW:
        raise DualadError(f"trace_table: show must be one of {', '.join(map(repr, SHOW))}, "
                          f"got {show!r}")
    if mode is not None and mode not in MODES:
        raise DualadError(f"trace_table: mode must be one of {', '.join(map(repr, MODES))}, "
                          f"got {mode!r}")
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)) or decimals < 0:
        raise DualadError(f"trace_table: decimals must be a whole number 0 or more, "
                          f"got {decimals!r}")


@dataclass
class TraceTable:
    """The evaluation traces of a function at a point, as textbooks print them.

    Made by :func:`trace_table`. ``primal``, ``tangent`` and ``adjoint`` are lists of
    :class:`TraceRow` (index them, or read ``row.value``); the adjoint trace is in the order
    the reverse sweep computes it, from the output's adjoint down to the inputs', one line per
    contribution to an adjoint, as the survey's Table 3. ``values``, ``tangents`` and
    ``adjoints`` map the textbook index i of v_i to its number (the final adjoint).

    The writers share two options. ``show`` is what each line shows besides its value:
    ``"formulas"`` (v̇₂ = v̇₋₁ × v₀ + v̇₀ × v₋₁), ``"numbers"`` (the same with the numbers put
    in: 1 × 5 + 0 × 2) or ``"both"``; ``decimals`` is the decimal places of every number
    (default: the table's). ``str()`` is :meth:`to_text` with formulas;
    :meth:`to_latex`, :meth:`to_markdown` and Jupyter (HTML, or LaTeX where a notebook is
    converted to PDF) show both, as the survey does.

    Examples
    --------
    >>> import dualad as ad
    >>> table = ad.trace_table(lambda x: ad.exp(x) * x, 0.0)
    >>> table.values[1], table.tangents[2], table.adjoints[0]
    (1.0, 1.0, 1.0)
    >>> print(table.to_text(show="both").splitlines()[11])
    v̇₂ = v̇₁ × v₀ + v̇₀ × v₁ = 1 × 0 + 1 × 1 = 1
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
    notation: _Notation = field(default=None, repr=False)
    latex_titles: dict = field(default_factory=dict, repr=False)

    def sections(self, decimals=None):
        """(title, rows) of the three traces."""
        decimals = self.decimals if decimals is None else decimals
        direction = ", ".join(f"{accented(n, DOT_ABOVE)} = {format_value(v, decimals)}"
                              for n, v in self.direction.items())
        return [("Forward primal trace", self.primal),
                (f"Forward tangent trace ({direction})", self.tangent),
                (f"Reverse adjoint trace ({self.seed}), in the order computed", self.adjoint)]

    def _title(self, decimals=None):
        decimals = self.decimals if decimals is None else decimals
        point = ", ".join(f"{n} = {format_value(v, decimals)}" for n, v in self.point.items())
        return f"Evaluation traces of {self.function} at {point}"

    # ---- the parts of a line ----

    def _parts(self, row, show, decimals, latex=False):
        """The right-hand sides of ``row``: [chain, formula, numbers, value], ``None`` where a
        part is not shown (or would only repeat the next one)."""
        notation, line = self.notation, row.line
        write = notation.tex if latex else notation.text
        value = format_value(row.value, decimals)
        value = latex_number(value) if latex and shape_of(row.value) == () else value
        numbers = notation.numbers(line, decimals, latex) if show != "formulas" else None
        formula = write(line.formula) if show != "numbers" or numbers is None else None
        chain = None
        if line.chain and formula is not None:
            chain = line.chain[1] if latex else line.chain[0]
        if numbers is not None and numbers in (value, formula):
            numbers = None
        if show == "numbers" and numbers is None:     # nothing to put in: the formula
            chain, formula, numbers = None, None, formula
        if formula == value and chain is None:
            formula = None
        if numbers == value:
            numbers = None
        return [chain, formula, numbers, value]

    # ---- text ----

    def to_text(self, show="formulas", decimals=None):
        """The three traces as aligned text (what ``str()`` prints, with formulas).

        Parameters
        ----------
        show : {"formulas", "numbers", "both"}
            What each line shows besides its value.
        decimals : int, optional
            Decimal places of the numbers (default: the table's).

        Examples
        --------
        >>> import dualad as ad
        >>> table = ad.trace_table(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2, 5)
        >>> print(table.to_text(show="numbers").splitlines()[16])
        v̇₂  = 1 × 5 + 0 × 2 = 5
        """
        decimals = self.decimals if decimals is None else decimals
        _check_options(show, decimals)
        lines = [self._title(decimals)]
        for title, rows in self.sections(decimals):
            lines += ["", title]
            cells = []
            for row in rows:
                chain, formula, numbers, value = self._parts(row, show, decimals)
                formula = " = ".join(p for p in (chain, formula) if p is not None)
                cells.append([row.name, "=" if formula else "", formula,
                              "=" if numbers else "", numbers or "", "=", value])
            used = [c for c in range(7) if any(r[c] for r in cells)]
            lines.append(text_table([[r[c] for c in used] for r in cells], gap=" "))
            if title.startswith("Forward primal") and self.constants:
                lines += [f"where {name} = {format_value(value, decimals)}"
                          for name, value in self.constants.items()]
        return "\n".join(lines)

    def __str__(self):
        return self.to_text()

    def _repr_html_(self):
        parts = []
        for title, rows in self.sections():
            body = []
            for row in rows:
                chain, formula, numbers, value = self._parts(row, "both", self.decimals)
                body.append([row.name, " = ".join(p for p in (chain, formula) if p),
                             numbers or "", value])
            parts.append(html_table(["", "", "", "value"], body, caption=title))
        return "\n".join(parts)

    # ---- slides ----

    def _latex_cells(self, rows, show, decimals, reverse):
        """One list of LaTeX cells per row: the name, then each shown part as ``= ...``."""
        slots = ([0] if reverse and show != "numbers" else []) + (
            [1, 2] if show == "both" else [1] if show == "formulas" else [2]) + [3]
        table = []
        for row in rows:
            parts = self._parts(row, show, decimals, latex=True)
            if reverse and parts[0] is None:                # a seed or a result: leftmost
                parts[0], parts[1] = parts[1], None
            table.append([row.line.latex_name] + [f"= {parts[s]}" if parts[s] else ""
                                                  for s in slots])
        return table

    def _latex_blocks(self, show, decimals, mode):
        """(title, column groups) of each table of the survey's layout: the primal trace
        beside the tangent trace, then the adjoint trace."""
        decimals = self.decimals if decimals is None else decimals
        _check_options(show, decimals, mode)
        blocks = []
        if mode in ("forward", "both"):
            blocks.append([(self.latex_titles["primal"],
                            self._latex_cells(self.primal, show, decimals, False)),
                           (self.latex_titles["tangent"],
                            self._latex_cells(self.tangent, show, decimals, False))])
        if mode in ("reverse", "both"):
            blocks.append([(self.latex_titles["adjoint"],
                            self._latex_cells(self.adjoint, show, decimals, True))])
        return blocks

    def to_latex(self, show="both", decimals=None, mode="both"):
        r"""The traces as LaTeX tables, laid out as the survey's Tables 2 and 3.

        The primal trace beside the forward tangent trace, then the reverse adjoint trace in
        the order it is computed; formulas as the survey writes them (``\ln``, ``\times``,
        ``\dot{v}_{i}``, ``\bar{v}_{i}``). Each table is a ``tabular`` with every entry in
        math mode: paste it into a document or a beamer frame (function names LaTeX has no
        command for, such as ``\operatorname{asinh}``, need ``amsmath``, which beamer loads).

        Parameters
        ----------
        show : {"both", "formulas", "numbers"}
            What each line shows besides its value: the formula, the formula with the numbers
            put in (``\dot{v}_{1} = 1 / 2``), or both.
        decimals : int, optional
            Decimal places of the numbers (default: the table's).
        mode : {"both", "forward", "reverse"}
            Both tables, or only the forward one (primal and tangent traces) or the reverse one
            (the adjoint trace), for one slide each.

        Returns
        -------
        str

        Examples
        --------
        >>> import dualad as ad
        >>> table = ad.trace_table(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2, 5)
        >>> print(table.to_latex(mode="forward"))
        % Evaluation traces of f(x1, x2) at x1 = 2, x2 = 5
        \begin{tabular}{l@{ }l@{ }l@{ }l|l@{ }l@{ }l@{ }l}
        \multicolumn{4}{l|}{Forward primal trace} & \multicolumn{4}{l}{Forward tangent trace ($\dot{x}_{1} = 1$, $\dot{x}_{2} = 0$)} \\
        \hline
        $v_{-1}$ & $= x_{1}$ &  & $= 2$ & $\dot{v}_{-1}$ & $= \dot{x}_{1}$ &  & $= 1$ \\
        $v_{0}$ & $= x_{2}$ &  & $= 5$ & $\dot{v}_{0}$ & $= \dot{x}_{2}$ &  & $= 0$ \\
        $v_{1}$ & $= \ln v_{-1}$ & $= \ln 2$ & $= 0.693$ & $\dot{v}_{1}$ & $= \dot{v}_{-1} / v_{-1}$ & $= 1 / 2$ & $= 0.5$ \\
        $v_{2}$ & $= v_{-1} \times v_{0}$ & $= 2 \times 5$ & $= 10$ & $\dot{v}_{2}$ & $= \dot{v}_{-1} \times v_{0} + \dot{v}_{0} \times v_{-1}$ & $= 1 \times 5 + 0 \times 2$ & $= 5$ \\
        $v_{3}$ & $= \sin {v_{0}}$ & $= \sin {5}$ & $= -0.959$ & $\dot{v}_{3}$ & $= \dot{v}_{0} \times \cos {v_{0}}$ & $= 0 \times \cos {5}$ & $= 0$ \\
        $v_{4}$ & $= v_{1} + v_{2}$ & $= 0.693 + 10$ & $= 10.693$ & $\dot{v}_{4}$ & $= \dot{v}_{1} + \dot{v}_{2}$ & $= 0.5 + 5$ & $= 5.5$ \\
        $v_{5}$ & $= v_{4} - v_{3}$ & $= 10.693 - \left(-0.959\right)$ & $= 11.652$ & $\dot{v}_{5}$ & $= \dot{v}_{4} - \dot{v}_{3}$ & $= 5.5 - 0$ & $= 5.5$ \\
        $y$ & $= v_{5}$ &  & $= 11.652$ & $\dot{y}$ & $= \dot{v}_{5}$ &  & $= 5.5$ \\
        \end{tabular}
        """
        blocks = self._latex_blocks(show, decimals, mode)
        lines = [f"% {self._title(decimals)}"]
        for k, groups in enumerate(blocks):
            if k:
                lines.append(r"\bigskip")
                lines.append("")
            widths = [len(cells[0]) for _, cells in groups]
            lines.append(r"\begin{tabular}{" + "|".join("@{ }".join("l" * w) for w in widths)
                         + "}")
            lines.append(" & ".join(
                rf"\multicolumn{{{w}}}{{l{'|' if g < len(groups) - 1 else ''}}}{{{title}}}"
                for g, ((title, _), w) in enumerate(zip(groups, widths))) + r" \\")
            lines.append(r"\hline")
            for cells in zip(*(cells for _, cells in groups)):
                lines.append(" & ".join(f"${c}$" if c else "" for row in cells for c in row)
                             + r" \\")
            lines.append(r"\end{tabular}")
        return "\n".join(lines)

    def _repr_latex_(self):
        # MathJax (Jupyter) has no tabular and no \multicolumn: an array per table, each
        # titled in a line of text above it
        parts = []
        for groups in self._latex_blocks("both", None, "both"):
            widths = [len(cells[0]) for _, cells in groups]
            parts.append(" | ".join(title for title, _ in groups))
            rows = [" & ".join(c for row in cells for c in row) + r" \\"
                    for cells in zip(*(cells for _, cells in groups))]
            parts.append(r"$$\begin{array}{" + "|".join("l" * w for w in widths) + "}\n"
                         + "\n".join(rows) + "\n" + r"\end{array}$$")
        return "\n\n".join(parts)

    def to_markdown(self, show="both", decimals=None, mode="both"):
        r"""The traces as Markdown tables, laid out as the survey's Tables 2 and 3.

        Each line of a trace is one cell of LaTeX math (``$v_{1} = \ln v_{-1} = \ln 2 =
        0.693$``), which Jupyter, GitHub, pandoc and most slide tools render. The options are
        those of :meth:`to_latex`.

        Examples
        --------
        >>> import dualad as ad
        >>> table = ad.trace_table(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2, 5)
        >>> print(table.to_markdown(mode="reverse", show="formulas"))
        Evaluation traces of f(x1, x2) at x1 = 2, x2 = 5
        <BLANKLINE>
        | Reverse adjoint trace ($\bar{y} = 1$) |
        | :-- |
        | $\bar{v}_{5} = \bar{y} = 1$ |
        | $\bar{v}_{4} = \bar{v}_{5} \frac{\partial v_{5}}{\partial v_{4}} = \bar{v}_{5} \times 1 = 1$ |
        | $\bar{v}_{3} = \bar{v}_{5} \frac{\partial v_{5}}{\partial v_{3}} = \bar{v}_{5} \times \left(-1\right) = -1$ |
        | $\bar{v}_{1} = \bar{v}_{4} \frac{\partial v_{4}}{\partial v_{1}} = \bar{v}_{4} \times 1 = 1$ |
        | $\bar{v}_{2} = \bar{v}_{4} \frac{\partial v_{4}}{\partial v_{2}} = \bar{v}_{4} \times 1 = 1$ |
        | $\bar{v}_{0} = \bar{v}_{3} \frac{\partial v_{3}}{\partial v_{0}} = \bar{v}_{3} \times \cos {v_{0}} = -0.284$ |
        | $\bar{v}_{-1} = \bar{v}_{2} \frac{\partial v_{2}}{\partial v_{-1}} = \bar{v}_{2} \times v_{0} = 5$ |
        | $\bar{v}_{0} = \bar{v}_{0} + \bar{v}_{2} \frac{\partial v_{2}}{\partial v_{0}} = \bar{v}_{0} + \bar{v}_{2} \times v_{-1} = 1.716$ |
        | $\bar{v}_{-1} = \bar{v}_{-1} + \bar{v}_{1} \frac{\partial v_{1}}{\partial v_{-1}} = \bar{v}_{-1} + \bar{v}_{1} / v_{-1} = 5.5$ |
        | $\bar{x}_{1} = \bar{v}_{-1} = 5.5$ |
        | $\bar{x}_{2} = \bar{v}_{0} = 1.716$ |
        """
        blocks = self._latex_blocks(show, decimals, mode)
        lines = [self._title(decimals)]
        for groups in blocks:
            lines += ["", "| " + " | ".join(title for title, _ in groups) + " |",
                      "| " + " | ".join(":--" for _ in groups) + " |"]
            for cells in zip(*(cells for _, cells in groups)):
                lines.append("| " + " | ".join(
                    "$" + " ".join(c for c in row if c) + "$" for row in cells) + " |")
        return "\n".join(lines)

    def to_dict(self):
        """The traces as plain lists and numbers (for JSON)."""
        return {"function": self.function,
                "point": {n: plain_json(v) for n, v in self.point.items()},
                "direction": {n: plain_json(v) for n, v in self.direction.items()},
                "primal": [r.to_dict() for r in self.primal],
                "tangent": [r.to_dict() for r in self.tangent],
                "adjoint": [r.to_dict() for r in self.adjoint]}


# ---- the sweeps on symbols: the formulas ----

class _NamedForward(ForwardSteps):
    """The forward recorder on symbols, each tangent named v̇_i once computed, so the next
    op's terms read v̇_i rather than the whole expression behind it."""

    def __init__(self, graph, order, names):
        super().__init__(graph)
        self.order, self.names, self.failed = order, names, set()

    def visit(self, instruction):
        try:
            super().visit(instruction)
        except Exception:  # noqa: BLE001 - a rule that does not run on symbols: no formula
            self.failed.add(instruction.pos)
        if self.tangents[instruction.pos] is not None or instruction.pos in self.failed:
            self.tangents[instruction.pos] = self.names[instruction.pos]


class _NamedReverse(ReverseSteps):
    """The reverse recorder on symbols, each adjoint named v̄_i when its op is reached (it is
    complete then), so the shares read v̄_i."""

    def __init__(self, graph, order, names):
        super().__init__(graph)
        self.order, self.names, self.failed = order, names, set()

    def visit(self, instruction):
        if self.adjoints[instruction.pos] is not None:
            self.adjoints[instruction.pos] = self.names[instruction.pos]
        try:
            super().visit(instruction)
        except Exception:  # noqa: BLE001 - a rule that does not run on symbols: no formula
            self.failed.add(instruction.pos)
            self._current = None


def _steps_by_update(steps):
    return {(s.instruction.pos if s.instruction is not None else None, s.argument, s.target): s
            for s in steps}


def _constant_symbol(name, value):
    if shape_of(value) == () and float(value).is_integer():
        return sp.Integer(int(value))
    return sp.Symbol(name)


def _operation(prim, params, names):
    """An op applied to names, as (text, LaTeX), for ops whose rule is a whole Jacobian."""
    shown = [f"{k}={v!r}" for k, v in params.items() if v is not None and v is not False]
    text = f"{prim.name}({', '.join([n[0] for n in names] + shown)})"
    words = [n[1] for n in names] + [_latex_text(s) for s in shown]
    return text, rf"{_latex_text(prim.name)}({', '.join(words)})"


_LATEX_SPECIAL = {c: "\\" + c for c in "_{}#%&$"}
_LATEX_SPECIAL.update({"\\": r"\backslash ", "^": r"\hat{}", "~": r"\sim ", " ": r"\ "})


def _latex_text(text):
    r"""Plain text (a name, a parameter) set upright in LaTeX math.

    Examples
    --------
    >>> from dualad.traces import _latex_text
    >>> print(_latex_text("log_softmax"), _latex_text("{'a': 1}"))
    \mathrm{log\_softmax} \mathrm{\{'a':\ 1\}}
    """
    return r"\mathrm{" + "".join(_LATEX_SPECIAL.get(c, c) for c in text) + "}"


def _unwritten(prim):
    """The formula of a line whose rule does not run on symbols (a user's numpy-only rule)."""
    return f"(the rule of {prim.name})", rf"(\mathrm{{the\ rule\ of\ }}{_latex_text(prim.name)})"


def trace_table(f, *args, direction=None, output=0, decimals=3):
    """The evaluation traces of ``f`` at ``args``: primal, forward tangent and reverse adjoint.

    Lines are numbered as the standard survey prints them (Baydin et al., "Automatic
    differentiation in machine learning: a survey", JMLR 2018, Tables 2 and 3): inputs
    v_{1-n} ... v_0, then each operation v_1, v_2, ... The tangent trace follows one input
    direction; the adjoint trace lists, in the order the reverse sweep makes them, every
    contribution v̄_j = v̄_j + v̄_i ∂v_i/∂v_j. Numbers and formulas come from the same
    sweeps (the step recorders), run on the values and on symbols.

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
        Printable as text (``str``, :meth:`~TraceTable.to_text`), LaTeX
        (:meth:`~TraceTable.to_latex`) and Markdown (:meth:`~TraceTable.to_markdown`).

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
    v₁  = ln(v₋₁)  = 0.693
    v₂  = v₋₁ × v₀ = 10
    v₃  = sin(v₀)  = -0.959
    v₄  = v₁ + v₂  = 10.693
    v₅  = v₄ - v₃  = 11.652
    y   = v₅       = 11.652
    <BLANKLINE>
    Forward tangent trace (ẋ1 = 1, ẋ2 = 0)
    v̇₋₁ = ẋ1                  = 1
    v̇₀  = ẋ2                  = 0
    v̇₁  = v̇₋₁/v₋₁             = 0.5
    v̇₂  = v̇₋₁ × v₀ + v̇₀ × v₋₁ = 5
    v̇₃  = v̇₀ × cos(v₀)        = 0
    v̇₄  = v̇₁ + v̇₂             = 5.5
    v̇₅  = v̇₄ - v̇₃             = 5.5
    ẏ   = v̇₅                  = 5.5
    <BLANKLINE>
    Reverse adjoint trace (ȳ = 1), in the order computed
    v̄₅  = ȳ                                = 1
    v̄₄  = v̄₅ ∂v₅/∂v₄ = v̄₅ × 1              = 1
    v̄₃  = v̄₅ ∂v₅/∂v₃ = v̄₅ × (-1)           = -1
    v̄₁  = v̄₄ ∂v₄/∂v₁ = v̄₄ × 1              = 1
    v̄₂  = v̄₄ ∂v₄/∂v₂ = v̄₄ × 1              = 1
    v̄₀  = v̄₃ ∂v₃/∂v₀ = v̄₃ × cos(v₀)        = -0.284
    v̄₋₁ = v̄₂ ∂v₂/∂v₋₁ = v̄₂ × v₀            = 5
    v̄₀  = v̄₀ + v̄₂ ∂v₂/∂v₀ = v̄₀ + v̄₂ × v₋₁  = 1.716
    v̄₋₁ = v̄₋₁ + v̄₁ ∂v₁/∂v₋₁ = v̄₋₁ + v̄₁/v₋₁ = 5.5
    x̄1  = v̄₋₁                              = 5.5
    x̄2  = v̄₀                               = 1.716
    >>> table.adjoints[-1], round(table.adjoints[0], 3)
    (5.5, 1.716)
    """
    graph, point, f_name = prepare(f, args, "trace_table")
    names = graph.input_names
    tangents_in = direction_tangents(names, point, direction, "trace_table")
    count = len(graph.outputs)
    if not -count <= output < count:
        raise DualadError(f"trace_table: output {output} does not exist (f has {count})")
    output %= count
    _check_options("formulas", decimals)

    book = TraceNames(graph, graph.leaf_values(point))     # names constants by their values
    index, name = book.index, book.name

    # the numbers: one sweep of each mode on the values
    forward = ForwardSteps(graph)
    forward.order = book.order
    values, tangents = forward.run(point, tangents_in)
    inputs = list(zip(graph.input_positions, names))
    outputs = [(p, output_name(k, count, names)) for k, p in enumerate(graph.output_positions)]
    out_pos, out_name = outputs[output]
    seeds = [None] * count
    seeds[output] = np.ones(shape_of(values[out_pos])) if shape_of(values[out_pos]) else 1.0
    reverse = ReverseSteps(graph)
    reverse.order = book.order
    adjoints = reverse.run(values, seeds)

    # the symbols, named as in the book, with their LaTeX and the numbers they stand for
    latex, number = {}, {}

    def symbol(text, tex, value):
        s = sp.Symbol(text)
        latex[s], number[s] = tex, value
        return s

    value_symbol, tangent_symbol, adjoint_symbol = {}, {}, {}
    for p, v in enumerate(values):
        if p in index:
            i = index[p]
            value_symbol[p] = symbol(value_name(i), trace_latex_name(i), v)
            tangent_symbol[p] = symbol(tangent_name(i), trace_latex_name(i, "dot"), tangents[p])
            adjoint_symbol[p] = symbol(adjoint_name(i), trace_latex_name(i, "bar"), adjoints[p])
        elif v is not None:
            s = _constant_symbol(name(p), v)
            if isinstance(s, sp.Symbol):
                tex = name(p) if shape_of(v) == () else latex_name(name(p))
                s = symbol(name(p), latex_number(tex) if shape_of(v) == () else tex, v)
            value_symbol[p] = s
    input_symbol = {p: symbol(n, latex_name(n), values[p]) for p, n in inputs}
    input_tangent = {p: symbol(accented(n, DOT_ABOVE), latex_name(n, "dot"), t)
                     for (p, n), t in zip(inputs, tangents_in)}
    seed_name = accented(out_name, BAR_ABOVE)
    seed_symbol = symbol(seed_name, latex_name(out_name, "bar"), seeds[output])
    notation = _Notation(latex)

    def tex_of(p):
        return latex[value_symbol[p]] if value_symbol[p] in latex else str(value_symbol[p])

    # the formulas: the same sweeps on the symbols
    symbolic = _NamedForward(graph, book.order, tangent_symbol)
    symbolic.run(None, [tangent_symbol[p] for p, _ in inputs],
                 values=[value_symbol.get(p, sp.Integer(0)) for p in range(len(values))])
    forward_terms = {}
    for s in symbolic.steps:
        forward_terms.setdefault(s.instruction.pos, []).append(s)
    symbolic_reverse = _NamedReverse(graph, book.order, adjoint_symbol)
    symbolic_seeds = [None] * count
    symbolic_seeds[output] = seed_symbol
    symbolic_reverse.run([value_symbol.get(p, sp.Integer(0)) for p in range(len(values))],
                         symbolic_seeds)
    shares = _steps_by_update(symbolic_reverse.steps)

    def row(i, text_name, op, line, value):
        return TraceRow(i, text_name, op, _expression(notation, line), value,
                        notation.numbers(line, decimals) or "", line)

    # primal trace
    primal = [row(index[p], name(p), "input",
                  _Line(trace_latex_name(index[p]), input_symbol[p], number), values[p])
              for p, _ in inputs]
    for instruction in book.order:
        pos, prim = instruction.pos, instruction.prim
        formula = None
        if prim.elementwise and prim.sympy is not None:
            try:
                with sp.evaluate(False):
                    formula = prim.evaluate_symbolic(
                        *(value_symbol[a] for a in instruction.args), **instruction.params)
            except Exception:  # noqa: BLE001 - display only: written as a call instead
                formula = None
        if not isinstance(formula, sp.Basic):
            formula = (book.expression(instruction),
                       _infix_or_call(instruction, [tex_of(a) for a in instruction.args]))
        primal.append(row(index[pos], name(pos), prim.name,
                          _Line(trace_latex_name(index[pos]), formula, number), values[pos]))
    primal += [row(index.get(p), y, "output", _Line(latex_name(y), value_symbol[p], number),
                   values[p]) for p, y in outputs]

    # forward tangent trace
    tangent = [row(index[p], tangent_name(index[p]), "input",
                   _Line(trace_latex_name(index[p], "dot"), input_tangent[p], number),
                   tangents[p]) for p, _ in inputs]
    for instruction in book.order:
        pos, prim = instruction.pos, instruction.prim
        terms = forward_terms.get(pos, [])
        if tangents[pos] is None:
            formula = sp.Integer(0)
        elif not prim.elementwise:
            present = [(tangent_name(index[a]), latex[tangent_symbol[a]])
                       for a in instruction.args if a in tangent_symbol
                       and tangents[a] is not None]
            formula = _jvp_text(prim, present)
        elif pos in symbolic.failed or not terms:
            formula = _unwritten(prim)
        else:
            # one term per argument, as the sweep added them (the survey's order)
            formula = sp.Add(*(s.contribution for s in terms), evaluate=False)
        tangent.append(row(index[pos], tangent_name(index[pos]), prim.name,
                           _Line(trace_latex_name(index[pos], "dot"), formula, number),
                           _zero_if_none(tangents[pos], values[pos])))
    tangent += [row(index.get(p), accented(y, DOT_ABOVE), "output",
                    _Line(latex_name(y, "dot"),
                          tangent_symbol[p] if p in index else sp.Integer(0), number),
                    _zero_if_none(tangents[p], values[p])) for p, y in outputs]

    # reverse adjoint trace, in the order the sweep made its updates
    adjoint = []
    for step in reverse.steps:
        target = step.target
        if target not in index:
            continue    # an output that is a constant: nothing to differentiate
        i = index[target]
        tex_name = trace_latex_name(i, "bar")
        if step.instruction is None:
            adjoint.append(row(i, adjoint_name(i), "seed",
                               _Line(tex_name, seed_symbol, number), step.after))
            continue
        source = step.instruction.pos
        prim = step.instruction.prim
        chain = (f"{adjoint_name(index[source])} "
                 f"∂{value_name(index[source])}/∂{value_name(i)}",
                 rf"{latex[adjoint_symbol[source]]} "
                 rf"\frac{{\partial {latex[value_symbol[source]]}}}"
                 rf"{{\partial {latex[value_symbol[target]]}}}")
        share = shares.get((source, step.argument, target))
        if not prim.elementwise:
            formula = _vjp_text(prim, (adjoint_name(index[source]),
                                       latex[adjoint_symbol[source]]), step.argument)
        elif source in symbolic_reverse.failed or share is None:
            formula = _unwritten(prim)
        elif _is_number(share.partial):
            # the local partial is a number: written out, as the survey does (v̄₅ × (-1))
            formula = sp.Mul(adjoint_symbol[source], sp.sympify(share.partial),
                             evaluate=False)
        else:
            formula = share.contribution
        line_values = number
        if step.before is not None:
            own = adjoint_symbol[target]
            chain = (f"{adjoint_name(i)} + {chain[0]}", f"{tex_name} + {chain[1]}")
            formula = (sp.Add(own, formula, evaluate=False) if isinstance(formula, sp.Basic)
                       else (f"{adjoint_name(i)} + {formula[0]}", f"{tex_name} + {formula[1]}"))
            line_values = {**number, own: step.before}
        adjoint.append(row(i, adjoint_name(i), prim.name,
                           _Line(tex_name, formula, line_values, chain), step.after))
    adjoint += [row(None, accented(n, BAR_ABOVE), "result",
                    _Line(latex_name(n, "bar"), adjoint_symbol[p], number),
                    _zero_if_none(adjoints[p], values[p])) for p, n in inputs]

    direction_tex = ", ".join(f"${latex_name(n, 'dot')} = {_latex_value(v, decimals)}$"
                              for n, v in zip(names, tangents_in))
    return TraceTable(
        function=f"{f_name}({', '.join(names)})",
        point=dict(zip(names, point)),
        direction=dict(zip(names, tangents_in)),
        seed=f"{seed_name} = 1",
        primal=primal, tangent=tangent, adjoint=adjoint,
        values={index[p]: values[p] for p in index},
        tangents={index[p]: _zero_if_none(tangents[p], values[p]) for p in index},
        adjoints={index[p]: adjoints[p] for p in index if adjoints[p] is not None},
        constants=book.constants, decimals=decimals, notation=notation,
        latex_titles={"primal": "Forward primal trace",
                      "tangent": f"Forward tangent trace ({direction_tex})",
                      "adjoint": f"Reverse adjoint trace (${latex_name(out_name, 'bar')} = 1$)"})


def _expression(notation, line):
    """A line's formula as text: the chain rule's product first on a reverse line."""
    text = notation.text(line.formula)
    return f"{line.chain[0]} = {text}" if line.chain else text


def _latex_value(value, decimals):
    text = format_value(value, decimals)
    return latex_number(text) if shape_of(value) == () else text


def _infix_or_call(instruction, words):
    prim = instruction.prim
    if prim.infix and len(words) == 2:
        return f"{words[0]} {prim.infix} {words[1]}"
    if prim.infix and len(words) == 1:
        return f"{prim.infix}{words[0]}"
    return _operation(prim, instruction.params, [(w, w) for w in words])[1]


def _jvp_text(prim, present):
    return (f"jvp[{prim.name}]({', '.join(t for t, _ in present)})",
            rf"\mathrm{{jvp}}[{_latex_text(prim.name)}]({', '.join(t for _, t in present)})")


def _vjp_text(prim, bar, argument):
    return (f"vjp[{prim.name}]({bar[0]})[{argument}]",
            rf"\mathrm{{vjp}}[{_latex_text(prim.name)}]({bar[1]})[{argument}]")


def _is_number(partial):
    if isinstance(partial, sp.Basic):
        return isinstance(partial, sp.Number)
    return isinstance(partial, (int, float, np.number)) and not isinstance(partial, bool)


def _zero_if_none(derivative, value):
    if derivative is not None:
        return derivative
    return np.zeros(shape_of(value)) if shape_of(value) else 0.0
