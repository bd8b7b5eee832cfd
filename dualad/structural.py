"""The structural primitives: ops whose local partial would be a whole Jacobian.

This module owns the registry blocks of ``sum``, ``mean``, ``transpose``, ``reshape``,
``broadcast_to``, ``matmul``, ``dot``, ``getitem`` and ``scatter_add``, and their ``jvp``/``vjp``
rules (see :mod:`dualad.primitives` for the record). The rules use only ``m.sum``,
``m.reshape``, ``m.broadcast_to``, ``m.transpose`` and ``m.matmul``, or other structural
primitives through :func:`apply_op`: ops that are themselves primitives, so the same rules run
on arrays, on Vars (nested derivatives), on Duals and on sympy object arrays.

Examples
--------
>>> from dualad.primitives import REGISTRY
>>> REGISTRY["matmul"].elementwise, REGISTRY["matmul"].nin
(False, 2)
"""

import functools
import operator

import numpy as np

from .errors import DualadError, ShapeMismatchError
from .primitives import REGISTRY, Primitive, register
from .shapes import batch_position, batched_index, shape_of, size, unbroadcast

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
    return max(size(shape_of(inputs[0])), 1) // max(size(shape_of(out)), 1)


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
    # a Python number is indexed as numpy's 0-d array (x[None], x[...]); others index themselves
    return (np.asarray(x) if isinstance(x, (int, float, complex)) else x)[index]


def _scatter_add(g, shape=(), index=()):
    """zeros(shape) with ``g`` added at ``index`` (repeated indices add up)."""
    dtype = object if getattr(g, "dtype", None) == object else np.result_type(g, float)
    out = np.zeros(shape, dtype=dtype)
    np.add.at(out, index, g)
    return out


def _move_axes(m, x, count, source, destination):
    """``x`` with its ``count`` axes starting at ``source`` moved to start at ``destination``
    (a transpose, so it runs on every kind of value)."""
    if source == destination:
        return x
    moved = list(range(source, source + count))
    rest = [a for a in range(len(shape_of(x))) if a not in moved]
    return m.transpose(x, tuple(rest[:destination] + moved + rest[destination:]))


def _gather(m, t, index, ndim, batch):
    """``t[index]`` for a ``t`` with ``batch`` leading axes (directions) before a value's
    ``ndim``, the batch axes kept in front: numpy puts separated advanced axes before them
    (tests/test_indexing.py::test_batch_position_matches_numpy)."""
    out = apply_op("getitem", t, index=batched_index(index, batch))
    return _move_axes(m, out, batch, batch_position(index, ndim, batch), 0)


def _scatter(m, g, shape, index, batch):
    """zeros(``g``'s batch axes + ``shape``) with ``g`` added at ``index``: ``g``'s batch axes
    go where numpy's rule puts them in ``out[batched_index(index)]``, so np.add.at lines up."""
    position = batch_position(index, len(shape), batch)
    return apply_op("scatter_add", _move_axes(m, g, batch, 0, position),
                    shape=shape_of(g)[:batch] + tuple(shape), index=batched_index(index, batch))


def _getitem_jvp(m, tangents, inputs, out, batch, index=()):
    # indexing is linear: d(x[i]) = dx[i]
    return _gather(m, tangents[0], index, len(shape_of(inputs[0])), batch)


def _getitem_vjp(m, g, inputs, out, batch, index=(), needs=None):
    # each selected x_i gets the adjoint of its place in the output; the rest get 0
    return (_scatter(m, g, shape_of(inputs[0]), index, batch),)


def _scatter_add_jvp(m, tangents, inputs, out, batch, shape=(), index=()):
    # linear: scatter the tangent the same way
    return _scatter(m, tangents[0], shape, index, batch)


def _scatter_add_vjp(m, g, inputs, out, batch, shape=(), index=(), needs=None):
    # the adjoint of a scatter is a gather
    return (_gather(m, g, index, len(shape), batch),)


def apply_op(name, *args, **params):
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


# ---- arguments: numpy's signatures, as (inputs, params) ----

def _refuse_numpy_options(name, **options):
    for option, value in options.items():
        if value is not None:
            raise DualadError(f"{name}: the numpy argument {option}= is not supported on "
                              f"dualad values (got {value!r})")


def axis_param(name, axis):
    """An ``axis`` argument as None, an int or a tuple of ints; anything else is refused.

    Examples
    --------
    >>> from dualad.structural import axis_param
    >>> axis_param("sum", 1), axis_param("sum", [0, 2]), axis_param("sum", None)
    (1, (0, 2), None)
    """
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis)
    try:
        axes = tuple(axis)
    except TypeError:
        axes = None
    if axes is None or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                               for a in axes):
        raise DualadError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
    return tuple(int(a) for a in axes)


def shape_param(name, shape):
    """A shape argument (an int or a sequence of ints) as a tuple of ints.

    Examples
    --------
    >>> from dualad.structural import shape_param
    >>> shape_param("reshape", 3), shape_param("reshape", [2, -1])
    ((3,), (2, -1))
    """
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (int(shape),)
    try:
        return tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise DualadError(f"{name}: a shape must be an int or a sequence of ints, got "
                          f"{shape!r}") from None


#: (axis, keepdims) -> the parameters of sum and mean, one dict for each (see _summed_over)
_SUMMED_OVER = {}


def _summed_over(name, axis, keepdims):
    """The parameters ``{"axis": ..., "keepdims": ...}`` of ``name`` (sum or mean), one shared
    dict for each pair of values (never modified, as no op's parameters are): the nodes of
    every trace of a function then hold the same dict, which the check of a trace against the
    previous one's structure (:mod:`dualad.structure`) compares by identity."""
    key = (axis_param(name, axis), bool(keepdims))      # an int or ints, and a bool: by value
    params = _SUMMED_OVER.get(key)
    if params is None:
        if len(_SUMMED_OVER) > 1024:
            _SUMMED_OVER.clear()
        params = _SUMMED_OVER[key] = {"axis": key[0], "keepdims": key[1]}
    return params


def _bind_sum(x, axis=None, dtype=None, out=None, keepdims=False):
    _refuse_numpy_options("sum", dtype=dtype, out=out)
    return (x,), _summed_over("sum", axis, keepdims)


def _bind_mean(x, axis=None, dtype=None, out=None, keepdims=False):
    _refuse_numpy_options("mean", dtype=dtype, out=out)
    return (x,), _summed_over("mean", axis, keepdims)


def _bind_transpose(x, axes=None):
    return (x,), {"axes": axis_param("transpose", axes)
                  if not isinstance(axes, (int, np.integer)) else (int(axes),)}


def _bind_reshape(x, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise DualadError(f"reshape: only order='C' is supported, got {order!r}")
    shape = newshape if shape is None else shape
    if shape is None:
        raise DualadError("reshape: give the new shape")
    return (x,), {"shape": shape_param("reshape", shape)}


def _bind_broadcast_to(x, shape, subok=False):
    return (x,), {"shape": shape_param("broadcast_to", shape)}


# The kernels of sum, mean and transpose: numpy's own functions without their Python layer
# (argument dispatch, the count of mean) on float arrays, which is what graphs hold. The same
# numbers as np.sum, np.mean and np.transpose; anything else goes to those functions.
_add_reduce = np.add.reduce


def _float_array(x):
    return type(x) is np.ndarray and x.dtype.kind in "fc"


def _sum_kernel(x, axis=None, keepdims=False):
    if _float_array(x):
        return _add_reduce(x, axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


def _mean_kernel(x, axis=None, keepdims=False):
    if _float_array(x) and x.size:
        total = _add_reduce(x, axis=axis, keepdims=keepdims)
        return total / (x.size // total.size)       # np.mean divides the sum by the count
    return np.mean(x, axis=axis, keepdims=keepdims)


def _transpose_kernel(x, axes=None):
    if type(x) is np.ndarray:
        return x.transpose(axes)
    return np.transpose(x, axes)


# The same kernels where a recorded program knows its argument is a float array (see the
# registry's ``float_array_kernel``): numpy's C functions, with no Python frame of ours.
def _sum_of_float_arrays(axis=None, keepdims=False):
    return functools.partial(_add_reduce, axis=axis, keepdims=keepdims)


def _transpose_of_float_arrays(axes=None):
    if axes is None or tuple(axes) == (1, 0):   # (1, 0) is only given for 2-d arrays
        return operator.attrgetter("T")
    return operator.methodcaller("transpose", axes)


def _matmul_cost(in_shapes, out_shape, **params):
    # q multiplies and q - 1 adds per result element, q the contracted length
    q = in_shapes[0][-1] if in_shapes[0] else 1
    return size(out_shape) * (2 * q - 1)


register(Primitive(
    name="sum", numpy=_sum_kernel, numpy_api=np.sum, nin=1, jvp=_sum_jvp, vjp=_sum_vjp,
    bind=_bind_sum, new_array=True, float_array_kernel=_sum_of_float_arrays,
    doc="Sum of the elements over axis (all by default).",
    example=("sum(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=0)", "array([4., 6.])"),
    cost=lambda in_shapes, out_shape, **p: max(size(in_shapes[0]) - size(out_shape), 0),
    # N - M adds; none where the groups are empty (sum over no elements: M zeros)
    examples=(([(2, 3)], {}), ([(2, 3)], {"axis": 0}), ([(2, 3)], {"axis": 1, "keepdims": True})),
    sympy=lambda x, axis=None, keepdims=False: np.sum(_object_array(x), axis=axis,
                                                      keepdims=keepdims),
))
register(Primitive(
    name="mean", numpy=_mean_kernel, numpy_api=np.mean, nin=1, jvp=_mean_jvp, vjp=_mean_vjp,
    bind=_bind_mean, new_array=True,
    doc="Mean of the elements over axis (all by default).",
    example=("mean(np.array([1.0, 2.0, 6.0]))", "3.0"),
    cost=lambda in_shapes, out_shape, **p: size(in_shapes[0]),   # the adds and divides
    examples=(([(2, 3)], {}), ([(2, 3)], {"axis": 1})),
    sympy=lambda x, axis=None, keepdims=False: np.mean(_object_array(x), axis=axis,
                                                       keepdims=keepdims),
))
register(Primitive(
    name="transpose", numpy=_transpose_kernel, numpy_api=np.transpose,
    nin=1, jvp=_transpose_jvp, vjp=_transpose_vjp,
    float_array_kernel=_transpose_of_float_arrays,
    bind=_bind_transpose, doc="The axes permuted (reversed by default).",
    example=("transpose(np.zeros((2, 3))).shape", "(3, 2)"),
    examples=(([(2, 3)], {}), ([(2, 3, 2)], {"axes": (1, 2, 0)})),
    sympy=lambda x, axes=None: np.transpose(_object_array(x), axes),
))
register(Primitive(
    name="reshape", numpy=np.reshape, nin=1, jvp=_reshape_jvp, vjp=_reshape_vjp,
    bind=_bind_reshape, doc="The same elements in a new shape.",
    example=("reshape(np.arange(6.0), (2, 3)).shape", "(2, 3)"),
    examples=(([(2, 3)], {"shape": (3, 2)}), ([(2, 3)], {"shape": (6,)})),
    sympy=lambda x, shape=None: np.reshape(_object_array(x), shape),
))
register(Primitive(
    name="broadcast_to", numpy=np.broadcast_to, nin=1, jvp=_broadcast_to_jvp,
    bind=_bind_broadcast_to, doc="x repeated along new or unit axes to shape, as numpy "
    "broadcasts.", example=("broadcast_to(np.array([1.0, 2.0]), (2, 2))",
                            "array([[1., 2.],\n       [1., 2.]])"),
    vjp=_broadcast_to_vjp, examples=(([(3,)], {"shape": (2, 3)}), ([(2, 1)], {"shape": (2, 3)})),
    sympy=lambda x, shape=None: np.broadcast_to(_object_array(x), shape),
))
register(Primitive(
    name="matmul", numpy=np.matmul, nin=2, jvp=_matmul_jvp, vjp=_matmul_vjp, infix="@",
    new_array=True, cost=_matmul_cost,
    doc="Matrix product a @ b, with numpy's rules for vectors and stacks.",
    example=("matmul(np.eye(2), np.array([3.0, 4.0]))", "array([3., 4.])"),
    examples=(([(2, 3), (3, 2)], {}), ([(3,), (3, 2)], {}), ([(2, 3), (3,)], {}),
              ([(3,), (3,)], {})),
    sympy=_matrix_product_symbolic,
))
register(Primitive(
    # For vectors and matrices dot is matmul, so it shares matmul's rules. Users call the
    # composite ad.dot (dualad.ops), which also takes scalars (a product).
    name="dot", numpy=_dot_numpy, nin=2, jvp=_matmul_jvp, vjp=_matmul_vjp, public=False,
    cost=_matmul_cost,
    examples=(([(2, 3), (3, 2)], {}), ([(3,), (3,)], {})),
    sympy=_matrix_product_symbolic,
))
register(Primitive(
    name="getitem", numpy=_getitem, nin=1, jvp=_getitem_jvp, vjp=_getitem_vjp, public=False,
    examples=(([(2, 3)], {"index": (1,)}), ([(4,)], {"index": (np.array([0, 2, 2]),)})),
    sympy=lambda x, index=(): np.asarray(x, dtype=object)[index],
))
register(Primitive(
    # The adjoint of indexing: scatter g into zeros of the indexed value's shape.
    name="scatter_add", numpy=_scatter_add, nin=1, jvp=_scatter_add_jvp, vjp=_scatter_add_vjp,
    public=False, cost=lambda in_shapes, out_shape, **p: size(in_shapes[0]),  # one add each
    examples=(([(3,)], {"shape": (2, 3), "index": (1,)}),
              ([(3,)], {"shape": (4,), "index": (np.array([0, 2, 2]),)})),
    sympy=lambda g, shape=(), index=(): _scatter_add(np.asarray(g, dtype=object), shape, index),
))


# ---- shapes: squeeze, expand_dims, concatenate; einsum ----
# squeeze and expand_dims only relabel axes: their rules are reshape's. concatenate and einsum
# take any number of values; a primitive has a fixed number of inputs, so each is a primitive
# of two (a pair joined, a pair contracted) that the user functions ad.concatenate and
# ad.einsum (dualad.ops) apply as often as there are values.

def _reshape_like_jvp(m, tangents, inputs, out, batch, **params):
    # an op that only relabels axes is linear: its tangent is the tangent relabelled
    return _reshape_jvp(m, tangents, inputs, out, batch)


def _reshape_like_vjp(m, g, inputs, out, batch, needs=None, **params):
    # x_bar = out_bar relabelled back to x's shape
    return _reshape_vjp(m, g, inputs, out, batch)


def _axis_list(name, axis):
    """``axis`` (an int or a sequence of ints) as a list of ints, or a clear error."""
    axes = axis_param(name, axis)
    return [axes] if isinstance(axes, int) else list(axes)


def _in_range(name, axis, ndim, shape, what="a value"):
    if not -ndim <= axis < ndim:
        raise ShapeMismatchError(f"{name}: axis {axis} is out of bounds for {what} of shape "
                                 f"{shape} (axes run from {-ndim} to {ndim - 1})")
    return axis % ndim


def _bind_squeeze(x, axis=None):
    shape = np.shape(x)
    if axis is None:
        return (x,), {"axis": tuple(i for i, n in enumerate(shape) if n == 1)}
    axes = [_in_range("squeeze", a, len(shape), shape) for a in _axis_list("squeeze", axis)]
    if len(set(axes)) != len(axes):
        raise DualadError(f"squeeze: axis {axis!r} names an axis twice")
    for a in axes:
        if shape[a] != 1:
            raise ShapeMismatchError(f"squeeze: axis {a} of a value of shape {shape} has "
                                     f"length {shape[a]}; only axes of length 1 can be removed")
    return (x,), {"axis": tuple(sorted(axes))}


def _bind_expand_dims(x, axis):
    shape = np.shape(x)
    listed = _axis_list("expand_dims", axis)
    ndim = len(shape) + len(listed)
    axes = [_in_range("expand_dims", a, ndim, shape, f"the result ({ndim} axes) of a value")
            for a in listed]
    if len(set(axes)) != len(axes):
        raise DualadError(f"expand_dims: axis {axis!r} names an axis twice")
    return (x,), {"axis": tuple(sorted(axes))}


def _symbolic_result(value):
    """A 0-d object array (numpy's result on symbols, at times) as the sympy value it holds."""
    if isinstance(value, np.ndarray) and value.shape == ():
        return value[()]
    return value


register(Primitive(
    name="squeeze", numpy=np.squeeze, nin=1, jvp=_reshape_like_jvp, vjp=_reshape_like_vjp,
    bind=_bind_squeeze, doc="x without its axes of length 1 (those in axis, or all).",
    example=("squeeze(np.zeros((1, 3, 1))).shape", "(3,)"),
    examples=(([(1, 3, 1)], {"axis": (0, 2)}), ([(2, 1)], {"axis": (1,)})),
    sympy=lambda x, axis=None: _symbolic_result(np.squeeze(_object_array(x), axis)),
))
register(Primitive(
    name="expand_dims", numpy=np.expand_dims, nin=1, jvp=_reshape_like_jvp,
    vjp=_reshape_like_vjp, bind=_bind_expand_dims,
    doc="x with new axes of length 1 inserted at axis (positions in the result).",
    example=("expand_dims(np.zeros(3), 0).shape", "(1, 3)"),
    examples=(([(3,)], {"axis": (0,)}), ([(2, 3)], {"axis": (1, 3)})),
    sympy=lambda x, axis=(): np.expand_dims(_object_array(x), axis),
))


def _concatenate_pair(a, b, axis=0):
    return np.concatenate([a, b], axis=axis)


def _concatenate_jvp(m, tangents, inputs, out, batch, axis=0):
    # joining is linear: the tangent is the tangents joined (zeros for an input without one)
    lead = shape_of(next(t for t in tangents if t is not None))[:batch]
    parts = [np.zeros(lead + shape_of(x)) if t is None else t for t, x in zip(tangents, inputs)]
    return apply_op("concatenate", *parts, axis=axis + batch)


def _concatenate_vjp(m, g, inputs, out, batch, axis=0, needs=None):
    # each input gets the block of the adjoint where its values went
    ndim = len(shape_of(out))
    split = shape_of(inputs[0])[axis]
    blocks = (slice(0, split), slice(split, None))
    return tuple(_gather(m, g, (slice(None),) * axis + (block,), ndim, batch)
                 if needs is None or needs[j] else None for j, block in enumerate(blocks))


register(Primitive(
    # Two values joined along an existing axis; ad.concatenate (dualad.ops) joins any number.
    name="concatenate", numpy=_concatenate_pair, nin=2, jvp=_concatenate_jvp,
    vjp=_concatenate_vjp, public=False,
    examples=(([(2,), (3,)], {"axis": 0}), ([(2, 2), (2, 1)], {"axis": 1})),
    sympy=lambda a, b, axis=0: np.concatenate([_object_array(a), _object_array(b)], axis=axis),
))


def einsum_parts(subscripts):
    """``"ij,jk->ik"`` as ``(["ij", "jk"], "ik")``.

    Examples
    --------
    >>> from dualad.structural import einsum_parts
    >>> einsum_parts("ij,jk->ik")
    (['ij', 'jk'], 'ik')
    """
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _free_letter(subscripts):
    """A letter ``subscripts`` does not use: the axis of several directions in a batch."""
    return next(c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkjihgfedcba"
                if c not in subscripts)


def _einsum_pair(a, b, subscripts=""):
    return np.einsum(subscripts, a, b, optimize=True)


def _einsum_jvp(m, tangents, inputs, out, batch, subscripts=""):
    # out is linear in each operand: d out = einsum(da, b) + einsum(a, db), the batch of
    # directions (if any) carried by a letter of its own in front
    (sa, sb), so = einsum_parts(subscripts)
    z = _free_letter(subscripts)[:batch]
    (a, b), (a_dot, b_dot) = inputs, tangents
    out_dot = None
    if a_dot is not None:
        out_dot = apply_op("einsum", a_dot, b, subscripts=f"{z}{sa},{sb}->{z}{so}")
    if b_dot is not None:
        term = apply_op("einsum", a, b_dot, subscripts=f"{sa},{z}{sb}->{z}{so}")
        out_dot = term if out_dot is None else out_dot + term
    return out_dot


def _einsum_vjp(m, g, inputs, out, batch, subscripts="", needs=None):
    # a_bar = einsum(out_bar, b) with a's letters as the result, b_bar = einsum(a, out_bar):
    # each element of a meets, in the sum, exactly the b's and out_bar's of its letters
    (sa, sb), so = einsum_parts(subscripts)
    z = _free_letter(subscripts)[:batch]
    a, b = inputs
    a_bar = b_bar = None
    if needs is None or needs[0]:
        a_bar = apply_op("einsum", g, b, subscripts=f"{z}{so},{sb}->{z}{sa}")
    if needs is None or needs[1]:
        b_bar = apply_op("einsum", a, g, subscripts=f"{sa},{z}{so}->{z}{sb}")
    return a_bar, b_bar


def _einsum_cost(in_shapes, out_shape, subscripts=""):
    # one multiply per combination of all letters' values; the adds fold those products into
    # the result's elements (matmul's (2q - 1) per element, an outer product's 1)
    sizes = {}
    for letters, shape in zip(einsum_parts(subscripts)[0], in_shapes):
        sizes.update(zip(letters, shape))
    products = size(tuple(sizes.values()))
    return 2 * products - size(out_shape)


register(Primitive(
    # One contraction of two operands, each letter in two of (a, b, out) and no letter twice
    # in one: a, b and out as in JAX's dot_general. ad.einsum (dualad.ops) brings any
    # subscripts to a chain of these, after taking diagonals and sums of single operands.
    name="einsum", numpy=_einsum_pair, nin=2, jvp=_einsum_jvp, vjp=_einsum_vjp, public=False,
    cost=_einsum_cost,
    examples=(([(2, 3), (3, 2)], {"subscripts": "ij,jk->ik"}),
              ([(3,), (3,)], {"subscripts": "i,i->"}),
              ([(2,), (3,)], {"subscripts": "i,j->ij"}),
              ([(2, 2, 3), (2, 3)], {"subscripts": "bij,bj->ib"})),
    sympy=lambda a, b, subscripts="": _symbolic_result(
        np.einsum(subscripts, _object_array(a), _object_array(b))),
))
