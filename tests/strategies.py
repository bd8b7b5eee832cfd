"""Test data: points inside a primitive's domain, random graphs drawn from REGISTRY, and the
textbook functions of the mode trade-off."""

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from dualad.primitives import REGISTRY

ELEMENTWISE = sorted(name for name, p in REGISTRY.items() if p.elementwise)
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
    """``count`` argument tuples inside ``prim.domain``, away from kinks."""
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < count:
        args = tuple(float(rng.uniform(*interval(d))) for d in prim.domain)
        kink = KINKS.get(prim.name)
        if kink is not None and kink(*args) < 0.05:
            continue
        points.append(args)
    return points


def symbols_for(prim):
    """One sympy symbol per input, with assumptions matching the domain."""
    names = "abcd"[:prim.nin] if prim.nin > 1 else "x"
    out = []
    for name, domain in zip(names, prim.domain):
        if domain.is_subset(sp.Interval.open(0, sp.oo)):
            out.append(sp.Symbol(name, positive=True))
        else:
            out.append(sp.Symbol(name, real=True))
    return out


def central_difference(f, args, i, h=1e-6):
    """d f / d args[i] by central differences."""
    up = list(args)
    down = list(args)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


# ---- random graphs ----

# Unary ops whose domain is all reals, and ops that need their argument squashed into a domain.
SAFE_UNARY = [n for n in ELEMENTWISE if REGISTRY[n].nin == 1
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


# ---- indexing ----

def value_shapes(min_dims=1, max_dims=3, max_side=4):
    """Small array shapes, 1- to 3-d by default."""
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def index_keys(draw, shape):
    """A random valid index for a value of ``shape``, as a user writes it: ints (negative
    too), slices with steps (negative too), ``None``, at most one ``...``, integer lists and
    arrays (with repeats) and boolean arrays (of several dims), adjacent or separated.

    Every integer array broadcasts to one drawn shape ``block``; a boolean array holds
    ``block[-1]`` or 1 true entries, so all the advanced entries broadcast together.
    """
    block = draw(value_shapes(1, 2, 3))
    key, axis, has_ellipsis = [], 0, False
    while axis < len(shape):
        if draw(st.integers(0, 5)) == 0:
            key.append(None)
        if not has_ellipsis and draw(st.integers(0, 5)) == 0:
            key.append(Ellipsis)
            has_ellipsis = True
            axis += draw(st.integers(0, len(shape) - axis))   # the axes it stands for
            continue
        if not has_ellipsis and draw(st.integers(0, 7)) == 0:
            break                                             # the rest implicitly ':'
        n = shape[axis]
        kind = draw(st.sampled_from(["int", "slice", "array", "array", "list", "bool"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bound = st.none() | st.integers(-n - 1, n + 1)
            key.append(slice(draw(bound), draw(bound),
                             draw(st.sampled_from([None, 1, 2, 3, -1, -2]))))
        elif kind in ("array", "list"):
            shape_ = tuple(draw(st.sampled_from([1, side])) for side in block)
            shape_ = shape_[draw(st.integers(0, len(shape_) - 1)):]    # fewer leading axes
            picks = draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(shape_)),
                                  max_size=int(np.prod(shape_))))
            array = np.array(picks, dtype=int).reshape(shape_)
            key.append(array.tolist() if kind == "list" else array)
        else:
            dims = draw(st.integers(1, len(shape) - axis))
            mask_shape = shape[axis:axis + dims]
            size = int(np.prod(mask_shape))
            true = draw(st.sampled_from(sorted({1, block[-1]} & set(range(1, size + 1)))))
            chosen = draw(st.permutations(range(size)))[:true]
            mask = np.zeros(size, dtype=bool)
            mask[list(chosen)] = True
            key.append(mask.reshape(mask_shape))
            axis += dims
            continue
        axis += 1
    if draw(st.integers(0, 5)) == 0:
        key.append(None)
    return tuple(key) if len(key) != 1 or draw(st.booleans()) else key[0]


@st.composite
def indexed_values(draw):
    """A shape and a valid index into it."""
    shape = draw(value_shapes())
    return shape, draw(index_keys(shape))
