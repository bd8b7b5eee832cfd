"""Composite operations: user functions built from several registry primitives.

Every primitive's user function (``ad.sin``, ``ad.sum``, ...) is made by the registry itself
(:attr:`dualad.primitives.Primitive.function`, returned by :func:`dualad.register`). This module
owns the few user functions that are not one primitive: ``dot`` (a product when either side is
a scalar) and ``stack`` (one scatter per value).

Examples
--------
>>> import dualad as ad
>>> ad.dot(ad.Var(2.0), 3.0).op.name
'multiply'
"""

import operator

from .errors import DualadError, ShapeMismatchError
from .primitives import REGISTRY
from .shapes import shape_of
from .values import is_traced


def dot(a, b):
    """Dot product of vectors/matrices (a plain product when either side is a scalar).

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.dot(ad.Var(np.array([1.0, 2.0])), np.array([3.0, 4.0])).value
    11.0
    >>> ad.dot(2.0, np.array([1.0, 2.0]))
    array([2., 4.])
    """
    if len(shape_of(_plain(a))) == 0 or len(shape_of(_plain(b))) == 0:
        return REGISTRY["multiply"].function(a, b)
    return REGISTRY["dot"].function(a, b)


def _plain(x):
    """The plain value of a Var or Dual (its value or primal), else ``x`` itself."""
    return type(x)._plain(x) if is_traced(x) else x


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
    shapes = {shape_of(_plain(v)) for v in values}
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
    scatter = REGISTRY["scatter_add"].evaluate
    total = None
    for i, value in enumerate(values):
        index = (slice(None),) * axis + (i,)
        term = scatter(value, shape=out_shape, index=index)
        total = term if total is None else total + term
    return total


def __getattr__(name):
    # ops.sin, ops.sum, ...: every public registry op's user function, made by the registry
    prim = REGISTRY.get(name)
    if prim is not None and prim.public and prim.namespace is None:
        return prim.function
    raise AttributeError(f"module 'dualad.ops' has no attribute {name!r}")
