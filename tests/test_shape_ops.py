"""squeeze, expand_dims, concatenate and einsum: against numpy's own functions and central
differences, in every mode, and their errors."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualad as ad
from dualad.primitives import REGISTRY
from op_checks import check_jacobians, check_one_direction

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 3))
B = RNG.standard_normal((3, 4))
V = RNG.standard_normal(3)
T = RNG.standard_normal((2, 2, 3))

# (label, dualad function, numpy function, arguments)
CASES = [
    ("squeeze all", lambda x: ad.squeeze(x), np.squeeze, (RNG.standard_normal((1, 3, 1)),)),
    ("squeeze axis", lambda x: ad.squeeze(x, axis=-1), lambda x: np.squeeze(x, axis=-1),
     (RNG.standard_normal((2, 1)),)),
    ("expand_dims", lambda x: ad.expand_dims(x, (0, 2)), lambda x: np.expand_dims(x, (0, 2)),
     (B,)),
    ("concatenate axis 0", lambda a, b: ad.concatenate([a, b, a]),
     lambda a, b: np.concatenate([a, b, a]), (A, B.T)),
    ("concatenate axis 1", lambda a, b: ad.concatenate([a, b], axis=1),
     lambda a, b: np.concatenate([a, b], axis=1), (A, B)),
    ("concatenate flattened", lambda a, b: ad.concatenate([a, b], axis=None),
     lambda a, b: np.concatenate([a, b], axis=None), (A, V)),
    ("concatenate with a constant", lambda a: ad.concatenate([a, np.ones(2)]),
     lambda a: np.concatenate([a, np.ones(2)]), (V,)),
    ("einsum matmul", lambda a, b: ad.einsum("ij,jk->ik", a, b),
     lambda a, b: np.einsum("ij,jk->ik", a, b), (A, B)),
    ("einsum trace", lambda a: ad.einsum("ii->", a), lambda a: np.einsum("ii->", a), (A,)),
    ("einsum diagonal", lambda a: ad.einsum("ii->i", a), lambda a: np.einsum("ii->i", a),
     (A,)),
    ("einsum transpose", lambda t: ad.einsum("ijk->kij", t),
     lambda t: np.einsum("ijk->kij", t), (T,)),
    ("einsum repeated and summed", lambda t: ad.einsum("iij->j", t),
     lambda t: np.einsum("iij->j", t), (T,)),
    ("einsum outer", lambda a, b: ad.einsum("i,j->ij", a, b),
     lambda a, b: np.einsum("i,j->ij", a, b), (V, B[0])),
    ("einsum chain", lambda a, b, v: ad.einsum("ij,jk,i->k", a, b, v),
     lambda a, b, v: np.einsum("ij,jk,i->k", a, b, v), (A, B, V)),
    ("einsum quadratic form", lambda v, a: ad.einsum("i,ij,j->", v, a, v),
     lambda v, a: np.einsum("i,ij,j->", v, a, v), (V, A)),
    ("einsum batch", lambda t, a: ad.einsum("bij,jk->bik", t, a),
     lambda t, a: np.einsum("bij,jk->bik", t, a), (T, A)),
    ("einsum scalar operand", lambda s, v: ad.einsum(",i->i", s, v),
     lambda s, v: np.einsum(",i->i", s, v), (np.array(2.5), V)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("label,f,numpy_f,args", CASES, ids=IDS)
def test_jacobians_match_central_differences_of_numpy(label, f, numpy_f, args, mode):
    check_jacobians(f, numpy_f, args, mode)


@pytest.mark.parametrize("label,f,numpy_f,args", CASES, ids=IDS)
def test_one_direction_jvp_vjp_duals_and_compile_match_central_differences(label, f, numpy_f,
                                                                           args):
    check_one_direction(f, numpy_f, args, RNG)


def test_hessian_of_a_quadratic_form_by_einsum_is_a_plus_a_transpose():
    H = ad.hessian(lambda x: ad.einsum("i,ij,j->", x, A, x))(V)
    np.testing.assert_allclose(H, A + A.T, rtol=1e-12, atol=1e-12)


def test_hessian_through_concatenate_and_squeeze():
    # f(x) = sum(c * concat(x, x^2)^2) = sum(c1 x^2 + c2 x^4): H = diag(2 c1 + 12 c2 x^2)
    c = np.arange(1.0, 7.0)
    x = np.array([0.5, -1.0, 2.0])
    f = lambda x: ad.sum(ad.squeeze(ad.expand_dims(c * ad.concatenate([x, x * x]) ** 2, 0)))
    expected = np.diag(2 * c[:3] + 12 * c[3:] * x**2)
    np.testing.assert_allclose(ad.hessian(f)(x), expected, rtol=1e-12)


def test_numpy_functions_on_vars_and_duals_reach_the_ops():
    x = ad.Var(B)
    assert np.squeeze(ad.Var(np.ones((1, 3)))).op.name == "squeeze"
    assert np.expand_dims(x, 0).op.name == "expand_dims"
    assert np.concatenate([x, x]).op.name == "concatenate"
    assert np.einsum("ij,ij->", x, B).op.name == "einsum"
    assert np.einsum("ij->ji", x).op.name == "transpose"
    d = ad.Dual(V, np.ones(3))
    assert np.concatenate([d, d]).tangent.tolist() == [1.0] * 6
    assert np.einsum("i,i->", d, V).tangent == pytest.approx(np.sum(V))
    assert np.expand_dims(d, 1).tangent.shape == (3, 1)


def test_einsum_of_two_matrices_costs_what_matmul_costs():
    # q multiplies and q - 1 adds per element of the (n, m) result
    n, q, m = 3, 4, 5
    assert REGISTRY["einsum"].cost([(n, q), (q, m)], (n, m), subscripts="ij,jk->ik") == \
        n * m * (2 * q - 1)
    assert REGISTRY["einsum"].cost([(n,), (m,)], (n, m), subscripts="i,j->ij") == n * m
    assert REGISTRY["squeeze"].cost([(1, 3)], (3,), axis=(0,)) == 0


def test_trace_table_shows_the_einsum_and_concatenate_nodes():
    table = str(ad.trace_table(lambda a, v: ad.sum(ad.concatenate([ad.einsum("ij,j->i", a, v),
                                                                   v])), A, V))
    assert "einsum(" in table and "subscripts='ij,j->i'" in table and "concatenate(" in table


def test_compare_counts_einsum():
    report = ad.compare(lambda a, b: ad.einsum("ij,jk->ik", a, b), A, B)
    assert report.forward.jacobian.shape == report.reverse.jacobian.shape


def test_compare_counts_squeeze_and_expand_dims():
    report = ad.compare(lambda x: ad.squeeze(ad.expand_dims(x, 0)) * x, V)
    np.testing.assert_allclose(report.forward.jacobian, np.diag(2 * V))
    np.testing.assert_allclose(report.reverse.jacobian, np.diag(2 * V))


# ---- errors: numpy's rules, said with the op and the shapes ----

@pytest.mark.parametrize("call,error,message", [
    (lambda: ad.squeeze(np.ones((2, 3)), axis=0), ad.ShapeMismatchError,
     r"squeeze: axis 0 of a value of shape \(2, 3\) has length 2"),
    (lambda: ad.squeeze(np.ones((1, 3)), axis=2), ad.ShapeMismatchError,
     r"squeeze: axis 2 is out of bounds for a value of shape \(1, 3\)"),
    (lambda: ad.squeeze(np.ones((1, 3)), axis=1.5), ad.DualadError, r"squeeze: axis must be"),
    (lambda: ad.expand_dims(np.ones(3), 3), ad.ShapeMismatchError,
     r"expand_dims: axis 3 is out of bounds for the result \(2 axes\)"),
    (lambda: ad.expand_dims(np.ones(3), (0, 0)), ad.DualadError, r"names an axis twice"),
    (lambda: ad.concatenate([]), ad.DualadError, r"concatenate: needs at least one value"),
    (lambda: ad.concatenate([ad.Var(1.0), 2.0]), ad.ShapeMismatchError,
     r"concatenate: scalars cannot be joined"),
    (lambda: ad.concatenate([np.ones((2, 3)), np.ones((3, 2))]), ad.ShapeMismatchError,
     r"shapes \(2, 3\) and \(3, 2\) differ on an axis other than the joined axis 0"),
    (lambda: ad.concatenate([np.ones(2), np.ones(2)], axis=1), ad.ShapeMismatchError,
     r"concatenate: axis 1 is out of bounds"),
    (lambda: ad.concatenate([np.ones(2), None]), ad.DualadError,
     r"concatenate: value 1 is None"),
    (lambda: ad.concatenate([np.ones(2)], out=np.ones(2)), ad.DualadError, r"out= is not"),
    (lambda: ad.einsum("ij,jk", A, B), ad.DualadError, r"implicit form 'ij,jk'"),
    (lambda: ad.einsum("...i->i", A), ad.DualadError, r"ellipsis"),
    (lambda: ad.einsum(A, [0, 1]), ad.DualadError, r"interleaved form"),
    (lambda: ad.einsum("i1->i", V), ad.DualadError, r"'1' in 'i1->i' is not a letter"),
    (lambda: ad.einsum("ij,jk->ik", A), ad.ShapeMismatchError, r"names 2 operands, got 1"),
    (lambda: ad.einsum("ijk->i", A), ad.ShapeMismatchError,
     r"operand 0 has shape \(3, 3\) \(2 axes\), but its subscripts 'ijk' name 3"),
    (lambda: ad.einsum("ij,ij->", A, B), ad.ShapeMismatchError,
     r"the letter 'j' stands for axes of lengths 3 and 4"),
    (lambda: ad.einsum("ij->ii", A), ad.DualadError, r"the output 'ii' names 'i' twice"),
    (lambda: ad.einsum("ij->k", A), ad.DualadError, r"the output letter 'k' is in no"),
])
def test_bad_arguments_get_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_errors_are_the_same_through_numpy_dispatch():
    with pytest.raises(ad.ShapeMismatchError, match="squeeze: axis 0"):
        np.squeeze(ad.Var(np.ones((2, 3))), axis=0)
    with pytest.raises(ad.DualadError, match="einsum: write the output explicitly"):
        np.einsum("ij", ad.Var(A))


# ---- einsum on random subscripts ----

@st.composite
def einsum_problems(draw):
    """Random valid explicit subscripts over letters a-d (repeated letters, sums, outer
    products and scalars included), with operand arrays."""
    lengths = dict(zip("abcd", draw(st.lists(st.integers(1, 3), min_size=4, max_size=4))))
    count = draw(st.integers(1, 3))
    terms = [draw(st.text("abcd", min_size=0, max_size=3)) for _ in range(count)]
    used = sorted(set("".join(terms)))
    output = "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    operands = [rng.standard_normal(tuple(lengths[c] for c in term)) for term in terms]
    return f"{','.join(terms)}->{output}", operands


@settings(deadline=None)
@given(einsum_problems())
def test_einsum_on_random_subscripts_matches_numpy_and_central_differences(problem):
    subscripts, operands = problem
    numpy_f = lambda *a: np.einsum(subscripts, *a)  # noqa: E731
    f = lambda *a: ad.einsum(subscripts, *a)  # noqa: E731
    for mode in ("forward", "reverse"):
        check_jacobians(f, numpy_f, operands, mode)


@pytest.mark.parametrize("name, reference", [("sum", np.sum), ("mean", np.mean)])
@pytest.mark.parametrize("value", [np.arange(12.0).reshape(3, 4) / 7, np.zeros((0, 3)),
                                   np.arange(6).reshape(2, 3), np.float64(2.5), 3.0,
                                   np.array([1 + 2j, 3 - 1j])])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, True), ((-1,), False), ((), False)])
def test_reduction_kernels_give_numpys_numbers(name, reference, value, axis, keepdims):
    """sum and mean skip numpy's Python layer on float arrays: the same numbers, bit for bit,
    and numpy's own function for everything else (ints, scalars, empty arrays)."""
    if np.ndim(value) == 0 and axis not in (None, ()):
        return
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = REGISTRY[name].evaluate(value, axis=axis, keepdims=keepdims)
        expected = reference(value, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(got, expected)
    assert np.shape(got) == np.shape(expected)


def test_transpose_kernel_is_numpys():
    x = np.arange(24.0).reshape(2, 3, 4)
    for axes in (None, (1, 2, 0), (0, 2, 1)):
        np.testing.assert_array_equal(REGISTRY["transpose"].evaluate(x, axes=axes),
                                      np.transpose(x, axes))
    assert REGISTRY["transpose"].evaluate(2.0) == 2.0
