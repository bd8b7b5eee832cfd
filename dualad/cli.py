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
import sys

from . import __version__
from .demo import run_demo

EPILOG = """examples:
  dualad demo          run the seed program: gradient descent on w, printing w, v7, dv7/dw
"""


def build_parser():
    """The argument parser, one sub-command per job.

    Examples
    --------
    >>> from dualad.cli import build_parser
    >>> build_parser().parse_args(["demo"]).command
    'demo'
    """
    parser = argparse.ArgumentParser(
        prog="dualad", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Automatic differentiation in both modes over one shared graph, "
                    "verified by sympy.")
    parser.add_argument("--version", action="version", version=f"dualad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    commands.add_parser("demo", help="run the seed program's gradient descent demo",
                        description="Run the seed program (x = 1, w = 4) for 30 steps of "
                                    "gradient descent on w, printing w, v7 and dv7/dw.")
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
    return 0


def console_main():
    """Entry point of the ``dualad`` console script."""
    sys.exit(main())
