"""The ``dualad`` command line (also ``python -m dualad``).

This module owns argument parsing and printing; the work is done by the library. Bad input
(text that does not parse or is not allowed, a missing or extra name in ``--at``, a value that
is not a number) ends with exit status 2 and one line on stderr; a missing optional tool
(Graphviz, matplotlib) with status 1 and a line saying how to install it. A point at a domain
edge (``log(x)`` at 0, ``1/x`` at 0) is not an error: the results show numpy's ``inf``/``nan``
and one line on stderr names the operation. Nothing ends in a traceback: an unexpected error
is one line on stderr and exit status 70, and a reader that closes the pipe early
(``dualad demo | head -1``) ends the command quietly.

Examples
--------
>>> from dualad.cli import main
>>> main(["demo"])  # doctest: +ELLIPSIS
dualad demo: v7 = exp(x * w + sin(x * w)) + square(sin(x * w)) * w at x = 1, from w = 4: 30 steps of gradient descent on w (learning rate 0.1), each line w, v7 and dv7/dw
step  0  w = 4.000000000000  v7 = 27.906496678144  dv7/dw = 13.402273659200
...
0
"""

import argparse
import json
import math
import os
import sys
import warnings

import numpy as np

from . import __version__
from .compare import compare
from .demo import run_demo
from .errors import DualadError, MissingDependencyError
from .evaluators import ValueEvaluator
from .fdstudy import fd_study
from .parse import CONSTANTS, parse
from .plotting import (DEFAULT_FIXED, DEFAULT_SIZES, dense_layer, family_from_expression,
                       format_sweep, plot_mode_costs, sweep_mode_costs)
from .graphviz import ENGINES, FORMATS, render, to_dot
from .traces import trace_table
from .walkthrough import save_page, walkthrough
from .registry_proof import prove_registry
from .verify import verify

EPILOG = """examples:
  dualad demo                                      gradient descent on w, step by step
  dualad compare "x1*x2*x3*x4" --at x1=1,x2=2,x3=3,x4=4
                                                   forward vs reverse: sweeps, operations, ...
  dualad compare --sweep --plot costs.png          the crossover at n = m, as a picture
  dualad trace "log(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5
                                                   the survey's evaluation traces
  dualad trace "log(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --html sweeps.html
                                                   every step of both sweeps, on one page
  dualad graph "sin(x*w) + w" --at x=1,w=4 --format svg -o graph.svg
  dualad verify "sin(x*w) + exp(x)/w" --at x=1,w=4
                                                   check both modes against sympy, and prove
  dualad verify --registry                         prove every registry rule
  dualad fd "sin(x)" --at x=1 --plot v.png         finite differences against dualad: the V

Run 'dualad COMMAND --help' for each command's options."""

COMPARE_EPILOG = """examples:
  dualad compare "sin(x*w) + exp(x)/w" --at x=1,w=4
  dualad compare "x1*x2*x3*x4*x5" --at x1=1,x2=2,x3=3,x4=4,x5=5 --json
  dualad compare --sweep                            f(x) = tanh(W @ x), W m x n
  dualad compare "sin(u) * u" --sweep --sizes 1,2,4,8,16 --fixed 8 --plot costs.png

With --sweep, EXPR (optional) is an elementwise g(u) in one name and the family swept is
f(x) = g(W @ x); without EXPR it is tanh(W @ x)."""

TRACE_EPILOG = """examples:
  dualad trace "log(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5
  dualad trace "log(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --direction x2 --json
  dualad trace "log(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --html sweeps.html

With --html FILE, also write one self-contained page that steps through both sweeps (the
forward one along --direction, the reverse one for --output): open it in a browser and
press the arrow keys."""

VERIFY_EPILOG = """examples:
  dualad verify "sin(x*w) + exp(x)/w" --at x=1,w=4
  dualad verify "ln(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5 --require-proof
  dualad verify "x^3 * e^x" --at x=1 --json
  dualad verify "x**2" --at x=0 --time-limit inf
  dualad verify --registry

Exit status: 0 passed, 1 failed or nothing confirmed the derivatives (or, with
--require-proof, not proved), 2 bad input."""

FD_EPILOG = """examples:
  dualad fd "sin(x)" --at x=1
  dualad fd "exp(x) * y" --at x=0.5,y=2 --direction y --plot v.png
  dualad fd "abs(x) * x" --at x=1 --json

The errors are |estimate - dualad's derivative| for forward differences, central differences
and the complex step, for h = 1e-1 ... 1e-16; the complex step needs every operation to be
complex-analytic (nan with a note where one is not)."""

GRAPH_EPILOG = """examples:
  dualad graph "sin(x*w) + w"                           DOT text on stdout
  dualad graph "sin(x*w) + w" --at x=1,w=4 -o graph.dot  with values and adjoints
  dualad graph "sin(x*w) + w" --at x=1,w=4 --direction x --partials --format svg -o g.svg
                                                        tangents along x, partials on edges
  dualad graph "sin(x*w) + w" --partials --format svg   the partials' formulas
  dualad graph "sin(x*w) + w" --format png -o graph.png  (needs Graphviz's dot)

SVG is drawn by Graphviz where its dot program is installed, and by dualad's own layered
drawing otherwise (or with --engine dualad); PNG needs Graphviz."""


class UsageError(Exception):
    """Bad input on the command line; its message is printed as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (not a usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _number(text, name):
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--at: the value of {name} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"--at: the value of {name} must be a finite number, got {text!r}")
    return value


def parse_at(specs, names):
    """Values for ``names`` (in that order) from ``--at`` texts like ``"x=1,w=4"``.

    Parameters
    ----------
    specs : list of str
        Each a comma-separated list of ``NAME=VALUE`` (``--at`` may be repeated).
    names : list of str
        The names the expression uses, each of which must be given exactly once.

    Raises
    ------
    UsageError
        For a malformed item, a value that is not a finite number, a name given twice, a
        missing name or a name the expression does not use.

    Examples
    --------
    >>> from dualad.cli import parse_at
    >>> parse_at(["x=1,w=4"], ["w", "x"])
    [4.0, 1.0]
    >>> parse_at(["x=1"], ["w", "x"])
    Traceback (most recent call last):
      ...
    dualad.cli.UsageError: --at: no value for w (the expression uses w, x)
    >>> parse_at(["x=1,e=2"], ["x"])
    Traceback (most recent call last):
      ...
    dualad.cli.UsageError: --at: in expressions e is the number 2.71828 (pi and e are constants), not a variable; call the variable something else
    """
    given = {}
    for spec in specs or ():
        for item in spec.split(","):
            name, equals, text = (part.strip() for part in item.partition("="))
            if not equals or not name or not text:
                raise UsageError(f"--at: expected NAME=VALUE, got {item.strip()!r}")
            if name in given:
                raise UsageError(f"--at: {name} is given twice")
            given[name] = _number(text, name)
    uses = f"(the expression uses {', '.join(names)})" if names else \
        "(the expression uses no names)"
    for name in given:
        if name in CONSTANTS and name not in names:
            raise UsageError(f"--at: in expressions {name} is the number "
                             f"{CONSTANTS[name]:.6g} ({' and '.join(CONSTANTS)} are constants), "
                             f"not a variable; call the variable something else")
        if name not in names:
            raise UsageError(f"--at: {name} is not used by the expression {uses}")
    for name in names:
        if name not in given:
            raise UsageError(f"--at: no value for {name} {uses}")
    return [given[name] for name in names]


def _sizes(text):
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        raise UsageError(f"--sizes: expected whole numbers like 1,2,4,8, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise UsageError(f"--sizes: sizes must be at least 1, got {text!r}")
    return sizes


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal.

    Examples
    --------
    >>> import io
    >>> from dualad.cli import ProgressBar
    >>> ProgressBar("sweep", stream=io.StringIO())(1, 2)     # not a terminal: silent
    """

    def __init__(self, label, stream=None, width=30):
        self.label, self.width = label, width
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done, total):
        if not self.enabled:
            return
        filled = self.width * done // max(total, 1)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def build_parser():
    """The argument parser, one sub-command per job.

    Examples
    --------
    >>> from dualad.cli import build_parser
    >>> build_parser().parse_args(["trace", "x*y", "--at", "x=1,y=2"]).direction is None
    True
    """
    parser = Parser(
        prog="dualad", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Automatic differentiation in both modes over one shared graph, "
                    "verified by sympy.")
    parser.add_argument("--version", action="version", version=f"dualad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    commands.add_parser("demo", help="gradient descent on w with reverse mode, step by step",
                        description="Gradient descent on w for the course's first program, "
                                    "v7 = exp(x*w + sin(x*w)) + sin(x*w)^2 * w at x = 1, from "
                                    "w = 4: 30 steps of learning rate 0.1, each printing w, "
                                    "v7 and dv7/dw.")

    def add(name, help, description, epilog):  # noqa: A002 - argparse's word
        return commands.add_parser(name, help=help, description=description, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    def at(command, required):
        command.add_argument("--at", action="append", metavar="NAME=VALUE,...",
                             required=required,
                             help="the point: a value for every name in EXPR "
                                  "(e.g. x=1,w=4; may be repeated)")

    compare_cmd = add("compare", "forward vs reverse mode on an expression: Jacobians, "
                                 "sweeps, operations, memory, time",
                      "Compute the Jacobian of EXPR in both modes, one seed direction per "
                      "sweep, and report each mode's sweeps, operations, peak memory and "
                      "time, its error against sympy, and which mode is cheaper and why.",
                      COMPARE_EPILOG)
    compare_cmd.add_argument("expression", metavar="EXPR", nargs="?",
                             help="an expression such as 'sin(x*w) + exp(x)/w'")
    at(compare_cmd, required=False)
    compare_cmd.add_argument("--repeats", type=int, default=5, metavar="N",
                             help="timed runs per mode; the median is shown (default 5)")
    compare_cmd.add_argument("--no-reference", action="store_true",
                             help="skip sympy's reference Jacobian (for large expressions)")
    compare_cmd.add_argument("--sweep", action="store_true",
                             help="sweep the sizes n and m of f(x) = g(W @ x) instead")
    compare_cmd.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                             metavar="N,N,...", help="sizes swept (default %(default)s)")
    compare_cmd.add_argument("--fixed", type=int, default=DEFAULT_FIXED, metavar="N",
                             help="the size held fixed while the other varies "
                                  "(default %(default)s)")
    compare_cmd.add_argument("--plot", metavar="FILE",
                             help="with --sweep: save the plot (.png, .svg, .pdf; needs "
                                  "matplotlib)")
    compare_cmd.add_argument("--json", action="store_true", help="print JSON")

    trace_cmd = add("trace", "the evaluation traces (primal, tangent, adjoint) of an "
                             "expression at a point",
                    "Print the primal trace, the forward tangent trace for one input "
                    "direction and the reverse adjoint trace, as textbooks print them.",
                    TRACE_EPILOG)
    trace_cmd.add_argument("expression", metavar="EXPR")
    at(trace_cmd, required=False)
    trace_cmd.add_argument("--direction", metavar="NAME",
                           help="the input whose tangent is 1 (default: the first name)")
    trace_cmd.add_argument("--output", type=int, default=0, metavar="K",
                           help="which output the adjoint trace differentiates (default 0)")
    trace_cmd.add_argument("--decimals", type=int, default=3, metavar="D",
                           help="decimal places shown (default 3)")
    trace_cmd.add_argument("--json", action="store_true", help="print JSON")
    trace_cmd.add_argument("--html", metavar="FILE",
                           help="also write a page stepping through both sweeps (one "
                                "self-contained HTML file)")

    verify_cmd = add("verify", "check a gradient against sympy and prove it, or prove the "
                               "registry",
                     "Check forward and reverse mode on EXPR at the point given with --at, "
                     "against sympy.diff and a derivative-free oracle, and try to prove them "
                     "equal to sympy.diff for all inputs.", VERIFY_EPILOG)
    verify_cmd.add_argument("expression", metavar="EXPR", nargs="?",
                            help="an expression such as 'sin(x*w) + exp(x)/w'")
    at(verify_cmd, required=False)
    verify_cmd.add_argument("--registry", action="store_true",
                            help="prove every registry rule instead")
    verify_cmd.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                            help="seconds for the whole check (default 10; 120 with "
                                 "--registry; inf for no limit)")
    verify_cmd.add_argument("--require-proof", action="store_true",
                            help="fail (status 1) unless sympy proved the derivatives")
    verify_cmd.add_argument("--json", action="store_true",
                            help="print the report as JSON (the exit status is the same)")

    fd_cmd = add("fd", "finite differences and the complex step against dualad's derivative, "
                       "over step sizes h", "Estimate the derivative of EXPR at the point by "
                 "forward differences, central differences and the complex step for step sizes "
                 "h = 1e-1 ... 1e-16, and show each one's error against dualad's derivative: "
                 "the V curve that gradient checking starts from.", FD_EPILOG)
    fd_cmd.add_argument("expression", metavar="EXPR")
    at(fd_cmd, required=False)
    fd_cmd.add_argument("--direction", metavar="NAME",
                        help="the input that moves (default: every input equally, along the "
                             "unit vector (1, ..., 1)/sqrt(n))")
    fd_cmd.add_argument("--plot", metavar="FILE",
                        help="save the V curves (.png, .svg, .pdf; needs matplotlib)")
    fd_cmd.add_argument("--json", action="store_true", help="print JSON")

    graph_cmd = add("graph", "the graph of an expression as Graphviz DOT, SVG or PNG",
                    "Write the graph of EXPR as Graphviz DOT text (default), as SVG (drawn "
                    "with or without Graphviz) or as PNG (with Graphviz's dot program). With "
                    "--at, labels show values and the adjoints of the (first) output, or with "
                    "--direction the tangents along an input; --partials labels the edges "
                    "with the local partials.", GRAPH_EPILOG)
    graph_cmd.add_argument("expression", metavar="EXPR")
    at(graph_cmd, required=False)
    graph_cmd.add_argument("--format", choices=("dot",) + FORMATS[:2], default="dot",
                           help="output format (default dot)")
    graph_cmd.add_argument("-o", "--output", metavar="FILE",
                           help="write to FILE (required for png)")
    graph_cmd.add_argument("--direction", metavar="NAME",
                           help="with --at: show the tangents along this input (1 for it, 0 "
                                "for the others) instead of adjoints")
    graph_cmd.add_argument("--partials", nargs="?", const=True, choices=("number", "formula"),
                           help="label each edge with its local partial: numbers with --at, "
                                "else formulas (or say which)")
    graph_cmd.add_argument("--engine", choices=ENGINES,
                           help="who draws SVG: graphviz, or dualad's own drawing (default: "
                                "graphviz where installed)")
    return parser


def _first_line(error):
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _graph_and_point(args):
    """Parse EXPR and the --at values for it."""
    graph = parse(args.expression)
    names = [leaf.name for leaf in graph.inputs]
    point = parse_at(args.at, names)
    return graph, names, point


def _with_names(names):
    """Refuse an expression with no names: there is nothing to differentiate."""
    if not names:
        raise UsageError("the expression uses no names: there is nothing to differentiate")


def _check_direction(args, names):
    """Refuse a --direction that is not one of the expression's names."""
    if args.direction is not None and args.direction not in names:
        raise UsageError(f"--direction: {args.direction} is not a name in the expression "
                         f"(its names: {', '.join(names) or 'none'})")


def _values_warning_at_edges(args, graph, names, point):
    """Every node's value at the point. The first operation whose value is not finite (the
    point is at or beyond the edge of its domain) is named in one warning line on stderr; the
    command goes on and shows numpy's inf/nan. (``main`` silences numpy's own warnings.)"""
    values = ValueEvaluator(graph).run(point)
    for pos, prim, _, _ in graph.program:
        if not np.all(np.isfinite(values[pos])):
            at = ", ".join(f"{n} = {v:g}" for n, v in zip(names, point))
            _to_stderr(f"dualad {args.command}: warning: {prim.name} gives {values[pos]} at "
                       f"{at}, outside its domain; the results there are numpy's inf/nan")
            break
    return values


def _to_stderr(line):
    """One line on stderr; nothing when stderr is closed (``2>&-``), where ``print`` would
    write it to stdout instead."""
    if sys.stderr is not None:
        print(line, file=sys.stderr)


def _write(text):
    """Print, falling back to escapes on a terminal whose encoding lacks v̇ or ∂."""
    try:
        print(text)
    except UnicodeEncodeError:
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        print(text.encode(encoding, "backslashreplace").decode(encoding))


def run_compare(args):
    if args.repeats < 1:
        raise UsageError(f"--repeats must be at least 1, got {args.repeats}")
    if args.sweep:
        return run_sweep(args)
    if args.plot:
        raise UsageError("--plot needs --sweep")
    if args.expression is None:
        raise UsageError("give an expression (EXPR), or --sweep")
    graph, names, point = _graph_and_point(args)
    _with_names(names)
    _values_warning_at_edges(args, graph, names, point)
    report = compare(graph, *point, repeats=args.repeats, reference=not args.no_reference)
    _write(report.to_json(indent=2) if args.json else str(report))
    return 0


def run_sweep(args):
    if args.at:
        raise UsageError("--at is not used with --sweep (the sweep picks its own points)")
    if args.fixed < 1:
        raise UsageError(f"--fixed must be at least 1, got {args.fixed}")
    sizes = _sizes(args.sizes)
    family = dense_layer if args.expression is None else family_from_expression(args.expression)
    points = sweep_mode_costs(sizes=sizes, fixed=args.fixed, family=family,
                              repeats=args.repeats, progress=ProgressBar("sweep"))
    if args.json:
        _write(json.dumps([dict(p._asdict(), cheaper=p.cheaper) for p in points], indent=2))
    else:
        _write(f"f(x) = {getattr(family, 'label', 'f')}, W: m x n; "
               f"each mode computes the whole Jacobian\n{format_sweep(points)}")
    if args.plot:
        plot_mode_costs(args.plot, points=points, family=family)
        if not args.json:
            _write(f"plot written to {args.plot}")
    return 0


def run_trace(args):
    graph, names, point = _graph_and_point(args)
    _with_names(names)
    _check_direction(args, names)
    if not -len(graph.outputs) <= args.output < len(graph.outputs):
        raise UsageError(f"--output: the expression has {len(graph.outputs)} output(s), "
                         f"numbered from 0")
    if args.decimals < 0:
        raise UsageError(f"--decimals must be at least 0, got {args.decimals}")
    _values_warning_at_edges(args, graph, names, point)
    table = trace_table(graph, *point, direction=args.direction, output=args.output,
                        decimals=args.decimals)
    _write(json.dumps(table.to_dict(), indent=2) if args.json else str(table))
    if args.html:
        sweeps = [walkthrough(graph, *point, mode="forward", direction=args.direction,
                              decimals=args.decimals),
                  walkthrough(graph, *point, mode="reverse", output=args.output,
                              decimals=args.decimals)]
        save_page(args.html, sweeps)
        if not args.json:
            _write(f"walkthrough of both sweeps written to {args.html}")
    return 0


def run_graph(args):
    graph = parse(args.expression)
    names = [leaf.name for leaf in graph.inputs]
    point = ()
    if args.at:
        point = parse_at(args.at, names)
        _values_warning_at_edges(args, graph, names, point)
    if args.direction is not None:
        if not args.at:
            raise UsageError("--direction needs --at (tangents are numbers at a point)")
        _check_direction(args, names)
    if args.partials == "number" and not args.at:
        raise UsageError("--partials number needs --at (the partials' numbers at a point)")
    if args.format == "png" and not args.output:
        raise UsageError("--format png needs -o FILE")
    if args.engine is not None and args.format == "dot":
        raise UsageError("--engine is for --format svg or png (dot is Graphviz's own text)")
    labels = dict(partials=args.partials or False, direction=args.direction)
    if args.format == "dot":
        text = to_dot(graph, *point, **labels)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        else:
            _write(text)
        return 0
    picture = render(graph, *point, path=args.output, format=args.format,
                     engine=args.engine, **labels)
    if not args.output:
        _write(picture.decode("utf-8"))
    return 0


def run_verify(args, write=None):
    """``dualad verify``: print the report; returns the exit status (0 passed, 1 failed).

    Examples
    --------
    >>> from dualad.cli import build_parser, run_verify
    >>> lines = []
    >>> args = build_parser().parse_args(["verify", "x * y", "--at", "x=2,y=3",
    ...                                   "--time-limit", "10"])
    >>> run_verify(args, write=lines.append), lines[0]
    (0, 'f(x, y) = x * y')
    """
    write = write or _write
    time_limit = args.time_limit
    if time_limit is None:
        time_limit = 120.0 if args.registry else 10.0
    if not time_limit >= 0:      # also refuses nan
        raise UsageError(f"--time-limit must be 0 or more seconds (or inf), got {time_limit:g}")
    if args.registry:
        if args.expression is not None or args.at:
            raise UsageError("--registry takes no expression and no --at")
        if args.json:
            raise UsageError("--json is for the report on an expression, not --registry")
        proof = prove_registry(time_limit=time_limit)
        write(str(proof))
        return 0 if proof.ok else 1
    if args.expression is None:
        raise UsageError("give an expression (and --at), or --registry")
    graph, names, point = _graph_and_point(args)
    report = verify(graph, *point, time_limit=time_limit)
    if args.json:
        write(json.dumps({"expression": args.expression.strip(), **report.to_dict()},
                         indent=2))
    else:
        write(f"f({', '.join(names)}) = {args.expression.strip()}")
        write(str(report))
    return 0 if report.ok and (report.proved or not args.require_proof) else 1


def run_fd(args):
    """``dualad fd``: the step-size study of EXPR at the point (see :func:`dualad.fd_study`).

    Examples
    --------
    >>> from dualad.cli import build_parser, run_fd
    >>> run_fd(build_parser().parse_args(["fd", "x * x", "--at", "x=3"]))  # doctest: +ELLIPSIS
    Step sizes for f at x = 3 along v = 1: dualad's derivative (forward mode) is 6
    ...
    0
    """
    graph, names, point = _graph_and_point(args)
    _with_names(names)
    _check_direction(args, names)
    _values_warning_at_edges(args, graph, names, point)
    study = fd_study(graph, *point, direction=args.direction)
    _write(json.dumps(study.to_dict(), indent=2) if args.json else str(study))
    if args.plot:
        study.plot(args.plot)
        if not args.json:
            _write(f"plot written to {args.plot}")
    return 0


def run_demo_command(args):
    """``dualad demo``: the seed program's gradient descent (see :mod:`dualad.demo`)."""
    run_demo(write=print)
    return 0


COMMANDS = {"demo": run_demo_command, "compare": run_compare, "trace": run_trace,
            "graph": run_graph, "verify": run_verify, "fd": run_fd}

#: The exit status of an unexpected error (sysexits.h's EX_SOFTWARE): not 1, which
#: ``dualad verify`` uses for a derivative that failed its checks.
INTERNAL_ERROR = 70


def main(argv=None):
    """Run the command line; returns the exit status.

    Examples
    --------
    >>> from dualad.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    SystemExit: 0
    >>> main(["compare", "x*y", "--at", "x=1"])
    2
    """
    args = build_parser().parse_args(argv)
    prog = f"dualad {args.command}"
    try:
        # a derivative may be infinite at a legitimate point (sqrt at 0): the tables show
        # inf, and numpy's warning would only add lines to stderr
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return COMMANDS[args.command](args)
    except MissingDependencyError as err:
        _to_stderr(f"{prog}: {_first_line(err)}")
        return 1
    except (UsageError, DualadError) as err:
        _to_stderr(f"{prog}: error: {_first_line(err)}")
        return 2
    except BrokenPipeError:
        raise                  # the reader has gone: console_main ends quietly
    except OSError as err:     # a file that cannot be written, say
        _to_stderr(f"{prog}: error: {err}")
        return 1
    except Exception as err:   # noqa: BLE001 - a bug: one line, never a traceback
        what = type(err).__name__ + (f": {_first_line(err)}" if str(err).strip() else "")
        _to_stderr(f"{prog}: internal error: {what} (unexpected; please report it with the "
                   "command line)")
        return INTERNAL_ERROR


def console_main():
    """Entry point of the ``dualad`` console script and of ``python -m dualad``.

    When the reader of the output closes the pipe early (``dualad demo | head -1``), the
    command ends quietly with status 1, as Python's documentation advises (its note on
    SIGPIPE): stdout is pointed at ``os.devnull`` so the interpreter's last flush cannot fail
    again. Ctrl-C ends it with status 130, also without a traceback.
    """
    try:
        try:
            status = main()
        except SystemExit as exit_:     # argparse's --help, --version and usage errors
            status = exit_.code
        if sys.stdout is not None:      # None when started with stdout closed (>&-)
            sys.stdout.flush()          # here, so a closed pipe is noticed inside the try
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 1
    except KeyboardInterrupt:
        status = 130
    sys.exit(status)
