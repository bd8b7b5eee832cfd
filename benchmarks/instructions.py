"""Instructions a call of the small MLP step costs, counted by valgrind, free of the host's noise.

Run by hand from a checkout (needs ``valgrind``; about 5 minutes on 2 cores):

    python benchmarks/instructions.py            # every workload
    python benchmarks/instructions.py trace hand # some of them

Timings on a shared machine move by 5% or more from one run to the next, which hides a change
of a few percent in dualad's own Python. An instruction count does not move: each workload
runs under ``valgrind --tool=cachegrind`` twice, for 500 and for 2,500 calls, and the
difference over 2,000 is its count per call (start-up and warm-up cancel out). A count is not
a time, since numpy's instructions run faster than the interpreter's, but a smaller count of
the interpreter's is less work. The workloads are pieces of ``ad.value_and_grad`` on the
64-32-1 MLP of ``run.py`` (section 7):

- ``hand``: the hand-written backprop step, the reference;
- ``numpy``: the loss alone in numpy;
- ``on-vars``: the loss run on ``Var`` leaves, building its nodes;
- ``trace``: the trace as the transform makes it (nodes whose values are left to the
  program, the check against the structure of the previous trace, the graph);
- ``check``: the structure check alone;
- ``replay``: the recorded program alone, which computes the values and then the gradient
  from the leaves' values;
- ``call``: the whole traced ``value_and_grad`` call.
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")    # one BLAS thread, as run.py: counts repeat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

FEW, MANY = 500, 2500


def workloads():
    """name -> a function of no arguments: one call of that piece of the MLP step."""
    import numpy as np

    import dualad as ad
    from dualad.graph import _leaf, traced
    from run import MLP_SIZES, mlp_by_hand, mlp_loss, mlp_problem

    params, X, y = mlp_problem(*MLP_SIZES[0])
    Y = y.reshape(len(X), -1)

    def loss(W1, b1, W2, b2):
        return mlp_loss(ad, W1, b1, W2, b2, X, Y)

    step = ad.value_and_grad(loss, argnums=(0, 1, 2, 3))
    for _ in range(3):          # recorded at the second call, replayed from the third
        step(*params)
    graph = traced(loss, params)
    program = next(p for key, p in graph.structure.cache["programs"].items()
                   if key[0] == "from inputs")
    # what the transform hands the program: the leaves' values (the parameters, X and Y)
    values = [graph.nodes[p].value for p in graph.leaf_positions]
    leaves = [_leaf(p, name) for p, name in zip(params, ("W1", "b1", "W2", "b2"))]
    structure, outputs, inputs = graph.structure, graph.outputs, graph.inputs
    return {
        "hand": lambda: mlp_by_hand(*params, X, Y),
        "numpy": lambda: mlp_loss(np, *params, X, Y),
        "on-vars": lambda: mlp_loss(ad, *leaves, X, Y),
        "trace": lambda: traced(loss, params, defer=True),
        "check": lambda: structure.placed(outputs, inputs, []),
        "replay": lambda: program.run(values),
        "call": lambda: step(*params),
    }


def run_calls(name, calls):
    """Run the workload ``name`` ``calls`` times (the child valgrind watches)."""
    work = workloads()[name]
    for _ in range(calls):
        work()


def instructions(name, calls):
    """The instructions valgrind counts for a process that runs ``name`` ``calls`` times."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
               "--cachegrind-out-file=/dev/null", sys.executable, __file__,
               "--calls", name, str(calls)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    for line in done.stderr.splitlines():
        if "I" in line and "refs:" in line:
            return int(line.split()[-1].replace(",", ""))
    raise RuntimeError(f"no instruction count in valgrind's output:\n{done.stderr}")


def main(argv):
    if argv[:1] == ["--calls"]:
        run_calls(argv[1], int(argv[2]))
        return 0
    known = list(workloads())
    names = argv or known
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(f"unknown workload {', '.join(unknown)}; choose from {', '.join(known)}",
              file=sys.stderr)
        return 2
    try:
        subprocess.run(["valgrind", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    print(f"instructions per call, (count of {MANY:,} calls - count of {FEW:,}) / "
          f"{MANY - FEW:,}")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:   # one valgrind a core
        counts = {(name, calls): pool.submit(instructions, name, calls)
                  for name in names for calls in (FEW, MANY)}
        for name in names:
            per_call = ((counts[name, MANY].result() - counts[name, FEW].result())
                        / (MANY - FEW))
            print(f"  {name:<10} {per_call:>12,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
