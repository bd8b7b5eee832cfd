"""Every registered op through every feature, and one op registered while the tests run.

The ops are read from the registry when the tests are collected, so an op added to the
registry is tested here on arrival; ``arcsinh`` (numpy has it, dualad does not) is registered
with ``ad.register`` inside each test and must reach every feature with no other edit. Points
come from each op's ``domain`` (elementwise ops, through :func:`strategies.sample_points`) or
its ``examples`` (structural ops). Every asserted number comes from a reference outside the
code under test: the op's sympy form evaluated at the point, or central differences of its
numpy form. An op that cannot go through a feature is in ``CANNOT``, with the reason; those
tests are skipped with that reason, and no other test is.
"""

import numpy as np
import pytest
import sympy as sp

import dualad as ad
from dualad import primitives
from dualad.primitives import BOOLEAN, REGISTRY, Primitive

from strategies import (NOT_THE_SLOPE, central_hessian, central_jacobian, interval,
                        sample_points)

#: The op registered at run time: numpy has ``np.arcsinh`` (so numpy dispatch reaches it),
#: sympy has ``asinh`` (so ``from_sympy`` maps it back); dualad does not register it itself.
RUNTIME = "arcsinh"


def runtime_primitive():
    return Primitive(name=RUNTIME, numpy=np.arcsinh, sympy=sp.asinh,
                     pds=(lambda m, x, out: 1 / m.sqrt(1 + x * x),))   # 1/sqrt(1 + x^2)


OPS = sorted(REGISTRY) + [RUNTIME]

# ---- what an op cannot go through, and why (the only skips in this file) ----

_NOTHING_TO_DIFFERENTIATE = "its inputs are truth values: there is no derivative to take"
_PARAMS_FROM_SYNTAX = ("not a public function: users reach it through syntax or a composite "
                       "(x[i], ad.stack, ad.concatenate, ad.einsum), and its function takes "
                       "no parameters; the other features apply it with prim.evaluate")
_NUMPY_SIGNATURE = ("numpy's function takes other arguments than the op's inputs (a sequence; "
                    "the subscripts first); tests/test_shape_ops.py calls it on Vars")
_PIECEWISE = "its sympy form is a Piecewise, which from_sympy does not read"
_CONSTANT_FORM = ("on finite reals its sympy form is a constant (True or False), which is "
                  "not an expression from_sympy builds a graph from")
_REDUCTION_FORM = ("its sympy form on an array is a sympy function of the elements (amax, "
                   "amin) that no elementwise op has")
_SEVERAL_NODES = ("its sympy form is several sympy nodes (log2: log(x)/log(2)), so from_sympy "
                  "builds the same value from other ops")
_ARRAY_FORM = ("an array op: to_sympy gives expressions of the elements, which from_sympy "
               "builds from scalar ops")
_SCALAR_FORMULAS = "ad.parse reads formulas of numbers: it knows the elementwise ops only"

_DERIVATIVE_FEATURES = ("grad", "batched_forward", "hessian", "compile", "compare",
                        "trace_table", "verify")

CANNOT = {
    **{(op, feature): _NOTHING_TO_DIFFERENTIATE
       for op in ("logical_and", "logical_or", "logical_not") for feature in _DERIVATIVE_FEATURES},
    **{(op, "function"): _PARAMS_FROM_SYNTAX
       for op in ("getitem", "scatter_add", "concatenate", "einsum")},
    ("concatenate", "numpy_dispatch"): _NUMPY_SIGNATURE,
    ("einsum", "numpy_dispatch"): _NUMPY_SIGNATURE,
    **{(op, feature): _PIECEWISE
       for op in ("cbrt", "where") for feature in ("sympy_round_trip", "from_sympy_gives_the_op")},
    **{(op, feature): _CONSTANT_FORM for op in ("isfinite", "isnan", "isinf")
       for feature in ("sympy_round_trip", "from_sympy_gives_the_op")},
    ("max", "sympy_round_trip"): _REDUCTION_FORM,
    ("min", "sympy_round_trip"): _REDUCTION_FORM,
    **{(op, "from_sympy_gives_the_op"): _SEVERAL_NODES
       for op in ("clip", "exp2", "expm1", "hypot", "log10", "log1p", "log2", "logaddexp",
                  "sigmoid", "trunc")},
    # the array ops, by rule: every op of the registry that is not elementwise
    **{(op, "from_sympy_gives_the_op"): _ARRAY_FORM
       for op, p in REGISTRY.items() if not p.elementwise},
    **{(op, "parse"): _SCALAR_FORMULAS for op, p in REGISTRY.items() if not p.elementwise},
}


def cannot(name, feature):
    """Skip, saying why, when ``CANNOT`` lists the op for this feature."""
    reason = CANNOT.get((name, feature))
    if reason is not None:
        pytest.skip(f"{name} / {feature}: {reason}")


def test_the_table_names_registered_ops_and_known_features():
    features = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    for op, feature in CANNOT:
        assert op in REGISTRY, op
        assert feature in features, feature


# ---- the op and its points ----

@pytest.fixture(params=OPS)
def prim(request):
    """The op under test; the run-time op is registered here, through ``ad.register``."""
    if request.param == RUNTIME:
        function = ad.register(runtime_primitive())
        assert getattr(ad, RUNTIME) is function
    return REGISTRY[request.param]


def real_inputs(prim):
    """Positions of the inputs that are numbers (not truth values)."""
    return tuple(i for i, d in enumerate(prim.domain) if d != BOOLEAN)


def points(prim, count=2, seed=0):
    """``count`` points for the op: ``(args, params)``, args as floats/bools for elementwise
    ops, arrays of an example's shapes for structural ones."""
    if prim.elementwise:
        return [(args, {}) for args in sample_points(prim, count, seed=seed)]
    shapes, params = prim.examples[0]
    rng = np.random.default_rng(seed)
    return [(tuple(rng.uniform(*interval(d, span=1.5), size=s)
                   for d, s in zip(prim.domain, shapes)), params) for _ in range(count)]


def array_point(prim, seed=0):
    """One point of arrays: elementwise ops on three sample points at once."""
    if not prim.elementwise:
        return points(prim, 1, seed)[0]
    columns = zip(*sample_points(prim, 3, seed=seed))
    return tuple(np.array(c) for c in columns), {}


def apply(prim, args, params):
    """The op on ``args``: its user function, or for ops in ``CANNOT`` for 'function' (whose
    function takes no parameters) ``prim.evaluate``."""
    if (prim.name, "function") in CANNOT:
        return prim.evaluate(*args, **params)
    return prim.function(*args, **params)


def reference_value(prim, args, params):
    """The op's sympy form (its specification) evaluated at ``args``."""
    symbolic = prim.evaluate_symbolic(*[_sympy_numbers(a) for a in args], **params)
    if isinstance(symbolic, np.ndarray):
        return np.vectorize(_number, otypes=[object])(symbolic).astype(
            bool if prim.boolean else float)
    return _number(symbolic)


def _sympy_numbers(value):
    if isinstance(value, (bool, np.bool_)):
        return sp.true if value else sp.false
    if isinstance(value, np.ndarray):
        return np.vectorize(_sympy_numbers, otypes=[object])(value) if value.ndim else \
            _sympy_numbers(value[()])
    return sp.Float(float(value), 30)


def _number(expr):
    if expr in (sp.true, sp.false) or isinstance(expr, bool):
        return bool(expr)
    return float(sp.N(expr, 30))


# ---- a scalar function of the real inputs, and its numpy twin ----

def scalar(prim, args, params, lib):
    """``f(*real inputs)``: the op at ``args`` (truth-value inputs held), made a real scalar.

    ``lib`` is ``"dualad"`` (the op's user function: the function under test) or ``"numpy"``
    (the op's numpy form: the reference for central differences). An array output is
    weighted by fixed weights and summed; a truth value becomes 1.0 or 0.0 through where.
    """
    wrt = real_inputs(prim)
    out_shape = np.shape(prim.numpy(*args, **params))
    weights = np.linspace(0.5, 1.5, int(np.prod(out_shape))).reshape(out_shape) \
        if out_shape else 1.0

    def f(*xs):
        full = list(args)
        for i, x in zip(wrt, xs):
            full[i] = x
        if lib == "numpy":
            out = prim.numpy(*full, **params)
            out = np.where(out, 1.0, 0.0) if prim.boolean else out
            return float(np.sum(out * weights))
        out = apply(prim, full, params)
        out = ad.where(out, 1.0, 0.0) if prim.boolean else out
        return ad.sum(out * weights) if out_shape else out
    return f, tuple(args[i] for i in wrt)


def reference_gradient(prim, f, xs):
    """d f / d xs[k] for each k: central differences of the numpy form ``f``, or 0 for an op
    whose derivative is by definition not its slope (``stop_gradient``)."""
    if prim.name in NOT_THE_SLOPE:
        return [np.zeros(np.shape(f(*xs)) + np.shape(x)) for x in xs]
    return central_gradient(f, xs)


def central_gradient(f, xs, h=1e-6):
    """d f / d xs[k] for each k, by central differences."""
    out = []
    for k, x in enumerate(xs):
        def along(y, k=k):
            return f(*xs[:k], y, *xs[k + 1:])
        out.append(central_jacobian(along, x, h=h))
    return out


def assert_close(got, expected, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(expected, dtype=float),
                               rtol=rtol, atol=atol)


# ---- the features ----

def test_function(prim):
    """The user function on floats or arrays, Vars, Duals and sympy values."""
    cannot(prim.name, "function")
    for args, params in (points(prim, 1)[0], array_point(prim, seed=3)):
        expected = reference_value(prim, args, params)
        assert_close(prim.function(*args, **params), expected, rtol=1e-12, atol=1e-12)
        node = prim.function(*[ad.Var(a) for a in args], **params)
        assert isinstance(node, ad.Var)
        assert_close(node.value, expected, rtol=1e-12, atol=1e-12)
        wrt = real_inputs(prim)
        rng = np.random.default_rng(1)
        tangents = {i: rng.standard_normal(np.shape(args[i])) for i in wrt}
        duals = [ad.Dual(a, tangents[i]) if i in tangents else a for i, a in enumerate(args)]
        dual = prim.function(*duals, **params)
        if prim.zero_derivative and not isinstance(dual, ad.Dual):
            assert_close(dual, expected, rtol=1e-12, atol=1e-12)   # no tangent to carry
        else:
            assert isinstance(dual, ad.Dual)
            assert_close(dual.primal, expected, rtol=1e-12, atol=1e-12)
            assert_close(dual.tangent, _directional(prim, args, params, tangents))
        symbols = [_symbols(f"x{i}", np.shape(a), d == BOOLEAN)
                   for i, (a, d) in enumerate(zip(args, prim.domain))]
        symbolic = prim.function(*symbols, **params)
        at = {}
        for s, a in zip(symbols, args):
            for sym, val in zip(np.ravel(s), np.ravel(a)):
                at[sym] = _sympy_numbers(val)
        value = np.vectorize(lambda e: _number(sp.sympify(e).subs(at)), otypes=[object])(
            np.asarray(symbolic, dtype=object))
        assert_close(value.astype(float), expected, rtol=1e-12, atol=1e-12)


def _directional(prim, args, params, tangents, h=1e-6):
    """The derivative of the numpy form along ``tangents`` (by input position), by central
    differences; 0 for an op whose derivative is by definition not its slope."""
    if prim.name in NOT_THE_SLOPE:
        return 0.0
    up = list(args)
    down = list(args)
    for i, t in tangents.items():
        up[i], down[i] = args[i] + h * t, args[i] - h * t
    return (prim.numpy(*up, **params) - prim.numpy(*down, **params)) / (2 * h)


def _put(args, wrt, ys):
    full = list(args)
    for i, y in zip(wrt, ys):
        full[i] = y
    return full


def _symbols(name, shape, boolean):
    if not shape:
        return sp.Symbol(name) if boolean else sp.Symbol(name, real=True)
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        out[index] = sp.Symbol(f"{name}_{'_'.join(map(str, index))}", real=True)
    return out


def test_numpy_dispatch(prim):
    """numpy's function of the op's name, on Vars, reaches the op (an op numpy has no
    function for, such as sigmoid, claims none)."""
    cannot(prim.name, "numpy_dispatch")
    module = getattr(np, prim.namespace) if prim.namespace else np
    numpy_function = getattr(module, prim.name, None)
    if numpy_function is None:
        assert primitives.numpy_function(prim) is None
        return
    args, params = points(prim, 1)[0]
    node = numpy_function(*[ad.Var(a) for a in args], **params)
    assert isinstance(node, ad.Var), f"np.{prim.name} on Vars gave {type(node).__name__}"
    assert node.op is prim or getattr(node.op, "name", None) == prim.name
    assert_close(node.value, reference_value(prim, args, params), rtol=1e-12, atol=1e-12)


def test_grad(prim):
    """grad in both modes against central differences of the numpy form."""
    cannot(prim.name, "grad")
    args, params = points(prim, 1)[0]
    f, xs = scalar(prim, args, params, "dualad")
    reference = reference_gradient(prim, scalar(prim, args, params, "numpy")[0], xs)
    argnums = tuple(range(len(xs)))
    for mode in ("reverse", "forward"):
        got = ad.grad(f, argnums=argnums, mode=mode)(*xs)
        for g, r in zip(got, reference):
            assert_close(g, r)


def test_batched_forward(prim):
    """jacobian in forward mode (every direction in one batched sweep)."""
    cannot(prim.name, "batched_forward")
    args, params = array_point(prim)
    wrt = real_inputs(prim)
    xs = [args[i] for i in wrt]

    def f(*ys):     # a truth value becomes 1.0 or 0.0, as in scalar()
        out = apply(prim, _put(args, wrt, ys), params)
        return ad.where(out, 1.0, 0.0) if prim.boolean else out

    def numpy_f(*ys):
        out = prim.numpy(*_put(args, wrt, ys), **params)
        return np.where(out, 1.0, 0.0) if prim.boolean else out
    jacobians = ad.jacobian(f, argnums=tuple(range(len(xs))), mode="forward")(*xs)
    for jacobian, reference in zip(jacobians, reference_gradient(prim, numpy_f, xs)):
        assert_close(jacobian, reference)


def _packed(prim, args, params, lib):
    """The scalar function of all real inputs packed into one flat vector."""
    f, xs = scalar(prim, args, params, lib)
    shapes = [np.shape(x) for x in xs]
    sizes = [int(np.prod(s)) for s in shapes]

    def g(v):
        parts, start = [], 0
        for shape, size in zip(shapes, sizes):
            part = v[start:start + size]
            parts.append(part[0] if shape == () else part.reshape(shape) if lib == "numpy"
                         else ad.reshape(part, shape))
            start += size
        return f(*parts)
    return g, np.concatenate([np.ravel(x) for x in xs])


def test_hessian(prim):
    """hessian against four-point central differences of the numpy form."""
    cannot(prim.name, "hessian")
    args, params = points(prim, 1)[0]
    g, v = _packed(prim, args, params, "dualad")
    reference = (np.zeros((v.size, v.size)) if prim.name in NOT_THE_SLOPE
                 else central_hessian(_packed(prim, args, params, "numpy")[0], v))
    assert_close(ad.hessian(g)(v), reference, rtol=1e-4, atol=1e-4)


def test_compile(prim):
    """ad.compile at a second point: value and gradient against the numpy form, the op's name
    in the source."""
    cannot(prim.name, "compile")
    (args, params), (args2, _) = points(prim, 2)
    f, xs = scalar(prim, args, params, "dualad")
    _, xs2 = scalar(prim, args2, params, "dualad")
    numpy_f = scalar(prim, args2, params, "numpy")[0]
    argnums = tuple(range(len(xs)))
    compiled = ad.compile(f, *xs, argnums=argnums)
    assert prim.name in compiled.source
    value, grads = compiled.value_and_grad(*xs2)
    assert value == pytest.approx(numpy_f(*xs2), rel=1e-12, abs=1e-12)
    assert compiled(*xs2) == pytest.approx(numpy_f(*xs2), rel=1e-12, abs=1e-12)
    for got, reference in zip(grads, reference_gradient(prim, numpy_f, xs2)):
        assert_close(got, reference)


def test_compare(prim):
    """compare: one forward sweep per input element, one reverse sweep, operation counts,
    and each mode's Jacobian against central differences."""
    cannot(prim.name, "compare")
    args, params = points(prim, 1)[0]
    f, xs = scalar(prim, args, params, "dualad")
    report = ad.compare(f, *xs, repeats=1, reference=False)
    n = sum(int(np.size(x)) for x in xs)
    assert report.forward.passes == n and report.reverse.passes == 1
    numpy_f = scalar(prim, args, params, "numpy")[0]
    reference = np.concatenate([np.ravel(r) for r in reference_gradient(prim, numpy_f, xs)])
    for mode in (report.forward, report.reverse):
        assert isinstance(mode.ops, int) and mode.ops >= 0
        assert_close(np.ravel(mode.jacobian), reference)


def test_trace_table(prim):
    """trace_table: the output's value and the inputs' adjoints."""
    cannot(prim.name, "trace_table")
    args, params = points(prim, 1)[0]
    f, xs = scalar(prim, args, params, "dualad")
    numpy_f = scalar(prim, args, params, "numpy")[0]
    table = ad.trace_table(f, *xs)
    assert max(table.values.items())[1] == pytest.approx(numpy_f(*xs), rel=1e-12, abs=1e-12)
    first = 1 - len(xs)
    for k, reference in enumerate(reference_gradient(prim, numpy_f, xs)):
        assert_close(table.adjoints.get(first + k, 0.0), reference)   # none: no adjoint flows
    assert str(table)


def test_to_dot(prim):
    """to_dot shows the op's node."""
    args, params = points(prim, 1)[0]
    text = ad.to_dot(lambda *xs: apply(prim, xs, params), *args)
    assert text.startswith("digraph") and (prim.name in text or prim.infix in text)


def test_verify(prim):
    """verify passes on the op (stop_gradient: verify must report that its derivative is not
    the slope of its value)."""
    cannot(prim.name, "verify")
    args, params = points(prim, 1)[0]
    f, xs = scalar(prim, args, params, "dualad")
    report = ad.verify(f, *xs)
    if prim.name == "stop_gradient":
        assert not report.ok
    else:
        assert report.ok, str(report)


@pytest.fixture(scope="module")
def registry_proof():
    return ad.prove_registry({**REGISTRY, RUNTIME: runtime_primitive()})


def test_prove_registry(prim, registry_proof):
    """prove_registry lists every op, and the one registered at run time."""
    assert prim.name in {rule.op for rule in registry_proof.rules}
    assert prim.name in {c.op for c in registry_proof.complex_steps}


def test_parse(prim):
    """ad.parse knows the op by its name (and aliases)."""
    cannot(prim.name, "parse")
    args, params = points(prim, 1)[0]
    names = [f"x{i}" for i in range(len(args))]
    for spelling in (prim.name, *prim.aliases):
        graph = ad.parse(f"{spelling}({', '.join(names)})")
        assert graph(*args) == pytest.approx(reference_value(prim, args, params),
                                             rel=1e-12, abs=1e-12)


def test_sympy_round_trip(prim):
    """from_sympy(to_sympy(graph)) computes the op's value (an array-valued op: each element,
    from a list of expressions in the elements of its inputs)."""
    cannot(prim.name, "sympy_round_trip")
    args, params = points(prim, 1)[0]
    graph = ad.trace(lambda *xs: apply(prim, xs, params), *args)
    expr = ad.to_sympy(graph)
    expected = reference_value(prim, args, params)
    if not any(np.shape(a) for a in args):
        assert ad.from_sympy(expr)(*args) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        return
    # arrays: one expression per output element, in one input per input element
    back = ad.from_sympy([sp.S(e) for e in np.ravel(np.asarray(expr, dtype=object))])
    values = {}
    for leaf, a in zip(graph.inputs, args):
        for index in np.ndindex(np.shape(a)):
            values[f"{leaf.name}[{', '.join(map(str, index))}]"] = float(np.asarray(a)[index])
    got = back(*[values[leaf.name] for leaf in back.inputs])
    assert_close(got, np.ravel(expected), rtol=1e-12, atol=1e-12)


def test_from_sympy_gives_the_op(prim):
    """from_sympy of the op's sympy form gives back the op itself."""
    cannot(prim.name, "from_sympy_gives_the_op")
    args, params = points(prim, 1)[0]
    graph = ad.trace(lambda *xs: apply(prim, xs, params), *args)
    back = ad.from_sympy(ad.to_sympy(graph))
    assert prim.name in {node.op.name for node in back.nodes if node.op is not None}
