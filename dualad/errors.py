"""Errors raised by dualad.

This module owns the exception hierarchy and nothing else. Every error dualad raises on
purpose derives from :class:`DualadError`, so ``except dualad.DualadError`` catches them all;
the subclasses also derive from the built-in exception a Python user would expect
(``ValueError`` for bad shapes or text, ``AssertionError`` for a failed gradient check).
"""

import numpy as np


class DualadError(Exception):
    """Base class of every error dualad raises on purpose.

    Examples
    --------
    >>> import dualad as ad
    >>> issubclass(ad.ShapeMismatchError, ad.DualadError)
    True
    """


class ShapeMismatchError(DualadError, ValueError):
    """Operands whose shapes do not fit the operation (they do not broadcast, say).

    The message names the operation and the offending shapes.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> try:
    ...     ad.add(ad.Var(np.ones(3)), ad.Var(np.ones(4)))
    ... except ad.ShapeMismatchError as err:
    ...     print(err)
    add: shapes (3,) and (4,) do not broadcast
    """


class ExpressionError(DualadError, ValueError):
    """Expression text that does not parse, or that uses something not allowed.

    Examples
    --------
    >>> import dualad as ad
    >>> issubclass(ad.ExpressionError, ValueError)
    True
    """


class GradientMismatchError(DualadError, AssertionError):
    """A derivative that disagrees with its reference.

    Examples
    --------
    >>> import dualad as ad
    >>> issubclass(ad.GradientMismatchError, AssertionError)
    True
    """


class MissingDependencyError(DualadError, ImportError):
    """An optional program or package this feature needs is not installed.

    The message says what to install (Graphviz's ``dot`` for pictures of graphs, matplotlib
    for plots).

    Examples
    --------
    >>> import dualad as ad
    >>> issubclass(ad.MissingDependencyError, ImportError)
    True
    """


class DerivativeLostError(DualadError, TypeError):
    """A ``Var`` or ``Dual`` turned into a plain Python number, which would drop its derivative.

    ``float(x)``, ``int(x)``, ``complex(x)`` and the ``math`` functions (``math.sin(x)``) all ask
    for a plain number; the graph could not follow what is done with it, so the derivative
    through that step would silently be zero. Use dualad's or numpy's functions on the value
    itself (``ad.sin(x)``, ``np.sin(x)``), or ``x.value`` when a plain number is really wanted.

    Examples
    --------
    >>> import math, dualad as ad
    >>> try:
    ...     math.sin(ad.Var(1.0))
    ... except ad.DerivativeLostError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    float() of a Var would lose its derivative: ...
    """


class BranchChangedError(DualadError):
    """A traced graph run where a branch decision recorded while tracing goes the other way.

    Python control flow on a traced value (``if x > 0:``) is decided once, when the function is
    traced; the graph only holds the branch that was taken. dualad records each such decision
    (a *guard*) and checks it whenever the graph runs at a new point. The message names the
    comparison, how it came out while tracing, and how it comes out now.

    Examples
    --------
    >>> import dualad as ad
    >>> graph = ad.trace(lambda x: x * x if x > 0 else -x, 2.0)
    >>> graph(3.0)
    9.0
    >>> try:
    ...     graph(-1.0)
    ... except ad.BranchChangedError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    the branch on x > 0 was taken as True when this graph was traced, but is False here; ...
    """


class SingularMatrixError(DualadError, np.linalg.LinAlgError):
    """A matrix that must be invertible (for ``ad.linalg.inv`` or ``ad.linalg.solve``) is not.

    It is singular, or so close to singular that no digit of the result could be trusted (its
    condition number is beyond 1/eps, about 4.5e15). The message names the operation, the
    shape, and for a stack of matrices which one. Like numpy's error, it is a
    ``numpy.linalg.LinAlgError`` and so a ``ValueError``.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> try:
    ...     ad.linalg.inv(np.array([[1.0, 2.0], [2.0, 4.0]]))
    ... except ad.SingularMatrixError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    inv: the matrix of shape (2, 2) is singular: it has no inverse ...
    """
