"""Safe parsing of expression text into a Graph.

This module owns ``parse(text)``. The text is read by Python's ``ast`` parser (which only
builds a syntax tree and runs nothing); every node of the tree is then checked against a short
whitelist and turned directly into graph nodes. The text never reaches ``eval``, ``exec`` or
``sympify``. Allowed: numbers, names, ``+ - * / **`` and unary ``-``/``+``, calls of registry
functions by name (``sin(x)``, ``maximum(a, b)``, aliases such as ``asin`` and ``ln``), the
constants ``pi`` and ``e``, and a top-level tuple for several outputs. Formulas may be written
as papers write them: ``x^2`` is a power, as in sympy (in Python ``^`` is exclusive or), and
``ln(x)`` is ``log(x)``. Everything else (attributes,
subscripts, lambdas, comprehensions, keywords, strings, statements) is refused with an
:class:`~dualad.errors.ExpressionError` that points at the offending part of the text.

Examples
--------
>>> import dualad as ad
>>> g = ad.parse("sin(x*w) + exp(x)/w")
>>> [v.name for v in g.inputs]
['w', 'x']
>>> round(g(4.0, 1.0), 6)
-0.077232
>>> round(ad.parse("ln(x) + x^2 + e")(2.0), 6)     # as the papers write it
7.411429
"""

import ast
import io
import math
import tokenize

from .errors import ExpressionError
from .graph import Graph, Var, apply_primitive, as_node
from .primitives import REGISTRY

MAX_LENGTH = 20_000

#: Two-argument spellings formulas use for elementwise registry ops.
FORMULA_NAMES = {"max": "maximum", "min": "minimum"}


def functions():
    """Function names allowed in text, each with the registry primitive it calls: every
    public elementwise op by its name and its aliases, read from the registry when called
    (so an op registered while the program runs is allowed at once).

    Examples
    --------
    >>> from dualad.parse import functions
    >>> functions()["asin"], functions()["sin"]
    ('arcsin', 'sin')
    """
    table = {}
    for name, prim in REGISTRY.items():
        if prim.elementwise and prim.public:
            table[name] = name
            table.update((alias, name) for alias in prim.aliases)
    table.update((k, v) for k, v in FORMULA_NAMES.items() if v in REGISTRY)
    return table

#: Names that stand for numbers rather than inputs: pi, and e, Euler's number.
CONSTANTS = {"pi": math.pi, "e": math.e}


class _Source(str):
    """Expression text as Python reads it, ``^`` (power) written ``**``, remembering the text
    as typed so that messages point into it.

    Examples
    --------
    >>> from dualad.parse import _Source
    >>> source = _Source("x^2 + y^-1")
    >>> str(source), source.original_column(1, 9)     # the 1 of x**2 + y**-1: column 7 typed
    ('x**2 + y**-1', 7)
    """

    def __new__(cls, text):
        lines = text.split("\n")
        carets = {}
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type == tokenize.OP and token.string == "^":
                    carets.setdefault(token.start[0], []).append(token.start[1])
        except (tokenize.TokenError, SyntaxError):
            carets = {}      # Python's parser will say what is wrong with the text
        for row, columns in carets.items():
            line = lines[row - 1]
            for column in reversed(columns):
                line = line[:column] + "**" + line[column + 1:]
            lines[row - 1] = line
        source = super().__new__(cls, "\n".join(lines))
        source.typed = text
        # where, in each converted line, a "**" stands for a typed "^"
        source.carets = {row: [c + k for k, c in enumerate(columns)]
                         for row, columns in carets.items()}
        return source

    def original_column(self, row, column):
        """The column in the typed line ``row`` (from 1) of ``column`` in the converted one."""
        return column - sum(c < column for c in self.carets.get(row, ()))

    def typed_line(self, row):
        lines = self.typed.split("\n")
        return lines[min(row, len(lines)) - 1]

_BINARY = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide",
           ast.Pow: "power"}
_UNARY = {ast.USub: "negative"}

_DESCRIPTIONS = {
    ast.Attribute: "attribute access is", ast.Subscript: "subscripts are",
    ast.Lambda: "lambdas are", ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are", ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are", ast.Compare: "comparisons are",
    ast.BoolOp: "boolean operators are", ast.IfExp: "conditional expressions are",
    ast.NamedExpr: "assignments are", ast.Starred: "starred arguments are",
    ast.JoinedStr: "strings are", ast.List: "lists are", ast.Dict: "dicts are",
    ast.Set: "sets are", ast.Await: "await is", ast.Yield: "yield is",
    ast.YieldFrom: "yield is", ast.Slice: "slices are",
}


def _show(line, start, end, message):
    """``message``, then ``line`` with columns ``start:end`` underlined (long lines cut)."""
    width = max(end - start, 1)
    column = start + 1
    if len(line) > 72:
        left = max(0, start - 30)
        piece = line[left:left + 72]
        shown = ("..." if left else "") + piece + ("..." if left + 72 < len(line) else "")
        start = start - left + (3 if left else 0)
        width = min(width, 72 - (start - (3 if left else 0)))
        line = shown
    return f"{message} (column {column})\n  {line}\n  {' ' * start}{'^' * max(width, 1)}"


def _pointer(text, node, message):
    """``message`` followed by the text as typed, with the offending node underlined."""
    lines = text.splitlines() or [text]
    line_no = getattr(node, "lineno", 1) or 1
    line = lines[min(line_no, len(lines)) - 1]
    start = getattr(node, "col_offset", 0) or 0
    end = getattr(node, "end_col_offset", None)
    if end is None or getattr(node, "end_lineno", line_no) != line_no:
        end = len(line)
    return _show_typed(text, line_no, line, start, end, message)


def _show_typed(text, row, line, start, end, message):
    """:func:`_show` on the line as typed, where the text is a :class:`_Source`."""
    if isinstance(text, _Source):
        line = text.typed_line(row)
        start, end = text.original_column(row, start), text.original_column(row, end)
    return _show(line, start, end, message)


def _refuse(text, node, what):
    raise ExpressionError(_pointer(text, node, f"parse: {what} not allowed"))


def _syntax_tree(text):
    """The syntax tree of ``text`` and the text it was read from (a :class:`_Source`)."""
    if not isinstance(text, str):
        raise ExpressionError(f"parse: expected expression text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"parse: text of {len(text):,} characters is longer than the "
                              f"{MAX_LENGTH:,} allowed")
    if not text.strip():
        raise ExpressionError("parse: the expression is empty")
    source = _Source(text.strip())
    try:
        return ast.parse(source, mode="eval"), source
    except SyntaxError as err:
        column = (err.offset or 1) - 1
        row = err.lineno or 1
        line = (err.text or source).splitlines()[0] if (err.text or source).strip() else source
        message = err.msg.split(";")[0]
        raise ExpressionError(_show_typed(source, row, line, column, column + 1,
                                          f"parse: not a valid expression: {message}")) from None
    except (RecursionError, MemoryError) as err:
        raise ExpressionError(f"parse: the expression is nested too deeply for Python's "
                              f"parser ({type(err).__name__})") from None


def _check(text, node):
    """Refuse every node type outside the whitelist, before building anything."""
    kind = type(node)
    if kind in (ast.Expression, ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow,
                ast.USub, ast.UAdd):
        return
    if kind is ast.BinOp:
        if type(node.op) not in _BINARY:
            _refuse(text, node, f"the operator {type(node.op).__name__}")
        return
    if kind is ast.UnaryOp:
        if type(node.op) not in (ast.USub, ast.UAdd):
            _refuse(text, node, f"the operator {type(node.op).__name__}")
        return
    if kind is ast.Constant:
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            _refuse(text, node, f"the constant {node.value!r} is")
        return
    if kind is ast.Name:
        if node.id.startswith("__"):
            _refuse(text, node, f"the name {node.id!r} is")
        return
    if kind is ast.Call:
        if not isinstance(node.func, ast.Name):
            _refuse(text, node.func, "calling anything but a function name is")
        allowed = functions()
        if node.func.id not in allowed:
            raise ExpressionError(_pointer(
                text, node.func, f"parse: unknown function {node.func.id!r}; allowed: "
                f"{', '.join(sorted(allowed))}"))
        if node.keywords:
            _refuse(text, node.keywords[0], "keyword arguments are")
        return
    if kind is ast.Tuple:
        return
    _refuse(text, node, _DESCRIPTIONS.get(kind, f"{type(node).__name__} is"))


def _as_constant(text, node):
    try:
        return float(node.value)
    except OverflowError:
        raise ExpressionError(_pointer(text, node, "parse: number too large")) from None


def parse(text):
    """Turn expression text into a :class:`~dualad.graph.Graph`, safely.

    Parameters
    ----------
    text : str
        An expression such as ``"log(x1) + x1*x2 - sin(x2)"``; a top-level tuple
        (``"x*y, x+y"``) gives several outputs. The notation of the papers works too:
        ``ln(x)``, and ``x^2`` for a power (sympy's convention; in Python ``^`` is exclusive
        or, which has no derivative and is not allowed here).

    Returns
    -------
    Graph
        Its inputs are the free names in alphabetical order (leaves named after them, with no
        value until the graph is evaluated); ``pi`` and ``e`` (Euler's number) are constants,
        not names.

    Raises
    ------
    ExpressionError
        For text that does not parse or uses anything outside the whitelist; the message
        points at the offending part. Nothing in the text is ever run.

    Examples
    --------
    >>> import dualad as ad
    >>> g = ad.parse("log(x1) + x1*x2 - sin(x2)")
    >>> round(g(2.0, 5.0), 4)
    11.6521
    >>> import math
    >>> ad.parse("2*x^2 - e^x")(1.0) == 2 - math.e     # ^ is a power, e is Euler's number
    True
    >>> ad.parse("x.__class__")
    Traceback (most recent call last):
      ...
    dualad.errors.ExpressionError: parse: attribute access is not allowed (column 1)
      x.__class__
      ^^^^^^^^^^^
    """
    tree, text = _syntax_tree(text)
    for node in ast.walk(tree):
        _check(text, node)
    leaves = {}
    built = {}
    # Post-order over the syntax tree with an explicit stack: long sums stay within limits.
    stack = [(tree.body, False)]
    while stack:
        node, expanded = stack.pop()
        if not expanded:
            stack.append((node, True))
            children = (node.elts if isinstance(node, ast.Tuple)
                        else [node.left, node.right] if isinstance(node, ast.BinOp)
                        else [node.operand] if isinstance(node, ast.UnaryOp)
                        else node.args if isinstance(node, ast.Call) else [])
            stack.extend((child, False) for child in reversed(children))
            continue
        built[id(node)] = _build(text, node, built, leaves)
    result = built[id(tree.body)]
    inputs = [leaves[name] for name in sorted(leaves)]
    if isinstance(result, tuple):
        graph = Graph([as_node(r) for r in result], inputs=inputs)
    else:
        graph = Graph(as_node(result), inputs=inputs)
    return graph


def _build(text, node, built, leaves):
    if isinstance(node, ast.Constant):
        return as_node(_as_constant(text, node))
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return as_node(CONSTANTS[node.id])
        if node.id in functions():
            _refuse(text, node, f"the function name {node.id!r} used as a value is")
        if node.id not in leaves:
            leaves[node.id] = Var(name=node.id)
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = built[id(node.operand)]
        if isinstance(node.op, ast.UAdd):
            return operand
        return apply_primitive(REGISTRY[_UNARY[type(node.op)]], operand)
    if isinstance(node, ast.BinOp):
        prim = REGISTRY[_BINARY[type(node.op)]]
        return apply_primitive(prim, built[id(node.left)], built[id(node.right)])
    if isinstance(node, ast.Call):
        prim = REGISTRY[functions()[node.func.id]]
        args = [built[id(a)] for a in node.args]
        if len(args) != prim.nin:
            raise ExpressionError(_pointer(
                text, node, f"parse: {node.func.id} takes {prim.nin} argument"
                f"{'s' if prim.nin != 1 else ''}, got {len(args)}"))
        return apply_primitive(prim, *args)
    if isinstance(node, ast.Tuple):
        if not node.elts:
            _refuse(text, node, "an empty tuple is")
        parts = [built[id(e)] for e in node.elts]
        if any(isinstance(p, tuple) for p in parts):
            _refuse(text, node, "nested tuples are")
        return tuple(parts)
    _refuse(text, node, type(node).__name__)  # unreachable after _check
