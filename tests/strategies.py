"""Test data: points inside a primitive's domain, random graphs drawn from REGISTRY, and the
textbook functions of the mode trade-off."""

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from dualad.primitives import REGISTRY

from dualad.mathns import diff_almost_everywhere
from dualad.primitives import BOOLEAN

#: Elementwise ops with a numeric value (every one has partials to check); boolean ops
#: (comparisons, logic) have none and are tested on their own.
ELEMENTWISE = sorted(name for name, p in REGISTRY.items() if p.elementwise and not p.boolean)
BOOLEAN_OPS = sorted(name for name, p in REGISTRY.items() if p.boolean)
STRUCTURAL = sorted(name for name, p in REGISTRY.items() if not p.elementwise)

# Ops with a kink: random points keep this far from it, the kinks get their own tests.
KINKS = {"abs": lambda x: abs(x), "maximum": lambda a, b: abs(a - b),
         "minimum": lambda a, b: abs(a - b)}


def interval(domain, margin=0.1, span=3.0):
    """A closed float interval well inside a sympy domain set (and not too wide)."""
    lo = -span if domain.inf == -sp.oo else float(domain.inf) + margin
    hi = span if domain.sup == sp.oo else float(domain.sup) - margin
    if domain.sup == sp.oo and lo > 0:
        hi = lo + span
    return lo, hi


def sample_points(prim, count, seed=0):
    """``count`` argument tuples inside ``prim.domain``, away from kinks and jumps.

    A boolean input (``where``'s condition) is drawn True or False; an op that is constant
    almost everywhere (``floor``) is sampled only where it is constant nearby.
    """
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < count:
        args = tuple(bool(rng.integers(2)) if d == BOOLEAN else float(rng.uniform(*interval(d)))
                     for d in prim.domain)
        kink = KINKS.get(prim.name)
        if kink is not None and kink(*args) < 0.05:
            continue
        if prim.zero_derivative and _jumps_near(prim, args):
            continue
        points.append(args)
    return points


def _jumps_near(prim, args, h=1e-3):
    for i, a in enumerate(args):
        if isinstance(a, bool):
            continue
        moved = [list(args), list(args)]
        moved[0][i], moved[1][i] = a - h, a + h
        if prim.numpy(*moved[0]) != prim.numpy(*moved[1]):
            return True
    return False


def symbols_for(prim):
    """One sympy symbol per input, with assumptions matching the domain (a boolean input is a
    plain symbol, usable as a condition)."""
    names = "abcd"[:prim.nin] if prim.nin > 1 else "x"
    if prim.nin == 3:
        names = "cab"
    out = []
    for name, domain in zip(names, prim.domain):
        if domain == BOOLEAN:
            out.append(sp.Symbol(name))
        elif domain.is_subset(sp.Interval.open(0, sp.oo)):
            out.append(sp.Symbol(name, positive=True))
        else:
            out.append(sp.Symbol(name, real=True))
    return out


def exact_partial(prim, i, symbols):
    """sympy's partial of ``prim``'s spec by input ``i`` (where the derivative exists)."""
    return diff_almost_everywhere(prim.sympy(*symbols), symbols[i])


def central_difference_input(prim, i):
    """Whether central differences apply to input ``i`` (not a boolean condition)."""
    return prim.domain[i] != BOOLEAN


def central_difference(f, args, i, h=1e-6):
    """d f / d args[i] by central differences."""
    up = list(args)
    down = list(args)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


# ---- random graphs ----

# Unary ops whose domain is all reals, and ops that need their argument squashed into a domain.
SAFE_UNARY = [n for n in ELEMENTWISE if REGISTRY[n].nin == 1 and not REGISTRY[n].zero_derivative
              and all(d == sp.S.Reals for d in REGISTRY[n].domain)
              and n not in ("exp", "expm1", "sinh", "cosh", "abs")]
GROWING_UNARY = ["exp", "expm1", "sinh", "cosh"]   # fed through tanh first to stay finite
POSITIVE_UNARY = ["sqrt", "log"]                   # fed through 1.5 + sin(.)
UNIT_UNARY = ["arcsin", "arccos"]                  # fed through 0.9 * tanh(.)
BINARY = ["add", "subtract", "multiply"]
KINDS = (SAFE_UNARY + GROWING_UNARY + POSITIVE_UNARY + UNIT_UNARY + ["abs", "tan"] + BINARY
         + ["divide", "power", "maximum", "minimum", "log1p"])


STRUCTURAL_STEPS = ["sum", "mean", "dot", "matmul", "transpose", "reshape", "broadcast_to",
                    "getitem"]
MATRIX = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.7]])


@st.composite
def random_programs(draw, max_inputs=4, max_ops=12, arrays=False):
    """A random straight-line program over the whole registry, as a list of steps.

    Each step is (op name, argument indices); indices point at inputs or earlier steps.
    Guards keep every op inside its domain: ``log`` sees ``1.5 + sin(u)``, ``divide`` divides
    by ``2 + sin(u)`` and so on, so values stay finite and away from kinks.
    """
    n_inputs = draw(st.integers(1, max_inputs))
    n_ops = draw(st.integers(1, max_ops))
    kinds = list(KINDS)
    if arrays:   # values are vectors of length 3: structural ops join in
        kinds = kinds + STRUCTURAL_STEPS * 3
    steps = []
    for k in range(n_ops):
        op = draw(st.sampled_from(kinds))
        n_prev = n_inputs + k
        a = draw(st.integers(0, n_prev - 1))
        b = draw(st.integers(0, n_prev - 1))
        steps.append((op, a, b))
    return n_inputs, steps


def build_program(lib, n_inputs, steps, inputs):
    """Run a random program with the op functions in ``lib`` (``dualad`` or numpy-like).

    Used twice: with dualad ops on Vars (the graph under test) and with plain numpy on floats
    (the reference function for finite differences), so both see the same guards.
    """
    vals = list(inputs)
    for op, a, b in steps:
        x, y = vals[a], vals[b]
        if op in GROWING_UNARY:
            r = getattr(lib, op)(lib.tanh(x))
        elif op in POSITIVE_UNARY:
            r = getattr(lib, op)(1.5 + lib.sin(x))
        elif op in UNIT_UNARY:
            r = getattr(lib, op)(0.9 * lib.tanh(x))
        elif op == "tan":
            r = lib.tan(lib.tanh(x))
        elif op == "abs":
            r = lib.abs(x)   # a kink at 0, where every referee agrees on 0
        elif op == "log1p":
            r = lib.log1p(lib.square(x))
        elif op == "divide":
            r = lib.divide(x, 2.0 + lib.sin(y))
        elif op == "power":
            r = lib.power(1.5 + lib.sin(x), lib.tanh(y))
        elif op in ("maximum", "minimum"):
            # a and b may be the same node: shift one side so there is no tie
            r = getattr(lib, op)(x, lib.add(y, 0.25))
        elif op in BINARY:
            r = getattr(lib, op)(x, y)
        elif op == "sum":
            r = lib.multiply(lib.sum(x), y)
        elif op == "mean":
            r = lib.add(lib.mean(lib.reshape(x, (3, 1)) * y, axis=0), y)
        elif op == "dot":
            r = lib.multiply(lib.dot(x, y), x)
        elif op == "matmul":
            r = lib.matmul(MATRIX, lib.tanh(x))
        elif op == "transpose":
            r = lib.matmul(lib.transpose(lib.multiply(lib.reshape(x, (3, 1)), y)), lib.sin(x))
        elif op == "reshape":
            r = lib.reshape(lib.reshape(x, (1, 3)) * 2.0, (3,))
        elif op == "getitem":   # indexing, and stack (built from scatter_add)
            r = lib.stack([x[2] * y[0], x[0], lib.sin(x[1:2])[0]])
        elif op == "broadcast_to":
            r = lib.sum(lib.broadcast_to(x, (2, 3)), axis=0)
        else:
            r = getattr(lib, op)(x)
        vals.append(r)
    # every input contributes (an unused input would have a zero gradient, also fine)
    out = vals[-1]
    for v in vals[:n_inputs]:
        out = lib.add(out, lib.multiply(0.1, v))
    return out


def random_point(n_inputs, seed):
    rng = np.random.default_rng(seed)
    return [float(v) for v in rng.uniform(-1.5, 1.5, size=n_inputs)]


class NumpyOps:
    """The numpy counterparts of dualad's op functions, for reference evaluations."""

    def __getattr__(self, name):
        return getattr(np, {"abs": "absolute"}.get(name, name))


NUMPY_OPS = NumpyOps()


def chained_graph(lib, n_nodes, seed=0, n_inputs=4):
    """A deterministic random graph of at least ``n_nodes`` nodes, none of them dead.

    Step k uses step k-1 as its first argument and a random earlier value as its second, so
    every step reaches the output; the guards of :func:`build_program` keep values finite.
    Returns ``(graph, point)``.
    """
    rng = np.random.default_rng(seed)
    point = [float(v) for v in rng.uniform(-1.0, 1.0, size=n_inputs)]
    steps = []
    while True:
        n_prev = n_inputs + len(steps)
        steps.append((str(rng.choice(KINDS)), n_prev - 1, int(rng.integers(n_prev))))
        if len(steps) % 5 == 0:
            graph = lib.trace(lambda *xs: build_program(lib, n_inputs, steps, xs), *point)
            if len(graph) >= n_nodes:
                return graph, point


# ---- textbook functions ----

def speelpenning(*x):
    """Speelpenning's product x0 x1 ... x_{n-1}: n inputs, one output (reverse mode's case)."""
    y = x[0]
    for xi in x[1:]:
        y = y * xi
    return y
