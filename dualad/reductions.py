"""The reductions and scans: max, min, prod, cumsum, cumprod, var, std, logsumexp, softmax,
log_softmax.

This module owns their registry blocks (see :mod:`dualad.primitives` for the record), their
``jvp``/``vjp`` rules, their numpy signatures (``bind``) and their sympy specifications. Like
the rules of :mod:`dualad.structural`, every rule here uses only the math namespace ``m``
(``m.sum``, ``m.where``, ``m.exp``, ...) and registry ops through :func:`apply_op`
(``cumprod``, ``getitem``), so the same lines run on arrays, on Vars (nested derivatives), on
Duals (Hessians) and on sympy object arrays (the registry proof).

The choices, each pinned by a test in ``tests/test_reductions.py``:

- **Every op is a primitive**, ``softmax`` and ``log_softmax`` included: each rule is one line
  in terms of the op's own output (softmax's Jacobian-vector product is ``y * (t - sum(y t))``),
  stable by construction, and the op reaches ``ad.<name>`` and every feature through the
  registry. ``logsumexp``'s value subtracts the max before ``exp``; its rule is
  ``exp(x - out)``, at most 1, so no max (and no stopped gradient of it) appears in any rule.
  All three are exact at 1,000 and at -1,000.
- **max and min share ties equally**, as JAX and PyTorch do: the derivative is
  ``[x_i == out] / count``, a mask divided by how many elements attain the result. sympy's
  ``Max`` differentiates to ``Heaviside(x_i - Max(others))``, which gives each of three tied
  elements 1/2, so the specification of ``max`` is :class:`amax`: sympy's ``Max`` in value,
  differentiated by the identity ``max x = sum_i x_i [x_i = max x] / sum_j [x_j = max x]``
  (the mean of the elements that attain it) with the indicators held constant, which is
  sympy's derivative wherever the elements differ, and shares ties equally where they do not.
- **prod never divides by the input**: the derivative of ``x_i`` is the product of the other
  elements, the exclusive products from the left times those from the right (two cumulative
  products), so one zero and several zeros give the right numbers.
- **cumprod is a primitive too** (``prod``'s rules use it). Its own rules are division-free as
  well: its tangent solves the recurrence ``y_dot_k = x_k y_dot_(k-1) + y_(k-1) t_k``, and its
  adjoint one from the other end, each by recursive doubling (:func:`linear_scan`).
- **var and std** follow numpy: ``ddof=0`` by default; ``ddof`` at least the number of
  elements is refused (numpy would warn and return inf or nan).

Examples
--------
>>> import numpy as np, dualad as ad
>>> ad.grad(lambda x: ad.max(x))(np.array([1.0, 3.0, 3.0]))      # the tie shares
array([0. , 0.5, 0.5])
>>> ad.grad(lambda x: ad.prod(x))(np.array([2.0, 0.0, 5.0]))     # no division by 0
array([ 0., 10.,  0.])
"""

import functools

import numpy as np
import sympy as sp

from .errors import DualadError
from .mathns import SYMPY
from .primitives import Primitive, register
from .shapes import shape_of, size
from .structural import (_axes, _object_array, _refuse_numpy_options, _shifted, apply_op,
                         axis_param)


# ---- shapes of a reduction ----

def _kept_shape(shape, axis):
    """``shape`` with the reduced axes kept as 1 (numpy's ``keepdims=True``)."""
    axes = _axes(axis, len(shape))
    return tuple(1 if a in axes else n for a, n in enumerate(shape))


def _count(shape, axis):
    """How many elements each group of a reduction over ``axis`` has."""
    return size(tuple(shape[a] for a in _axes(axis, len(shape))))


def _kept(m, value, shape, axis, batch=0):
    """A reduction's output (or its adjoint, with ``batch`` leading axes) shaped as with
    ``keepdims=True``, so that it broadcasts against the input of shape ``shape``."""
    have = shape_of(value)
    want = have[:batch] + _kept_shape(shape, axis)
    return value if have == want else m.reshape(value, want)


def _group_sum(m, value, shape, axis, batch, keepdims):
    """``value`` (an input-shaped array, with ``batch`` leading axes) summed over the groups."""
    return m.sum(value, axis=_shifted(axis, len(shape), batch), keepdims=keepdims)


# ---- moving along one axis (counted from the end, so batch axes in front do not matter) ----

def _along(ndim, axis, key):
    """An index applying ``key`` along ``axis`` (negative) of a value of ``ndim`` axes."""
    return (slice(None),) * (ndim + axis) + (key,) + (slice(None),) * (-axis - 1)


def _flip(m, value, axis):
    """``value`` reversed along ``axis`` (negative)."""
    return apply_op("getitem", value, index=_along(len(shape_of(value)), axis,
                                                   slice(None, None, -1)))


def _shift(m, value, step, axis, fill):
    """``value`` moved ``step`` places along ``axis`` (negative) towards its end; the first
    ``step`` places hold ``fill``."""
    shape = shape_of(value)
    n = shape[axis]
    moved = apply_op("getitem", value,
                     index=_along(len(shape), axis, np.maximum(np.arange(n) - step, 0)))
    head = (np.arange(n) < step).reshape((n,) + (1,) * (-axis - 1))
    return m.where(head, fill, moved)


def linear_scan(m, a, b, axis):
    """``s`` with ``s_k = a_k s_(k-1) + b_k`` along ``axis`` (negative), ``s_(-1) = 0``.

    By recursive doubling (Hillis and Steele): after the round with step ``d`` each place
    holds the composition of the affine maps ``s -> a_j s + b_j`` over its last ``2d``
    places, so about log2(n) rounds of elementwise products, and no division. ``a`` may lack
    ``b``'s leading batch axes.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.mathns import NUMPY
    >>> from dualad.reductions import linear_scan
    >>> linear_scan(NUMPY, np.array([5.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), -1)
    array([ 1.,  3., 10.])
    """
    n = shape_of(b)[axis]
    step = 1
    while step < n:
        a, b = (a * _shift(m, a, step, axis, 1),
                a * _shift(m, b, step, axis, 0) + b)
        step *= 2
    return b


# ---- max and min: ties share the derivative equally ----

class _TiesShared(sp.Function):
    """A sympy max or min of its arguments whose derivative shares ties equally.

    The derivative by argument ``i`` is ``[x_i = self] / sum_j [x_j = self]``: the derivative
    of the identity ``self = sum_i x_i [x_i = self] / sum_j [x_j = self]`` with the indicators
    held constant. Where the arguments differ it is sympy's own derivative of ``Max``/``Min``
    (``tests/test_reductions.py::test_amax_is_sympys_max_where_the_elements_differ``).
    """

    @classmethod
    def eval(cls, *args):
        if len(args) == 1:
            return args[0]
        if all(a.is_number for a in args):
            return cls._value(*args)
        return None

    def fdiff(self, argindex=1):
        hits = [sp.Piecewise((1, sp.Eq(a, self)), (0, True)) for a in self.args]
        return hits[argindex - 1] / sp.Add(*hits)

    def _eval_is_real(self):
        return all(a.is_real for a in self.args) or None


class amax(_TiesShared):
    """sympy's ``Max`` of the arguments, with ties sharing the derivative (``max``'s spec).

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.reductions import amax
    >>> a, b = sp.symbols("a b", real=True)
    >>> amax(sp.Integer(2), sp.Integer(5)), sp.diff(amax(a, b), a).subs({a: 1, b: 1})
    (5, 1/2)
    """

    _value = staticmethod(sp.Max)
    _imp_ = staticmethod(lambda *args: functools.reduce(np.maximum, args))


class amin(_TiesShared):
    """sympy's ``Min`` of the arguments, with ties sharing the derivative (``min``'s spec).

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.reductions import amin
    >>> amin(sp.Integer(2), sp.Integer(5))
    2
    """

    _value = staticmethod(sp.Min)
    _imp_ = staticmethod(lambda *args: functools.reduce(np.minimum, args))


def _per_group(function):
    """The sympy form of a reduction: ``function(*group)`` for each group of elements."""
    def reduce(x, axis=None, keepdims=False):
        x = _object_array(x)
        axes = _axes(axis, x.ndim)
        kept = tuple(a for a in range(x.ndim) if a not in axes)
        groups = np.transpose(x, kept + axes).reshape(
            tuple(x.shape[a] for a in kept) + (_count(x.shape, axis),))
        out = np.empty(groups.shape[:-1], dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = function(*groups[index])
        if keepdims:
            out = out.reshape(_kept_shape(x.shape, axis))
        return out if out.shape else out[()]
    return reduce


def _tie_share(m, x, out, axis):
    """d out / d x of a max or min: 1/k at each of the k elements of a group equal to its
    result, 0 elsewhere."""
    hit = m.where(m.equal(x, _kept(m, out, shape_of(x), axis)), 1, 0)
    return hit / m.sum(hit, axis=axis, keepdims=True)


def _extremum_jvp(m, tangents, inputs, out, batch, axis=None, keepdims=False):
    # d max = sum over each group of share_i dx_i
    x = inputs[0]
    return _group_sum(m, _tie_share(m, x, out, axis) * tangents[0], shape_of(x), axis, batch,
                      keepdims)


def _extremum_vjp(m, g, inputs, out, batch, axis=None, keepdims=False, needs=None):
    # x_bar_i = share_i * out_bar of x_i's group
    x = inputs[0]
    return (_tie_share(m, x, out, axis) * _kept(m, g, shape_of(x), axis, batch),)


# ---- prod and cumprod: products of the others, without dividing ----

def _others(m, x, axis):
    """For each element of ``x``, the product of the other elements of its group: exclusive
    products from the left times exclusive products from the right (no division, so zeros are
    no trouble)."""
    shape = shape_of(x)
    axes = _axes(axis, len(shape))
    kept = tuple(a for a in range(len(shape)) if a not in axes)
    order = kept + axes                   # the group's axes last, then made one axis
    y = x if order == tuple(range(len(shape))) else m.transpose(x, order)
    inner = tuple(shape[a] for a in kept)
    y = m.reshape(y, inner + (_count(shape, axis),))
    last = len(inner)
    left = _shift(m, apply_op("cumprod", y, axis=last), 1, -1, 1)
    right = _flip(m, _shift(m, apply_op("cumprod", _flip(m, y, -1), axis=last), 1, -1, 1), -1)
    others = m.reshape(left * right, tuple(shape[a] for a in order))
    if order == tuple(range(len(shape))):
        return others
    return m.transpose(others, tuple(int(i) for i in np.argsort(order)))


def _prod_jvp(m, tangents, inputs, out, batch, axis=None, keepdims=False):
    # d prod = sum_i (prod of the others) dx_i
    x = inputs[0]
    return _group_sum(m, _others(m, x, axis) * tangents[0], shape_of(x), axis, batch, keepdims)


def _prod_vjp(m, g, inputs, out, batch, axis=None, keepdims=False, needs=None):
    # x_bar_i = (prod of the others) * out_bar
    x = inputs[0]
    return (_others(m, x, axis) * _kept(m, g, shape_of(x), axis, batch),)


def _scan_operands(m, axis, x, batch, *batched):
    """A scan's axis (negative) and its operands: with ``axis=None`` numpy scans the
    flattened value, so ``x`` and the ``batched`` values (tangents or adjoints) are flattened
    behind their ``batch`` leading axes."""
    if axis is not None:
        return axis % len(shape_of(x)) - len(shape_of(x)), (x,) + batched
    flat = [m.reshape(x, (size(shape_of(x)),))]
    for value in batched:
        have = shape_of(value)
        flat.append(m.reshape(value, have[:batch] + (size(have[batch:]),)))
    return -1, tuple(flat)


def _cumsum_jvp(m, tangents, inputs, out, batch, axis=None):
    # cumsum is linear: d(cumsum x) = cumsum(dx)
    axis, (_, t) = _scan_operands(m, axis, inputs[0], batch, tangents[0])
    return apply_op("cumsum", t, axis=len(shape_of(t)) + axis)


def _cumsum_vjp(m, g, inputs, out, batch, axis=None, needs=None):
    # x_i appears in every y_k with k >= i: x_bar is the cumulative sum from the end
    x = inputs[0]
    axis_, _ = _scan_operands(m, axis, x, batch)
    x_bar = _flip(m, apply_op("cumsum", _flip(m, g, axis_), axis=len(shape_of(g)) + axis_),
                  axis_)
    return (x_bar if axis is not None else m.reshape(x_bar, shape_of(g)[:batch] + shape_of(x)),)


def _cumprod_jvp(m, tangents, inputs, out, batch, axis=None):
    # y_k = x_k y_(k-1), so y_dot_k = x_k y_dot_(k-1) + y_(k-1) t_k (y_(-1) = 1)
    axis, (x, t) = _scan_operands(m, axis, inputs[0], batch, tangents[0])
    return linear_scan(m, x, _shift(m, out, 1, axis, 1) * t, axis)


def _cumprod_vjp(m, g, inputs, out, batch, axis=None, needs=None):
    # x_bar_i = y_(i-1) s_i with s_i = g_i + x_(i+1) s_(i+1): the same recurrence, from the end
    shape = shape_of(inputs[0])
    axis_, (x, g_) = _scan_operands(m, axis, inputs[0], batch, g)
    s = _flip(m, linear_scan(m, _shift(m, _flip(m, x, axis_), 1, axis_, 0), _flip(m, g_, axis_),
                             axis_), axis_)
    x_bar = _shift(m, out, 1, axis_, 1) * s
    return (x_bar if axis is not None else m.reshape(x_bar, shape_of(g)[:batch] + shape),)


# ---- var and std ----

def _checked_ddof(name, x, axis, ddof):
    count = _count(np.shape(x), axis)
    if count - ddof <= 0:
        raise DualadError(f"{name}: ddof={ddof} leaves no degrees of freedom for groups of "
                          f"{count} element{'s' if count != 1 else ''} (value of shape "
                          f"{np.shape(x)}, axis={axis})")


def _var(x, axis=None, ddof=0, keepdims=False):
    _checked_ddof("var", x, axis, ddof)
    return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)


def _std(x, axis=None, ddof=0, keepdims=False):
    _checked_ddof("std", x, axis, ddof)
    return np.std(x, axis=axis, ddof=ddof, keepdims=keepdims)


def _var_symbolic(x, axis=None, ddof=0, keepdims=False):
    x = _object_array(x)
    count = _count(x.shape, axis)
    deviation = x - np.sum(x, axis=axis, keepdims=True) / count
    return np.sum(deviation * deviation, axis=axis, keepdims=keepdims) / (count - ddof)


def _deviation(m, x, axis):
    """x minus the mean of its group."""
    return x - m.sum(x, axis=axis, keepdims=True) / _count(shape_of(x), axis)


def _var_jvp(m, tangents, inputs, out, batch, axis=None, ddof=0, keepdims=False):
    # d var = 2/(N - ddof) sum (x - mean) dx  (the mean's own change sums to 0 against x - mean)
    x = inputs[0]
    shape = shape_of(x)
    return (_group_sum(m, _deviation(m, x, axis) * tangents[0], shape, axis, batch, keepdims)
            * 2 / (_count(shape, axis) - ddof))


def _var_vjp(m, g, inputs, out, batch, axis=None, ddof=0, keepdims=False, needs=None):
    # x_bar = 2/(N - ddof) (x - mean) out_bar
    x = inputs[0]
    shape = shape_of(x)
    return (_deviation(m, x, axis) * _kept(m, g, shape, axis, batch) * 2
            / (_count(shape, axis) - ddof),)


def _std_jvp(m, tangents, inputs, out, batch, axis=None, ddof=0, keepdims=False):
    # std = sqrt(var): d std = d var / (2 std), nan where std = 0 (as in JAX)
    return _var_jvp(m, tangents, inputs, out, batch, axis, ddof, keepdims) / (2 * out)


def _std_vjp(m, g, inputs, out, batch, axis=None, ddof=0, keepdims=False, needs=None):
    return _var_vjp(m, g / (2 * out), inputs, out, batch, axis, ddof, keepdims)


# ---- logsumexp, softmax, log_softmax: rules from the output, stable by construction ----

def _stable_top(x, axis):
    """The max of each group (kept), or 0 where it is not finite: what is subtracted before
    exp, so that the largest term is exp(0) = 1."""
    top = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(top), top, 0)


def _logsumexp(x, axis=None, keepdims=False):
    x = np.asarray(x)
    top = _stable_top(x, axis)
    with np.errstate(divide="ignore"):     # log(0) = -inf where every element is -inf
        out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=_axes(axis, x.ndim))


def _softmax(x, axis=-1):
    e = np.exp(x - _stable_top(np.asarray(x), axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    return x - _logsumexp(x, axis=axis, keepdims=True)


def _exp_sum_symbolic(x, axis):
    return np.sum(SYMPY.exp(_object_array(x)), axis=axis, keepdims=True)


def _logsumexp_symbolic(x, axis=None, keepdims=False):
    out = SYMPY.log(_exp_sum_symbolic(x, axis))
    if not keepdims:
        out = np.squeeze(out, axis=_axes(axis, np.ndim(out)))
    return out if np.shape(out) else out[()]


def _logsumexp_jvp(m, tangents, inputs, out, batch, axis=None, keepdims=False):
    # d logsumexp = sum softmax(x) dx, with softmax(x) = exp(x - out) <= 1
    x = inputs[0]
    weights = m.exp(x - _kept(m, out, shape_of(x), axis))
    return _group_sum(m, weights * tangents[0], shape_of(x), axis, batch, keepdims)


def _logsumexp_vjp(m, g, inputs, out, batch, axis=None, keepdims=False, needs=None):
    # x_bar = softmax(x) * out_bar
    x = inputs[0]
    shape = shape_of(x)
    return (m.exp(x - _kept(m, out, shape, axis)) * _kept(m, g, shape, axis, batch),)


def _softmax_jvp(m, tangents, inputs, out, batch, axis=-1):
    # dy = y * (dx - sum(y dx)) over each group
    t = tangents[0]
    shape = shape_of(out)
    return out * (t - _group_sum(m, out * t, shape, axis, batch, True))


def _softmax_vjp(m, g, inputs, out, batch, axis=-1, needs=None):
    # x_bar = y * (y_bar - sum(y_bar y)): the Jacobian diag(y) - y y^T is symmetric
    shape = shape_of(out)
    return (out * (g - _group_sum(m, g * out, shape, axis, batch, True)),)


def _log_softmax_jvp(m, tangents, inputs, out, batch, axis=-1):
    # log_softmax = x - logsumexp(x): dy = dx - sum(softmax dx), softmax = exp(out)
    t = tangents[0]
    return t - _group_sum(m, m.exp(out) * t, shape_of(out), axis, batch, True)


def _log_softmax_vjp(m, g, inputs, out, batch, axis=-1, needs=None):
    # x_bar = y_bar - softmax * sum(y_bar)
    return (g - m.exp(out) * _group_sum(m, g, shape_of(out), axis, batch, True),)


# ---- arguments: numpy's signatures (jax.nn's for the last three), as (inputs, params) ----

def _extremum_bind(name):
    def bind(x, axis=None, out=None, keepdims=False, initial=None, where=None):
        _refuse_numpy_options(name, out=out, initial=initial, where=where)
        return (x,), {"axis": axis_param(name, axis), "keepdims": bool(keepdims)}
    return bind


def _bind_prod(x, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _refuse_numpy_options("prod", dtype=dtype, out=out, initial=initial, where=where)
    return (x,), {"axis": axis_param("prod", axis), "keepdims": bool(keepdims)}


def _scan_bind(name):
    def bind(x, axis=None, dtype=None, out=None):
        _refuse_numpy_options(name, dtype=dtype, out=out)
        axis = axis_param(name, axis)
        if isinstance(axis, tuple):
            raise DualadError(f"{name}: axis must be None or an int, got {axis!r}")
        return (x,), {"axis": axis}
    return bind


def _moments_bind(name):
    def bind(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
             mean=None, correction=None):
        _refuse_numpy_options(name, dtype=dtype, out=out, where=where, mean=mean)
        if correction is not None:         # the array API's name for ddof
            if ddof != 0:
                raise DualadError(f"{name}: give ddof or correction, not both")
            ddof = correction
        if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
            raise DualadError(f"{name}: ddof must be a number, got {ddof!r}")
        ddof = int(ddof) if float(ddof).is_integer() else float(ddof)
        return (x,), {"axis": axis_param(name, axis), "ddof": ddof, "keepdims": bool(keepdims)}
    return bind


def _bind_logsumexp(x, axis=None, b=None, keepdims=False, return_sign=False):
    _refuse_numpy_options("logsumexp", b=b)
    if return_sign:
        raise DualadError("logsumexp: return_sign=True is not supported on dualad values")
    return (x,), {"axis": axis_param("logsumexp", axis), "keepdims": bool(keepdims)}


def _softmax_bind(name):
    def bind(x, axis=-1, where=None):
        _refuse_numpy_options(name, where=where)
        return (x,), {"axis": axis_param(name, axis)}
    return bind


# ---- prices: arithmetic operations per application ----

def _groups(in_shape, axis):
    return size(in_shape) // max(_count(in_shape, axis), 1)


def _fold_cost(in_shapes, out_shape, axis=None, **params):
    # N elements folded into M results: N - M comparisons or products (none for empty groups)
    return max(size(in_shapes[0]) - size(out_shape), 0)


def _scan_cost(in_shapes, out_shape, axis=None, **params):
    # each group of k elements: k - 1 adds or multiplies
    n = size(in_shapes[0])
    return n - (1 if axis is None else _groups(in_shapes[0], axis)) if n else 0


def _var_cost(in_shapes, out_shape, **params):
    # the mean (N adds and divides), N subtracts, N squares, N - M adds and M divides
    return 4 * size(in_shapes[0])


def _logsumexp_cost(in_shapes, out_shape, axis=None, **params):
    # max (N - M), N subtracts, N exps, N - M adds, M logs and M adds
    n, groups = size(in_shapes[0]), _groups(in_shapes[0], axis)
    return 4 * n - groups


def _softmax_cost(in_shapes, out_shape, axis=-1, **params):
    # max (N - M), N subtracts, N exps, N - M adds, N divides
    n, groups = size(in_shapes[0]), _groups(in_shapes[0], axis)
    return 5 * n - 2 * groups


def _log_softmax_cost(in_shapes, out_shape, axis=-1, **params):
    # logsumexp kept, then N subtracts
    return _logsumexp_cost(in_shapes, out_shape, axis) + size(in_shapes[0])


# ---- the blocks ----

register(Primitive(
    name="max", numpy=np.max, nin=1, bind=_extremum_bind("max"), analytic=False,
    jvp=_extremum_jvp, vjp=_extremum_vjp, sympy=_per_group(amax), cost=_fold_cost,
    doc="The largest element over axis (all by default); tied maxima share the derivative.",
    example=("max(np.array([[1.0, 5.0], [3.0, 2.0]]), axis=1)", "array([5., 3.])"),
    examples=(([(3,)], {}), ([(2, 3)], {"axis": 1}), ([(2, 2)], {"axis": 0, "keepdims": True})),
))
register(Primitive(
    name="min", numpy=np.min, nin=1, bind=_extremum_bind("min"), analytic=False,
    jvp=_extremum_jvp, vjp=_extremum_vjp, sympy=_per_group(amin), cost=_fold_cost,
    doc="The smallest element over axis (all by default); tied minima share the derivative.",
    example=("min(np.array([[1.0, 5.0], [3.0, 2.0]]), axis=0)", "array([1., 2.])"),
    examples=(([(3,)], {}), ([(2, 3)], {"axis": 0})),
))
register(Primitive(
    name="prod", numpy=np.prod, nin=1, bind=_bind_prod, jvp=_prod_jvp, vjp=_prod_vjp,
    sympy=_per_group(sp.Mul), cost=_fold_cost,
    doc="The product of the elements over axis (all by default); right with zeros.",
    example=("prod(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)", "array([ 2., 12.])"),
    examples=(([(3,)], {}), ([(2, 3)], {"axis": 1, "keepdims": True}), ([(2, 2)], {})),
))
register(Primitive(
    name="cumsum", numpy=np.cumsum, nin=1, bind=_scan_bind("cumsum"), jvp=_cumsum_jvp,
    vjp=_cumsum_vjp, cost=_scan_cost,
    sympy=lambda x, axis=None: np.cumsum(_object_array(x), axis=axis),
    doc="Cumulative sums along axis (of the flattened value by default).",
    example=("cumsum(np.array([1.0, 2.0, 3.0]))", "array([1., 3., 6.])"),
    examples=(([(3,)], {}), ([(2, 3)], {"axis": 0}), ([(2, 2)], {"axis": None})),
))
register(Primitive(
    name="cumprod", numpy=np.cumprod, nin=1, bind=_scan_bind("cumprod"), jvp=_cumprod_jvp,
    vjp=_cumprod_vjp, cost=_scan_cost,
    sympy=lambda x, axis=None: np.cumprod(_object_array(x), axis=axis),
    doc="Cumulative products along axis (of the flattened value by default); right with zeros.",
    example=("cumprod(np.array([1.0, 2.0, 3.0]))", "array([1., 2., 6.])"),
    examples=(([(4,)], {"axis": 0}), ([(2, 3)], {"axis": 1}), ([(2, 2)], {"axis": None})),
))
register(Primitive(
    name="var", numpy=_var, numpy_api=np.var, nin=1, bind=_moments_bind("var"),
    jvp=_var_jvp, vjp=_var_vjp, sympy=_var_symbolic, cost=_var_cost,
    doc="The variance over axis, sum((x - mean)**2) / (N - ddof); ddof=0 as in numpy.",
    example=("var(np.array([1.0, 2.0, 3.0, 4.0]))", "1.25"),
    examples=(([(3,)], {}), ([(2, 3)], {"axis": 1, "ddof": 1})),
))
register(Primitive(
    name="std", numpy=_std, numpy_api=np.std, nin=1, bind=_moments_bind("std"),
    jvp=_std_jvp, vjp=_std_vjp, cost=lambda in_shapes, out_shape, **p: (
        _var_cost(in_shapes, out_shape) + size(out_shape)),          # and M square roots
    sympy=lambda x, axis=None, ddof=0, keepdims=False: SYMPY.sqrt(
        _var_symbolic(x, axis, ddof, keepdims)),
    doc="The standard deviation over axis, sqrt(var); ddof=0 as in numpy.",
    example=("std(np.array([1.0, 3.0]))", "1.0"),
    examples=(([(3,)], {}), ([(2, 3)], {"axis": 0, "ddof": 1, "keepdims": True})),
))
register(Primitive(
    name="logsumexp", numpy=_logsumexp, nin=1, bind=_bind_logsumexp, jvp=_logsumexp_jvp,
    vjp=_logsumexp_vjp, sympy=_logsumexp_symbolic, cost=_logsumexp_cost,
    doc="log(sum(exp(x))) over axis (all by default), without overflow (jax.nn.logsumexp).",
    example=("logsumexp(np.array([1000.0, 1000.0]))", "1000.6931471805599"),
    examples=(([(3,)], {}), ([(2, 2)], {"axis": 0, "keepdims": True})),
))
register(Primitive(
    name="softmax", numpy=_softmax, nin=1, bind=_softmax_bind("softmax"), jvp=_softmax_jvp,
    vjp=_softmax_vjp, cost=_softmax_cost,
    sympy=lambda x, axis=-1: SYMPY.exp(_object_array(x)) / _exp_sum_symbolic(x, axis),
    doc="exp(x) / sum(exp(x)) over axis (the last by default), without overflow "
        "(jax.nn.softmax).",
    example=("softmax(np.array([0.0, np.log(3.0)]))", "array([0.25, 0.75])"),
    examples=(([(3,)], {"axis": -1}), ([(2, 2)], {"axis": 0})),
))
register(Primitive(
    name="log_softmax", numpy=_log_softmax, nin=1, bind=_softmax_bind("log_softmax"),
    jvp=_log_softmax_jvp, vjp=_log_softmax_vjp, cost=_log_softmax_cost,
    sympy=lambda x, axis=-1: _object_array(x) - SYMPY.log(_exp_sum_symbolic(x, axis)),
    doc="x - logsumexp(x) over axis (the last by default): log(softmax(x)), without "
        "overflow (jax.nn.log_softmax).",
    example=("log_softmax(np.array([0.0, np.log(3.0)]))", "array([-1.38629436, -0.28768207])"),
    examples=(([(3,)], {"axis": -1}), ([(2, 2)], {"axis": 0})),
))
