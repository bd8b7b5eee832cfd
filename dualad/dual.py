"""Dual numbers: a value and its tangent, carried together (forward mode by overloading).

This module owns :class:`Dual`. A ``Dual(primal, tangent)`` stands for primal + tangent * eps
with eps^2 = 0, so f(Dual(x, v)) = Dual(f(x), f'(x) v). Every operation looks up its primitive
in the registry and pushes the tangent with :func:`dualad.evaluators.base.push_tangent`: the
same rule application ``ForwardEvaluator`` uses, so no derivative is written here.

The tangent may carry one extra leading axis of k directions (as ForwardDiff.jl's chunks):
``Dual(x, V)`` with ``V.shape == (k,) + x.shape`` pushes k directions at once.

Functions that are constant almost everywhere (``np.sign``, ``np.floor``, comparisons) return
plain values: their tangent is zero.

Examples
--------
>>> import numpy as np
>>> from dualad import Dual
>>> np.sin(Dual(1.5, 1.0))            # Dual(sin 1.5, cos 1.5)
Dual(0.9974949866040544, 0.0707372016677029)
>>> x = Dual(3.0, 1.0)
>>> (x * x + 2 * x).tangent           # d/dx (x^2 + 2x) = 2x + 2
8.0
"""

import numpy as np

from .errors import DualadError, ShapeMismatchError
from .evaluators.base import push_tangent
from .values import as_value
from .overload import Overloaded
from .primitives import OVERLOADED_TYPES
from .shapes import shape_of


class Dual(Overloaded):
    """A dual number ``primal + tangent * eps`` (eps^2 = 0).

    Parameters
    ----------
    primal : float or array
    tangent : float or array, optional
        Of the primal's shape, or with one extra leading axis of k directions. Default 0.

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
    """

    __slots__ = ("primal", "tangent")

    def __init__(self, primal, tangent=0.0):
        primal = as_value(primal)
        tangent = as_value(tangent)
        if isinstance(primal, Dual) or isinstance(tangent, Dual):
            raise DualadError("Dual: nested Duals are not supported; use the transforms "
                              "(grad, jvp, hessian), which keep each level's perturbations "
                              "apart")
        p_shape, t_shape = shape_of(primal), shape_of(tangent)
        if t_shape != p_shape:
            if t_shape == ():
                tangent = np.full(p_shape, tangent)
            elif t_shape[1:] != p_shape:
                raise ShapeMismatchError(f"Dual: tangent shape {t_shape} does not fit primal "
                                         f"shape {p_shape} (give {p_shape} or (k,) + "
                                         f"{p_shape} for k directions)")
        self.primal = primal
        self.tangent = tangent

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

    _plain_attribute = "primal"

    __hash__ = None


def dual_apply(prim, args, params=None):
    """Apply a registry primitive to Duals (and plain values): value and pushed tangent.

    Tangents with and without a direction axis mix: a single tangent is shared by every
    direction. A result with no tangent at all is returned as a plain value.

    Examples
    --------
    >>> from dualad import Dual
    >>> from dualad.dual import dual_apply
    >>> from dualad.primitives import REGISTRY
    >>> dual_apply(REGISTRY["multiply"], (Dual(2.0, 1.0), 5.0))
    Dual(10.0, 5.0)
    """
    params = params or {}
    primals = [Dual._plain(a) for a in args]
    tangents = [a.tangent if isinstance(a, Dual) else None for a in args]
    batch = max((a.batch for a in args if isinstance(a, Dual)), default=0)
    if batch:
        tangents = [t if t is None or len(shape_of(t)) > len(shape_of(p)) else t[None]
                    for t, p in zip(tangents, primals)]
    out = prim.evaluate(*primals, **params)
    out_dot = push_tangent(prim, primals, out, tangents, batch, params)
    return out if out_dot is None else Dual(out, out_dot)


OVERLOADED_TYPES[Dual] = dual_apply
