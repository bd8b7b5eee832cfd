"""The primitive registry: every operation dualad differentiates, each declared once.

This module owns the :class:`Primitive` record, ``REGISTRY`` and :func:`register`, and the
elementwise ops' blocks; the structural ops' blocks (``sum``, ``matmul``, indexing, ...) are in
:mod:`dualad.structural`, the reductions' (``max``, ``prod``, ``softmax``, ...) in
:mod:`dualad.reductions`. Evaluators, the ``Var`` operators, ``Dual`` numbers, the parser, numpy
dispatch, the code writer, the cost counts and the sympy bridge all read these records, at the
time they need them: a primitive registered while a program runs is part of everything at once.
No derivative formula exists anywhere else in dualad.

The record (add an op by adding one ``register(Primitive(...))`` block)
------------------------------------------------------------------------
name
    numpy's name for the op (``"multiply"``, not ``"mul"``); the user function has this name,
    and the parser knows it by it.
numpy
    The numeric implementation, called as ``numpy(*values, **params)``. When it is a numpy
    ufunc or numpy's function of the same name, ``np.<name>(var)`` reaches the op too.
math
    Optional fast path for Python floats (``math.sin``, ``operator.mul``). Where it raises
    (``math.log(-1.0)``), dualad falls back to ``numpy`` and its ``nan``/``inf``.
sympy
    The *specification*: the same op on sympy expressions. ``sympy.diff`` of this form is the
    referee every rule is proved against (:func:`dualad.prove_registry`).
pds
    Elementwise ops: one local partial per input, ``pd(m, *inputs, out)`` -> d(out)/d(input_i),
    written against the math namespace ``m`` (:mod:`dualad.mathns`) so the one line runs on
    floats, arrays, Duals, Vars and sympy symbols. ``out`` lets ``exp``, ``sqrt`` and ``tanh``
    reuse the value already computed. Evaluators broadcast and un-broadcast around it.
jvp, vjp
    Structural ops, where a local partial would be a whole Jacobian.
    ``jvp(m, tangents, inputs, out, batch, **params)`` returns the output tangent (``tangents``
    holds ``None`` for inputs without one); ``vjp(m, out_bar, inputs, out, batch, needs=None,
    **params)`` returns one adjoint per input, in that input's shape; ``needs[j]`` False means
    input j's adjoint is not wanted (it may then be ``None``, and costs nothing). ``batch`` is
    0, or 1 when tangents/adjoints carry a leading axis of several directions at once.
zero_derivative, boolean
    An op that is constant almost everywhere (``sign``, ``floor``) has ``zero_derivative``:
    no tangent or adjoint flows through it, and its ``pds`` are filled in as 0. ``boolean`` ops
    (comparisons, ``logical_and``) also have a boolean value.
selects
    The op picks each element from one of its inputs (``where``): its partials are 1 where an
    input is picked and 0 elsewhere, and a term of the chain rule whose partial is 0 is 0 even
    where the tangent or adjoint is inf or nan (a select, as JAX's ``select``), so that a
    branch not taken never reaches the derivative of another element.
bind
    How the user function's arguments become ``(inputs, params)``: ``bind(*args, **kwargs)``.
    Elementwise ops need none (their arguments are their inputs); ``sum``'s turns
    ``sum(x, axis=0)`` into ``((x,), {"axis": (0,), "keepdims": False})``. Its signature is the
    user function's.
doc, example
    The user function's docstring: a summary line, and an example call with its result
    (``("sin(0.0)", "0.0")``), run as a doctest.
public
    False for ops users do not call by name (``getitem``: users write ``x[i]``).
aliases
    Other names the expression parser accepts (``asin`` for ``arcsin``, ``ln`` for ``log``).
namespace
    ``None`` for ops users call as ``ad.<name>``; ``"linalg"`` for ``ad.linalg.<name>`` (as in
    ``numpy.linalg``).
numpy_api
    The numpy function that reaches the op on Vars and Duals, when it is not ``numpy`` itself
    or numpy's function of the same name (``np.linalg.det``).
domain
    One sympy set per input where the op is smooth (``Interval.open(0, oo)`` for ``log``).
    Tests draw points from it; verification makes symbols with matching assumptions.
infix
    The operator symbol, for printing (``"+"`` for ``add``); ``None`` for functions.
analytic
    Whether ``verify``'s oracle may differentiate the op by the complex step. ``None`` (the
    default): found out once, by a probe of the numpy form (it must accept complex input, and
    the complex step must agree with central differences in the op's domain). ``False`` for
    ops that are not complex-analytic (``abs``, ``maximum``, ``minimum``): a graph using one is
    checked by central differences. ``True`` skips the probe; ``prove_registry`` checks it.
examples
    Structural ops: ``(shapes, params)`` pairs on which the registry proof exercises the
    ``jvp`` and ``vjp`` rules (arrays of sympy symbols of those shapes).
cost
    Arithmetic operations one application performs, ``cost(in_shapes, out_shape, **params)``
    (the price list of :func:`dualad.compare`); by default one per element of the result.
new_array
    True when ``numpy`` always returns a new array (or a number), never a view of an
    operand (``matmul``, ``sum``): replays then hand such a result to users without a copy.
    Elementwise ufuncs are known to; the default, ``False``, is always safe.
float_array_kernel
    Optional: ``float_array_kernel(**params)`` returns a C-level callable of the values that
    computes what ``numpy(*values, **params)`` computes where every input is a float array
    (``partial(np.add.reduce, axis=0)`` for ``sum``), without the Python layer ``numpy`` needs
    for other values. A recorded program runs it for each step whose inputs were all float
    arrays when recorded: a program runs on values of the kinds it was recorded on.

Examples
--------
>>> from dualad.primitives import REGISTRY
>>> from dualad.mathns import MATH
>>> prim = REGISTRY["divide"]
>>> [pd(MATH, 6.0, 3.0, 2.0) for pd in prim.pds]      # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
[0.3333333333333333, -0.6666666666666666]
>>> prim.function(6.0, 3.0)                           # the user function, ad.divide
2.0
"""

import inspect
import math
import operator
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .errors import DualadError, ShapeMismatchError
from .mathns import (SYMPY, _scalar_heaviside, _scalar_maximum, _scalar_minimum,
                     _scalar_sign, _scalar_where, as_float, namespace_for, round_half_even)
from .mathns import stop_gradient as symbolic_stop_gradient
from .shapes import broadcast_shapes, shape_of, size
from .values import NO_PARAMS, as_value, describe, is_traced

REALS = sp.S.Reals
POSITIVE = sp.Interval.open(0, sp.oo)
UNIT = sp.Interval.open(-1, 1)
#: The reals but 0 (a divisor; cbrt, whose slope is infinite there).
NONZERO = sp.Union(sp.Interval.open(-sp.oo, 0), POSITIVE)
#: The domain of a boolean input (a condition).
BOOLEAN = sp.FiniteSet(sp.true, sp.false)


def elementwise_cost(in_shapes, out_shape, **params):
    """One operation per element of the result: the price of an elementwise op."""
    return size(out_shape)


def free(in_shapes, out_shape, **params):
    """No arithmetic: the price of ops that only move, view or select data."""
    return 0


_ARRAY = np.ndarray         # one global lookup in Primitive.evaluate, which runs per node


@dataclass(frozen=True, eq=False)
class Primitive:
    """One differentiable operation: implementations, specification and derivative rule.

    See the module docstring for what each field means. ``function`` is the op's user
    function (what ``ad.sin`` is to ``sin``): it applies the op to Vars (a graph node), Duals
    (a Dual), plain floats and arrays (a value) and sympy values (an expression).
    ``array_ufunc`` is ``numpy`` when that is a ufunc of the op's operands with one result
    (else ``None``): on float arrays a trace calls it directly, as :meth:`evaluate` would.

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
    analytic: bool = None
    zero_derivative: bool = False
    boolean: bool = False
    selects: bool = False
    bind: object = None
    doc: str = None
    example: tuple = None
    aliases: tuple = ()
    public: bool = True
    namespace: str = None
    numpy_api: object = None
    cost: object = None
    new_array: bool = False
    float_array_kernel: object = None

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise DualadError(f"Primitive: the name must be a str, got {describe(self.name)}")
        if not callable(self.numpy):
            raise DualadError(f"Primitive {self.name!r}: numpy must be a callable, got "
                              f"{type(self.numpy).__name__}")
        if self.boolean:
            object.__setattr__(self, "zero_derivative", True)
        if self.zero_derivative and self.pds is None and self.jvp is None:
            if self.nin is None:
                raise DualadError(f"zero-derivative primitive {self.name!r} must give nin")
            object.__setattr__(self, "pds", (_zero_partial,) * self.nin)
        if self.pds is None and (self.jvp is None or self.vjp is None):
            raise DualadError(f"primitive {self.name!r} needs pds, or both jvp and vjp")
        if self.nin is None:
            if self.pds is None:
                raise DualadError(f"structural primitive {self.name!r} must give nin")
            object.__setattr__(self, "nin", len(self.pds))
        if self.pds is not None and len(self.pds) != self.nin:
            raise DualadError(f"primitive {self.name!r}: {len(self.pds)} partials for "
                              f"{self.nin} inputs")
        if self.domain is None:
            object.__setattr__(self, "domain", (REALS,) * self.nin)
        if self.cost is None:
            object.__setattr__(self, "cost", elementwise_cost if self.pds is not None else free)
        object.__setattr__(self, "function", _user_function(self))
        numpy = self.numpy
        object.__setattr__(self, "array_ufunc", numpy if isinstance(numpy, np.ufunc)
                           and numpy.nout == 1 and numpy.nin == self.nin else None)

    @property
    def elementwise(self):
        """True when the op declares local partials (and so broadcasts like numpy)."""
        return self.pds is not None

    @property
    def ufunc(self):
        """The numpy ufunc that computes this op on arrays, where it is one elementwise ufunc
        of the op's inputs with one result and not a comparison; else ``None``. The fast
        paths may then give it an ``out=`` array.

        Examples
        --------
        >>> from dualad.primitives import REGISTRY
        >>> REGISTRY["multiply"].ufunc, REGISTRY["greater"].ufunc, REGISTRY["sum"].ufunc
        (<ufunc 'multiply'>, None, None)
        """
        numpy = self.numpy
        if (self.elementwise and not self.boolean and isinstance(numpy, np.ufunc)
                and numpy.nout == 1 and numpy.nin == self.nin):
            return numpy
        return None

    def evaluate(self, *args, **params):
        """The op's value on floats, arrays, Duals, Vars or sympy values.

        Floats take the ``math`` fast path; sympy values take the ``sympy`` form (elementwise
        over object arrays); a ``Var`` or ``Dual`` argument hands the op to its type (a graph
        node, a pushed tangent); everything else goes to numpy, whose errors are said again in
        words that name this op and the shapes.

        Examples
        --------
        >>> import sympy as sp
        >>> from dualad.primitives import REGISTRY
        >>> REGISTRY["multiply"].evaluate(2.0, 3.0)
        6.0
        >>> REGISTRY["multiply"].evaluate(sp.Symbol("x"), 3)
        3*x
        """
        plain_numbers = numeric = True
        for a in args:
            kind = type(a)
            if kind is _ARRAY:
                plain_numbers = False
                if a.dtype.kind != "O":
                    continue
            elif kind is float or kind is int or kind is bool:
                continue
            plain_numbers = False
            apply = OVERLOADED_TYPES.get(kind)
            if apply is not None:   # a Var builds a node; a Dual pushes its tangent
                return apply(self, args, params)
            numeric = False
        if plain_numbers:
            if self.math is not None:
                try:
                    return self.math(*args)
                except (ArithmeticError, ValueError):
                    pass  # a domain edge: numpy returns nan/inf (and warns), as arrays would
        elif not numeric and namespace_for(*args) is SYMPY:
            return self.evaluate_symbolic(*args, **params)
        try:
            value = self.numpy(*args, **params) if params else self.numpy(*args)
            if type(value) is _ARRAY and value.ndim:
                return value
            return as_float(value)
        except DualadError:
            raise       # the op's own implementation has said what is wrong
        except IndexError as err:
            raise ShapeMismatchError(f"{self.name}: {err} (value of shape "
                                     f"{shape_of(args[0])})") from None
        except ValueError as err:
            if self.elementwise and len(args) > 1:   # numpy's broadcasting, in our words
                broadcast_shapes(self.name, *(shape_of(a) for a in args))
            shapes = " and ".join(str(shape_of(a)) for a in args)
            raise ShapeMismatchError(f"{self.name}: operands with shapes {shapes} "
                                     f"do not fit ({err})") from None

    def evaluate_symbolic(self, *args, **params):
        """The sympy form applied to sympy values (elementwise over object arrays)."""
        if self.sympy is None:
            raise DualadError(f"{self.name}: no sympy form")
        if self.elementwise and any(isinstance(a, np.ndarray) for a in args):
            return np.vectorize(self.sympy, otypes=[object])(*args)
        return self.sympy(*args, **params)

    def __repr__(self):
        return f"<Primitive {self.name}>"


def _zero_partial(m, *inputs):
    # the partial of an op that is constant almost everywhere (sign, floor, comparisons)
    return 0


# ---- the user function of a primitive ----

_INPUT_NAMES = {1: ("x",), 2: ("a", "b"), 3: ("c", "a", "b")}


def _positional_bind(prim):
    """The bind of an op whose arguments are its inputs (every elementwise op)."""
    return positional(prim.name, *(_INPUT_NAMES.get(prim.nin)
                                   or tuple(f"x{i}" for i in range(prim.nin))))


def bind_arguments(prim, args, kwargs):
    """``(inputs, params)`` of a call of ``prim`` with numpy's arguments: its ``bind``, or, for
    an op without one, its inputs by position (so ``np.where(c)`` is refused, not taken as a
    where of one input).

    Examples
    --------
    >>> from dualad.primitives import REGISTRY, bind_arguments
    >>> bind_arguments(REGISTRY["where"], (True, 1.0, 2.0), {})
    ((True, 1.0, 2.0), {})
    >>> bind_arguments(REGISTRY["where"], (True,), {})
    Traceback (most recent call last):
      ...
    dualad.errors.DualadError: where: takes 3 arguments (c, a, b), got 1
    """
    return (prim.bind or _positional_bind(prim))(*args, **kwargs)


def positional(name, *names):
    """A bind for op ``name`` whose arguments are its inputs, called ``names`` (positional).

    Examples
    --------
    >>> from dualad.primitives import positional
    >>> bind = positional("arctan2", "y", "x")
    >>> bind(1.0, 2.0)
    ((1.0, 2.0), {})
    >>> bind(1.0)
    Traceback (most recent call last):
      ...
    dualad.errors.DualadError: arctan2: takes 2 arguments (y, x), got 1
    """
    count = len(names)

    def bind(*args):
        if len(args) != count:
            raise DualadError(f"{name}: takes {count} argument{'s' if count != 1 else ''} "
                              f"({', '.join(names)}), got {len(args)}")
        return args, NO_PARAMS

    bind.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names])
    return bind


def _user_function(prim):
    """``prim``'s user function: bind the arguments, check plain values, evaluate."""
    bind = prim.bind or _positional_bind(prim)
    name = prim.name
    evaluate = prim.evaluate

    def function(*args, **kwargs):
        inputs, params = bind(*args, **kwargs)
        if len(inputs) == 1:        # one operand: a Var or a Dual goes to its rule at once
            apply = OVERLOADED_TYPES.get(type(inputs[0]))
            if apply is not None:
                return apply(prim, inputs, params)
        for i, value in enumerate(inputs):
            if type(value) is not float and not is_traced(value):
                as_value(value, f"{name}: argument {i}")    # None, strings: a clear error
        return evaluate(*inputs, **params)

    function.__name__ = function.__qualname__ = name
    function.__module__ = "dualad"
    function.__signature__ = inspect.signature(bind)
    function.__doc__ = _docstring(prim)
    function.primitive = prim
    return function


def _docstring(prim):
    summary = prim.doc or f"The ``{prim.name}`` primitive."
    kind = ("Elementwise, with numpy's broadcasting; a ``Var`` argument gives a graph node, a "
            "``Dual`` a Dual, plain numbers a number." if prim.elementwise else
            "A ``Var`` argument gives a graph node, a ``Dual`` a Dual, plain arrays an array.")
    text = f"{summary}\n\n{kind}\n"
    if prim.example:
        call, result = prim.example
        text += ("\nExamples\n--------\n>>> import numpy as np, dualad as ad\n"
                 f">>> ad.{call}\n{result}\n")
    return text


# ---- the registry ----

REGISTRY = {}

#: Value types that apply primitives themselves (``Var`` builds a node, ``Dual`` pushes its
#: tangent), so evaluating any op on them, a seed-style user op included, goes to their rule.
OVERLOADED_TYPES = {}

#: numpy function or ufunc -> the registered primitive it stands for: an index of REGISTRY,
#: kept in step by :func:`register` (its only writer).
_BY_NUMPY = {}


def numpy_function(prim):
    """The numpy function users call for ``prim`` (``np.sin``, ``np.sum``), or ``None``.

    ``numpy_api`` when given; a ufunc implementation is its own numpy function; otherwise
    numpy's function of the same name (in ``numpy.linalg`` for the ``linalg`` namespace), when
    that is the implementation.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.primitives import REGISTRY, numpy_function
    >>> numpy_function(REGISTRY["abs"]) is np.abs, numpy_function(REGISTRY["getitem"])
    (True, None)
    """
    if prim.numpy_api is not None:
        return prim.numpy_api
    if isinstance(prim.numpy, np.ufunc):
        return prim.numpy
    module = getattr(np, prim.namespace) if prim.namespace else np
    function = getattr(module, prim.name, None)
    return function if function is prim.numpy else None


def primitive_for_numpy(function):
    """The registered primitive a numpy function or ufunc stands for, or ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> from dualad.primitives import primitive_for_numpy
    >>> primitive_for_numpy(np.sin).name, primitive_for_numpy(np.fft.fft)
    ('sin', None)
    """
    return _BY_NUMPY.get(function)


def register(prim):
    """Add a primitive to ``REGISTRY`` and return its user function.

    From then on the op is part of everything: ``ad.parse`` knows its name, numpy's function of
    that name reaches it on Vars and Duals, both modes, Hessians, ``ad.compile``, ``compare``,
    the traces, the pictures, ``verify`` and ``prove_registry`` use it.

    Raises
    ------
    DualadError
        If an op of that name is registered already.

    Examples
    --------
    >>> import numpy as np, sympy as sp, dualad as ad
    >>> softsign = ad.register(ad.Primitive(
    ...     name="softsign_example", numpy=lambda x: x / (1 + np.abs(x)),
    ...     sympy=lambda x: x / (1 + sp.Abs(x)), analytic=False,
    ...     pds=(lambda m, x, out: (1 - m.sign(x) * out) ** 2,)))   # 1/(1+|x|)^2
    >>> ad.grad(lambda x: softsign(x))(1.0)
    0.25
    >>> ad.parse("softsign_example(x)")(1.0)
    0.5
    """
    if not isinstance(prim, Primitive):
        raise DualadError(f"register: expected a Primitive, got {type(prim).__name__}")
    if not prim.name.isidentifier() or not prim.name.isascii():
        raise DualadError(f"register: an op's name must be an ASCII Python identifier (users "
                          f"call it ad.<name>, formulas name it), got {prim.name!r}")
    if prim.name in REGISTRY:
        raise DualadError(f"register: a primitive named {prim.name!r} is registered already")
    REGISTRY[prim.name] = prim
    function = numpy_function(prim)
    if function is not None:
        _BY_NUMPY.setdefault(function, prim)
    return prim.function


# ---- elementwise, binary ----

register(Primitive(
    name="add", numpy=np.add, math=operator.add, sympy=operator.add, infix="+",
    doc="a + b.", example=("add(1.0, 2.0)", "3.0"),
    pds=(lambda m, a, b, out: 1,                     # d(a+b)/da = 1
         lambda m, a, b, out: 1),                    # d(a+b)/db = 1
))
register(Primitive(
    name="subtract", numpy=np.subtract, math=operator.sub, sympy=operator.sub, infix="-",
    doc="a - b.", example=("subtract(1.0, 3.0)", "-2.0"),
    pds=(lambda m, a, b, out: 1,                     # d(a-b)/da = 1
         lambda m, a, b, out: -1),                   # d(a-b)/db = -1
))
register(Primitive(
    name="multiply", numpy=np.multiply, math=operator.mul, sympy=operator.mul, infix="*",
    doc="a * b.", example=("multiply(2.0, 3.0)", "6.0"),
    pds=(lambda m, a, b, out: b,                     # d(a*b)/da = b
         lambda m, a, b, out: a),                    # d(a*b)/db = a
))
register(Primitive(
    name="divide", numpy=np.divide, math=operator.truediv, sympy=operator.truediv, infix="/",
    doc="a / b.", example=("divide(3.0, 2.0)", "1.5"),
    pds=(lambda m, a, b, out: 1 / b,                 # d(a/b)/da = 1/b
         lambda m, a, b, out: -a / (b * b)),         # d(a/b)/db = -a/b^2
    domain=(REALS, NONZERO),
))
register(Primitive(
    name="power", numpy=np.power, math=math.pow, sympy=lambda a, b: a**b, infix="**",
    aliases=("pow",),
    doc="a ** b; d/db needs a > 0 (it is nan below).", example=("power(2.0, 3.0)", "8.0"),
    # d(a^b)/da = b a^(b-1), and 0 where b = 0 (a^0 = 1 is constant), so that x**0 at x = 0
    # gives 0 and not 0 * inf; d(a^b)/db = a^b log(a), with log taken of 1 where a = 0 (a^b
    # is then 0 for b > 0, and so is its slope in b), real only for a > 0: nan below, as in
    # JAX (tests/test_edges.py::test_power_rule_at_zero).
    pds=(lambda m, a, b, out: b * m.power(a, m.where(m.equal(b, 0), 1, b - 1)),
         lambda m, a, b, out: out * m.log(m.where(m.equal(a, 0), 1, a))),
    domain=(POSITIVE, REALS),
))
register(Primitive(
    name="maximum", numpy=np.maximum, math=_scalar_maximum, sympy=sp.Max,
    doc="The larger of a and b; at a tie each gets half the derivative.", example=("maximum(2.0, 3.0)", "3.0"),
    analytic=False,
    # d max(a,b)/da = H(a-b); at a tie each side gets 1/2, as sympy's Heaviside(0) = 1/2
    # (tests/test_registry.py::test_maximum_and_minimum_split_ties).
    pds=(lambda m, a, b, out: m.heaviside(a - b, 0.5),
         lambda m, a, b, out: m.heaviside(b - a, 0.5)),
))
register(Primitive(
    name="minimum", numpy=np.minimum, math=_scalar_minimum, sympy=sp.Min,
    doc="The smaller of a and b; at a tie each gets half the derivative.", example=("minimum(2.0, 3.0)", "2.0"),
    analytic=False,
    pds=(lambda m, a, b, out: m.heaviside(b - a, 0.5),  # d min(a,b)/da = H(b-a)
         lambda m, a, b, out: m.heaviside(a - b, 0.5)),
))

# ---- elementwise, unary ----

register(Primitive(
    name="negative", numpy=np.negative, math=operator.neg, sympy=operator.neg, infix="-",
    doc="-x.", example=("negative(2.0)", "-2.0"),
    pds=(lambda m, x, out: -1,),                     # d(-x)/dx = -1
))
register(Primitive(
    name="square", numpy=np.square, math=lambda x: x * x, sympy=lambda x: x**2,
    doc="x ** 2.", example=("square(3.0)", "9.0"),
    pds=(lambda m, x, out: 2 * x,),                  # d/dx x^2 = 2x
))
register(Primitive(
    name="sqrt", numpy=np.sqrt, math=math.sqrt, sympy=sp.sqrt,
    doc="Square root.", example=("sqrt(9.0)", "3.0"),
    pds=(lambda m, x, out: 1 / (2 * out),),          # d/dx sqrt x = 1/(2 sqrt x)
    domain=(POSITIVE,),
))
register(Primitive(
    name="exp", numpy=np.exp, math=math.exp, sympy=sp.exp,
    doc="e ** x.", example=("exp(0.0)", "1.0"),
    pds=(lambda m, x, out: out,),                    # d/dx e^x = e^x, already computed
))
register(Primitive(
    name="expm1", numpy=np.expm1, math=math.expm1, sympy=lambda x: sp.exp(x) - 1,
    doc="e ** x - 1, accurate for small x.", example=("expm1(0.0)", "0.0"),
    pds=(lambda m, x, out: out + 1,),                # d/dx (e^x - 1) = e^x
))
register(Primitive(
    name="log", numpy=np.log, math=math.log, sympy=sp.log,
    aliases=("ln",),
    doc="Natural logarithm.", example=("log(1.0)", "0.0"),
    pds=(lambda m, x, out: 1 / x,),                  # d/dx log x = 1/x
    domain=(POSITIVE,),
))
register(Primitive(
    name="log1p", numpy=np.log1p, math=math.log1p, sympy=lambda x: sp.log(1 + x),
    doc="log(1 + x), accurate for small x.", example=("log1p(0.0)", "0.0"),
    pds=(lambda m, x, out: 1 / (1 + x),),            # d/dx log(1+x) = 1/(1+x)
    domain=(sp.Interval.open(-1, sp.oo),),
))
register(Primitive(
    name="sin", numpy=np.sin, math=math.sin, sympy=sp.sin,
    doc="Sine.", example=("sin(0.0)", "0.0"),
    pds=(lambda m, x, out: m.cos(x),),               # d/dx sin x = cos x
))
register(Primitive(
    name="cos", numpy=np.cos, math=math.cos, sympy=sp.cos,
    doc="Cosine.", example=("cos(0.0)", "1.0"),
    pds=(lambda m, x, out: -m.sin(x),),              # d/dx cos x = -sin x
))
register(Primitive(
    name="tan", numpy=np.tan, math=math.tan, sympy=sp.tan,
    doc="Tangent.", example=("tan(0.0)", "0.0"),
    pds=(lambda m, x, out: 1 + out * out,),          # d/dx tan x = 1 + tan(x)**2
    domain=(sp.Interval.open(-sp.pi / 2, sp.pi / 2),),
))
register(Primitive(
    name="arcsin", numpy=np.arcsin, math=math.asin, sympy=sp.asin,
    aliases=("asin",),
    doc="Inverse sine.", example=("arcsin(0.0)", "0.0"),
    pds=(lambda m, x, out: 1 / m.sqrt(1 - x * x),),  # d/dx asin x = 1/sqrt(1-x^2)
    domain=(UNIT,),
))
register(Primitive(
    name="arccos", numpy=np.arccos, math=math.acos, sympy=sp.acos,
    aliases=("acos",),
    doc="Inverse cosine.", example=("arccos(1.0)", "0.0"),
    pds=(lambda m, x, out: -1 / m.sqrt(1 - x * x),),  # d/dx acos x = -1/sqrt(1-x^2)
    domain=(UNIT,),
))
register(Primitive(
    name="arctan", numpy=np.arctan, math=math.atan, sympy=sp.atan,
    aliases=("atan",),
    doc="Inverse tangent.", example=("arctan(0.0)", "0.0"),
    pds=(lambda m, x, out: 1 / (1 + x * x),),        # d/dx atan x = 1/(1+x^2)
))
register(Primitive(
    name="sinh", numpy=np.sinh, math=math.sinh, sympy=sp.sinh,
    doc="Hyperbolic sine.", example=("sinh(0.0)", "0.0"),
    pds=(lambda m, x, out: m.cosh(x),),              # d/dx sinh x = cosh x
))
register(Primitive(
    name="cosh", numpy=np.cosh, math=math.cosh, sympy=sp.cosh,
    doc="Hyperbolic cosine.", example=("cosh(0.0)", "1.0"),
    pds=(lambda m, x, out: m.sinh(x),),              # d/dx cosh x = sinh x
))
register(Primitive(
    name="tanh", numpy=np.tanh, math=math.tanh, sympy=sp.tanh,
    doc="Hyperbolic tangent.", example=("tanh(0.0)", "0.0"),
    pds=(lambda m, x, out: 1 - out * out,),          # d/dx tanh x = 1 - tanh(x)**2
))
register(Primitive(
    name="abs", numpy=np.absolute, math=abs, sympy=sp.Abs,
    aliases=("absolute",),
    doc="Absolute value; its derivative is sign(x), 0 at 0.", example=("abs(-2.0)", "2.0"),
    analytic=False,
    # d|x|/dx = sign(x); 0 at 0, as sympy's sign(0)
    # (tests/test_registry.py::test_abs_has_derivative_zero_at_zero).
    pds=(lambda m, x, out: m.sign(x),),
))


# ---- constant almost everywhere: zero derivative ----
# Recorded in graphs like every other op (so a traced graph computes them again at a new point,
# and compile, compare and the proofs see them), while no tangent or adjoint flows through
# them: their derivative is 0 wherever it exists. At a jump it does not exist; dualad says 0
# there, as JAX and PyTorch do.

register(Primitive(name="sign", numpy=np.sign, math=_scalar_sign, sympy=sp.sign, nin=1,
                   zero_derivative=True, analytic=False, doc="-1, 0 or 1: the sign of x.",
                   example=("sign(-2.5)", "-1.0")))
register(Primitive(name="floor", numpy=np.floor, math=lambda x: float(math.floor(x)),
                   sympy=sp.floor, nin=1, zero_derivative=True, analytic=False,
                   doc="The largest integer <= x.", example=("floor(-2.5)", "-3.0")))
register(Primitive(name="ceil", numpy=np.ceil, math=lambda x: float(math.ceil(x)),
                   sympy=sp.ceiling, nin=1, zero_derivative=True, analytic=False,
                   doc="The smallest integer >= x.", example=("ceil(-2.5)", "-2.0")))
register(Primitive(name="trunc", numpy=np.trunc, math=lambda x: float(math.trunc(x)),
                   sympy=lambda x: sp.sign(x) * sp.floor(sp.Abs(x)), nin=1,
                   zero_derivative=True, analytic=False, doc="x rounded towards 0.",
                   example=("trunc(-2.5)", "-2.0")))
register(Primitive(name="rint", numpy=np.rint, math=lambda x: float(round(x)),
                   sympy=round_half_even, nin=1, zero_derivative=True, analytic=False,
                   doc="x rounded to the nearest integer, ties to even.",
                   example=("rint(2.5)", "2.0")))
register(Primitive(name="heaviside", numpy=np.heaviside, math=_scalar_heaviside,
                   sympy=lambda x, h0: sp.Heaviside(x, h0), nin=2, zero_derivative=True,
                   analytic=False, doc="0 for x < 0, 1 for x > 0, h0 at x = 0.",
                   example=("heaviside(0.0, 0.5)", "0.5")))

# ---- comparisons and logic: boolean values, no derivative ----
# Comparing Vars builds one of these nodes, so where(x > 0, ...) is decided again at every
# point, and an `if` on one is recorded as a guard of the trace (see dualad.graph.trace).

register(Primitive(name="greater", numpy=np.greater, math=operator.gt, sympy=sp.Gt, nin=2,
                   infix=">", boolean=True, doc="a > b.", example=("greater(2.0, 1.0)", "True")))
register(Primitive(name="greater_equal", numpy=np.greater_equal, math=operator.ge,
                   sympy=sp.Ge, nin=2, infix=">=", boolean=True, doc="a >= b.",
                   example=("greater_equal(1.0, 1.0)", "True")))
register(Primitive(name="less", numpy=np.less, math=operator.lt, sympy=sp.Lt, nin=2,
                   infix="<", boolean=True, doc="a < b.", example=("less(2.0, 1.0)", "False")))
register(Primitive(name="less_equal", numpy=np.less_equal, math=operator.le, sympy=sp.Le,
                   nin=2, infix="<=", boolean=True, doc="a <= b.",
                   example=("less_equal(1.0, 1.0)", "True")))
register(Primitive(name="equal", numpy=np.equal, math=operator.eq, sympy=sp.Eq, nin=2,
                   infix="==", boolean=True, doc="a == b.", example=("equal(1.0, 1.0)", "True")))
register(Primitive(name="not_equal", numpy=np.not_equal, math=operator.ne, sympy=sp.Ne,
                   nin=2, infix="!=", boolean=True, doc="a != b.",
                   example=("not_equal(1.0, 1.0)", "False")))
register(Primitive(name="logical_and", numpy=np.logical_and, sympy=sp.And, nin=2, infix="&",
                   math=lambda a, b: bool(a) and bool(b), boolean=True,
                   domain=(BOOLEAN, BOOLEAN), doc="a and b, elementwise.",
                   example=("logical_and(True, False)", "False")))
register(Primitive(name="logical_or", numpy=np.logical_or, sympy=sp.Or, nin=2, infix="|",
                   math=lambda a, b: bool(a) or bool(b), boolean=True,
                   domain=(BOOLEAN, BOOLEAN), doc="a or b, elementwise.",
                   example=("logical_or(True, False)", "True")))
register(Primitive(name="logical_not", numpy=np.logical_not, math=operator.not_,
                   sympy=sp.Not, nin=1, infix="~", boolean=True, domain=(BOOLEAN,),
                   doc="not x, elementwise.", example=("logical_not(True)", "False")))
# on finite real numbers, the specification of the tests for nan and inf is a constant
register(Primitive(name="isfinite", numpy=np.isfinite, math=math.isfinite,
                   sympy=lambda x: sp.true, nin=1, boolean=True, doc="x is neither inf nor nan.",
                   example=("isfinite(1.0)", "True")))
register(Primitive(name="isnan", numpy=np.isnan, math=math.isnan, sympy=lambda x: sp.false,
                   nin=1, boolean=True, doc="x is nan.", example=("isnan(1.0)", "False")))
register(Primitive(name="isinf", numpy=np.isinf, math=math.isinf, sympy=lambda x: sp.false,
                   nin=1, boolean=True, doc="x is inf or -inf.", example=("isinf(1.0)", "False")))

# ---- selection ----

register(Primitive(
    name="where", numpy=np.where, math=_scalar_where, analytic=False,
    doc="a where condition holds, else b (elementwise).",
    example=("where(True, 1.0, 2.0)", "1.0"),
    sympy=lambda c, a, b: sp.Piecewise((a, c), (b, True)),
    # d where(c, a, b)/da = 1 where c holds, else 0; /db the other way round; c is boolean.
    # The terms are selects (see `selects`): a tangent or adjoint only flows where its branch
    # is taken, so the nan of a branch not taken (sqrt(x) at x = 0 in where(x > 0, sqrt(x), 0))
    # stays out of the other elements. The branch's own partials still run at x = 0, where
    # the adjoint of x is then 0 * inf = nan, never another number (the double-where idiom in
    # docs/forward-mode.md avoids it).
    pds=(_zero_partial,
         lambda m, c, a, b, out: m.where(c, 1, 0),
         lambda m, c, a, b, out: m.where(c, 0, 1)),
    selects=True,
    domain=(BOOLEAN, REALS, REALS),
))


# ---- elementwise: the course's further functions (numpy's names; jax.nn's sigmoid) ----


def _clip(x, lo, hi):
    # minimum(maximum(x, lo), hi), numpy's and JAX's definition (hi wins when lo > hi)
    return np.minimum(np.maximum(x, lo), hi)


def _bind_clip(x, a_min=None, a_max=None, out=None, *, min=None, max=None):  # noqa: A002
    # numpy's signature; numpy 2.1 added min= and max= for a_min and a_max
    if out is not None:
        raise DualadError("clip: the numpy argument out= is not supported on dualad values")
    for short, long in (("min", "a_min"), ("max", "a_max")):
        given = {"min": min, "max": max}[short]
        if given is not None:
            if (a_min if short == "min" else a_max) is not None:
                raise DualadError(f"clip: give {long} or {short}, not both")
            a_min, a_max = (given, a_max) if short == "min" else (a_min, given)
    if a_min is None and a_max is None:
        raise DualadError("clip: give a lower bound a_min, an upper bound a_max, or both")
    # a missing bound clips nothing: -inf or inf, whose heaviside factors are constant
    return (x, -math.inf if a_min is None else a_min,
            math.inf if a_max is None else a_max), NO_PARAMS


register(Primitive(
    name="clip", numpy=_clip, numpy_api=np.clip, bind=_bind_clip,
    math=lambda x, lo, hi: _scalar_minimum(_scalar_maximum(x, lo), hi),
    sympy=lambda x, lo, hi: sp.Min(sp.Max(x, lo), hi), analytic=False,
    doc="x limited to [a_min, a_max]: minimum(maximum(x, a_min), a_max); a bound may be None.",
    example=("clip(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)", "array([0. , 0.5, 1. ])"),
    # The chain rule through minimum(maximum(x, lo), hi), as JAX's clip is defined, with
    # their ties split 1/2 (sympy's Heaviside(0)): so d/dx is 1 strictly inside, 0 outside,
    # 1/2 at a bound, and 0 everywhere when lo > hi (tests/test_ops_elementwise.py::
    # test_clip_follows_jax_at_the_bounds).
    pds=(lambda m, x, lo, hi, out: (m.heaviside(hi - m.maximum(x, lo), 0.5)
                                    * m.heaviside(x - lo, 0.5)),
         lambda m, x, lo, hi, out: (m.heaviside(hi - m.maximum(x, lo), 0.5)
                                    * m.heaviside(lo - x, 0.5)),
         lambda m, x, lo, hi, out: m.heaviside(m.maximum(x, lo) - hi, 0.5)),
))
register(Primitive(
    name="arctan2", numpy=np.arctan2, math=math.atan2, sympy=sp.atan2, aliases=("atan2",),
    bind=positional("arctan2", "y", "x"),
    doc="The angle of the point (x, y) from the x axis, in (-pi, pi].",
    example=("arctan2(1.0, 1.0)", "0.7853981633974483"),
    pds=(lambda m, y, x, out: x / (x * x + y * y),     # d atan2(y, x)/dy = x/(x^2+y^2)
         lambda m, y, x, out: -y / (x * x + y * y)),   # d atan2(y, x)/dx = -y/(x^2+y^2)
    # smooth off the cut along the negative x axis (and the origin): the upper half plane
    domain=(POSITIVE, REALS),
))
register(Primitive(
    name="hypot", numpy=np.hypot, math=math.hypot, sympy=lambda a, b: sp.sqrt(a**2 + b**2),
    doc="sqrt(a**2 + b**2), without overflow for large a or b.",
    example=("hypot(3.0, 4.0)", "5.0"),
    pds=(lambda m, a, b, out: a / out,                 # d hypot/da = a/hypot
         lambda m, a, b, out: b / out),                # d hypot/db = b/hypot
))
register(Primitive(
    name="log2", numpy=np.log2, math=math.log2, sympy=lambda x: sp.log(x) / sp.log(2),
    doc="Logarithm to base 2.", example=("log2(8.0)", "3.0"),
    pds=(lambda m, x, out: 1 / (x * m.log(2)),),       # d/dx log2 x = 1/(x log 2)
    domain=(POSITIVE,),
))
register(Primitive(
    name="log10", numpy=np.log10, math=math.log10, sympy=lambda x: sp.log(x) / sp.log(10),
    doc="Logarithm to base 10.", example=("log10(100.0)", "2.0"),
    pds=(lambda m, x, out: 1 / (x * m.log(10)),),      # d/dx log10 x = 1/(x log 10)
    domain=(POSITIVE,),
))
register(Primitive(
    name="exp2", numpy=np.exp2, math=math.exp2, sympy=lambda x: 2**x,
    doc="2 ** x.", example=("exp2(3.0)", "8.0"),
    pds=(lambda m, x, out: out * m.log(2),),           # d/dx 2^x = 2^x log 2
))
register(Primitive(
    name="cbrt", numpy=np.cbrt, math=math.cbrt,
    # the real cube root, branch by branch: written sign(x) |x|^(1/3), sympy's derivative
    # carries sign(x)^2, which it cannot take for 1 on real x (it is 0 at 0)
    sympy=lambda x: sp.Piecewise((x ** sp.Rational(1, 3), x >= 0),
                                 (-(-x) ** sp.Rational(1, 3), True)),
    doc="The real cube root (negative for negative x).", example=("cbrt(-8.0)", "-2.0"),
    # d/dx x^(1/3) = 1/(3 cbrt(x)^2); infinite at 0, as in JAX
    # (tests/test_ops_elementwise.py::test_cbrt_at_zero)
    pds=(lambda m, x, out: 1 / (3 * out * out),),
    domain=(NONZERO,),
))


def _logaddexp_scalar(a, b):
    if a == b:                      # also inf and -inf, where a - b is nan
        return a + math.log(2)
    big, small = (a, b) if a > b else (b, a)
    return big + math.log1p(math.exp(small - big))


register(Primitive(
    name="logaddexp", numpy=np.logaddexp, math=_logaddexp_scalar,
    sympy=lambda a, b: sp.log(sp.exp(a) + sp.exp(b)),
    doc="log(exp(a) + exp(b)), without overflow.",
    example=("logaddexp(0.0, 0.0)", "0.6931471805599453"),
    # d/da log(e^a + e^b) = e^a/(e^a + e^b) = exp(a - out): at most 1, stable for large a, b
    pds=(lambda m, a, b, out: m.exp(a - out),
         lambda m, a, b, out: m.exp(b - out)),
))


def _sigmoid(x):
    with np.errstate(over="ignore"):    # exp(-x) = inf below x = -709: 1/inf = 0, the limit
        return 1 / (1 + np.exp(np.negative(x)))    # np.negative: lists too, as np.exp takes


def _sigmoid_scalar(x):
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)                     # x < 0: no overflow of exp(-x)
    return e / (1 + e)


register(Primitive(
    name="sigmoid", numpy=_sigmoid, math=_sigmoid_scalar, aliases=("expit",),
    sympy=lambda x: 1 / (1 + sp.exp(-x)),
    doc="The logistic function 1 / (1 + exp(-x)) (jax.nn.sigmoid, scipy's expit).",
    example=("sigmoid(0.0)", "0.5"),
    pds=(lambda m, x, out: out * (1 - out),),          # d/dx s(x) = s(x) (1 - s(x))
))


# ---- stop_gradient: the value, and no derivative ----
# Its value is its input; no tangent or adjoint flows through it (JAX's lax.stop_gradient).
# So its derivative is not the slope of its value: verify, whose oracle differentiates the
# function numerically, reports a function that uses it to change its derivative.


def _stop_gradient(x):
    # the plain value: a Dual handed to the numpy form directly leaves its tangent behind
    return type(x)._plain(x) if is_traced(x) else x


register(Primitive(
    name="stop_gradient", numpy=_stop_gradient, math=lambda x: x, sympy=symbolic_stop_gradient,
    nin=1, zero_derivative=True,
    doc="x itself, with derivative 0 in both modes (JAX's stop_gradient).",
    example=("grad(lambda x: x * ad.stop_gradient(x))(3.0)", "3.0"),
))

# The structural ops (sum, matmul, indexing, ...), the reductions (max, prod, softmax, ...) and
# the linear-algebra ops (ad.linalg.det, ...) register themselves from their own modules, which
# import this one; dualad/__init__.py imports them right after it, before anything else.
