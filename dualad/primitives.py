"""The primitive registry: every operation dualad differentiates, each declared once.

This module owns the :class:`Primitive` record and ``REGISTRY``; nothing else. Evaluators,
the ``Var`` operators, ``Dual`` numbers and the sympy bridge all read these records, and no
derivative formula exists anywhere else in dualad.

The record (add an op by adding one ``register(Primitive(...))`` block below)
------------------------------------------------------------------------------
name
    numpy's name for the op (``"multiply"``, not ``"mul"``); the user function has this name.
numpy
    The numeric implementation, called as ``numpy(*values, **params)``.
math
    Optional fast path for Python floats (``math.sin``, ``operator.mul``). Where it raises
    (``math.log(-1.0)``), dualad falls back to ``numpy`` and its ``nan``/``inf``.
sympy
    The *specification*: the same op on sympy expressions. ``sympy.diff`` of this form is the
    referee every rule is proved against (``tests/test_registry.py``).
pds
    Elementwise ops only: one local partial per input, ``pd(m, *inputs, out)`` ->
    d(out)/d(input_i), written against the math namespace ``m`` (:mod:`dualad.mathns`) so the
    one line runs on floats, arrays, Duals and sympy symbols. ``out`` lets ``exp``, ``sqrt`` and
    ``tanh`` reuse the value already computed. Evaluators broadcast and un-broadcast around it.
jvp, vjp
    Structural ops only (``sum``, ``mean``, ``dot``, ``matmul``, ``transpose``), where a local
    partial would be a whole Jacobian. ``jvp(m, tangents, inputs, out, batch, **params)`` returns
    the output tangent (``tangents`` holds ``None`` for inputs without one);
    ``vjp(m, out_bar, inputs, out, batch, needs=None, **params)`` returns one adjoint per
    input, in that input's shape; ``needs[j]`` False means input j's adjoint is not wanted
    (it may then be ``None``, and costs nothing). ``batch`` is 0, or 1 when tangents/adjoints carry a leading axis of several
    directions at once (vectorised modes).
domain
    One sympy set per input where the op is smooth (``Interval.open(0, oo)`` for ``log``).
    Tests draw points from it; verification makes symbols with matching assumptions.
infix
    The operator symbol, for printing traces (``"+"`` for ``add``); ``None`` for functions.
analytic
    False for ops that are not complex-analytic (``abs``, ``maximum``, ``minimum``): a graph
    using one is checked by central differences rather than the complex step.
examples
    Structural ops only: ``(shapes, params)`` pairs on which the registry proof exercises
    the ``jvp`` and ``vjp`` rules (arrays of sympy symbols of those shapes).

Examples
--------
>>> from dualad.primitives import REGISTRY
>>> from dualad.mathns import MATH
>>> prim = REGISTRY["divide"]
>>> [pd(MATH, 6.0, 3.0, 2.0) for pd in prim.pds]      # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
[0.3333333333333333, -0.6666666666666666]
"""

import math
import operator
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .errors import ShapeMismatchError
from .mathns import MATH, SYMPY, as_float, namespace_for
from .shapes import broadcast_shapes, shape_of

REALS = sp.S.Reals
POSITIVE = sp.Interval.open(0, sp.oo)
UNIT = sp.Interval.open(-1, 1)


@dataclass(frozen=True, eq=False)
class Primitive:
    """One differentiable operation: implementations, specification and derivative rule.

    See the module docstring for what each field means.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> REGISTRY["sin"].nin, REGISTRY["sin"].elementwise
    (1, True)
    """

    name: str
    numpy: object
    sympy: object = None
    pds: tuple = None
    jvp: object = None
    vjp: object = None
    math: object = None
    domain: tuple = None
    infix: str = None
    nin: int = None
    examples: tuple = ()
    analytic: bool = True

    def __post_init__(self):
        if self.pds is None and (self.jvp is None or self.vjp is None):
            raise ValueError(f"primitive {self.name!r} needs pds, or both jvp and vjp")
        if self.nin is None:
            if self.pds is None:
                raise ValueError(f"structural primitive {self.name!r} must give nin")
            object.__setattr__(self, "nin", len(self.pds))
        if self.domain is None:
            object.__setattr__(self, "domain", (REALS,) * self.nin)

    @property
    def elementwise(self):
        """True when the op declares local partials (and so broadcasts like numpy)."""
        return self.pds is not None

    def evaluate(self, *args, **params):
        """The op's value on floats, arrays, Duals or sympy values.

        Floats take the ``math`` fast path; sympy values take the ``sympy`` form (elementwise
        over object arrays); everything else goes to numpy, after a broadcasting check whose
        error names this op and the shapes.

        Examples
        --------
        >>> import sympy as sp
        >>> from dualad.primitives import REGISTRY
        >>> REGISTRY["multiply"].evaluate(2.0, 3.0)
        6.0
        >>> REGISTRY["multiply"].evaluate(sp.Symbol("x"), 3)
        3*x
        """
        m = namespace_for(*args)
        if m is MATH and self.math is not None:
            try:
                return self.math(*args)
            except (ArithmeticError, ValueError):
                pass  # a domain edge: numpy returns nan/inf (and warns), as arrays would
        if m is SYMPY:
            return self.evaluate_symbolic(*args, **params)
        for a in args:
            apply = OVERLOADED_TYPES.get(type(a))
            if apply is not None:   # e.g. a Dual: forward mode by overloading
                return apply(self, args, params)
        if self.elementwise and len(args) > 1:
            broadcast_shapes(self.name, *(shape_of(a) for a in args))
        try:
            return as_float(self.numpy(*args, **params))
        except IndexError as err:
            raise ShapeMismatchError(f"{self.name}: {err} (value of shape "
                                     f"{shape_of(args[0])})") from None
        except ValueError as err:
            shapes = " and ".join(str(shape_of(a)) for a in args)
            raise ShapeMismatchError(f"{self.name}: operands with shapes {shapes} "
                                     f"do not fit ({err})") from None

    def evaluate_symbolic(self, *args, **params):
        """The sympy form applied to sympy values (elementwise over object arrays)."""
        if self.sympy is None:
            raise NotImplementedError(f"{self.name}: no sympy form")
        if self.elementwise and any(isinstance(a, np.ndarray) for a in args):
            return np.vectorize(self.sympy, otypes=[object])(*args)
        return self.sympy(*args, **params)


REGISTRY = {}

#: Value types that apply primitives themselves (``Dual`` registers ``dual_apply`` here), so
#: evaluating any op on them, a seed-style user op included, goes through their rule.
OVERLOADED_TYPES = {}


def register(prim):
    """Add a primitive to ``REGISTRY`` (each name once) and return it.

    Examples
    --------
    >>> from dualad.primitives import REGISTRY
    >>> "add" in REGISTRY
    True
    """
    if prim.name in REGISTRY:
        raise ValueError(f"primitive {prim.name!r} is already registered")
    REGISTRY[prim.name] = prim
    return prim


def _maximum(a, b):
    # nan wins, as in np.maximum
    return a if a >= b or a != a else b


def _minimum(a, b):
    return a if a <= b or a != a else b


# ---- elementwise, binary ----

register(Primitive(
    name="add", numpy=np.add, math=operator.add, sympy=operator.add, infix="+",
    pds=(lambda m, a, b, out: 1,                     # d(a+b)/da = 1
         lambda m, a, b, out: 1),                    # d(a+b)/db = 1
))
register(Primitive(
    name="subtract", numpy=np.subtract, math=operator.sub, sympy=operator.sub, infix="-",
    pds=(lambda m, a, b, out: 1,                     # d(a-b)/da = 1
         lambda m, a, b, out: -1),                   # d(a-b)/db = -1
))
register(Primitive(
    name="multiply", numpy=np.multiply, math=operator.mul, sympy=operator.mul, infix="*",
    pds=(lambda m, a, b, out: b,                     # d(a*b)/da = b
         lambda m, a, b, out: a),                    # d(a*b)/db = a
))
register(Primitive(
    name="divide", numpy=np.divide, math=operator.truediv, sympy=operator.truediv, infix="/",
    pds=(lambda m, a, b, out: 1 / b,                 # d(a/b)/da = 1/b
         lambda m, a, b, out: -a / (b * b)),         # d(a/b)/db = -a/b^2
))
register(Primitive(
    name="power", numpy=np.power, math=math.pow, sympy=lambda a, b: a**b, infix="**",
    # d(a^b)/da = b a^(b-1); d(a^b)/db = a^b log(a), real only for a > 0 (nan below, as in
    # JAX), and evaluated only when the exponent is itself differentiated.
    pds=(lambda m, a, b, out: b * m.power(a, b - 1),
         lambda m, a, b, out: out * m.log(a)),
    domain=(POSITIVE, REALS),
))
register(Primitive(
    name="maximum", numpy=np.maximum, math=_maximum, sympy=sp.Max,
    analytic=False,
    # d max(a,b)/da = H(a-b); at a tie each side gets 1/2, as sympy's Heaviside(0) = 1/2
    # (tests/test_registry.py::test_maximum_and_minimum_split_ties).
    pds=(lambda m, a, b, out: m.heaviside(a - b, 0.5),
         lambda m, a, b, out: m.heaviside(b - a, 0.5)),
))
register(Primitive(
    name="minimum", numpy=np.minimum, math=_minimum, sympy=sp.Min,
    analytic=False,
    pds=(lambda m, a, b, out: m.heaviside(b - a, 0.5),  # d min(a,b)/da = H(b-a)
         lambda m, a, b, out: m.heaviside(a - b, 0.5)),
))

# ---- elementwise, unary ----

register(Primitive(
    name="negative", numpy=np.negative, math=operator.neg, sympy=operator.neg, infix="-",
    pds=(lambda m, x, out: -1,),                     # d(-x)/dx = -1
))
register(Primitive(
    name="square", numpy=np.square, math=lambda x: x * x, sympy=lambda x: x**2,
    pds=(lambda m, x, out: 2 * x,),                  # d/dx x^2 = 2x
))
register(Primitive(
    name="sqrt", numpy=np.sqrt, math=math.sqrt, sympy=sp.sqrt,
    pds=(lambda m, x, out: 1 / (2 * out),),          # d/dx sqrt x = 1/(2 sqrt x)
    domain=(POSITIVE,),
))
register(Primitive(
    name="exp", numpy=np.exp, math=math.exp, sympy=sp.exp,
    pds=(lambda m, x, out: out,),                    # d/dx e^x = e^x, already computed
))
register(Primitive(
    name="expm1", numpy=np.expm1, math=math.expm1, sympy=lambda x: sp.exp(x) - 1,
    pds=(lambda m, x, out: out + 1,),                # d/dx (e^x - 1) = e^x
))
register(Primitive(
    name="log", numpy=np.log, math=math.log, sympy=sp.log,
    pds=(lambda m, x, out: 1 / x,),                  # d/dx log x = 1/x
    domain=(POSITIVE,),
))
register(Primitive(
    name="log1p", numpy=np.log1p, math=math.log1p, sympy=lambda x: sp.log(1 + x),
    pds=(lambda m, x, out: 1 / (1 + x),),            # d/dx log(1+x) = 1/(1+x)
    domain=(sp.Interval.open(-1, sp.oo),),
))
register(Primitive(
    name="sin", numpy=np.sin, math=math.sin, sympy=sp.sin,
    pds=(lambda m, x, out: m.cos(x),),               # d/dx sin x = cos x
))
register(Primitive(
    name="cos", numpy=np.cos, math=math.cos, sympy=sp.cos,
    pds=(lambda m, x, out: -m.sin(x),),              # d/dx cos x = -sin x
))
register(Primitive(
    name="tan", numpy=np.tan, math=math.tan, sympy=sp.tan,
    pds=(lambda m, x, out: 1 + out * out,),          # d/dx tan x = 1 + tan(x)**2
    domain=(sp.Interval.open(-sp.pi / 2, sp.pi / 2),),
))
register(Primitive(
    name="arcsin", numpy=np.arcsin, math=math.asin, sympy=sp.asin,
    pds=(lambda m, x, out: 1 / m.sqrt(1 - x * x),),  # d/dx asin x = 1/sqrt(1-x^2)
    domain=(UNIT,),
))
register(Primitive(
    name="arccos", numpy=np.arccos, math=math.acos, sympy=sp.acos,
    pds=(lambda m, x, out: -1 / m.sqrt(1 - x * x),),  # d/dx acos x = -1/sqrt(1-x^2)
    domain=(UNIT,),
))
register(Primitive(
    name="arctan", numpy=np.arctan, math=math.atan, sympy=sp.atan,
    pds=(lambda m, x, out: 1 / (1 + x * x),),        # d/dx atan x = 1/(1+x^2)
))
register(Primitive(
    name="sinh", numpy=np.sinh, math=math.sinh, sympy=sp.sinh,
    pds=(lambda m, x, out: m.cosh(x),),              # d/dx sinh x = cosh x
))
register(Primitive(
    name="cosh", numpy=np.cosh, math=math.cosh, sympy=sp.cosh,
    pds=(lambda m, x, out: m.sinh(x),),              # d/dx cosh x = sinh x
))
register(Primitive(
    name="tanh", numpy=np.tanh, math=math.tanh, sympy=sp.tanh,
    pds=(lambda m, x, out: 1 - out * out,),          # d/dx tanh x = 1 - tanh(x)**2
))
register(Primitive(
    name="abs", numpy=np.absolute, math=abs, sympy=sp.Abs,
    analytic=False,
    # d|x|/dx = sign(x); 0 at 0, as sympy's sign(0)
    # (tests/test_registry.py::test_abs_has_derivative_zero_at_zero).
    pds=(lambda m, x, out: m.sign(x),),
))


# The structural ops (sum, matmul, indexing, ...) register themselves from their own module.
from . import structural  # noqa: E402,F401
