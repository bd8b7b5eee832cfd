"""``ad.compile`` at scale: seconds and peak memory per node for a chain of sin.

Run by hand:  python benchmarks/compile_scale.py [N ...]     (default 10^4 10^5 10^6)
``benchmarks/run.py`` runs the same measurement as section 8 of its table.

Each size runs in two fresh interpreters, one after the other. The first builds the chain
(``ad.sin`` applied N times to a ``Var``, then its ``Graph``) and exits; the second builds the
same chain, calls ``ad.compile`` on the graph (timed), and checks the compiled gradient against
the chain rule computed in a loop. The memory figure is the peak resident set size of each
process, which counts everything the process touched, Python's own compiler included (which
``tracemalloc`` would not see). Peak memory per node is the difference of the two peaks
divided by N: what compiling costs above the graph itself.

The peak is the child's own ``VmHWM`` (``/proc/self/status``), read by the child when it is
done, or by the parent while it waits if the child is stopped. Not ``ru_maxrss``: Linux carries
the parent's high-water mark into a child across ``fork``/``exec``, so a child started from
the benchmark process (700 MiB with torch and jax loaded) reports at least 700 MiB whatever
it does.

Each child runs under a time limit and an address-space limit (``RLIMIT_AS``, set by the child
itself before it builds anything); a child that hits either is reported as not finished, with
the limit, instead of hanging the run or the machine.
"""

import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECONDS = 300           # time limit of one child (building the chain included)
MEMORY = 6 * 2**30      # address-space limit of one child, in bytes


def measure(depth, seconds=SECONDS, memory=MEMORY):
    """Compile a chain of ``depth`` sins in a fresh process; returns a dict.

    Keys: ``depth``; ``finished`` (bool); ``reason`` (why not, else None); ``seconds`` and
    ``cpu seconds`` (wall-clock and CPU time of the ``ad.compile`` call, None if unfinished;
    on a machine busy with other work the CPU time is what compiling costs, the wall-clock
    time also counts the wait for a core); ``graph peak`` and ``compile peak`` (bytes, the
    peak RSS of the process that only builds the graph and of the one that also compiles);
    ``per node`` (bytes: the difference of the peaks over ``depth``; for an unfinished child
    as far as it got, also given in ``reason``).
    """
    built = run_child("build", depth, seconds, memory)
    if not built["finished"]:
        return {"depth": depth, "finished": False, "seconds": None,
                "reason": f"building the graph: {built['reason']}", "graph peak": built["peak"],
                "compile peak": None, "per node": None}
    compiled = run_child("compile", depth, seconds, memory)
    peaks = built["peak"], compiled["peak"]
    per_node = None if None in peaks else (peaks[1] - peaks[0]) / depth
    reason = compiled["reason"]
    if reason and per_node is not None:
        reason += f"; peak RSS {peaks[1] / 2**20:.0f} MiB when it stopped, {per_node / 1024:.1f} " \
                  "KiB per node above the graph"
    return {"depth": depth, "finished": compiled["finished"], "reason": reason,
            "seconds": compiled.get("seconds"), "cpu seconds": compiled.get("cpu seconds"),
            "graph peak": peaks[0], "compile peak": peaks[1],
            "per node": per_node}


def peak_rss(pid="self"):
    """The peak resident set size of a process in bytes (``VmHWM``), or None if unreadable."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_child(what, depth, seconds, memory):
    """Run ``child(what, depth)`` in a fresh interpreter; its report with ``finished``,
    ``reason`` and ``peak`` (bytes of peak RSS, as the child last read it or, if it was
    stopped, as last seen from here)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", what, str(depth),
               str(memory)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + seconds
        timed_out = False
        seen = None
        while process.poll() is None:
            seen = peak_rss(process.pid) or seen
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                timed_out = True
                break
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        lines = out.read().decode(errors="replace").splitlines()
        error = err.read().decode(errors="replace").strip().splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    report.setdefault("peak", seen)
    limits = f"{seconds} s / {memory / 2**30:g} GiB"
    if timed_out:
        report.update(finished=False, reason=f"did not finish within {limits}")
    elif report.get("error"):
        report.update(finished=False, reason=f"{report['error']} (limits {limits})")
    elif process.returncode != 0 or not report:
        last = error[-1] if error else f"exit status {process.returncode}"
        report.update(finished=False, reason=f"{last} (limits {limits})")
    else:
        report.update(finished=True, reason=None)
    return report


def child(what, depth, memory):
    """In the fresh interpreter: build the chain and, for ``what == "compile"``, compile it."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    sys.path.insert(0, str(HERE.parent))             # run from a checkout
    sys.path.insert(0, str(HERE))
    try:
        import dualad as ad
        from chain import build_chain
        x, y = build_chain(depth)
        graph = ad.Graph(y)
        report = {"nodes": len(graph)}
        if what == "compile":
            start, start_cpu = time.perf_counter(), time.process_time()
            compiled = ad.compile(graph)
            report["seconds"] = time.perf_counter() - start
            report["cpu seconds"] = time.process_time() - start_cpu
            value, derivative = compiled.value_and_grad(x.value)
            expected_value, expected = x.value, 1.0      # the chain rule, in a loop
            for _ in range(depth):
                expected *= math.cos(expected_value)
                expected_value = math.sin(expected_value)
            assert math.isclose(value, expected_value, rel_tol=1e-12)
            assert math.isclose(derivative, expected, rel_tol=1e-9)
    except MemoryError:
        report = {"error": "MemoryError"}
    except RecursionError as err:
        report = {"error": f"RecursionError: {err}"}
    report["peak"] = peak_rss()
    print(json.dumps(report), flush=True)


def describe(result):
    """One line for a result of ``measure``."""
    if not result["finished"]:
        return f"chain of {result['depth']:,}: {result['reason']}"
    return (f"chain of {result['depth']:,}: ad.compile {result['seconds']:.2f} s "
            f"({result['cpu seconds']:.2f} s CPU) "
            f"({result['cpu seconds'] / result['depth'] * 1e6:.1f} us CPU per node), peak RSS "
            f"{result['compile peak'] / 2**20:.0f} MiB against {result['graph peak'] / 2**20:.0f}"
            f" MiB for the graph alone: {result['per node'] / 1024:.2f} KiB per node")


def main(depths):
    for depth in depths:
        print(describe(measure(depth)), flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main([int(n) for n in sys.argv[1:]] or [10**4, 10**5, 10**6])
