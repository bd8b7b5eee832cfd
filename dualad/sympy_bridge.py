"""The bridge between dualad graphs and sympy expressions: ``to_sympy`` and ``from_sympy``.

This module owns turning a ``Var`` or ``Graph`` into sympy expressions (through
:class:`~dualad.evaluators.SympyEvaluator`, with symbols named after the leaves) and building a
``Graph`` back from a sympy expression (each sympy node becomes registry ops). It owns no
derivative and no check: the referee (:mod:`dualad.referee`) differentiates, :mod:`dualad.verify`
reports, :mod:`dualad.registry_proof` proves the registry's rules.

Examples
--------
>>> import sympy as sp, dualad as ad
>>> x, w = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
>>> ad.to_sympy(ad.sin(x * w) + w)
w + sin(w*x)
>>> ad.from_sympy(sp.Symbol("x") * 2)(3.0)
6.0
"""

import sympy as sp

from .errors import DualadError, ExpressionError
from .evaluators import SympyEvaluator
from .evaluators.symbolic import input_symbols
from .graph import Graph, Var, apply_primitive, as_node
from .primitives import REGISTRY

def to_sympy(var_or_graph, **assumptions):
    """The sympy expression of a ``Var``, or the expressions of a ``Graph``'s outputs.

    Symbols are named after the leaves (unnamed inputs become ``x0``, ``x1``, ...; array inputs
    give object arrays of symbols ``x[0]``, ...). Constants become sympy numbers of the same
    value (``2.0`` -> ``2``, ``math.pi`` -> ``pi``, ``0.1`` -> ``0.1``); each op contributes
    its registry ``sympy`` form.

    Parameters
    ----------
    var_or_graph : Var or Graph
    **assumptions
        sympy assumptions for every symbol (``positive=True``); none by default.

    Returns
    -------
    sympy expression, or a tuple of them for a graph with several outputs (an object array
    of expressions for an array-valued output).

    Raises
    ------
    DualadError
        If the graph uses an op with no sympy form (a seed-style user op), or nests operations
        too deeply for sympy (a chain of a few hundred ``sin``; ``verify`` still works there).

    Examples
    --------
    >>> import dualad as ad
    >>> x, w = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
    >>> ad.to_sympy(ad.sin(x * w) + ad.exp(x) / w)
    sin(w*x) + exp(x)/w
    >>> ad.to_sympy(ad.parse("x*y, x**2.5 / 2"))
    (x*y, x**2.5/2)
    """
    if isinstance(var_or_graph, Var):
        graph = Graph(var_or_graph)
    elif isinstance(var_or_graph, Graph):
        graph = var_or_graph
    else:
        raise DualadError(f"to_sympy: expected a Var or a Graph, got "
                          f"{type(var_or_graph).__name__}")
    symbols = input_symbols(graph, assumptions=[assumptions] * len(graph.inputs))
    try:
        values = SympyEvaluator(graph).run(symbols)
    except RecursionError:
        # sympy builds, compares and prints expressions recursively: a chain of a few hundred
        # nested functions is past Python's recursion limit
        raise DualadError(
            f"to_sympy: the expression is too deep for sympy ({depth(graph)} operations "
            "nested); verify(...) checks such a graph's derivatives through the graph, one "
            "operation at a time") from None
    outputs = tuple(values[p] for p in graph.output_positions)
    return outputs[0] if graph.single_output else outputs


def depth(graph):
    """The number of operations on the longest path from an input to an output.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.sympy_bridge import depth
    >>> depth(ad.parse("sin(cos(x)) + y"))
    3
    """
    depths = [0] * len(graph.nodes)
    for pos, _, args, _ in graph.program:
        depths[pos] = 1 + max((depths[a] for a in args), default=0)
    return max((depths[p] for p in graph.output_positions), default=0)


# Add, Mul and Pow are read by hand, not from the registry: a sympy sum or product of any
# length has no one op (x - y is Add(x, -y), x/y is Mul(x, Pow(y, -1))), and a power is
# sqrt, square, a reciprocal or power depending on its exponent. Every other sympy function is
# mapped to the op whose sympy form it is, read from the registry (see _functions).
_ARITHMETIC = (sp.Add, sp.Mul, sp.Pow)

_cache = {"key": None, "table": None, "named": {}}


def _functions():
    """sympy function class -> the registry op whose sympy form applies it to the op's inputs.

    Derived from the registry when called (and kept while the registry is unchanged): each op's
    sympy form is evaluated on fresh symbols, and where the result is one sympy function
    applied to exactly those symbols, in order (``sin(a0)``, ``atan2(a0, a1)``,
    ``Heaviside(a0, a1)``), that function stands for the op. Forms built of several sympy
    nodes (``log2``: ``log(a0)/log(2)``) do not map back; their values do, through their parts.

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.sympy_bridge import _functions
    >>> _functions()[sp.sin], _functions()[sp.atan2]
    ('sin', 'arctan2')
    """
    key = tuple(REGISTRY.items())
    if _cache["key"] != key:
        table = {}
        for name, prim in REGISTRY.items():
            if not prim.elementwise or prim.sympy is None:
                continue
            symbols = sp.symbols(f"a0:{prim.nin}", real=True)
            try:
                form = prim.sympy(*symbols)
            except Exception:       # noqa: BLE001 (a user's form that needs other inputs)
                continue
            if (isinstance(form, sp.Basic) and form.func not in _ARITHMETIC
                    and form.args == tuple(symbols)):
                table.setdefault(form.func, name)
        _cache.update(key=key, table=table, named={})
    return _cache["table"]


def _named_function(func, nargs):
    """The op a sympy function stands for by name, when the registry's form of it is not that
    function: sympy's ``log1p`` (``sympy.codegen.cfunctions``) is the op ``log1p``, whose form
    is ``log(x + 1)``. The op (by its name or an alias) must take ``nargs`` inputs, and the
    function, expanded, must equal the op's form."""
    name = getattr(func, "__name__", None)
    for prim in REGISTRY.values():
        if (prim.elementwise and prim.sympy is not None and prim.nin == nargs
                and name in (prim.name, *prim.aliases)):
            symbols = sp.symbols(f"a0:{nargs}", real=True)
            try:
                same = sp.simplify(sp.expand_func(func(*symbols)) - prim.sympy(*symbols)) == 0
            except Exception:       # noqa: BLE001 (not comparable: not this op)
                same = False
            if same:
                return prim.name
    return None


def _op_for(func, nargs):
    """The registry op for a sympy function of ``nargs`` arguments, or None."""
    name = _functions().get(func)
    if name is None and isinstance(func, type) and issubclass(func, sp.Function):
        named = _cache["named"]         # emptied with the table when the registry changes
        if (func, nargs) not in named:
            named[func, nargs] = _named_function(func, nargs)
        name = named[func, nargs]
    return name


def _supported():
    names = sorted({getattr(f, "__name__", str(f)) for f in _functions()})
    return "Add, Mul, Pow, numbers, symbols, " + ", ".join(names)


def _negative_coefficient(term):
    return term.as_coeff_Mul()[0].is_negative


def _parts(expr):
    """How one sympy node becomes dualad ops: ``(kind, sympy children, detail)``.

    Only this node is looked at; its children are built separately (and shared).
    """
    if isinstance(expr, sp.Symbol):
        return "input", (), None
    if expr.is_Atom and expr.is_number:           # 2, 1/3, 0.5, pi, E; also I, oo, nan
        if not expr.is_finite or not expr.is_real:
            raise ExpressionError(f"from_sympy: the number {expr} is not a finite real number")
        if expr.is_Rational and expr.q != 1:
            return "ratio", (), None      # p/q as a division, so it reads back exactly
        return "constant", (), None
    if isinstance(expr, sp.Add):
        # in printed order (so errors name the first function a reader sees), a positive
        # term leading
        terms = sorted(expr.as_ordered_terms(), key=_negative_coefficient)
        signs = [_negative_coefficient(t) for t in terms]
        return "add", tuple(-t if s else t for t, s in zip(terms, signs)), signs
    if isinstance(expr, sp.Mul):
        # x*y/(2*z): numerator factors, then denominators (negative powers as divisions)
        coefficient, rest = expr.as_coeff_Mul()
        factors = rest.as_ordered_factors()
        numerator = [f for f in factors if not _is_reciprocal(f)]
        denominator = [f.base ** -f.exp for f in factors if _is_reciprocal(f)]
        return "multiply", tuple(numerator + denominator), (coefficient, len(numerator))
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        if exponent == sp.S.Half:
            return "sqrt", (base,), None
        if exponent == 2:
            return "square", (base,), None
        if _is_reciprocal(expr):
            return "reciprocal", (base ** -exponent,), None
        return "power", (base, exponent), None
    name = _op_for(expr.func, len(expr.args))
    if name is not None and len(expr.args) == REGISTRY[name].nin:
        return "apply", expr.args, name
    # Max(x, y, z), And(a, b, c): sympy's associative functions take any number of arguments
    name = _op_for(expr.func, 2)
    if (name is not None and len(expr.args) > 2 and REGISTRY[name].nin == 2
            and issubclass(expr.func, sp.core.operations.AssocOp)):
        return "fold", expr.args, name
    what = getattr(expr.func, "__name__", type(expr).__name__)
    shown = str(expr)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise ExpressionError(f"from_sympy: {what} has no dualad primitive (in {shown}); "
                          f"supported: {_supported()}")


def _is_reciprocal(expr):
    return expr.is_Pow and expr.exp.is_Number and expr.exp.is_negative


def _constant(value):
    try:
        return as_node(float(value))
    except (OverflowError, TypeError):
        raise ExpressionError(f"from_sympy: the number {value} does not fit in a float") from None


def _fold(name, nodes):
    result = nodes[0]
    for node in nodes[1:]:
        result = apply_primitive(REGISTRY[name], result, node)
    return result


def _build(kind, expr, children, detail, leaves):
    """The dualad node for one sympy node whose children are already built."""
    if kind == "input":
        name = expr.name
        if name in leaves and leaves[name][0] != expr:
            raise ExpressionError(f"from_sympy: two different symbols are both named {name!r}")
        leaves.setdefault(name, (expr, Var(name=name)))
        return leaves[name][1]
    if kind == "constant":
        return _constant(expr)
    if kind == "ratio":
        return apply_primitive(REGISTRY["divide"], _constant(expr.p), _constant(expr.q))
    if kind == "add":
        result = children[0] if not detail[0] else apply_primitive(REGISTRY["negative"],
                                                                   children[0])
        for node, negative in zip(children[1:], detail[1:]):
            result = apply_primitive(REGISTRY["subtract" if negative else "add"], result, node)
        return result
    if kind == "multiply":
        coefficient, n_numerator = detail
        numerator, denominator = list(children[:n_numerator]), list(children[n_numerator:])
        p, q = (coefficient.p, coefficient.q) if coefficient.is_Rational else (coefficient, 1)
        if abs(p) != 1:
            numerator.insert(0, _constant(p))
        if q != 1:
            denominator.insert(0, _constant(q))
        result = _fold("multiply", numerator) if numerator else as_node(1.0)
        if denominator:
            result = apply_primitive(REGISTRY["divide"], result, _fold("multiply", denominator))
        return apply_primitive(REGISTRY["negative"], result) if p == -1 else result
    if kind == "reciprocal":
        return apply_primitive(REGISTRY["divide"], as_node(1.0), children[0])
    if kind == "fold":
        return _fold(detail, children)
    if kind == "apply":
        return apply_primitive(REGISTRY[detail], *children)
    return apply_primitive(REGISTRY[kind], *children)     # sqrt, square, power


def from_sympy(expr):
    """Build a :class:`~dualad.graph.Graph` from a sympy expression (or a sequence of them).

    ``Add`` and ``Mul`` of any length become chains of ``add``/``subtract`` and
    ``multiply``/``divide``; ``x**(1/2)`` becomes ``sqrt``, ``x**2`` ``square``, other powers
    ``power``. Every other sympy function becomes the registry op whose sympy form it is
    (``sin``, ``atan2``, ``Max``, ``Heaviside``, comparisons, and any op registered while the
    program runs whose form is one sympy function of its inputs), or the op of its name whose
    form it expands to (sympy's ``log1p``, ``expm1`` from ``sympy.codegen.cfunctions``);
    numbers (also ``pi``, ``E``) become constants. A subexpression used twice becomes one
    shared node. The inputs are the free symbols, in alphabetical order of their names (as in
    ``parse``).

    Raises
    ------
    ExpressionError
        Naming the first function (in reading order) that has no dualad primitive, or for
        anything that is not a sympy expression (text is refused: use :func:`dualad.parse`).

    Examples
    --------
    >>> import sympy as sp, dualad as ad
    >>> x, w = sp.symbols("x w")
    >>> g = ad.from_sympy(sp.sin(x * w) + sp.exp(x) / w)
    >>> [leaf.name for leaf in g.inputs], round(g(4.0, 1.0), 6)
    (['w', 'x'], -0.077232)
    >>> ad.from_sympy(sp.atan2(x, w)).nodes[-1].op.name
    'arctan2'
    >>> ad.from_sympy(sp.gamma(x) + 1)
    Traceback (most recent call last):
      ...
    dualad.errors.ExpressionError: from_sympy: gamma has no dualad primitive (in gamma(x)); ...
    """
    several = isinstance(expr, (list, tuple))
    exprs = list(expr) if several else [expr]
    for e in exprs:
        if not isinstance(e, (sp.Expr, sp.logic.boolalg.Boolean)):
            hint = "; to read text use dualad.parse" if isinstance(e, str) else ""
            raise ExpressionError(f"from_sympy: expected a sympy expression, got "
                                  f"{type(e).__name__}{hint}")
    built, parts, leaves = {}, {}, {}
    # post-order over the expression DAG with an explicit stack; shared subexpressions once
    stack = [(e, False) for e in reversed(exprs)]
    while stack:
        node, expanded = stack.pop()
        if node in built:
            continue
        if not expanded:
            if node not in parts:
                parts[node] = _parts(node)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(parts[node][1]) if c not in built)
            continue
        kind, children, detail = parts[node]
        built[node] = _build(kind, node, [built[c] for c in children], detail, leaves)
    inputs = [leaves[name][1] for name in sorted(leaves)]
    outputs = [built[e] for e in exprs]
    return Graph(outputs if several else outputs[0], inputs=inputs)
