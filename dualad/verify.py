"""``verify``: one function's derivatives, in both modes, against the referee.

This module owns :func:`verify` and what it reports (:class:`VerificationReport`, one
:class:`Derivative` per Jacobian entry, one :class:`Check` per mode and method). The references
it compares with are the referee's (:mod:`dualad.referee`); it owns no derivative rule and
runs no derivative algorithm of its own (the modes are the evaluators), and it leaves the
sympy bridge to :mod:`dualad.sympy_bridge` and the registry's proof to
:mod:`dualad.registry_proof`.

How ``verify`` checks a gradient (see ``docs/verify.md``):

1. at the given point, in floating point: forward mode and reverse mode against sympy's
   derivative (evaluated with 30 digits) and against a derivative-free oracle (complex step
   where every op is complex-analytic, else Richardson-extrapolated central differences) that
   runs the user's function itself again, so a derivative lost outside the graph shows;
2. at random points nearby: the same in 30-digit arithmetic, entry by entry, and against the
   oracle along a random direction (which needs no sympy form);
3. symbolically, for all inputs: the expression each algorithm computes (the evaluators run on
   sympy symbols) minus ``sympy.diff`` of the primal expression must simplify to 0.

A reference that is not finite confirms nothing, and ``ok`` needs, for each mode, at least one
numeric check that passed and none that failed. The sympy work runs in worker processes
(:mod:`dualad.timelimit`); ``time_limit`` bounds the whole call.

Examples
--------
>>> import dualad as ad
>>> report = ad.verify(lambda x, w: ad.sin(x * w) + ad.exp(x) / w, 1.0, 4.0)
>>> report.ok, report.proved
(True, True)
"""

import html
import json
import math
import numbers
import operator
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import DualadError, GradientMismatchError
from .evaluators import ForwardEvaluator, ReverseEvaluator, ValueEvaluator
from .evaluators.symbolic import input_symbols, symbol_names, sympy_free_ops
from .entry import prepare
from .graph import Graph, element_label, trace
from .primitives import POSITIVE
from .printing import format_value, html_table, plain_json
from .evaluators.cost import forward_columns, reverse_sweeps
from .referee import (AGREEMENT, COMPLEX_STEP, Oracle, function_values, graph_values,
                      is_analytic, nearby_points, numbers_work, proof_work)
from .shapes import shape_of
from .timelimit import Worker, collect

MODES = ("forward", "reverse")
#: Where the function and its trace part, the report says so in a row of this mode.
TRACE = "both"


# ---- the report ----

@dataclass
class Derivative:
    """One entry of the Jacobian as each method found it (``None`` where a method did not run).

    Attributes
    ----------
    label, input : str
        ``"df/dx"``, and the input it is taken with respect to (``"x"``, ``"x[1]"``).
    forward, reverse : float
        What each mode computed, in floating point, at the point (forward mode ``None`` where
        its sweeps stopped at the time limit before this entry's column).
    oracle : float
        The complex step or central differences at the point (``nan`` where undefined).
    sympy : float
        ``sympy.diff`` at the point, computed with 30 digits (rounded to a float).
    proof : dict
        mode -> ``(verdict, how)``, verdict ``"proved"``, ``"unproved"`` or ``"disproved"``.
    expressions : dict
        ``"forward"``, ``"reverse"``, ``"sympy.diff"`` -> the derivative expression as text
        (shortened beyond 200 characters), as each algorithm and sympy computed it.

    Examples
    --------
    >>> import dualad as ad
    >>> d = ad.verify(lambda x: x * x, 3.0).derivatives[0]
    >>> d.label, d.forward, d.reverse, d.sympy, d.oracle
    ('df/dx', 6.0, 6.0, 6.0, 6.0)
    """

    label: str
    input: str
    forward: float
    reverse: float
    oracle: float = None
    sympy: float = None
    proof: dict = field(default_factory=dict)
    expressions: dict = field(default_factory=dict)


class Derivatives(Sequence):
    """The Jacobian's entries in the report, outputs by rows and inputs by columns (both
    flattened), each a :class:`Derivative` made when it is asked for: a Jacobian may have
    millions of entries.

    Examples
    --------
    >>> import dualad as ad
    >>> derivatives = ad.verify(lambda x, y: x * y, 2.0, 3.0).derivatives
    >>> len(derivatives), [d.label for d in derivatives], derivatives[1].forward
    (2, ['df/dx', 'df/dy'], 2.0)
    """

    def __init__(self, rows, columns, forward, reverse, oracle, reached, sympy=None,
                 swept=None):
        self.rows, self.columns = rows, columns
        self._forward, self._reverse = np.ravel(forward), np.ravel(reverse)
        #: the entries forward mode computed (its sweeps stop at half the time limit)
        self._swept = (None if swept is None else
                       np.ravel(np.broadcast_to(swept, np.shape(forward))))
        self._oracle = np.ravel(oracle)
        self._reached = np.ravel(np.broadcast_to(reached, np.shape(oracle)))
        self._sympy = None if sympy is None else np.ravel(sympy)
        #: entry -> {mode: (verdict, how)}, and entry -> {method: expression text}
        self.proofs, self.expressions = {}, {}

    def __len__(self):
        return len(self.rows) * len(self.columns)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        k = operator.index(k)
        k = k + len(self) if k < 0 else k
        if not 0 <= k < len(self):
            raise IndexError(f"derivative {k} of {len(self)}")
        a, b = divmod(k, len(self.columns))
        return Derivative(
            label=f"d{self.rows[a]}/d{self.columns[b]}", input=self.columns[b],
            forward=(float(self._forward[k]) if self._swept is None or self._swept[k]
                     else None),
            reverse=float(self._reverse[k]),
            oracle=float(self._oracle[k]) if self._reached[k] else None,
            sympy=None if self._sympy is None else float(self._sympy[k]),
            proof=self.proofs.setdefault(k, {}), expressions=self.expressions.setdefault(k, {}))

    def proved(self, mode):
        """How many entries sympy proved right for ``mode``."""
        return sum(p.get(mode, ("",))[0] == "proved" for p in self.proofs.values())

    def __repr__(self):
        shown = ", ".join(d.label for d in self[:3]) + (", ..." if len(self) > 3 else "")
        return f"<{len(self)} derivatives: {shown}>"


@dataclass
class Check:
    """One row of the report: one mode checked by one method.

    ``ok`` is True when the check ran and agreed, False when it found a disagreement, and
    None when it could not decide: it did not run, or (``undefined``) a value it compares was
    ``nan`` or infinite; the reason is in ``detail``. A proof row carries its ``verdict``
    (``"proved"``, ``"not proved"``).

    Examples
    --------
    >>> import dualad as ad
    >>> [(c.mode, c.method) for c in ad.verify(lambda x: x * x, 3.0).checks][:2]
    [('forward', 'sympy.diff at the point'), ('forward', 'complex step at the point')]
    """

    mode: str
    method: str
    ok: bool = None
    max_abs_error: float = None
    detail: str = ""
    worst: int = None
    verdict: str = None
    undefined: bool = False

    @property
    def result(self):
        """``"ok"``, ``"FAILED"``, ``"not run"``, ``"undefined"``, or a proof's
        ``"proved"``/``"not proved"``.

        Examples
        --------
        >>> import dualad as ad
        >>> [c.result for c in ad.verify(lambda x: x * x, 3.0).checks]
        ['ok', 'ok', 'ok', 'ok', 'proved', 'ok', 'ok', 'ok', 'ok', 'proved']
        """
        if self.ok is False:
            return "FAILED"
        if self.verdict:
            return self.verdict
        if self.ok:
            return "ok"
        return "undefined" if self.undefined else "not run"

    @property
    def confirms(self):
        """True for a numeric check that ran and agreed (a proof is not one)."""
        return self.ok is True and self.verdict is None


@dataclass
class VerificationReport:
    """What :func:`verify` found: a verdict and the evidence for it.

    Attributes
    ----------
    ok : bool
        No check found a disagreement, and for each mode at least one numeric check ran and
        agreed (a check whose reference is undefined, or that did not run, confirms nothing).
    proved : bool
        sympy proved the derivative each mode computes equal to ``sympy.diff`` for all inputs
        (under ``assumptions``), for every entry, and the traced graph follows the function.
        Never True on numerical evidence alone.
    max_abs_error : float
        The largest absolute difference any check found between a mode and a reference.
    derivatives : Derivatives
        Each Jacobian entry (a :class:`Derivative`) as forward mode, reverse mode, sympy and
        the oracle found it.
    checks : list of Check
        One row per mode and method.
    assumptions : str
        The assumptions on the inputs under which the proof holds.
    notes : list of str
        Why something was not proved or not checked.

    Examples
    --------
    >>> import dualad as ad
    >>> report = ad.verify(lambda x: ad.log(x) * x, 2.0)
    >>> report.ok, report.proved, report.assumptions
    (True, True, 'x > 0')
    """

    function: str
    point: dict
    derivatives: list
    checks: list
    assumptions: str
    notes: list
    seconds: float = 0.0

    @property
    def ok(self):
        return not self.failures() and all(self._confirmed(mode) for mode in MODES)

    def _confirmed(self, mode):
        return any(c.confirms for c in self.checks if c.mode == mode)

    @property
    def proved(self):
        n = len(self.derivatives)
        return (n > 0 and not any(c.mode == TRACE for c in self.failures())
                and all(self.derivatives.proved(mode) == n for mode in MODES))

    @property
    def max_abs_error(self):
        errors = [c.max_abs_error for c in self.checks if c.max_abs_error is not None]
        return max(errors) if errors else math.nan

    def failures(self):
        """The checks that failed: the function parting from its trace first, then the
        checks that name the entry they found wrong, each group worst first.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> x = ad.Var(1.0, name="x")
        >>> report = ad.verify(ad.Var(op=np.exp, children=[x], pds=[np.cos]))
        >>> [c.mode for c in report.failures()][:2], report.failures()[0].method
        (['forward', 'reverse'], 'complex step at the point')
        """
        failed = [c for c in self.checks if c.ok is False]
        # a row that names its entry (at the point) before one that does not (nearby)
        return sorted(failed, key=lambda c: (c.mode != TRACE, c.worst is None,
                                             -(c.max_abs_error or 0.0)))

    def raise_if_failed(self):
        """Raise :class:`~dualad.errors.GradientMismatchError` naming the input whose
        derivative disagrees, and by how much, or saying that nothing could confirm a mode's
        derivatives; return the report when it is ok.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> x = ad.Var(1.0, name="x")
        >>> wrong = ad.Var(op=np.sin, children=[x], pds=[np.sin])   # d sin = sin? no
        >>> ad.verify(wrong).raise_if_failed()
        Traceback (most recent call last):
          ...
        dualad.errors.GradientMismatchError: verify: df/dx, the derivative with respect to x, ...
        """
        failed = self.failures()
        if not failed:
            for mode in MODES:
                if not self._confirmed(mode):
                    raise GradientMismatchError(
                        f"verify: nothing confirmed the derivatives {mode} mode computes: "
                        "every numeric check was undefined at and near the point, or did not "
                        "run (see the report)")
            return self
        check = failed[0]
        if check.worst is None:
            what = "" if check.mode == TRACE else f"{check.mode} mode failed {check.method}: "
            raise GradientMismatchError(f"verify: {what}{check.detail}")
        d = self.derivatives[check.worst]
        got = d.forward if check.mode == "forward" else d.reverse
        raise GradientMismatchError(
            f"verify: {d.label}, the derivative with respect to {d.input}, disagrees: "
            f"{check.mode} mode gives {got:.12g}, {check.detail}")

    #: Jacobian entries listed in the text and HTML reports (all are in ``to_dict``).
    SHOWN = 20

    def verdict(self):
        """``"ok"``, ``"FAILED"`` or ``"NOT CONFIRMED"``, then ``", proved"`` or
        ``", not proved"``.

        Examples
        --------
        >>> import dualad as ad
        >>> ad.verify(lambda x: x * x, 3.0).verdict()
        'ok, proved'
        """
        verdict = "ok" if self.ok else "FAILED" if self.failures() else "NOT CONFIRMED"
        return verdict + (", proved" if self.proved else ", not proved")

    def header(self):
        """One line: the function, the point (arrays by their shape) and the verdict.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> ad.verify(lambda W, x: ad.sum(W * x), np.ones((3, 4)), 2.0).header()
        'verify f(W, x) at W = a 3 x 4 array, x = 2: ok, proved'
        """
        point = ", ".join(f"{name} = {_short_value(v)}" for name, v in self.point.items())
        return f"verify {self.function}({', '.join(self.point)}) at {point}: {self.verdict()}"

    def _methods(self):
        """(attribute of a Derivative, column title) of each way a derivative was found."""
        oracle = next(c.method[:-len(" at the point")] for c in self.checks
                      if c.method.endswith("at the point") and "sympy" not in c.method)
        return [("forward", "forward"), ("reverse", "reverse"), ("sympy", "sympy.diff"),
                ("oracle", oracle)]

    def __repr__(self):
        return (f"<VerificationReport {self.function}({', '.join(self.point)}): "
                f"{self.verdict()}; {len(self.derivatives)} derivative"
                f"{'s' * (len(self.derivatives) != 1)}, {len(self.checks)} checks>")

    def __str__(self):
        lines = [self.header(), ""]
        methods = self._methods()
        shown = self.derivatives[:self.SHOWN]
        width = max(len("derivative"), *(len(d.label) for d in shown))
        lines.append("  ".join([f"{'derivative':<{width}}"] + [f"{m[1]:<20}" for m in methods])
                     .rstrip())
        for d in shown:
            cells = [_show_number(getattr(d, attr)) for attr, _ in methods]
            lines.append("  ".join([f"{d.label:<{width}}"] + [f"{c:<20}" for c in cells])
                         .rstrip())
        if len(self.derivatives) > self.SHOWN:
            lines.append(f"... ({len(self.derivatives) - self.SHOWN} more entries)")
        lines.append("")
        lines.append(f"{'mode':<8} {'check against':<40} {'max abs error':<14} result")
        for c in self.checks:
            detail = f" ({c.detail})" if c.detail else ""
            lines.append(f"{c.mode:<8} {c.method:<40} {_show_error(c):<14} {c.result}{detail}")
        lines.append("")
        lines.append(f"assumptions: {self.assumptions}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self):
        methods = self._methods()
        derivatives = [[d.label] + [_show_number(getattr(d, attr)) for attr, _ in methods]
                       for d in self.derivatives[:self.SHOWN]]
        if len(self.derivatives) > self.SHOWN:
            derivatives.append([f"... ({len(self.derivatives) - self.SHOWN} more entries)"]
                               + [""] * len(methods))
        checks = [[c.mode, c.method, _show_error(c), c.result, c.detail] for c in self.checks]
        notes = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
        return "\n".join([
            html_table(["derivative"] + [title for _, title in methods], derivatives,
                       caption=self.header()),
            html_table(["mode", "check against", "max abs error", "result", "detail"], checks),
            f"<p>assumptions: {html.escape(self.assumptions)}</p>"
            + (f"<ul>{notes}</ul>" if notes else "")])

    def to_dict(self):
        """The report as plain numbers, lists and strings (for JSON): the verdict, every
        Jacobian entry as each method found it (with the proofs and the expressions), and
        every check.

        Examples
        --------
        >>> import dualad as ad
        >>> data = ad.verify(lambda x: x * x, 3.0).to_dict()
        >>> data["ok"], data["proved"], data["derivatives"][0]["reverse"]
        (True, True, 6.0)
        """
        methods = [attr for attr, _ in self._methods()]
        return {
            "function": self.function,
            "point": {name: plain_json(v) for name, v in self.point.items()},
            "ok": self.ok, "proved": self.proved, "verdict": self.verdict(),
            "max_abs_error": plain_json(self.max_abs_error),
            "derivatives": [dict({"label": d.label, "input": d.input},
                                 **{attr: plain_json(getattr(d, attr)) for attr in methods},
                                 proof={mode: {"verdict": v, "how": how}
                                        for mode, (v, how) in d.proof.items()},
                                 expressions=dict(d.expressions))
                            for d in self.derivatives],
            "checks": [{"mode": c.mode, "method": c.method, "result": c.result,
                        "ok": c.ok, "max_abs_error": plain_json(c.max_abs_error),
                        "detail": c.detail} for c in self.checks],
            "assumptions": self.assumptions, "notes": list(self.notes),
            "seconds": self.seconds}

    def to_json(self, **options):
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), **options)


def _show_value(value):
    """A value on one line (arrays summarised past a dozen elements)."""
    if shape_of(value) == ():
        return f"{value:g}"
    return format_value(np.asarray(value), 6)


def _short_value(value):
    """A value for a header: a number, a short vector, or an array's shape."""
    if shape_of(value) == () or (np.ndim(value) == 1 and np.size(value) <= 6):
        return _show_value(value)
    return f"a {' x '.join(map(str, np.shape(value)))} array"


def _show_error(check):
    return "-" if check.max_abs_error is None else f"{check.max_abs_error:.1e}"


def _show_number(value):
    return "-" if value is None else f"{value:.12g}"


# ---- the function and its point ----

def _graph_and_point(f, args):
    """The graph to check, its input values, a name for the function, and the Python
    function to run again near the point (``None`` for a Graph or a Var: its own function)."""
    graph, point, name = prepare(f, args, "verify")
    function = f if callable(f) and not isinstance(f, Graph) else None
    if not graph.inputs:
        raise DualadError("verify: the function has no inputs, so no derivative to check")
    for name_i, value in zip(graph.input_names, point):
        if np.iscomplexobj(value) or not np.all(np.isfinite(value)):
            raise DualadError(f"verify: the value of {name_i} must be a finite real number "
                              f"or array, got {value!r}")
    return graph, point, name, function


def _positive_inputs(graph, point):
    """The inputs that feed an argument whose domain is positive (random points keep them
    in it), and of those the ones positive at the point: the proof may assume them positive
    (it then claims the result only there)."""
    inputs = {pos: i for i, pos in enumerate(graph.input_positions)}
    feeds = set()
    for instruction in graph.program:
        for j, arg in enumerate(instruction.args):
            if arg in inputs and instruction.prim.domain[j].is_subset(POSITIVE):
                feeds.add(inputs[arg])
    return {i for i in feeds if np.all(np.asarray(point[i]) > 0)}, feeds


def _labels_for(graph, name, values, names):
    single = len(graph.outputs) == 1
    show = element_label
    rows = [show(name if single else f"{name}{k}", index)
            for k, pos in enumerate(graph.output_positions)
            for index in np.ndindex(shape_of(values[pos]))]
    columns = [show(names[i], index) for i, pos in enumerate(graph.input_positions)
               for index in np.ndindex(shape_of(values[pos]))]
    return rows, columns


# ---- the modes along one direction, at a point nearby ----

def _flat(found, positions, values):
    """``found`` (tangents or adjoints) at ``positions``, flattened into one array; zeros where
    a node has none (the shape of its value)."""
    return np.concatenate([np.ravel(np.zeros(np.shape(values[p])) if found[p] is None
                                    else np.asarray(found[p], dtype=float))
                           for p in positions])


def _modes_along(graph, point, values, direction, weights):
    """Forward mode's J d (one sweep, tangents ``direction``), and reverse mode's
    (u^T J) d (one sweep, seeds ``weights`` = u, flat over the outputs)."""
    tangents = [np.zeros(shape_of(v)) if d is None else d for v, d in zip(point, direction)]
    forward = _flat(ForwardEvaluator(graph).run(point, tangents)[1], graph.output_positions,
                    values)
    seeds, start = [], 0
    for p in graph.output_positions:
        size = np.size(values[p])
        seeds.append(np.reshape(weights[start:start + size], shape_of(values[p]))[()])
        start += size
    adjoints = ReverseEvaluator(graph).run(values, seeds)
    reverse = float(_flat(adjoints, graph.input_positions, values)
                    @ np.concatenate([np.ravel(t) for t in tangents]))
    return forward, reverse


def _random_direction(point, rng):
    """A direction to differentiate along, each element scaled to its input's size, and the
    first step of central differences along it. With one input element, that element."""
    if sum(np.size(v) for v in point) == 1:
        direction = [1.0 if np.size(v) else None for v in point]
        x = max(abs(float(np.ravel(v)[0])) for v in point if np.size(v))
        return direction, 1e-3 * x if x else 1e-3
    direction = []
    for value in point:
        scale = np.where(np.asarray(value) != 0, np.abs(value), 1.0)
        d = rng.uniform(-1.0, 1.0, shape_of(value)) * scale
        direction.append(float(d) if shape_of(value) == () else d)
    return direction, 1e-3


@dataclass
class _Nearby:
    """Both modes and the oracle along one random direction at one random point."""

    point: list
    method: str
    oracle: np.ndarray        # J d, flat over the outputs
    forward: np.ndarray       # forward mode's J d
    weights: np.ndarray       # u, flat over the outputs
    reverse: float            # reverse mode's (u^T J) d


def _nearby(function, graph, point, positive, wanted, seed, deadline):
    """Both modes against the oracle along a random direction, at up to ``wanted`` random
    points nearby where every value is finite (and the oracle's too), until the deadline (past
    it, a few tries for a first point). A Python function is traced again at each point.
    Returns ``(results, divergence, stopped by the deadline)``."""
    rng = np.random.default_rng(seed)
    results, divergence = [], None
    with np.errstate(all="ignore"):
        for tried, candidate in enumerate(nearby_points(point, positive, wanted, seed)):
            if len(results) == wanted:
                break
            # past the deadline, only a few more tries for a first point
            if time.monotonic() > deadline and (results or tried >= 5):
                return results, divergence, True
            try:
                here = graph if function is None else trace(function, *candidate)
                values = ValueEvaluator(here).run(candidate)
            except Exception:        # f refuses this point: not one to check at
                continue
            if not all(np.all(np.isfinite(v)) for v in values):
                continue
            traced = graph_values(here)
            oracle = Oracle(traced if function is None else function_values(function),
                            candidate, is_analytic(here),
                            trace=None if function is None else traced)
            direction, step = _random_direction(candidate, rng)
            expected = oracle.along(direction, step)
            divergence = divergence or oracle.divergence
            if not np.all(np.isfinite(expected)):
                continue
            weights = np.ones(1) if expected.size == 1 else rng.normal(size=expected.size)
            forward, reverse = _modes_along(here, candidate, values, direction, weights)
            results.append(_Nearby(candidate, oracle.method, expected, forward, weights,
                                   reverse))
    return results, divergence, False


# ---- the rows of the report ----

def _tolerance(method, tolerances):
    return tolerances[0] if method == COMPLEX_STEP else tolerances[1]


def _compare(mode, method, got, reference, tolerance, reference_name, derivatives, done=None):
    """A Check row comparing one mode's Jacobian with a reference Jacobian.

    Entries where either value is not finite confirm nothing ("undefined here"); ``done``
    masks the columns the reference reached (all by default)."""
    rtol, atol = tolerance
    got, reference = np.asarray(got, dtype=float), np.asarray(reference, dtype=float)
    width = got.shape[1]
    # only the columns reached: entry k of these is entry entries[k] of the Jacobian
    columns = np.arange(width) if done is None else np.flatnonzero(done)
    entries = (np.arange(got.shape[0])[:, None] * width + columns).ravel()
    got, reference = got[:, columns], reference[:, columns]
    finite = (np.isfinite(got) & np.isfinite(reference)).ravel()
    undefined = ~finite
    with np.errstate(all="ignore"):
        errors = np.where(finite, np.abs(got - reference).ravel(), 0.0)
        bad = finite & ~(errors <= atol + rtol * np.abs(reference).ravel())
    check = Check(mode, method, max_abs_error=float(errors.max()) if finite.any() else None)
    ref = reference.ravel()
    if bad.any():
        k = int(np.argmax(np.where(bad, errors, -1.0)))
        check.ok, check.worst = False, int(entries[k])
        relative = errors[k] / abs(ref[k]) if ref[k] else math.inf
        verb = "give" if reference_name.endswith("differences") else "gives"
        check.detail = (f"{reference_name} {verb} {ref[k]:.12g} (off by {errors[k]:.3g}, "
                        f"relative {relative:.2g})")
    elif undefined.any():
        # the mode's own non-finite values first: there the reference has a number
        mode_only = undefined & np.isfinite(ref)
        k = int(np.argmax(mode_only if mode_only.any() else undefined))
        whose = "reference" if not np.isfinite(ref[k]) else f"{mode} mode's value"
        count = int(undefined.sum())
        check.undefined = True
        check.detail = (f"{whose} undefined here: for {derivatives[int(entries[k])].label} "
                        f"{mode} mode gives "
                        f"{got.ravel()[k]:.12g}, {reference_name} {ref[k]:.12g}"
                        + (f"; {count} entries undefined" if count > 1 else ""))
    elif finite.any():
        check.ok = True
    return check


def _cut_short(check, done, time_limit):
    """Say so when the oracle reached only some columns before the time limit."""
    if done is not None and not done.all():
        note = (f"checked {int(done.sum())} of {done.size} columns before the time limit of "
                f"{time_limit:g} s")
        check.detail = f"{check.detail}; {note}" if check.detail else note
    return check


def _why_not(user_ops, worker, time_limit):
    if user_ops:
        return f"no sympy form for {', '.join(map(repr, user_ops))}"
    if worker is not None and worker.error:
        return f"failed: {worker.error}"
    return f"not run for lack of time: the time limit of {time_limit:g} s was reached"


def _random_points_check(mode, worker, user_ops, wanted, time_limit):
    """The 30-digit comparison at the point and at random points nearby, entry by entry."""
    method = "sympy.diff at random points"
    if wanted == 0:
        return Check(mode, method, detail="points=0")
    if worker is None or len(worker.messages) < 2:
        why = _why_not(user_ops, worker, time_limit)
        if worker is not None and len(worker.messages) == 1 and worker.finished:
            return Check(mode, method, detail="no random point nearby where every value is "
                         "real", undefined=True)
        return Check(mode, method, detail=why)
    column = 2 if mode == "forward" else 3
    errors = np.array([e for message in worker.messages for e in message[column]])
    scales = np.array([s for message in worker.messages for s in message[4]])
    finite = np.isfinite(errors)
    n_points = len(worker.messages) - 1
    method = f"sympy.diff at {n_points} random point{'s' * (n_points > 1)}"
    if not finite.any():
        return Check(mode, method, detail="undefined at every point", undefined=True)
    bad = finite & ~(errors <= AGREEMENT * scales)
    check = Check(mode, method, ok=not bad.any(), max_abs_error=float(errors[finite].max()))
    if bad.any():
        where = int(np.argmax(np.where(bad, errors, -1.0)))
        per_point = len(worker.messages[0][1])
        message = worker.messages[where // per_point]
        check.worst = where % per_point
        point = ", ".join(_show_value(np.asarray(v)) for v in message[0])
        check.detail = (f"at ({point}) sympy.diff gives {message[1][check.worst]:.12g} "
                        f"(off by {errors[where]:.3g})")
    else:
        check.detail = "30 digits" + ("" if worker.finished else
                                      f"; stopped at the time limit of {time_limit:g} s")
    return check


def _nearby_check(mode, results, stopped, wanted, tolerances, time_limit):
    """Each mode against the oracle along random directions at random points nearby."""
    methods = sorted({r.method for r in results}) or ["the oracle"]
    n = len(results)
    method = f"{' / '.join(methods)} at {n or ''}{' ' if n else ''}random point{'s' * (n != 1)}"
    if not wanted:
        return Check(mode, method, detail="points=0")
    if not results:
        if stopped:
            return Check(mode, method, detail=f"not run for lack of time: the time limit of "
                         f"{time_limit:g} s was reached")
        return Check(mode, method, detail="no random point nearby where every value is finite",
                     undefined=True)
    worst, check = None, Check(mode, method, ok=True, max_abs_error=0.0)
    for r in results:
        rtol, atol = _tolerance(r.method, tolerances)
        if mode == "forward":
            got, expected, scale = r.forward, r.oracle, np.abs(r.oracle)
        else:
            got, expected = np.array([r.reverse]), np.array([r.weights @ r.oracle])
            scale = np.array([np.abs(r.weights) @ np.abs(r.oracle)])
        errors = np.abs(got - expected)
        check.max_abs_error = max(check.max_abs_error, float(errors.max()))
        bad = ~(errors <= atol + rtol * scale)
        if bad.any() and (worst is None or errors.max() > worst[0]):
            k = int(np.argmax(np.where(bad, errors, -1.0)))
            worst = (errors[k], r, got[k], expected[k])
    if worst is not None:
        error, r, got, expected = worst
        direction = "" if sum(np.size(v) for v in r.point) == 1 else " along a random direction"
        what = ("" if mode == "forward" or r.oracle.size == 1
                else " (weighted by random output weights)")
        point = ", ".join(_show_value(np.asarray(v)) for v in r.point)
        check.ok = False
        check.detail = (f"at ({point}){direction}{what} {mode} mode gives {got:.12g}, "
                        f"{r.method} {expected:.12g} (off by {error:.3g})")
    else:
        check.detail = ("random directions" if sum(np.size(v) for v in results[0].point) > 1
                        else "")
        if n < wanted:
            cut = (f"stopped at the time limit of {time_limit:g} s" if stopped else
                   f"only {n} of {wanted} random points had every value finite")
            check.detail = f"{check.detail}; {cut}" if check.detail else cut
    return check


def _record_proofs(worker, derivatives):
    n_columns = len(derivatives.columns)
    for message in worker.messages:
        if message[0] == "phase":
            continue
        a, b, mode, verdict, how, expression, reference = message
        k = a * n_columns + b
        derivatives.proofs.setdefault(k, {})[mode] = (verdict, how)
        expressions = derivatives.expressions.setdefault(k, {})
        expressions[mode] = expression
        expressions["sympy.diff"] = reference


def _proof_check(mode, derivatives, worker, user_ops, time_limit):
    method = "sympy.diff, proof for all inputs"
    if worker is None:
        return Check(mode, method, detail=_why_not(user_ops, worker, time_limit))
    verdicts = {k: p[mode] for k, p in sorted(derivatives.proofs.items()) if mode in p}
    n, proved = len(derivatives), derivatives.proved(mode)
    disproved = [k for k, v in verdicts.items() if v[0] == "disproved"]
    check = Check(mode, method, ok=False if disproved else True if proved == n else None,
                  verdict="proved" if proved == n else "not proved")
    check.detail = f"{proved} of {n}"
    if disproved:
        check.worst = disproved[0]
        check.detail += f"; {derivatives[check.worst].label}: {verdicts[check.worst][1]}"
    elif proved < n:
        unproved = next((k for k, v in verdicts.items() if v[0] != "proved"), None)
        if unproved is not None:
            check.detail += f"; {derivatives[unproved].label}: {verdicts[unproved][1]}"
        elif worker.error and "RecursionError" in worker.error:
            check.detail += "; the expression is too deep for sympy"
        elif worker.error:
            check.detail += f"; the proof failed: {worker.error}"
        else:
            phases = [m[1] for m in worker.messages if m[0] == "phase"]
            stage = ("building the primal expression" if not phases else
                     "building the derivative expressions" if len(phases) == 1 else
                     "simplifying")
            check.detail += (f"; stopped at the time limit of {time_limit:g} s while "
                             f"{stage}")
    return check


def _trace_check(divergence, names, row_labels):
    """The failing row saying where the function parts from its trace."""
    point = ", ".join(f"{n} = {_show_value(v)}" for n, v in zip(names, divergence.point))
    which = "" if len(row_labels) == 1 else f" (output {row_labels[divergence.row]})"
    return Check(TRACE, "f run again near the point", ok=False, detail=(
        f"the trace does not follow f near the point: at {point}, f gives "
        f"{divergence.function:.12g}{which}, its trace {divergence.trace:.12g}; a derivative "
        "is lost outside the graph (a .value, a branch frozen at the point)"))


# ---- verify ----

def _check_time_limit(time_limit):
    if (isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real)
            or not time_limit >= 0):
        raise DualadError(f"verify: time_limit must be 0 or more seconds (float('inf') for no "
                          f"limit), got {time_limit!r}")


def verify(f, *args, rtol=1e-8, atol=1e-10, fd_rtol=1e-5, fd_atol=1e-7, time_limit=10.0,
           points=5, seed=0):
    """Check the derivatives dualad computes for ``f``, numerically and symbolically.

    Forward mode and reverse mode are each compared with

    - ``sympy.diff`` of the primal expression, evaluated with 30 digits at the point, and at
      ``points`` random points nearby;
    - a derivative-free oracle that runs ``f`` itself again (traced afresh at each perturbed
      point, so code outside the graph, such as ``x.value`` or a branch, runs again): the
      complex step where every op is complex-analytic, else Richardson-extrapolated central
      differences (tolerances ``fd_rtol``, ``fd_atol``), at the point (each Jacobian entry)
      and at ``points`` random points nearby (along random directions). Where ``f`` and its
      traced graph give different values near the point, a failing row says so;
    - ``sympy.diff`` for all inputs: the expression the mode computes (the evaluators run on
      sympy symbols) minus ``sympy.diff`` must simplify to 0. What sympy cannot decide within
      the time limit is reported as not proved.

    A reference that is ``nan`` or infinite where the mode's value is finite (or the other way
    round) confirms nothing: the row says "undefined here" and the random points decide.
    Random points stay where every value is finite (inputs at 0 that feed ``sqrt`` or ``log``
    move to positive values). Ops with no sympy form (seed-style user ops) are checked by the
    oracle only, and the report says they were not proved.

    Parameters
    ----------
    f : callable, Graph or Var
        A function (traced at ``args``, and run again near them), a graph, or a ``Var`` (its
        graph; ``args`` default to its leaves' current values).
    *args : float or array
        The point: one value per input.
    rtol, atol : float
        Tolerances against exact references (sympy, complex step): ``|d - ref| <= atol +
        rtol |ref|``.
    fd_rtol, fd_atol : float
        Tolerances against central differences.
    time_limit : float
        Seconds for the whole call (``float("inf")``: no limit). Reverse mode's Jacobian at
        the point (one sweep per output element), one column of forward mode's (one sweep per
        input element: its sweeps stop at half the limit), one random point nearby and one
        oracle column are always computed; the rest stops at the limit, and the report says
        what did not run.
    points : int
        Random points for the checks nearby.
    seed : int
        Seed of those random points, so a report can be reproduced.

    Returns
    -------
    VerificationReport
        ``.ok``, ``.proved``, ``.max_abs_error``, one row per mode and method in ``.checks``,
        a readable ``str()``, and ``.raise_if_failed()``.

    Raises
    ------
    DualadError
        For a point that is not finite and real, a wrong number of values, or a bad
        ``time_limit``.

    Examples
    --------
    >>> import dualad as ad
    >>> report = ad.verify(lambda x, w: ad.exp(x * w) / w, 1.0, 4.0)
    >>> report.ok, report.proved
    (True, True)
    >>> [round(d.reverse, 6) for d in report.derivatives]   # [e^(xw), e^(xw) (x/w - 1/w^2)]
    [54.59815, 10.237153]
    >>> import numpy as np
    >>> lost = ad.verify(lambda x: ad.Var(np.sin(x.value)) * x, 1.0)   # sin(x) left the graph
    >>> lost.ok, lost.failures()[0].detail[:44]
    (False, 'the trace does not follow f near the point: ')
    """
    started = time.monotonic()
    _check_time_limit(time_limit)
    deadline = started + time_limit
    graph, point, name, function = _graph_and_point(f, args)
    names = symbol_names(graph)
    user_ops = sympy_free_ops(graph)
    positive, feeds_positive = _positive_inputs(graph, point)
    tolerances = ((rtol, atol), (fd_rtol, fd_atol))
    workers = {}
    if not user_ops and time_limit > 0:
        assumptions = [{"positive": True} if i in positive else {"real": True}
                       for i in range(len(names))]
        symbols = input_symbols(graph, [shape_of(v) for v in point], assumptions)
        workers["numbers"] = Worker(numbers_work(graph, point, feeds_positive, points, seed))
        workers["proof"] = Worker(proof_work(graph, symbols))

    try:
        # at the point, in floating point, while the workers run
        with np.errstate(all="ignore"):
            values = ValueEvaluator(graph).run(point)
            reverse = reverse_sweeps(graph, point, values=values)
            # the columns in random order, as the oracle takes them; forward mode's sweeps
            # (one per input element) stop at half the time limit, one column at least
            order = np.random.default_rng(seed).permutation(reverse.shape[1])
            forward, swept = forward_columns(graph, point, order=order,
                                             deadline=started + time_limit / 2)
        row_labels, column_labels = _labels_for(graph, name, values, names)
        traced = graph_values(graph)
        oracle = Oracle(traced if function is None else function_values(function), point,
                        is_analytic(graph), trace=None if function is None else traced)
        # first the random directions nearby, which cover the whole Jacobian at a few
        # evaluations each, then the Jacobian's columns one by one (in random order)
        nearby, divergence, stopped = _nearby(function, graph, point, feeds_positive, points,
                                              seed, deadline)
        with np.errstate(all="ignore"):
            oracle_jacobian, done = oracle.jacobian(deadline, order)
        collect(list(workers.values()), max(0.0, deadline - time.monotonic()))
    finally:
        for worker in workers.values():
            worker.stop()
    divergence = oracle.divergence or divergence

    numbers_worker, proof = workers.get("numbers"), workers.get("proof")
    reference = None
    if numbers_worker is not None and numbers_worker.messages:
        reference = np.reshape(numbers_worker.messages[0][1], forward.shape)
    derivatives = Derivatives(row_labels, column_labels, forward, reverse, oracle_jacobian,
                              done, reference, swept)
    if proof is not None:
        _record_proofs(proof, derivatives)

    checks = []
    everywhere = np.ones_like(swept)
    for mode, jacobian, computed in (("forward", forward, swept),
                                     ("reverse", reverse, everywhere)):
        if reference is not None:
            checks.append(_cut_short(
                _compare(mode, "sympy.diff at the point", jacobian, reference, tolerances[0],
                         "sympy.diff", derivatives, computed), computed, time_limit))
        else:
            checks.append(Check(mode, "sympy.diff at the point",
                                detail=_why_not(user_ops, numbers_worker, time_limit)))
        checks.append(_cut_short(
            _compare(mode, f"{oracle.method} at the point", jacobian, oracle_jacobian,
                     _tolerance(oracle.method, tolerances), oracle.method, derivatives,
                     done & computed),
            done & computed, time_limit))
        checks.append(_random_points_check(mode, numbers_worker, user_ops, points, time_limit))
        checks.append(_nearby_check(mode, nearby, stopped, points, tolerances, time_limit))
        checks.append(_proof_check(mode, derivatives, proof, user_ops, time_limit))
    if divergence is not None:
        checks.append(_trace_check(divergence, names, row_labels))

    assumed = ", ".join(f"{n} > 0" if i in positive else f"{n} real"
                        for i, n in enumerate(names))
    notes = []
    if user_ops:
        notes.append(f"op{'s' if len(user_ops) > 1 else ''} {', '.join(map(repr, user_ops))} "
                     "ha" + ("ve" if len(user_ops) > 1 else "s") + " no sympy form (a user op "
                     "defined with Var(op=..., pds=...)): checked by the oracle only, "
                     "not proved")
    if oracle.error:
        notes.append(f"f raised {oracle.error} at a point near the given one; the oracle "
                     "counts it as undefined there")
    for worker_name, worker in workers.items():
        if worker.error:
            notes.append(f"the {worker_name} worker failed: {worker.error}")
        if not worker.bounded:
            notes.append("this platform cannot fork: the time limit was not enforced")
    if not swept.all():
        notes.append(f"forward mode's Jacobian at the point: {int(swept.sum())} of "
                     f"{swept.size} columns (one sweep each) computed within half the time "
                     f"limit of {time_limit:g} s; the others are not shown")
    not_run = list(dict.fromkeys(c.method for c in checks if "lack of time" in c.detail))
    cut = list(dict.fromkeys(c.method for c in checks if "time limit" in c.detail
                             and "lack of time" not in c.detail))
    if not_run or cut:
        notes.append(f"the time limit of {time_limit:g} s was reached: "
                     + "; ".join(([f"not run: {', '.join(not_run)}"] if not_run else [])
                                 + ([f"cut short: {', '.join(cut)}"] if cut else [])))
    report = VerificationReport(function=name, point=dict(zip(names, point)),
                                derivatives=derivatives, checks=checks, assumptions=assumed,
                                notes=notes, seconds=time.monotonic() - started)
    for mode in MODES:
        if not report.failures() and not report._confirmed(mode):
            notes.append(f"nothing confirmed {mode} mode's derivatives: every numeric check "
                         "was undefined or did not run")
    return report
