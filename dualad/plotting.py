"""Where the modes cross over: a sweep over the sizes of a family of functions, and its plot.

This module owns :func:`sweep_mode_costs` (both modes' costs, measured by
:class:`~dualad.evaluators.CostEvaluator`, for f: R^n -> R^m as n and m vary) and
:func:`plot_mode_costs` (the picture: operations and seconds against n with m fixed, and
against m with n fixed, so the crossover at n ≈ m shows). The default family is one dense
layer, f(x) = tanh(W @ x) with W an m x n matrix; :func:`family_from_expression` builds one from
expression text (f(x) = g(W @ x) for an elementwise g). matplotlib is optional
(``pip install "dualad[plot]"``); it is only imported to draw, and drawing uses the Agg canvas
directly, never pyplot's global state.

Examples
--------
>>> from dualad.plotting import sweep_mode_costs
>>> points = sweep_mode_costs(sizes=(1, 8), fixed=4, repeats=1)
>>> [(p.n, p.m, p.cheaper) for p in points]
[(1, 4, 'forward'), (8, 4, 'reverse'), (4, 1, 'reverse'), (4, 8, 'forward')]
"""

from typing import NamedTuple

import numpy as np

from .errors import DualadError, MissingDependencyError
from .evaluators.cost import CostEvaluator
from .graph import apply_primitive, trace
from .ops import tanh
from .parse import parse
from .printing import text_table

DEFAULT_SIZES = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_FIXED = 16


def _layer(n, m, seed):
    """A random m x n matrix W (scaled by 1/sqrt(n)) and a random point x in R^n."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, n)) / np.sqrt(n), rng.normal(size=n)


def dense_layer(n, m, seed=0):
    """The default family member: f(x) = tanh(W @ x), W an m x n matrix; returns (f, x).

    Examples
    --------
    >>> from dualad.plotting import dense_layer
    >>> f, x = dense_layer(3, 2)
    >>> x.shape, f(x).shape
    ((3,), (2,))
    """
    W, x = _layer(n, m, seed)
    return (lambda x: tanh(W @ x)), x


dense_layer.label = "tanh(W @ x)"


def inline(graph, *args):
    """Apply a graph's operations to new arguments (one per input), building new nodes.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.plotting import inline
    >>> inline(ad.parse("u * u + 1"), ad.Var(3.0)).value
    10.0
    """
    built = list(graph.nodes)           # leaves (constants) are shared, inputs replaced
    for pos, arg in zip(graph.input_positions, args):
        built[pos] = arg
    for pos, prim, positions, params in graph.program:
        built[pos] = apply_primitive(prim, *(built[a] for a in positions), **params)
    outputs = [built[p] for p in graph.output_positions]
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def family_from_expression(text):
    """A family f(x) = g(W @ x) from the text of an elementwise g in one name.

    Examples
    --------
    >>> from dualad.plotting import family_from_expression
    >>> family = family_from_expression("sin(u) * u")
    >>> f, x = family(3, 2)
    >>> f(x).shape, family.label
    ((2,), 'g(W @ x) with g(u) = sin(u) * u')
    """
    graph = parse(text)
    names = [leaf.name for leaf in graph.inputs]
    if len(names) != 1 or len(graph.outputs) != 1:
        raise DualadError(f"sweep: the expression must have one output and use exactly one "
                          f"name (it is applied to each element of W @ x), got "
                          f"{len(graph.outputs)} output(s) and the names "
                          f"{', '.join(names) or '(none)'}")

    def family(n, m, seed=0):
        W, x = _layer(n, m, seed)
        return (lambda x: inline(graph, W @ x)), x

    family.label = f"g(W @ x) with g({names[0]}) = {text.strip()}"
    return family


class SweepPoint(NamedTuple):
    """Both modes' costs for one member f: R^n -> R^m of a family: counted one sweep per
    direction (the textbook count), and with every direction in one sweep (``batched``)."""

    n: int
    m: int
    forward_ops: int
    reverse_ops: int
    forward_seconds: float
    reverse_seconds: float
    forward_peak_memory: int
    reverse_peak_memory: int
    forward_batched_ops: int = None
    reverse_batched_ops: int = None

    @property
    def cheaper(self):
        """The mode with fewer operations, one sweep per direction (``None`` for a tie)."""
        return _cheaper(self.forward_ops, self.reverse_ops)

    @property
    def cheaper_batched(self):
        """The mode with fewer operations, every direction in one sweep."""
        return _cheaper(self.forward_batched_ops, self.reverse_batched_ops)


def _cheaper(forward, reverse):
    if forward is None or forward == reverse:
        return None
    return "forward" if forward < reverse else "reverse"


def sweep_mode_costs(sizes=DEFAULT_SIZES, fixed=DEFAULT_FIXED, family=None, repeats=3,
                     progress=None, batched=False):
    """Measure both modes over a family as n varies (m = ``fixed``), then as m varies.

    Parameters
    ----------
    sizes : sequence of int
        The values of n, then of m.
    fixed : int
        The other dimension, held fixed.
    family : callable, optional
        ``family(n, m) -> (f, x)``: a function R^n -> R^m and a point. Default
        :func:`dense_layer`, f(x) = tanh(W @ x).
    repeats : int
        Timed runs per mode per point (their median is kept).
    progress : callable, optional
        Called as ``progress(done, total)`` after each point (the command line draws a bar).
    batched : bool
        Count and time every direction in one sweep (see :func:`dualad.compare`) as the main
        figures, instead of one sweep per direction. Each point also carries the batched
        operation counts (``forward_batched_ops``, ``reverse_batched_ops``) either way.

    Returns
    -------
    list of SweepPoint
        n varying first, then m.

    Examples
    --------
    >>> from dualad.plotting import sweep_mode_costs
    >>> [p.forward_ops < p.reverse_ops for p in sweep_mode_costs((1, 16), 8, repeats=1)]
    [True, False, False, True]
    """
    family = family or dense_layer
    sizes = [int(s) for s in sizes]
    if not sizes or min(sizes) < 1 or int(fixed) < 1:
        raise DualadError(f"sweep: sizes must be positive whole numbers, got "
                          f"{', '.join(map(str, sizes)) or 'none'} and fixed {fixed}")
    shapes = [(n, int(fixed)) for n in sizes] + [(int(fixed), m) for m in sizes]
    measured = {}
    for done, (n, m) in enumerate(shapes, 1):
        if (n, m) not in measured:
            f, x = family(n, m)
            graph = trace(f, x)
            forward, reverse = (CostEvaluator(graph, mode, batched).run([x], repeats)
                                for mode in ("forward", "reverse"))
            forward_batched, reverse_batched = (
                CostEvaluator(graph, mode, True).count_ops(_values(graph, x))[0]
                for mode in ("forward", "reverse"))
            measured[(n, m)] = SweepPoint(n, m, forward.ops, reverse.ops, forward.seconds,
                                          reverse.seconds, forward.peak_memory,
                                          reverse.peak_memory, forward_batched,
                                          reverse_batched)
        if progress is not None:
            progress(done, len(shapes))
    return [measured[shape] for shape in shapes]


def _values(graph, x):
    from .evaluators.value import ValueEvaluator
    return ValueEvaluator(graph).run([x])


def format_sweep(points):
    """A sweep as a text table, one line per point.

    Examples
    --------
    >>> from dualad.plotting import SweepPoint, format_sweep
    >>> print(format_sweep([SweepPoint(2, 1, 30, 20, 2e-5, 1e-5, 64, 80, 24, 20)]))
    n  m  forward ops  reverse ops  cheaper  batched: forward  reverse  cheaper  forward s  reverse s
    2  1           30           20  reverse                24       20  reverse    2.0e-05    1.0e-05
    """
    rows = [["n", "m", "forward ops", "reverse ops", "cheaper", "batched: forward", "reverse",
             "cheaper", "forward s", "reverse s"]]
    for p in points:
        rows.append([str(p.n), str(p.m), f"{p.forward_ops:,}", f"{p.reverse_ops:,}",
                     p.cheaper or "tie",
                     "-" if p.forward_batched_ops is None else f"{p.forward_batched_ops:,}",
                     "-" if p.reverse_batched_ops is None else f"{p.reverse_batched_ops:,}",
                     p.cheaper_batched or "tie", f"{p.forward_seconds:.1e}",
                     f"{p.reverse_seconds:.1e}"])
    return text_table(rows, align=">>>><>><>>")


def matplotlib_figure(what, figsize):
    """A new matplotlib ``Figure`` on the Agg canvas (never pyplot's global state).

    Raises
    ------
    MissingDependencyError
        Without matplotlib, naming ``what`` needs it and how to install it.

    Examples
    --------
    >>> from dualad.plotting import matplotlib_figure
    >>> try:
    ...     size = matplotlib_figure("an example", (4, 3)).get_size_inches().tolist()
    ... except ImportError:                       # matplotlib is not installed
    ...     size = [4.0, 3.0]
    >>> size
    [4.0, 3.0]
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(f'{what} needs matplotlib, which is not installed: '
                                     'pip install "dualad[plot]"') from None
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_mode_costs(path=None, points=None, family=None, **sweep_options):
    """Plot forward against reverse mode cost (operations and seconds) over a sweep.

    Four panels: operations and seconds against n (with m fixed), and against m (with n
    fixed), on log scales, with the line n = m marked. Forward mode's cost grows with n and
    reverse mode's with m. Counted one sweep per direction, forward mode also recomputes the
    values in each sweep, so the operation counts cross below n = m (near n = m/2 for a dense
    layer); counted with every direction in one sweep (dashed), they cross at n = m.

    Parameters
    ----------
    path : str or Path, optional
        Where to save the picture (format from the suffix: ``.png``, ``.svg``, ``.pdf``).
    points : list of SweepPoint, optional
        A sweep made by :func:`sweep_mode_costs` (n varying, then m); by default one is run with
        ``family`` and ``**sweep_options`` (``sizes``, ``fixed``, ``repeats``, ``progress``).
    family : callable, optional
        As for :func:`sweep_mode_costs`; its ``label`` attribute titles the plot.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    MissingDependencyError
        Without matplotlib; the message says ``pip install "dualad[plot]"``.

    Examples
    --------
    >>> import os, tempfile, dualad as ad
    >>> path = os.path.join(tempfile.mkdtemp(), "costs.png")
    >>> try:
    ...     figure = ad.plot_mode_costs(path, sizes=(1, 4), fixed=2, repeats=1)
    ...     written = os.path.getsize(path) > 0
    ... except ad.MissingDependencyError:          # matplotlib is not installed
    ...     written = True
    >>> written
    True
    """
    figure = matplotlib_figure("plot_mode_costs", (10, 7.5))
    family = family or dense_layer
    if points is None:
        points = sweep_mode_costs(family=family, **sweep_options)
    if not points:
        raise DualadError("plot_mode_costs: the sweep has no points")
    half = len(points) // 2            # n varies in the first half, m in the second
    by_n, by_m = (points[:half], points[half:]) if half else (points, points)
    axes = figure.subplots(2, 2)
    panels = [(axes[0][0], by_n, "n", "ops", "operations"),
              (axes[0][1], by_n, "n", "seconds", "seconds (median)"),
              (axes[1][0], by_m, "m", "ops", "operations"),
              (axes[1][1], by_m, "m", "seconds", "seconds (median)")]
    for ax, rows, axis, what, ylabel in panels:
        x = [getattr(p, axis) for p in rows]
        other = "m" if axis == "n" else "n"
        held = getattr(rows[0], other)
        ax.plot(x, [getattr(p, f"forward_{what}") for p in rows], "o-", color="tab:blue",
                label="forward (n sweeps)")
        ax.plot(x, [getattr(p, f"reverse_{what}") for p in rows], "s-", color="tab:red",
                label="reverse (1 evaluation + m sweeps)")
        if what == "ops" and rows[0].forward_batched_ops is not None:
            ax.plot(x, [p.forward_batched_ops for p in rows], "o--", color="tab:blue",
                    alpha=0.6, label="forward, all n directions in one sweep")
            ax.plot(x, [p.reverse_batched_ops for p in rows], "s--", color="tab:red",
                    alpha=0.6, label="reverse, all m directions in one sweep")
        ax.set_xscale("log", base=2)
        ax.set_xticks(x, [str(v) for v in x])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.axvline(held, color="gray", linestyle="--", linewidth=1)
        ax.annotate(f"n = m = {held}", (held, 0.02), xycoords=("data", "axes fraction"),
                    textcoords="offset points", xytext=(4, 0), color="gray")
        ax.set_xlabel(f"{axis} ({'inputs' if axis == 'n' else 'outputs'}), {other} = {held}")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    label = getattr(family, "label", "f")
    figure.suptitle(f"Forward vs reverse mode computing the Jacobian of f(x) = {label}, "
                    f"f: R^n -> R^m")
    if path is not None:
        figure.savefig(path, dpi=110)
    return figure
