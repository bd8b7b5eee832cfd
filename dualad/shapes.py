"""Shapes: broadcasting checks and summing an adjoint back to its input's shape.

This module owns shape bookkeeping shared by the evaluators. It knows nothing about any
particular operation: the name passed in is only used in error messages.

Examples
--------
>>> import numpy as np
>>> from dualad.shapes import unbroadcast
>>> unbroadcast(np.ones((3, 4)), (3, 1)).tolist()
[[4.0], [4.0], [4.0]]
"""

import math

import numpy as np

from .errors import ShapeMismatchError


def size(shape):
    """The number of elements of an array of this shape (1 for ``()``).

    Examples
    --------
    >>> from dualad.shapes import size
    >>> size((2, 3)), size(())
    (6, 1)
    """
    return math.prod(shape)


def shape_of(value):
    """The numpy shape of a value: ``()`` for Python and sympy scalars.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.shapes import shape_of
    >>> shape_of(2.0), shape_of(np.zeros((2, 3)))
    ((), (2, 3))
    """
    return getattr(value, "shape", ())


def broadcast_shapes(op_name, *shapes):
    """The shape numpy broadcasting gives, or :class:`ShapeMismatchError` naming the op.

    Examples
    --------
    >>> from dualad.shapes import broadcast_shapes
    >>> broadcast_shapes("add", (3, 1), (1, 4))
    (3, 4)
    >>> broadcast_shapes("add", (3,), (4,))
    Traceback (most recent call last):
      ...
    dualad.errors.ShapeMismatchError: add: shapes (3,) and (4,) do not broadcast
    """
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
        raise ShapeMismatchError(f"{op_name}: shapes {listed} do not broadcast") from None


def unbroadcast(adjoint, shape, batch=0):
    """Sum ``adjoint`` over the axes broadcasting added, so it has ``shape`` again.

    ``batch`` leading axes (several seeds carried at once) are kept as they are.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.shapes import unbroadcast
    >>> unbroadcast(np.ones((2, 3)), ()).item()
    6.0
    >>> unbroadcast(np.ones((5, 2, 3)), (3,), batch=1).shape
    (5, 3)
    """
    current = shape_of(adjoint)
    shape = tuple(shape)
    if current[batch:] == shape:
        return adjoint
    extra = len(current) - batch - len(shape)
    if extra:
        adjoint = np.sum(adjoint, axis=tuple(range(batch, batch + extra)))
    ones = tuple(batch + i for i, n in enumerate(shape)
                 if n == 1 and current[batch + extra + i] != 1)
    if ones:
        adjoint = np.sum(adjoint, axis=ones, keepdims=True)
    return adjoint


def align_tangent(tangent, ndim, batch):
    """Insert unit axes after the batch axis so a batched tangent broadcasts like its value.

    A value of shape ``(3,)`` used in an op whose output has 2 dimensions has a batched tangent
    of shape ``(k, 3)``; it must become ``(k, 1, 3)`` before multiplying by a ``(2, 3)``
    partial, or numpy would align ``k`` with the wrong axis.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.shapes import align_tangent
    >>> align_tangent(np.zeros((5, 3)), 2, batch=1).shape
    (5, 1, 3)
    """
    if not batch:
        return tangent
    shape = shape_of(tangent)
    missing = ndim - (len(shape) - 1)
    if missing <= 0:
        return tangent
    return np.reshape(tangent, shape[:1] + (1,) * missing + shape[1:])


def as_index(index):
    """An indexing key as a tuple, checked: ints, slices, ``None``, ``...`` and integer or
    boolean arrays are allowed (numpy's basic and advanced indexing).

    Examples
    --------
    >>> from dualad.shapes import as_index
    >>> as_index(0), as_index((slice(1, None), [0, 2]))
    ((0,), (slice(1, None, None), array([0, 2])))
    """
    key = index if isinstance(index, tuple) else (index,)
    checked = []
    for part in key:
        if part is None or part is Ellipsis or isinstance(part, slice):
            checked.append(part)
        elif isinstance(part, (int, np.integer)) and not isinstance(part, bool):
            checked.append(int(part))
        else:
            array = np.asarray(part)
            if array.dtype.kind not in "biu":
                raise ShapeMismatchError(f"getitem: index {part!r} is not an integer, a slice, "
                                         "None, ... or an integer or boolean array")
            checked.append(array)
    return tuple(checked)


def batched_index(index, batch):
    """``index`` for a value that carries ``batch`` leading axes in front.

    Examples
    --------
    >>> from dualad.shapes import batched_index
    >>> batched_index((0,), 1)
    (slice(None, None, None), 0)
    """
    return (slice(None),) * batch + tuple(index)


def unit(shape, index, one=1.0, zero=0.0):
    """The seed that is ``one`` at ``index`` (a tuple from ``np.ndindex(shape)``) and ``zero``
    elsewhere: one direction of a Jacobian sweep. ``one``/``zero`` may be sympy's ``S.One`` and
    ``S.Zero`` for exact symbolic sweeps.

    Examples
    --------
    >>> from dualad.shapes import unit
    >>> unit((3,), (1,)).tolist(), unit((), ())
    ([0.0, 1.0, 0.0], 1.0)
    """
    if shape == ():
        return one
    seed = np.full(shape, zero, dtype=np.asarray(one).dtype)
    seed[index] = one
    return seed
