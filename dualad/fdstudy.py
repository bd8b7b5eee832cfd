"""The step-size study: finite differences against dualad's derivative, over many step sizes.

This module owns :func:`fd_study` and its report :class:`FDStudy`, the picture a lecture on
gradient checking starts from. For f, a point x and a direction v, it measures how far three
estimates of the directional derivative f'(x) v fall from the one dualad computes (forward
mode, exact to round-off), for step sizes h from 1e-1 down to 1e-16:

- forward differences (f(x + h v) - f(x)) / h: truncation error about h |f''|/2 (slope 1 on
  log-log axes), round-off about eps |f| / h (slope -1); the two meet near h ~ sqrt(eps);
- central differences (f(x + h v) - f(x - h v)) / (2h): truncation about h^2 |f'''|/6
  (slope 2), the same round-off; they meet near h ~ eps^(1/3);
- the complex step Im f(x + i h v) / h: truncation about h^2 |f'''|/6 and no subtraction, so
  no round-off growth. The traced graph is evaluated on complex inputs, which is right only
  where every op is complex-analytic; where one is not (``abs``, ``maximum``, ...), the
  column is nan and a note names the op.

The curves' constants f''(x)[v, v]/2 and f'''(x)[v, v, v]/6 are Taylor coefficients of
t -> f(x + t v), from :func:`dualad.taylor`: the report predicts the best h from them, and the
plot draws the truncation and round-off lines they give.

Examples
--------
>>> import dualad as ad
>>> study = ad.fd_study(ad.sin, 1.0)
>>> study.h[:3].tolist()
[0.1, 0.01, 0.001]
>>> study.forward_error[:3].round(7).tolist()      # truncation: h |sin''(1)|/2 = 0.42 h
[0.0429386, 0.0042163, 0.0004208]
>>> study.central_error[:3].round(9).tolist()      # h^2 |sin'''(1)|/6 = 0.09 h^2
[0.000900054, 9.005e-06, 9e-08]
"""

import math

import numpy as np

from .api import jvp
from .entry import prepare
from .errors import BranchChangedError, DualadError
from .evaluators import ValueEvaluator
from .plotting import matplotlib_figure
from .printing import format_value, plain_json, text_table
from .referee import complex_step_applies
from .shapes import shape_of
from .taylor import line_tangents, taylor
from .values import describe

#: The default step sizes: 1e-1, 1e-2, ..., 1e-16.
DEFAULT_STEPS = tuple(10.0 ** -k for k in range(1, 17))

#: The three estimates, in the order they are shown: attribute stem -> label.
METHODS = {"forward": "forward", "central": "central", "complex_step": "complex step"}

EPS = float(np.finfo(float).eps)


class FDStudy:
    """How finite differences and the complex step compare with dualad's derivative.

    Attributes
    ----------
    h : ndarray
        The step sizes, as given (by default 1e-1 down to 1e-16).
    forward_error, central_error, complex_step_error : ndarray
        |estimate - exact| at each h (the largest over the output elements); nan where the
        estimate could not be made (see ``notes``).
    exact : float or ndarray
        dualad's directional derivative f'(x) v (forward mode).
    value : float or ndarray
        f(x).
    best_h : dict
        For each method (``"forward"``, ``"central"``, ``"complex_step"``) the h with the
        smallest error (the largest such h on a tie), or ``None`` where every error is nan.
    predicted_best_h : dict
        ``"forward"``: sqrt(eps |f| / |c2|), ``"central"``: (eps |f| / (2 |c3|))^(1/3), where
        the round-off eps |f| / h meets the truncation |c2| h or |c3| h^2 (c_j = Taylor
        coefficients of t -> f(x + t v)); ``None`` where a constant is 0 or unknown.
    taylor_coefficients : ndarray or None
        c_0 ... c_3 (largest magnitude over output elements), or ``None`` where Taylor mode
        could not run.
    notes : list of str
        Why a column has nan, or anything else a reader should know.

    Examples
    --------
    >>> import dualad as ad
    >>> study = ad.fd_study(ad.exp, 0.0, h=[1e-2, 1e-4])
    >>> study.forward_error.round(6).tolist()        # e^h - 1)/h - 1 ~ h/2
    [0.005017, 5e-05]
    """

    def __init__(self, name, labels, h, errors, exact, value, taylor_coefficients, notes):
        self.name = name
        self.labels = labels
        self.h = h
        self.forward_error = errors["forward"]
        self.central_error = errors["central"]
        self.complex_step_error = errors["complex_step"]
        self.exact = exact
        self.value = value
        self.taylor_coefficients = taylor_coefficients
        self.notes = notes
        self.best_h = {method: _best(h, self.errors[method]) for method in METHODS}
        self.predicted_best_h = _predicted(value, taylor_coefficients)

    @property
    def errors(self):
        """The three error arrays by method name."""
        return {"forward": self.forward_error, "central": self.central_error,
                "complex_step": self.complex_step_error}

    @property
    def title(self):
        """One line: f, the point, the direction and dualad's derivative."""
        return (f"Step sizes for {self.name} at {self.labels['point']} along "
                f"{self.labels['direction']}: dualad's derivative (forward mode) is "
                f"{format_value(self.exact, 12)}")

    def __str__(self):
        rows = [["h"] + [f"{label} error" for label in METHODS.values()]]
        for k, h in enumerate(self.h):
            rows.append([_step(h)] + [_error(self.errors[m][k]) for m in METHODS])
        rows.append(["best h"] + [_step(self.best_h[m]) if self.best_h[m] else "-"
                                  for m in METHODS])
        lines = [self.title, text_table(rows, align=">>>>")]
        predicted = [f"{METHODS[m]} near {_step(float(f'{h:.1e}'))}"
                     for m, h in self.predicted_best_h.items() if h]
        if predicted:
            lines.append("predicted best h (round-off eps|f|/h meets the truncation error "
                         "from ad.taylor): " + ", ".join(predicted))
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)

    def to_dict(self):
        """Everything as JSON-ready values (``null`` for nan).

        Examples
        --------
        >>> import dualad as ad
        >>> sorted(ad.fd_study(ad.sin, 1.0).to_dict())      # doctest: +NORMALIZE_WHITESPACE
        ['best_h', 'central_error', 'complex_step_error', 'direction', 'exact', 'forward_error',
         'h', 'notes', 'point', 'predicted_best_h', 'value']
        """
        out = {"point": self.labels["point"], "direction": self.labels["direction"],
               "value": plain_json(self.value), "exact": plain_json(self.exact),
               "h": plain_json(self.h)}
        out.update({f"{m}_error": plain_json(e) for m, e in self.errors.items()})
        out["best_h"] = dict(self.best_h)
        out["predicted_best_h"] = dict(self.predicted_best_h)
        out["notes"] = list(self.notes)
        return out

    def plot(self, path=None):
        """The V curves: each method's error against h on log-log axes.

        Truncation error falls with h (slope 1 for forward, 2 for central differences and the
        complex step) and round-off rises as h shrinks (slope -1), so forward and central
        differences trace a V whose bottom is the best h (marked with a star). Faint lines show
        h |c2|, h^2 |c3| and eps |f| / h, with c_j from ``ad.taylor``. An error of exactly 0
        cannot sit on log axes: it is drawn as an open triangle at the bottom of the plot.

        Parameters
        ----------
        path : str or Path, optional
            Where to save the picture (``.png``, ``.svg``, ``.pdf``).

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        MissingDependencyError
            Without matplotlib (``pip install "dualad[plot]"``).

        Examples
        --------
        >>> import os, tempfile, dualad as ad
        >>> path = os.path.join(tempfile.mkdtemp(), "v.png")
        >>> try:
        ...     figure = ad.fd_study(ad.sin, 1.0).plot(path)
        ...     written = os.path.getsize(path) > 0
        ... except ad.MissingDependencyError:          # matplotlib is not installed
        ...     written = True
        >>> written
        True
        """
        figure = matplotlib_figure("FDStudy.plot", figsize=(8, 5.5))
        ax = figure.subplots()
        h = np.asarray(self.h, dtype=float)
        positive = np.concatenate([e[np.isfinite(e) & (e > 0)] for e in self.errors.values()])
        floor = positive.min() / 10 if positive.size else 1e-18
        styles = {"forward": ("o-", "tab:blue"), "central": ("s-", "tab:orange"),
                  "complex_step": ("^-", "tab:green")}
        for method, label in METHODS.items():
            error = self.errors[method]
            marker, color = styles[method]
            shown = np.isfinite(error) & (error > 0)
            if shown.any():
                ax.plot(h[shown], error[shown], marker, color=color, label=label,
                        markersize=4, linewidth=1.2)
            zero = error == 0
            if zero.any():
                ax.plot(h[zero], np.full(zero.sum(), floor), "v", color=color,
                        markerfacecolor="none", label=f"{label}: error 0 (drawn at the bottom)")
            best = self.best_h[method]
            if best is not None:
                at = max(float(error[list(h).index(best)]), floor)
                ax.plot([best], [at], "*", color=color, markersize=14,
                        markeredgecolor="black", markeredgewidth=0.5)
                ax.annotate(f"best h = {_step(best)}", (best, at), textcoords="offset points",
                            xytext=(7, 5), fontsize=8, color=color)
        _draw_guides(ax, h, self.value, self.taylor_coefficients)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor / 3)
        ax.set_xlabel("step size h")
        ax.set_ylabel("|estimate - dualad's derivative|")
        ax.set_title(f"Finite differences against dualad's derivative\n{self.name} at "
                     f"{self.labels['point']}, along {self.labels['direction']}", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper center", fontsize=8, ncol=2)
        if path is not None:
            figure.savefig(path, dpi=110)
        return figure


def _draw_guides(ax, h, value, coefficients):
    """The truncation and round-off lines, faint, from the Taylor coefficients and f(x)."""
    span = np.geomspace(h.min(), h.max(), 50)
    size = float(np.max(np.abs(value))) if np.size(value) else 0.0
    guides = []
    if coefficients is not None:
        guides += [(coefficients[2] * span, "--", "h |f''|/2: forward truncation (slope 1)"),
                   (coefficients[3] * span ** 2, "-.",
                    "h² |f'''|/6: central truncation (slope 2)")]
    guides.append((EPS * size / span, ":", "ε |f| / h: round-off (slope -1)"))
    for line, style, label in guides:
        if np.all(np.isfinite(line)) and np.any(line > 0):
            ax.plot(span, line, style, color="gray", alpha=0.55, linewidth=1, label=label)


def _step(h):
    """A step size as 1e-08 or 2.5e-03: the exponent always shown, the mantissa as short as
    it goes."""
    mantissa, exponent = f"{h:.3e}".split("e")
    return mantissa.rstrip("0").rstrip(".") + "e" + exponent


def _error(e):
    if not np.isfinite(e):
        return "nan"
    return "0" if e == 0 else f"{e:.1e}"


def _best(h, errors):
    finite = np.isfinite(errors)
    if not finite.any():
        return None
    smallest = np.min(errors[finite])
    return float(h[np.flatnonzero(finite & (errors == smallest))[0]])


def _predicted(value, coefficients):
    size = float(np.max(np.abs(value))) if np.size(value) else 0.0
    if coefficients is None or not size or not np.isfinite(size):
        return {"forward": None, "central": None}
    c2, c3 = coefficients[2], coefficients[3]
    forward = math.sqrt(EPS * size / c2) if c2 > 0 and np.isfinite(c2) else None
    central = float((EPS * size / (2 * c3)) ** (1 / 3)) if c3 > 0 and np.isfinite(c3) else None
    return {"forward": forward, "central": central}


def _unit_ones(graph, point):
    """The default direction: every input element moving equally, as a unit vector."""
    count = sum(int(np.size(v)) for v in point)
    if not count:
        shapes = ", ".join(f"{n} of shape {shape_of(v)}" for n, v in zip(graph.input_names, point))
        raise DualadError(f"fd_study: f has no input elements to step along ({shapes}); "
                          "give it at least one number")
    scale = 1 / math.sqrt(count)
    return [np.full(shape_of(v), scale) if shape_of(v) else scale for v in point]


def fd_study(f, *args, h=None, direction=None):
    """Finite differences and the complex step against dualad's derivative, over step sizes.

    Parameters
    ----------
    f : callable, Graph or Var
        The function (traced once at ``args``; the graph is evaluated at the moved points), a
        graph, or an output Var.
    *args
        The point x, one value per input.
    h : sequence of float, optional
        The step sizes, each positive and finite. Default 1e-1, 1e-2, ..., 1e-16.
    direction : optional
        v: for one input, a value of its shape; for several, one per input (or a dict by name,
        or an input's name). Default: the unit vector along (1, 1, ..., 1), every input
        element moving equally (v = 1 for one scalar input).

    Returns
    -------
    FDStudy
        ``.h``, ``.forward_error``, ``.central_error``, ``.complex_step_error``, ``.best_h``,
        ``.plot(path)``; ``str()`` is a table.

    Raises
    ------
    DualadError
        For step sizes that are not positive finite numbers, a complex point, or a bad
        direction.

    Examples
    --------
    >>> import dualad as ad
    >>> study = ad.fd_study(lambda x: ad.exp(x) * ad.sin(x), 0.5)
    >>> for line in str(study).splitlines()[:4]:     # large h: the truncation error
    ...     print(line)
    Step sizes for f at x = 0.5 along v = 1: dualad's derivative (forward mode) is 2.237328119798
         h  forward error  central error  complex step error
     1e-01        1.5e-01        2.2e-03             2.2e-03
     1e-02        1.4e-02        2.2e-05             2.2e-05
    >>> 1e-10 <= study.best_h["forward"] <= 1e-6, 1e-7 <= study.best_h["central"] <= 1e-3
    (True, True)
    """
    steps = _steps(h)
    entry = prepare(f, args, "fd_study")
    graph, point, names = entry.graph, entry.point, entry.graph.input_names
    for name, value in zip(names, point):
        if np.iscomplexobj(value):
            raise DualadError(f"fd_study: the value of {name} must be real numbers, got "
                              f"{describe(value)}")
    tangents = line_tangents(graph, point, direction, "fd_study", default=_unit_ones)
    notes = []
    with np.errstate(all="ignore"):
        out, slope = jvp(graph, tuple(point), tuple(tangents))
        value, exact = _flat(out), _flat(slope)

        def at(t):
            moved = [x + t * v for x, v in zip(point, tangents)]
            values = ValueEvaluator(graph).run(moved)
            return np.concatenate([np.ravel(values[p]) for p in graph.output_positions])

        errors = {m: np.full(len(steps), np.nan) for m in METHODS}
        for k, step in enumerate(steps):
            try:
                up, down = at(step), at(-step)
            except BranchChangedError as err:
                notes.append(f"at h = {_step(step)}: {str(err).split(';')[0]}; "
                             "no estimate there")
                continue
            errors["forward"][k] = _largest(np.real(up - value) / step - exact)
            errors["central"][k] = _largest(np.real(up - down) / (2 * step) - exact)
        _complex_step(graph, at, steps, exact, errors, notes)
        coefficients = _taylor_constants(graph, point, tangents, notes)
    if not np.all(np.isfinite(exact)):      # no estimate can be measured against it
        errors = {m: np.full(len(steps), np.nan) for m in METHODS}
        notes.append(f"dualad's derivative is {format_value(_user(exact))} here: every error "
                     "is nan")
    labels = {"point": _point_text(names, point), "direction": _direction_text(names,
                                                                              tangents)}
    return FDStudy(entry.name, labels, np.asarray(steps), errors, _user(exact), _user(value),
                   coefficients, notes)


def _steps(h):
    if h is None:
        return list(DEFAULT_STEPS)
    try:
        steps = [float(s) for s in np.ravel(np.asarray(h, dtype=float))]
    except (TypeError, ValueError):
        raise DualadError(f"fd_study: h must be a sequence of positive step sizes, got "
                          f"{describe(h)}") from None
    if not steps or not all(math.isfinite(s) and s > 0 for s in steps):
        raise DualadError(f"fd_study: h must be positive finite step sizes, got {h!r}")
    return steps


def _complex_step(graph, at, steps, exact, errors, notes):
    """Fill the complex-step errors, or explain in a note why they stay nan."""
    # A comparison decides on the real part (numpy orders complex numbers by it first), so a
    # branch taken at x is taken at x + ih too: comparisons do not stop the complex step.
    refused = next(((ins.prim, why) for ins in graph.program if not ins.prim.boolean
                    for ok, why in [complex_step_applies(ins.prim)] if not ok), None)
    if refused is not None:
        prim, why = refused
        notes.append(f"complex step: {prim.name} is not complex-analytic ({why}), so "
                     "Im f(x + ih)/h is not the derivative; shown as nan")
        return
    for k, step in enumerate(steps):
        try:
            moved = at(1j * step)
        except BranchChangedError as err:
            notes.append(f"complex step at h = {_step(step)}: "
                         f"{str(err).split(';')[0]}; no estimate there")
            continue
        except (TypeError, ValueError, DualadError) as err:
            notes.append(f"complex step: the graph does not run on complex inputs "
                         f"({type(err).__name__}: {err}); shown as nan")
            return
        errors["complex_step"][k] = _largest(np.imag(moved) / step - exact)


def _taylor_constants(graph, point, tangents, notes):
    """|c_0| ... |c_3| of t -> f(x + t v) (largest over the output elements), or None."""
    try:
        coefficients = taylor(graph, *point, order=3, direction=tangents if len(point) > 1
                              else tangents[0])
    except (DualadError, TypeError, ValueError, ArithmeticError) as err:
        # (an op whose rule does not run on Taylor polynomials): the study goes on without
        notes.append(f"no Taylor coefficients for the guide lines ({type(err).__name__}: "
                     f"{err})")
        return None
    rows = coefficients if isinstance(coefficients, tuple) else (coefficients,)
    flat = np.concatenate([np.reshape(r, (4, -1)) for r in rows], axis=1)
    return np.max(np.abs(flat), axis=1)


def _flat(values):
    parts = values if isinstance(values, tuple) else (values,)
    return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in parts])


def _largest(difference):
    difference = np.abs(difference)
    return float(np.max(difference)) if difference.size else float("nan")


def _user(flat):
    return float(flat[0]) if flat.size == 1 else flat


def _point_text(names, point):
    return ", ".join(f"{n} = {format_value(v)}" for n, v in zip(names, point))


def _direction_text(names, tangents):
    if len(names) == 1:
        return f"v = {format_value(tangents[0])}"
    return "v = (" + ", ".join(f"{n}: {format_value(t)}" for n, t in zip(names, tangents)) + ")"
