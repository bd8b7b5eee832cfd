"""Math namespaces: the vocabulary every derivative rule is written in.

This module owns the namespaces ``MATH``, ``NUMPY`` and ``SYMPY`` and the choice between them.
A rule in :mod:`dualad.primitives` never calls ``numpy`` or ``sympy`` directly; it receives a
namespace ``m`` and writes ``m.cos(x)``. The same line then runs on

- Python floats (``MATH``: the ``math`` module, the fast path for graphs of scalars),
- numpy arrays and :class:`dualad.Dual` numbers (``NUMPY``: ufuncs, which Duals intercept),
- sympy expressions, alone or in object arrays (``SYMPY``).

Python's ``math`` raises where numpy returns ``nan`` or ``inf`` (``math.log(-1.0)``,
``1.0 / 0.0``); :func:`call_in_namespace` then reruns the rule with numpy, so a float graph gives
the same numbers (and the same warnings) as the equivalent array graph.

Examples
--------
>>> from dualad.mathns import MATH, NUMPY, namespace_for
>>> import numpy as np
>>> namespace_for(1.0) is MATH, namespace_for(np.ones(2)) is NUMPY
(True, True)
"""

import math
import operator

import numpy as np
import sympy as sp


class MathNamespace:
    """A named bundle of elementary functions (``m.sin``, ``m.sign``, ``m.matmul``, ...).

    Examples
    --------
    >>> from dualad.mathns import MATH
    >>> MATH.cos(0.0), MATH.name
    (1.0, 'math')
    """

    def __init__(self, name, **functions):
        self.name = name
        self.__dict__.update(functions)

    def __repr__(self):
        return f"<math namespace {self.name!r}>"


# Array-shaping helpers shared by every namespace: numpy's versions also work on object arrays
# of sympy expressions and dispatch Duals through __array_function__.
_STRUCTURE = dict(sum=np.sum, matmul=np.matmul, broadcast_to=np.broadcast_to,
                  reshape=np.reshape, transpose=np.transpose)


def _scalar_sign(x):
    # sign(0) = 0 and sign(nan) = nan, as numpy and sympy define it.
    if x > 0:
        return 1.0
    if x < 0:
        return -1.0
    return x * 0.0


def _scalar_heaviside(x, h0):
    if x > 0:
        return 1.0
    if x < 0:
        return 0.0
    return h0 if x == 0 else x


def _scalar_where(condition, a, b):
    return a if condition else b


def _scalar_maximum(a, b):
    # nan wins, as in np.maximum
    return a if a >= b or a != a else b


def _scalar_minimum(a, b):
    return a if a <= b or a != a else b


MATH = MathNamespace(
    "math",
    sin=math.sin, cos=math.cos, tan=math.tan, exp=math.exp, log=math.log, sqrt=math.sqrt,
    sinh=math.sinh, cosh=math.cosh, tanh=math.tanh, power=math.pow,
    sign=_scalar_sign, heaviside=_scalar_heaviside, where=_scalar_where, equal=operator.eq,
    maximum=_scalar_maximum, minimum=_scalar_minimum, **_STRUCTURE,
)

NUMPY = MathNamespace(
    "numpy",
    sin=np.sin, cos=np.cos, tan=np.tan, exp=np.exp, log=np.log, sqrt=np.sqrt,
    sinh=np.sinh, cosh=np.cosh, tanh=np.tanh, power=np.power,
    sign=np.sign, heaviside=np.heaviside, where=np.where, equal=np.equal,
    maximum=np.maximum, minimum=np.minimum, **_STRUCTURE,
)


def _elementwise(function):
    """Lift a sympy function to object arrays of expressions, elementwise."""
    vectorized = np.vectorize(function, otypes=[object])

    def apply(*args):
        if any(isinstance(a, np.ndarray) for a in args):
            return vectorized(*args)
        return function(*args)

    apply.__name__ = getattr(function, "__name__", "sympy_function")
    return apply


SYMPY = MathNamespace(
    "sympy",
    sin=_elementwise(sp.sin), cos=_elementwise(sp.cos), tan=_elementwise(sp.tan),
    exp=_elementwise(sp.exp), log=_elementwise(sp.log), sqrt=_elementwise(sp.sqrt),
    sinh=_elementwise(sp.sinh), cosh=_elementwise(sp.cosh), tanh=_elementwise(sp.tanh),
    power=_elementwise(lambda a, b: a**b), sign=_elementwise(sp.sign),
    where=_elementwise(lambda c, a, b: sp.Piecewise((a, c), (b, True))),
    equal=_elementwise(lambda a, b: sp.Eq(a, b)),
    maximum=_elementwise(sp.Max), minimum=_elementwise(sp.Min),
    # the value at 0 as an exact rational, so 0.5 prints and simplifies as 1/2
    heaviside=_elementwise(lambda x, h0: sp.Heaviside(x, sp.Rational(h0))), **_STRUCTURE,
)


def is_symbolic(value):
    """True for a sympy expression or an object array (of sympy expressions).

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.mathns import is_symbolic
    >>> is_symbolic(sp.Symbol("x")), is_symbolic(2.0)
    (True, False)
    """
    if isinstance(value, sp.Basic):
        return True
    return isinstance(value, np.ndarray) and value.dtype == object


def namespace_for(*values):
    """The namespace a rule should run in for these argument values.

    Python floats (and ints) alone give ``MATH``; any sympy value gives ``SYMPY``; anything
    else (arrays, numpy scalars, Duals, complex numbers) gives ``NUMPY``.

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.mathns import namespace_for
    >>> namespace_for(1.0, 2).name, namespace_for(1.0, sp.Symbol("x")).name
    ('math', 'sympy')
    """
    m = MATH
    for value in values:
        kind = type(value)
        if kind is float or kind is int or kind is bool:
            continue
        if is_symbolic(value):
            return SYMPY
        m = NUMPY
    return m


def as_float(value):
    """Turn numpy float64 scalars back into Python floats; leave anything else alone.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.mathns import as_float
    >>> type(as_float(np.float64(2.0))).__name__
    'float'
    """
    if type(value) is np.float64 or (type(value) is np.ndarray and value.ndim == 0
                                      and value.dtype == np.float64):
        return float(value)
    return value


def as_number(value):
    """A numpy scalar or a 0-d array as the Python number it holds (a float for a float32 or
    a float64, a complex for a complex128, ...): a scalar as users get it. Anything else is
    left alone.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.mathns import as_number
    >>> as_number(np.float32(0.5)), as_number(np.array(2.0)), as_number(np.complex128(1j))
    (0.5, 2.0, 1j)
    """
    kind = type(value)
    if kind is float:
        return value
    if kind is np.float64:
        return float(value)
    if isinstance(value, np.generic) or (kind is np.ndarray and not value.ndim):
        return value.item()
    return value


def numpy_scalars(values):
    """``values`` with each Python float (also inside lists and tuples) as a numpy float64:
    what a computation that raised on Python numbers (``math.log(-1.0)``, ``1 / 0.0``) runs
    again on, to give numpy's ``inf``/``nan`` with numpy's warning, as arrays would. Every
    path that falls back from Python's arithmetic to numpy's uses it.

    Examples
    --------
    >>> from dualad.mathns import numpy_scalars
    >>> [type(v).__name__ for v in numpy_scalars([1.0, (2.0,), 3])]
    ['float64', 'tuple', 'int']
    """
    return [type(v)(numpy_scalars(v)) if isinstance(v, (list, tuple))
            else np.float64(v) if type(v) is float else v for v in values]


def call_in_namespace(rule, *args):
    """Run ``rule(m, *args)`` with ``m`` chosen by :func:`namespace_for`.

    Python's arithmetic raises where numpy returns ``nan`` or ``inf`` (``math.log(-1.0)``, and
    ``1 / b`` for a float ``b = 0.0``, even beside an array or a Dual); such a rule is run again
    with its Python numbers as numpy float64, which returns ``nan``/``inf`` with numpy's
    warning, exactly as it would on arrays.

    Examples
    --------
    >>> from dualad.mathns import call_in_namespace
    >>> call_in_namespace(lambda m, x: m.cos(x), 0.0)
    1.0
    >>> import numpy as np
    >>> with np.errstate(divide="ignore"):
    ...     call_in_namespace(lambda m, a, b: 1 / b, np.ones(2), 0.0)
    inf
    """
    m = namespace_for(*args)
    if m is MATH:
        try:
            return rule(MATH, *args)
        except (ArithmeticError, ValueError):
            return as_float(rule(NUMPY, *numpy_scalars(args)))
    if m is NUMPY:
        try:
            return rule(m, *args)
        except ArithmeticError:
            return as_float(rule(m, *numpy_scalars(args)))
    return rule(m, *args)


class round_half_even(sp.Function):
    """sympy has no ``rint``: round to the nearest integer, ties to even (numpy's ``rint``).

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.mathns import round_half_even
    >>> round_half_even(sp.Rational(5, 2)), round_half_even(sp.Float(-1.7))
    (2, -2)
    >>> round_half_even(sp.Symbol("x", real=True)).is_integer
    True
    """

    is_integer = True
    is_real = True

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Integer(round(sp.Rational(x)))
        return None

    # lambdify turns it into numpy's rint
    _imp_ = staticmethod(np.rint)


class stop_gradient(sp.Function):
    """The specification of dualad's ``stop_gradient``: its argument's value, derivative 0.

    On symbols sympy keeps it unevaluated, so ``sympy.diff`` sees a function whose derivative
    is 0 by definition (the op exists to cut the derivative, not to compute a function with
    that derivative); on numbers it is the number.

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.mathns import stop_gradient
    >>> x = sp.Symbol("x", real=True)
    >>> sp.diff(x * stop_gradient(x), x), stop_gradient(sp.Integer(3))
    (stop_gradient(x), 3)
    """

    @classmethod
    def eval(cls, x):
        if x.is_number:
            return x
        return None

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _eval_is_real(self):
        return self.args[0].is_real

    # lambdify and evalf compute it as the identity
    _imp_ = staticmethod(lambda x: x)


def diff_almost_everywhere(expr, symbol):
    """``sympy.diff(expr, symbol)`` wherever the derivative exists.

    A jump has no derivative; sympy writes the distribution ``DiracDelta`` there (for ``sign``,
    ``Heaviside``), or leaves the derivative of an integer-valued function unevaluated (for
    ``floor``), or of ``Heaviside(x, h0)`` by ``h0`` (which matters at x = 0 only). All are 0
    everywhere but at the jumps, so all are taken as 0 here: the convention of every AD
    system for ops that are constant almost everywhere.

    Examples
    --------
    >>> import sympy as sp
    >>> from dualad.mathns import diff_almost_everywhere
    >>> x = sp.Symbol("x", real=True)
    >>> sp.diff(sp.sign(x) * x, x), diff_almost_everywhere(sp.sign(x) * x, x)
    (2*x*DiracDelta(x) + sign(x), sign(x))
    >>> diff_almost_everywhere(sp.floor(x) + x**2, x)
    2*x
    """
    derivative = sp.diff(expr, symbol)
    derivative = derivative.replace(lambda e: isinstance(e, sp.DiracDelta),
                                    lambda e: sp.S.Zero)
    derivative = derivative.replace(
        lambda e: isinstance(e, sp.Derivative) and (_integer_valued(e.expr)
                                                     or isinstance(e.expr, sp.Heaviside)),
        lambda e: sp.S.Zero)
    return derivative.doit() if derivative.has(sp.Subs) else derivative


def _integer_valued(expr):
    """True when ``expr`` is integer-valued on real arguments (``floor(x)``, also of a dummy)."""
    if expr.is_integer:
        return True
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        return bool(expr.func(sp.Dummy(real=True)).is_integer)
    return False
