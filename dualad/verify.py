"""``verify``: one function's derivatives, in both modes, against the referee.

This module owns :func:`verify` and what it reports (:class:`VerificationReport`, one
:class:`Derivative` per Jacobian entry, one :class:`Check` per mode and method). The references
it compares with are the referee's (:mod:`dualad.referee`); it owns no derivative rule, runs no
derivative algorithm of its own, and leaves the sympy bridge to :mod:`dualad.sympy_bridge` and
the registry's proof to :mod:`dualad.registry_proof`.

How ``verify`` checks a gradient (see ``docs/verify.md``):

1. at the given point, in floating point: forward mode and reverse mode against sympy's
   derivative (evaluated with 30 digits) and against a derivative-free oracle (complex step
   where every op is complex-analytic, else Richardson-extrapolated central differences);
2. symbolically, for all inputs: the expression each algorithm computes (the evaluators run on
   sympy symbols) minus ``sympy.diff`` of the primal expression must simplify to 0; this runs
   in a worker process under a time limit (:mod:`dualad.timelimit`);
3. as evidence where no proof came: both derivatives in 30-digit arithmetic at the given point
   and at random points nearby, the reference computed through the graph's shared structure
   (the chain rule over each op's ``sympy.diff``), so a graph of thousands of nodes costs
   thousands of small steps instead of one exponentially large expression.

Examples
--------
>>> import dualad as ad
>>> report = ad.verify(lambda x, w: ad.sin(x * w) + ad.exp(x) / w, 1.0, 4.0)
>>> report.ok, report.proved
(True, True)
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import DualadError, GradientMismatchError
from .evaluators import ValueEvaluator
from .evaluators.symbolic import input_symbols, symbol_names, sympy_free_ops
from .graph import Graph, Var, as_value, trace
from .primitives import POSITIVE
from .referee import AGREEMENT, _jacobians, _numbers_work, _oracle, _proof_work
from .shapes import shape_of
from .timelimit import Worker, collect

# ---- the report ----

@dataclass
class Derivative:
    """One entry of the Jacobian as each method found it (``None`` where a method did not run).

    Attributes
    ----------
    label, input : str
        ``"df/dx"``, and the input it is taken with respect to (``"x"``, ``"x[1]"``).
    forward, reverse : float
        What each mode computed, in floating point, at the point.
    oracle : float
        The complex step or central differences at the point.
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
    >>> d.label, d.forward, d.reverse, d.sympy
    ('df/dx', 6.0, 6.0, 6.0)
    """

    label: str
    input: str
    forward: float
    reverse: float
    oracle: float
    sympy: float = None
    proof: dict = field(default_factory=dict)
    expressions: dict = field(default_factory=dict)


@dataclass
class Check:
    """One row of the report: one mode checked by one method.

    ``ok`` is None when the check could not run (the reason is in ``detail``).

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

    @property
    def result(self):
        """``"ok"``, ``"FAILED"``, ``"not run"``, or a proof's ``"proved"``/``"not proved"``.

        Examples
        --------
        >>> import dualad as ad
        >>> [c.result for c in ad.verify(lambda x: x * x, 3.0).checks][:4]
        ['ok', 'ok', 'ok', 'proved']
        """
        if self.ok is False:
            return "FAILED"
        return self.verdict or ("ok" if self.ok else "not run")


@dataclass
class VerificationReport:
    """What :func:`verify` found: a verdict and the evidence for it.

    Attributes
    ----------
    ok : bool
        Every check that ran agreed within its tolerance (and no proof found a difference).
    proved : bool
        sympy proved the derivative each mode computes equal to ``sympy.diff`` for all inputs
        (under ``assumptions``), for every entry. Never True on numerical evidence alone.
    max_abs_error : float
        The largest absolute difference any check found between a mode and a reference.
    derivatives : list of Derivative
        Each Jacobian entry as forward mode, reverse mode, sympy and the oracle found it.
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
        return all(check.ok is not False for check in self.checks)

    @property
    def proved(self):
        return bool(self.derivatives) and all(
            d.proof.get(mode, ("unproved",))[0] == "proved"
            for d in self.derivatives for mode in ("forward", "reverse"))

    @property
    def max_abs_error(self):
        errors = [c.max_abs_error for c in self.checks if c.max_abs_error is not None]
        return max(errors) if errors else math.nan

    def failures(self):
        """The checks that failed, worst first.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> x = ad.Var(1.0, name="x")
        >>> report = ad.verify(ad.Var(op=np.exp, children=[x], pds=[np.cos]))
        >>> [c.mode for c in report.failures()], report.failures()[0].method
        (['forward', 'reverse'], 'central differences at the point')
        """
        failed = [c for c in self.checks if c.ok is False]
        return sorted(failed, key=lambda c: -(c.max_abs_error or 0.0))

    def raise_if_failed(self):
        """Raise :class:`~dualad.errors.GradientMismatchError` naming the input whose
        derivative disagrees, and by how much; return the report when every check passed.

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
            return self
        check = failed[0]
        if check.worst is None:
            raise GradientMismatchError(f"verify: {check.mode} mode failed "
                                        f"{check.method}: {check.detail}")
        d = self.derivatives[check.worst]
        got = d.forward if check.mode == "forward" else d.reverse
        raise GradientMismatchError(
            f"verify: {d.label}, the derivative with respect to {d.input}, disagrees: "
            f"{check.mode} mode gives {got:.12g}, {check.detail}")

    def __str__(self):
        point = ", ".join(f"{name} = {_show_value(v)}" for name, v in self.point.items())
        verdict = ("ok" if self.ok else "FAILED") + (", proved" if self.proved
                                                     else ", not proved")
        lines = [f"verify {self.function}({', '.join(self.point)}) at {point}: {verdict}", ""]
        methods = [("forward", "forward"), ("reverse", "reverse"), ("sympy", "sympy.diff")]
        oracle = next(c.method[:-len(" at the point")] for c in self.checks
                      if c.method.endswith("at the point") and "sympy" not in c.method)
        methods.append(("oracle", oracle))
        width = max(len("derivative"), *(len(d.label) for d in self.derivatives[:20]))
        lines.append("  ".join([f"{'derivative':<{width}}"] + [f"{m[1]:<20}" for m in methods])
                     .rstrip())
        for d in self.derivatives[:20]:
            cells = [_show_number(getattr(d, attr)) for attr, _ in methods]
            lines.append("  ".join([f"{d.label:<{width}}"] + [f"{c:<20}" for c in cells])
                         .rstrip())
        if len(self.derivatives) > 20:
            lines.append(f"... ({len(self.derivatives) - 20} more entries)")
        lines.append("")
        lines.append(f"{'mode':<8} {'check against':<34} {'max abs error':<14} result")
        for c in self.checks:
            error = "-" if c.max_abs_error is None else f"{c.max_abs_error:.1e}"
            detail = f" ({c.detail})" if c.detail else ""
            lines.append(f"{c.mode:<8} {c.method:<34} {error:<14} {c.result}{detail}")
        lines.append("")
        lines.append(f"assumptions: {self.assumptions}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def _show_value(value):
    if shape_of(value) == ():
        return f"{value:g}"
    return np.array2string(np.asarray(value), precision=6, separator=", ")


def _show_number(value):
    return "-" if value is None else f"{value:.12g}"


# ---- verify ----

def _graph_and_point(f, args):
    """The graph to check, its input values and a name for the function."""
    if isinstance(f, Var):
        graph = Graph(f)
        name = f.name or "f"
        if not args:
            args = [leaf.value for leaf in graph.inputs]
    elif isinstance(f, Graph):
        graph, name = f, "f"
        if not args and all(leaf.value is not None for leaf in graph.inputs):
            args = [leaf.value for leaf in graph.inputs]
    elif callable(f):
        graph = trace(f, *args)
        name = getattr(f, "__name__", "f")
        name = name if name.isidentifier() else "f"
    else:
        hint = "; for expression text use verify(dualad.parse(text), ...)" if isinstance(
            f, str) else ""
        raise DualadError(f"verify: expected a function, a Graph or a Var, got "
                          f"{type(f).__name__}{hint}")
    names = symbol_names(graph)
    if len(args) != len(graph.inputs):
        raise DualadError(f"verify: the function has {len(graph.inputs)} input(s) "
                          f"({', '.join(names)}) but {len(args)} value(s) were given")
    if not graph.inputs:
        raise DualadError("verify: the function has no inputs, so no derivative to check")
    point = [as_value(a) for a in args]
    for name_i, value in zip(names, point):
        if value is None or np.iscomplexobj(value) or not np.all(np.isfinite(value)):
            raise DualadError(f"verify: the value of {name_i} must be a finite real number "
                              f"or array, got {value!r}")
    return graph, point, name


def _positive_inputs(graph, point):
    """Inputs that feed an argument whose domain is positive and are positive at the point:
    the proof may assume them positive (it then claims the result only there)."""
    inputs = {pos: i for i, pos in enumerate(graph.input_positions)}
    found = set()
    for instruction in graph.program:
        for j, arg in enumerate(instruction.args):
            if arg in inputs and instruction.prim.domain[j].is_subset(POSITIVE):
                i = inputs[arg]
                if np.all(np.asarray(point[i]) > 0):
                    found.add(i)
    return found


def _compare(mode, method, got, reference, rtol, atol, detail_name):
    """A Check row comparing one mode's Jacobian with a reference Jacobian."""
    errors = np.abs(np.asarray(got, dtype=float) - np.asarray(reference, dtype=float))
    errors = np.where(np.isnan(errors), np.inf, errors).ravel()
    bad = errors > atol + rtol * np.abs(np.asarray(reference, dtype=float)).ravel()
    worst = int(np.argmax(np.where(bad, errors, -1.0) if bad.any() else errors))
    ref = float(np.ravel(reference)[worst])
    check = Check(mode, method, ok=not bad.any(), max_abs_error=float(errors.max()), worst=worst)
    if bad.any():
        relative = errors[worst] / abs(ref) if ref else math.inf
        check.detail = (f"{detail_name} give{'s' if detail_name.startswith('sympy') else ''} "
                        f"{ref:.12g} (off by {errors[worst]:.3g}, relative {relative:.2g})")
    return check


def verify(f, *args, rtol=1e-8, atol=1e-10, fd_rtol=1e-5, fd_atol=1e-7, time_limit=10.0,
           points=5, seed=0):
    """Check the derivatives dualad computes for ``f``, numerically and symbolically.

    Forward mode and reverse mode are each compared with

    - ``sympy.diff`` of the primal expression, evaluated with 30 digits at the point;
    - a derivative-free oracle: the complex step when every op is complex-analytic, else
      Richardson-extrapolated central differences (tolerances ``fd_rtol``, ``fd_atol``);
    - ``sympy.diff`` for all inputs: the expression the mode computes (the evaluators run on
      sympy symbols) minus ``sympy.diff`` must simplify to 0. When sympy cannot decide within
      ``time_limit`` seconds, the report says so and rests on the same comparison in 30-digit
      arithmetic at the point and at ``points`` random points nearby: ``proved`` stays False.

    Ops with no sympy form (seed-style user ops) are checked by the oracle only, and the
    report says they were not proved. The numeric checks at the point are always done.

    Parameters
    ----------
    f : callable, Graph or Var
        A function (traced at ``args``), a graph, or a ``Var`` (its graph; ``args`` default to
        its leaves' current values).
    *args : float or array
        The point: one value per input.
    rtol, atol : float
        Tolerances against exact references (sympy, complex step): ``|d - ref| <= atol +
        rtol |ref|``.
    fd_rtol, fd_atol : float
        Tolerances against central differences.
    time_limit : float
        Seconds for the symbolic work (run in worker processes, so it can be stopped).
    points : int
        Random points for the 30-digit comparison.
    seed : int
        Seed of those random points, so a report can be reproduced.

    Returns
    -------
    VerificationReport
        ``.ok``, ``.proved``, ``.max_abs_error``, one row per mode and method in ``.checks``,
        a readable ``str()``, and ``.raise_if_failed()``.

    Examples
    --------
    >>> import dualad as ad
    >>> report = ad.verify(lambda x, w: ad.exp(x * w) / w, 1.0, 4.0)
    >>> report.ok, report.proved
    (True, True)
    >>> [round(d.reverse, 6) for d in report.derivatives]   # [e^(xw), e^(xw) (x/w - 1/w^2)]
    [54.59815, 10.237153]
    """
    started = time.monotonic()
    graph, point, name = _graph_and_point(f, args)
    names = symbol_names(graph)
    user_ops = sympy_free_ops(graph)
    positive = _positive_inputs(graph, point)
    workers = {}
    if not user_ops:
        assumptions = [{"positive": True} if i in positive else {"real": True}
                       for i in range(len(names))]
        symbols = input_symbols(graph, [shape_of(v) for v in point], assumptions)
        workers["numbers"] = Worker(_numbers_work(graph, point, positive, points, seed))
        workers["proof"] = Worker(_proof_work(graph, symbols))

    try:
        # at the point, in floating point: always done, while the workers run
        values = ValueEvaluator(graph).run(point)
        forward, reverse = _jacobians(graph, point, values, 1.0, 0.0)
        oracle_name, oracle = _oracle(graph, point, forward.shape[0])
        row_labels, column_labels = _labels_for(graph, name, values, names)
        collect(list(workers.values()), max(0.0, time_limit - (time.monotonic() - started)))
    finally:
        for worker in workers.values():
            worker.stop()
    derivatives = [Derivative(label=f"d{r}/d{c}", input=c, forward=float(forward[a, b]),
                              reverse=float(reverse[a, b]), oracle=float(oracle[a, b]))
                   for a, r in enumerate(row_labels) for b, c in enumerate(column_labels)]
    notes = []
    numbers = workers.get("numbers")
    proof = workers.get("proof")
    reference = None
    if numbers is not None and numbers.messages:
        reference = np.reshape(numbers.messages[0][1], forward.shape)
        for d, value in zip(derivatives, reference.flat):
            d.sympy = float(value)
    if proof is not None:
        _record_proofs(proof, derivatives, len(column_labels))

    fd_tol = (fd_rtol, fd_atol) if oracle_name == "central differences" else (rtol, atol)
    checks = []
    for mode, jacobian in (("forward", forward), ("reverse", reverse)):
        if reference is not None:
            checks.append(_compare(mode, "sympy.diff at the point", jacobian, reference,
                                   rtol, atol, "sympy.diff"))
        else:
            checks.append(Check(mode, "sympy.diff at the point",
                                detail=_why_not(user_ops, numbers, time_limit)))
        checks.append(_compare(mode, f"{oracle_name} at the point", jacobian, oracle,
                               *fd_tol, oracle_name))
        checks.append(_random_points_check(mode, numbers, user_ops, time_limit))
        checks.append(_proof_check(mode, derivatives, proof, user_ops, time_limit))
    assumed = ", ".join(f"{n} > 0" if i in positive else f"{n} real"
                        for i, n in enumerate(names))
    if user_ops:
        notes.append(f"op{'s' if len(user_ops) > 1 else ''} {', '.join(map(repr, user_ops))} "
                     "ha" + ("ve" if len(user_ops) > 1 else "s") + " no sympy form (a user op "
                     f"defined with Var(op=..., pds=...)): checked by {oracle_name} only, "
                     "not proved")
    for worker_name, worker in workers.items():
        if worker.error:
            notes.append(f"the {worker_name} worker failed: {worker.error}")
        if not worker.bounded:
            notes.append("this platform cannot fork: the time limit was not enforced")
    return VerificationReport(function=name, point=dict(zip(names, point)),
                              derivatives=derivatives, checks=checks, assumptions=assumed,
                              notes=notes, seconds=time.monotonic() - started)


def _labels_for(graph, name, values, names):
    single = len(graph.outputs) == 1
    show = lambda n, index: n if index == () else f"{n}[{', '.join(map(str, index))}]"  # noqa
    rows = [show(name if single else f"{name}{k}", index)
            for k, pos in enumerate(graph.output_positions)
            for index in np.ndindex(shape_of(values[pos]))]
    columns = [show(names[i], index) for i, pos in enumerate(graph.input_positions)
               for index in np.ndindex(shape_of(values[pos]))]
    return rows, columns


def _why_not(user_ops, worker, time_limit):
    if user_ops:
        return f"no sympy form for {', '.join(map(repr, user_ops))}"
    if worker is not None and worker.error:
        return f"failed: {worker.error}"
    return f"did not finish within the time limit of {time_limit:g} s"


def _random_points_check(mode, worker, user_ops, time_limit):
    method = "sympy.diff at random points"
    if worker is None or len(worker.messages) < 2:
        why = _why_not(user_ops, worker, time_limit)
        if worker is not None and len(worker.messages) == 1 and worker.finished:
            why = "no random point nearby where every value is real"
        return Check(mode, method, detail=why)
    column = 2 if mode == "forward" else 3
    errors = np.array([e for message in worker.messages for e in message[column]])
    scales = np.array([s for message in worker.messages for s in message[4]])
    errors = np.where(np.isnan(errors), np.inf, errors)
    n_points = len(worker.messages) - 1
    method = f"sympy.diff at {n_points} random point{'s' * (n_points > 1)}"
    bad = errors > AGREEMENT * scales
    check = Check(mode, method, ok=not bad.any(), max_abs_error=float(errors.max()))
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


def _record_proofs(worker, derivatives, n_columns):
    for message in worker.messages:
        if message[0] == "phase":
            continue
        a, b, mode, verdict, how, expression, reference = message
        d = derivatives[a * n_columns + b]
        d.proof[mode] = (verdict, how)
        d.expressions[mode] = expression
        d.expressions["sympy.diff"] = reference


def _proof_check(mode, derivatives, worker, user_ops, time_limit):
    method = "sympy.diff, proof for all inputs"
    if worker is None:
        return Check(mode, method, detail=_why_not(user_ops, worker, time_limit))
    verdicts = [d.proof.get(mode) for d in derivatives]
    proved = sum(v is not None and v[0] == "proved" for v in verdicts)
    disproved = [k for k, v in enumerate(verdicts) if v is not None and v[0] == "disproved"]
    check = Check(mode, method, ok=not disproved,
                  verdict="proved" if proved == len(derivatives) else "not proved")
    check.detail = f"{proved} of {len(derivatives)}"
    if disproved:
        check.worst = disproved[0]
        check.detail += f"; {derivatives[disproved[0]].label}: {verdicts[disproved[0]][1]}"
    elif proved < len(derivatives):
        unproved = next((k for k, v in enumerate(verdicts) if v is not None and v[0] !=
                         "proved"), None)
        if unproved is not None:
            check.detail += f"; {derivatives[unproved].label}: {verdicts[unproved][1]}"
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
