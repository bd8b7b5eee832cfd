"""A chain of sin of depth N: time per node for each sweep, and bytes per node held.

Run by hand:  python benchmarks/chain.py [N]      (default N = 1,000,000)

Prints the seconds per node to build the chain, sort it, run ``forward()`` and run
``backward()``, and, from ``tracemalloc``, the bytes per node held by the built graph and the
peak bytes per node during ``forward()`` + ``backward()``.
"""

import gc
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import dualad as ad  # noqa: E402


def build_chain(depth):
    x = ad.Var(0.5, name="x")
    y = x
    for _ in range(depth):
        y = ad.sin(y)
    return x, y


def main(depth=1_000_000):
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
    t3 = time.perf_counter()
    y.forward()
    t4 = time.perf_counter()
    y.backward()
    t5 = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] - start_bytes
    tracemalloc.stop()

    # timings again without tracemalloc's overhead
    t6 = time.perf_counter()
    y.forward()
    t7 = time.perf_counter()
    y.backward()
    t8 = time.perf_counter()

    per = 1e6 / depth
    print(f"chain of sin, depth {depth:,}")
    print(f"  build nodes         {(t1 - t0) * per:8.3f} us/node")
    print(f"  sort + first sweep  {(t2 - t1) * per:8.3f} us/node")
    print(f"  forward()           {(t7 - t6) * per:8.3f} us/node")
    print(f"  backward()          {(t8 - t7) * per:8.3f} us/node")
    print(f"  held after build    {held / depth:8.1f} bytes/node")
    print(f"  peak in fwd + bwd   {peak / depth:8.1f} bytes/node (tracemalloc, above baseline)")
    print(f"  (with tracemalloc on: forward {(t4 - t3) * per:.3f}, backward "
          f"{(t5 - t4) * per:.3f} us/node)")
    assert abs(x.deriv) < 1.0


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
