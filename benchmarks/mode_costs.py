"""Forward vs reverse mode over f(x) = tanh(W @ x), W an m x n matrix: where they cross over.

Run by hand:  python benchmarks/mode_costs.py [PATH]      (default docs/mode-costs.png)

Both modes compute the whole Jacobian the textbook way (n forward sweeps, or one evaluation and
m reverse sweeps). Prints operations (counted by rule, see dualad/evaluators/cost.py) and
median seconds for n = 1 ... 64 with m = 16, then m = 1 ... 64 with n = 16, the ratio
forward/reverse side by side, and saves the plot shown in the README (needs matplotlib:
pip install ".[plot]").
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import dualad as ad  # noqa: E402
from dualad.plotting import format_sweep  # noqa: E402


def main(path=None):
    path = Path(path) if path else Path(__file__).resolve().parents[1] / "docs" / "mode-costs.png"
    points = ad.sweep_mode_costs(sizes=(1, 2, 4, 8, 16, 32, 64), fixed=16, repeats=7)
    print(format_sweep(points))
    print()
    print(" n   m  ops forward/reverse  seconds forward/reverse")
    for p in points:
        print(f"{p.n:2d}  {p.m:2d}  {p.forward_ops / p.reverse_ops:19.2f}  "
              f"{p.forward_seconds / p.reverse_seconds:23.2f}")
    ad.plot_mode_costs(path, points=points)
    print(f"\nplot written to {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
