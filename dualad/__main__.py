"""``python -m dualad``: the same command line as the ``dualad`` script."""

from .cli import console_main

console_main()
