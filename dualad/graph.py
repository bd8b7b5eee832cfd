"""The shared graph: ``Var`` nodes, the ``Graph`` they form, and its topological order.

This module owns graph *structure*: building nodes (eagerly computing their values when the
inputs have values, or, in a transform's trace of a function traced before, when the values
are first read: see "deferred values" below), wrapping numbers as constants, turning a seed-style ``Var(op=callable,
pds=[...])`` into a :class:`~dualad.primitives.Primitive`, the iterative topological sort, and
the instruction list evaluators walk. It owns no derivative formula (those are in
:mod:`dualad.primitives`) and no evaluation strategy (those are in :mod:`dualad.evaluators`).
``Var.forward()``/``Var.backward()`` are a thin facade: they run evaluators and copy results
onto the nodes' ``.value`` and ``.deriv``, as the seed program did.

Examples
--------
>>> import dualad as ad
>>> x, w = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
>>> y = ad.sin(x * w) + w
>>> y.backward()
>>> round(w.deriv, 6)      # d/dw [sin(xw) + w] = x cos(xw) + 1 at x = 1, w = 4
0.346356
"""

import gc
import inspect
import numbers
import threading
import types
from itertools import repeat
from operator import is_
from typing import NamedTuple

import numpy as np

from .errors import BranchChangedError, DualadError
from .mathns import as_float
from .overload import Overloaded
from .primitives import OVERLOADED_TYPES, Primitive
from . import release
from .release import ACTIVE as _RELEASING
from .shapes import shape_of
from .structure import remember, remembered
from .values import NO_PARAMS, as_value, describe, is_plain


# ---- nodes ----

_ARRAY = np.ndarray         # one global lookup in _node, which runs per node


def _node(prim, args, params):
    """The node ``prim(*args, **params)``; its value is computed unless an operand has none
    yet (a graph built before its leaves have values: forward() fills it in)."""
    params = params or NO_PARAMS
    kind = Var
    if _DEFERRING and getattr(_DEFER, "on", False):     # a transform's trace: values later
        kind, value, releasing = _Deferred, None, None   # computed when read (_Deferred)
        for a in args:
            if not isinstance(a, Var):      # a constant operand: made a leaf
                children = tuple([a if isinstance(a, Var) else _constant(prim, i, a)
                                  for i, a in enumerate(args)])
                break
        else:
            children = tuple(args)      # the same tuple, when it is one
    else:
        releasing = release.current() if _RELEASING else None    # a trace on big arrays
        if releasing is not None and releasing.ready:
            releasing.let_go()
        count = len(args)
        if count == 1:              # most ops have one or two operands: the steps below, unrolled
            a, = args
            if type(a) is not Var and not isinstance(a, Var):
                a = _constant(prim, 0, a)
            children = (a,)
            x = a.value
            if x is None and _RELEASING:
                x = release.recomputed(a)
            value = None
            if x is not None:
                if releasing is not None and releasing.spares and not params:
                    value = releasing.computed_in_spare(prim, (x,))
                if value is None:
                    ufunc = prim.array_ufunc
                    if (ufunc is not None and type(x) is _ARRAY and not params
                            and x.dtype.kind in "fc"):
                        try:
                            value = ufunc(x)
                        except Exception:
                            value = prim.evaluate(x)    # its error, in its words
                        if type(value) is not _ARRAY or not value.ndim:
                            value = as_float(value)
                    else:
                        value = prim.evaluate(x, **params) if params else prim.evaluate(x)
        elif count == 2:
            a, b = args
            if type(a) is not Var and not isinstance(a, Var):
                a = _constant(prim, 0, a)
            if type(b) is not Var and not isinstance(b, Var):
                b = _constant(prim, 1, b)
            children = (a, b)
            x, y = a.value, b.value
            if (x is None or y is None) and _RELEASING:
                x, y = release.recomputed(a), release.recomputed(b)
            value = None
            if x is not None and y is not None:
                if releasing is not None and releasing.spares and not params:
                    value = releasing.computed_in_spare(prim, (x, y))
                if value is None:
                    ufunc = prim.array_ufunc
                    if (ufunc is not None and type(x) is _ARRAY and type(y) is _ARRAY
                            and not params and x.dtype.kind in "fc" and y.dtype.kind in "fc"):
                        try:
                            value = ufunc(x, y)
                        except Exception:
                            value = prim.evaluate(x, y)     # its error, in its words
                        if type(value) is not _ARRAY or not value.ndim:
                            value = as_float(value)
                    else:
                        value = prim.evaluate(x, y, **params) if params else prim.evaluate(x, y)
        else:
            children, values = [], []
            known = True
            for i, a in enumerate(args):
                if type(a) is not Var and not isinstance(a, Var):
                    a = _constant(prim, i, a)
                children.append(a)
                value = release.recomputed(a) if _RELEASING else a.value
                if value is None:
                    known = False
                values.append(value)
            children = tuple(children)
            value = prim.evaluate(*values, **params) if known else None
    node = kind.__new__(kind)
    node.deriv = node.name = node._graph = None
    node.constant = False
    node.op = prim
    node.children = children
    node.params = params
    _VALUE.__set__(node, value)     # the slot itself (a _Deferred's value would be computed)
    if releasing is not None:
        releasing.built(node)
    return node


class Var(Overloaded):
    """A node of the shared graph: a leaf (an input or a constant) or an operation.

    Parameters
    ----------
    value : float, numpy array or None
        A leaf's value. For an operation node it is computed on creation when every child
        has a value, and recomputed by :meth:`forward`.
    deriv : optional
        Filled in by :meth:`backward` with d(output)/d(this node).
    op : Primitive, callable or None
        ``None`` for a leaf; a registry :class:`~dualad.primitives.Primitive`; or, as in the
        seed program, any numpy-style callable together with ``pds``.
    children : sequence, optional
        The operation's inputs, in argument order. Numbers and arrays become constants.
    pds : sequence, optional
        Seed-style local partials, one per child: callables of the children's values
        (``lambda a, b: -a / (b * b)``), optionally also taking the op's output as a last
        argument, or constants.
    name : str, optional
        Shown in traces and used for sympy symbols.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> a, b = ad.Var(6.0, name="a"), ad.Var(3.0, name="b")
    >>> q = ad.Var(op=np.divide, children=[a, b],
    ...            pds=[lambda a, b: 1 / b, lambda a, b: -a / (b * b)])
    >>> q.value
    2.0
    >>> q.backward()
    >>> a.deriv, b.deriv
    (0.3333333333333333, -0.6666666666666666)
    """

    __slots__ = ("value", "deriv", "op", "children", "params", "name", "constant", "_graph")

    def __init__(self, value=None, deriv=None, op=None, children=None, pds=None, name=None):
        self.deriv = deriv
        self.name = name
        self.constant = False
        self._graph = None
        self.params = NO_PARAMS
        if op is None:
            if children:
                raise DualadError("Var: children given without an op")
            if pds is not None:
                raise DualadError("Var: pds given without an op")
            self.op = None
            self.children = ()
            # a leaf may be made before its value is known (parse): it is given at evaluation
            self.value = None if value is None else as_value(value, "Var: the value")
            return
        children = tuple(as_node(c) for c in (children or ()))
        if isinstance(op, Primitive):
            if pds is not None:
                raise DualadError(f"Var: op {op.name!r} comes from the registry; "
                                  "its partials cannot be replaced with pds")
            prim = op
        else:
            prim = seed_primitive(op, pds, len(children))
        if prim.nin != len(children):
            raise DualadError(f"Var: op {prim.name!r} takes {prim.nin} children, "
                              f"got {len(children)}")
        self.op = prim
        self.children = children
        if value is not None:
            self.value = as_value(value)
        else:   # computed now, unless a child has no value yet (forward() fills it in)
            known = all(c.value is not None for c in children)
            self.value = prim.evaluate(*[c.value for c in children]) if known else None

    # -- the seed's facade over the evaluators --

    def forward(self):
        """Recompute every value below this node from the leaves' current values.

        Returns this node's new value. The graph below is sorted once and reused.

        Examples
        --------
        >>> import dualad as ad
        >>> x = ad.Var(2.0)
        >>> y = x * x
        >>> x.value = 3.0
        >>> y.forward()
        9.0
        """
        from .evaluators import DEFAULT
        graph = self._facade_graph()
        values = DEFAULT["value"](graph).run([node.value for node in graph.inputs])
        for node, value in zip(graph.nodes, values):
            node.value = value
        return self.value

    def backward(self, seed=None):
        """Set ``.deriv`` of every node below to d(self)/d(node): reverse mode.

        Uses the nodes' current values (call :meth:`forward` after changing a leaf). Calling it
        twice gives the same result: adjoints are recomputed, never accumulated across calls.
        Constants (numbers wrapped by an operation) get ``deriv = None``.

        Parameters
        ----------
        seed : optional
            d(loss)/d(self); required when this node is not a scalar, and then of its shape.

        Raises
        ------
        DualadError
            If this node is not a scalar and no seed is given; the message gives its shape.

        Examples
        --------
        >>> import dualad as ad
        >>> x = ad.Var(3.0)
        >>> y = x * x
        >>> y.backward(); y.backward()
        >>> x.deriv
        6.0
        """
        from .evaluators import DEFAULT
        from .evaluators.reverse import as_result, default_seed
        graph = self._facade_graph()
        values = [node.value for node in graph.nodes]
        if any(map(is_, values, repeat(None))):
            self.forward()
            values = [node.value for node in graph.nodes]
        if seed is None:
            seed = default_seed(self.value, "backward")
        adjoints = DEFAULT["reverse"](graph).run(values, [seed])
        adjoints[graph.output_positions[0]] = seed    # d(self)/d(self), even through sign()
        if set(map(type, adjoints)) == {float}:       # floats all: each is its deriv
            for node, adjoint in zip(graph.nodes, adjoints):
                node.deriv = adjoint
            return
        depends = graph.depends_on_inputs()
        for node, adjoint, dependent in zip(graph.nodes, adjoints, depends):
            if adjoint is None and not dependent:
                node.deriv = None                      # a constant, or made of constants
            elif adjoint is None or type(adjoint) is not float:
                node.deriv = as_result(adjoint, node.value)
            else:
                node.deriv = adjoint

    def _facade_graph(self):
        # Nodes are immutable once built, so the sorted graph below a node can be kept.
        if self._graph is None:
            self._graph = Graph([self])
        return self._graph

    def _repr_svg_(self):
        """The graph below this node as SVG in Jupyter: Graphviz's drawing where ``dot`` is
        installed, dualad's own otherwise (``None``, so text, past 300 nodes)."""
        from .graphviz import svg_for_notebook
        return svg_for_notebook(self)

    def __repr__(self):
        what = "leaf" if self.op is None else self.op.name
        if self.constant:
            what = "constant"
        name = f", name={self.name!r}" if self.name else ""
        return f"Var({what}, value={self.value!r}{name})"

    _apply = staticmethod(_node)      # an operator on a Var builds a node

    @staticmethod
    def _plain(x):
        return x.value if isinstance(x, Var) else x

    _plain_attribute = "value"

    def __bool__(self):
        # Python control flow on a value (`if x > 0:`) is decided now, once: while a function
        # is traced, the decision is recorded as a guard that the graph checks at new points.
        value = self.value
        if value is None:
            raise DualadError("bool() of a Var without a value")
        if shape_of(value) not in ((), (1,)) and np.size(value) != 1:
            raise DualadError(f"the truth value of a Var holding an array of shape "
                              f"{shape_of(value)} is ambiguous; choose elementwise with "
                              "ad.where(condition, a, b)")
        outcome = bool(value)
        for guards in getattr(_TRACING, "guards", ()):
            guards.append(Guard(self, outcome))
        return outcome

    __hash__ = object.__hash__


def as_node(x, what="Var: the value"):
    """Return ``x`` if it is a ``Var``, else wrap it as a constant leaf.

    ``what`` names the value in the error raised for ``None`` or anything that is not a number.

    Examples
    --------
    >>> from dualad.graph import as_node
    >>> as_node(2).constant, as_node(2).value
    (True, 2.0)
    """
    if isinstance(x, Var):
        return x
    node = _leaf(x if is_plain(x) else as_value(x, what), None)
    node.constant = True
    return node


# ---- deferred values ----
#
# A transform's trace of a function it has traced before builds its nodes without computing
# their values: the transform then computes the values and the derivatives in one recorded
# program (see ``FastReverseEvaluator.gradient_from_inputs``), which on big arrays runs in
# cache-sized blocks, and on small ones as one straight-line function. A node whose value is
# not computed yet is a ``_Deferred``; reading its value (a branch ``if x > 0``, a shape, a
# print, anything) computes it then, and its operands first, with the same op on the same
# numbers as when it is built, so the reader sees the same value bit for bit.

#: One entry for each thread running a deferred trace now (what the node builder looks at
#: first; a list, whose append and pop are atomic, so threads need no lock to count)
_DEFERRING = []
#: How many times a deferred value has been computed on reading it, in any thread.
_FORCED = 0
_DEFER = threading.local()
_VALUE = Var.__dict__["value"]       # the value slot itself


class _Deferred(Var):
    """A node of a deferred trace whose value is computed when first read; it is then a
    plain ``Var``."""

    __slots__ = ()

    @property
    def value(self):
        return _force(self)

    @value.setter
    def value(self, value):         # a value given (forward(), a release): nothing to compute
        _VALUE.__set__(self, value)
        self.__class__ = Var


def _force(node):
    """Compute the value of the deferred ``node``, and first of its deferred operands (walked
    without recursion), each from its operands as a released value is computed again
    (:func:`dualad.release.restore`); setting the value makes each a plain ``Var``."""
    global _FORCED
    _FORCED += 1
    stack = [node]
    while stack:
        top = stack[-1]
        if type(top) is not _Deferred:
            stack.pop()
            continue
        waiting = [c for c in top.children if type(c) is _Deferred]
        if waiting:
            stack.extend(waiting)
            continue
        stack.pop()
        if any(c.value is None for c in top.children):
            top.value = None        # a leaf below has no value yet
        else:
            release.restore([top])
    return _VALUE.__get__(node, Var)


OVERLOADED_TYPES[_Deferred] = _node


def apply_primitive(prim, *args, **params):
    """Make the node ``prim(*args, **params)``, computing its value when it can.

    This is how every op function and operator builds the graph.

    Examples
    --------
    >>> from dualad.graph import Var, apply_primitive
    >>> from dualad.primitives import REGISTRY
    >>> apply_primitive(REGISTRY["add"], Var(1.0), 2).value
    3.0
    """
    return _node(prim, args, params)


# Evaluating any primitive on a Var builds a node: this is how rules run on Vars when a
# derivative is itself differentiated (transforms nested inside a trace).
OVERLOADED_TYPES[Var] = _node


def _leaf(value, name):
    """``Var(value, name=name)`` for a value :func:`~dualad.values.as_value` has checked."""
    node = Var.__new__(Var)
    node.value, node.name = value, name
    node.deriv = node.op = node._graph = None
    node.constant = False
    node.children = ()
    node.params = NO_PARAMS
    return node


def _constant(prim, i, value):
    """``value`` as a constant operand of ``prim``; the error names the op and the operand."""
    if is_plain(value):        # as_node's usual case, without its checks
        node = _leaf(value, None)
        node.constant = True
        return node
    try:
        return as_node(value)
    except DualadError as err:
        raise DualadError(str(err).replace("Var: the value", f"{prim.name}: operand {i}",
                                           1)) from None


# ---- seed-style user operations ----

def _seed_rule(pd, nin, op_name, index):
    """One seed-style partial as a registry-style rule ``rule(m, *inputs, out)``."""
    if isinstance(pd, Var) or not callable(pd):
        if isinstance(pd, numbers.Number) or isinstance(pd, np.ndarray):
            return lambda m, *args: pd
        raise DualadError(f"Var: partial {index} of op {op_name!r} must be a callable or a "
                          f"number, got {type(pd).__name__}")
    if isinstance(pd, np.ufunc):
        takes = pd.nin
    else:
        try:
            parameters = inspect.signature(pd).parameters.values()
        except (TypeError, ValueError):
            parameters = ()
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY,
                                                          p.POSITIONAL_OR_KEYWORD)]
        takes = nin + 1 if len(positional) == nin + 1 else nin
    if takes == nin + 1:
        return lambda m, *args: pd(*args)
    return lambda m, *args: pd(*args[:nin])


def seed_primitive(op, pds, nin):
    """Turn the seed's ``Var(op=callable, pds=[...])`` into a Primitive (not registered).

    Evaluators then see one kind of rule only. The op is numpy-style (it takes the children's
    values); each partial takes the children's values, optionally followed by the output.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.graph import seed_primitive
    >>> from dualad.mathns import NUMPY
    >>> prim = seed_primitive(np.sin, [np.cos], 1)
    >>> prim.name, float(prim.pds[0](NUMPY, 0.0, 0.0))
    ('sin', 1.0)
    """
    if not callable(op):
        raise DualadError(f"Var: op must be a Primitive or a callable, got {type(op).__name__}")
    name = getattr(op, "__name__", type(op).__name__)
    if pds is None or len(pds) != nin:
        got = "no partials" if pds is None else f"{len(pds)} partials"
        raise DualadError(f"Var: op {name!r} has {nin} children but {got}; give one partial "
                          "per child in pds")
    rules = tuple(_seed_rule(pd, nin, name, i) for i, pd in enumerate(pds))
    return Primitive(name=name, numpy=op, pds=rules)


# ---- the graph ----

def topological_order(outputs, stop=()):
    """Every node below ``outputs``, each after its children, without recursion.

    Children are visited in argument order, so the order is the same on every run. Nodes in
    ``stop`` are included but not looked below (they act as the leaves of a sub-graph).

    Examples
    --------
    >>> import dualad as ad
    >>> x = ad.Var(1.0, name="x")
    >>> y = ad.sin(x)
    >>> [n.name or n.op.name for n in ad.topological_order([y * y])]
    ['x', 'sin', 'multiply']
    """
    with _collector_paused():
        return _sorted_nodes(outputs, {id(node) for node in stop})[0]


def _sorted_nodes(roots, stopped):
    """``(nodes, position)``: the nodes below ``roots`` in depth-first post-order (children in
    argument order), and each node's index by ``id``. The walk keeps a stack of the nodes
    being visited and, beside it, the index of the next child to look at in each; nodes whose
    ``id`` is in ``stopped`` are not looked below."""
    order, position = [], {}
    for root in roots:
        key = id(root)
        if key in position:
            continue
        if key in stopped or not root.children:
            position[key] = len(order)
            order.append(root)
            continue
        nodes, nexts = [root], [0]
        while nodes:
            node = nodes[-1]
            children = node.children
            k, n = nexts[-1], len(children)
            while k < n:
                child = children[k]
                k += 1
                key = id(child)
                if key in position:
                    continue
                if key in stopped or not child.children:     # a leaf: placed at once
                    position[key] = len(order)
                    order.append(child)
                    continue
                nexts[-1] = k
                nodes.append(child)
                nexts.append(0)
                break
            else:                                            # every child placed
                nodes.pop()
                nexts.pop()
                position[id(node)] = len(order)
                order.append(node)
    return order, position


class _collector_paused:
    """Pause Python's cyclic garbage collector while building a large graph.

    Sorting a million nodes allocates millions of small objects; each allocation burst would
    otherwise trigger collections that rescan the whole (acyclic, still-live) graph.
    """

    __slots__ = ("enabled",)

    def __enter__(self):
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info):
        if self.enabled:
            gc.enable()


class Instruction(NamedTuple):
    """One step of a graph's program: ``nodes[pos] = prim(*nodes[args], **params)``."""

    pos: int
    prim: Primitive
    args: tuple
    params: dict


class Guard(NamedTuple):
    """A branch decision taken while tracing: ``bool(node)`` came out as ``outcome``."""

    node: object
    outcome: bool


class Graph:
    """A computation as data: inputs, outputs, and the nodes between in topological order.

    Parameters
    ----------
    outputs : Var or sequence of Var
    inputs : sequence of Var, optional
        Nodes to treat as the inputs, in order. By default every leaf that is not a constant,
        in topological order. An input that is not a leaf cuts the graph there: what lies
        below it is not part of this graph (used to differentiate inside another transform).
    guards : sequence of Guard, optional
        Branch decisions recorded while tracing (see :func:`trace`): each is checked whenever
        the graph's values are computed at a new point.

    Attributes
    ----------
    nodes : list of Var
        Every node, each after its children (computed iteratively).
    program : list of Instruction
        The operation nodes as a straight-line program over positions in ``nodes``.
    op_positions, op_args : list
        The same program in columns (each operation's position, and its arguments'
        positions): what fast paths walk, without building an ``Instruction`` per node.
    structure : Structure or None
        For a traced graph, the structure it shares with the other traces of its function
        that have the same ops (see :mod:`dualad.structure`); ``None`` otherwise.
    released : tuple of int
        Positions whose values a transform's trace let go of, because no program it runs reads
        them (see :mod:`dualad.release`); empty for every graph a user builds or traces.
        :meth:`restore_released` computes them again.

    Examples
    --------
    >>> import dualad as ad
    >>> x, w = ad.Var(1.0, name="x"), ad.Var(4.0, name="w")
    >>> g = ad.Graph(ad.sin(x * w))
    >>> [v.name for v in g.inputs], len(g)
    (['x', 'w'], 4)
    >>> round(g(0.5, 2.0), 6)     # sin(0.5 * 2)
    0.841471
    """

    def __init__(self, outputs, inputs=None, guards=()):
        self.single_output = isinstance(outputs, Var)
        outputs = [outputs] if self.single_output else list(outputs)
        for out in outputs:
            if not isinstance(out, Var):
                raise DualadError(f"Graph: outputs must be Vars, got {type(out).__name__}")
        guards = _distinct_guards(guards)
        roots = outputs + [guard.node for guard in guards]
        if inputs is not None:
            inputs = list(inputs)
            for node in inputs:
                if not isinstance(node, Var):
                    raise DualadError(f"Graph: inputs must be Vars, got {type(node).__name__}")
        with _collector_paused():
            cut = set() if inputs is None else {id(node) for node in inputs}
            if inputs is not None and len(cut) != len(inputs):
                raise DualadError("Graph: the same node is given twice as an input")
            nodes, position = _sorted_nodes(roots, cut)
            if inputs is None:
                inputs = [n for n in nodes if n.op is None and not n.constant]
            else:
                # an input nothing depends on still belongs to the graph (its gradient is 0)
                unused = [node for node in inputs if id(node) not in position]
                if unused:
                    nodes = unused + nodes
                    position = {id(n): i for i, n in enumerate(nodes)}
            self.input_positions = tuple([position[id(n)] for n in inputs])
            self.output_positions = tuple([position[id(n)] for n in outputs])
            self.guards = tuple([(position[id(g.node)], g.outcome) for g in guards])
            self.leaf_positions = leaves = []
            self.op_positions = ops = []
            self.op_args = args = []
            for i, node in enumerate(nodes):
                if node.op is None:
                    leaves.append(i)
                elif id(node) not in cut:
                    ops.append(i)
                    args.append(tuple([position[id(c)] for c in node.children]))
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self._program = None
        self._activity = {}
        self._input_names = None
        self.structure = None

    @classmethod
    def rebuilt(cls, structure, nodes, inputs, outputs):
        """The graph whose nodes ``structure.placed`` found (in order): the graph the
        constructor would build from ``outputs``, ``inputs`` and the guards, without sorting
        it again. It shares ``structure`` (and so the programs recorded for it).

        Examples
        --------
        >>> import dualad as ad
        >>> from dualad.structure import Structure
        >>> f = lambda x: ad.exp(x) * x
        >>> shape = Structure.of(ad.trace(f, 1.0))
        >>> again = ad.trace(f, 2.0)
        >>> nodes = shape.placed(again.outputs, again.inputs, ())
        >>> ad.Graph.rebuilt(shape, nodes, again.inputs, again.outputs)(2.0) == again(2.0)
        True
        """
        graph = cls.__new__(cls)
        graph.single_output = len(outputs) == 1
        graph.nodes = nodes
        graph.inputs = list(inputs)
        graph.outputs = list(outputs)
        graph.input_positions = structure.input_positions
        graph.output_positions = structure.output_positions
        graph.guards = structure.guards
        graph.leaf_positions = structure.leaf_positions
        graph.op_positions = structure.op_positions
        graph.op_args = structure.op_args
        graph._program = None
        graph._activity = {}
        graph._input_names = None
        graph.structure = structure
        return graph

    @property
    def program(self):
        """The operations as ``Instruction(pos, prim, args, params)``, in topological order.

        Built on first use (the fast paths walk ``op_positions``/``op_args`` instead).
        """
        program = self._program
        if program is None:
            nodes = self.nodes
            with _collector_paused():
                program = [Instruction(pos, nodes[pos].op, args, nodes[pos].params)
                           for pos, args in zip(self.op_positions, self.op_args)]
            self._program = program
        return program

    def __len__(self):
        return len(self.nodes)

    @property
    def input_names(self):
        """One distinct name per input, in order: the name every view of the graph uses.

        A named leaf keeps its name; an unnamed input ``k`` is ``x{k}``; a name used twice (two
        leaves both called ``x``) gets a suffix (``x_2``). ``to_sympy``, ``verify``,
        ``compare``, the traces, compiled code and pictures all call inputs by these names
        (compiled code makes them valid ASCII identifiers first).

        Examples
        --------
        >>> import dualad as ad
        >>> a, b, c = ad.Var(1.0, name="x"), ad.Var(2.0), ad.Var(3.0, name="x")
        >>> ad.Graph(a * b * c).input_names
        ['x', 'x1', 'x_2']
        """
        names = self._input_names
        if names is None:
            named = {leaf.name for leaf in self.inputs if leaf.name}
            names = []
            for k, leaf in enumerate(self.inputs):
                base = str(leaf.name) if leaf.name else f"x{k}"
                name, count = base, 1
                while name in names or (not leaf.name and name in named):
                    count += 1
                    name = f"{base}_{count}"
                names.append(name)
            self._input_names = names
        return list(names)

    def _repr_svg_(self):
        """The graph as SVG in Jupyter: Graphviz's drawing where ``dot`` is installed,
        dualad's own otherwise (``None``, so text, past 300 nodes)."""
        from .graphviz import svg_for_notebook
        return svg_for_notebook(self)

    def __repr__(self):
        names = ", ".join(self.input_names)
        return (f"<Graph ({names}) -> {len(self.outputs)} output(s), "
                f"{len(self.nodes)} nodes>")

    def __call__(self, *input_values):
        """Evaluate at new input values; the output value, or a tuple of them."""
        from .evaluators import DEFAULT
        values = DEFAULT["value"](self).run(input_values)
        outs = tuple(values[p] for p in self.output_positions)
        return outs[0] if self.single_output else outs

    def check_guards(self, values):
        """Raise :class:`~dualad.errors.BranchChangedError` if a branch decision recorded while
        tracing comes out differently for these node values.

        Values that cannot be decided now (sympy expressions, abstract values) are skipped; a
        ``Var`` value (a graph evaluated inside another trace) passes its decision on to that
        trace.

        Examples
        --------
        >>> import dualad as ad
        >>> graph = ad.trace(lambda x: x if x > 0 else -x, 1.0)
        >>> graph.guards
        ((2, True),)
        """
        for pos, outcome in self.guards:
            value = values[pos]
            if isinstance(value, Var) or isinstance(value, (bool, np.bool_)) or (
                    isinstance(value, np.ndarray) and value.dtype == bool):
                now = bool(value)
            elif isinstance(value, (float, int, np.floating, np.integer)):
                now = bool(value)
            else:
                continue
            if now != outcome:
                from .printing import guard_text
                raise BranchChangedError(guard_text(self, pos, values, outcome))

    released = ()
    #: True for a transform's trace whose nodes were built without their values (see
    #: :func:`traced`): they are computed when read.
    deferred = False

    def restore_released(self, values=None):
        """Compute the released values again (each from its operands: the same numbers), on
        the nodes and, where given, in ``values`` (a list by position).

        Examples
        --------
        >>> import dualad as ad
        >>> g = ad.trace(lambda x: ad.exp(x) * 2.0, 1.0)
        >>> kept, g.nodes[1].value, g.released = g.nodes[1].value, None, (1,)
        >>> g.restore_released(); g.nodes[1].value == kept, g.released
        (True, ())
        """
        positions, self.released = self.released, ()
        nodes = self.nodes
        release.restore([nodes[p] for p in positions])
        if values is not None:
            for p in positions:
                values[p] = nodes[p].value

    def leaf_values(self, input_values):
        """A value buffer with every leaf filled: inputs from ``input_values``, other leaves
        (constants) from the nodes.

        Examples
        --------
        >>> import dualad as ad
        >>> x = ad.Var(1.0)
        >>> ad.Graph(x + 2).leaf_values([5.0])
        [5.0, 2.0, None]
        """
        if len(input_values) != len(self.inputs):
            raise DualadError(f"Graph: expected {len(self.inputs)} input value(s) "
                              f"({', '.join(n.name or '?' for n in self.inputs)}), "
                              f"got {len(input_values)}")
        values = [None] * len(self.nodes)
        nodes = self.nodes
        for i in self.leaf_positions:
            values[i] = nodes[i].value
        for k, (pos, value) in enumerate(zip(self.input_positions, input_values)):
            values[pos] = value if is_plain(value) else as_value(
                value, f"Graph: the value of input {k} ({self.inputs[k].name or k})")
        return values

    def depends_on_inputs(self):
        """Which nodes are computed from an input (through any op, even one whose derivative
        is zero): the nodes that have a derivative, possibly 0.

        Examples
        --------
        >>> import dualad as ad
        >>> x = ad.Var(1.0)
        >>> ad.Graph(ad.sign(x) + 2).depends_on_inputs()
        [True, True, False, True]
        """
        depends = self._activity.get("depends")
        if depends is None:
            depends = [False] * len(self.nodes)
            for pos in self.input_positions:
                depends[pos] = True
            for pos, args in zip(self.op_positions, self.op_args):
                for a in args:
                    if depends[a]:
                        depends[pos] = True
                        break
            self._activity["depends"] = depends
        return depends

    def activity(self, wrt=None):
        """Which nodes depend on the inputs at positions ``wrt`` (default: all inputs).

        Only these nodes carry tangents or adjoints; the rest are constants to every mode.

        Examples
        --------
        >>> import dualad as ad
        >>> x = ad.Var(1.0)
        >>> ad.Graph(x * 2).activity()
        [True, False, True]
        """
        key = self.input_positions if wrt is None else tuple(wrt)
        active = self._activity.get(key)
        if active is None:
            active = [False] * len(self.nodes)
            for pos in key:
                active[pos] = True
            nodes = self.nodes
            for pos, args in zip(self.op_positions, self.op_args):
                if nodes[pos].op.zero_derivative:
                    continue     # constant almost everywhere: no derivative flows through it
                for a in args:
                    if active[a]:
                        active[pos] = True
                        break
            self._activity[key] = active
        return active


def element_label(name, index):
    """The label of one element of an input or output: ``W[0, 1]`` (``name`` for a scalar).

    Examples
    --------
    >>> from dualad.graph import element_label
    >>> element_label("W", (0, 1)), element_label("x", ())
    ('W[0, 1]', 'x')
    """
    return name if index == () else f"{name}[{', '.join(map(str, index))}]"


# ---- tracing Python functions ----

_TRACING = threading.local()


def tracing_depth():
    """How many ``trace`` calls are running ``f`` on this thread right now (0 outside).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.graph import tracing_depth
    >>> tracing_depth(), ad.trace(lambda x: x * tracing_depth(), 1.0)(1.0)
    (0, 1.0)
    """
    return len(getattr(_TRACING, "guards", ()))     # one list of guards per running trace


def _argument_names(f, count, code):
    """Names for ``count`` positional arguments of ``f``: its parameter names where it has
    them, else x0, x1, ... (looked up once per function, by ``code``, its
    :func:`_code_key`: the transforms trace it again at every call)."""
    # a plain function's positional names are its code's (its defaults do not change them),
    # and a wrapper's are those of the function it wraps; a bound method shares its
    # function's code but not its first name, and an object with a __signature__ says its
    # own names: those are looked up every time
    key = None if code is None else (code, count)
    names = None if key is None else _NAMES.get(key)
    if names is not None:
        return list(names)
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = []
    for p in parameters:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and len(names) < count:
            names.append(p.name)
    names += [f"x{i}" for i in range(len(names), count)]
    if key is not None:
        if len(_NAMES) > 1024:
            _NAMES.clear()
        _NAMES[key] = tuple(names)
    return names


#: (code key, argument count) -> argument names: functions traced again and again.
_NAMES = {}


def _code_key(f):
    """What identifies the code a plain function runs, for what is kept per function (its
    arguments' names, the structure of its last trace): its code object, or for a wrapper
    made with ``functools.wraps`` (``has_aux``'s, a user's decorator) the codes of the
    wrapper and of each function it wraps, so that two wrapped functions are told apart.
    ``None`` for anything else: a bound method, a callable object, a ``functools.partial``,
    a function that declares its own ``__signature__``.

    Examples
    --------
    >>> import functools
    >>> def f(x): return x
    >>> _code_key(f) is f.__code__
    True
    >>> wrapped = functools.wraps(f)(lambda *args: f(*args))
    >>> _code_key(wrapped) == (wrapped.__code__, f.__code__)
    True
    >>> _code_key(functools.partial(f)) is None
    True
    """
    if type(f) is types.FunctionType and not f.__dict__:
        return f.__code__       # the usual case: no __wrapped__, no __signature__
    codes, seen = [], set()
    while True:
        if type(f) is not types.FunctionType or hasattr(f, "__signature__") or id(f) in seen:
            return None
        seen.add(id(f))
        codes.append(f.__code__)
        f = getattr(f, "__wrapped__", None)
        if f is None:
            return codes[0] if len(codes) == 1 else tuple(codes)


def trace(f, *example_args):
    """Run ``f`` once on ``Var`` leaves and record the graph it builds.

    The leaves are named after ``f``'s parameters and become the graph's inputs, in order.
    The graph can then be evaluated and differentiated at other points without re-running
    ``f``. Python control flow on values (``if x > 0:``) is decided at trace time and frozen
    into the graph: re-trace when a branch would go the other way.

    Parameters
    ----------
    f : callable
        Takes one value per example argument and returns a value or a tuple of values.
    *example_args : float or array
        Where to trace ``f``; shapes are fixed by these.

    Returns
    -------
    Graph
        Inputs are the arguments; outputs are ``f``'s results (several for a tuple).

    Examples
    --------
    >>> import dualad as ad
    >>> g = ad.trace(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0)
    >>> [v.name for v in g.inputs], len(g)
    (['x1', 'x2'], 7)
    >>> round(g(2.0, 5.0), 4)
    11.6521
    """
    return traced(f, example_args)


def traced(f, example_args, release_values=None, defer=False, checked=False):
    """:func:`trace` as the transforms run it. With ``release_values`` (a mode, "forward" or
    "reverse"), a trace on big arrays lets go of the values that no program of that mode
    recorded for the function's last trace reads (see :mod:`dualad.release`); the graph
    lists them in ``released``. With ``defer``, a function traced before (not inside another
    trace) builds its nodes without computing their values (see ``_Deferred``): the graph's
    ``deferred`` is then True, and the caller computes them, or reads them one by one. A
    function that reads a value while it runs (a branch, a print) has every value computed
    before the trace returns, and its later traces compute them as they go. ``checked`` says
    the arguments are values :func:`~dualad.values.as_value` has already checked.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.graph import traced
    >>> traced(lambda x: ad.sin(x) * x, (1.0,), release_values="reverse").released
    ()
    """
    if isinstance(f, Graph):
        return f
    if not callable(f):
        raise DualadError(f"trace: expected a function, got {type(f).__name__}")
    count = len(example_args)
    code = _code_key(f)
    names = _argument_names(f, count, code)
    # A Var argument (from an enclosing trace) is used as it is, so derivatives taken inside
    # the enclosing function stay differentiable: that is how transforms nest.
    leaves, nested = [], False
    for k, (value, name) in enumerate(zip(example_args, names)):
        if isinstance(value, Var):
            leaves.append(value)
            nested = True
        else:
            if not checked and not is_plain(value):
                value = as_value(value, f"trace: argument {k} ({name})")
            leaves.append(_leaf(value, name))
    # the structure of the function's last trace (see _graph_of_trace); not inside a trace
    # (a bound method is known by its function's code: the structure check tells instances
    # apart where they compute differently)
    code = None if nested else (code or getattr(f, "__code__", None))
    key = None if code is None else (code, count)
    structure = None if key is None else remembered(key)
    guards = []
    running = getattr(_TRACING, "guards", ())
    deferred = (defer and structure is not None and not running
                and structure.cache.get("defer", True))
    forced = _FORCED
    releasing = (_releasing(structure, release_values) if release_values and not deferred
                 and structure is not None and not running else None)
    outer = release.current() if _RELEASING else None    # a trace inside a releasing one
    if releasing is not None:
        release.begin(releasing)
    elif outer is not None:
        release.switch(None)
    _TRACING.guards = running + (guards,)
    deferring = getattr(_DEFER, "on", False)    # this thread's nodes: deferred, or computed
    _DEFER.on = deferred
    if deferred:
        _DEFERRING.append(None)
    try:
        result = f(*leaves)
    finally:
        _DEFER.on = deferring
        if deferred:
            _DEFERRING.pop()
        _TRACING.guards = running
        if releasing is not None:
            release.end(releasing)
        elif outer is not None:
            release.switch(outer)
    what = "trace: the function returned"
    if isinstance(result, (tuple, list)):
        if not result:
            raise DualadError(f"{what} an empty {type(result).__name__}; return a value")
        outputs = [r if isinstance(r, Var) else
                   as_node(r, f"{what} {describe(r)} as output {k}, which")
                   for k, r in enumerate(result)]
        single = False
    else:
        if isinstance(result, np.ndarray) and result.dtype == object:
            raise DualadError("trace: the function returned a numpy array of Vars; return a "
                              "tuple of outputs, or build one array-valued Var (e.g. x * w)")
        if result is None:
            raise DualadError(f"{what} None; return the value to differentiate")
        outputs = [result if isinstance(result, Var) else
                   as_node(result, f"{what} {describe(result)}, which")]
        single = True
    if releasing is not None:
        releasing.finish()
    graph = _graph_of_trace(key, structure, outputs, leaves, _distinct_guards(guards),
                            releasing)
    graph.single_output = single
    if deferred and _FORCED != forced:
        # the function read values as it ran (a branch, say): they are computed now, and
        # computed as they go from the next trace on, which may then release them
        structure.cache["defer"] = False
        for node in graph.nodes:
            node.value              # noqa: B018 (computes a deferred value)
    elif deferred:
        graph.deferred = True
    return graph


def _releasing(structure, mode):
    """What a transform's trace of a function whose last trace had ``structure`` lets go of
    for ``mode`` (a :class:`~dualad.release.Releasing`), or ``None``: only a function whose
    last trace on big arrays ran recorded programs of that mode."""
    plan = release.plan_for(structure, mode)
    return None if plan is None else release.Releasing(plan, mode)


def _graph_of_trace(key, structure, outputs, leaves, guards, releasing=None):
    """The graph of a trace of a function (``key``: its code object and argument count, or
    ``None`` for a trace inside another trace, or a callable without code): rebuilt from
    ``structure``, the function's last trace's, when the new nodes have that structure (see
    :mod:`dualad.structure`), else sorted anew, and its structure remembered under ``key``
    for the next trace. Values ``releasing`` let go of are listed in the graph's
    ``released``, or computed again when the graph is sorted anew."""
    if key is None:
        return Graph(outputs, inputs=leaves, guards=guards)
    if structure is not None:
        nodes = structure.placed(outputs, leaves, guards)
        if nodes is not None:
            graph = Graph.rebuilt(structure, nodes, leaves, outputs)
            if releasing is not None:
                releasing.settle(graph, structure)
            return graph
    if releasing is not None:
        releasing.restore()
    graph = Graph(outputs, inputs=leaves, guards=guards)
    graph.structure = remember(key, graph)
    return graph


def _distinct_guards(guards):
    """Each decision once (the same node tested twice with the same outcome is one guard)."""
    seen, kept = set(), []
    for guard in guards:
        key = (id(guard.node), guard.outcome)
        if key not in seen:
            seen.add(key)
            kept.append(guard)
    return kept
