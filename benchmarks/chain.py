"""A chain of sin of depth N: time per node for each sweep, and bytes per node held.

Run by hand:  python benchmarks/chain.py [N]      (default N = 1,000,000)
``benchmarks/run.py`` runs the same measurement as one section of its table.

Prints the seconds per node to build the chain, sort it, run ``forward()`` (values),
``backward()`` (reverse mode) and a ``ForwardEvaluator`` sweep (forward mode), and, from
``tracemalloc``, the bytes per node held by the built graph and the peak bytes per node during
``forward()`` + ``backward()``.
"""

import gc
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import dualad as ad  # noqa: E402
from dualad.evaluators import ForwardEvaluator  # noqa: E402


def build_chain(depth):
    x = ad.Var(0.5, name="x")
    y = x
    for _ in range(depth):
        y = ad.sin(y)
    return x, y


def measure(depth=1_000_000):
    """Seconds per node for each sweep and bytes per node, as a dict."""
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
    y.forward()
    y.backward()
    peak = tracemalloc.get_traced_memory()[1] - start_bytes
    tracemalloc.stop()

    # timings again without tracemalloc's overhead
    t6 = time.perf_counter()
    y.forward()
    t7 = time.perf_counter()
    y.backward()
    t8 = time.perf_counter()
    graph = y._facade_graph()
    _, tangents = ForwardEvaluator(graph).run([0.5], [1.0])
    t9 = time.perf_counter()
    assert abs(x.deriv) < 1.0 and abs(tangents[-1] - x.deriv) <= 1e-9 * abs(x.deriv)
    return {"build": (t1 - t0) / depth, "sort + first sweep": (t2 - t1) / depth,
            "forward() values": (t7 - t6) / depth, "backward() reverse": (t8 - t7) / depth,
            "ForwardEvaluator": (t9 - t8) / depth, "held bytes": held / depth,
            "peak bytes": peak / depth}


def main(depth=1_000_000):
    result = measure(depth)
    print(f"chain of sin, depth {depth:,}")
    for key in ("build", "sort + first sweep", "forward() values", "backward() reverse",
                "ForwardEvaluator"):
        print(f"  {key:<20} {result[key] * 1e6:8.3f} us/node")
    print(f"  held after build     {result['held bytes']:8.1f} bytes/node")
    print(f"  peak in fwd + bwd    {result['peak bytes']:8.1f} bytes/node "
          "(tracemalloc, above baseline)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
