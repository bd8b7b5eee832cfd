"""Shapes: broadcasting checks, summing an adjoint back to its input's shape, and indexing.

This module owns shape bookkeeping shared by the evaluators and the structural rules: how
broadcasting widens a value, how a batch axis of several directions is carried in front, and
where numpy's indexing puts the axes of an index (:func:`advanced_axes`,
:func:`batch_position`). It knows nothing about any particular operation: the name passed in
is only used in error messages.

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

    Lists become arrays, 0-d integer arrays become ints (numpy treats them alike) and an empty
    list is an empty integer array, as in numpy.

    Examples
    --------
    >>> from dualad.shapes import as_index
    >>> as_index(0), as_index((slice(1, None), [0, 2]))
    ((0,), (slice(1, None, None), array([0, 2])))
    >>> as_index(0.5)
    Traceback (most recent call last):
      ...
    dualad.errors.ShapeMismatchError: getitem: index 0.5 is not an integer, a slice, None, ... or an integer or boolean array
    """
    key = index if isinstance(index, tuple) else (index,)
    checked = []
    for part in key:
        if part is None or part is Ellipsis or isinstance(part, slice):
            checked.append(part)
        elif isinstance(part, (int, np.integer)) and not isinstance(part, bool):
            checked.append(int(part))
        else:
            try:
                array = np.asarray(part)
            except ValueError:                       # ragged nested lists
                array = np.asarray(None)
            if array.size == 0 and array.dtype.kind == "f" and not isinstance(part, np.ndarray):
                array = array.astype(np.intp)       # x[[]]: numpy reads [] as no integers
            if array.dtype.kind not in "biu":
                raise ShapeMismatchError(f"getitem: index {part!r} is not an integer, a slice, "
                                         "None, ... or an integer or boolean array")
            checked.append(int(array) if array.ndim == 0 and array.dtype.kind != "b"
                           else array)
    return tuple(checked)


def advanced_axes(index, ndim):
    """The axes of ``x[index]`` (``x`` with ``ndim`` axes) that advanced indexing creates.

    numpy's rule: when the index holds an integer or boolean array, its integer scalars count
    as advanced too, and all advanced entries broadcast together into one block of axes. If
    those entries are adjacent in the index as written, the block takes the place of the first
    of them; if a slice, ``None`` or ``...`` stands between them (even an ``...`` that expands
    to no axes), the block goes first. Without an array in the index there is no block (an
    empty range). A boolean array stands for its ``nonzero()``: one axis, but it uses up as
    many axes of ``x`` as it has.

    Parameters
    ----------
    index : index key (anything :func:`as_index` accepts)
    ndim : int
        The number of axes of the indexed value.

    Returns
    -------
    range
        The positions of the advanced axes in the result.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.shapes import advanced_axes
    >>> x = np.zeros((2, 3, 4))
    >>> x[:, [0, 1], [0, 2]].shape, advanced_axes((slice(None), [0, 1], [0, 2]), 3)
    ((2, 2), range(1, 2))
    >>> x[0, :, [0, 1]].shape, advanced_axes((0, slice(None), [0, 1]), 3)     # separated
    ((2, 3), range(0, 1))
    >>> advanced_axes((0, slice(None)), 3)                                    # basic only
    range(0, 0)
    """
    index = as_index(index)
    if not any(isinstance(part, np.ndarray) for part in index):
        return range(0)
    advanced = [i for i, part in enumerate(index) if isinstance(part, (int, np.ndarray))]
    count = max(1 if part.dtype.kind == "b" else part.ndim
                for part in index if isinstance(part, np.ndarray))
    if advanced[-1] - advanced[0] + 1 != len(advanced):      # separated: the block goes first
        return range(count)
    used = sum(part.ndim if isinstance(part, np.ndarray) and part.dtype.kind == "b"
               else 0 if part is None or part is Ellipsis else 1 for part in index)
    start = sum(max(ndim - used, 0) if part is Ellipsis else 1      # a slice or None: one axis
                for part in index[:advanced[0]])
    return range(start, start + count)


def batched_index(index, batch):
    """``index`` for a value that carries ``batch`` leading axes in front.

    numpy's rule may then put the advanced axes in front of the batch axes
    (:func:`batch_position` says where the batch axes land).

    Examples
    --------
    >>> from dualad.shapes import batched_index
    >>> batched_index((0,), 1)
    (slice(None, None, None), 0)
    """
    return (slice(None),) * batch + tuple(index)


def batch_position(index, ndim, batch):
    """Where the ``batch`` leading axes of ``t`` land in ``t[batched_index(index, batch)]``.

    ``t`` has ``batch`` axes in front of a value's ``ndim``. The batch axes are basic (slices),
    so they stay in front, unless the advanced axes are separated and numpy puts them first:
    then the batch axes come right after them.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.shapes import batch_position
    >>> t = np.zeros((5, 2, 3, 4))                 # 5 directions of a (2, 3, 4) value
    >>> t[:, 0, :, [0, 1]].shape, batch_position((0, slice(None), [0, 1]), 3, 1)
    ((2, 5, 3), 1)
    >>> t[:, :, [0, 1], [0, 1]].shape, batch_position((slice(None), [0, 1], [0, 1]), 3, 1)
    ((5, 2, 2), 0)
    """
    if not batch:
        return 0
    axes = advanced_axes(batched_index(index, batch), ndim + batch)
    return len(axes) if axes and axes.start == 0 else 0


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


def identity_blocks(shapes, start=0, stop=None):
    """Unit directions for several arguments at once: one array per shape, of shape
    ``(N,) + shape`` with N the total size, together forming the N x N identity; and the sizes.
    With ``start`` and ``stop``, only the directions ``start`` to ``stop - 1`` (rows of that
    identity), for a sweep over a group of them.

    Examples
    --------
    >>> from dualad.shapes import identity_blocks
    >>> blocks, sizes = identity_blocks([(), (2,)])
    >>> [b.tolist() for b in blocks], sizes
    ([[1.0, 0.0, 0.0], [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]], [1, 2])
    >>> [b.tolist() for b in identity_blocks([(), (2,)], 1, 2)[0]]
    [[0.0], [[1.0, 0.0]]]
    """
    sizes = [size(shape) for shape in shapes]
    stop = sum(sizes) if stop is None else stop
    blocks, offset = [], 0
    for shape, count in zip(shapes, sizes):
        block = np.zeros((stop - start, count))
        # only the ones are written: copying in a dense eye(count) would touch every page of
        # the block, and for 1,000 inputs cost 20x the forward sweep it seeds
        low, high = max(start, offset), min(stop, offset + count)
        if low < high:
            block[np.arange(low - start, high - start), np.arange(low - offset, high - offset)] = 1.0
        blocks.append(block.reshape((stop - start,) + tuple(shape)))
        offset += count
    return blocks, sizes


#: The most numbers a batched sweep's tangents (or adjoints) may hold at one node; more unit
#: directions than that are run in groups (a 150 x 150 input has 22,650 of them, and its
#: tangents in one batch would take 4 GB).
BATCH_ELEMENTS = 2**22


def direction_groups(total, largest):
    """``(start, stop)`` ranges covering ``total`` unit directions, in groups small enough
    that a node of ``largest`` elements holds at most ``BATCH_ELEMENTS`` tangent numbers.

    Examples
    --------
    >>> from dualad.shapes import direction_groups
    >>> direction_groups(3, 1), len(direction_groups(22650, 22500)), direction_groups(0, 1)
    ([(0, 3)], 122, [(0, 0)])
    """
    step = max(1, BATCH_ELEMENTS // max(largest, 1))
    return [(k, min(k + step, total)) for k in range(0, total, step)] or [(0, 0)]
