"""How dualad shows things: textbook names, numbers, tables and formulas.

This module owns presentation and nothing else: the textbook numbering of a graph's nodes
(inputs v_{1-n} ... v_0, then operations v_1, v_2, ... level by level, as the standard survey of
AD in machine learning prints its traces), number and table formatting shared by
:func:`dualad.compare`, :func:`dualad.trace_table` and the pictures (:mod:`dualad.graphviz`),
formulas in the survey's notation (``ln``, ``×``; as text or LaTeX, with symbols or with their
numbers put in), and short formulas of nodes for messages. It computes no value and no
derivative.

Examples
--------
>>> import dualad as ad
>>> graph = ad.trace(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0)
>>> names = TraceNames(graph)
>>> [names.expression(instruction) for instruction in names.order]
['log(v₋₁)', 'v₋₁ * v₀', 'sin(v₀)', 'v₁ + v₂', 'v₄ - v₃']
"""

import html
import math
import unicodedata

import numpy as np
import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter, latex
from sympy.printing.str import StrPrinter

from .shapes import shape_of

# ---- notation ----

_SUBSCRIPTS = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")
DOT_ABOVE, BAR_ABOVE = "\u0307", "\u0304"   # combining marks: v̇ (tangent), v̄ (adjoint)


def subscript(index):
    """``index`` in subscript digits: ``subscript(-1) == '₋₁'``.

    Examples
    --------
    >>> from dualad.printing import subscript
    >>> "v" + subscript(-1), "v" + subscript(12)
    ('v₋₁', 'v₁₂')
    """
    return str(index).translate(_SUBSCRIPTS)


def accented(name, mark):
    """``name`` with a combining ``mark`` on its first letter (x1 -> ẋ1 with DOT_ABOVE).

    Composed to a single character where Unicode has one (ẋ, ȳ), so text compares equal to
    what one types.

    Examples
    --------
    >>> from dualad.printing import DOT_ABOVE, accented
    >>> accented("x1", DOT_ABOVE) == "ẋ1", len(accented("v", DOT_ABOVE))
    (True, 2)
    """
    return unicodedata.normalize("NFC", name[:1] + mark + name[1:])


def value_name(index):
    """The textbook name of intermediate ``index``: v₋₁, v₀, v₁, ...

    Examples
    --------
    >>> from dualad.printing import adjoint_name, tangent_name, value_name
    >>> value_name(-1), tangent_name(2), adjoint_name(0)
    ('v₋₁', 'v̇₂', 'v̄₀')
    """
    return "v" + subscript(index)


def tangent_name(index):
    """The tangent of intermediate ``index``: v̇₁."""
    return accented(value_name(index), DOT_ABOVE)


def adjoint_name(index):
    """The adjoint of intermediate ``index``: v̄₁."""
    return accented(value_name(index), BAR_ABOVE)


def output_name(k, count, input_names=()):
    """y for a single output; y₁, y₂, ... for several (f, f₁, ... when an input is named y).

    Examples
    --------
    >>> from dualad.printing import output_name
    >>> output_name(0, 1), output_name(1, 2), output_name(0, 1, ["x", "y"])
    ('y', 'y₂', 'f')
    """
    letter = "f" if "y" in input_names else "y"
    return letter if count == 1 else letter + subscript(k + 1)


# ---- numbers ----

def format_number(x, decimals=3):
    """A number as a textbook prints it: ``decimals`` places, trailing zeros dropped.

    Very large or very small magnitudes use exponent notation.

    Examples
    --------
    >>> from dualad.printing import format_number
    >>> format_number(0.6931471805599453), format_number(5.5), format_number(10.0)
    ('0.693', '5.5', '10')
    >>> format_number(1.5e-7), format_number(float("nan"))
    ('1.5e-07', 'nan')
    """
    if isinstance(x, complex) or np.iscomplexobj(x):
        return str(x)
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not np.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e6 or abs(x) < 10.0 ** -decimals:
        mantissa, exponent = f"{x:.{decimals}e}".split("e")
        return mantissa.rstrip("0").rstrip(".") + "e" + exponent
    return f"{x:.{decimals}f}".rstrip("0").rstrip(".")


def format_value(value, decimals=3):
    """A value on one line: a number, or a short array ``[1, 2.5, ...]``.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.printing import format_value
    >>> format_value(np.array([[1.0, 0.5], [2.0, 3.25]]))
    '[[1, 0.5], [2, 3.25]]'
    """
    if value is None:
        return "?"
    if shape_of(value) == () or not isinstance(value, np.ndarray):
        return format_number(value, decimals)
    text = np.array2string(value, separator=", ", threshold=12, edgeitems=3,
                           formatter={"all": lambda x: format_number(x, decimals)})
    return " ".join(text.split())


def plain_json(value):
    """A value as JSON can hold it: numbers, nested lists; ``None`` for nan/inf.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.printing import plain_json
    >>> plain_json(np.array([1.0, np.inf])), plain_json(np.float64(2.5))
    ([1.0, None], 2.5)
    """
    if value is None:
        return None
    if isinstance(value, (np.ndarray, list, tuple)):
        if np.ndim(value) == 0:
            return plain_json(np.asarray(value).item())
        return [plain_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else None


# ---- formulas, in the survey's notation ----

_PLAIN_DIGITS = str.maketrans("₋₀₁₂₃₄₅₆₇₈₉", "-0123456789")


def plain_subscripts(text):
    """``text`` with subscript digits made plain (y₂ -> y2, C₁ -> C1).

    Examples
    --------
    >>> from dualad.printing import plain_subscripts
    >>> plain_subscripts("y₂"), plain_subscripts("v₋₁")
    ('y2', 'v-1')
    """
    return text.translate(_PLAIN_DIGITS)


def latex_name(name, accent=None):
    r"""A name in LaTeX, trailing digits as a subscript (x1 -> ``x_{1}``, theta -> ``\theta``);
    ``accent`` ``"dot"`` or ``"bar"`` puts a dot or a bar over it (``\dot{x}_{1}``).

    Subscript digits are read as digits (y₂ -> ``y_{2}``).

    Examples
    --------
    >>> from dualad.printing import latex_name
    >>> latex_name("x1"), latex_name("x1", "dot"), latex_name("y₂", "bar"), latex_name("w")
    ('x_{1}', '\\dot{x}_{1}', '\\bar{y}_{2}', 'w')
    """
    name = plain_subscripts(name)
    if not name.isidentifier():
        return r"\mathrm{" + "".join(c if c.isalnum() else "\\" + c if c in "_{}%#&$"
                                     else c for c in name) + "}"
    if accent:
        base = split_super_sub(name)[0]
        name = base + accent + name[len(base):]
    return latex(sp.Symbol(name))


def trace_latex_name(index, accent=None):
    r"""The textbook name of intermediate ``index`` in LaTeX: ``v_{-1}``, ``\dot{v}_{1}``,
    ``\bar{v}_{0}``.

    Examples
    --------
    >>> from dualad.printing import trace_latex_name
    >>> trace_latex_name(-1), trace_latex_name(2, "bar")
    ('v_{-1}', '\\bar{v}_{2}')
    """
    return (rf"\{accent}{{v}}" if accent else "v") + f"_{{{index}}}"


def latex_number(text):
    r"""A number as :func:`format_number` writes it, in LaTeX (``1.5e-07`` ->
    ``1.5 \times 10^{-7}``, ``inf`` -> ``\infty``).

    Examples
    --------
    >>> from dualad.printing import latex_number
    >>> latex_number("0.693"), latex_number("-1.5e-07"), latex_number("-inf")
    ('0.693', '-1.5 \\times 10^{-7}', '-\\infty')
    """
    if "e" in text and text not in ("nan", "inf", "-inf"):
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return {"inf": r"\infty", "-inf": r"-\infty", "nan": r"\mathrm{nan}"}.get(text, text)


class _SurveyText(StrPrinter):
    """sympy's str printer with the survey's ``×`` and ``ln``, ``^`` for powers, terms in the
    order given, and chosen symbols printed as given texts (numbers)."""

    def __init__(self, names):
        super().__init__({"order": "none"})
        self.names = names

    def _print_Symbol(self, expr):
        return self.names.get(expr, expr.name)

    def _print_Mul(self, expr):
        # the factors are printed first (by these methods), so a "*" left here joins them
        return super()._print_Mul(expr).replace("*", " × ")

    def _print_Pow(self, expr, rational=False):
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_log(self, expr):
        return f"ln({self._print(expr.args[0])})"


class _SurveyLatex(LatexPrinter):
    r"""sympy's LaTeX printer with the survey's ``\times``, ``\ln v`` and ``\sin v`` (no
    brackets around a single symbol), ``a / b`` in a line, and terms in the order given."""

    def __init__(self, names):
        super().__init__({"order": "none", "mul_symbol": "times", "fold_short_frac": True,
                          "fold_func_brackets": True, "inv_trig_style": "full",
                          "symbol_names": names})

    def _print_log(self, expr, exp=None):
        argument = expr.args[0]
        text = self._print(argument)
        text = rf"\ln {text}" if argument.is_Atom else rf"\ln\left({text}\right)"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"


def formula_text(expr, names=None):
    """A sympy expression as text in the survey's notation; ``names`` maps symbols to the
    text printed in their place (their numbers, say).

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.printing import formula_text
    >>> a, b = sp.symbols("v₋₁ v₀")
    >>> formula_text(sp.log(a) * b), formula_text(a * b, {a: "2", b: "5"})
    ('v₀ × ln(v₋₁)', '5 × 2')
    """
    return _SurveyText(names or {}).doprint(expr)


def formula_latex(expr, names):
    r"""A sympy expression as LaTeX in the survey's notation; ``names`` maps every symbol in it
    to its LaTeX (a name or a number).

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.printing import formula_latex
    >>> a, t = sp.symbols("v₋₁ v̇₋₁")
    >>> formula_latex(t / a, {a: "v_{-1}", t: r"\dot{v}_{-1}"})
    '\\dot{v}_{-1} / v_{-1}'
    >>> formula_latex(sp.log(a), {a: "2"})
    '\\ln 2'
    """
    text = _SurveyLatex(names).doprint(expr)
    # \vert rather than |: a "|" would end a Markdown table's cell
    return text.replace(r"\left|", r"\left\vert ").replace(r"\right|", r"\right\vert ")


# ---- text and HTML tables ----

def display_width(text):
    """Columns ``text`` takes on a terminal: combining marks (as in v̇) take none.

    Examples
    --------
    >>> from dualad.printing import display_width
    >>> len("v̇₁"), display_width("v̇₁")
    (3, 2)
    """
    return sum(0 if unicodedata.combining(c) else 1 for c in text)


def pad(text, width, align="<"):
    """``text`` padded to ``width`` display columns (``align=">"``: on the left).

    Examples
    --------
    >>> from dualad.printing import pad
    >>> pad("v̇₁", 4) + "|", pad("7", 3, ">")
    ('v̇₁  |', '  7')
    """
    fill = " " * max(width - display_width(text), 0)
    return fill + text if align == ">" else text + fill


def text_table(rows, align=None, gap="  "):
    """Rows of strings as aligned columns (``align``: one of ``"<"``/``">"`` per column).

    Examples
    --------
    >>> from dualad.printing import text_table
    >>> print(text_table([["passes", "10", "1"], ["ops", "144", "27"]], align="<>>"))
    passes   10   1
    ops     144  27
    """
    if not rows:
        return ""
    columns = max(len(r) for r in rows)
    rows = [list(r) + [""] * (columns - len(r)) for r in rows]
    align = align or "<" * columns
    widths = [max(display_width(r[c]) for r in rows) for c in range(columns)]
    return "\n".join(gap.join(pad(cell, w, a) for cell, w, a in zip(r, widths, align)).rstrip()
                     for r in rows)


def html_table(header, rows, caption=None):
    """A small HTML table (for ``_repr_html_``); every cell is escaped.

    Examples
    --------
    >>> from dualad.printing import html_table
    >>> html_table(["", "forward"], [["passes", "2"]])
    '<table><tr><th></th><th>forward</th></tr><tr><td>passes</td><td>2</td></tr></table>'
    """
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    if header:
        parts.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    parts.append("</table>")
    return "".join(parts)


# ---- textbook numbering ----

class TraceNames:
    """The textbook names of a graph's nodes, in the survey's order.

    Inputs are v_{1-n} ... v_0 in the graph's input order; operations are v_1, v_2, ...
    numbered level by level (an operation's level is one more than its deepest input), in the
    graph's order within a level. That is a valid evaluation order, and the one the survey's
    tables use. Scalar constants are written as numbers; array constants as C₁, C₂, ...

    Attributes
    ----------
    order : list of Instruction
        ``graph.program`` in textbook order.
    index : dict
        Node position -> textbook index (the i of v_i).
    constants : dict
        Name (C₁, ...) -> value of each array constant.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.printing import TraceNames
    >>> graph = ad.trace(lambda x: 2 * ad.exp(x), 0.0)
    >>> names = TraceNames(graph)
    >>> [names.name(pos) for pos in range(len(graph))]       # the constant 2 comes first
    ['2', 'v₀', 'v₁', 'v₂']
    >>> [names.expression(instruction) for instruction in names.order]
    ['exp(v₀)', '2 * v₁']
    """

    def __init__(self, graph, values=None):
        self.graph = graph
        values = values if values is not None else [n.value for n in graph.nodes]
        depth = [0] * len(graph.nodes)
        for pos, _, args, _ in graph.program:
            depth[pos] = 1 + max((depth[a] for a in args), default=0)
        self.order = sorted(graph.program, key=lambda instruction: (depth[instruction.pos],
                                                                   instruction.pos))
        n = len(graph.inputs)
        self.index = {pos: k + 1 - n for k, pos in enumerate(graph.input_positions)}
        for k, instruction in enumerate(self.order):
            self.index[instruction.pos] = k + 1
        self._values = values
        self._names = None      # written when first asked for (a long graph's may never be)

    @property
    def constants(self):
        """Name (C₁, ...) -> value of each array constant."""
        return self._named()[1]

    def _named(self):
        if self._names is None:
            names, constants, values = {}, {}, self._values
            for pos in range(len(self.graph.nodes)):
                if pos in self.index:
                    names[pos] = value_name(self.index[pos])
                elif shape_of(values[pos]) == ():
                    names[pos] = format_number(values[pos], 6)
                else:
                    name = "C" + subscript(len(constants) + 1)
                    constants[name] = values[pos]
                    names[pos] = name
            self._names, self._constants, self._values = names, constants, None
        return self._names, self._constants

    def name(self, pos):
        """The name of node ``pos``: v_i, a number, or C_k."""
        return self._named()[0][pos]

    def input_name(self, k):
        """The name of input ``k`` (:attr:`Graph.input_names`)."""
        return self.graph.input_names[k]

    def expression(self, instruction, names=None):
        """The operation as text over ``names`` (default: the textbook names of its inputs).

        Infix operators are written infix (``v₁ + v₂``), functions as calls (``log(v₋₁)``),
        with any parameters (``sum(v₁, axis=0)``).
        """
        prim, args, params = instruction.prim, instruction.args, instruction.params
        words = list(names) if names is not None else [self.name(a) for a in args]
        if prim.infix and len(words) == 2:
            return f"{words[0]} {prim.infix} {words[1]}"
        if prim.infix and len(words) == 1:
            return f"{prim.infix}{words[0]}"
        shown = [f"{k}={v!r}" for k, v in params.items() if v is not None and v is not False]
        return f"{prim.name}({', '.join(words + shown)})"


# ---- branch decisions ----

#: Longest expression shown in a message; longer ones are shown by their inputs.
EXPRESSION_LIMIT = 60


def expression_text(graph, pos, limit=EXPRESSION_LIMIT):
    """Node ``pos`` of ``graph`` as a short formula in its inputs' names (``sin(x) > 0.5``).

    Built bottom-up without recursion; a sub-expression longer than ``limit`` characters is
    shown as ``(an expression of x, y)``.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.printing import expression_text
    >>> x = ad.Var(1.0, name="x")
    >>> graph = ad.Graph(ad.sin(x) * 2 > 0.5)
    >>> expression_text(graph, graph.output_positions[0])
    'sin(x) * 2 > 0.5'
    """
    nodes = graph.nodes
    inputs = dict(zip(graph.input_positions, graph.input_names))
    position = {id(n): i for i, n in enumerate(nodes)}
    texts, binding, uses = {}, {}, {}
    for i in range(pos + 1):
        node = nodes[i]
        if i in inputs or node.op is None:
            texts[i] = inputs.get(i) or format_value(node.value, 6)
            binding[i], uses[i] = ATOM, {texts[i]} if i in inputs else set()
            continue
        args = [position.get(id(c)) for c in node.children]
        if any(a not in texts for a in args):
            continue      # a node below an input of a sub-graph: not reached from pos
        prim = node.op
        uses[i] = set().union(*(uses[a] for a in args))
        strength = PRECEDENCE.get(prim.infix, ATOM) if prim.infix else ATOM
        # an operand binding less tightly than this operator needs parentheses
        words = [texts[a] if binding[a] > strength or (binding[a] == strength and k == 0
                                                       and strength != POWER)
                 else f"({texts[a]})" for k, a in enumerate(args)]
        if prim.infix and len(words) == 2:
            text = f"{words[0]} {prim.infix} {words[1]}"
        elif prim.infix and len(words) == 1:
            strength = UNARY
            text = f"{prim.infix}{words[0]}"
        else:
            text = f"{prim.name}({', '.join(texts[a] for a in args)})"
        if len(text) > limit:
            text = f"(an expression of {', '.join(sorted(uses[i])) or 'constants'})"
            strength = ATOM
        texts[i], binding[i] = text, strength
    return texts[pos]


# How tightly Python's operators bind, weakest first: enough to parenthesise formulas minimally.
COMPARISON, OR, AND, SUM, PRODUCT, UNARY, POWER, ATOM = range(8)
PRECEDENCE = {"|": OR, "&": AND, "+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, "@": PRODUCT,
              "**": POWER, **dict.fromkeys(("<", "<=", ">", ">=", "==", "!="), COMPARISON)}


def guard_text(graph, pos, values, outcome):
    """The message for a branch decision (node ``pos``) that no longer comes out as ``outcome``.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.printing import guard_text
    >>> graph = ad.trace(lambda x: x if x > 0 else -x, 1.0)
    >>> print(guard_text(graph, 2, [-1.0, 0.0, False], True))  # doctest: +ELLIPSIS
    the branch on x > 0 was taken as True when this graph was traced, but is False here; ...
    """
    names = graph.input_names
    where = ", ".join(f"{n} = {format_value(values[p], 6)}"
                      for n, p in zip(names, graph.input_positions))
    return (f"the branch on {expression_text(graph, pos)} was taken as {outcome} when this "
            f"graph was traced, but is {not outcome} here; the graph only holds the branch "
            f"taken then, so its value and derivatives would be wrong at {where or 'this point'}"
            ". Trace the function again at this point (ad.trace(f, ...)), or write the choice "
            "with ad.where(condition, a, b), which is decided again at every point")
