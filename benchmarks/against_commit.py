"""The array function's traced transforms, this checkout's code against an earlier commit's.

    python benchmarks/against_commit.py 0e2ac97            # three runs of each, alternating
    python benchmarks/against_commit.py HEAD~3 --runs 5 --rounds 40
    python benchmarks/against_commit.py 0e2ac97 --blas-threads 0  # BLAS's default threads

Section 3 of ``run.py`` times every system in one process, and on arrays of 10^6 float64 the
process's history moves the figures: whether the C library has handed freed memory back to
the system decides whether every new array faults its pages in again. To compare two
versions of dualad, this script runs each in fresh processes, one after the other in turn,
each timing the same interleaved rounds of f in plain numpy, the hand-written value and
gradient, the traced ``ad.value_and_grad``, the hand-written directional derivative and the
traced ``ad.jvp`` on ``sum(sin(x) exp(-x*x) + x*x*x)``. It prints, for each run, the median
time of f and the two ratios section 3 judges: dualad's time over the hand-written code's.

The earlier commit's ``dualad`` package is taken with ``git archive`` into a temporary
directory; nothing in the working tree changes.
"""

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CHILD = r"""
import os, sys, time
import numpy as np
import dualad as ad          # the version under test (PYTHONPATH), before run.py adds the checkout
assert (os.path.realpath(os.path.dirname(os.path.dirname(ad.__file__)))
        == os.path.realpath(os.environ["PYTHONPATH"])), ad.__file__
sys.path.insert(0, sys.argv[2])
import run                   # the benchmark's own f and hand-written references

def f(x):
    return run.array_f(ad, x, "x*x*x")

rng = np.random.default_rng(0)
x, v = rng.uniform(-2, 2, 10**6), rng.normal(size=10**6)
vag = ad.value_and_grad(f)
value, grad = run.array_by_hand(x, "x*x*x")
out, got = vag(x)
assert np.isclose(out, value, rtol=1e-9) and np.allclose(got, grad, rtol=1e-9, atol=1e-12)
rows = {"f": lambda: run.array_f(np, x, "x*x*x"), "hand": lambda: run.array_by_hand(x, "x*x*x"),
        "vag": lambda: vag(x), "hand_jvp": lambda: run.array_jvp_by_hand(x, v, "x*x*x"),
        "jvp": lambda: ad.jvp(f, (x,), (v,))}
for row in rows.values():
    for _ in range(4):
        row()
times = {k: [] for k in rows}
for _ in range(int(sys.argv[1])):
    for k, row in rows.items():
        start = time.perf_counter()
        row()
        times[k].append(time.perf_counter() - start)
m = {k: float(np.median(t)) for k, t in times.items()}
print(f"{m['f'] * 1e3:.1f} {m['vag'] / m['hand']:.3f} {m['jvp'] / m['hand_jvp']:.3f}")
"""


def run_child(path, rounds, threads):
    """One fresh process importing dualad from ``path``, its BLAS on ``threads`` threads
    (``None``: the library's default): (f in ms, vag/hand, jvp/hand)."""
    env = dict(os.environ, PYTHONPATH=path)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
        if threads is not None:
            env[name] = str(threads)
    out = subprocess.run([sys.executable, "-c", CHILD, str(rounds), HERE], env=env,
                         check=True, capture_output=True, text=True, cwd=path).stdout.split()
    return tuple(float(v) for v in out[-3:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commit", help="the earlier commit (any git revision)")
    parser.add_argument("--runs", type=int, default=3, help="processes of each (default 3)")
    parser.add_argument("--rounds", type=int, default=30,
                        help="interleaved rounds in each process (default 30)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads, as run.py sets them (default 1; 0: the BLAS "
                             "library's own default, which also changes how the process's "
                             "memory is laid out)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as earlier:
        archive = subprocess.run(["git", "archive", options.commit, "dualad"], cwd=ROOT,
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", earlier], input=archive, check=True)
        threads = options.blas_threads or "the library's default"
        print(f"traced transforms on sum(sin(x) exp(-x*x) + x*x*x), 10^6 float64: "
              f"dualad's time / hand-written numpy's, {options.rounds} rounds a process, "
              f"BLAS threads: {threads}")
        print(f"{'code':<22} {'f':>9} {'value_and_grad':>15} {'jvp':>7}")
        for _ in range(options.runs):
            for name, path in ((options.commit, earlier), ("this checkout", ROOT)):
                t_f, vag, jvp = run_child(path, options.rounds, options.blas_threads or None)
                print(f"{name:<22} {t_f:6.1f} ms {vag:14.3f}x {jvp:6.3f}x", flush=True)


if __name__ == "__main__":
    main()
