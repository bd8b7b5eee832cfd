"""The walk every evaluator shares; no formulas.

This module owns :class:`Evaluator`: it holds a graph and visits its program in order
(``walk()``) or in reverse (``walk(reverse=True)``). Subclasses own their buffers and say what a
visit does. Local partials are combined with tangents/adjoints here once, for every
elementwise op, by :func:`push_tangent` (forward) and :func:`pull_adjoints` (reverse).

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators.base import Evaluator
>>> class CountOps(Evaluator):
...     def visit(self, instruction):
...         self.count += 1
>>> counter = CountOps(ad.Graph(ad.sin(ad.Var(1.0)) * 2))
>>> counter.count = 0; counter.walk(); counter.count
2
"""

import functools

from ..values import NO_PARAMS, opaque_handler
from ..mathns import (MATH, NUMPY, SYMPY, as_float, call_in_namespace, namespace_for,
                      numpy_scalars)
from ..primitives import REGISTRY
from ..shapes import align_tangent, shape_of, unbroadcast



class Evaluator:
    """Base class: holds a graph, walks its instruction list, leaves buffers to subclasses.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators import Evaluator, ValueEvaluator
    >>> issubclass(ValueEvaluator, Evaluator)
    True
    """

    def __init__(self, graph):
        self.graph = graph

    def walk(self, reverse=False):
        """Visit every operation node, children first (or, reversed, parents first)."""
        program = self.graph.program
        for instruction in (reversed(program) if reverse else program):
            self.visit(instruction)

    def visit(self, instruction):
        raise NotImplementedError


def local_partials(prim, inputs, out, wanted):
    """The local partials d(out)/d(input_j) of an elementwise op, for each ``j`` in ``wanted``.

    Each rule runs in the namespace its argument types call for (floats, arrays and Duals, or
    sympy values). Partials of inputs not in ``wanted`` are not computed at all.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> from dualad.evaluators.base import local_partials
    >>> local_partials(REGISTRY["multiply"], (2.0, 5.0), 10.0, (0, 1))
    [5.0, 2.0]
    """
    return [_partial(prim, j, inputs, out) if j in wanted else None
            for j in range(len(inputs))]


def _partial(prim, j, inputs, out):
    rule = prim.pds[j]
    try:
        return call_in_namespace(rule, *inputs, out)
    except Exception:
        # a rule that cannot run on values being recorded (a user's numpy-only partial) is
        # written as one call of the rule on the values
        handler = opaque_handler(*inputs, out)
        if handler is None:
            raise
        return handler(functools.partial(call_in_namespace, rule), (*inputs, out), {},
                       name=f"partial {j} of {prim.name}")


def _structural(rule, m, *args, **kwargs):
    """A structural op's jvp or vjp rule; written as one call where values are recorded and
    the rule cannot run on them."""
    try:
        return rule(m, *args, **kwargs)
    except ArithmeticError:
        # Python floats raise where numpy gives inf/nan (std's rule divides by std = 0.0):
        # run the rule again on numpy float64, as call_in_namespace does for partials
        if m is not NUMPY and m is not MATH:
            raise
        result = rule(NUMPY, *numpy_scalars(args), **kwargs)
        return tuple(map(as_float, result)) if isinstance(result, tuple) else as_float(result)
    except Exception:
        handler = opaque_handler(*_flat(args), *kwargs.values())
        if handler is None:
            raise
        return handler(functools.partial(rule, NUMPY), args, kwargs,
                       name=getattr(rule, "__name__", "rule"))


def _flat(args):
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from a
        else:
            yield a


def _term(prim, pd, derivative):
    """One term of the chain rule: the partial ``pd`` times a tangent or an adjoint. For an op
    that ``selects`` (``where``) it is a select: the derivative where ``pd`` is 1, exactly 0
    where it is 0 (even where the derivative is inf or nan). On sympy values it stays the
    product, which is the same function."""
    if not prim.selects or namespace_for(pd, derivative) is SYMPY:
        return pd * derivative
    where, not_equal = REGISTRY["where"].function, REGISTRY["not_equal"].function
    return where(not_equal(pd, 0), derivative, 0.0)


def push_tangent(prim, inputs, out, tangents, batch=0, params=NO_PARAMS, on_term=None):
    """Forward mode's step for one op: the output tangent from the input tangents (a JVP).

    For elementwise ops out_dot = sum_j pd_j * x_dot_j over the inputs that have a tangent
    (``None`` means zero and is skipped); structural ops use their ``jvp`` rule. Returns
    ``None`` when no input has a tangent. This is the one place the chain rule runs forward:
    ``ForwardEvaluator`` and ``Dual`` both call it. ``on_term(j, pd_j, term_j)``, if given, sees
    each term as it is added (``pd_j`` is ``None`` for a structural op's single term, ``j``
    then ``None`` too): how the traces and the walkthrough show the sum without computing it
    again.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> from dualad.evaluators.base import push_tangent
    >>> push_tangent(REGISTRY["multiply"], (2.0, 5.0), 10.0, (1.0, None))   # d(xy) along x
    5.0
    """
    wanted = [j for j, t in enumerate(tangents) if t is not None]
    if not wanted or prim.zero_derivative:
        return None
    if not prim.elementwise:
        m = namespace_for(*inputs, *(tangents[j] for j in wanted))
        out_dot = _structural(prim.jvp, m, tangents, inputs, out, batch, **params)
        if on_term is not None:
            on_term(None, None, out_dot)
        return out_dot
    pds = local_partials(prim, inputs, out, wanted)
    ndim = len(shape_of(out))
    out_dot = None
    for j in wanted:
        term = _term(prim, pds[j], align_tangent(tangents[j], ndim, batch))
        if on_term is not None:
            on_term(j, pds[j], term)
        out_dot = term if out_dot is None else out_dot + term
    target = shape_of(tangents[wanted[0]])[:batch] + shape_of(out)
    if shape_of(out_dot) != target:
        out_dot = NUMPY.broadcast_to(out_dot, target)
    return out_dot


def pull_adjoints(prim, inputs, out, out_bar, wanted, batch=0, params=NO_PARAMS,
                  on_term=None):
    """Reverse mode's step for one op: each wanted input's share of the adjoint (a VJP).

    For elementwise ops x_bar_j = unbroadcast(pd_j * out_bar) to input j's shape; structural
    ops use their ``vjp`` rule. Returns a list with ``None`` for inputs not in ``wanted``.
    This is the one place the chain rule runs backward. ``on_term(j, pd_j, share_j)``, if
    given, sees each input's share (``pd_j`` is ``None`` for a structural op).

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> from dualad.evaluators.base import pull_adjoints
    >>> pull_adjoints(REGISTRY["multiply"], (2.0, 5.0), 10.0, 1.0, (0, 1))
    [5.0, 2.0]
    """
    if prim.zero_derivative:
        return [None] * len(inputs)
    if not prim.elementwise:
        m = namespace_for(out_bar, *inputs)
        needs = [j in wanted for j in range(len(inputs))]
        bars = _structural(prim.vjp, m, out_bar, inputs, out, batch, needs=needs, **params)
        bars = [bars[j] if j in wanted else None for j in range(len(inputs))]
        if on_term is not None:
            for j in wanted:
                on_term(j, None, bars[j])
        return bars
    pds = local_partials(prim, inputs, out, wanted)
    bars = [unbroadcast(_term(prim, pds[j], out_bar), shape_of(inputs[j]), batch)
            if j in wanted else None for j in range(len(inputs))]
    if on_term is not None:
        for j in wanted:
            on_term(j, pds[j], bars[j])
    return bars
