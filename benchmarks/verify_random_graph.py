"""verify() on the seed's v7 and on random graphs of growing size, up to 1,000 nodes.

Run by hand:  python benchmarks/verify_random_graph.py [--time-limit SECONDS] [--sizes 30,100,1000]

For each graph it prints the wall time of ``verify`` (symbolic work bounded by the time limit,
default 10 s, in worker processes), whether sympy proved both modes, how many 30-digit
random points were compared, and, side by side in the same run, the time of the float checks
alone (``time_limit=0``) and of one reverse sweep, with the ratios. The random graphs come
from ``tests/strategies.py`` (``chained_graph``: every node reaches the output).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # run from a checkout

import dualad as ad  # noqa: E402
from dualad.demo import seed_graph  # noqa: E402
from dualad.evaluators import ReverseEvaluator, ValueEvaluator  # noqa: E402
from strategies import chained_graph  # noqa: E402


def best_of(repeat, run):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def reverse_sweep_seconds(graph, point, repeat=5):
    values = ValueEvaluator(graph).run(point)
    best, _, _ = best_of(repeat, lambda: ReverseEvaluator(graph).run(values, [1.0]))
    return best


def describe(report):
    proof = next(c for c in report.checks if c.method.endswith("proof for all inputs"))
    random_row = next(c for c in report.checks if "random" in c.method)
    verdict = ("ok" if report.ok else "FAILED") + (", proved" if report.proved else
                                                   f", not proved ({proof.detail})")
    return verdict, random_row.method.replace("sympy.diff at ", "")


def measure(label, graph, point, time_limit):
    total, _, report = best_of(1, lambda: ad.verify(graph, *point, time_limit=time_limit))
    floats, _, _ = best_of(3, lambda: ad.verify(graph, *point, time_limit=0.0))
    sweep = reverse_sweep_seconds(graph, point)
    verdict, points = describe(report)
    print(f"{label}: {len(graph):,} nodes, {len(graph.inputs)} inputs")
    print(f"  verify                 {total:8.3f} s   {verdict}")
    print(f"  30-digit comparison    {points}")
    print(f"  float checks only      {floats:8.3f} s   (time_limit=0: forward, reverse, oracle)")
    print(f"  one reverse sweep      {sweep * 1e3:8.3f} ms")
    print(f"  ratios: verify / float checks = {total / floats:,.0f}, "
          f"float checks / reverse sweep = {floats / sweep:,.0f}")
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--sizes", default="15,30,100,300,1000")
    args = parser.parse_args()

    print(f"verify benchmark (time limit {args.time_limit:g} s for the symbolic work)\n")
    x, w, v7 = seed_graph()
    best, median, report = best_of(5, lambda: ad.verify(v7, time_limit=args.time_limit))
    print(f"seed v7: {len(ad.Graph(v7))} nodes; verify best {best:.3f} s, median "
          f"{median:.3f} s of 5; {describe(report)[0]}\n")
    for size in (int(s) for s in args.sizes.split(",")):
        graph, point = chained_graph(ad, size, seed=0)
        total = measure(f"random graph, at least {size:,} nodes", graph, point, args.time_limit)
        if size >= 1000:
            print(f"  {'under' if total < 30 else 'OVER'} the 30 s budget for 1,000 nodes")
        print()


if __name__ == "__main__":
    main()
