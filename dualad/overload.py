"""Operator overloading shared by ``Var`` and ``Dual``.

This module owns the mapping from Python's operators and numpy's protocols
(``__array_ufunc__``, ``__array_function__``) to registry primitives. A class that mixes in
:class:`Overloaded` says how to apply a primitive to its objects (``Var`` builds a graph node,
``Dual`` pushes a tangent) and how to see its plain value; everything else is here, once.

Comparisons (``<``, ``==``, ...) and functions that are constant almost everywhere
(``np.sign``, ``np.floor``, ...) are registry primitives like the others, with a zero derivative.
Turning a ``Var`` or ``Dual`` into a plain Python number (``float(x)``, ``math.sin(x)``) raises
:class:`~dualad.errors.DerivativeLostError`: the derivative through it would be lost.

Examples
--------
>>> import numpy as np, dualad as ad
>>> isinstance(np.add(ad.Var(1.0), 1), ad.Var), isinstance(np.sin(ad.Dual(1.0, 1.0)), ad.Dual)
(True, True)
"""

import numpy as np

from .errors import DerivativeLostError, DualadError, ShapeMismatchError
from .primitives import REGISTRY, bind_arguments, primitive_for_numpy
from .shapes import as_index, shape_of
from .values import NO_PARAMS

_P = REGISTRY


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

    # Comparisons are registry primitives with a boolean value and no derivative: on Vars they
    # build nodes (so where(x > 0, ...) is decided again at every point), on Duals they
    # compare the primals. Using one in an `if` is handled by __bool__.
    def __lt__(self, other):
        return self._apply(_P["less"], (self, other), NO_PARAMS)

    def __le__(self, other):
        return self._apply(_P["less_equal"], (self, other), NO_PARAMS)

    def __gt__(self, other):
        return self._apply(_P["greater"], (self, other), NO_PARAMS)

    def __ge__(self, other):
        return self._apply(_P["greater_equal"], (self, other), NO_PARAMS)

    def __eq__(self, other):
        return self._apply(_P["equal"], (self, other), NO_PARAMS)

    def __ne__(self, other):
        return self._apply(_P["not_equal"], (self, other), NO_PARAMS)

    def __and__(self, other):
        return self._apply(_P["logical_and"], (self, other), NO_PARAMS)

    def __rand__(self, other):
        return self._apply(_P["logical_and"], (other, self), NO_PARAMS)

    def __or__(self, other):
        return self._apply(_P["logical_or"], (self, other), NO_PARAMS)

    def __ror__(self, other):
        return self._apply(_P["logical_or"], (other, self), NO_PARAMS)

    def __invert__(self):
        return self._apply(_P["logical_not"], (self,), NO_PARAMS)

    # A plain Python number cannot carry a derivative: refuse to become one.
    def _lost(self, conversion):
        kind = type(self).__name__
        raise DerivativeLostError(
            f"{conversion}() of a {kind} would lose its derivative: the plain number it gives "
            f"is invisible to dualad, so the derivative through that step would silently be "
            f"0. Use dualad's or numpy's functions on the {kind} itself (ad.sin(x) or "
            f"np.sin(x), not math.sin(x)), or x.{self._plain_attribute} where a plain number is "
            "really wanted")

    def __float__(self):
        self._lost("float")

    def __int__(self):
        self._lost("int")

    def __complex__(self):
        self._lost("complex")

    def __index__(self):
        self._lost("int")

    def __round__(self, ndigits=None):
        self._lost("round")

    def __trunc__(self):
        self._lost("math.trunc")

    def __floor__(self):
        self._lost("math.floor")

    def __ceil__(self):
        self._lost("math.ceil")

    def __bool__(self):
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
        return self._apply(_P["add"], (self, other), NO_PARAMS)

    def __radd__(self, other):
        return self._apply(_P["add"], (other, self), NO_PARAMS)

    def __sub__(self, other):
        return self._apply(_P["subtract"], (self, other), NO_PARAMS)

    def __rsub__(self, other):
        return self._apply(_P["subtract"], (other, self), NO_PARAMS)

    def __mul__(self, other):
        return self._apply(_P["multiply"], (self, other), NO_PARAMS)

    def __rmul__(self, other):
        return self._apply(_P["multiply"], (other, self), NO_PARAMS)

    def __truediv__(self, other):
        return self._apply(_P["divide"], (self, other), NO_PARAMS)

    def __rtruediv__(self, other):
        return self._apply(_P["divide"], (other, self), NO_PARAMS)

    def __pow__(self, other):
        return self._apply(_P["power"], (self, other), NO_PARAMS)

    def __rpow__(self, other):
        return self._apply(_P["power"], (other, self), NO_PARAMS)

    def __matmul__(self, other):
        return self._apply(_P["matmul"], (self, other), NO_PARAMS)

    def __rmatmul__(self, other):
        return self._apply(_P["matmul"], (other, self), NO_PARAMS)

    def __neg__(self):
        return self._apply(_P["negative"], (self,), NO_PARAMS)

    def __pos__(self):
        return self

    def __abs__(self):
        return self._apply(_P["abs"], (self,), NO_PARAMS)

    # array methods: the registry ops of the same names, with numpy's arguments
    def _call(self, name, *args, **kwargs):
        prim = _P[name]
        inputs, params = prim.bind(self, *args, **kwargs)
        return self._apply(prim, inputs, params)

    @property
    def T(self):
        """The transpose."""
        return self._call("transpose")

    def sum(self, axis=None, keepdims=False):
        """Sum of elements (also reached by ``np.sum``)."""
        return self._call("sum", axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        """Mean of elements (also reached by ``np.mean``)."""
        return self._call("mean", axis, keepdims=keepdims)

    def transpose(self, *axes):
        """Permute axes (``x.transpose()`` reverses them)."""
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
        return self._call("transpose", tuple(axes) or None)

    def reshape(self, *shape):
        """The same elements in a new shape (``x.reshape(2, 3)``)."""
        return self._call("reshape", shape[0] if len(shape) == 1 else shape)

    def dot(self, other):
        """Dot product with ``other``."""
        from .ops import dot
        return dot(self, other)

    def __getitem__(self, index):
        key = as_index(index)
        if self.shape == () and any(part is not None and part is not Ellipsis for part in key):
            raise ShapeMismatchError(
                f"getitem: this {type(self).__name__} holds a scalar (shape ()), which has no "
                f"elements to index with {index!r}; use it as it is, or make it an array first "
                "(ad.reshape(x, (1,)))")
        return self._apply(_P["getitem"], (self,), {"index": key})

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
            prim = primitive_for_numpy(ufunc)
            if prim is not None:
                return self._apply(prim, inputs, NO_PARAMS)
        detail = f".{method}" if method != "__call__" else ""
        extra = " (keyword arguments are not supported)" if kwargs else ""
        raise DualadError(f"numpy.{ufunc.__name__}{detail} on a {type(self).__name__}: not a "
                          f"differentiable dualad primitive{extra}")

    def __array_function__(self, func, types, args, kwargs):
        if func in (np.shape, np.ndim, np.size):
            return func(*(self._plain(a) for a in args), **kwargs)
        prim = primitive_for_numpy(func)
        if prim is not None:
            inputs, params = bind_arguments(prim, args, kwargs)
            return self._apply(prim, inputs, params)
        composite = _composites().get(func)
        if composite is not None:
            return composite(*args, **kwargs)
        raise DualadError(f"numpy.{func.__name__} on a {type(self).__name__}: not a "
                          "differentiable dualad primitive")


def _composites():
    """numpy functions that dualad computes from several primitives (``dualad.ops``)."""
    from . import ops
    return {np.dot: ops.dot, np.stack: ops.stack, np.concatenate: ops.concatenate,
            np.einsum: ops.einsum}
