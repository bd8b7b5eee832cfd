"""dualad's benchmark suite: one command, one table, everything measured in the same run.

Run by hand from a checkout:

    python benchmarks/run.py            # the full table (10 to 17 minutes on 2 busy cores)
    python benchmarks/run.py --quick    # fewer repeats, smaller sizes (about 2 minutes)
    python benchmarks/run.py --only 4   # one section (or several: --only 1 2)
    python benchmarks/run.py --alone    # without the competitors, in a process they never touched

Each dualad row measures what a user runs: ``Var.forward()/backward()``, the transforms
(``ad.value_and_grad``, ``ad.jacobian``), which run the evaluators named in
``dualad.evaluators.DEFAULT``, and ``ad.compile``. Sections (each prints medians and ratios to
a reference measured beside it, trials interleaved so that load elsewhere on the machine falls
on every row alike):

1. the seed step (value and dv7/dw, then update w);
2. a random scalar DAG of add/mul/tanh/exp with 10 inputs and one output, at 1,000 and
   10,000 nodes (value + full gradient), per node;
3. f(x) = sum(sin(x) exp(-x^2) + x^3) on 10^6 float64, spelt with ``x**3`` (numpy's ``pow``
   dominates) and with ``x*x*x``: value_and_grad time / f time, and the forward-mode twin
   (``jvp`` along a direction v) / f time, beside hand-written numpy;
4. Jacobians of tanh(W @ x) for (n, m) over {1, 10, 100, 1000}^2: forward mode with all n
   directions in one sweep against n single-direction sweeps, forward against reverse mode,
   and the mode ``ad.jacobian(mode="auto")`` picks;
5. a chain of sin of depth 10^6: time per node per mode and bytes per node;
6. ``ad.verify`` on the 1,000-node random DAG of section 2;
7. a step of a tanh MLP (64-32-1, batch 128, and 784-128-10, batch 256): the mean-square loss
   and its gradients with respect to W1, b1, W2, b2, against hand-written numpy backprop;
8. ``ad.compile`` of a chain of sin of 10^4, 10^5 and 10^6 nodes (10^6 not with ``--quick``),
   each in a fresh process under a time and memory limit: seconds, and peak memory per node
   above the graph itself (``compile_scale.py``).

Every competitor's gradient is checked against the hand-written reference before it is timed,
so a wrong row cannot be fast. After the sections, the rows that have both are listed as
``ad.compile`` time / interpreted time.

micrograd, autograd, torch (CPU) and jax run beside dualad when installed (``pip install
".[bench]"`` brings the light ones); absent ones are skipped with a note. They share the
process with dualad and change it: running torch, for one, frees big blocks that make glibc
keep freed memory from then on, which every later row gains from. ``--alone`` measures
dualad and numpy in a process that never ran them, as a user's own script does. A last table lists
the performance targets with the figure measured for each and the section that measures it.
"""

import argparse
import gc
import importlib.metadata
import math
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

# One BLAS thread, as torch gets below: on a small machine shared with other work, a
# multi-threaded BLAS waiting for a busy core can make one matrix product 100x slower, and the
# Jacobian section would then time the machine's load instead of the modes. Set these
# variables yourself to measure otherwise.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import dualad as ad  # noqa: E402
import dualad.api  # noqa: E402
from dualad.evaluators import DEFAULT, ReverseEvaluator, ValueEvaluator  # noqa: E402

import chain  # noqa: E402
import compile_scale  # noqa: E402

QUICK = False
TARGETS = []          # (section, target, measured text, met: True/False/None)
NOTES = []
COMPILED_VS_INTERPRETED = []   # (row, ad.compile seconds, interpreted seconds, round ratios)
#: row name -> its seconds in each round of the last measure_rows call that timed it; the
#: rounds of one call are interleaved, so round k of two rows ran next to each other
ROUND_SECONDS = {}


# ---- timing and printing ----

def side_by_side(fns, budget=None, repeat=None, rounds=None):
    """Median seconds per call of each function in ``fns``.

    Each trial runs a function enough times to fill ``budget`` seconds (calibrated after a
    warm-up call); trials of the different functions are interleaved, round after round, so
    that load from elsewhere on the machine falls on all of them alike and their ratios hold.
    ``rounds``, a list, receives each function's seconds per call in every round.
    """
    budget = (0.05 if QUICK else 0.2) if budget is None else budget
    repeat = repeat or (3 if QUICK else 7)
    numbers = []
    for fn in fns:
        fn()
        start = time.perf_counter()
        fn()
        once = max(time.perf_counter() - start, 1e-7)
        numbers.append(max(1, int(budget / once)))
    trials = [[] for _ in fns]
    for _ in range(repeat):
        for fn, number, times in zip(fns, numbers, trials):
            gc.collect()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - start) / number)
    if rounds is not None:
        rounds.extend(trials)
    return [statistics.median(times) for times in trials]


def measure_rows(rows, **options):
    """``rows`` of (name, function or None, note) -> (name, median seconds or None, note).
    Each timed row's seconds in every round are kept in :data:`ROUND_SECONDS`."""
    timed = [row for row in rows if row[1] is not None]
    rounds = []
    medians = side_by_side([row[1] for row in timed], rounds=rounds, **options)
    names = [row[0] for row in timed]
    ROUND_SECONDS.update(zip(names, rounds))
    seconds = dict(zip(names, medians))
    return [(name, seconds.get(name), note) for name, _, note in rows]


def compiled_against(label, times, compiled, interpreted):
    """Keep the row ``label`` of the compiled-against-interpreted table: rows ``compiled``
    and ``interpreted`` of the last measure_rows call, their medians in ``times`` (the ratio
    is all that matters, so times per node do as well), and their ratio in each round."""
    ratios = [c / i for c, i in zip(ROUND_SECONDS[compiled], ROUND_SECONDS[interpreted])]
    COMPILED_VS_INTERPRETED.append((label, times[compiled], times[interpreted], ratios))


def optional(name):
    """Import a competitor, or None with a note."""
    try:
        module = __import__(name)
    except Exception as err:     # not installed, or broken: skipped, not fatal
        NOTES.append(f"{name}: not installed ({type(err).__name__}), skipped")
        return None
    return module


def fmt_time(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:8.3f} {unit}"
    return f"{seconds / 1e-9:8.3f} ns"


def table(title, rows, reference=None, unit="per call"):
    """Print rows (name, seconds or None, note); ratios are to the row named ``reference``."""
    print(f"\n== {title} ==")
    ref = dict((r[0], r[1]) for r in rows).get(reference)
    header = f"ratio to {reference}" if ref else ""
    print(f"  {'':<50} {'median ' + unit:>16}  {header}")
    for name, seconds, note in rows:
        if seconds is None:
            print(f"  {name:<50} {'-':>16}  {note}")
            continue
        ratio = f"{seconds / ref:10.2f}x" if ref else ""
        print(f"  {name:<50} {fmt_time(seconds):>16}  {ratio}  {note}".rstrip())


def target(section, text, measured, met):
    TARGETS.append((section, text, measured, met))


def default_names(*modes):
    """The evaluator classes the transforms use for these modes, e.g. for a table note."""
    return " + ".join(DEFAULT[mode].__name__ for mode in modes)


def traced_names(mode):
    """The note of a row that traces its function at each call: the mode's evaluator, which
    computes the values with the derivatives where it can (the trace then defers them), else
    the values' evaluator and the mode's."""
    evaluator = DEFAULT[mode]
    if getattr(evaluator, "runs_from_inputs", False):
        return f"{evaluator.__name__}, values with the derivatives"
    return default_names("value", mode) if mode == "reverse" else default_names(mode)


# ---- 1. the seed step ----

def seed_expression(lib, x, w):
    v1 = lib.multiply(x, w)
    v2 = lib.sin(v1)
    v3 = lib.add(v1, v2)
    v4 = lib.square(v2)
    v5 = lib.exp(v3)
    v6 = lib.multiply(v4, w)
    return lib.add(v5, v6)


class MicrogradOps:
    """micrograd's Value has +, *, ** and relu; sin, exp and tanh are added its own way."""

    def __init__(self, Value):
        self.Value = Value

    def _unary(self, x, value, local):
        out = self.Value(value, (x,), "f")

        def _backward():
            x.grad += local * out.grad
        out._backward = _backward
        return out

    def sin(self, x):
        return self._unary(x, math.sin(x.data), math.cos(x.data))

    def exp(self, x):
        e = math.exp(x.data)
        return self._unary(x, e, e)

    def tanh(self, x):
        t = math.tanh(x.data)
        return self._unary(x, t, 1 - t * t)

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def multiply(a, b):
        return a * b

    @staticmethod
    def square(a):
        return a * a


def bench_seed(competitors):
    lr = 0.1
    x0, w0 = 1.0, 4.0
    rows = []

    # dualad: the seed's own loop, through the facade
    from dualad.demo import seed_graph
    x, w, v7 = seed_graph(x0, w0)

    def facade_step():
        v7.forward()
        v7.backward()
        w.value = w0 - lr * w.deriv   # reset-free: always the same point
    rows.append(("dualad Var.forward()/backward()", facade_step,
                 default_names("value", "reverse")))

    compiled = ad.compile(lambda x, w: seed_expression(ad, x, w), x0, w0, argnums=1)
    vag = compiled.value_and_grad

    def compiled_step():
        value, dw = vag(x0, w0)
        return w0 - lr * dw
    rows.append(("dualad ad.compile value_and_grad", compiled_step, ""))

    xs, ws = sp.symbols("x w")
    v1 = xs * ws
    v2 = sp.sin(v1)
    expr = sp.exp(v1 + v2) + v2**2 * ws
    lam = sp.lambdify((xs, ws), [expr, sp.diff(expr, ws)], modules="math", cse=True)

    def sympy_step():
        value, dw = lam(x0, w0)
        return w0 - lr * dw
    rows.append(("sympy lambdify(cse=True), math", sympy_step, ""))
    assert abs(vag(x0, w0)[1] - lam(x0, w0)[1]) <= 1e-12 * abs(lam(x0, w0)[1])
    v7.forward()
    v7.backward()
    assert abs(w.deriv - lam(x0, w0)[1]) <= 1e-12 * abs(lam(x0, w0)[1])

    if competitors.get("micrograd"):
        from micrograd.engine import Value
        ops = MicrogradOps(Value)

        def micrograd_step():
            xv, wv = Value(x0), Value(w0)
            out = seed_expression(ops, xv, wv)
            out.backward()
            return w0 - lr * wv.grad
        rows.append(("micrograd (build + backward)", micrograd_step, ""))

    torch = competitors.get("torch")
    if torch:
        xt = torch.tensor(x0, dtype=torch.float64)
        wt = torch.tensor(w0, dtype=torch.float64, requires_grad=True)

        def torch_step():
            out = seed_expression(torch, xt, wt)
            (dw,) = torch.autograd.grad(out, wt)
            return w0 - lr * dw.item()
        rows.append(("torch eager", torch_step, "1 thread"))

    if competitors.get("autograd"):
        import autograd
        import autograd.numpy as anp
        avg = autograd.value_and_grad(lambda x, w: seed_expression(anp, x, w), 1)

        def autograd_step():
            value, dw = avg(x0, w0)
            return w0 - lr * dw
        rows.append(("autograd", autograd_step, ""))

    jax = competitors.get("jax")
    if jax:
        import jax.numpy as jnp
        jvag = jax.jit(jax.value_and_grad(lambda x, w: seed_expression(jnp, x, w), 1))

        def jax_step():
            value, dw = jvag(x0, w0)
            return w0 - lr * float(dw)
        rows.append(("jax.jit(value_and_grad)", jax_step, ""))

    rows = measure_rows(rows)
    table("1. seed step: v7 and dv7/dw at x = 1, w = 4, then update w", rows,
          reference="sympy lambdify(cse=True), math")
    times = {name: t for name, t, _ in rows}
    compiled_against("1 seed step", times, "dualad ad.compile value_and_grad",
                     "dualad Var.forward()/backward()")
    ratio = times["dualad ad.compile value_and_grad"] / times["sympy lambdify(cse=True), math"]
    target(1, "seed step via ad.compile <= 2x sympy lambdify(cse=True)", f"{ratio:.2f}x",
           ratio <= 2)
    if "torch eager" in times:
        ratio = times["dualad Var.forward()/backward()"] / times["torch eager"]
        target(1, "seed step via Var.forward()/backward() <= 1/3 torch eager",
               f"{ratio:.2f}x", ratio <= 1 / 3)
    else:
        target(1, "seed step via Var.forward()/backward() <= 1/3 torch eager",
               "torch not run (not installed, or --alone)", None)


# ---- 2. the random scalar DAG ----

def random_dag(n_nodes, n_inputs=10, seed=0):
    """A random DAG of add/multiply/tanh/exp: (input values, steps) with about ``n_nodes``
    nodes, every one of them reaching the single output.

    Each step takes its operands uniformly from all earlier nodes (an operation that would
    leave [-10, 10] is replaced by tanh, so values stay finite); the output is a balanced sum of
    the nodes nothing else uses. Steps are (op, a, b) with indices into the list of values.
    """
    rng = random.Random(seed)
    values = [rng.uniform(-1, 1) for _ in range(n_inputs)]
    inputs = list(values)
    used = [False] * n_inputs
    unused = n_inputs
    steps = []
    while len(values) + unused - 1 < n_nodes:
        op = rng.choice(("add", "multiply", "tanh", "exp"))
        a, b = rng.randrange(len(values)), rng.randrange(len(values))
        value = {"add": lambda: values[a] + values[b], "multiply": lambda: values[a] * values[b],
                 "tanh": lambda: math.tanh(values[a]), "exp": lambda: math.exp(values[a])}[op]()
        if not abs(value) < 10:
            op, value = "tanh", math.tanh(values[a])
        steps.append((op, a, b))
        values.append(value)
        used.append(False)
        unused += 1
        for i in ((a, b) if op in ("add", "multiply") else (a,)):
            if not used[i]:
                used[i] = True
                unused -= 1
    pool = [i for i, u in enumerate(used) if not u]
    while len(pool) > 1:
        paired = []
        for i in range(0, len(pool) - 1, 2):
            steps.append(("add", pool[i], pool[i + 1]))
            values.append(values[pool[i]] + values[pool[i + 1]])
            paired.append(len(values) - 1)
        pool = paired + pool[len(pool) - len(pool) % 2:]
    return inputs, steps


def run_dag(lib, steps, inputs):
    """Evaluate the DAG with ``lib``'s add/multiply/tanh/exp; returns the output."""
    values = list(inputs)
    append = values.append
    for op, a, b in steps:
        if op == "add":
            append(lib.add(values[a], values[b]))
        elif op == "multiply":
            append(lib.multiply(values[a], values[b]))
        else:
            append(getattr(lib, op)(values[a]))
    return values[-1]


def hand_written_source(n_inputs, steps):
    """Straight-line Python as a person would generate it: values with math functions, then
    adjoints initialised to 0.0 and accumulated with +=, one line per local partial."""
    args = ", ".join(f"x{i}" for i in range(n_inputs))
    lines = [f"def f({args}):"]
    names = [f"x{i}" for i in range(n_inputs)]
    for k, (op, a, b) in enumerate(steps):
        name = f"t{k}"
        expr = {"add": f"{names[a]} + {names[b]}", "multiply": f"{names[a]} * {names[b]}",
                "tanh": f"tanh({names[a]})", "exp": f"exp({names[a]})"}[op]
        lines.append(f"    {name} = {expr}")
        names.append(name)
    lines += [f"    g{n} = 0.0" for n in names[:-1]]
    lines.append(f"    g{names[-1]} = 1.0")
    for k in reversed(range(len(steps))):
        op, a, b = steps[k]
        out, ia, ib = names[n_inputs + k], names[a], names[b]
        if op == "add":
            lines += [f"    g{ia} += g{out}", f"    g{ib} += g{out}"]
        elif op == "multiply":
            lines += [f"    g{ia} += {ib} * g{out}", f"    g{ib} += {ia} * g{out}"]
        elif op == "tanh":
            lines.append(f"    g{ia} += (1.0 - {out} * {out}) * g{out}")
        else:
            lines.append(f"    g{ia} += {out} * g{out}")
    grads = ", ".join(f"g{n}" for n in names[:n_inputs])
    lines.append(f"    return {names[-1]}, ({grads})")
    return "\n".join(lines) + "\n"


def bench_dag(n_nodes, competitors):
    inputs, steps = random_dag(n_nodes)
    n_inputs = len(inputs)
    argnums = tuple(range(n_inputs))
    graph = ad.trace(lambda *xs: run_dag(ad, steps, xs), *inputs)
    nodes = len(graph)
    rows = []

    start = time.perf_counter()
    namespace = {"tanh": math.tanh, "exp": math.exp}
    exec(compile(hand_written_source(n_inputs, steps), "<hand-written>", "exec"), namespace)
    hand = namespace["f"]
    hand_compile = time.perf_counter() - start
    reference_value, reference_grads = hand(*inputs)

    def agrees(value, grads):
        assert abs(value - reference_value) <= 1e-9 * abs(reference_value)
        assert np.allclose(grads, reference_grads, rtol=1e-9)
    rows.append(("hand-generated straight-line Python", lambda: hand(*inputs),
                 f"generated + compiled in {hand_compile:.2f} s"))

    start = time.perf_counter()
    compiled = ad.compile(graph, *inputs, argnums=argnums)
    compile_time = time.perf_counter() - start
    agrees(*compiled.value_and_grad(*inputs))
    rows.append(("dualad ad.compile value_and_grad", lambda: compiled.value_and_grad(*inputs),
                 f"ad.compile took {compile_time:.2f} s"))

    # interpreted: the traced Graph re-evaluated by the transform, which runs DEFAULT
    vag = ad.value_and_grad(graph, argnums=argnums)
    agrees(*vag(*inputs))
    rows.append(("dualad ad.value_and_grad(graph) (interpreted)", lambda: vag(*inputs),
                 default_names("value", "reverse")))

    def run_evaluators(value_cls, reverse_cls):
        values = value_cls(graph).run(inputs)
        return values, reverse_cls(graph).run(values, [1.0])

    def check_evaluators(value_cls, reverse_cls):
        values, adjoints = run_evaluators(value_cls, reverse_cls)
        agrees(values[graph.output_positions[0]], [adjoints[p] for p in graph.input_positions])
        return lambda: run_evaluators(value_cls, reverse_cls)
    rows.append(("dualad DEFAULT evaluators called directly",
                 check_evaluators(DEFAULT["value"], DEFAULT["reverse"]),
                 "the same, without the transform"))
    rows.append(("dualad reference evaluators (readable)",
                 check_evaluators(ValueEvaluator, ReverseEvaluator),
                 "ValueEvaluator + ReverseEvaluator"))

    if competitors.get("micrograd"):
        from micrograd.engine import Value
        ops = MicrogradOps(Value)
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))

        def micrograd_run():
            xs = [Value(v) for v in inputs]
            out = run_dag(ops, steps, xs)
            out.backward()
            return [x.grad for x in xs]
        assert np.allclose(micrograd_run(), reference_grads, rtol=1e-9)
        rows.append(("micrograd (build + backward)", micrograd_run,
                     "tanh/exp added micrograd's way"))

    if competitors.get("autograd"):
        import autograd
        import autograd.numpy as anp
        avg = autograd.value_and_grad(lambda xs: run_dag(anp, steps, xs))
        rows.append(("autograd", lambda: avg(list(inputs)), ""))

    if competitors.get("torch"):
        torch = competitors["torch"]

        def torch_run():
            xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in inputs]
            out = run_dag(torch, steps, xs)
            return torch.autograd.grad(out, xs)
        rows.append(("torch eager", torch_run, "1 thread"))

    if competitors.get("jax"):
        jax = competitors["jax"]
        import jax.numpy as jnp
        if nodes <= 1_000 or not QUICK and "--slow" in sys.argv:
            fn = jax.jit(jax.value_and_grad(lambda xs: run_dag(jnp, steps, xs)))
            xs = [float(v) for v in inputs]
            start = time.perf_counter()
            jax.block_until_ready(fn(xs))
            jit_time = time.perf_counter() - start
            rows.append(("jax.jit(value_and_grad)", lambda: jax.block_until_ready(fn(xs)),
                         f"jit compile took {jit_time:.1f} s"))
        else:
            rows.append(("jax.jit(value_and_grad)", None,
                         "skipped: compiling takes minutes at this size (--slow runs it)"))

    rows = [(name, None if t is None else t / nodes, note)
            for name, t, note in measure_rows(rows, budget=0.1 if QUICK else 0.3,
                                              repeat=5 if QUICK else 9)]
    table(f"2. random scalar DAG, {nodes:,} nodes, 10 inputs: value + full gradient", rows,
          reference="hand-generated straight-line Python", unit="per node")
    times = {name: t for name, t, _ in rows}
    compiled_against(f"2 DAG {nodes:,} nodes", times, "dualad ad.compile value_and_grad",
                     "dualad ad.value_and_grad(graph) (interpreted)")
    if n_nodes == 10_000:
        ratio = times["dualad ad.compile value_and_grad"] / times[
            "hand-generated straight-line Python"]
        target(2, "random DAG 10,000 nodes: compiled <= 1.5x hand-generated straight-line "
               "code", f"{ratio:.2f}x", ratio <= 1.5)
        target(2, "random DAG 10,000 nodes: ad.compile time <= 0.5 s", f"{compile_time:.2f} s",
               compile_time <= 0.5)
        if times.get("micrograd (build + backward)"):
            ratio = (times["dualad ad.value_and_grad(graph) (interpreted)"]
                     / times["micrograd (build + backward)"])
            target(2, "random DAG 10,000 nodes: interpreted (ad.value_and_grad on the Graph) "
                   "<= 0.5x micrograd per node", f"{ratio:.2f}x", ratio <= 0.5)
        else:
            target(2, "random DAG 10,000 nodes: interpreted <= 0.5x micrograd per node",
                   "micrograd not run (not installed, or --alone)", None)


# ---- 3. arrays ----

# f(x) = sum(sin(x) exp(-x^2) + x^3), spelt two ways. With ``x**3`` numpy calls ``pow`` for
# every element, which costs more than sin and exp together and makes every system look alike;
# with ``x*x*x`` the function is made of cheap passes and the overhead of each system shows.
ARRAY_SPELLINGS = ("x**3", "x*x*x")
F_NUMPY = "f in plain numpy"
HAND_VAG = "hand-written numpy value and gradient"
HAND_JVP = "hand-written numpy f and directional derivative"
DUALAD_VAG = "dualad ad.value_and_grad(f), traced each call"
DUALAD_VAG_GRAPH = "dualad ad.value_and_grad(graph)"
DUALAD_COMPILE = "dualad ad.compile value_and_grad"
DUALAD_JVP = "dualad ad.jvp(f), traced each call"
DUALAD_JVP_GRAPH = "dualad ad.jvp(graph)"
DUALAD_COMPILE_JVP = "dualad ad.compile jvp"


def array_f(lib, x, spelling):
    """f(x) written with ``lib``'s sum, sin and exp (numpy, dualad, autograd, torch, jax)."""
    if spelling == "x**3":
        return lib.sum(lib.sin(x) * lib.exp(-x**2) + x**3)
    return lib.sum(lib.sin(x) * lib.exp(-x * x) + x * x * x)


def array_by_hand(x, spelling):
    """f and its gradient as a competent student writes them in numpy: sin(x), exp(-x^2) and
    x^2 computed once and reused, the gradient cos(x) e - 2 x sin(x) e + 3 x^2 accumulated in
    place (no temporary left over).  The ``x**3`` spelling keeps its ``pow`` for the value."""
    x2 = x**2 if spelling == "x**3" else x * x
    s = np.sin(x)
    e = np.exp(-x2)
    se = s * e
    value = np.sum(se + (x**3 if spelling == "x**3" else x2 * x))
    grad = np.cos(x)
    grad *= e
    grad -= 2 * x * se
    grad += 3 * x2
    return value, grad


def array_jvp_by_hand(x, v, spelling):
    """Forward mode by hand: f and its derivative along ``v``, <f'(x), v>."""
    value, grad = array_by_hand(x, spelling)
    return value, np.dot(grad, v)


def bench_arrays(competitors):
    n = 10**5 if QUICK else 10**6
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=n)
    v = rng.normal(size=n)
    for spelling in ARRAY_SPELLINGS:
        bench_array_function(spelling, x, v, competitors)


def bench_array_function(spelling, x, v, competitors):
    """One table: value_and_grad and jvp rows of every system, each divided by f in numpy."""
    def f(x, lib=ad):
        return array_f(lib, x, spelling)

    value, expected = array_by_hand(x, spelling)
    expected_dot = np.dot(expected, v)

    def checked(fn, forward=False):
        """``fn`` after checking its value and derivative against the hand-written numpy."""
        out, derivative = fn()
        assert np.isclose(float(out), value, rtol=1e-9, atol=0), (spelling, out, value)
        if forward:
            assert np.isclose(float(derivative), expected_dot, rtol=1e-9, atol=0), spelling
        else:   # torch and jax have their own sin and exp: agree to round-off, not bits
            scale = np.max(np.abs(expected))
            assert np.allclose(np.asarray(derivative), expected, rtol=1e-9, atol=1e-12 * scale)
        return fn

    traced = ad.value_and_grad(f)
    graph = ad.trace(f, x)
    on_graph = ad.value_and_grad(graph)
    compiled = ad.compile(f, x)
    rows = [(F_NUMPY, lambda: f(x, np), "the denominator"),
            (HAND_VAG, checked(lambda: array_by_hand(x, spelling)), "reuses sin, exp, x^2"),
            (DUALAD_VAG, checked(lambda: traced(x)), traced_names("reverse")),
            (DUALAD_VAG_GRAPH, checked(lambda: on_graph(x)), "a traced Graph, re-evaluated"),
            (DUALAD_COMPILE, checked(lambda: compiled.value_and_grad(x)), ""),
            (HAND_JVP, checked(lambda: array_jvp_by_hand(x, v, spelling), forward=True),
             "f and <f'(x), v>"),
            (DUALAD_JVP, checked(lambda: ad.jvp(f, (x,), (v,)), forward=True),
             traced_names("forward")),
            (DUALAD_JVP_GRAPH, checked(lambda: ad.jvp(graph, (x,), (v,)), forward=True), ""),
            (DUALAD_COMPILE_JVP, checked(lambda: compiled.jvp((x,), (v,)), forward=True), "")]
    if competitors.get("autograd"):
        import autograd
        import autograd.numpy as anp
        avg = autograd.value_and_grad(lambda x: f(x, anp))
        rows.append(("autograd value_and_grad", checked(lambda: avg(x)), ""))
    torch = competitors.get("torch")
    if torch:
        xt, vt = torch.tensor(x), torch.tensor(v)

        def torch_vag():
            xv = xt.detach().requires_grad_(True)
            out = f(xv, torch)
            return out.detach(), torch.autograd.grad(out, xv)[0]
        rows.append(("torch eager value_and_grad", checked(torch_vag), "1 thread"))
        rows.append(("torch.func.jvp",
                     checked(lambda: torch.func.jvp(lambda x: f(x, torch), (xt,), (vt,)),
                             forward=True), "1 thread, forward-mode AD"))
    jax = competitors.get("jax")
    if jax:
        import jax.numpy as jnp
        xj, vj = jnp.asarray(x), jnp.asarray(v)
        eager = jax.value_and_grad(lambda x: f(x, jnp))
        rows.append(("jax eager value_and_grad",
                     checked(lambda: jax.block_until_ready(eager(xj))), ""))
        jitted = jax.jit(eager)
        rows.append(("jax.jit(value_and_grad)",
                     checked(lambda: jax.block_until_ready(jitted(xj))), ""))
        jitted_jvp = jax.jit(lambda x, v: jax.jvp(lambda x: f(x, jnp), (x,), (v,)))
        rows.append(("jax.jit(jvp)",
                     checked(lambda: jax.block_until_ready(jitted_jvp(xj, vj)), forward=True),
                     ""))
    rows = measure_rows(rows, repeat=5 if QUICK else 9)
    print(f"\n(array length {len(x):,})", end="")
    square = "x**2" if spelling == "x**3" else "x*x"
    table(f"3. f(x) = sum(sin(x) exp(-{square}) + {spelling}): value_and_grad / f and jvp / f",
          rows, reference=F_NUMPY)
    times = dict((r[0], r[1]) for r in rows)
    t_f = times[F_NUMPY]
    size = f"10^{int(math.log10(len(x)))}"
    compiled_against(f"3 {spelling} value_and_grad, traced f", times, DUALAD_COMPILE,
                     DUALAD_VAG)
    compiled_against(f"3 {spelling} value_and_grad, Graph", times, DUALAD_COMPILE,
                     DUALAD_VAG_GRAPH)
    compiled_against(f"3 {spelling} jvp, traced f", times, DUALAD_COMPILE_JVP, DUALAD_JVP)
    compiled_against(f"3 {spelling} jvp, Graph", times, DUALAD_COMPILE_JVP, DUALAD_JVP_GRAPH)
    if spelling == "x**3":     # the first release's target, on the first release's function
        for name, how in ((DUALAD_VAG, "ad.value_and_grad(f)"),
                          (DUALAD_VAG_GRAPH, "ad.value_and_grad(graph)"),
                          (DUALAD_COMPILE, "ad.compile")):
            ratio = times[name] / t_f
            target(3, f"arrays {size}, x**3: {how} value_and_grad / f <= 2.5", f"{ratio:.2f}",
                   ratio <= 2.5)
        return
    # dualad's ratio to f within 1.1x of hand numpy's ratio to f (f cancels out)
    for name, hand, how in ((DUALAD_VAG, HAND_VAG, "ad.value_and_grad(f)"),
                            (DUALAD_COMPILE, HAND_VAG, "ad.compile value_and_grad"),
                            (DUALAD_JVP, HAND_JVP, "ad.jvp(f)"),
                            (DUALAD_COMPILE_JVP, HAND_JVP, "ad.compile jvp")):
        ratio = times[name] / times[hand]
        target(3, f"arrays {size}, x*x*x: {how} / f within 1.1x of hand numpy's",
               f"{times[name] / t_f:.2f} against {times[hand] / t_f:.2f}: {ratio:.2f}x",
               ratio <= 1.1)


# ---- 4. Jacobians ----

def auto_choice(f, *args):
    """The mode ``ad.jacobian(f, mode="auto")`` runs at ``args``, seen by watching which of
    the two Jacobian builders it calls."""
    chosen = []
    builders = {"forward": dualad.api._forward_jacobian,
                "reverse": dualad.api._reverse_jacobian}

    def watching(mode, builder):
        def run(*a, **k):
            chosen.append(mode)
            return builder(*a, **k)
        return run
    try:
        dualad.api._forward_jacobian = watching("forward", builders["forward"])
        dualad.api._reverse_jacobian = watching("reverse", builders["reverse"])
        ad.jacobian(f, mode="auto")(*args)
    finally:
        dualad.api._forward_jacobian = builders["forward"]
        dualad.api._reverse_jacobian = builders["reverse"]
    return chosen[0]


def bench_jacobians():
    sizes = (1, 10, 100) if QUICK else (1, 10, 100, 1000)
    rng = np.random.default_rng(0)
    print("\n== 4. Jacobian of tanh(W @ x), W of shape (m, n): median seconds ==")
    print(f"  sweeps ({DEFAULT['forward'].__name__}): fwd-k pushes all n directions through one "
          "sweep, fwd-1 runs n sweeps of one\n  direction each (values and tangents every "
          "sweep), 1/k = fwd-1 / fwd-k.\n  ad.jacobian(graph, mode=...): the whole Jacobian as "
          "a user gets it (one batched sweep: n directions\n  forward, m cotangents reverse); "
          "auto = the mode ad.jacobian(mode='auto') runs.")
    print(f"  {'n':>5} {'m':>5} {'fwd-k':>12} {'fwd-1':>12} {'1/k':>7} {'forward':>12} "
          f"{'reverse':>12}  faster  auto")
    k100 = []
    misses = []
    for n in sizes:
        for m in sizes:
            W = rng.normal(size=(m, n)) / math.sqrt(n)
            x = rng.normal(size=n)
            graph = ad.trace(lambda x: ad.tanh(W @ x), x)
            out = graph.output_positions[0]
            eye_n = np.eye(n)
            forward_k = DEFAULT["forward"](graph, batch=1)
            forward_1 = DEFAULT["forward"](graph)
            columns = [eye_n[i] for i in range(n)]
            jac_forward = ad.jacobian(graph, mode="forward")
            jac_reverse = ad.jacobian(graph, mode="reverse")

            def fwd_k():
                return forward_k.run([x], [eye_n])[1][out]

            def fwd_1():
                return [forward_1.run([x], [c])[1][out] for c in columns]
            exact = (1 - np.tanh(W @ x) ** 2)[:, None] * W
            assert np.allclose(fwd_k().T, exact) and np.allclose(np.array(fwd_1()).T, exact)
            assert np.allclose(jac_forward(x), exact.reshape(jac_forward(x).shape))
            assert np.allclose(jac_reverse(x), exact.reshape(jac_reverse(x).shape))
            t_k, t_1, t_f, t_r = side_by_side(
                [fwd_k, fwd_1, lambda: jac_forward(x), lambda: jac_reverse(x)],
                budget=0.02 if QUICK else 0.1, repeat=3 if QUICK else 5)
            faster = "forward" if t_f < t_r else "reverse"
            auto = auto_choice(graph, x)
            gap = max(t_f, t_r) / min(t_f, t_r)
            flag = ""
            if auto != faster:
                flag = f"  <- {gap:.1f}x slower" if gap > 1.5 else f"  (within {gap:.2f}x)"
                if gap > 1.5:
                    misses.append((n, m))
            print(f"  {n:>5} {m:>5} {fmt_time(t_k):>12} {fmt_time(t_1):>12} {t_1 / t_k:6.1f}x "
                  f"{fmt_time(t_f):>12} {fmt_time(t_r):>12}  {faster:<7} {auto}{flag}")
            if n == 100:
                k100.append((t_1 / t_k, m))
    worst, worst_m = min(k100)
    target(4, "Jacobians: forward k=100 directions in one sweep >= 5x faster than 100 "
           "single sweeps (worst m)", f"{worst:.1f}x (m = {worst_m})", worst >= 5)
    target(4, "Jacobians: jacobian(mode='auto') picks the faster mode wherever the two differ "
           "by > 1.5x", "every cell" if not misses else f"misses (n, m) in {misses}",
           not misses)


# ---- 5. the chain ----

def bench_chain(competitors):
    depth = 10**5 if QUICK else 10**6
    result = chain.measure(depth, repeat=3 if QUICK else 5)
    print(f"\n== 5. chain of sin, depth {depth:,}: per node ==")
    labels = {"build": "build (ad.sin, one node at a time)",
              "sort + first sweep": "sort + first forward()",
              "forward() values": "forward(): values",
              "backward() reverse": "backward(): reverse mode",
              "forward mode": f"forward mode ({result['forward evaluator']})"}
    for key, label in labels.items():
        print(f"  dualad {label:<43} {fmt_time(result[key]):>16}")
    print(f"  dualad held after build + sort              {result['held bytes']:10.0f} bytes")
    print(f"  dualad peak during the three sweeps         {result['peak bytes']:10.0f} bytes")
    small = 10**4 if QUICK else 10**5
    rows = []
    if competitors.get("torch"):
        torch = competitors["torch"]

        def torch_chain():
            x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
            y = x
            for _ in range(small):
                y = torch.sin(y)
            return torch.autograd.grad(y, x)
        rows.append((f"torch eager, depth {small:,}, build + backward", torch_chain))
    if competitors.get("autograd"):
        import autograd
        import autograd.numpy as anp

        def sin_chain(x):
            for _ in range(small):
                x = anp.sin(x)
            return x
        grad = autograd.grad(sin_chain)
        rows.append((f"autograd, depth {small:,}, value + grad", lambda: grad(0.5)))
    times = side_by_side([fn for _, fn in rows], budget=0.01, repeat=3)
    for (label, _), seconds in zip(rows, times):
        print(f"  {label:<50} {fmt_time(seconds / small):>16}")
    if competitors.get("micrograd"):
        from micrograd.engine import Value
        ops = MicrogradOps(Value)
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(1000)
        try:
            y = Value(0.5)
            for _ in range(small):
                y = ops.sin(y)
            y.backward()
            outcome = "ran"
        except RecursionError:
            outcome = "RecursionError (its topological sort is recursive)"
        finally:
            sys.setrecursionlimit(limit)
        print(f"  micrograd, depth {small:,}: {outcome}")
    worst = max(chain.SWEEPS, key=lambda k: result[k])
    target(5, f"chain depth 10^{int(math.log10(depth))}: <= 1 us per node per mode "
           "(interpreted)", f"worst {result[worst] * 1e6:.2f} us ({worst}); "
           + ", ".join(f"{result[k] * 1e6:.2f}" for k in chain.SWEEPS),
           result[worst] <= 1e-6)
    target(5, "chain: <= 400 bytes per node held", f"{result['held bytes']:.0f} B held, "
           f"{result['peak bytes']:.0f} B peak", result["held bytes"] <= 400)


# ---- 6. verify ----

def bench_verify():
    inputs, steps = random_dag(1_000)
    graph = ad.trace(lambda *xs: run_dag(ad, steps, xs), *inputs)
    print(f"\n== 6. ad.verify on the random DAG of section 2, {len(graph):,} nodes, "
          f"{len(inputs)} inputs ==")
    start = time.perf_counter()
    report = ad.verify(graph, *inputs)          # the defaults: 10 s for the symbolic work
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    ad.verify(graph, *inputs, time_limit=0.0)   # the float checks alone (complex step)
    float_seconds = time.perf_counter() - start
    for check in report.checks:
        error = "" if check.max_abs_error is None else f"max error {check.max_abs_error:.1e}"
        print(f"  {check.mode:<8} {check.method:<34} {check.result:<11} {error:<18} "
              f"{check.detail}".rstrip())
    print(f"  ad.verify(graph, *point): {seconds:.2f} s (ok={report.ok}, "
          f"proved={report.proved}); the float checks alone (time_limit=0, both modes "
          f"against the complex step): {float_seconds:.2f} s")
    numeric = [c for c in report.checks if not c.method.endswith("proof for all inputs")]
    completed = sum(c.ok is True for c in numeric)
    target(6, "verify of a 1,000-node random graph <= 30 s, numeric checks completed",
           f"{seconds:.1f} s, {completed}/{len(numeric)} numeric checks ok, "
           f"proved={report.proved}",
           seconds <= 30 and report.ok and completed == len(numeric))


def bench_verify_apart():
    """Section 6 in a fresh interpreter: verify forks worker processes for its symbolic work,
    and forking a process in which jax's threads run is unsafe (the child may deadlock)."""
    import multiprocessing
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    sys.stdout.flush()
    child = context.Process(target=_verify_in_child, args=(sender, QUICK))
    child.start()
    sender.close()
    TARGETS.extend(receiver.recv())
    child.join()


def _verify_in_child(sender, quick):
    global QUICK
    QUICK = quick
    bench_verify()
    sys.stdout.flush()
    sender.send(TARGETS)


# ---- 7. a small neural network ----

MLP_SIZES = ((64, 32, 1, 128), (784, 128, 10, 256))    # inputs, hidden units, outputs, batch
MLP_HAND = "hand-written numpy backprop"


def mlp_problem(n_in, n_hidden, n_out, batch, seed=0):
    """Parameters (W1, b1, W2, b2) of an n_in-n_hidden-n_out tanh MLP, a batch X of inputs and
    targets y: shape (batch,) for one output, (batch, n_out) otherwise."""
    rng = np.random.default_rng(seed)
    params = (rng.normal(size=(n_in, n_hidden)) / math.sqrt(n_in),
              0.1 * rng.normal(size=n_hidden),
              rng.normal(size=(n_hidden, n_out)) / math.sqrt(n_hidden),
              0.1 * rng.normal(size=n_out))
    X = rng.normal(size=(batch, n_in))
    y = rng.normal(size=(batch,) if n_out == 1 else (batch, n_out))
    return params, X, y


def mlp_loss(lib, W1, b1, W2, b2, X, Y):
    """mean((tanh(X W1 + b1) W2 + b2 - Y)^2) with ``lib``'s tanh and mean; ``Y`` is the
    targets as a (batch, n_out) array, so the difference does not broadcast to a matrix."""
    d = lib.tanh(X @ W1 + b1) @ W2 + b2 - Y
    return lib.mean(d * d)


def mlp_by_hand(W1, b1, W2, b2, X, Y):
    """The loss and its four gradients: backprop as a student writes it in numpy."""
    h = np.tanh(X @ W1 + b1)
    d = h @ W2 + b2
    d -= Y
    value = np.vdot(d, d) / d.size
    d *= 2 / d.size                  # d(loss)/d(prediction)
    dz = d @ W2.T
    dz *= 1 - h * h                  # d(loss)/d(X W1 + b1): tanh' = 1 - tanh^2
    return value, (X.T @ dz, dz.sum(axis=0), h.T @ d, d.sum(axis=0))


def bench_mlp(size, competitors):
    n_in, n_hidden, n_out, batch = size
    params, X, y = mlp_problem(*size)
    Y = y.reshape(batch, n_out)
    argnums = (0, 1, 2, 3)
    value, grads = mlp_by_hand(*params, X, Y)

    def checked(fn):
        """``fn`` after checking its loss and gradients against the hand-written backprop."""
        out, got = fn()
        assert np.isclose(float(out), value, rtol=1e-9, atol=0), (size, out, value)
        for g, expected in zip(got, grads, strict=True):
            g = np.asarray(g).reshape(expected.shape)
            assert np.allclose(g, expected, rtol=1e-7, atol=1e-12 * np.max(np.abs(expected)))
        return fn

    def loss(W1, b1, W2, b2):
        return mlp_loss(ad, W1, b1, W2, b2, X, Y)

    traced = ad.value_and_grad(loss, argnums=argnums)
    on_graph = ad.value_and_grad(ad.trace(loss, *params), argnums=argnums)
    compiled = ad.compile(loss, *params, argnums=argnums)
    rows = [(MLP_HAND, checked(lambda: mlp_by_hand(*params, X, Y)), ""),
            ("loss alone in numpy (no gradient)", lambda: mlp_loss(np, *params, X, Y),
             "for scale"),
            (DUALAD_VAG, checked(lambda: traced(*params)), traced_names("reverse")),
            (DUALAD_VAG_GRAPH, checked(lambda: on_graph(*params)),
             "a traced Graph, re-evaluated"),
            (DUALAD_COMPILE, checked(lambda: compiled.value_and_grad(*params)), "")]
    torch = competitors.get("torch")
    if torch:
        params_t = [torch.tensor(p, requires_grad=True) for p in params]
        Xt, Yt = torch.tensor(X), torch.tensor(Y)

        def torch_step():
            out = mlp_loss(torch, *params_t, Xt, Yt)
            return out.detach(), torch.autograd.grad(out, params_t)
        rows.append(("torch eager", checked(torch_step), "1 thread"))
    if competitors.get("autograd"):
        import autograd
        import autograd.numpy as anp
        avg = autograd.value_and_grad(lambda p: mlp_loss(anp, *p, X, Y))
        rows.append(("autograd", checked(lambda: avg(params)), ""))
    jax = competitors.get("jax")
    if jax:
        import jax.numpy as jnp
        jitted = jax.jit(jax.value_and_grad(lambda W1, b1, W2, b2, X, Y:
                                            mlp_loss(jnp, W1, b1, W2, b2, X, Y),
                                            argnums=argnums))
        args_j = [jnp.asarray(a) for a in (*params, X, Y)]
        rows.append(("jax.jit(value_and_grad)",
                     checked(lambda: jax.block_until_ready(jitted(*args_j))), "CPU"))
    rows = measure_rows(rows, budget=0.05 if QUICK else 0.1, repeat=5 if QUICK else 15)
    name = f"{n_in}-{n_hidden}-{n_out}, batch {batch}"
    table(f"7. MLP {name}: loss and its gradients with respect to W1, b1, W2, b2", rows,
          reference=MLP_HAND)
    times = dict((r[0], r[1]) for r in rows)
    compiled_against(f"7 MLP {n_in}-{n_hidden}-{n_out}, traced f", times, DUALAD_COMPILE,
                     DUALAD_VAG)
    compiled_against(f"7 MLP {n_in}-{n_hidden}-{n_out}, Graph", times, DUALAD_COMPILE,
                     DUALAD_VAG_GRAPH)
    small = size == MLP_SIZES[0]
    vag = times[DUALAD_VAG] / times[MLP_HAND]
    limit = 2.0 if small else 1.15
    target(7, f"MLP {name}: ad.value_and_grad(f) <= {limit}x hand numpy", f"{vag:.2f}x",
           vag <= limit)
    compiled_ratio = times[DUALAD_COMPILE] / times[MLP_HAND]
    target(7, f"MLP {name}: ad.compile value_and_grad <= 1.2x hand numpy",
           f"{compiled_ratio:.2f}x", compiled_ratio <= 1.2)
    if small and "torch eager" in times:
        to_torch = [times[row] / times["torch eager"] for row in (DUALAD_VAG, DUALAD_COMPILE)]
        target(7, f"MLP {name}: ad.value_and_grad(f) and ad.compile ahead of torch eager",
               f"{to_torch[0]:.2f}x and {to_torch[1]:.2f}x torch", max(to_torch) < 1)
    elif small:
        target(7, f"MLP {name}: ad.value_and_grad(f) and ad.compile ahead of torch eager",
               "torch not run (not installed, or --alone)", None)


# ---- 8. ad.compile at scale ----

def bench_compile_scale():
    depths = (10**4, 10**5) if QUICK else (10**4, 10**5, 10**6)
    print("\n== 8. ad.compile of a chain of sin, each in a fresh process: seconds, and peak "
          "memory per node ==")
    print("  peak memory: the process's peak RSS (its VmHWM, Python's compiler included) minus "
          "that of a process\n  that builds the same graph and does not compile; limits "
          f"{compile_scale.SECONDS} s and {compile_scale.MEMORY / 2**30:g} GiB of address "
          "space per process")
    print("  seconds: CPU time of the ad.compile call (wall-clock time beside it, which also "
          "counts waiting\n  for a core when other work runs on the machine)")
    print(f"  {'nodes':>10} {'CPU':>10} {'wall':>10} {'CPU per node':>13} {'peak RSS':>10} "
          f"{'graph alone':>12} {'above, per node':>16}")
    results = {}
    for depth in depths:
        result = results[depth] = compile_scale.measure(depth)
        if not result["finished"]:
            print(f"  {depth:>10,} {result['reason']}")
            continue
        print(f"  {depth:>10,} {result['cpu seconds']:8.2f} s {result['seconds']:8.2f} s "
              f"{fmt_time(result['cpu seconds'] / depth):>13} "
              f"{result['compile peak'] / 2**20:6.0f} MiB {result['graph peak'] / 2**20:8.0f} MiB"
              f" {result['per node'] / 1024:11.2f} KiB")
    chain_5 = results[10**5]
    if chain_5["finished"]:
        target(8, "ad.compile of a 10^5-node chain <= 3 s (CPU time)",
               f"{chain_5['cpu seconds']:.2f} s ({chain_5['seconds']:.2f} s wall)",
               chain_5["cpu seconds"] <= 3)
        target(8, "ad.compile of a 10^5-node chain <= 2 KiB peak memory per node",
               f"{chain_5['per node'] / 1024:.2f} KiB", chain_5["per node"] <= 2048)
    else:
        target(8, "ad.compile of a 10^5-node chain <= 3 s and <= 2 KiB per node",
               chain_5["reason"], False)
    text = "ad.compile of a 10^6-node chain finishes, <= 2 KiB peak memory per node"
    if 10**6 not in results:
        target(8, text, "not run (--quick)", None)
    elif results[10**6]["finished"]:
        chain_6 = results[10**6]
        target(8, text, f"{chain_6['cpu seconds']:.0f} s CPU, "
               f"{chain_6['per node'] / 1024:.2f} KiB",
               chain_6["per node"] <= 2048)
    else:
        target(8, text, results[10**6]["reason"], False)


#: Student's t: the two-sided 95% quantile for 1 to 30 degrees of freedom (1.96 beyond)
T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
       2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
       2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def paired_ratio(ratios):
    """(geometric mean, low, high): the typical ratio of two rows timed round by round, and
    its 95% confidence interval, from the ratios of their rounds. Round k of the two rows ran
    next to each other, so load from elsewhere falls on both and each ratio is one paired
    observation; the interval is Student's t on the ratios' logarithms.

    >>> [round(r, 3) for r in paired_ratio([0.9, 1.0, 1.1])]
    [0.997, 0.777, 1.279]
    """
    logs = [math.log(r) for r in ratios]
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return (math.exp(mean),) * 3
    t = T95[len(logs) - 2] if len(logs) - 1 <= len(T95) else 1.96
    half = t * statistics.stdev(logs) / math.sqrt(len(logs))
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


def verdict(low, high):
    """"faster", "slower" or "a tie": where a 95% interval of a ratio lies against 1."""
    return "faster" if high < 1 else "slower" if low > 1 else "a tie"


def compiled_against_interpreted():
    """The target over every row that has both: ``ad.compile`` no slower than interpreted.

    A row is slower when its rounds show it: the 95% interval of its paired ratio lies above
    1. A row whose two paths run the same numpy calls (the ``x**3`` function, where ``pow``
    takes nearly all the time) is a tie, and its ratio of medians falls on either side of 1
    from run to run; its interval then holds 1, and says how large a difference the run could
    have missed."""
    if not COMPILED_VS_INTERPRETED:
        return
    print("\n== ad.compile against the interpreted path, row by row (from the sections above) ==")
    print("  interpreted: the transform on the Python function, traced at every call (sections"
          " 3, 7: traced f),\n  the transform on a traced Graph (sections 2, 3, 7: Graph), "
          "Var.forward()/backward() (section 1)")
    print("  the ratio of the medians; the geometric mean of the rounds' ratios (round k of "
          "both rows ran\n  next to each other) with its 95% interval; and the verdict: "
          "slower or faster where the\n  interval lies wholly on that side of 1, else a tie")
    rows = []
    for row, compiled, interpreted, rounds in COMPILED_VS_INTERPRETED:
        mean, low, high = paired_ratio(rounds)
        rows.append((mean, row, low, high, verdict(low, high)))
        print(f"  {row:<44} {compiled / interpreted:8.2f}x   rounds {mean:.2f}x "
              f"({low:.2f}x to {high:.2f}x): {rows[-1][4]}")
    slower = [r for r in rows if r[4] == "slower"]
    mean, row, low, high, said = max(slower or rows)
    sections = ", ".join(sorted({r[1].split()[0] for r in rows}))
    summary = (f"{len(slower)} of {len(rows)} rows slower" if slower
               else f"no row slower of {len(rows)}")
    target(sections, "ad.compile never slower than the interpreted path, on any row",
           f"{summary}; worst {mean:.2f}x ({row}; 95% interval {low:.2f}x to {high:.2f}x, "
           f"{said})", not slower)



def load_average():
    """The machine's load averages as text: other work competes for the cores we time on."""
    try:
        return ", ".join(f"{load:.1f}" for load in os.getloadavg())
    except OSError:
        return "unknown"


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def main(argv=None):
    global QUICK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    parser.add_argument("--slow", action="store_true",
                        help="also jit the 10,000-node DAG with jax (takes minutes)")
    parser.add_argument("--only", type=int, nargs="*", help="run only these sections (1-8)")
    parser.add_argument("--alone", action="store_true",
                        help="no competitors: dualad and numpy in a process that never ran "
                             "torch or jax (which change how the C library keeps memory)")
    args = parser.parse_args(argv)
    QUICK = args.quick
    print(f"dualad {ad.__version__} benchmarks{' (--quick)' if QUICK else ''}: "
          f"{time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
          f"numpy {np.__version__}, sympy {sp.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cores")
    names = ("micrograd", "autograd", "torch", "jax")
    competitors = dict.fromkeys(names) if args.alone else {name: optional(name) for name in names}
    if competitors["torch"]:
        competitors["torch"].set_num_threads(1)
    if competitors["jax"]:
        competitors["jax"].config.update("jax_enable_x64", True)
    versions = ", ".join(f"{name} {_version(name)}" for name, m in competitors.items() if m)
    print(f"competitors: {versions or ('none: --alone' if args.alone else 'none installed')}")
    print(f"threads: BLAS {os.environ['OPENBLAS_NUM_THREADS']} (OPENBLAS_NUM_THREADS), "
          "torch 1, jax its default")
    print(f"load average (1, 5, 15 min) at the start: {load_average()}")
    sections = {1: lambda: bench_seed(competitors),
                2: lambda: [bench_dag(n, competitors) for n in (1_000, 10_000)],
                3: lambda: bench_arrays(competitors), 4: bench_jacobians,
                5: lambda: bench_chain(competitors), 6: bench_verify_apart,
                7: lambda: [bench_mlp(size, competitors) for size in MLP_SIZES],
                8: bench_compile_scale}
    for number, section in sections.items():
        if not args.only or number in args.only:
            section()
    compiled_against_interpreted()
    print(f"\nload average (1, 5, 15 min) at the end: {load_average()}")
    print("\n== targets (section: the --only number that measures it) ==")
    for section, text, measured, met in TARGETS:
        mark = {True: "met", False: "NOT MET", None: "-"}[met]
        print(f"  {mark:<8} {section:<7} {text:<84} {measured}")
    for note in NOTES:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
