"""Errors raised by dualad.

This module owns the exception hierarchy and nothing else. Every error dualad raises on
purpose derives from :class:`DualadError`, so ``except dualad.DualadError`` catches them all;
the subclasses also derive from the built-in exception a Python user would expect
(``ValueError`` for bad shapes or text, ``AssertionError`` for a failed gradient check).
"""


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
