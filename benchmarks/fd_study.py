"""The step-size study of sin at x = 1: the V curves of docs/gradient-checking.md.

Run by hand:  python benchmarks/fd_study.py [PATH]      (default docs/fd-study.png)

Prints the table of errors (forward differences, central differences and the complex step
against dualad's derivative, for h = 1e-1 ... 1e-16) and saves the plot shown on the
gradient-checking page (needs matplotlib: pip install ".[plot]").
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import dualad as ad  # noqa: E402


def main(path=None):
    path = Path(path) if path else Path(__file__).resolve().parents[1] / "docs" / "fd-study.png"
    study = ad.fd_study(ad.sin, 1.0)
    print(study)
    study.plot(path)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
