"""The ``dualad`` command line (also ``python -m dualad``).

This module owns argument parsing and printing; the work is done by the library.

Examples
--------
>>> from dualad.cli import main
>>> main(["demo"])  # doctest: +ELLIPSIS
dualad demo: the seed program at x = 1, 30 steps of gradient descent on w (learning rate 0.1)
step  0  w = 4.000000000000  v7 = 27.906496678144  dv7/dw = 13.402273659200
...
0
"""

import argparse
import math
import sys

from . import __version__
from .demo import run_demo
from .errors import DualadError, ExpressionError
from .parse import parse
from .verify import prove_registry, verify

EPILOG = """examples:
  dualad demo          run the seed program: gradient descent on w, printing w, v7, dv7/dw
  dualad verify "sin(x*w) + exp(x)/w" --at x=1,w=4
                       check forward and reverse mode against sympy, and prove them
  dualad verify --registry
                       prove every registry rule equal to sympy.diff of its op
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but bad usage is one line on stderr (and status 2), not a usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parse_point(text):
    """The values given with ``--at``: ``"x=1,w=4"`` -> ``{"x": 1.0, "w": 4.0}``.

    Raises
    ------
    ExpressionError
        For anything but comma-separated ``name=number`` pairs with finite numbers, each name
        once.

    Examples
    --------
    >>> from dualad.cli import parse_point
    >>> parse_point("x=1, w=4e-1")
    {'x': 1.0, 'w': 0.4}
    >>> parse_point("x=1,x=2")
    Traceback (most recent call last):
      ...
    dualad.errors.ExpressionError: --at: x is given twice
    """
    point = {}
    for part in text.split(","):
        name, equals, number = (piece.strip() for piece in part.partition("="))
        if not equals or not name.isidentifier():
            raise ExpressionError(f"--at: expected name=number pairs separated by commas "
                                  f"(like x=1,w=4), got {part.strip()!r}")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"--at: {name}={number!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"--at: {name} must be a finite number, got {number}")
        if name in point:
            raise ExpressionError(f"--at: {name} is given twice")
        point[name] = value
    return point


def values_for(graph, point):
    """The values of ``graph``'s inputs, in input order, from a ``--at`` point.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.cli import values_for
    >>> values_for(ad.parse("x * w"), {"x": 1.0, "w": 4.0})       # inputs: w, x
    [4.0, 1.0]
    >>> values_for(ad.parse("x * w"), {"x": 1.0})
    Traceback (most recent call last):
      ...
    dualad.errors.ExpressionError: --at: no value for w (the inputs are w, x)
    """
    names = [leaf.name for leaf in graph.inputs]
    missing = [name for name in names if name not in point]
    if missing:
        raise ExpressionError(f"--at: no value for {', '.join(missing)} "
                              f"(the inputs are {', '.join(names)})")
    extra = [name for name in point if name not in names]
    if extra:
        raise ExpressionError(f"--at: {', '.join(extra)} not in the expression "
                              f"(the inputs are {', '.join(names) or 'none'})")
    return [point[name] for name in names]


def run_verify(args, write=print):
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
    if args.time_limit < 0:
        raise ExpressionError(f"--time-limit must be 0 or more seconds, got {args.time_limit:g}")
    if args.registry:
        if args.expression is not None or args.at is not None:
            raise ExpressionError("--registry takes no expression and no --at")
        proof = prove_registry(time_limit=args.time_limit)
        write(str(proof))
        return 0 if proof.ok else 1
    if args.expression is None:
        raise ExpressionError("give an expression (and --at), or --registry")
    graph = parse(args.expression)
    values = values_for(graph, parse_point(args.at or ""))
    report = verify(graph, *values, time_limit=args.time_limit)
    write(f"f({', '.join(leaf.name for leaf in graph.inputs)}) = {args.expression.strip()}")
    write(str(report))
    return 0 if report.ok and (report.proved or not args.require_proof) else 1


def build_parser():
    """The argument parser, one sub-command per job.

    Examples
    --------
    >>> from dualad.cli import build_parser
    >>> build_parser().parse_args(["demo"]).command
    'demo'
    """
    parser = _Parser(
        prog="dualad", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Automatic differentiation in both modes over one shared graph, "
                    "verified by sympy.")
    parser.add_argument("--version", action="version", version=f"dualad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    commands.add_parser("demo", help="run the seed program's gradient descent demo",
                        description="Run the seed program (x = 1, w = 4) for 30 steps of "
                                    "gradient descent on w, printing w, v7 and dv7/dw.")
    check = commands.add_parser(
        "verify", help="check a gradient against sympy, or prove the registry",
        description="Check forward and reverse mode on EXPR at the point given with --at, "
                    "against sympy.diff and a derivative-free oracle, and try to prove them "
                    "equal to sympy.diff for all inputs. Exit status: 0 passed, 1 failed "
                    "(or not proved, with --require-proof), 2 bad input.")
    check.add_argument("expression", nargs="?", metavar="EXPR",
                       help='an expression such as "sin(x*w) + exp(x)/w"')
    check.add_argument("--at", metavar="POINT", help="the point, as x=1,w=4")
    check.add_argument("--registry", action="store_true",
                       help="prove every registry rule instead")
    check.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                       help="seconds for the symbolic work (default 10; 120 with --registry)")
    check.add_argument("--require-proof", action="store_true",
                       help="fail (status 1) unless sympy proved the derivatives")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status.

    Examples
    --------
    >>> from dualad.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    SystemExit: 0
    """
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        run_demo(write=print)
    elif args.command == "verify":
        if args.time_limit is None:
            args.time_limit = 120.0 if args.registry else 10.0
        try:
            return run_verify(args)
        except DualadError as err:
            first_line = str(err).splitlines()[0]
            print(f"dualad verify: error: {first_line}", file=sys.stderr)
            return 2
    return 0


def console_main():
    """Entry point of the ``dualad`` console script."""
    sys.exit(main())
