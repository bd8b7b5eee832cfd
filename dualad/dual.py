"""Dual numbers: a value and its tangent, carried together (forward mode by overloading).

This module owns :class:`Dual`. A ``Dual(primal, tangent)`` stands for primal + tangent * eps
with eps^2 = 0, so f(Dual(x, v)) = Dual(f(x), f'(x) v). Every operation looks up its primitive
in the registry and pushes the tangent with :func:`dualad.evaluators.base.push_tangent`: the
same rule application ``ForwardEvaluator`` uses, so no derivative is written here.

The tangent may carry one extra leading axis of k directions (as ForwardDiff.jl's chunks):
``Dual(x, V)`` with ``V.shape == (k,) + x.shape`` pushes k directions at once.

Duals nest. A Dual's *level* is one more than the highest level of its parts (plain numbers
are level 0), and each level has its own eps: ``Dual(Dual(x, 1), Dual(1, 0))`` is the
hyper-dual number x + eps1 + eps2 + 0 eps1 eps2, and f of it carries f''(x) in
``.tangent.tangent``. When an op meets Duals of different levels, the highest level is the
active one and lower-level Duals enter it as constants (their whole value is the primal): each
level's perturbation stays apart from the others (ForwardDiff.jl's tags, in their simplest
form; tests/test_nested_duals.py::test_perturbation_confusion_is_avoided_by_levels).

Functions that are constant almost everywhere (``np.sign``, ``np.floor``, comparisons) return
plain values: their tangent is zero.

``repr`` is the constructor (``Dual(2.0, 1.0)``, which evaluates back to the number); ``str``
and notebooks show the mathematics (``2 + 1ε``, and ε₁, ε₂, ... when Duals nest).

Examples
--------
>>> import numpy as np
>>> from dualad import Dual
>>> np.sin(Dual(1.5, 1.0))            # Dual(sin 1.5, cos 1.5)
Dual(0.9974949866040544, 0.0707372016677029)
>>> x = Dual(3.0, 1.0)
>>> (x * x + 2 * x).tangent           # d/dx (x^2 + 2x) = 2x + 2
8.0
>>> print(x * x)
9 + 6ε
>>> h = np.sin(Dual(Dual(0.5, 1.0), Dual(1.0, 0.0)))
>>> bool(np.isclose(h.tangent.tangent, -np.sin(0.5)))     # (sin x)'' = -sin x
True
"""

import numpy as np

from .errors import ShapeMismatchError
from .evaluators.base import push_tangent
from .values import as_value
from .overload import Overloaded
from .primitives import OVERLOADED_TYPES
from .printing import format_value, subscript
from .shapes import shape_of

#: Decimal places ``str`` shows; ``repr`` shows every digit.
DECIMALS = 6


def level_of(value):
    """The nesting level of a value: 0 for a plain number, 1 for ``Dual(x, v)`` with plain
    parts, one more than its highest part for a nested Dual.

    Examples
    --------
    >>> from dualad import Dual
    >>> from dualad.dual import level_of
    >>> level_of(2.0), level_of(Dual(2.0, 1.0)), level_of(Dual(Dual(2.0, 1.0), 0.0))
    (0, 1, 2)
    """
    return value.level if isinstance(value, Dual) else 0


class Dual(Overloaded):
    """A dual number ``primal + tangent * eps`` (eps^2 = 0).

    Parameters
    ----------
    primal : float, array or Dual
    tangent : float, array or Dual, optional
        Of the primal's shape, or with one extra leading axis of k directions. Default 0.
        Either part may itself be a Dual (a number of a lower level): see the module
        docstring for how levels keep perturbations apart.

    Attributes
    ----------
    primal, tangent
        The two parts.
    level : int
        1 + the highest level of the parts (plain numbers are level 0).

    Examples
    --------
    >>> import numpy as np
    >>> from dualad import Dual
    >>> y = np.exp(Dual(0.0, 1.0)) * 3
    >>> y.primal, y.tangent
    (3.0, 3.0)
    >>> v = Dual(np.array([1.0, 2.0]), np.eye(2))          # two directions at once
    >>> (v * v).tangent.tolist()                           # rows: d/dx_1, d/dx_2 of x^2
    [[2.0, 0.0], [0.0, 4.0]]
    >>> x = Dual(Dual(2.0, 1.0), Dual(1.0, 0.0))           # x + eps1 + eps2
    >>> x.level, (x ** 3).tangent.tangent                  # (x^3)'' = 6x
    (2, 12.0)
    """

    __slots__ = ("primal", "tangent", "level")

    def __init__(self, primal, tangent=0.0):
        primal = as_value(primal, "Dual: the primal")
        tangent = as_value(tangent, "Dual: the tangent")
        p_shape, t_shape = shape_of(primal), shape_of(tangent)
        if t_shape != p_shape:
            if t_shape == ():
                tangent = (np.broadcast_to(tangent, p_shape) if isinstance(tangent, Dual)
                           else np.full(p_shape, tangent))
            elif t_shape[1:] != p_shape:
                raise ShapeMismatchError(f"Dual: tangent shape {t_shape} does not fit primal "
                                         f"shape {p_shape} (give {p_shape} or (k,) + "
                                         f"{p_shape} for k directions)")
        self.primal = primal
        self.tangent = tangent
        self.level = 1 + max(level_of(primal), level_of(tangent))

    @staticmethod
    def _apply(prim, args, params):
        return dual_apply(prim, args, params)

    @staticmethod
    def _plain(x):
        return x.primal if isinstance(x, Dual) else x

    @property
    def batch(self):
        """1 when the tangent carries a leading axis of directions, else 0."""
        return len(shape_of(self.tangent)) - len(shape_of(self.primal))

    def __repr__(self):
        return f"Dual({self.primal!r}, {self.tangent!r})"

    def __str__(self):
        """The number as mathematics writes it: ``2 + 1ε``; ε₁, ε₂, ... for nested Duals."""
        return _written(self, _text_number, _text_unit)

    def _repr_latex_(self):
        """The number in LaTeX, for notebooks: ``$2 + 1\\varepsilon$``."""
        return f"${_written(self, _latex_number, _latex_unit)}$"

    _plain_attribute = "primal"

    __hash__ = None


# ---- how a Dual is written: one term per product of eps's ----

def _terms(value):
    """``value`` expanded into ``(levels, coefficient)`` terms: a nested Dual is a sum of
    coefficients times products of the eps's of distinct levels (x + eps1 + eps2 + 0 eps1 eps2).
    """
    if not isinstance(value, Dual):
        return [((), value)]
    return _terms(value.primal) + [(levels + (value.level,), c)
                                   for levels, c in _terms(value.tangent)]


def _written(dual, number, unit):
    """``dual`` as a sum of terms, each number written by ``number`` and each product of
    eps's by ``unit`` (given the levels; a lone level-1 Dual has one eps, with no index)."""
    text = ""
    for levels, c in _terms(dual):
        word = number(c)
        sign = " + "
        if word.startswith("-") and shape_of(c) == ():
            sign, word = " - ", word[1:]
        eps = unit(levels, dual.level)
        text = word + eps if not text else text + sign + word + eps
    return text


def _text_number(c):
    return format_value(c, DECIMALS)


def _text_unit(levels, top):
    if top == 1:
        return "ε" * len(levels)
    return "".join("ε" + subscript(level) for level in levels)


def _latex_number(c):
    if shape_of(c) == () or np.ndim(c) > 2:
        return _text_number(c)
    rows = np.atleast_2d(c)
    body = r" \\ ".join(" & ".join(format_value(x, DECIMALS) for x in row) for row in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def _latex_unit(levels, top):
    if top == 1:
        return r"\varepsilon" * len(levels)
    return "".join(r"\varepsilon_{%d}" % level for level in levels)


def dual_apply(prim, args, params=None):
    """Apply a registry primitive to Duals (and plain values): value and pushed tangent.

    The highest level among the Duals is the active one: Duals of that level give their
    primal and tangent, everything else (plain values, Duals of lower levels) is a constant.
    Tangents with and without a direction axis mix: a single tangent is shared by every
    direction. A result with no tangent at all is returned as a plain value.

    Examples
    --------
    >>> from dualad import Dual
    >>> from dualad.dual import dual_apply
    >>> from dualad.primitives import REGISTRY
    >>> dual_apply(REGISTRY["multiply"], (Dual(2.0, 1.0), 5.0))
    Dual(10.0, 5.0)
    >>> dual_apply(REGISTRY["multiply"], (Dual(Dual(2.0, 0.0), 1.0), Dual(5.0, 1.0)))
    Dual(Dual(10.0, 2.0), Dual(5.0, 1.0))
    """
    params = params or {}
    level = max(a.level for a in args if isinstance(a, Dual))
    active = [isinstance(a, Dual) and a.level == level for a in args]
    primals = [a.primal if on else a for a, on in zip(args, active)]
    tangents = [a.tangent if on else None for a, on in zip(args, active)]
    batch = max((a.batch for a, on in zip(args, active) if on), default=0)
    if batch:
        tangents = [t if t is None or len(shape_of(t)) > len(shape_of(p)) else t[None]
                    for t, p in zip(tangents, primals)]
    out = prim.evaluate(*primals, **params)
    out_dot = push_tangent(prim, primals, out, tangents, batch, params)
    return out if out_dot is None else Dual(out, out_dot)


OVERLOADED_TYPES[Dual] = dual_apply
