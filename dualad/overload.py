"""Operator overloading shared by ``Var`` and ``Dual``.

This module owns the mapping from Python's operators and numpy's protocols
(``__array_ufunc__``, ``__array_function__``) to registry primitives. A class that mixes in
:class:`Overloaded` says how to apply a primitive to its objects (``Var`` builds a graph node,
``Dual`` pushes a tangent) and how to see its plain value; everything else is here, once.

Functions that are constant almost everywhere (``np.sign``, ``np.heaviside``, ``np.floor``,
comparisons) see only plain values: their derivative is zero wherever it exists.

Examples
--------
>>> import numpy as np, dualad as ad
>>> isinstance(np.add(ad.Var(1.0), 1), ad.Var), isinstance(np.sin(ad.Dual(1.0, 1.0)), ad.Dual)
(True, True)
"""

import numpy as np

from .errors import DualadError
from .primitives import REGISTRY
from .shapes import as_index, shape_of  # noqa: F401 (shape_of is used by ops)

#: numpy ufunc -> the registry primitive it stands for (np.abs is np.absolute, and so on).
UFUNC_PRIMITIVES = {prim.numpy: prim for prim in REGISTRY.values()
                    if isinstance(prim.numpy, np.ufunc)}

#: ufuncs whose derivative is zero wherever it exists: they see only plain values.
PIECEWISE_CONSTANT = {np.sign, np.heaviside, np.floor, np.ceil, np.trunc, np.rint,
                      np.greater, np.greater_equal, np.less, np.less_equal, np.equal,
                      np.not_equal, np.isnan, np.isinf, np.isfinite, np.signbit}

_P = REGISTRY


def shape_param(shape):
    """A shape argument (an int or a sequence) as a tuple of ints.

    Examples
    --------
    >>> from dualad.overload import shape_param
    >>> shape_param(3), shape_param([2, 3])
    ((3,), (2, 3))
    """
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(n) for n in shape)


class Overloaded:
    """Mixin: operators and numpy protocols as registry primitives.

    Subclasses define ``_apply(prim, args, params)`` (apply a primitive to a tuple of
    arguments, some of them of this class) and ``_plain(x)`` (the plain value of ``x``).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.overload import Overloaded
    >>> issubclass(ad.Var, Overloaded) and issubclass(ad.Dual, Overloaded)
    True
    """

    __slots__ = ()

    @staticmethod
    def _apply(prim, args, params):
        raise NotImplementedError

    @staticmethod
    def _plain(x):
        raise NotImplementedError

    # comparisons look at plain values and return plain booleans: not differentiable
    def __lt__(self, other):
        return self._plain(self) < self._plain(other)

    def __le__(self, other):
        return self._plain(self) <= self._plain(other)

    def __gt__(self, other):
        return self._plain(self) > self._plain(other)

    def __ge__(self, other):
        return self._plain(self) >= self._plain(other)

    def __float__(self):
        return float(self._plain(self))

    def __bool__(self):
        # Python control flow on a value is decided now, once (frozen in a traced graph).
        return bool(self._plain(self))

    @property
    def shape(self):
        """The shape of the value (``()`` for a scalar)."""
        return shape_of(self._plain(self))

    @property
    def ndim(self):
        """The number of dimensions of the value."""
        return len(self.shape)

    # arithmetic
    def __add__(self, other):
        return self._apply(_P["add"], (self, other), {})

    def __radd__(self, other):
        return self._apply(_P["add"], (other, self), {})

    def __sub__(self, other):
        return self._apply(_P["subtract"], (self, other), {})

    def __rsub__(self, other):
        return self._apply(_P["subtract"], (other, self), {})

    def __mul__(self, other):
        return self._apply(_P["multiply"], (self, other), {})

    def __rmul__(self, other):
        return self._apply(_P["multiply"], (other, self), {})

    def __truediv__(self, other):
        return self._apply(_P["divide"], (self, other), {})

    def __rtruediv__(self, other):
        return self._apply(_P["divide"], (other, self), {})

    def __pow__(self, other):
        return self._apply(_P["power"], (self, other), {})

    def __rpow__(self, other):
        return self._apply(_P["power"], (other, self), {})

    def __matmul__(self, other):
        return self._apply(_P["matmul"], (self, other), {})

    def __rmatmul__(self, other):
        return self._apply(_P["matmul"], (other, self), {})

    def __neg__(self):
        return self._apply(_P["negative"], (self,), {})

    def __pos__(self):
        return self

    def __abs__(self):
        return self._apply(_P["abs"], (self,), {})

    # array methods
    @property
    def T(self):
        """The transpose."""
        return self._apply(_P["transpose"], (self,), {"axes": None})

    def sum(self, axis=None, keepdims=False):
        """Sum of elements (also reached by ``np.sum``)."""
        return self._apply(_P["sum"], (self,), {"axis": axis, "keepdims": bool(keepdims)})

    def mean(self, axis=None, keepdims=False):
        """Mean of elements (also reached by ``np.mean``)."""
        return self._apply(_P["mean"], (self,), {"axis": axis, "keepdims": bool(keepdims)})

    def transpose(self, *axes):
        """Permute axes (``x.transpose()`` reverses them)."""
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
        return self._apply(_P["transpose"], (self,), {"axes": tuple(axes) or None})

    def reshape(self, *shape):
        """The same elements in a new shape (``x.reshape(2, 3)``)."""
        return self._apply(_P["reshape"], (self,),
                           {"shape": shape_param(shape[0] if len(shape) == 1 else shape)})

    def dot(self, other):
        """Dot product with ``other``."""
        return dot(self._apply, self, other, self._plain)

    def __getitem__(self, index):
        return self._apply(_P["getitem"], (self,), {"index": as_index(index)})

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError(f"len() of a scalar {type(self).__name__}")
        return shape[0]

    def __iter__(self):
        # unpacking (a, b, c = x) indexes one element at a time
        return (self[i] for i in range(len(self)))

    # numpy protocols: np.sin(x), np.add(x, 1), array + x, np.sum(x), np.dot(a, x), ...
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            if ufunc in PIECEWISE_CONSTANT:
                return ufunc(*(self._plain(a) for a in inputs))
            prim = UFUNC_PRIMITIVES.get(ufunc)
            if prim is not None:
                return self._apply(prim, inputs, {})
        detail = f".{method}" if method != "__call__" else ""
        extra = " (keyword arguments are not supported)" if kwargs else ""
        raise DualadError(f"numpy.{ufunc.__name__}{detail} on a {type(self).__name__}: not a "
                          f"differentiable dualad primitive{extra}")

    def __array_function__(self, func, types, args, kwargs):
        if func in (np.shape, np.ndim, np.size):
            return func(*(self._plain(a) for a in args), **kwargs)
        handler = _ARRAY_FUNCTIONS.get(func)
        if handler is None:
            raise DualadError(f"numpy.{func.__name__} on a {type(self).__name__}: not a "
                              "differentiable dualad primitive")
        return handler(self._apply, self._plain, *args, **kwargs)


def dot(apply, a, b, plain):
    """``dot(a, b)``: a plain product when either side is a scalar, else the ``dot`` primitive.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.dot(ad.Var(2.0), 3.0).op.name
    'multiply'
    """
    if len(shape_of(plain(a))) == 0 or len(shape_of(plain(b))) == 0:
        return apply(_P["multiply"], (a, b), {})
    return apply(_P["dot"], (a, b), {})


def _sum(apply, plain, a, axis=None, dtype=None, out=None, keepdims=False, **unused):
    return apply(_P["sum"], (a,), {"axis": axis, "keepdims": bool(keepdims)})


def _mean(apply, plain, a, axis=None, dtype=None, out=None, keepdims=False, **unused):
    return apply(_P["mean"], (a,), {"axis": axis, "keepdims": bool(keepdims)})


def _transpose(apply, plain, a, axes=None):
    return apply(_P["transpose"], (a,), {"axes": None if axes is None else tuple(axes)})


def _reshape(apply, plain, a, shape, order="C"):
    if order != "C":
        raise DualadError(f"reshape: only order='C' is supported, got {order!r}")
    return apply(_P["reshape"], (a,), {"shape": shape_param(shape)})


def _broadcast_to(apply, plain, a, shape, subok=False):
    return apply(_P["broadcast_to"], (a,), {"shape": shape_param(shape)})


def _dot(apply, plain, a, b):
    return dot(apply, a, b, plain)


_ARRAY_FUNCTIONS = {np.sum: _sum, np.mean: _mean, np.transpose: _transpose,
                    np.reshape: _reshape, np.broadcast_to: _broadcast_to, np.dot: _dot}
