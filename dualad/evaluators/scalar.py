"""The scalar fast path: the same three evaluators, specialised for graphs of Python floats.

This module owns :class:`ScalarPlan` and the evaluators ``ScalarValueEvaluator``,
``ScalarReverseEvaluator`` and ``ScalarForwardEvaluator``. They compute exactly what
``ValueEvaluator``, ``ReverseEvaluator`` and ``ForwardEvaluator`` compute (the test suite runs
the same cross-mode and sympy checks on both), but for a graph whose values are all Python
floats they walk a plan prepared once per graph:

- each step is a flat tuple of positions and functions (no ``Instruction`` unpacking, no
  namespace choice, no shape checks, no per-node dictionary lookups);
- values come from the registry's ``math`` implementations (``math.sin``, ``operator.mul``);
- partials are the registry's own ``pds``, called with the ``MATH`` namespace, and only for
  inputs that depend on the inputs being differentiated.

Where the plan does not apply (arrays, Duals, sympy values, seed-style user ops, several
directions at once) or where ``math`` raises at a domain edge (``math.log(-1.0)``), the run
is handed to the reference evaluator, which returns numpy's ``nan``/``inf`` as arrays would.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators.scalar import ScalarReverseEvaluator, ScalarValueEvaluator
>>> g = ad.trace(lambda x, y: x * y + ad.sin(x), 0.0, 2.0)
>>> values = ScalarValueEvaluator(g).run([0.0, 2.0])
>>> adjoints = ScalarReverseEvaluator(g).run(values, [1.0])
>>> [adjoints[p] for p in g.input_positions]            # y + cos x, x
[3.0, 0.0]
"""

from ..mathns import MATH
from .forward import ForwardEvaluator
from .reverse import ReverseEvaluator
from .value import ValueEvaluator

# What makes a run leave the fast path: math's domain and overflow errors, and type errors
# from a value that turned out not to be a float.
_FALLBACK = (ArithmeticError, ValueError, TypeError)


class ScalarPlan:
    """A graph's program in columns, for graphs whose every op has a float implementation.

    Step k computes ``values[positions[k]] = functions[k](values[a[k]], values[b[k]])``
    (``b[k] = -1`` for a unary op); ``pd_a[k]`` and ``pd_b[k]`` are the registry's partials.
    Columns (one list each) hold a million-node plan in a few pointers per node.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.scalar import ScalarPlan
    >>> plan = ScalarPlan.of(ad.trace(lambda x: ad.sin(x) * 2.0, 1.0))
    >>> plan.ok, len(plan.positions)
    (True, 2)
    """

    def __init__(self, graph):
        nodes = graph.nodes
        prims = [nodes[pos].op for pos in graph.op_positions]
        self.ok = all(prim.math is not None and prim.pds is not None and prim.nin <= 2
                      and not nodes[pos].params
                      for prim, pos in zip(prims, graph.op_positions))
        self.leaf_positions = graph.leaf_positions
        if not self.ok:
            return
        self.positions = graph.op_positions
        self.functions = [prim.math for prim in prims]
        self.a = [args[0] for args in graph.op_args]
        self.b = [args[1] if len(args) > 1 else -1 for args in graph.op_args]
        # no tangent flows through an op that is constant almost everywhere: no partial
        self.pd_a = [None if prim.zero_derivative else prim.pds[0] for prim in prims]
        self.pd_b = [prim.pds[1] if prim.nin > 1 and not prim.zero_derivative else None
                     for prim in prims]

    @classmethod
    def of(cls, graph):
        """The plan of ``graph``, built on first use and kept with the graph."""
        plan = getattr(graph, "_scalar_plan", None)
        if plan is None:
            plan = graph._scalar_plan = cls(graph)
        return plan

    def applies(self, values):
        """True when the plan exists and every leaf value is a Python float."""
        return self.ok and all(type(values[p]) is float for p in self.leaf_positions)


class ScalarValueEvaluator(ValueEvaluator):
    """``ValueEvaluator`` with a fast path for graphs of floats.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.scalar import ScalarValueEvaluator
    >>> ScalarValueEvaluator(ad.trace(lambda x: x * x + 1, 2.0)).run([3.0])[-1]
    10.0
    """

    def run(self, input_values):
        values = self.graph.leaf_values(input_values)
        plan = ScalarPlan.of(self.graph)
        if plan.applies(values):
            try:
                for pos, function, a, b in zip(plan.positions, plan.functions, plan.a, plan.b):
                    values[pos] = function(values[a]) if b < 0 else function(values[a],
                                                                             values[b])
                self.graph.check_guards(values)
                self.values = values
                return values
            except _FALLBACK:
                pass
        return super().run(input_values)


class ScalarReverseEvaluator(ReverseEvaluator):
    """``ReverseEvaluator`` with a fast path for graphs of floats and a float seed.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.scalar import ScalarReverseEvaluator
    >>> g = ad.trace(lambda x: x * x, 3.0)
    >>> ScalarReverseEvaluator(g).run([n.value for n in g.nodes], [1.0])[0]
    6.0
    """

    def run(self, values, seeds):
        graph = self.graph
        plan = ScalarPlan.of(graph)
        if (self.batch or not plan.applies(values)
                or any(type(s) is not float for s in seeds if s is not None)):
            return super().run(values, seeds)
        active = graph.activity(self.wrt)
        adjoints = [0.0] * len(values)
        for pos, seed in zip(graph.output_positions, seeds):
            if seed is not None and active[pos]:
                adjoints[pos] += seed
        m = MATH
        try:
            for pos, a, b, pd_a, pd_b in zip(reversed(plan.positions), reversed(plan.a),
                                             reversed(plan.b), reversed(plan.pd_a),
                                             reversed(plan.pd_b)):
                if not active[pos]:
                    continue
                g = adjoints[pos]
                x, out = values[a], values[pos]
                if b < 0:
                    adjoints[a] += pd_a(m, x, out) * g
                    continue
                y = values[b]
                if active[a]:
                    adjoints[a] += pd_a(m, x, y, out) * g
                if active[b]:
                    adjoints[b] += pd_b(m, x, y, out) * g
        except _FALLBACK:
            return super().run(values, seeds)
        for i, is_active in enumerate(active):
            if not is_active:
                adjoints[i] = None
        self.values, self.adjoints, self.active = values, adjoints, active
        return adjoints


class ScalarForwardEvaluator(ForwardEvaluator):
    """``ForwardEvaluator`` with a fast path for graphs of floats and one float direction.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.scalar import ScalarForwardEvaluator
    >>> g = ad.trace(lambda x: x * x, 3.0)
    >>> ScalarForwardEvaluator(g).run([3.0], [1.0])[1][-1]
    6.0
    """

    def run(self, input_values, input_tangents, values=None):
        graph = self.graph
        plan = ScalarPlan.of(graph)
        known = values is not None
        buffer = list(values) if known else graph.leaf_values(input_values)
        if (self.batch or not plan.applies(buffer) or len(input_tangents) != len(self.wrt)
                or any(type(t) is not float for t in input_tangents)):
            return super().run(input_values, input_tangents, values)
        tangents = [None] * len(buffer)
        for pos, tangent in zip(self.wrt, input_tangents):
            tangents[pos] = tangent
        m = MATH
        try:
            for pos, function, a, b, pd_a, pd_b in zip(plan.positions, plan.functions, plan.a,
                                                       plan.b, plan.pd_a, plan.pd_b):
                x = buffer[a]
                if b < 0:
                    out = buffer[pos] if known else function(x)
                    buffer[pos] = out
                    t = tangents[a]
                    if t is not None and pd_a is not None:
                        tangents[pos] = pd_a(m, x, out) * t
                    continue
                y = buffer[b]
                out = buffer[pos] if known else function(x, y)
                buffer[pos] = out
                if pd_a is None:
                    continue
                ta, tb = tangents[a], tangents[b]
                if ta is not None:
                    out_dot = pd_a(m, x, y, out) * ta
                    if tb is not None:
                        out_dot = out_dot + pd_b(m, x, y, out) * tb
                    tangents[pos] = out_dot
                elif tb is not None:
                    tangents[pos] = pd_b(m, x, y, out) * tb
        except _FALLBACK:
            return super().run(input_values, input_tangents, values)
        if not known:
            graph.check_guards(buffer)
        self.values, self.tangents = buffer, tangents
        return buffer, tangents
