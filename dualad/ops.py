"""The op functions users call: ``ad.sin(x)``, ``ad.multiply(a, b)``, ``ad.sum(x, axis=0)``.

This module owns the user-facing spelling of each registry primitive and nothing else: each
function builds a graph node for the primitive of the same name (numbers and arrays become
constants). Values and derivative rules live in :mod:`dualad.primitives`.

Examples
--------
>>> import dualad as ad
>>> ad.add(ad.Var(1.0), 2).value
3.0
"""

import operator

from . import overload
from .errors import DualadError, ShapeMismatchError
from .graph import Var, apply_primitive
from .primitives import REGISTRY

_P = REGISTRY


# ---- elementwise, binary ----

def add(a, b):
    """``a + b``, elementwise with broadcasting.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.add(ad.Var(1.0), 2.0).value
    3.0
    """
    return apply_primitive(_P["add"], a, b)


def subtract(a, b):
    """``a - b``, elementwise with broadcasting.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.subtract(ad.Var(1.0), 3.0).value
    -2.0
    """
    return apply_primitive(_P["subtract"], a, b)


def multiply(a, b):
    """``a * b``, elementwise with broadcasting.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.multiply(ad.Var(2.0), 3.0).value
    6.0
    """
    return apply_primitive(_P["multiply"], a, b)


def divide(a, b):
    """``a / b``, elementwise with broadcasting.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.divide(ad.Var(3.0), 2.0).value
    1.5
    """
    return apply_primitive(_P["divide"], a, b)


def power(a, b):
    """``a ** b``, elementwise; d/db needs ``a > 0`` (it is ``nan`` otherwise).

    Examples
    --------
    >>> import dualad as ad
    >>> ad.power(ad.Var(2.0), 3).value
    8.0
    """
    return apply_primitive(_P["power"], a, b)


def maximum(a, b):
    """Elementwise maximum; at a tie each argument gets half the derivative.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.maximum(ad.Var(2.0), 3.0).value
    3.0
    """
    return apply_primitive(_P["maximum"], a, b)


def minimum(a, b):
    """Elementwise minimum; at a tie each argument gets half the derivative.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.minimum(ad.Var(2.0), 3.0).value
    2.0
    """
    return apply_primitive(_P["minimum"], a, b)


# ---- elementwise, unary ----

def negative(x):
    """``-x``.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.negative(ad.Var(2.0)).value
    -2.0
    """
    return apply_primitive(_P["negative"], x)


def square(x):
    """``x ** 2``.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.square(ad.Var(3.0)).value
    9.0
    """
    return apply_primitive(_P["square"], x)


def sqrt(x):
    """Square root.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.sqrt(ad.Var(9.0)).value
    3.0
    """
    return apply_primitive(_P["sqrt"], x)


def exp(x):
    """``e ** x``.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.exp(ad.Var(0.0)).value
    1.0
    """
    return apply_primitive(_P["exp"], x)


def expm1(x):
    """``e ** x - 1``, accurate for small ``x``.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.expm1(ad.Var(0.0)).value
    0.0
    """
    return apply_primitive(_P["expm1"], x)


def log(x):
    """Natural logarithm.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.log(ad.Var(1.0)).value
    0.0
    """
    return apply_primitive(_P["log"], x)


def log1p(x):
    """``log(1 + x)``, accurate for small ``x``.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.log1p(ad.Var(0.0)).value
    0.0
    """
    return apply_primitive(_P["log1p"], x)


def sin(x):
    """Sine.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.sin(ad.Var(0.0)).value
    0.0
    """
    return apply_primitive(_P["sin"], x)


def cos(x):
    """Cosine.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.cos(ad.Var(0.0)).value
    1.0
    """
    return apply_primitive(_P["cos"], x)


def tan(x):
    """Tangent.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.tan(ad.Var(0.0)).value
    0.0
    """
    return apply_primitive(_P["tan"], x)


def arcsin(x):
    """Inverse sine.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.arcsin(ad.Var(0.0)).value
    0.0
    """
    return apply_primitive(_P["arcsin"], x)


def arccos(x):
    """Inverse cosine.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.arccos(ad.Var(1.0)).value
    0.0
    """
    return apply_primitive(_P["arccos"], x)


def arctan(x):
    """Inverse tangent.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.arctan(ad.Var(0.0)).value
    0.0
    """
    return apply_primitive(_P["arctan"], x)


def sinh(x):
    """Hyperbolic sine.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.sinh(ad.Var(0.0)).value
    0.0
    """
    return apply_primitive(_P["sinh"], x)


def cosh(x):
    """Hyperbolic cosine.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.cosh(ad.Var(0.0)).value
    1.0
    """
    return apply_primitive(_P["cosh"], x)


def tanh(x):
    """Hyperbolic tangent.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.tanh(ad.Var(0.0)).value
    0.0
    """
    return apply_primitive(_P["tanh"], x)


def abs(x):  # noqa: A001 - numpy's name, as the registry's
    """Absolute value; its derivative is ``sign(x)``, 0 at 0.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.abs(ad.Var(-2.0)).value
    2.0
    """
    return apply_primitive(_P["abs"], x)


# ---- structural ----

def sum(x, axis=None, keepdims=False):  # noqa: A001 - numpy's name
    """Sum of elements over ``axis`` (all by default).

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.sum(ad.Var(np.array([[1.0, 2.0], [3.0, 4.0]])), axis=0).value.tolist()
    [4.0, 6.0]
    """
    return apply_primitive(_P["sum"], x, axis=axis, keepdims=bool(keepdims))


def mean(x, axis=None, keepdims=False):
    """Mean of elements over ``axis`` (all by default).

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.mean(ad.Var(np.array([1.0, 2.0, 6.0]))).value
    3.0
    """
    return apply_primitive(_P["mean"], x, axis=axis, keepdims=bool(keepdims))


def dot(a, b):
    """Dot product of vectors/matrices (a plain product when either side is a scalar).

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.dot(ad.Var(np.array([1.0, 2.0])), np.array([3.0, 4.0])).value
    11.0
    """
    return overload.dot(Var._apply, a, b, Var._plain)


def matmul(a, b):
    """Matrix product ``a @ b`` with numpy's rules for vectors and stacks.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.matmul(ad.Var(np.eye(2)), np.array([3.0, 4.0])).value.tolist()
    [3.0, 4.0]
    """
    return apply_primitive(_P["matmul"], a, b)


def transpose(x, axes=None):
    """Permute axes (reverse them by default).

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.transpose(ad.Var(np.zeros((2, 3)))).value.shape
    (3, 2)
    """
    return apply_primitive(_P["transpose"], x, axes=None if axes is None else tuple(axes))


def reshape(x, shape):
    """The same elements in a new shape.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.reshape(ad.Var(np.arange(6.0)), (2, 3)).value.shape
    (2, 3)
    """
    return apply_primitive(_P["reshape"], x, shape=overload.shape_param(shape))


def broadcast_to(x, shape):
    """``x`` repeated along new or unit axes to ``shape``, as numpy broadcasts.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.broadcast_to(ad.Var(np.array([1.0, 2.0])), (3, 2)).value.tolist()
    [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]
    """
    return apply_primitive(_P["broadcast_to"], x, shape=overload.shape_param(shape))


def stack(values, axis=0):
    """Join values of one shape along a new axis (a composite: one scatter per value).

    As in numpy, ``axis`` counts the axes of the result: for values of ``d`` dimensions it is
    an integer from ``-(d + 1)`` to ``d``.

    Raises
    ------
    ShapeMismatchError
        If the values' shapes differ, or ``axis`` is out of range (as ``np.stack`` refuses).
    DualadError
        If there are no values, or ``axis`` is not an integer.

    Examples
    --------
    >>> import dualad as ad
    >>> x = ad.Var(2.0)
    >>> y = ad.stack([x, x * x, 3.0])
    >>> y.value.tolist()
    [2.0, 4.0, 3.0]
    >>> ad.jacobian(lambda x: ad.stack([x, x * x]))(3.0).tolist()
    [1.0, 6.0]
    >>> ad.stack([x, x], axis=1)
    Traceback (most recent call last):
      ...
    dualad.errors.ShapeMismatchError: stack: axis 1 is out of bounds for the result's 1 ...
    """
    values = list(values)
    if not values:
        raise DualadError("stack: needs at least one value")
    shapes = {overload.shape_of(Var._plain(v)) for v in values}
    if len(shapes) != 1:
        raise ShapeMismatchError(f"stack: all values must have the same shape, got "
                                 f"{' and '.join(str(s) for s in sorted(shapes))}")
    (shape,) = shapes
    try:
        axis = operator.index(axis)
    except TypeError:
        raise DualadError(f"stack: axis must be an integer, got {axis!r}") from None
    ndim = len(shape) + 1
    if not -ndim <= axis < ndim:
        raise ShapeMismatchError(f"stack: axis {axis} is out of bounds for the result's {ndim} "
                                 f"dimension(s) (values of shape {shape}, so axis is from "
                                 f"{-ndim} to {ndim - 1})")
    axis = axis % ndim
    out_shape = shape[:axis] + (len(values),) + shape[axis:]
    total = None
    for i, value in enumerate(values):
        index = (slice(None),) * axis + (i,)
        term = apply_primitive(_P["scatter_add"], value, shape=out_shape, index=index)
        total = term if total is None else total + term
    return total
