"""Test data: points inside a primitive's domain, random graphs drawn from REGISTRY, and the
textbook functions of the mode trade-off."""

import functools

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from dualad.primitives import REGISTRY

from dualad.mathns import SYMPY, diff_almost_everywhere
from dualad.primitives import BOOLEAN

#: Elementwise ops with a numeric value (every one has partials to check); boolean ops
#: (comparisons, logic) have none and are tested on their own.
ELEMENTWISE = sorted(name for name, p in REGISTRY.items() if p.elementwise and not p.boolean)
BOOLEAN_OPS = sorted(name for name, p in REGISTRY.items() if p.boolean)
STRUCTURAL = sorted(name for name, p in REGISTRY.items() if not p.elementwise)

# Ops with a kink: random points keep this far from it, the kinks get their own tests.
# (A point inside a domain keeps this far from its boundary too, as from cbrt's 0: see
# sample_points.)
KINKS = {"abs": lambda x: abs(x), "maximum": lambda a, b: abs(a - b),
         "minimum": lambda a, b: abs(a - b), "hypot": lambda a, b: np.hypot(a, b),
         "clip": lambda x, lo, hi: min(abs(x - lo), abs(x - hi), abs(hi - lo))}
#: Ops whose derivative is, by definition, not the slope of their value: stop_gradient (its
#: value is its input, its derivative 0). Central differences do not check them.
NOT_THE_SLOPE = {"stop_gradient"}


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
        if any(d != BOOLEAN and _near_boundary(d, a) for d, a in zip(prim.domain, args)):
            continue
        kink = KINKS.get(prim.name)
        if kink is not None and kink(*args) < 0.05:
            continue
        if prim.zero_derivative and prim.name not in NOT_THE_SLOPE and _jumps_near(prim, args):
            continue
        points.append(args)
    return points


@functools.lru_cache(maxsize=None)
def _finite_boundary(domain):
    return tuple(float(b) for b in domain.boundary if b.is_finite)


def _near_boundary(domain, x, margin=0.05):
    """Whether ``x`` is within ``margin`` of a finite boundary point of ``domain`` (0 for
    ``NONZERO``, the domain of a divisor and of cbrt)."""
    return any(abs(x - b) < margin for b in _finite_boundary(domain))


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
    """Whether central differences apply to input ``i``: not a boolean condition, and not an
    input of an op in ``NOT_THE_SLOPE``."""
    return prim.domain[i] != BOOLEAN and prim.name not in NOT_THE_SLOPE


def central_difference(f, args, i, h=1e-6):
    """d f / d args[i] by central differences."""
    up = list(args)
    down = list(args)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


# ---- random graphs ----

# The elementwise ops of random graphs are every op smooth_ops finds (read from the registry
# when a program is drawn, so an op registered later is drawn too), each input mapped into its
# op's domain by into_domain and, where the op grows fast in it, squashed by tanh first
# (grows_fast); and the ops with a kink whose convention every referee shares.
KINKED = ["abs", "maximum", "minimum"]

STRUCTURAL_STEPS = ["sum", "mean", "dot", "matmul", "transpose", "reshape", "broadcast_to",
                    "getitem"]
MATRIX = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [-0.2, 0.3, 0.7]])


def graph_ops():
    """The ops random graphs draw from (see above)."""
    return [name for name in smooth_ops(1) + smooth_ops(2)
            if not _hard_for_sympy(REGISTRY[name])] + KINKED


@functools.lru_cache(maxsize=None)
def _hard_for_sympy(prim):
    """Whether random graphs leave ``prim`` out for sympy's sake (it is in the array programs,
    smooth_ops, and in tests/test_every_op.py): its sympy form is a ``Piecewise`` (``cbrt``),
    which from_sympy does not read back (tests/test_symbolic.py's round trip of random
    graphs), or a rule carries an exact irrational constant (``log(2)`` in ``exp2``'s), which
    makes the 30-digit sympy sweeps of verify swell along a long chain (tests/test_verify.py's
    1,000-node graph)."""
    symbols = sp.symbols(f"a0:{prim.nin}", real=True)
    spec = prim.sympy(*symbols)
    rules = [sp.sympify(pd(SYMPY, *symbols, spec)) for pd in prim.pds]
    return isinstance(spec, sp.Piecewise) or any(
        node.is_number and not node.is_Rational
        for rule in rules for node in sp.preorder_traversal(rule))


@functools.lru_cache(maxsize=None)
def grows_fast(prim, i):
    """Whether ``prim`` grows fast in input ``i`` (a real input): beyond 1000 at 20, the others
    inside their domains. ``exp``, ``cosh``, ``power`` in its exponent do; ``square`` does not.
    Random graphs give such an input tanh of its value, so long chains stay finite."""
    if prim.domain[i] != sp.S.Reals:
        return False
    args = [20.0 if j == i else into_domain(NUMPY_OPS, d, 1.0) for j, d in enumerate(prim.domain)]
    with np.errstate(all="ignore"):
        value = prim.numpy(*args)
    return not abs(value) < 1000.0


@st.composite
def random_programs(draw, max_inputs=4, max_ops=12, arrays=False):
    """A random straight-line program over the whole registry, as a list of steps.

    Each step is (op name, argument indices); indices point at inputs or earlier steps.
    Guards keep every op inside its domain: ``log`` sees ``1.5 + sin(u)``, ``divide`` divides
    by ``2 + sin(u)`` and so on, so values stay finite and away from kinks.
    """
    n_inputs = draw(st.integers(1, max_inputs))
    n_ops = draw(st.integers(1, max_ops))
    kinds = graph_ops()
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
        if op in ("maximum", "minimum"):
            # a and b may be the same node: shift one side so there is no tie
            r = getattr(lib, op)(x, lib.add(y, 0.25))
        elif op == "abs":
            r = lib.abs(x)   # a kink at 0, where every referee agrees on 0
        elif op == "hypot":
            # both sides may be 0 (x - x): shift one off the kink at (0, 0), where the partial
            # a / hypot is 0 / 0 (nan in every mode, as in torch) and the finite differences
            # of the whole program may still find a slope
            r = lib.hypot(x, lib.add(y, 0.25))
        elif op in REGISTRY and REGISTRY[op].elementwise:
            prim = REGISTRY[op]
            args = [into_domain(lib, d, v) for d, v in zip(prim.domain, (x, y))]
            args = [lib.tanh(v) if grows_fast(prim, i) else v for i, v in enumerate(args)]
            r = getattr(lib, op)(*args)
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
            raise ValueError(f"unknown step {op!r}")
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
    """The numpy counterparts of dualad's op functions, for reference evaluations (the
    registry's numpy form for an op numpy lacks, such as ``sigmoid``)."""

    def __getattr__(self, name):
        function = getattr(np, name, None)
        if function is None and name in REGISTRY:
            return REGISTRY[name].numpy
        if function is None:
            raise AttributeError(name)
        return function


NUMPY_OPS = NumpyOps()


def chained_graph(lib, n_nodes, seed=0, n_inputs=4):
    """A deterministic random graph of at least ``n_nodes`` nodes, none of them dead.

    Step k uses step k-1 as its first argument and a random earlier value as its second, so
    every step reaches the output; the guards of :func:`build_program` keep values finite.
    Returns ``(graph, point)``.
    """
    rng = np.random.default_rng(seed)
    point = [float(v) for v in rng.uniform(-1.0, 1.0, size=n_inputs)]
    kinds = graph_ops()
    steps = []
    while True:
        n_prev = n_inputs + len(steps)
        steps.append((str(rng.choice(kinds)), n_prev - 1, int(rng.integers(n_prev))))
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


def central_hessian(f, x, h=1e-4):
    """d^2 f / dx dx of a scalar function of ``x`` (an array), of shape ``x.shape + x.shape``,
    by the four-point central difference."""
    x = np.asarray(x, dtype=float)
    flat = x.ravel()
    n = flat.size
    hess = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            def at(si, sj):
                y = flat.copy()
                y[i] += si * h
                y[j] += sj * h
                return f(y.reshape(x.shape))
            hess[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h * h)
    return hess.reshape(x.shape + x.shape)


def central_jacobian(f, x, h=1e-6):
    """d f(x) / d x by central differences, of shape ``f(x).shape + x.shape`` (``x`` a float
    or an array)."""
    x = np.asarray(x, dtype=float)
    as_arg = (lambda y: float(y)) if x.ndim == 0 else (lambda y: y)
    jac = np.zeros(np.shape(f(as_arg(x))) + x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        jac[(Ellipsis,) + i] = (np.asarray(f(as_arg(up))) - f(as_arg(down))) / (2 * h)
    return jac


# ---- random array programs (tests/test_differential.py) ----

MAX_SIZE = 48        # elements in any value of an array program
SQUASH_ABOVE = 5.0   # a step whose value grows past this is followed by tanh(0.1 * value)


def smooth_ops(nin):
    """The registry's elementwise ops of ``nin`` inputs that are smooth on a domain made of
    intervals, read at call time (so an op registered later is drawn too)."""
    return sorted(name for name, p in REGISTRY.items()
                  if p.elementwise and p.nin == nin and p.analytic is not False
                  and not p.zero_derivative and all(_intervals(d) for d in p.domain))


def _intervals(domain):
    return (domain == sp.S.Reals or isinstance(domain, sp.Interval)
            or isinstance(domain, sp.Union) and all(isinstance(d, sp.Interval)
                                                     for d in domain.args))


def into_domain(lib, domain, x):
    """``x`` mapped smoothly well inside a sympy interval: the reals take ``x`` as it is,
    a half line ``lo + 1.5 + sin(x)``, a bounded interval its middle 90% through tanh; a
    union of intervals (``NONZERO``) its rightmost one."""
    if domain == sp.S.Reals:
        return x
    if isinstance(domain, sp.Union):
        domain = max(domain.args, key=lambda part: part.sup)
    lo, hi = domain.inf, domain.sup
    if hi == sp.oo:
        return lib.add(lib.sin(x), float(lo) + 1.5)
    if lo == -sp.oo:
        return lib.subtract(float(hi) - 1.5, lib.sin(x))
    middle, half = float(lo + hi) / 2, float(hi - lo) / 2
    squashed = lib.multiply(0.9 * half, lib.tanh(x))
    return squashed if middle == 0 else lib.add(squashed, middle)


def apply_step(lib, step, vals):
    """One step of an array program, on the values so far, with the op functions of ``lib``
    (``dualad`` on Vars, or numpy on arrays: the same computation both ways)."""
    kind, args = step[0], [vals[a] for a in step[2]]
    if kind == "elementwise":
        prim = REGISTRY[step[1]]
        args = [into_domain(lib, d, x) for d, x in zip(prim.domain, args)]
        if step[1] == "hypot":          # off its kink at (0, 0), as in build_program
            args[1] = lib.add(args[1], 0.25)
        r = getattr(lib, step[1])(*args)
    elif kind == "index":              # (a Python float is indexed as numpy's 0-d array)
        r = (np.asarray(args[0]) if isinstance(args[0], float) else args[0])[step[1]]
    elif kind in ("sum", "mean"):
        axis, keepdims = step[1]
        r = getattr(lib, kind)(args[0], axis=axis, keepdims=keepdims)
    elif kind == "reshape":
        r = lib.reshape(args[0], step[1])
    elif kind == "transpose":
        r = lib.transpose(args[0], step[1])
    elif kind == "matmul":
        right = args[1] if len(args) > 1 else step[1]
        r = lib.matmul(args[0], right)
    else:
        raise ValueError(f"unknown step {kind!r}")
    if step[3]:
        r = lib.tanh(lib.multiply(r, 0.1))
    return r


def run_array_program(lib, program, inputs):
    """The output of an array program (see :func:`array_programs`) at ``inputs``."""
    vals = list(inputs)
    for step in program["steps"]:
        vals.append(apply_step(lib, step, vals))
    out = vals[-1]
    if program["weights"] is not None:            # a scalar output
        return lib.sum(lib.multiply(out, program["weights"]))
    return lib.reshape(out, (-1,))                # a vector output


def _reshapes(size):
    shapes = [(size,)] + [(d, size // d) for d in range(1, size + 1) if size % d == 0]
    shapes += [(a, b, size // (a * b)) for a in range(1, size + 1) for b in range(1, size + 1)
               if size % (a * b) == 0]
    return shapes + ([()] if size == 1 else [])


@st.composite
def _step(draw, vals):
    """One random step on numpy values ``vals``, or None when it would make too big a value."""
    n = len(vals)
    a = draw(st.integers(0, n - 1))
    x = vals[a]
    shape = np.shape(x)
    kind = draw(st.sampled_from(["elementwise"] * 4 + ["binary"] * 3 + ["index"] * 4
                                + ["sum", "mean", "reshape", "transpose", "matmul"]))
    if kind == "elementwise":
        return ("elementwise", draw(st.sampled_from(smooth_ops(1))), (a,))
    if kind == "binary":
        partners = [b for b in range(n)
                    if _fits(lambda: np.broadcast_shapes(shape, np.shape(vals[b])))]
        return ("elementwise", draw(st.sampled_from(smooth_ops(2))),
                (a, draw(st.sampled_from(partners))))
    if kind == "index":
        if not shape:
            key = draw(st.sampled_from([None, Ellipsis, (None, None), (), (Ellipsis, None)]))
        else:
            key = draw(index_keys(shape))
        return ("index", key, (a,))
    if kind in ("sum", "mean"):
        axes = range(-len(shape), len(shape))
        axis = draw(st.none() | st.sampled_from(list(axes) or [None])
                    | st.lists(st.sampled_from(list(range(len(shape))) or [0]), unique=True,
                               max_size=len(shape)).map(tuple))
        if not shape:
            axis = None
        return (kind, (axis, draw(st.booleans())), (a,))
    if kind == "reshape":
        return ("reshape", draw(st.sampled_from(_reshapes(int(np.size(x))))), (a,))
    if kind == "transpose":
        axes = draw(st.none() | st.permutations(range(len(shape))).map(tuple))
        return ("transpose", axes, (a,))
    if not shape:
        return None
    partners = [b for b in range(n) if np.ndim(vals[b]) and _fits(lambda: np.matmul(x, vals[b]))]
    if partners and draw(st.booleans()):
        return ("matmul", None, (a, draw(st.sampled_from(partners))))
    columns = draw(st.sampled_from([(), (1,), (2,), (3,)]))
    seed = draw(st.integers(0, 2**32 - 1))
    matrix = np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape[-1:] + columns)
    return ("matmul", matrix, (a,))


def _fits(attempt):
    try:
        attempt()
    except ValueError:
        return False
    return True


@st.composite
def array_programs(draw, max_inputs=3, min_steps=2, max_steps=10):
    """A random program on arrays, evaluated by numpy while it is drawn.

    A few inputs of random small shapes (floats for shape ``()``), then steps: a smooth
    elementwise op of the registry (its inputs mapped into its domain), a broadcasting binary
    op, an indexing of any kind (:func:`index_keys`), ``sum``/``mean`` with ``axis`` and
    ``keepdims``, ``reshape``, ``transpose``, ``matmul`` (with another value or a constant).
    A step whose value would be empty or hold more than ``MAX_SIZE`` elements is drawn again;
    one whose value grows past ``SQUASH_ABOVE`` is squashed by ``tanh(0.1 * value)``, so
    every value stays finite and central differences stay accurate.

    Returns a dict: ``inputs`` (the point), ``steps`` (``(kind, parameter, argument
    positions, squash)``), ``weights`` (for a scalar output ``sum(weights * last)``, or None
    for the last value flattened). Run it with :func:`run_array_program`.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    inputs = []
    for shape in draw(st.lists(value_shapes(0, 3, 3), min_size=1, max_size=max_inputs)):
        value = rng.uniform(-1.5, 1.5, size=shape)
        inputs.append(float(value) if shape == () else value)
    vals = list(inputs)
    steps = []
    for _ in range(draw(st.integers(min_steps, max_steps))):
        for _attempt in range(5):
            step = draw(_step(vals))
            if step is None:
                continue
            with np.errstate(all="raise"):
                value = np.asarray(apply_step(NUMPY_OPS, step + (False,), vals))
            if 0 < value.size <= MAX_SIZE:
                break
        else:
            continue
        squash = bool(np.max(np.abs(value)) > SQUASH_ABOVE)
        steps.append(step + (squash,))
        vals.append(apply_step(NUMPY_OPS, steps[-1], vals))
    last_shape = np.shape(vals[-1])
    weights = None
    if draw(st.booleans()):
        weights = rng.uniform(-1.0, 1.0, size=last_shape)
    return {"inputs": inputs, "steps": steps, "weights": weights}
