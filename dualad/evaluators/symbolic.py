"""SympyEvaluator: the graph run on sympy values, using each op's sympy form.

This module owns running a graph symbolically: naming the inputs as sympy symbols (after the
leaves' names), turning float constants into sympy numbers, and evaluating every node with the
registry's ``sympy`` form, the *specification* of the op. It owns no derivative rule. Running
:class:`~dualad.evaluators.ForwardEvaluator` and :class:`~dualad.evaluators.ReverseEvaluator`
on sympy values (see :func:`with_constants`) gives the derivative expression each algorithm
computes; :mod:`dualad.verify` compares those with ``sympy.diff`` of what this evaluator gives.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators import SympyEvaluator
>>> x, w = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
>>> graph = ad.Graph(ad.sin(x * w) + 2 * w)
>>> values = SympyEvaluator(graph).run()
>>> values[graph.output_positions[0]]
2*w + sin(w*x)
"""

import fractions
import math
import numbers

import numpy as np
import sympy as sp

from ..errors import DualadError
from ..graph import Graph, Var, apply_primitive, as_node, element_label
from ..shapes import shape_of
from .base import Evaluator


def sympy_number(value, exact=False):
    """A number as a sympy number.

    Integer-valued floats become sympy Integers, ``math.pi`` and ``math.e`` become ``pi`` and
    ``E``, other floats sympy Floats of the same value. With ``exact=True`` a float becomes
    instead the shortest decimal that reads back as it, as an exact Rational (``0.1`` ->
    ``1/10``), which sympy simplifies more reliably than a Float. Arrays become object arrays;
    sympy values are returned unchanged.

    Examples
    --------
    >>> import math
    >>> from dualad.evaluators.symbolic import sympy_number
    >>> sympy_number(2.0), sympy_number(0.1), sympy_number(0.1, exact=True), sympy_number(math.pi)
    (2, 0.100000000000000, 1/10, pi)
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, np.ndarray):
        return _object_array(lambda v: sympy_number(v, exact), value)
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return sp.nan
        if math.isinf(value):
            return sp.oo if value > 0 else -sp.oo
        if value.is_integer():
            return sp.Integer(int(value))
        if value == math.pi:
            return sp.pi
        if value == math.e:
            return sp.E
        if not exact:
            return sp.Float(value)
        # repr is the shortest decimal that reads back as this float: what the user typed
        fraction = fractions.Fraction(repr(value))
        return sp.Rational(fraction.numerator, fraction.denominator)
    if isinstance(value, numbers.Complex):
        return sympy_number(value.real, exact) + sp.I * sympy_number(value.imag, exact)
    raise DualadError(f"SympyEvaluator: cannot turn a {type(value).__name__} into a sympy number")


def exact(value):
    """:func:`sympy_number` with ``exact=True``: floats as exact Rationals.

    Examples
    --------
    >>> from dualad.evaluators.symbolic import exact
    >>> exact(0.1), exact(2.5)
    (1/10, 5/2)
    """
    return sympy_number(value, exact=True)


def _object_array(convert, array):
    out = np.empty(np.shape(array), dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = convert(array[index])
    return out


def symbol_names(graph):
    """A distinct symbol name for each input of ``graph``: :attr:`Graph.input_names`.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.symbolic import symbol_names
    >>> a, b, c = ad.Var(1.0, name="x"), ad.Var(2.0), ad.Var(3.0, name="x")
    >>> symbol_names(ad.Graph(a * b * c))
    ['x', 'x1', 'x_2']
    """
    return graph.input_names


def input_symbols(graph, shapes=None, assumptions=None):
    """One sympy symbol per scalar input, an object array of symbols per array input.

    Parameters
    ----------
    graph : Graph
    shapes : sequence of tuple, optional
        The inputs' shapes; by default the shapes of the leaves' current values (a leaf
        without a value is a scalar). The elements of an array input ``x`` are ``x[0]``, ...
    assumptions : sequence of dict, optional
        sympy assumptions per input (``{"positive": True}``); none by default.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> from dualad.evaluators.symbolic import input_symbols
    >>> x, w = ad.Var(np.ones(2), name="x"), ad.Var(1.0, name="w")
    >>> input_symbols(ad.Graph(x * w))
    [array([x[0], x[1]], dtype=object), w]
    """
    names = symbol_names(graph)
    if shapes is None:
        shapes = [shape_of(leaf.value) for leaf in graph.inputs]
    if assumptions is None:
        assumptions = [{}] * len(names)
    symbols = []
    for name, shape, assumed in zip(names, shapes, assumptions):
        if shape == ():
            symbols.append(sp.Symbol(name, **assumed))
            continue
        array = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            array[index] = sp.Symbol(element_label(name, index), **assumed)
        symbols.append(array)
    return symbols


def with_constants(graph, convert=exact, op=None):
    """A copy of ``graph`` whose constant leaves hold ``convert(value)`` (exact sympy
    Rationals by default); inputs are fresh leaves with the same names and no values.
    ``op``, if given, maps each op to the Primitive the copy uses instead.

    Every evaluator then runs on the copy with sympy constants: the forward evaluator, which
    recomputes values from the leaves, sees ``1/10`` where the graph has ``0.1``, exactly as
    :class:`SympyEvaluator` does. Ops and their order are the same as in ``graph``.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.symbolic import with_constants
    >>> x = ad.Var(2.0, name="x")
    >>> copy = with_constants(ad.Graph(x * 0.1))
    >>> [node.value for node in copy.nodes]
    [None, 1/10, None]
    """
    copies, ops = {}, {}
    inputs = {id(leaf) for leaf in graph.inputs}
    for node in graph.nodes:
        if node.op is not None:
            if op is not None and id(node.op) not in ops:
                ops[id(node.op)] = op(node.op)
            copy = apply_primitive(ops.get(id(node.op), node.op),
                                   *(copies[id(c)] for c in node.children), **node.params)
        elif id(node) in inputs or node.value is None:
            copy = Var(name=node.name)
        else:  # a constant, or a leaf the graph does not treat as an input
            copy = as_node(convert(node.value))
        copies[id(node)] = copy
    copied = Graph([copies[id(out)] for out in graph.outputs],
                   inputs=[copies[id(leaf)] for leaf in graph.inputs])
    copied.single_output = graph.single_output
    return copied


def sympy_free_ops(graph):
    """The ops of ``graph`` that have no sympy form (seed-style user ops), each name once.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> from dualad.evaluators.symbolic import sympy_free_ops
    >>> x = ad.Var(1.0)
    >>> y = ad.Var(op=np.sin, children=[x], pds=[np.cos])
    >>> sympy_free_ops(ad.Graph(ad.exp(y)))
    ['sin']
    """
    names = []
    for instruction in graph.program:
        if instruction.prim.sympy is None and instruction.prim.name not in names:
            names.append(instruction.prim.name)
    return names


class SympyEvaluator(Evaluator):
    """Evaluate a graph on sympy values with each op's sympy form.

    Constants enter as sympy numbers of the same value (see :func:`sympy_number`). An op
    without a sympy form (a
    seed-style ``Var(op=callable, pds=...)``) raises :class:`~dualad.errors.DualadError`
    naming it.

    Examples
    --------
    >>> import sympy as sp, dualad as ad
    >>> from dualad.evaluators import SympyEvaluator
    >>> g = ad.parse("log(x1) + x1*x2 - sin(x2)")
    >>> SympyEvaluator(g).run()[-1]
    x1*x2 + log(x1) - sin(x2)
    >>> t = sp.Symbol("t")
    >>> SympyEvaluator(g).run([t, 2 * t])[-1]
    2*t**2 + log(t) - sin(2*t)
    """

    def run(self, input_values=None):
        """Values of all nodes; the inputs default to :func:`input_symbols` of the graph."""
        graph = self.graph
        if input_values is None:
            input_values = input_symbols(graph)
        values = graph.leaf_values([sympy_number(v) for v in input_values])
        for pos, node in enumerate(graph.nodes):
            if node.op is None and values[pos] is not None:
                values[pos] = sympy_number(values[pos])
            elif node.op is None:
                raise DualadError(f"SympyEvaluator: the leaf {node.name or pos!r} is not an "
                                  "input and has no value")
        self.values = values
        self.walk()
        return values

    def visit(self, instruction):
        pos, prim, args, params = instruction
        if prim.sympy is None:
            raise DualadError(
                f"SympyEvaluator: op {prim.name!r} has no sympy form (a user op defined with "
                "Var(op=..., pds=...)); only registry ops can be evaluated symbolically")
        values = self.values
        values[pos] = prim.evaluate_symbolic(*(values[a] for a in args), **params)
