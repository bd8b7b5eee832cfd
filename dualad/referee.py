"""The referee: derivatives that share no code with dualad's modes.

This module owns every reference :mod:`dualad.verify` compares the modes with:

- the derivative-free oracle, in floating point (:class:`Oracle`): the complex step where every
  op is complex-analytic, else Richardson-extrapolated central differences, of the user's
  function run again (:func:`function_values`) or of a graph (:func:`graph_values`), with the
  two compared where both are known; which ops the complex step may differentiate
  (:func:`complex_step_applies`, :func:`probe_analytic`);
- ``sympy.diff`` of each op's sympy form, chained through the graph and evaluated in 30-digit
  arithmetic (:func:`reference_jacobian`, :func:`reference_jacobian_at`, :func:`sympy_partials`),
  at the point and at random points nearby (:func:`random_point`, :func:`nearby_points`), in a
  worker (:func:`numbers_work`);
- the proof steps (:func:`prove_equal`): the expression a mode computes minus ``sympy.diff``,
  simplified towards 0, in a worker (:func:`proof_work`).

It owns no derivative rule and runs no derivative algorithm of its own (the modes are the
evaluators, which it only calls to get the numbers it checks), and it writes no report: that is
:mod:`dualad.verify`. Graphs become sympy expressions in :mod:`dualad.sympy_bridge`.

Examples
--------
>>> import dualad as ad
>>> from dualad.referee import reference_jacobian_at
>>> reference_jacobian_at(ad.parse("x * sin(y)"), [2.0, 0.0]).tolist()   # [sin y, x cos y]
[[0.0, 2.0]]
"""

import functools
import itertools
import math
import time
import warnings
import weakref
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from .evaluators import SympyEvaluator, ValueEvaluator
from .evaluators.cost import forward_sweeps, reverse_sweeps
from .evaluators.symbolic import exact, with_constants
from .graph import trace
from .mathns import diff_almost_everywhere
from .shapes import shape_of, unit

#: Digits of the arithmetic the referee evaluates derivatives in.
DIGITS = 30
#: Two 30-digit derivatives "agree" when they differ by less than this, relative to their size.
AGREEMENT = 1e-15


# ---- one Jacobian entry per (output element, input element) ----

def element(value, index):
    return value if index == () else np.asarray(value)[index]


def elements(graph, shapes, positions):
    return [(k, index) for k, pos in enumerate(positions) for index in np.ndindex(shapes[pos])]


def jacobians(graph, point, values, one, zero):
    """The Jacobian as forward mode computes it (one sweep per input element) and as reverse
    mode computes it (one sweep per output element), rows over output elements, columns over
    input elements. Runs on floats or on sympy values, whichever ``point`` and ``values`` hold.
    """
    return (forward_sweeps(graph, point, one, zero),
            reverse_sweeps(graph, point, one, zero, values=values))


# ---- which ops the complex step may differentiate: declared, or found by a probe ----

#: Shapes for a structural op that declares no ``examples`` of its own.
DEFAULT_EXAMPLES = {1: (([(2, 3)], {}),), 2: (([(2, 3), (3, 2)], {}),)}
#: The values the probe tries for each input of an elementwise op (those inside its domain).
_PROBE_VALUES = (0.7, -0.4, 1.3, 0.35, -1.2, 2.1)
#: The probe's verdicts, one per primitive that leaves ``analytic`` to it.
_PROBED = weakref.WeakKeyDictionary()

COMPLEX_STEP = "complex step"
CENTRAL_DIFFERENCES = "central differences"
#: Step of the complex step; a second, smaller one must give the same derivative.
_STEPS = (1e-20, 1e-30)
_COMPLEX_WARNING = getattr(np, "exceptions", np).ComplexWarning


def complex_step_applies(prim):
    """Whether the oracle may use the complex step on ``prim``, and why: ``(bool, how)``.

    ``analytic=True`` or ``False`` in the primitive is taken as declared (``prove_registry``
    checks a declared True); ``None`` is decided once per primitive by :func:`probe_analytic`.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.primitives import REGISTRY, Primitive
    >>> from dualad.referee import complex_step_applies
    >>> complex_step_applies(REGISTRY["abs"])
    (False, 'declared not analytic')
    >>> cbrt = Primitive(name="cbrt", numpy=np.cbrt, pds=(lambda m, x, out: 1 / (3 * out**2),))
    >>> complex_step_applies(cbrt)[0]
    False
    """
    if prim.analytic is not None:
        return bool(prim.analytic), "declared " + ("" if prim.analytic else "not ") + "analytic"
    found = _PROBED.get(prim)
    if found is None:
        found = _PROBED[prim] = probe_analytic(prim)
    return found


def is_analytic(graph):
    """True when the complex step applies to every op of ``graph`` (see
    :func:`complex_step_applies`): no ``abs``, ``maximum``, ``minimum``, and no op whose numpy
    form refuses complex input.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.referee import is_analytic
    >>> is_analytic(ad.parse("sin(x) * y")), is_analytic(ad.parse("abs(x)"))
    (True, False)
    """
    return all(complex_step_applies(ins.prim)[0] for ins in graph.program)


def _probe_arguments(prim):
    """``(args, params)`` to probe ``prim`` at: points of an elementwise op's domain (input j
    tries the probe values shifted by j), or arrays of each example's shapes."""
    if prim.elementwise:
        n = len(_PROBE_VALUES)
        for k in range(n):
            args = [_PROBE_VALUES[(k + j) % n] for j in range(prim.nin)]
            if all(domain.contains(v) is sp.true for domain, v in zip(prim.domain, args)):
                yield args, {}
        return
    rng = np.random.default_rng(0)
    for shapes, params in prim.examples or DEFAULT_EXAMPLES.get(prim.nin, ()):
        yield [rng.uniform(0.3, 1.3, shape) for shape in shapes], params


def probe_analytic(prim):
    """Find out whether the complex step differentiates ``prim``: ``(bool, how)``.

    True when ``prim``'s numpy form accepts complex input and, at two points of its domain
    (arrays of the shapes of its examples, for a structural op), the complex step agrees with
    central differences of the numpy form along every input. The numpy form is all that is
    used: no derivative rule.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.primitives import REGISTRY, Primitive
    >>> from dualad.referee import probe_analytic
    >>> probe_analytic(REGISTRY["tanh"])
    (True, 'the complex step agrees with central differences at 2 points')
    >>> probe_analytic(Primitive(name="cbrt", numpy=np.cbrt, pds=(lambda m, x, out: 0,)))
    (False, "its numpy form refuses complex input (TypeError: ufunc 'cbrt' not supported ...)")
    """
    agreed = 0
    with np.errstate(all="ignore"):
        for args, params in _probe_arguments(prim):
            def along(j, direction, params=params, args=args):
                def values(t):
                    moved = list(args)
                    moved[j] = args[j] + t * direction
                    return np.ravel(np.asarray(prim.numpy(*moved, **params)))
                return values
            try:
                value = np.ravel(np.asarray(prim.numpy(*args, **params)))
            except Exception:        # not a usable point after all
                continue
            if value.dtype.kind not in "fiu" or not np.all(np.isfinite(value)):
                continue
            for j in range(prim.nin):
                direction = (1.0 if shape_of(args[j]) == () else
                             np.random.default_rng(j).uniform(0.5, 1.5, shape_of(args[j])))
                line = along(j, direction)
                try:
                    stepped = [line(1j * h) for h in _STEPS]
                except Exception as err:
                    return False, ("its numpy form refuses complex input "
                                   f"({type(err).__name__}: {short(err, 60)})")
                if any(v.dtype.kind != "c" for v in stepped):
                    return False, "its numpy form gives no complex value for complex input"
                complex_step = stepped[0].imag / _STEPS[0]
                central = _richardson(line, 1e-4 * max(1.0, float(np.max(np.abs(args[j])))))
                if not np.all(_same(complex_step, central, 1e-6)):
                    at = ", ".join(_show(a) for a in args)
                    return False, (f"at ({at}) the complex step gives {_show(complex_step)}, "
                                   f"central differences {_show(central)}")
            agreed += 1
            if agreed == 2:
                break
    if agreed == 2 or (agreed and not prim.elementwise):   # a structural op: its examples
        return True, ("the complex step agrees with central differences at "
                      f"{agreed} point{'s' * (agreed > 1)}")
    return False, "no two points of its domain where its numpy form is finite, to probe it at"


# ---- the derivative-free oracle, in floating point ----

def _show(value):
    value = np.asarray(value)
    if value.size == 1:
        return f"{value.item():.12g}"
    return np.array2string(value, precision=6, separator=", ", threshold=8)


def _same(a, b, rtol):
    """Elementwise: ``a`` and ``b`` agree to ``rtol`` (relative to their size, at least 1),
    or are the same non-finite value."""
    a, b = np.asarray(a), np.asarray(b)
    with np.errstate(all="ignore"):
        close = np.abs(a - b) <= rtol * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    return close | (a == b) | (np.isnan(a) & np.isnan(b))


def _richardson(line, h):
    """d/dt line(t) at t = 0 by Richardson-extrapolated central differences; the step shrinks
    (up to 5 times, by 10) while the estimate is not finite, as when a step leaves the domain."""
    for _ in range(6):
        def slope(h):
            return (line(h) - line(-h)) / (2 * h)
        # the h^2 error terms of the two central differences cancel
        estimate = (4 * slope(h / 2) - slope(h)) / 3
        if np.all(np.isfinite(estimate)):
            break
        h /= 10
    return estimate


def graph_values(graph):
    """``point -> the graph's output values, flattened into one array``.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.referee import graph_values
    >>> graph_values(ad.parse("x * y, x + y"))([2.0, 3.0]).tolist()
    [6.0, 5.0]
    """
    def values(point):
        computed = ValueEvaluator(graph).run(point)
        return np.concatenate([np.ravel(np.asarray(computed[p])) for p in graph.output_positions])
    return values


def function_values(f):
    """``point -> f's output values, flattened``: ``f`` run again (traced afresh) at the
    point, so whatever it does outside the graph (``x.value``, a branch) runs again too.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.referee import function_values
    >>> function_values(lambda x: ad.Var(x.value ** 2) * x)([3.0]).tolist()
    [27.0]
    """
    def values(point):
        graph = trace(f, *point)
        return np.concatenate([np.ravel(np.asarray(out.value)) for out in graph.outputs])
    return values


@dataclass
class Divergence:
    """Where the function and its trace were seen to part: the input values, the output
    element (flat index), and each one's value there."""

    point: list
    row: int
    function: object
    trace: object


class Oracle:
    """Derivatives of a function near one point, with no derivative rule: the complex step
    where it applies, else Richardson-extrapolated central differences.

    Parameters
    ----------
    function : callable
        ``point -> flat output values`` (:func:`function_values`, :func:`graph_values`).
    point : list
        The input values.
    analytic : bool
        Try the complex step first. It is given up for central differences where ``function``
        raises on complex input, gives no complex value, or is not analytic at the point (its
        real part moves off the value at the point, or two step sizes disagree).
    trace : callable, optional
        The traced graph's values, compared with ``function``'s at every point the oracle
        evaluates: the first place they part is kept in :attr:`divergence`.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.referee import Oracle, graph_values
    >>> oracle = Oracle(graph_values(ad.parse("x * sin(y)")), [2.0, 0.0], analytic=True)
    >>> oracle.along([None, 1.0], 1e-3).tolist(), oracle.method     # d/dy = x cos y
    ([2.0], 'complex step')
    """

    def __init__(self, function, point, analytic, trace=None):
        self.function = function
        self.point = point
        self.trace = trace
        self.method = COMPLEX_STEP if analytic else CENTRAL_DIFFERENCES
        self.divergence = None
        self.error = None
        self.at_point = np.asarray(self._values(point))

    def _values(self, moved):
        try:
            values = self.function(moved)
        except Exception as err:   # undefined there; the first reason is kept for the report
            if any(np.iscomplexobj(v) for v in moved):
                raise
            self.error = self.error or f"{type(err).__name__}: {err}"
            return np.full(len(self.at_point), np.nan)
        values = np.asarray(values)
        if self.trace is not None:
            self._compare(moved, values)
        return values

    def _compare(self, moved, values):
        if self.divergence is not None:
            return
        traced = np.asarray(self.trace(moved))
        if np.iscomplexobj(values) or np.iscomplexobj(traced):
            # a complex step: the imaginary parts, at the scale of the step, carry the slope
            h = max(float(np.max(np.abs(np.imag(v)), initial=0.0)) for v in moved) or 1.0
            same = (_same(np.real(values), np.real(traced), 1e-9)
                    & _same(np.imag(values) / h, np.imag(traced) / h, 1e-9))
        else:
            same = _same(values, traced, 1e-9)
        if not np.all(same):
            row = int(np.argmin(same))
            self.divergence = Divergence([np.copy(v)[()] for v in moved], row, values[row],
                                         traced[row])

    def _moved(self, direction, t):
        return [v if d is None else v + t * d for v, d in zip(self.point, direction)]

    def along(self, direction, step):
        """The derivative along ``direction`` (one array or ``None`` per input), flattened
        over the outputs; ``nan`` where it is undefined. ``step`` is the first step of the
        central differences (the complex step needs none)."""
        with np.errstate(all="ignore"):
            if self.method == COMPLEX_STEP:
                estimate = self._complex_step(direction)
                if estimate is not None and self.trace is not None:
                    # code that drops imaginary parts (x.value.real) drops them in f and in
                    # its trace alike: compare the two at a real point as well, and where they
                    # part, the complex step cannot be trusted with f
                    self._values(self._moved(direction, step))
                    if self.divergence is not None:
                        estimate = None
                if estimate is not None:
                    return estimate
                self.method = CENTRAL_DIFFERENCES
            return _richardson(lambda t: self._values(self._moved(direction, t)), step)

    def jacobian(self, deadline=math.inf, order=None):
        """The Jacobian, one column per input element, taken in ``order`` until
        ``time.monotonic()`` passes ``deadline`` (one column at least). Each column is the
        derivative along that element, with a central-difference step of 1e-3 of its size.

        Returns ``(jacobian, done)``: ``nan`` in the columns not reached, which ``done`` (one
        bool per column) marks False. Where the complex step turns out not to apply, every
        column is taken again by central differences.

        Examples
        --------
        >>> import dualad as ad
        >>> from dualad.referee import Oracle, graph_values
        >>> oracle = Oracle(graph_values(ad.parse("x * y")), [2.0, 3.0], analytic=False)
        >>> jacobian, done = oracle.jacobian()
        >>> jacobian.round(9).tolist(), done.tolist(), oracle.method
        ([[3.0, 2.0]], [True, True], 'central differences')
        """
        columns = [(i, index) for i, value in enumerate(self.point)
                   for index in np.ndindex(shape_of(value))]
        order = range(len(columns)) if order is None else order
        while True:
            method = self.method
            jacobian = np.full((len(self.at_point), len(columns)), np.nan)
            done = np.zeros(len(columns), dtype=bool)
            for b in order:
                if done.any() and time.monotonic() > deadline:
                    break
                i, index = columns[b]
                direction = [None] * len(self.point)
                direction[i] = unit(shape_of(self.point[i]), index)
                x = abs(float(element(self.point[i], index)))
                jacobian[:, b] = self.along(direction, 1e-3 * x if x else 1e-3)
                if self.method != method:
                    break
                done[b] = True
            if self.method == method:
                return jacobian, done

    def _complex_step(self, direction):
        # f(x + ih) = f(x) + ih f'(x) - h^2 f''(x)/2 + ...: the imaginary part has no
        # cancellation, and the real part is f(x) to round-off where f is analytic
        estimates = []
        base = self.at_point
        for h in _STEPS:
            try:
                with warnings.catch_warnings():
                    # float() of a complex numpy value drops the imaginary part, and the step
                    # with it: take that as refusing complex input
                    warnings.simplefilter("error", _COMPLEX_WARNING)
                    values = self._values(self._moved(direction, 1j * h))
            except Exception:
                return None
            values = np.asarray(values)
            if values.dtype.kind != "c":
                return None
            if not np.all(np.isfinite(base) & _same(values.real, base, 1e-12)):
                return None
            estimates.append(values.imag / h)
        if not np.all(_same(estimates[0], estimates[1], 1e-9)):
            return None
        return estimates[0]


# ---- the referee in 30-digit arithmetic ----

_EPSILON = sp.Symbol("epsilon", real=True)


def _float30(value):
    if isinstance(value, np.ndarray):
        out = np.empty(value.shape, dtype=object)
        for index in np.ndindex(value.shape):
            out[index] = sp.Float(float(value[index]), DIGITS)
        return out
    return sp.Float(float(value), DIGITS)


def _rounded(value):
    if isinstance(value, np.ndarray):
        return np.vectorize(_rounded, otypes=[object])(value) if value.size else value
    if isinstance(value, (int, float, np.number)):    # sum over no elements: a Python 0
        return sp.Float(value, DIGITS)
    return value if isinstance(value, sp.Float) else value.evalf(DIGITS)


def _rounding(prim):
    """``prim`` with its sympy form rounded to 30 digits after each use; rules unchanged.

    Without it a 30-digit sweep can leave floats: sympy computes v - v as exactly 0 even for
    a Float v, then cos(0) as exactly 1, leaves tanh(1) unevaluated, and the expressions grow
    from there.
    """
    spec = prim.sympy

    def rounded(*args, **params):
        try:
            return _rounded(spec(*args, **params))
        except ZeroDivisionError:    # mpmath's Float / Float(0): undefined, as sympy's 1/0
            return sp.nan
    return replace(prim, sympy=rounded)


_UNDEFINED = (sp.nan, sp.zoo, sp.oo, -sp.oo)


def _at_zero(value):
    """d/d(epsilon) at epsilon = 0, elementwise: sympy's derivative of a perturbed spec.

    ``nan`` where the expression holds an undefined number: sympy would differentiate it as a
    constant, to 0."""
    def at(e):
        return sp.nan if e.has(*_UNDEFINED) else sp.diff(e, _EPSILON).subs(_EPSILON, 0)
    if isinstance(value, np.ndarray):
        return np.vectorize(at, otypes=[object])(value) if value.size else value
    return at(value)


def _directional(prim, inputs, directions, params):
    """sympy.diff of ``prim``'s sympy form along ``directions`` (input index -> tangent)."""
    moved = [v + _EPSILON * directions[j] if j in directions else v
             for j, v in enumerate(inputs)]
    return _at_zero(prim.evaluate_symbolic(*moved, **params))


@functools.lru_cache(maxsize=None)
def sympy_partials(prim):
    """``sympy.diff`` of an elementwise op's sympy form by each argument, on real symbols:
    ``(symbols, partials)``, computed once per op.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> from dualad.referee import sympy_partials
    >>> sympy_partials(REGISTRY["divide"])
    ((s0, s1), (1/s1, -s0/s1**2))
    """
    symbols = tuple(sp.Symbol(f"s{j}", real=True) for j in range(prim.nin))
    spec = prim.sympy(*symbols)
    return symbols, tuple(diff_almost_everywhere(spec, s) for s in symbols)


@functools.lru_cache(maxsize=4096)
def _partial_with_constants(prim, j, constants):
    """``sympy.diff`` by argument ``j`` of ``prim``'s sympy form with the arguments in
    ``constants`` (``((k, value), ...)``) put in first."""
    symbols, partials = sympy_partials(prim)
    if not constants:
        return partials[j]
    given = dict(constants)
    return diff_almost_everywhere(
        prim.sympy(*(given.get(k, s) for k, s in enumerate(symbols))), symbols[j])


def _partial_at(prim, j, inputs, constant):
    """The ``j``-th sympy partial of ``prim`` at these input values (elementwise).

    The inputs numbered in ``constant`` (those the derivative does not flow through) enter
    sympy's form as numbers before it is differentiated, so the partial is right wherever the
    op is: d(a**2)/da = 2*a, where differentiating a**b first gives a**b*b/a, undefined at 0.
    """
    symbols, _ = sympy_partials(prim)

    def at(*args):
        partial = _partial_with_constants(prim, j, tuple((k, args[k]) for k in constant))
        return partial.xreplace({s: v for k, (s, v) in enumerate(zip(symbols, args))
                                 if k not in constant})
    if any(isinstance(v, np.ndarray) for v in inputs):
        return np.vectorize(at, otypes=[object])(*inputs)
    return at(*inputs)


def _times(partial, tangent):
    """``partial * tangent``, elementwise, and 0 where the tangent is exactly 0: a direction
    that does not reach an element takes nothing from its partial, even an infinite one
    (d/dy [sqrt(x) + y] at x = 0 is 1)."""
    def times(p, t):
        return sp.S.Zero if t == 0 else p * t
    if isinstance(partial, np.ndarray) or isinstance(tangent, np.ndarray):
        return np.vectorize(times, otypes=[object])(partial, tangent)
    return times(partial, tangent)


def reference_jacobian(graph, values):
    """``sympy.diff`` of the graph's outputs at the point where ``values`` were computed.

    The derivative is taken through the graph's shared structure: each op's sympy form is
    differentiated by ``sympy.diff`` (:func:`sympy_partials` for an elementwise op, evaluated at
    its input values, with its constant inputs put in before differentiating; a directional
    derivative for a structural op) and the chain rule combines them, one column per input
    element. Nothing of the registry's derivative rules or of the evaluators
    is used. ``values`` are every node's values from :class:`SympyEvaluator` (30-digit numbers,
    say).

    Examples
    --------
    >>> import sympy as sp, dualad as ad
    >>> from dualad.evaluators import SympyEvaluator
    >>> from dualad.referee import reference_jacobian
    >>> g = ad.parse("x * sin(y)")
    >>> values = SympyEvaluator(g).run([sp.Float(2, 30), sp.Float(0, 30)])
    >>> reference_jacobian(g, values).tolist()          # [sin y, x cos y] at x = 2, y = 0
    [[0, 2.00000000000000000000000000000]]
    """
    shapes = [shape_of(v) for v in values]
    columns = elements(graph, shapes, graph.input_positions)
    rows = elements(graph, shapes, graph.output_positions)
    n = len(columns)
    tangents = [None] * len(graph.nodes)
    for b, (i, index) in enumerate(columns):
        pos = graph.input_positions[i]
        tangents[pos] = tangents[pos] or [None] * n
        tangents[pos][b] = unit(shapes[pos], index, sp.S.One, sp.S.Zero)
    for pos, prim, args, params in graph.program:
        incoming = [tangents[a] for a in args]
        if all(t is None for t in incoming):
            continue
        inputs = [values[a] for a in args]
        outgoing = [None] * n
        if prim.elementwise:
            constant = tuple(j for j, t in enumerate(incoming) if t is None)
            partials = {j: _partial_at(prim, j, inputs, constant)
                        for j, t in enumerate(incoming) if t is not None}
            for d in range(n):
                terms = [_times(partials[j], incoming[j][d]) for j in partials
                         if incoming[j][d] is not None]
                outgoing[d] = sum(terms[1:], terms[0]) if terms else None
        else:
            for d in range(n):
                directions = {j: t[d] for j, t in enumerate(incoming)
                              if t is not None and t[d] is not None}
                if directions:
                    outgoing[d] = _directional(prim, inputs, directions, params)
        tangents[pos] = outgoing
    jacobian = np.full((len(rows), n), sp.S.Zero, dtype=object)
    for a, (k, out_index) in enumerate(rows):
        column_tangents = tangents[graph.output_positions[k]]
        for b in range(n):
            if column_tangents is not None and column_tangents[b] is not None:
                jacobian[a, b] = element(column_tangents[b], out_index)
    return jacobian


def reference_jacobian_at(graph, point):
    """:func:`reference_jacobian` at a numeric point, in 30-digit arithmetic, as floats.

    Rows are outputs and columns inputs, each flattened in order; ``nan`` where sympy's
    derivative is undefined (a pole, a complex value).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.referee import reference_jacobian_at
    >>> reference_jacobian_at(ad.parse("x * sin(y)"), [2.0, 0.0]).tolist()
    [[0.0, 2.0]]
    """
    digits30 = with_constants(graph, _float30, _rounding)
    values = SympyEvaluator(digits30).run([_float30(v) for v in point])
    reference = reference_jacobian(digits30, values)
    return np.array([[as_float(r) for r in row] for row in reference], dtype=float)


def _is_real_number(value):
    if isinstance(value, np.ndarray):
        return all(_is_real_number(v) for v in value.flat)
    return bool(value.is_Number and value.is_finite)


def random_point(point, positive, rng, spread):
    """A point near ``point``, each value moved by up to ``spread`` of its size (at least 1).

    The inputs numbered in ``positive`` feed an argument whose domain is positive (``log``,
    ``sqrt``): their positive elements move by a factor, so they stay positive, and their
    elements at 0 move into (0, spread).

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.referee import random_point
    >>> x, y = random_point([0.0, 0.0], {0}, np.random.default_rng(0), 0.5)
    >>> 0 < x < 0.5, -0.5 < y < 0.5
    (True, True)
    """
    moved = []
    for i, value in enumerate(point):
        size = shape_of(value)
        u = rng.uniform(-spread, spread, size)
        shifted = value + np.maximum(np.abs(value), 1.0) * u
        if i in positive:
            shifted = np.where(np.asarray(value) > 0, value * np.exp(u),
                               np.where(np.asarray(value) == 0, np.abs(u), shifted))
        moved.append(float(shifted) if size == () else shifted)
    return moved


def nearby_points(point, positive, wanted, seed):
    """Candidate random points near ``point`` (:func:`random_point`), enough to find
    ``wanted`` good ones: at most 20 tries for each, the later half closer in."""
    rng = np.random.default_rng(seed)
    tries = 20 * (wanted + 1)
    for k in range(tries):
        yield random_point(point, positive, rng, 0.5 if k < tries // 2 else 0.1)


def as_float(value):
    """A sympy number as a float; ``nan`` for anything that is not a real number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def numbers_work(graph, point, positive, points, seed):
    """The worker comparing each algorithm with the reference in 30 digits, point by point.

    Yields ``(point, reference, forward_errors, reverse_errors, scales)`` per point: the
    first is the given point (with a ``nan`` reference where a value there is not a real
    number), then up to ``points`` random points (:func:`nearby_points`) where every value is.
    """
    def work():
        digits30 = with_constants(graph, _float30, _rounding)
        candidates = nearby_points(point, positive, points, seed)
        checked = 0
        for candidate in itertools.chain([point], candidates):
            if checked > points:
                break
            at = [_float30(v) for v in candidate]
            values = SympyEvaluator(digits30).run(at)
            real = _is_real_number_all(values)
            if checked and not real:
                continue
            reference = reference_jacobian(digits30, values)
            forward, reverse = jacobians(digits30, at, values, sp.S.One, sp.S.Zero)
            if not real:      # the function is not defined here: nothing to compare with
                reference = np.full(reference.shape, sp.nan, dtype=object)
            scales = [max(1.0, abs(as_float(r))) for r in reference.flat]
            errors = [[as_float(sp.Abs(a - r)) for a, r in zip(m.flat, reference.flat)]
                      for m in (forward, reverse)]
            yield ([np.asarray(v).tolist() for v in candidate],
                   [as_float(r) for r in reference.flat], errors[0], errors[1], scales)
            checked += 1
    return work


def _is_real_number_all(values):
    return all(v is None or _is_real_number(v) for v in values)


# ---- the proof, for all inputs ----

def short(expr, limit=200):
    text = str(expr)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _split_powers(expr):
    # a**(b + c) -> a**b * a**c: true for every nonzero base a (exponents add under exp and
    # log), which sympy only applies by itself when it knows a != 0. It lets b*a**(b - 1) (the
    # registry's power rule) meet a**b*b/a (sympy.diff's).
    return expr.expand(power_exp=True, force=True, mul=False, multinomial=False, log=False,
                       power_base=False, basic=False)


def prove_equal(expr, reference, thorough=True):
    """Try to show ``expr - reference`` is 0, cheap steps first.

    The steps: as built; after ``expand`` (with ``a**(b+c)`` written ``a**b*a**c``); after
    ``cancel`` (as rational functions of the remaining functions); and, if ``thorough``, after
    ``simplify`` of the difference as built. Each is an identity wherever both expressions are
    defined (nonzero denominators and bases). Returns ``(verdict, how)``: verdict
    ``"proved"``, ``"disproved"`` (the difference is a nonzero number) or ``"unproved"``
    (sympy left an expression).

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.referee import prove_equal
    >>> a, b = sp.symbols("a b", real=True)
    >>> prove_equal(b * a**(b - 1), sp.diff(a**b, a))
    ('proved', 'the difference is 0 after expand')
    >>> prove_equal(1 + sp.tan(a)**2, 1 / sp.cos(a)**2)
    ('proved', 'the difference is 0 after simplify')
    >>> prove_equal(sp.sin(a), sp.cos(a))[0]
    'unproved'
    """
    difference = expr - reference
    if difference == 0:
        return "proved", "identical once sympy has put both in canonical form"
    left = sp.expand(_split_powers(difference))
    if left == 0:
        return "proved", "the difference is 0 after expand"
    left = sp.cancel(left)
    if left == 0:
        return "proved", "the difference is 0 after expand and cancel"
    if thorough:
        left = sp.simplify(difference)
        if left == 0:
            return "proved", "the difference is 0 after simplify"
    if left.is_number and left.is_zero is False:
        return "disproved", f"the difference simplifies to {short(left)}"
    return "unproved", f"sympy left the difference as {short(left)}"


def proof_work(graph, symbols):
    """The worker proving each algorithm's expression equal to sympy.diff, entry by entry.

    Yields ``("phase", name)`` as it builds the expressions, then
    ``(row, column, mode, verdict, how, algorithm's expression, sympy.diff)`` per entry.
    """
    def work():
        exact_graph = with_constants(graph, exact)
        values = SympyEvaluator(exact_graph).run(symbols)
        yield ("phase", "the primal expression")
        forward, reverse = jacobians(exact_graph, symbols, values, sp.S.One, sp.S.Zero)
        yield ("phase", "the algorithms' derivative expressions")
        shapes = [shape_of(v) for v in values]
        rows = elements(exact_graph, shapes, exact_graph.output_positions)
        columns = elements(exact_graph, shapes, exact_graph.input_positions)
        pending = []
        for a, (k, out_index) in enumerate(rows):
            output = element(values[exact_graph.output_positions[k]], out_index)
            for b, (i, in_index) in enumerate(columns):
                reference = diff_almost_everywhere(output, element(symbols[i], in_index))
                for mode, jacobian in (("forward", forward), ("reverse", reverse)):
                    pending.append((a, b, mode, jacobian[a, b], reference))
        # the cheap steps for every entry first; then simplify, which may take long, for
        # the rest, so a slow entry does not hold up the others
        for thorough in (False, True):
            still = []
            for a, b, mode, expr, reference in pending:
                verdict, how = prove_equal(expr, reference, thorough)
                if verdict == "unproved" and not thorough:
                    still.append((a, b, mode, expr, reference))
                else:
                    yield (a, b, mode, verdict, how, short(expr), short(reference))
            pending = still
    return work
