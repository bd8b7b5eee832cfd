"""Nested Duals (hyper-dual numbers): second derivatives by hand, levels kept apart, and how a
Dual is written. References: sympy.diff of each op's spec, and hand-derived numbers."""

import itertools

import numpy as np
import pytest
import sympy as sp

import dualad as ad
from dualad.dual import level_of
from dualad.mathns import diff_almost_everywhere
from dualad.primitives import BOOLEAN, REGISTRY

from strategies import ELEMENTWISE, sample_points, symbols_for

D = ad.Dual


def hyper(value, first, second):
    """value + first eps1 + second eps2: a level-2 Dual seeding two directions."""
    return D(D(value, first), D(second, 0.0))


def parts(result):
    """(value, d/d(eps1), d/d(eps2), d^2/d(eps1)d(eps2)) of a level-2 result; a plain result
    (an op constant almost everywhere) has derivatives 0."""
    if not isinstance(result, D):
        return result, 0.0, 0.0, 0.0
    assert result.level == 2
    primal, tangent = result.primal, result.tangent
    value, d1 = (primal.primal, primal.tangent) if isinstance(primal, D) else (primal, 0.0)
    d2, d12 = (tangent.primal, tangent.tangent) if isinstance(tangent, D) else (tangent, 0.0)
    return value, d1, d2, d12


# ---- perturbation confusion (ForwardDiff's test/ConfusionTest.jl) ----

def test_perturbation_confusion_is_avoided_by_levels():
    # d/dx [x * d/dy (x + y)] at x = 1 is 1: the inner derivative uses a level-2 y
    x = D(1.0, 1.0)
    inner = x + D(D(1.0, 0.0), 1.0)
    dy = inner.tangent                        # d/dy (x + y) = 1, with no eps1 part
    assert dy == 1.0
    assert (x * dy).tangent == 1.0
    # the same with the derivative of x * y: d/dx [x * x] = 2x = 6 at x = 3
    x = D(3.0, 1.0)
    dy = (x * D(D(1.0, 0.0), 1.0)).tangent    # d/dy (x y) = x, which carries eps1
    assert (x * dy).tangent == 6.0
    # one eps for both would confuse them: d/dy (x + y) would come out as 2
    confused = D(1.0, 1.0) + D(1.0, 1.0)
    assert confused.tangent == 2.0


def test_a_lower_level_dual_is_a_constant_to_a_higher_level():
    # (2 + e1 + e2)(5 + e1) = 10 + 7 e1 + 5 e2 + e1 e2  (e1^2 = 0)
    product = D(D(2.0, 1.0), 1.0) * D(5.0, 1.0)
    assert product.level == 2
    assert str(product) == "10 + 7ε₁ + 5ε₂ + 1ε₁ε₂"
    assert repr(product) == "Dual(Dual(10.0, 7.0), Dual(5.0, 1.0))"


# ---- second derivatives of every elementwise op, against sympy.diff twice ----

@pytest.mark.parametrize("name", [n for n in ELEMENTWISE if not REGISTRY[n].boolean])
def test_hyper_dual_second_derivatives_match_sympy(name):
    prim = REGISTRY[name]
    symbols = symbols_for(prim)
    spec = prim.sympy(*symbols)
    moving = [i for i, d in enumerate(prim.domain) if d != BOOLEAN]
    for args in sample_points(prim, 3, seed=3):
        at = dict(zip(symbols, args))
        for i, j in itertools.product(moving, repeat=2):
            seeded = [a if k not in moving else hyper(a, float(k == i), float(k == j))
                      for k, a in enumerate(args)]
            value, d1, d2, d12 = parts(getattr(ad, name)(*seeded))
            first_i = diff_almost_everywhere(spec, symbols[i])
            first_j = diff_almost_everywhere(spec, symbols[j])
            second = diff_almost_everywhere(first_i, symbols[j])
            for got, exact in ((value, spec), (d1, first_i), (d2, first_j), (d12, second)):
                expected = float(sp.N(sp.sympify(exact).subs(at), 30))
                assert float(got) == pytest.approx(expected, rel=1e-9, abs=1e-12), \
                    f"{name} at {args}, directions {i}, {j}"


def test_mixed_partial_of_a_composite_by_hand():
    # f = x^2 y + sin(x y);  d2f/dxdy = 2x + cos(xy) - xy sin(xy)
    x, y = 0.7, -1.3
    X = D(D(x, 1.0), D(0.0, 0.0))
    Y = D(D(y, 0.0), D(1.0, 0.0))
    f = X ** 2 * Y + ad.sin(X * Y)
    a, b = sp.symbols("a b", real=True)
    spec = a ** 2 * b + sp.sin(a * b)
    exact = float(sp.diff(spec, a, b).subs({a: x, b: y}))
    assert f.tangent.tangent == pytest.approx(exact, rel=1e-13)
    assert f.primal.tangent == pytest.approx(float(sp.diff(spec, a).subs({a: x, b: y})))
    assert f.tangent.primal == pytest.approx(float(sp.diff(spec, b).subs({a: x, b: y})))


def test_nested_duals_agree_with_hessian():
    f = lambda x, y: ad.exp(x * y) / (1 + x * x)      # noqa: E731
    H = ad.hessian(f, argnums=(0, 1))(0.4, 0.9)
    for i, j in itertools.product(range(2), repeat=2):
        args = [hyper(v, float(k == i), float(k == j)) for k, v in enumerate((0.4, 0.9))]
        assert parts(f(*args))[3] == pytest.approx(H[i][j], rel=1e-12)


@pytest.mark.parametrize("ufunc, second", [
    (np.sin, lambda x: -np.sin(x)), (np.exp, np.exp), (np.log, lambda x: -1 / x ** 2),
    (np.sqrt, lambda x: -0.25 * x ** -1.5), (np.tanh, lambda x: -2 * np.tanh(x)
                                             / np.cosh(x) ** 2),
    (np.arctan, lambda x: -2 * x / (1 + x * x) ** 2), (np.square, lambda x: 2.0)])
def test_numpy_ufuncs_on_nested_duals(ufunc, second):
    x = 0.8
    result = ufunc(hyper(x, 1.0, 1.0))
    assert isinstance(result, D) and result.level == 2
    assert result.tangent.tangent == pytest.approx(second(x), rel=1e-13)
    assert np.add(hyper(x, 1.0, 1.0), 1.0).primal.primal == x + 1


def test_registry_user_functions_return_duals_at_every_level():
    assert type(ad.log(D(2.0, 1.0))) is D
    assert ad.log(D(2.0, 1.0)).tangent == 0.5
    assert type(np.log(D(2.0, 1.0))) is D
    nested = ad.log(hyper(2.0, 1.0, 1.0))
    assert type(nested) is D and nested.level == 2
    assert nested.tangent.tangent == -0.25                   # (log x)'' = -1/x^2
    assert ad.floor(hyper(2.5, 1.0, 1.0)) == 2.0             # constant: a plain value


def test_directions_at_level_one_inside_a_nested_dual():
    # H v for f = sum(x^3): the level-1 tangents carry two directions, level 2 carries v
    x = np.array([1.0, 2.0])
    v = np.array([1.0, -1.0])
    f = ad.sum(D(D(x, np.eye(2)), D(v, 0.0)) ** 3)
    hessian = np.diag(6 * x)
    assert f.tangent.tangent.tolist() == (hessian @ v).tolist()
    assert f.primal.tangent.tolist() == (3 * x ** 2).tolist()
    # and batched tangents alone keep working at level 1
    y = D(x, np.eye(2)) * D(x, np.eye(2))
    assert y.level == 1 and y.tangent.tolist() == [[2.0, 0.0], [0.0, 4.0]]


def test_levels():
    assert level_of(1.0) == 0
    assert D(1.0, 1.0).level == 1
    assert hyper(1.0, 1.0, 1.0).level == 2
    assert D(1.0, D(1.0, 0.0)).level == 2          # a tangent of level 1 makes level 2
    assert D(hyper(1.0, 1.0, 0.0), 0.0).level == 3


# ---- how a Dual is written ----

def test_text_form():
    assert str(D(2.0, 1.0)) == "2 + 1ε"
    assert str(D(2.0, -0.5)) == "2 - 0.5ε"
    assert str(D(2.0, np.array([1.0, 0.0]))) == "2 + [1, 0]ε"
    assert str(D(np.array([1.0, 2.0]), np.eye(2))) == "[1, 2] + [[1, 0], [0, 1]]ε"
    assert str(hyper(2.0, 1.0, 1.0)) == "2 + 1ε₁ + 1ε₂ + 0ε₁ε₂"
    assert str(hyper(2.0, 1.0, 1.0) ** 3) == "8 + 12ε₁ + 12ε₂ + 12ε₁ε₂"
    assert str(D(1.0, D(1.0, 0.0))) == "1 + 1ε₂ + 0ε₁ε₂"
    assert str(D(np.pi, 0.0)) == "3.141593 + 0ε"


def test_latex_form():
    assert D(2.0, 1.0)._repr_latex_() == r"$2 + 1\varepsilon$"
    assert hyper(2.0, 1.0, 0.0)._repr_latex_() == \
        r"$2 + 1\varepsilon_{1} + 0\varepsilon_{2} + 0\varepsilon_{1}\varepsilon_{2}$"
    assert D(np.array([1.0, 2.0]), np.array([0.0, 1.0]))._repr_latex_() == \
        r"$\begin{bmatrix}1 & 2\end{bmatrix} + \begin{bmatrix}0 & 1\end{bmatrix}\varepsilon$"


def test_repr_evaluates_back_to_the_number():
    for dual in (D(2.0, 1.0), hyper(0.1, 1.0, 0.0) * 3, D(np.array([1.0, 2.5]), np.eye(2))):
        again = eval(repr(dual), {"Dual": D, "array": np.array})     # noqa: S307
        assert str(again) == str(dual) and again.level == dual.level


def test_a_tangent_that_does_not_fit_is_refused():
    with pytest.raises(ad.ShapeMismatchError, match=r"Dual: tangent shape \(3,\)"):
        D(np.zeros(2), np.zeros(3))
    with pytest.raises(ad.DualadError, match="Dual: the tangent is None"):
        D(1.0, None)
