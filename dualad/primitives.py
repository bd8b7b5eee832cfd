"""The primitive registry: every operation dualad differentiates, each declared once.

This module owns the :class:`Primitive` record and ``REGISTRY``; nothing else. Evaluators,
the ``Var`` operators, ``Dual`` numbers and the sympy bridge all read these records, and no
derivative formula exists anywhere else in dualad.

The record (add an op by adding one ``register(Primitive(...))`` block below)
------------------------------------------------------------------------------
name
    numpy's name for the op (``"multiply"``, not ``"mul"``); the user function has this name.
numpy
    The numeric implementation, called as ``numpy(*values, **params)``.
math
    Optional fast path for Python floats (``math.sin``, ``operator.mul``). Where it raises
    (``math.log(-1.0)``), dualad falls back to ``numpy`` and its ``nan``/``inf``.
sympy
    The *specification*: the same op on sympy expressions. ``sympy.diff`` of this form is the
    referee every rule is proved against (``tests/test_registry.py``).
pds
    Elementwise ops only: one local partial per input, ``pd(m, *inputs, out)`` ->
    d(out)/d(input_i), written against the math namespace ``m`` (:mod:`dualad.mathns`) so the
    one line runs on floats, arrays, Duals and sympy symbols. ``out`` lets ``exp``, ``sqrt`` and
    ``tanh`` reuse the value already computed. Evaluators broadcast and un-broadcast around it.
jvp, vjp
    Structural ops only (``sum``, ``mean``, ``dot``, ``matmul``, ``transpose``), where a local
    partial would be a whole Jacobian. ``jvp(m, tangents, inputs, out, batch, **params)`` returns
    the output tangent (``tangents`` holds ``None`` for inputs without one);
    ``vjp(m, out_bar, inputs, out, batch, needs=None, **params)`` returns one adjoint per
    input, in that input's shape; ``needs[j]`` False means input j's adjoint is not wanted
    (it may then be ``None``, and costs nothing). ``batch`` is 0, or 1 when tangents/adjoints carry a leading axis of several
    directions at once (vectorised modes).
domain
    One sympy set per input where the op is smooth (``Interval.open(0, oo)`` for ``log``).
    Tests draw points from it; verification makes symbols with matching assumptions.
infix
    The operator symbol, for printing traces (``"+"`` for ``add``); ``None`` for functions.
analytic
    Whether ``verify``'s oracle may differentiate the op by the complex step. ``None`` (the
    default): found out once, by a probe of the numpy form (it must accept complex input, and
    the complex step must agree with central differences in the op's domain). ``False`` for
    ops that are not complex-analytic (``abs``, ``maximum``, ``minimum``): a graph using one is
    checked by central differences. ``True`` skips the probe; ``prove_registry`` checks it.
examples
    Structural ops only: ``(shapes, params)`` pairs on which the registry proof exercises
    the ``jvp`` and ``vjp`` rules (arrays of sympy symbols of those shapes).

Examples
--------
>>> from dualad.primitives import REGISTRY
>>> from dualad.mathns import MATH
>>> prim = REGISTRY["divide"]
>>> [pd(MATH, 6.0, 3.0, 2.0) for pd in prim.pds]      # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
[0.3333333333333333, -0.6666666666666666]
"""

import math
import operator
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .errors import ShapeMismatchError
from .mathns import MATH, SYMPY, as_float, namespace_for
from .shapes import batched_index, broadcast_shapes, shape_of, unbroadcast

REALS = sp.S.Reals
POSITIVE = sp.Interval.open(0, sp.oo)
UNIT = sp.Interval.open(-1, 1)


@dataclass(frozen=True, eq=False)
class Primitive:
    """One differentiable operation: implementations, specification and derivative rule.

    See the module docstring for what each field means.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> REGISTRY["sin"].nin, REGISTRY["sin"].elementwise
    (1, True)
    """

    name: str
    numpy: object
    sympy: object = None
    pds: tuple = None
    jvp: object = None
    vjp: object = None
    math: object = None
    domain: tuple = None
    infix: str = None
    nin: int = None
    examples: tuple = ()
    analytic: bool = None

    def __post_init__(self):
        if self.pds is None and (self.jvp is None or self.vjp is None):
            raise ValueError(f"primitive {self.name!r} needs pds, or both jvp and vjp")
        if self.nin is None:
            if self.pds is None:
                raise ValueError(f"structural primitive {self.name!r} must give nin")
            object.__setattr__(self, "nin", len(self.pds))
        if self.domain is None:
            object.__setattr__(self, "domain", (REALS,) * self.nin)

    @property
    def elementwise(self):
        """True when the op declares local partials (and so broadcasts like numpy)."""
        return self.pds is not None

    def evaluate(self, *args, **params):
        """The op's value on floats, arrays, Duals or sympy values.

        Floats take the ``math`` fast path; sympy values take the ``sympy`` form (elementwise
        over object arrays); everything else goes to numpy, after a broadcasting check whose
        error names this op and the shapes.

        Examples
        --------
        >>> import sympy as sp
        >>> from dualad.primitives import REGISTRY
        >>> REGISTRY["multiply"].evaluate(2.0, 3.0)
        6.0
        >>> REGISTRY["multiply"].evaluate(sp.Symbol("x"), 3)
        3*x
        """
        m = namespace_for(*args)
        if m is MATH and self.math is not None:
            try:
                return self.math(*args)
            except (ArithmeticError, ValueError):
                pass  # a domain edge: numpy returns nan/inf (and warns), as arrays would
        if m is SYMPY:
            return self.evaluate_symbolic(*args, **params)
        for a in args:
            apply = OVERLOADED_TYPES.get(type(a))
            if apply is not None:   # e.g. a Dual: forward mode by overloading
                return apply(self, args, params)
        if self.elementwise and len(args) > 1:
            broadcast_shapes(self.name, *(shape_of(a) for a in args))
        try:
            return as_float(self.numpy(*args, **params))
        except IndexError as err:
            raise ShapeMismatchError(f"{self.name}: {err} (value of shape "
                                     f"{shape_of(args[0])})") from None
        except ValueError as err:
            shapes = " and ".join(str(shape_of(a)) for a in args)
            raise ShapeMismatchError(f"{self.name}: operands with shapes {shapes} "
                                     f"do not fit ({err})") from None

    def evaluate_symbolic(self, *args, **params):
        """The sympy form applied to sympy values (elementwise over object arrays)."""
        if self.sympy is None:
            raise NotImplementedError(f"{self.name}: no sympy form")
        if self.elementwise and any(isinstance(a, np.ndarray) for a in args):
            return np.vectorize(self.sympy, otypes=[object])(*args)
        return self.sympy(*args, **params)


REGISTRY = {}

#: Value types that apply primitives themselves (``Dual`` registers ``dual_apply`` here), so
#: evaluating any op on them, a seed-style user op included, goes through their rule.
OVERLOADED_TYPES = {}


def register(prim):
    """Add a primitive to ``REGISTRY`` (each name once) and return it.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> "add" in REGISTRY
    True
    """
    if prim.name in REGISTRY:
        raise ValueError(f"primitive {prim.name!r} is already registered")
    REGISTRY[prim.name] = prim
    return prim


def _maximum(a, b):
    # nan wins, as in np.maximum
    return a if a >= b or a != a else b


def _minimum(a, b):
    return a if a <= b or a != a else b


# ---- elementwise, binary ----

register(Primitive(
    name="add", numpy=np.add, math=operator.add, sympy=operator.add, infix="+",
    pds=(lambda m, a, b, out: 1,                     # d(a+b)/da = 1
         lambda m, a, b, out: 1),                    # d(a+b)/db = 1
))
register(Primitive(
    name="subtract", numpy=np.subtract, math=operator.sub, sympy=operator.sub, infix="-",
    pds=(lambda m, a, b, out: 1,                     # d(a-b)/da = 1
         lambda m, a, b, out: -1),                   # d(a-b)/db = -1
))
register(Primitive(
    name="multiply", numpy=np.multiply, math=operator.mul, sympy=operator.mul, infix="*",
    pds=(lambda m, a, b, out: b,                     # d(a*b)/da = b
         lambda m, a, b, out: a),                    # d(a*b)/db = a
))
register(Primitive(
    name="divide", numpy=np.divide, math=operator.truediv, sympy=operator.truediv, infix="/",
    pds=(lambda m, a, b, out: 1 / b,                 # d(a/b)/da = 1/b
         lambda m, a, b, out: -a / (b * b)),         # d(a/b)/db = -a/b^2
))
register(Primitive(
    name="power", numpy=np.power, math=math.pow, sympy=lambda a, b: a**b, infix="**",
    # d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log(a), real only for a > 0 (nan below, as in
    # JAX), and evaluated only when the exponent is itself differentiated.
    pds=(lambda m, a, b, out: b * m.power(a, b - 1),
         lambda m, a, b, out: out * m.log(a)),
    domain=(POSITIVE, REALS),
))
register(Primitive(
    name="maximum", numpy=np.maximum, math=_maximum, sympy=sp.Max,
    analytic=False,
    # d max(a,b)/da = H(a-b); at a tie each side gets 1/2, as sympy's Heaviside(0) = 1/2
    # (tests/test_registry.py::test_maximum_and_minimum_split_ties).
    pds=(lambda m, a, b, out: m.heaviside(a - b, 0.5),
         lambda m, a, b, out: m.heaviside(b - a, 0.5)),
))
register(Primitive(
    name="minimum", numpy=np.minimum, math=_minimum, sympy=sp.Min,
    analytic=False,
    pds=(lambda m, a, b, out: m.heaviside(b - a, 0.5),  # d min(a,b)/da = H(b-a)
         lambda m, a, b, out: m.heaviside(a - b, 0.5)),
))

# ---- elementwise, unary ----

register(Primitive(
    name="negative", numpy=np.negative, math=operator.neg, sympy=operator.neg, infix="-",
    pds=(lambda m, x, out: -1,),                     # d(-x)/dx = -1
))
register(Primitive(
    name="square", numpy=np.square, math=lambda x: x * x, sympy=lambda x: x**2,
    pds=(lambda m, x, out: 2 * x,),                  # d/dx x^2 = 2x
))
register(Primitive(
    name="sqrt", numpy=np.sqrt, math=math.sqrt, sympy=sp.sqrt,
    pds=(lambda m, x, out: 1 / (2 * out),),          # d/dx sqrt x = 1/(2 sqrt x)
    domain=(POSITIVE,),
))
register(Primitive(
    name="exp", numpy=np.exp, math=math.exp, sympy=sp.exp,
    pds=(lambda m, x, out: out,),                    # d/dx e^x = e^x, already computed
))
register(Primitive(
    name="expm1", numpy=np.expm1, math=math.expm1, sympy=lambda x: sp.exp(x) - 1,
    pds=(lambda m, x, out: out + 1,),                # d/dx (e^x - 1) = e^x
))
register(Primitive(
    name="log", numpy=np.log, math=math.log, sympy=sp.log,
    pds=(lambda m, x, out: 1 / x,),                  # d/dx log x = 1/x
    domain=(POSITIVE,),
))
register(Primitive(
    name="log1p", numpy=np.log1p, math=math.log1p, sympy=lambda x: sp.log(1 + x),
    pds=(lambda m, x, out: 1 / (1 + x),),            # d/dx log(1+x) = 1/(1+x)
    domain=(sp.Interval.open(-1, sp.oo),),
))
register(Primitive(
    name="sin", numpy=np.sin, math=math.sin, sympy=sp.sin,
    pds=(lambda m, x, out: m.cos(x),),               # d/dx sin x = cos x
))
register(Primitive(
    name="cos", numpy=np.cos, math=math.cos, sympy=sp.cos,
    pds=(lambda m, x, out: -m.sin(x),),              # d/dx cos x = -sin x
))
register(Primitive(
    name="tan", numpy=np.tan, math=math.tan, sympy=sp.tan,
    pds=(lambda m, x, out: 1 + out * out,),          # d/dx tan x = 1 + tan(x)**2
    domain=(sp.Interval.open(-sp.pi / 2, sp.pi / 2),),
))
register(Primitive(
    name="arcsin", numpy=np.arcsin, math=math.asin, sympy=sp.asin,
    pds=(lambda m, x, out: 1 / m.sqrt(1 - x * x),),  # d/dx asin x = 1/sqrt(1-x^2)
    domain=(UNIT,),
))
register(Primitive(
    name="arccos", numpy=np.arccos, math=math.acos, sympy=sp.acos,
    pds=(lambda m, x, out: -1 / m.sqrt(1 - x * x),),  # d/dx acos x = -1/sqrt(1-x^2)
    domain=(UNIT,),
))
register(Primitive(
    name="arctan", numpy=np.arctan, math=math.atan, sympy=sp.atan,
    pds=(lambda m, x, out: 1 / (1 + x * x),),        # d/dx atan x = 1/(1+x^2)
))
register(Primitive(
    name="sinh", numpy=np.sinh, math=math.sinh, sympy=sp.sinh,
    pds=(lambda m, x, out: m.cosh(x),),              # d/dx sinh x = cosh x
))
register(Primitive(
    name="cosh", numpy=np.cosh, math=math.cosh, sympy=sp.cosh,
    pds=(lambda m, x, out: m.sinh(x),),              # d/dx cosh x = sinh x
))
register(Primitive(
    name="tanh", numpy=np.tanh, math=math.tanh, sympy=sp.tanh,
    pds=(lambda m, x, out: 1 - out * out,),          # d/dx tanh x = 1 - tanh(x)**2
))
register(Primitive(
    name="abs", numpy=np.absolute, math=abs, sympy=sp.Abs,
    analytic=False,
    # d|x|/dx = sign(x); 0 at 0, as sympy's sign(0)
    # (tests/test_registry.py::test_abs_has_derivative_zero_at_zero).
    pds=(lambda m, x, out: m.sign(x),),
))


# ---- structural ----
# The helpers below are the derivative rules of the structural ops, so they live here too.
# They use only m.sum, m.reshape, m.broadcast_to, m.transpose and m.matmul: ops that are
# themselves primitives, so the same rules run on Vars (nested derivatives) and Duals.

def _axes(axis, ndim):
    """``axis`` (None, an int or a tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim if ndim else int(a) for a in axis))


def _shifted(axis, ndim, batch):
    """``axis`` of a value, as the axes of its tangent with ``batch`` leading axes."""
    if not batch:
        return axis
    return tuple(a + batch for a in _axes(axis, ndim))


def _size(shape):
    return math.prod(shape)


def _sum_jvp(m, tangents, inputs, out, batch, axis=None, keepdims=False):
    # sum is linear: d(sum x) = sum(dx)
    return m.sum(tangents[0], axis=_shifted(axis, len(shape_of(inputs[0])), batch),
                 keepdims=keepdims)


def _sum_vjp(m, g, inputs, out, batch, axis=None, keepdims=False, needs=None):
    # each x_i contributed once to its sum: x_bar = out_bar broadcast back over summed axes
    shape = shape_of(inputs[0])
    g_shape = shape_of(g)
    if g_shape[batch:] == shape:
        return (g,)
    if not keepdims:
        expanded = list(g_shape)
        for a in _axes(axis, len(shape)):
            expanded.insert(batch + a, 1)
        g = m.reshape(g, tuple(expanded))
    return (m.broadcast_to(g, g_shape[:batch] + shape),)


def _mean_count(inputs, out):
    return max(_size(shape_of(inputs[0])), 1) // max(_size(shape_of(out)), 1)


def _mean_jvp(m, tangents, inputs, out, batch, axis=None, keepdims=False):
    # mean = sum / count, linear
    return _sum_jvp(m, tangents, inputs, out, batch, axis, keepdims) / _mean_count(inputs, out)


def _mean_vjp(m, g, inputs, out, batch, axis=None, keepdims=False, needs=None):
    (x_bar,) = _sum_vjp(m, g, inputs, out, batch, axis, keepdims)
    return (x_bar / _mean_count(inputs, out),)


def _transpose_perm(axes, ndim, batch):
    perm = tuple(reversed(range(ndim))) if axes is None else tuple(a % ndim for a in axes)
    return tuple(range(batch)) + tuple(a + batch for a in perm)


def _transpose_jvp(m, tangents, inputs, out, batch, axes=None):
    # transpose is linear: d(x^T) = (dx)^T
    ndim = len(shape_of(inputs[0]))
    return m.transpose(tangents[0], _transpose_perm(axes, ndim, batch))


def _transpose_vjp(m, g, inputs, out, batch, axes=None, needs=None):
    # x_bar = out_bar with the permutation undone
    ndim = len(shape_of(inputs[0]))
    perm = _transpose_perm(axes, ndim, batch)
    return (m.transpose(g, tuple(int(i) for i in np.argsort(perm))),)


def _reshape_jvp(m, tangents, inputs, out, batch, shape=None):
    # reshape is linear: d(reshape x) = reshape(dx)
    t = tangents[0]
    return m.reshape(t, shape_of(t)[:batch] + shape_of(out))


def _reshape_vjp(m, g, inputs, out, batch, shape=None, needs=None):
    return (m.reshape(g, shape_of(g)[:batch] + shape_of(inputs[0])),)


def _broadcast_to_jvp(m, tangents, inputs, out, batch, shape=None):
    # linear: the tangent is broadcast the same way (after the batch axis)
    t = tangents[0]
    t_shape = shape_of(t)
    core = t_shape[batch:]
    lifted = t_shape[:batch] + (1,) * (len(shape_of(out)) - len(core)) + core
    if lifted != t_shape:
        t = m.reshape(t, lifted)
    return m.broadcast_to(t, t_shape[:batch] + shape_of(out))


def _broadcast_to_vjp(m, g, inputs, out, batch, shape=None, needs=None):
    # each x_i was copied to several places: x_bar sums the copies' adjoints
    return (unbroadcast(g, shape_of(inputs[0]), batch),)


def _as_matrix_operands(m, a, b, batch_a, batch_b):
    """Promote vector operands of matmul to matrices: a (n,) -> (1, n), b (n,) -> (n, 1)."""
    a_shape, b_shape = shape_of(a), shape_of(b)
    a_vec = len(a_shape) - batch_a == 1
    b_vec = len(b_shape) - batch_b == 1
    if a_vec:
        a = m.reshape(a, a_shape[:-1] + (1, a_shape[-1]))
    if b_vec:
        b = m.reshape(b, b_shape + (1,))
    return a, b, a_vec, b_vec


def _lift(m, x, core_ndim, has_batch, want_batch):
    """Reshape so the non-batch part has ``core_ndim`` axes (and a batch axis if wanted)."""
    shape = shape_of(x)
    batch_shape, core = (shape[:1], shape[1:]) if has_batch else ((), shape)
    if want_batch and not has_batch:
        batch_shape = (1,)
    new_shape = batch_shape + (1,) * (core_ndim - len(core)) + core
    return x if new_shape == shape else m.reshape(x, new_shape)


def _swap_last(m, x):
    ndim = len(shape_of(x))
    return m.transpose(x, tuple(range(ndim - 2)) + (ndim - 1, ndim - 2))


def _batched_matmul(m, a, b, batch_a, batch_b):
    """matmul(a, b) where either operand may carry a leading batch axis."""
    # k directions for a vector beside a plain matrix: one matrix product, not k of them
    if batch_b and not batch_a and len(shape_of(b)) == 2 and len(shape_of(a)) == 2:
        return m.matmul(b, _swap_last(m, a))          # rows of (A @ v_k)^T = v_k^T A^T
    if batch_a and not batch_b and len(shape_of(a)) == 2 and len(shape_of(b)) == 2:
        return m.matmul(a, b)                         # rows v_k^T B
    a, b, a_vec, b_vec = _as_matrix_operands(m, a, b, batch_a, batch_b)
    core = max(len(shape_of(a)) - batch_a, len(shape_of(b)) - batch_b)
    want_batch = bool(batch_a or batch_b)
    out = m.matmul(_lift(m, a, core, batch_a, want_batch), _lift(m, b, core, batch_b, want_batch))
    if a_vec or b_vec:
        shape = shape_of(out)
        shape = shape[:-2] + (() if a_vec else shape[-2:-1]) + (() if b_vec else shape[-1:])
        out = m.reshape(out, shape)
    return out


def _matmul_jvp(m, tangents, inputs, out, batch):
    # d(a @ b) = da @ b + a @ db
    (a, b), (a_dot, b_dot) = inputs, tangents
    out_dot = None
    if a_dot is not None:
        out_dot = _batched_matmul(m, a_dot, b, batch, 0)
    if b_dot is not None:
        term = _batched_matmul(m, a, b_dot, 0, batch)
        out_dot = term if out_dot is None else out_dot + term
    return out_dot


def _matmul_vjp(m, g, inputs, out, batch, needs=None):
    # a_bar = out_bar @ b^T, b_bar = a^T @ out_bar (vectors promoted to matrices, then back)
    a, b = inputs
    a2, b2, a_vec, b_vec = _as_matrix_operands(m, a, b, 0, 0)
    g_shape = shape_of(g)
    g2_shape = (g_shape[:len(g_shape) - (0 if b_vec else 1)] + ((1,) if a_vec else ())
                + ((1,) if b_vec else g_shape[-1:])) if (a_vec or b_vec) else g_shape
    g2 = m.reshape(g, g2_shape) if g2_shape != g_shape else g
    batch_shape = g_shape[:batch]
    a_bar = b_bar = None
    if batch and len(g_shape) == 2:
        # k cotangents of a matrix-vector product: one matrix product per adjoint
        if b_vec and not a_vec and len(shape_of(a)) == 2 and (needs is None or needs[1]):
            b_bar, needs = m.matmul(g, a), (True if needs is None else needs[0], False)
        if a_vec and not b_vec and len(shape_of(b)) == 2 and (needs is None or needs[0]):
            a_bar, needs = m.matmul(g, _swap_last(m, b)), (False, True if needs is None
                                                               else needs[1])
    if needs is None or needs[0]:
        a_bar = unbroadcast(m.matmul(g2, _swap_last(m, b2)), shape_of(a2), batch)
        if a_vec:
            a_bar = m.reshape(a_bar, batch_shape + shape_of(a))
    if needs is None or needs[1]:
        b_bar = unbroadcast(m.matmul(_swap_last(m, a2), g2), shape_of(b2), batch)
        if b_vec:
            b_bar = m.reshape(b_bar, batch_shape + shape_of(b))
    return a_bar, b_bar


def _getitem(x, index=()):
    return x[index]


def _scatter_add(g, shape=(), index=()):
    """zeros(shape) with ``g`` added at ``index`` (repeated indices add up)."""
    dtype = object if getattr(g, "dtype", None) == object else np.result_type(g, float)
    out = np.zeros(shape, dtype=dtype)
    np.add.at(out, index, g)
    return out


def _getitem_jvp(m, tangents, inputs, out, batch, index=()):
    # indexing is linear: d(x[i]) = dx[i]
    return _apply_op("getitem", tangents[0], index=batched_index(index, batch))


def _getitem_vjp(m, g, inputs, out, batch, index=(), needs=None):
    # each selected x_i gets the adjoint of its place in the output; the rest get 0
    shape = shape_of(g)[:batch] + shape_of(inputs[0])
    return (_apply_op("scatter_add", g, shape=shape, index=batched_index(index, batch)),)


def _scatter_add_jvp(m, tangents, inputs, out, batch, shape=(), index=()):
    # linear: scatter the tangent the same way
    t = tangents[0]
    return _apply_op("scatter_add", t, shape=shape_of(t)[:batch] + tuple(shape),
                    index=batched_index(index, batch))


def _scatter_add_vjp(m, g, inputs, out, batch, shape=(), index=(), needs=None):
    # the adjoint of a scatter is a gather
    return (_apply_op("getitem", g, index=batched_index(index, batch)),)


def _apply_op(name, *args, **params):
    """Apply registry op ``name`` to values of any kind (arrays, Vars, Duals, sympy arrays):
    how a rule uses another structural op that has no numpy function Vars could intercept."""
    return REGISTRY[name].evaluate(*args, **params)


def _matrix_product_symbolic(a, b):
    return np.matmul(np.asarray(a, dtype=object), np.asarray(b, dtype=object))


def _dot_numpy(a, b):
    if not (1 <= len(shape_of(a)) <= 2 and 1 <= len(shape_of(b)) <= 2):
        raise ShapeMismatchError(
            f"dot: operands must be vectors or matrices, got shapes {shape_of(a)} and "
            f"{shape_of(b)} (use multiply for scalars, matmul for stacks of matrices)")
    return np.matmul(a, b)   # for vectors and matrices, dot is matmul


def _object_array(x):
    return np.asarray(x, dtype=object)


register(Primitive(
    name="sum", numpy=np.sum, nin=1, jvp=_sum_jvp, vjp=_sum_vjp,
    examples=(([(2, 3)], {}), ([(2, 3)], {"axis": 0}), ([(2, 3)], {"axis": 1, "keepdims": True})),
    sympy=lambda x, axis=None, keepdims=False: np.sum(_object_array(x), axis=axis,
                                                      keepdims=keepdims),
))
register(Primitive(
    name="mean", numpy=np.mean, nin=1, jvp=_mean_jvp, vjp=_mean_vjp,
    examples=(([(2, 3)], {}), ([(2, 3)], {"axis": 1})),
    sympy=lambda x, axis=None, keepdims=False: np.mean(_object_array(x), axis=axis,
                                                       keepdims=keepdims),
))
register(Primitive(
    name="transpose", numpy=np.transpose, nin=1, jvp=_transpose_jvp, vjp=_transpose_vjp,
    examples=(([(2, 3)], {}), ([(2, 3, 2)], {"axes": (1, 2, 0)})),
    sympy=lambda x, axes=None: np.transpose(_object_array(x), axes),
))
register(Primitive(
    name="reshape", numpy=np.reshape, nin=1, jvp=_reshape_jvp, vjp=_reshape_vjp,
    examples=(([(2, 3)], {"shape": (3, 2)}), ([(2, 3)], {"shape": (6,)})),
    sympy=lambda x, shape=None: np.reshape(_object_array(x), shape),
))
register(Primitive(
    name="broadcast_to", numpy=np.broadcast_to, nin=1, jvp=_broadcast_to_jvp,
    vjp=_broadcast_to_vjp, examples=(([(3,)], {"shape": (2, 3)}), ([(2, 1)], {"shape": (2, 3)})),
    sympy=lambda x, shape=None: np.broadcast_to(_object_array(x), shape),
))
register(Primitive(
    name="matmul", numpy=np.matmul, nin=2, jvp=_matmul_jvp, vjp=_matmul_vjp, infix="@",
    examples=(([(2, 3), (3, 2)], {}), ([(3,), (3, 2)], {}), ([(2, 3), (3,)], {}),
              ([(3,), (3,)], {})),
    sympy=_matrix_product_symbolic,
))
register(Primitive(
    # For vectors and matrices dot is matmul, so it shares matmul's rules.
    name="dot", numpy=_dot_numpy, nin=2, jvp=_matmul_jvp, vjp=_matmul_vjp,
    examples=(([(2, 3), (3, 2)], {}), ([(3,), (3,)], {})),
    sympy=_matrix_product_symbolic,
))
register(Primitive(
    name="getitem", numpy=_getitem, nin=1, jvp=_getitem_jvp, vjp=_getitem_vjp,
    examples=(([(2, 3)], {"index": (1,)}), ([(4,)], {"index": (np.array([0, 2, 2]),)})),
    sympy=lambda x, index=(): np.asarray(x, dtype=object)[index],
))
register(Primitive(
    # The adjoint of indexing: scatter g into zeros of the indexed value's shape.
    name="scatter_add", numpy=_scatter_add, nin=1, jvp=_scatter_add_jvp, vjp=_scatter_add_vjp,
    examples=(([(3,)], {"shape": (2, 3), "index": (1,)}),
              ([(3,)], {"shape": (4,), "index": (np.array([0, 2, 2]),)})),
    sympy=lambda g, shape=(), index=(): _scatter_add(np.asarray(g, dtype=object), shape, index),
))
