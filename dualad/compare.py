"""Teaching the trade-off: the two modes side by side.

This module owns :func:`compare` (a :class:`ModeComparison` of forward and reverse mode on one
graph: Jacobians, sweeps, operations, memory and time, checked against sympy). Costs are
measured by :class:`~dualad.evaluators.CostEvaluator`, which documents the cost model; names,
numbers and tables are formatted by :mod:`dualad.printing`; the evaluation traces are
:mod:`dualad.traces`. Every number comes from the real evaluators.

Examples
--------
>>> import dualad as ad
>>> report = ad.compare(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0)
>>> report.cheaper, report.reverse.jacobian.round(3).tolist()
('reverse', [[5.5, 1.716]])
"""

import html
import json
import math
from dataclasses import dataclass, field

import numpy as np

from .entry import prepare
from .evaluators.cost import CostEvaluator, ModeCost
from .evaluators.value import ValueEvaluator
from .graph import Graph, element_label
from .printing import format_value, html_table, output_name, plain_json, text_table
from .referee import reference_jacobian_at
from .shapes import shape_of


def _element_labels(name, shape):
    return [element_label(name, index) for index in np.ndindex(*shape)]


def _point_text(names, values, decimals=3):
    return ", ".join(f"{n} = {format_value(v, decimals)}" for n, v in zip(names, values))


# ---- sympy's Jacobian: the registry's sympy forms, differentiated by sympy ----

def sympy_jacobian(graph, input_values):
    """The Jacobian computed by sympy: each primitive's sympy form (the specification)
    differentiated by ``sympy.diff`` and chained through the graph, at the point to 30 digits
    (:func:`dualad.referee.reference_jacobian_at`).

    Independent of every derivative rule in dualad. Rows are outputs and columns inputs,
    each flattened in order; ``nan`` where sympy's derivative is undefined.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.compare import sympy_jacobian
    >>> graph = ad.trace(lambda x, y: x * ad.sin(y), 2.0, 0.0)
    >>> sympy_jacobian(graph, [2.0, 0.0]).tolist()      # [sin y, x cos y]
    [[0.0, 2.0]]
    """
    return reference_jacobian_at(graph, input_values)


def _max_error(jacobian, reference):
    """The largest |jacobian - reference|; entries equal in both (nan in both, or the same
    infinity) count as 0, one nan against a number gives nan."""
    if jacobian.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        same = (jacobian == reference) | (np.isnan(jacobian) & np.isnan(reference))
        error = np.where(same, 0.0, np.abs(jacobian - reference))
    return float(np.max(error))


def _agree(difference, scale, who):
    """How closely two Jacobians agree, in words."""
    if difference == 0:
        return f"{who} agree exactly"
    if not math.isfinite(difference):
        return f"{who} cannot be compared: one is nan or infinite where the other is not"
    if difference <= ROUND_OFF * max(1.0, scale):
        return f"{who} agree to within round-off (largest difference {difference:.1e})"
    return f"{who} DIFFER, by up to {difference:.3g}"


# ---- compare ----

#: Two Jacobians whose entries differ by at most this, relative to their largest entry,
#: agree "to within round-off" in the report.
ROUND_OFF = 1e-10

def _plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def _seconds(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _full(value):
    """A Jacobian entry to 12 significant digits, as ``verify`` prints its derivatives."""
    return f"{value:.12g}"


def _error(error):
    if error is None:
        return "-"
    return "0" if error == 0 else f"{error:.1e}"


@dataclass
class ModeComparison:
    """Forward and reverse mode on one graph at one point; made by :func:`compare`.

    Attributes
    ----------
    forward, reverse : ModeCost
        Each with ``.jacobian``, ``.passes``, ``.ops`` (and ``.primal_ops``,
        ``.derivative_ops``), ``.seconds``, ``.peak_memory`` and ``.max_error`` (against
        sympy's Jacobian; ``None`` without a reference).
    reference : numpy.ndarray or None
        sympy's Jacobian (outputs x inputs, each flattened in order).
    input_labels, output_labels : list of str
        One per column (``x1``, ``W[0,1]``) and per row (``y``, ``y₂[3]``) of the Jacobians.
    n, m : int
        The numbers of input and output elements (f: R^n -> R^m).
    cheaper : str or None
        ``"forward"`` or ``"reverse"``, whichever performs fewer operations (``None``: a tie).
    why : str
        One sentence saying why.

    Examples
    --------
    >>> import dualad as ad
    >>> def curve(t):                     # R^1 -> R^3, the outputs share w
    ...     w = ad.exp(ad.tanh(t))
    ...     return ad.sin(w), ad.cos(w), w * w
    >>> report = ad.compare(curve, 0.5)
    >>> report.n, report.m, report.forward.passes, report.reverse.passes, report.cheaper
    (1, 3, 1, 3, 'forward')
    """

    graph: Graph = field(repr=False)
    point: list
    forward: ModeCost
    reverse: ModeCost
    reference: np.ndarray = field(default=None, repr=False)
    input_labels: list = field(default_factory=list)
    output_labels: list = field(default_factory=list)

    @property
    def n(self):
        return len(self.input_labels)

    @property
    def m(self):
        return len(self.output_labels)

    @property
    def cheaper(self):
        if self.forward.ops == self.reverse.ops:
            return None
        return "forward" if self.forward.ops < self.reverse.ops else "reverse"

    def per_sweep(self, mode):
        """Average operations of one sweep: forward sweeps include the values they recompute;
        reverse sweeps come after one evaluation of f."""
        cost = getattr(self, mode)
        work = cost.ops if mode == "forward" else cost.derivative_ops
        return work / cost.passes if cost.passes else 0.0

    @property
    def why(self):
        forward, reverse, n, m = self.forward, self.reverse, self.n, self.m
        per_f, per_r = self.per_sweep("forward"), self.per_sweep("reverse")
        if self.cheaper is None:
            return (f"both modes perform {forward.ops:,} operations here: forward mode runs "
                    f"{_plural(n, 'sweep')} of about {per_f:.0f} operations, reverse mode one "
                    f"evaluation ({reverse.primal_ops:,}) and {_plural(m, 'sweep')} of about "
                    f"{per_r:.0f}.")
        cheap, dear = (forward, reverse) if self.cheaper == "forward" else (reverse, forward)
        head = (f"{cheap.mode} mode is cheaper here ({cheap.ops:,} operations against "
                f"{dear.ops:,})")
        unit = {"forward": "input", "reverse": "output"}
        if cheap.passes < dear.passes:
            return (f"{head}: f has n = {_plural(n, 'input')} and m = {_plural(m, 'output')}, "
                    f"and {cheap.mode} mode needs one sweep per {unit[cheap.mode]} "
                    f"({cheap.passes}) where {dear.mode} mode needs one per "
                    f"{unit[dear.mode]} ({dear.passes}).")
        if cheap.passes == dear.passes and cheap is reverse:
            return (f"{head}: with n = m = {n} both modes need {_plural(n, 'sweep')}, but "
                    f"reverse mode evaluates f once and reuses its values (the tape), while "
                    f"every forward sweep computes them again.")
        per = {"forward": per_f, "reverse": per_r}
        return (f"{head} although it needs {cheap.passes} sweeps to {dear.passes}: a "
                f"{cheap.mode} sweep costs about {per[cheap.mode]:.0f} operations here and a "
                f"{dear.mode} sweep about {per[dear.mode]:.0f}"
                f"{' (after one evaluation of f)' if dear is reverse else ''}.")

    def rows(self):
        """The comparison as rows of text: [what, forward, reverse]."""
        forward, reverse = self.forward, self.reverse
        rows = [["", "forward", "reverse"],
                ["derivative sweeps (passes)", str(forward.passes), str(reverse.passes)],
                ["operations", f"{forward.ops:,}", f"{reverse.ops:,}"],
                ["  on values", f"{forward.primal_ops:,}", f"{reverse.primal_ops:,}"],
                ["  on derivatives", f"{forward.derivative_ops:,}",
                 f"{reverse.derivative_ops:,}"],
                ["peak memory (bytes)", f"{forward.peak_memory:,}", f"{reverse.peak_memory:,}"],
                [f"seconds (median of {forward.repeats})", _seconds(forward.seconds),
                 _seconds(reverse.seconds)]]
        if self.reference is not None:
            rows.append(["max |error| vs sympy", _error(forward.max_error),
                         _error(reverse.max_error)])
        return rows

    def title(self):
        return (f"f: R^{self.n} -> R^{self.m} at "
                f"{_point_text(self.graph.input_names, self.point)}")

    JACOBIAN_SHOWN = 24   # entries listed; a larger Jacobian is summed up in a sentence

    @property
    def difference(self):
        """The largest |forward - reverse| over the Jacobian's entries."""
        return _max_error(self.forward.jacobian, self.reverse.jacobian)

    def agreement(self):
        """One sentence: how closely the two modes' Jacobians agree, and sympy's.

        Examples
        --------
        >>> import dualad as ad
        >>> ad.compare(lambda x, y: x * y, 2.0, 3.0, repeats=1).agreement()
        'forward and reverse mode agree exactly, and with sympy.'
        """
        jacobian = self.reverse.jacobian
        finite = np.abs(jacobian[np.isfinite(jacobian)])
        scale = float(finite.max()) if finite.size else 1.0
        text = _agree(self.difference, scale, "forward and reverse mode")
        if self.reference is None:
            return text + "."
        error = max(self.forward.max_error, self.reverse.max_error,
                    key=lambda e: math.inf if math.isnan(e) else e)
        if error == 0:
            return text + ", and with sympy."
        if math.isnan(error):
            return text + "; sympy's derivative is undefined at some entries."
        return text + "; " + _agree(error, scale, "they and sympy") + "."

    def jacobian_rows(self):
        """Each entry of the Jacobian as forward mode, reverse mode and sympy computed it, as
        rows of text (a header first), or ``None`` for a large Jacobian."""
        forward, reverse, exact = self.forward.jacobian, self.reverse.jacobian, self.reference
        if forward.size > self.JACOBIAN_SHOWN or forward.size == 0:
            return None
        rows = [["", "forward", "reverse"] + (["sympy"] if exact is not None else [])]
        for i, out in enumerate(self.output_labels):
            for j, name in enumerate(self.input_labels):
                rows.append([f"d{out}/d{name}", _full(forward[i, j]), _full(reverse[i, j])]
                            + ([_full(exact[i, j])] if exact is not None else []))
        return rows

    def jacobian_text(self):
        """The Jacobians in words and numbers: each entry by each mode (and sympy) side by side,
        or, for a large Jacobian, its shape and how closely the modes agree.

        Examples
        --------
        >>> import dualad as ad
        >>> print(ad.compare(lambda x, y: x * y, 2.0, 3.0, repeats=1).jacobian_text())
        The Jacobian, as each mode and sympy computed it:
               forward  reverse  sympy
        df/dx        3        3      3
        df/dy        2        2      2
        forward and reverse mode agree exactly, and with sympy.
        """
        rows = self.jacobian_rows()
        if rows is None:
            return (f"Jacobian: {self.m} x {self.n} (rows: outputs, columns: inputs); "
                    f"{self.agreement()}")
        return "\n".join(["The Jacobian, as each mode and sympy computed it:",
                          text_table(rows, align="<" + ">" * (len(rows[0]) - 1)),
                          self.agreement()])

    def __str__(self):
        return "\n".join([self.title(), text_table(self.rows(), align="<>>"), self.why,
                          self.jacobian_text()])

    def _repr_html_(self):
        rows = self.rows()
        parts = [html_table(rows[0], rows[1:], caption=self.title()),
                 f"<p>{html.escape(self.why)}</p>"]
        jacobian = self.jacobian_rows()
        if jacobian is not None:
            parts.append(html_table(jacobian[0], jacobian[1:], caption="The Jacobian"))
            parts.append(f"<p>{html.escape(self.agreement())}</p>")
        else:
            parts.append(f"<p>{html.escape(self.jacobian_text())}</p>")
        return "\n".join(parts)

    def to_dict(self):
        """Everything in the report as plain numbers, lists and strings (for JSON)."""
        def mode(cost):
            return {"passes": cost.passes, "ops": cost.ops, "primal_ops": cost.primal_ops,
                    "derivative_ops": cost.derivative_ops, "peak_memory": cost.peak_memory,
                    "seconds": cost.seconds, "repeats": cost.repeats,
                    "max_error": plain_json(cost.max_error), "jacobian": plain_json(cost.jacobian)}
        return {"n": self.n, "m": self.m,
                "inputs": {name: plain_json(v) for name, v in zip(self.graph.input_names,
                                                              self.point)},
                "input_labels": self.input_labels, "output_labels": self.output_labels,
                "forward": mode(self.forward), "reverse": mode(self.reverse),
                "reference": plain_json(self.reference), "difference": plain_json(self.difference),
                "agreement": self.agreement(), "cheaper": self.cheaper, "why": self.why}

    def to_json(self, **options):
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), **options)


def compare(f, *args, repeats=5, reference=True, batched=False):
    """Forward mode and reverse mode computing the same Jacobian, side by side.

    Each mode computes the derivatives of every output with respect to every argument the
    textbook way, one seed direction per sweep (n forward sweeps, or one evaluation and m
    reverse sweeps, for f: R^n -> R^m); the report gives each mode's Jacobian, sweeps,
    operations, peak memory and time (the cost model is documented in
    :mod:`dualad.evaluators.cost`), each Jacobian's largest error against sympy's, and which
    mode is cheaper here and why.

    Parameters
    ----------
    f : callable or Graph
        A function of ``len(args)`` values returning a value or a tuple of values (it is
        traced), or a Graph (from :func:`parse`, say).
    *args : float or array
        The point. A Graph may be given without it, at its inputs' current values.
    repeats : int
        Timed runs per mode; ``seconds`` is their median.
    reference : bool
        Compute sympy's Jacobian and the errors against it (slow for large graphs).
    batched : bool
        Count and time every seed direction in one sweep (what ``ad.jacobian`` runs):
        forward mode then computes the values and local partials once, not once per
        direction. The default is the textbook count, one sweep per direction.

    Returns
    -------
    ModeComparison
        ``str()`` of it is a table; in Jupyter it shows as an HTML table.

    Examples
    --------
    >>> import dualad as ad
    >>> def speelpenning(*x):            # the product of all inputs
    ...     y = x[0]
    ...     for xi in x[1:]:
    ...         y = y * xi
    ...     return y
    >>> report = ad.compare(speelpenning, *range(1, 11))
    >>> report.forward.passes, report.reverse.passes
    (10, 1)
    >>> report.forward.ops, report.reverse.ops
    (144, 27)
    >>> print(report.why)
    reverse mode is cheaper here (27 operations against 144): f has n = 10 inputs and m = 1 output, and reverse mode needs one sweep per output (1) where forward mode needs one per input (10).
    >>> batched = ad.compare(speelpenning, *range(1, 11), batched=True)
    >>> batched.forward.ops, batched.reverse.ops   # values once, but every tangent carries
    (279, 27)
    >>> # all 10 directions, zeros included: 9 values, then 9 nodes of 20 products + 10 adds
    """
    graph, point, _ = prepare(f, args, "compare")
    forward = CostEvaluator(graph, "forward", batched).run(point, repeats)
    reverse = CostEvaluator(graph, "reverse", batched).run(point, repeats)
    values = ValueEvaluator(graph).run(point)
    input_labels = [label for name, p in zip(graph.input_names, graph.input_positions)
                    for label in _element_labels(name, shape_of(values[p]))]
    count = len(graph.outputs)
    output_labels = [label for k, p in enumerate(graph.output_positions)
                     for label in _element_labels(output_name(k, count, graph.input_names),
                                                  shape_of(values[p]))]
    exact = None
    if reference:
        exact = sympy_jacobian(graph, point)
        forward.max_error = _max_error(forward.jacobian, exact)
        reverse.max_error = _max_error(reverse.jacobian, exact)
    return ModeComparison(graph=graph, point=point, forward=forward, reverse=reverse,
                          reference=exact, input_labels=input_labels,
                          output_labels=output_labels)
