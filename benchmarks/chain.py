"""A chain of sin of depth N: time per node for each sweep, and bytes per node held.

Run by hand:  python benchmarks/chain.py [N]      (default N = 1,000,000)
``benchmarks/run.py`` runs the same measurement as one section of its table.

Prints the seconds per node to build the chain, sort it (with the first ``forward()``), and,
as medians of repeated sweeps, to run ``forward()`` (values), ``backward()`` (reverse mode) and
one forward-mode sweep (values and tangents) with the evaluator the transforms use
(``dualad.evaluators.DEFAULT["forward"]``). From ``tracemalloc``: the bytes per node held by
the built graph, and the peak bytes per node during the three sweeps.

The first calls of a sweep cost more than the later ones, and are not timed: the first call
of ``backward()`` or of a forward-mode sweep runs the reference evaluator, the second records
the sweep as a program, and the program's first replay does some work once (for
``backward()``, working out which of its registers it hands back). Each sweep runs
``WARM_UP`` times before the timed runs (the first of them under ``tracemalloc``, for the peak),
so that the medians are of later replays only, however few the timed runs.
"""

import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import dualad as ad  # noqa: E402
from dualad.evaluators import DEFAULT  # noqa: E402

SWEEPS = ("forward() values", "backward() reverse", "forward mode")
WARM_UP = 3     # reference evaluator, recording, first replay: see the module docstring


def build_chain(depth):
    x = ad.Var(0.5, name="x")
    y = x
    for _ in range(depth):
        y = ad.sin(y)
    return x, y


def measure(depth=1_000_000, repeat=5):
    """Seconds per node for each sweep (medians of ``repeat`` runs) and bytes per node."""
    gc.collect()
    tracemalloc.start()
    start_bytes = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    x, y = build_chain(depth)
    t1 = time.perf_counter()
    y.forward()                  # the first call sorts the graph once and keeps it
    t2 = time.perf_counter()
    held = tracemalloc.get_traced_memory()[0] - start_bytes
    tracemalloc.reset_peak()
    graph = y._facade_graph()
    forward_mode = DEFAULT["forward"](graph)
    sweeps = dict(zip(SWEEPS, (y.forward, y.backward,
                               lambda: forward_mode.run([x.value], [1.0]))))
    for sweep in sweeps.values():
        sweep()
    peak = tracemalloc.get_traced_memory()[1] - start_bytes
    tracemalloc.stop()
    for _ in range(WARM_UP - 1):
        for sweep in sweeps.values():
            sweep()

    # timings again without tracemalloc's overhead, interleaved, medians of several runs
    times = {name: [] for name in sweeps}
    for _ in range(repeat):
        for name, sweep in sweeps.items():
            start = time.perf_counter()
            sweep()
            times[name].append(time.perf_counter() - start)
    _, tangents = forward_mode.run([x.value], [1.0])
    assert abs(x.deriv) < 1.0 and abs(tangents[-1] - x.deriv) <= 1e-9 * abs(x.deriv)
    result = {name: statistics.median(t) / depth for name, t in times.items()}
    result.update({"build": (t1 - t0) / depth, "sort + first sweep": (t2 - t1) / depth,
                   "held bytes": held / depth, "peak bytes": peak / depth,
                   "forward evaluator": DEFAULT["forward"].__name__})
    return result


def main(depth=1_000_000):
    result = measure(depth)
    print(f"chain of sin, depth {depth:,}")
    for key in ("build", "sort + first sweep") + SWEEPS:
        print(f"  {key:<20} {result[key] * 1e6:8.3f} us/node")
    print(f"  held after build     {result['held bytes']:8.1f} bytes/node")
    print(f"  peak in the sweeps   {result['peak bytes']:8.1f} bytes/node "
          "(tracemalloc, above baseline)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
