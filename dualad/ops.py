"""Composite operations: user functions built from several registry primitives.

Every primitive's user function (``ad.sin``, ``ad.sum``, ...) is made by the registry itself
(:attr:`dualad.primitives.Primitive.function`, returned by :func:`dualad.register`). This module
owns the few user functions that are not one primitive: ``dot`` (a product when either side is
a scalar), ``stack`` (one scatter per value), ``concatenate`` (one join per pair of values) and
``einsum`` (diagonals, sums and one contraction per pair of operands).

Examples
--------
>>> import dualad as ad
>>> ad.dot(ad.Var(2.0), 3.0).op.name
'multiply'
"""

import operator

import numpy as np

from .errors import DualadError, ShapeMismatchError
from .primitives import REGISTRY
from .shapes import shape_of
from .structural import einsum_parts
from .values import as_value, is_traced

#: The user functions defined here, listed in ``ad.OPERATIONS`` with the registry's ops.
COMPOSITES = ("concatenate", "dot", "einsum", "stack")


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


def _refuse_options(name, **options):
    for option, value in options.items():
        if value is not None:
            raise DualadError(f"{name}: the numpy argument {option}= is not supported on "
                              f"dualad values (got {value!r})")


def concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    """Join values along an existing axis (a composite: one ``concatenate`` node per pair).

    As ``np.concatenate``: the values must have the same number of dimensions and agree on
    every axis but ``axis``; ``axis=None`` joins the values flattened. ``np.concatenate`` on
    Vars and Duals comes here.

    Raises
    ------
    ShapeMismatchError
        If a value is a scalar, the values' shapes do not fit, or ``axis`` is out of range.
    DualadError
        If there are no values, or ``axis`` is not an integer or None.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> x = ad.Var(np.array([1.0, 2.0]))
    >>> ad.concatenate([x, x * x, np.array([5.0])]).value.tolist()
    [1.0, 2.0, 1.0, 4.0, 5.0]
    >>> ad.jacobian(lambda x: ad.concatenate([x, 3 * x]))(np.array([1.0, 2.0])).tolist()
    [[1.0, 0.0], [0.0, 1.0], [3.0, 0.0], [0.0, 3.0]]
    >>> ad.concatenate([x, np.ones((2, 2))])
    Traceback (most recent call last):
      ...
    dualad.errors.ShapeMismatchError: concatenate: all values must have the same number of dimensions, got shapes (2,) and (2, 2)
    """
    _refuse_options("concatenate", out=out, dtype=dtype,
                    casting=None if casting == "same_kind" else casting)
    values = [v if is_traced(v) else as_value(v, f"concatenate: value {i}")
              for i, v in enumerate(arrays)]
    if not values:
        raise DualadError("concatenate: needs at least one value")
    reshape = REGISTRY["reshape"].evaluate
    if axis is None:                       # numpy's convention: join the values flattened
        values = [reshape(v, shape=(-1,)) for v in values]
        axis = 0
    shapes = [np.shape(_plain(v)) for v in values]
    listed = " and ".join(str(s) for s in dict.fromkeys(shapes))
    if any(s == () for s in shapes):
        raise ShapeMismatchError(f"concatenate: scalars cannot be joined along an axis (shapes "
                                 f"{listed}); use stack, or reshape them to shape (1,)")
    if len({len(s) for s in shapes}) != 1:
        raise ShapeMismatchError(f"concatenate: all values must have the same number of "
                                 f"dimensions, got shapes {listed}")
    try:
        axis = operator.index(axis)
    except TypeError:
        raise DualadError(f"concatenate: axis must be an integer or None, got {axis!r}") \
            from None
    ndim = len(shapes[0])
    if not -ndim <= axis < ndim:
        raise ShapeMismatchError(f"concatenate: axis {axis} is out of bounds for values of "
                                 f"shapes {listed} (axes run from {-ndim} to {ndim - 1})")
    axis %= ndim
    if len({s[:axis] + s[axis + 1:] for s in shapes}) != 1:
        raise ShapeMismatchError(f"concatenate: the values' shapes {listed} differ on an axis "
                                 f"other than the joined axis {axis}")
    join = REGISTRY["concatenate"].evaluate
    total = values[0] if is_traced(values[0]) else np.array(values[0])   # numpy's copy
    for value in values[1:]:
        total = join(total, value, axis=axis)
    return total


_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe",
           optimize=False):
    """Einstein summation, as ``np.einsum`` with an explicit output (``"ij,jk->ik"``).

    A composite: each operand's repeated letters become a diagonal (an indexing node) and its
    letters needed nowhere else are summed out (a ``sum`` node); then the operands are
    contracted two at a time, left to right, by the ``einsum`` primitive, and the result's
    axes put in the order of the output (a ``transpose`` node). ``optimize`` is accepted and
    changes nothing. ``np.einsum`` on Vars and Duals comes here.

    Raises
    ------
    DualadError
        For the implicit form (no ``->``), the ellipsis (``...``), numpy's interleaved form, a
        character that is not a letter, or an output letter twice or in no operand.
    ShapeMismatchError
        If the number of operands, or an operand's number of axes, does not match the
        subscripts, or one letter stands for axes of different lengths.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> ad.einsum("ij,jk->ik", ad.Var(A), A).value.tolist()
    [[7.0, 10.0], [15.0, 22.0]]
    >>> ad.grad(lambda A: ad.einsum("ii->", A))(A).tolist()          # d trace(A)/dA = I
    [[1.0, 0.0], [0.0, 1.0]]
    >>> ad.einsum("ij,jk", A, A)
    Traceback (most recent call last):
      ...
    dualad.errors.DualadError: einsum: write the output explicitly, as in 'ij,jk->ik' (the implicit form 'ij,jk' is not supported)
    """
    _refuse_options("einsum", out=out, dtype=dtype)
    if order != "K" or casting != "safe":
        raise DualadError(f"einsum: order={order!r} and casting={casting!r} are not supported "
                          "on dualad values")
    if not isinstance(subscripts, str):
        raise DualadError(f"einsum: the subscripts must be a string such as 'ij,jk->ik', got "
                          f"{type(subscripts).__name__} (numpy's interleaved form "
                          "einsum(a, [0, 1], b, [1, 2]) is not supported)")
    text = subscripts.replace(" ", "")
    if "." in text:
        raise DualadError(f"einsum: the ellipsis ('...') is not supported (in {subscripts!r}); "
                          "give every axis a letter")
    if text.count("->") != 1:
        what = "the implicit form" if "->" not in text else "more than one '->' in"
        raise DualadError(f"einsum: write the output explicitly, as in 'ij,jk->ik' ({what} "
                          f"{subscripts!r} is not supported)")
    terms, output = einsum_parts(text)
    for character in text.replace("->", "").replace(",", ""):
        if character not in _LETTERS:
            raise DualadError(f"einsum: {character!r} in {subscripts!r} is not a letter "
                              "(subscripts are letters a-z and A-Z)")
    if len(terms) != len(operands):
        raise ShapeMismatchError(f"einsum: {subscripts!r} names {len(terms)} operand"
                                 f"{'s' * (len(terms) != 1)}, got {len(operands)}")
    values = [v if is_traced(v) else as_value(v, f"einsum: operand {i}")
              for i, v in enumerate(operands)]
    lengths = {}
    for i, (letters, value) in enumerate(zip(terms, values)):
        shape = np.shape(_plain(value))
        if len(letters) != len(shape):
            raise ShapeMismatchError(f"einsum: operand {i} has shape {shape} ({len(shape)} "
                                     f"axes), but its subscripts {letters!r} name {len(letters)}")
        for letter, n in zip(letters, shape):
            if lengths.setdefault(letter, n) != n:
                raise ShapeMismatchError(f"einsum: the letter {letter!r} stands for axes of "
                                         f"lengths {lengths[letter]} and {n} (operand {i}, "
                                         f"shape {shape})")
    for letter in output:
        if output.count(letter) > 1:
            raise DualadError(f"einsum: the output {output!r} names {letter!r} twice")
        if letter not in lengths:
            raise DualadError(f"einsum: the output letter {letter!r} is in no operand's "
                              f"subscripts ({subscripts!r})")
    # left to right: keep only the letters the remaining operands or the output still need
    current, letters = _einsum_reduce(values[0], terms[0], set(output).union(*terms[1:]))
    for k in range(1, len(values)):
        later = set(output).union(*terms[k + 1:])
        other, other_letters = _einsum_reduce(values[k], terms[k], set(letters) | later)
        kept = "".join(c for c in dict.fromkeys(letters + other_letters) if c in later)
        current = REGISTRY["einsum"].evaluate(current, other,
                                              subscripts=f"{letters},{other_letters}->{kept}")
        letters = kept
    current, letters = _einsum_reduce(current, letters, set(output))
    if letters != output:
        current = REGISTRY["transpose"].evaluate(
            current, axes=tuple(letters.index(c) for c in output))
    return current


def _einsum_reduce(value, letters, keep):
    """``value`` (its axes named by ``letters``) with the diagonal of each repeated letter
    taken and the letters not in ``keep`` summed out: ``(value, its letters)``, each once."""
    unique = "".join(dict.fromkeys(letters))
    if unique != letters:
        # every axis indexed by an arange over its letter's position in `unique`: the result
        # has one axis per distinct letter, value[i, i, j] at [i, j] for "iij"
        lengths = dict(zip(letters, np.shape(_plain(value))))
        index = tuple(np.arange(lengths[c]).reshape([lengths[c] if u == c else 1
                                                     for u in unique]) for c in letters)
        value = REGISTRY["getitem"].evaluate(value, index=index)
    summed = tuple(i for i, c in enumerate(unique) if c not in keep)
    if summed:
        value = REGISTRY["sum"].evaluate(value, axis=summed, keepdims=False)
        unique = "".join(c for c in unique if c in keep)
    return value, unique
