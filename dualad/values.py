"""Values: what dualad accepts as a number, and the shared empty parameter dict.

This module owns the normalisation of values given by users (ints become floats, lists become
float arrays) and the refusal of everything that is not a number: ``None``, strings, objects.
It is a leaf: it imports nothing from the rest of dualad but its errors and the test for
symbolic values, so the graph, the evaluators and the entry points can all use it without an
import cycle.

Examples
--------
>>> from dualad.values import as_value
>>> as_value(3), as_value([1, 2]).dtype.name
(3.0, 'float64')
"""

import numbers

import numpy as np

from .errors import DualadError
from .mathns import is_symbolic

#: The (shared, never modified) parameters of an op that takes none: one dict, not one per node.
NO_PARAMS = {}

#: Value types being recorded (:mod:`dualad.evaluators.record`), each with the function that
#: writes a call its values cannot run through (``handler(function, args, kwargs)``).
RECORDING_TYPES = {}


def opaque_handler(*values):
    """The recorder of the first recorded value among ``values``, or ``None``.

    Examples
    --------
    >>> from dualad.values import opaque_handler
    >>> opaque_handler(1.0, 2.0) is None
    True
    """
    for value in values:
        handler = RECORDING_TYPES.get(type(value))
        if handler is not None:
            return handler
    return None


def is_traced(value):
    """True for a ``Var`` or a ``Dual``: a value that carries a derivative along with it.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.values import is_traced
    >>> is_traced(ad.Var(1.0)), is_traced(ad.Dual(1.0, 1.0)), is_traced(1.0)
    (True, True, False)
    """
    return hasattr(type(value), "_apply")


def describe(value):
    """A short description of a value for error messages: its type, and what it is.

    Examples
    --------
    >>> from dualad.values import describe
    >>> describe(None), describe("3"), describe(object())[:6]
    ('None', "a str ('3')", 'an obj')
    """
    if value is None:
        return "None"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    shown = repr(value)
    if len(shown) > 40:
        return f"{article} {name}"
    return f"{article} {name} ({shown})"


def is_plain(value):
    """True for a value :func:`as_value` keeps as it is without a look: a Python float, or a
    numpy array of floats or complex numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.values import is_plain
    >>> is_plain(1.0), is_plain(np.ones(2)), is_plain(1), is_plain(np.arange(2))
    (True, True, False, False)
    """
    kind = type(value)
    return kind is float or (kind is np.ndarray and value.dtype.kind in "fc")


def as_value(value, what="Var"):
    """Normalise a value: ints and bools become floats, lists become float arrays.

    Floats, float arrays, complex values, sympy expressions, ``Var`` nodes and ``Dual`` numbers
    are kept as they are. ``None``, strings and other non-numbers raise a
    :class:`~dualad.errors.DualadError` naming ``what`` was being done and what was given.

    Examples
    --------
    >>> from dualad.values import as_value
    >>> as_value(True), as_value([[1, 2]]).shape
    (1.0, (1, 2))
    >>> as_value(None, "grad: argument x")
    Traceback (most recent call last):
      ...
    dualad.errors.DualadError: grad: argument x is None; expected a number or a numeric array
    """
    if is_plain(value):
        return value
    if value is None or isinstance(value, (str, bytes)):
        raise DualadError(f"{what} is {describe(value)}; expected a number or a numeric array")
    if is_symbolic(value):  # before the number checks: sympy registers Integer as Integral
        return value
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, numbers.Integral):
        return float(value)
    if isinstance(value, np.floating) and np.ndim(value) == 0:
        return float(value) if value.dtype == np.float64 else value
    if isinstance(value, numbers.Number):
        return value
    if is_traced(value):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise DualadError(f"{what} is {describe(value)}, which is not a number or a numeric "
                          f"array ({err})") from None
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind not in "fc" and not (array.dtype == object and _all_symbolic(array)):
        raise DualadError(f"{what} is {describe(value)} (dtype {array.dtype}), which is not a "
                          "number or a numeric array")
    return array


def _all_symbolic(array):
    """True for an object array of sympy values (the symbolic evaluators' arrays)."""
    return all(is_symbolic(v) for v in array.flat)
