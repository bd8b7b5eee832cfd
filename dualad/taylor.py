"""Taylor mode: truncated Taylor polynomials pushed through the graph (forward mode, generalised).

This module owns :class:`Taylor` (a number type) and :func:`taylor` (the transform). A
``Taylor`` holds the coefficients x_0, x_1, ..., x_k of x(t) = x_0 + x_1 t + ... + x_k t^k
(t^(k+1) = 0). A ``Dual`` is the case k = 1: x_1 is its tangent. Every operation on a Taylor
polynomial is a registry primitive, applied in three parts:

- y_0 = phi(u_0): the op itself, on the values;
- for an elementwise op, y' = sum_a pd_a(u, y) u_a' (d/dt, the chain rule of forward mode),
  with the registry's own partials ``pd_a`` run *on the Taylor polynomials* (the ops a rule
  uses reach this type through the registry, as they reach Duals). The coefficient of
  t^(j-1) on both sides gives (Griewank & Walther, *Evaluating Derivatives*, ch. 13)

      y_j = (1/j) sum_a sum_{i=1..j} i u_{a,i} [pd_a(u, y)]_{j-i}

  so y_j needs the partials only to order j-1: coefficients come one at a time, each from
  lower ones. A partial that reuses the output (exp's is y itself, tan's 1 + y^2) refers to
  the very series being computed, so a Taylor polynomial made inside a rule is *lazy*: it
  computes a coefficient when one is asked for. An op applied twice to the same polynomials
  inside one computation gives the same lazy polynomial, so sin's partial cos(u), whose
  partial is -sin(u), closes on sin(u) itself instead of growing a new chain per order;
- for a structural op (sum, matmul, indexing, ...), y' = J(u) u', with J(u) the op's
  Jacobian at the polynomials. Its ``jvp`` rule is linear in the tangent, so it runs on the
  Taylor polynomials once per plain coefficient u'_i = (i+1) u_{i+1} of u'
  (:func:`~dualad.evaluators.base.push_tangent`, exactly as for a Dual), and
  y_j = (1/j) sum_{i=0..j-1} [jvp(u; u'_i)]_{j-1-i}. A linear op's rule ignores u and gives a
  plain value: y_j = F(u_j).

One op is the exception: ``divide``. Its partial -a/b^2, run on a series, divides by b^2,
whose own partial divides by b^4, and so on: order k would meet b^(2^k), which is inf for
b = 3 at k = 10. The quotient q = a/b is solved from q b = a instead, the Cauchy product
(multiply's rule) read at t^j: q_j = (a_j - sum_{i=1..j} b_i q_{j-i}) / b_0
(tests/test_taylor.py::test_division_to_high_order).

Cost: each coefficient of each op is one sum of at most j products, so an op whose partial is
made of elementwise ops and its own output costs O(k^2) for order k: every elementwise op of
the registry but ``power``, whose partial b a^(b-1) is another power, a^(b-2) the next, one
per order, so O(k^3). A linear structural op costs k applications of the op; a product
(matmul) O(k^2) products, as the Cauchy product does
(tests/test_taylor.py::test_partials_close_on_themselves_instead_of_growing_per_order).

Examples
--------
>>> import numpy as np, dualad as ad
>>> t = ad.Taylor([0.0, 1.0, 0.0, 0.0, 0.0])      # t itself, to order 4
>>> print(np.exp(t))                              # 1 + t + t^2/2 + t^3/6 + t^4/24
1 + 1t + 0.5t² + 0.166667t³ + 0.041667t⁴
>>> ad.taylor(np.sin, 0.0, order=5).tolist()      # t - t^3/6 + t^5/120
[0.0, 1.0, 0.0, -0.16666666666666666, 0.0, 0.008333333333333333]
"""

import threading
from contextlib import contextmanager

import numpy as np

from .entry import prepare
from .errors import DualadError, ShapeMismatchError
from .evaluators import ValueEvaluator
from .evaluators.base import local_partials, push_tangent
from .mathns import as_float, is_symbolic
from .overload import Overloaded
from .primitives import OVERLOADED_TYPES, REGISTRY
from .printing import format_value
from .shapes import shape_of
from .values import NO_PARAMS, as_value, describe, is_traced

#: The highest order :func:`taylor` computes. Where an op's partial makes a new polynomial for
#: every order (power's a^(b-1), a^(b-2), ...), coefficient j is reached through j of them,
#: a few Python calls deeper each: order 100 takes about 530 of Python's 1000 frames.
MAX_ORDER = 100

#: Decimal places ``str`` shows; ``repr`` shows every digit.
DECIMALS = 6

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

# How many rules are running on this thread: a polynomial made inside one stays lazy (it may
# refer to the output the rule is computing); one made by the user's code is completed at once.
_RULES = threading.local()


@contextmanager
def _rules_running():
    _RULES.depth = getattr(_RULES, "depth", 0) + 1
    try:
        yield
    finally:
        _RULES.depth -= 1


def _inside_rules():
    return getattr(_RULES, "depth", 0) > 0


class Taylor(Overloaded):
    """A truncated Taylor polynomial x_0 + x_1 t + ... + x_k t^k, with t^(k+1) = 0.

    Arithmetic, the ops of dualad and numpy's ufuncs on it give the truncated Taylor polynomial
    of the result; comparisons look at x_0. ``Taylor([x, v])`` computes what ``Dual(x, v)``
    does; more coefficients carry higher derivatives along the line x + t v.

    Parameters
    ----------
    coefficients : sequence of float or array
        x_0 (the value), x_1, ..., x_k: numbers, or arrays of one shape (a number stands for an
        array of the value's shape filled with it).

    Attributes
    ----------
    order : int
        k, the highest power of t kept.
    coefficients : ndarray
        All k + 1 coefficients, shape ``(k + 1,) + value shape``.

    Examples
    --------
    >>> import dualad as ad
    >>> x = ad.Taylor([2.0, 1.0, 0.0])            # x = 2 + t
    >>> (x * x).coefficients.tolist()             # 4 + 4t + t^2
    [4.0, 4.0, 1.0]
    >>> (1 / x).coefficients.tolist()             # 1/2 - t/4 + t^2/8
    [0.5, -0.25, 0.125]
    """

    __slots__ = ("order", "_known", "_next", "_busy", "_memo")

    def __init__(self, coefficients):
        if isinstance(coefficients, (str, bytes)) or not hasattr(coefficients, "__len__"):
            raise DualadError(f"Taylor: expected a sequence of coefficients (x_0, x_1, ...), "
                              f"got {describe(coefficients)}")
        values = [_coefficient(c, j) for j, c in enumerate(coefficients)]
        if not values:
            raise DualadError("Taylor: give at least one coefficient (x_0, the value)")
        shape = shape_of(values[0])
        for j, c in enumerate(values):
            if shape_of(c) not in ((), shape):
                raise ShapeMismatchError(f"Taylor: coefficient {j} has shape {shape_of(c)}, "
                                         f"but the value (coefficient 0) has shape {shape}")
        self._start([_shaped(c, shape) for c in values], len(values) - 1, None)

    def _start(self, known, order, rule):
        self.order = order
        self._known = known
        self._next = rule
        self._busy = False
        self._memo = None

    @classmethod
    def _lazy(cls, known, order, rule):
        """A polynomial whose coefficients past ``known`` come from ``rule(j)``, on demand."""
        self = cls.__new__(cls)
        self._start(known, order, rule)
        return self

    def coefficient(self, j):
        """x_j, computed (with every lower coefficient not yet known) when first asked for.

        Examples
        --------
        >>> import numpy as np, dualad as ad
        >>> np.exp(ad.Taylor([0.0, 1.0, 0.0, 0.0])).coefficient(3)     # 1/3!
        0.16666666666666666
        """
        known = self._known
        if j > self.order:
            raise DualadError(f"Taylor: coefficient {j} of a polynomial of order {self.order}")
        while len(known) <= j:
            if self._busy:
                raise DualadError("Taylor: a coefficient depends on itself (a rule that reads "
                                  "the output it is computing at the same order)")
            self._busy = True
            try:
                known.append(self._next(len(known)))
            finally:
                self._busy = False
        return known[j]

    @property
    def coefficients(self):
        """All k + 1 coefficients as one array (shape ``(k + 1,) + value shape``)."""
        return np.asarray([self.coefficient(j) for j in range(self.order + 1)])

    @staticmethod
    def _apply(prim, args, params):
        return taylor_apply(prim, args, params)

    @staticmethod
    def _plain(x):
        return x.coefficient(0) if isinstance(x, Taylor) else x

    _plain_attribute = "coefficient(0)"

    def __repr__(self):
        return f"Taylor({[self.coefficient(j) for j in range(self.order + 1)]!r})"

    def __str__(self):
        """The polynomial as mathematics writes it: ``1 + 1t + 0.5t²``."""
        return self._written(lambda j: "t" + (str(j).translate(_SUPERSCRIPTS) if j > 1
                                              else "") if j else "")

    def _repr_latex_(self):
        """The polynomial in LaTeX, for notebooks."""
        return "$" + self._written(lambda j: f"t^{{{j}}}" if j > 1 else "t" if j else "") + "$"

    def _written(self, power):
        text = ""
        for j in range(self.order + 1):
            c = self.coefficient(j)
            word, sign = format_value(c, DECIMALS), " + "
            if word.startswith("-") and shape_of(c) == ():
                sign, word = " - ", word[1:]
            text = word if not j else text + sign + word + power(j)
        return text

    __hash__ = None


def _coefficient(c, j):
    c = as_value(c, f"Taylor: coefficient {j}")
    if is_traced(c) or is_symbolic(c):
        raise DualadError(f"Taylor: coefficient {j} is {describe(c)}; coefficients are plain "
                          "numbers or arrays")
    return c


def _shaped(c, shape):
    """``c`` as a value of ``shape``: broadcast when it is smaller, a float when a scalar."""
    if shape_of(c) != shape:
        c = np.array(np.broadcast_to(c, shape))
    return as_float(c)


# ---- one op on Taylor polynomials ----

def taylor_apply(prim, args, params=None):
    """Apply a registry primitive to Taylor polynomials (and plain values).

    Ops that are constant almost everywhere (comparisons, ``sign``, ``floor``) give a plain
    value. Called by the user's code (or an evaluator), the result has every coefficient;
    called inside a rule, it is lazy (see the module docstring).

    Examples
    --------
    >>> from dualad import Taylor
    >>> from dualad.primitives import REGISTRY
    >>> from dualad.taylor import taylor_apply
    >>> taylor_apply(REGISTRY["multiply"], (Taylor([2.0, 1.0]), 5.0))
    Taylor([10.0, 5.0])
    """
    params = params or NO_PARAMS
    for a in args:
        if is_traced(a) and not isinstance(a, Taylor):
            raise DualadError(f"{prim.name}: a Taylor polynomial and a {type(a).__name__} in "
                              "one operation; Taylor polynomials combine with plain numbers "
                              "and arrays only")
    plain = [Taylor._plain(a) for a in args]
    if prim.zero_derivative:
        return prim.evaluate(*plain, **params)
    first = next(a for a in args if isinstance(a, Taylor))
    key = _memo_key(prim, args, params)
    found = first._memo.get(key) if key is not None and first._memo is not None else None
    if found is not None:
        result = found[0]
    else:
        order = min(a.order for a in args if isinstance(a, Taylor))
        result = Taylor._lazy([prim.evaluate(*plain, **params)], order, None)
        rule = (_quotient if prim is REGISTRY.get("divide") else
                _chain_rule if prim.elementwise else _jvp_rule)
        result._next = rule(prim, args, params, result)
        if key is not None:
            if first._memo is None:
                first._memo = {}
            first._memo[key] = (result, args)       # args kept alive: their ids are the key
    if not _inside_rules():
        try:
            result.coefficient(result.order)
        except RecursionError:
            raise DualadError(f"{prim.name}: its Taylor coefficients to order {result.order} "
                              "nest too deeply for Python's stack (a partial that makes a new "
                              "polynomial for every order); use a lower order") from None
    return result


def _memo_key(prim, args, params):
    """What identifies an application of ``prim``: the polynomials (by identity), the plain
    numbers and the parameters; ``None`` when some part cannot be a key (an array)."""
    parts = []
    for a in args:
        if isinstance(a, Taylor):
            parts.append(id(a))
        elif isinstance(a, (float, int, np.floating, np.integer, np.bool_)):
            parts.append((type(a), a))
        else:
            return None
    try:
        frozen = tuple(sorted(params.items()))
        hash(frozen)
    except TypeError:
        return None
    return prim, tuple(parts), frozen


def _chain_rule(prim, args, params, out):
    """Coefficients of an elementwise op: y_j = (1/j) sum_a sum_{i=1..j} i u_{a,i}
    [pd_a(u, y)]_{j-i}, the registry's partials run on the polynomials (lazily, once)."""
    wanted = [a for a, x in enumerate(args) if isinstance(x, Taylor)]
    shape = shape_of(out.coefficient(0))
    partials = []

    def next_coefficient(j):
        if not partials:
            with _rules_running():
                partials.extend(local_partials(prim, args, out, wanted))
        total = 0.0
        for a in wanted:
            u, pd = args[a], partials[a]
            if isinstance(pd, Taylor):
                total = total + sum(i * u.coefficient(i) * pd.coefficient(j - i)
                                    for i in range(1, j + 1)) / j
            else:           # a constant partial: only its t^0 term, i = j
                total = total + u.coefficient(j) * pd
        return _shaped(total, shape)

    return next_coefficient


def _quotient(prim, args, params, out):
    """Coefficients of a / b from q b = a: q_j = (a_j - sum_{i=1..j} b_i q_{j-i}) / b_0."""
    a, b = args
    shape = shape_of(out.coefficient(0))
    b_0 = Taylor._plain(b)

    def next_coefficient(j):
        rest = a.coefficient(j) if isinstance(a, Taylor) else 0.0
        if isinstance(b, Taylor):
            rest = rest - sum(b.coefficient(i) * out.coefficient(j - i) for i in range(1, j + 1))
        return _shaped(np.true_divide(rest, b_0), shape)

    return next_coefficient


def _jvp_rule(prim, args, params, out):
    """Coefficients of a structural op: y_j = (1/j) sum_{i=0..j-1} [jvp(u; u'_i)]_{j-1-i}.

    y' = J(u) u' with J(u) the op's Jacobian at the polynomials u; the ``jvp`` rule is linear in
    its tangent, so it is run on the polynomials once per plain coefficient u'_i = (i+1) u_{i+1}
    of u' (lazily, once each) and the results are summed as a Cauchy product. For a linear op
    the rule ignores u and gives a plain value: y_j = F(u_j).
    """
    shape = shape_of(out.coefficient(0))
    slopes = []         # slopes[i] = jvp(u; u'_i), the rule run on the polynomials

    def next_coefficient(j):
        while len(slopes) < j:
            i = len(slopes)
            tangents = [(i + 1) * a.coefficient(i + 1) if isinstance(a, Taylor) else None
                        for a in args]
            with _rules_running():
                slopes.append(push_tangent(prim, args, out, tangents, 0, params))
        total = sum(_at(slopes[i], j - 1 - i) for i in range(j))
        return _shaped(np.true_divide(total, j), shape)

    return next_coefficient


def _at(value, j):
    """Coefficient j of a polynomial, or of a plain value (a constant: 0 past j = 0)."""
    if isinstance(value, Taylor):
        return value.coefficient(j)
    return value if j == 0 else 0.0


OVERLOADED_TYPES[Taylor] = taylor_apply


# ---- the transform ----

def line_tangents(graph, point, direction, what, default=None):
    """One tangent per input of ``graph``: the direction v of the line x + t v through
    ``point``.

    Parameters
    ----------
    direction : None, str, dict, value or sequence
        ``None`` for the default; an input's name (that input moves by 1 in each element, the
        others stay); a dict by input name (inputs not named stay); for a graph of one input,
        that input's tangent; else a sequence of one tangent per input.
    what : str
        The caller's name, for error messages.
    default : callable, optional
        ``default(graph, point)`` gives the tangents when ``direction`` is None; without it,
        ``None`` is allowed only for a single scalar input (whose tangent is then 1).

    Raises
    ------
    DualadError
        For a name that is not an input, a wrong number of tangents, or a tangent that is not
        a finite real number or array; ``ShapeMismatchError`` for a tangent whose shape is
        not its input's.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.taylor import line_tangents
    >>> graph = ad.parse("x * y")
    >>> line_tangents(graph, [2.0, 3.0], "y", "taylor"), line_tangents(graph, [2.0, 3.0],
    ...                                                               {"x": 2}, "taylor")
    ([0.0, 1.0], [2.0, 0.0])
    """
    names = graph.input_names
    zeros = [np.zeros(shape_of(v)) if shape_of(v) else 0.0 for v in point]
    if direction is None:
        if default is not None:
            return default(graph, point)
        if len(point) == 1 and shape_of(point[0]) == ():
            return [1.0]
        count = sum(int(np.size(v)) for v in point)
        raise DualadError(f"{what}: f has {count} input elements ({', '.join(names)}); give "
                          "direction= (the line x + t*direction to expand along: one tangent "
                          "per input, or a dict by name)")
    if isinstance(direction, str):
        if direction not in names:
            raise DualadError(f"{what}: no input named {direction!r} "
                              f"(inputs: {', '.join(names)})")
        k = names.index(direction)
        tangents = list(zeros)
        tangents[k] = np.ones(shape_of(point[k])) if shape_of(point[k]) else 1.0
    elif isinstance(direction, dict):
        unknown = sorted(set(direction) - set(names), key=str)
        if unknown:
            raise DualadError(f"{what}: no input named {unknown[0]!r} "
                              f"(inputs: {', '.join(names)})")
        tangents = [direction.get(n, z) for n, z in zip(names, zeros)]
    elif len(point) == 1:
        tangents = [direction]
    else:
        if not isinstance(direction, (tuple, list)) or len(direction) != len(point):
            raise DualadError(f"{what}: direction must give one tangent per input "
                              f"({', '.join(names)}), got {describe(direction)}")
        tangents = list(direction)
    checked = []
    for name, value, tangent in zip(names, point, tangents):
        tangent = as_value(tangent, f"{what}: the direction of {name}")
        if (is_traced(tangent) or is_symbolic(tangent) or np.iscomplexobj(tangent)
                or not np.all(np.isfinite(tangent))):
            raise DualadError(f"{what}: the direction of {name} must be finite real numbers, "
                              f"got {describe(tangent)}")
        if shape_of(tangent) != shape_of(value):
            raise ShapeMismatchError(f"{what}: the direction of {name} has shape "
                                     f"{shape_of(tangent)}, but {name} has shape "
                                     f"{shape_of(value)}")
        checked.append(tangent)
    return checked


def taylor(f, *args, order, direction=None):
    """The Taylor coefficients f(x), f'(x), f''(x)/2!, ..., f^(k)(x)/k! of f at a point.

    Univariate Taylor mode: the point goes through the graph as the Taylor polynomial
    x + t v (:class:`Taylor`), and the result's coefficients are those of g(t) = f(x + t v),
    g^(j)(0)/j!, computed from the registry's own rules (see :mod:`dualad.taylor`). For one
    scalar input, v = 1 and these are f^(j)(x)/j!.

    Parameters
    ----------
    f : callable, Graph or Var
        The function (traced at ``args``), a graph, or an output Var.
    *args
        The point: one value per input.
    order : int
        k, the highest coefficient (0 to 100).
    direction : optional
        v, for several inputs (required then): one tangent per input, a dict by input name, or
        an input's name; for one array input, an array of its shape.

    Returns
    -------
    ndarray, or a tuple of them for several outputs
        Shape ``(k + 1,) + output shape``; row j is g^(j)(0)/j!.

    Raises
    ------
    DualadError
        For an order that is not a whole number from 0 to 100, or a missing or bad
        direction.

    Examples
    --------
    >>> import math, numpy as np, dualad as ad
    >>> c = ad.taylor(lambda x: ad.exp(2 * x), 0.0, order=4)
    >>> c.tolist()                                     # 2^j / j!
    [1.0, 2.0, 2.0, 1.3333333333333333, 0.6666666666666666]
    >>> [float(c[j]) * math.factorial(j) for j in range(5)]     # the derivatives 2^j
    [1.0, 2.0, 4.0, 8.0, 16.0]
    >>> ad.taylor(lambda x, y: x * y, 2.0, 3.0, order=2, direction=(1.0, 1.0)).tolist()
    [6.0, 5.0, 1.0]
    """
    if (isinstance(order, bool) or not isinstance(order, (int, np.integer))
            or not 0 <= order <= MAX_ORDER):
        raise DualadError(f"taylor: order must be a whole number from 0 to {MAX_ORDER}, "
                          f"got {order!r}")
    entry = prepare(f, args, "taylor")
    graph, point = entry.graph, entry.point
    for name, value in zip(graph.input_names, point):
        if np.iscomplexobj(value) or is_symbolic(value) or is_traced(value):
            raise DualadError(f"taylor: the value of {name} must be real numbers, got "
                              f"{describe(value)}")
    tangents = line_tangents(graph, point, direction, "taylor")
    lines = [Taylor([x, v] + [0.0] * (order - 1) if order else [x])
             for x, v in zip(point, tangents)]
    values = ValueEvaluator(graph).run(lines)
    results = []
    for pos in graph.output_positions:
        value = values[pos]
        if isinstance(value, Taylor):
            results.append(value.coefficients)
        else:       # does not depend on the inputs (or only through constant ops)
            value = np.asarray(value, dtype=float)
            results.append(np.concatenate([value[None], np.zeros((order,) + value.shape)]))
    return results[0] if graph.single_output else tuple(results)
