"""ad.linalg (det, inv, solve, norm): against numpy and central differences in every mode,
Hessians against the textbook formulas, and the traps (singular matrices, the norm at 0)."""

import itertools

import numpy as np
import pytest
import sympy as sp

import dualad as ad
from strategies import central_jacobian
from op_checks import check_jacobians, check_one_direction

RNG = np.random.default_rng(5)
A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)        # well conditioned
STACK = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
b = RNG.standard_normal(3)
B = RNG.standard_normal((3, 2))
X = RNG.standard_normal((2, 3, 4))

# (label, dualad function, numpy function, arguments)
CASES = [
    ("det", ad.linalg.det, np.linalg.det, (A,)),
    ("det of a stack", ad.linalg.det, np.linalg.det, (STACK,)),
    ("inv", ad.linalg.inv, np.linalg.inv, (A,)),
    ("inv of a stack", ad.linalg.inv, np.linalg.inv, (STACK,)),
    ("solve, b a vector", ad.linalg.solve, np.linalg.solve, (A, b)),
    ("solve, b a matrix", ad.linalg.solve, np.linalg.solve, (A, B)),
    ("solve, a stack and b a vector", ad.linalg.solve, np.linalg.solve, (STACK, b)),
    ("solve, a matrix and b a stack", ad.linalg.solve, np.linalg.solve,
     (A, RNG.standard_normal((2, 3, 2)))),
    ("norm of a vector", ad.linalg.norm, np.linalg.norm, (b,)),
    ("norm, ord=2", lambda x: ad.linalg.norm(x, 2), lambda x: np.linalg.norm(x, 2), (b,)),
    ("Frobenius norm", lambda x: ad.linalg.norm(x, "fro"), lambda x: np.linalg.norm(x, "fro"),
     (B,)),
    ("norm of a 3-d array", ad.linalg.norm, np.linalg.norm, (X,)),
    ("norm over an axis", lambda x: ad.linalg.norm(x, axis=-1),
     lambda x: np.linalg.norm(x, axis=-1), (X,)),
    ("norm over two axes, keepdims", lambda x: ad.linalg.norm(x, axis=(0, 2), keepdims=True),
     lambda x: np.linalg.norm(x, axis=(0, 2), keepdims=True), (X,)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("label,f,numpy_f,args", CASES, ids=IDS)
def test_jacobians_match_central_differences_of_numpy(label, f, numpy_f, args, mode):
    check_jacobians(f, numpy_f, args, mode, atol=1e-7)


@pytest.mark.parametrize("label,f,numpy_f,args", CASES, ids=IDS)
def test_one_direction_jvp_vjp_duals_and_compile_match_central_differences(label, f, numpy_f,
                                                                           args):
    check_one_direction(f, numpy_f, args, RNG, atol=1e-7)


def test_numpy_linalg_on_vars_reaches_the_ops():
    assert np.linalg.det(ad.Var(A)).op.name == "det"
    assert np.linalg.inv(ad.Var(A)).op.name == "inv"
    assert np.linalg.solve(A, ad.Var(b)).op.name == "solve"
    assert np.linalg.norm(ad.Var(X), axis=1).op.name == "norm"
    assert not hasattr(ad, "det") and "det" not in ad.OPERATIONS
    assert ad.linalg.det is ad.REGISTRY["det"].function


# ---- Hessians against the textbook formulas ----

def test_hessian_of_log_det_is_minus_inverse_times_inverse():
    # d^2 log det(A) / dA_ij dA_kl = -(A^-1)_li (A^-1)_jk
    Ainv = np.linalg.inv(A)
    H = ad.hessian(lambda A: ad.log(ad.linalg.det(A)))(A)
    np.testing.assert_allclose(H, -np.einsum("li,jk->ijkl", Ainv, Ainv), rtol=1e-10, atol=1e-12)


def test_hessian_of_a_weighted_inverse_matches_central_differences_of_its_gradient():
    # f(A) = sum(W * A^-1): grad f = -A^-T W A^-T, differenced once more
    W = RNG.standard_normal((3, 3))

    def gradient(A):
        Ainv_t = np.linalg.inv(A).T
        return -Ainv_t @ W @ Ainv_t
    H = ad.hessian(lambda A: ad.sum(W * ad.linalg.inv(A)))(A)
    np.testing.assert_allclose(H, central_jacobian(gradient, A), rtol=1e-6, atol=1e-7)


def test_hessian_of_solve_in_both_arguments_matches_central_differences():
    # f(A, b) = c . A^-1 b: d/db = A^-T c, d/dA = -(A^-T c) x^T with x = A^-1 b
    c = RNG.standard_normal(3)

    def grads(A, b):
        lam = np.linalg.solve(A.T, c)
        return -np.outer(lam, np.linalg.solve(A, b)), lam
    H = ad.hessian(lambda A, b: ad.sum(c * ad.linalg.solve(A, b)), argnums=(0, 1))(A, b)
    np.testing.assert_allclose(H[0][0], central_jacobian(lambda a: grads(a, b)[0], A),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H[0][1], central_jacobian(lambda v: grads(A, v)[0], b),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H[1][0], central_jacobian(lambda a: grads(a, b)[1], A),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H[1][1], np.zeros((3, 3)), atol=1e-12)     # linear in b


def test_hessian_of_the_norm_is_the_projection_over_the_norm():
    # d^2 ||x|| = (I - x x^T / ||x||^2) / ||x||
    r = np.linalg.norm(b)
    expected = (np.eye(3) - np.outer(b, b) / r**2) / r
    np.testing.assert_allclose(ad.hessian(ad.linalg.norm)(b), expected, rtol=1e-12)


# ---- det at singular matrices: the adjugate, finite ----

def cofactors(A):
    """The cofactor matrix (-1)^(i+j) det(A without row i and column j): det's gradient,
    computed entry by entry from its definition."""
    n = A.shape[0]
    out = np.empty((n, n))
    for i, j in itertools.product(range(n), repeat=2):
        minor = np.delete(np.delete(A, i, axis=0), j, axis=1)
        out[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return out


def of_rank(n, rank, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, rank)) @ rng.standard_normal((rank, n))


SINGULAR = [of_rank(3, 2, 1), of_rank(3, 1, 2), of_rank(4, 3, 3), of_rank(4, 2, 4),
            np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((3, 3))]


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("M", SINGULAR, ids=["3 rank 2", "3 rank 1", "4 rank 3", "4 rank 2",
                                              "2 rank 1", "3 zero"])
def test_det_gradient_at_singular_matrices_is_the_adjugate(M, mode):
    grad = ad.grad(ad.linalg.det, mode=mode)(M)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, cofactors(M), rtol=1e-9, atol=1e-12)
    if np.linalg.matrix_rank(M) == M.shape[0] - 1:
        assert np.max(np.abs(grad)) > 1e-3              # rank n - 1: not zero


@pytest.mark.parametrize("M", SINGULAR[:4], ids=["3 rank 2", "3 rank 1", "4 rank 3",
                                                  "4 rank 2"])
def test_det_hessian_at_singular_matrices_matches_central_differences(M):
    H = ad.hessian(ad.linalg.det)(M)
    np.testing.assert_allclose(H, central_jacobian(cofactors, M), rtol=1e-6, atol=1e-7)


def test_third_derivatives_of_det_are_finite_at_a_singular_matrix():
    # d^3 det / dA^3 along E, E, E is 6 det(E) for a 3 x 3 matrix (det is a cubic)
    M, E = of_rank(3, 1, 7), RNG.standard_normal((3, 3))
    second = lambda t: ad.jvp(lambda s: ad.jvp(ad.linalg.det, (M + s * E,), (E,))[1],  # noqa
                              (t,), (1.0,))[1]
    _, third = ad.jvp(second, (0.0,), (1.0,))
    assert third == pytest.approx(6 * np.linalg.det(E), rel=1e-9)


# ---- inv and solve of singular matrices: a clear error ----

@pytest.mark.parametrize("call", [
    lambda M: ad.linalg.inv(M),
    lambda M: ad.linalg.inv(ad.Var(M)),
    lambda M: np.linalg.inv(ad.Var(M)),
    lambda M: np.linalg.inv(ad.Dual(M, np.ones_like(M))),
    lambda M: ad.grad(lambda A: ad.sum(ad.linalg.inv(A)))(M),
    lambda M: ad.compile(lambda A: ad.sum(ad.linalg.inv(A)), np.eye(2)).value_and_grad(M),
], ids=["array", "Var", "np on a Var", "np on a Dual", "grad", "compiled"])
def test_inv_of_a_singular_matrix_is_a_clear_error(call):
    with pytest.raises(ad.SingularMatrixError,
                       match=r"^inv: the matrix of shape \(2, 2\) is singular: it has no inverse"):
        call(np.array([[1.0, 2.0], [2.0, 4.0]]))


def test_solve_of_a_singular_matrix_is_a_clear_error():
    with pytest.raises(ad.SingularMatrixError, match=r"^solve: the matrix of shape \(2, 2\) is "
                       "singular: a x = b"):
        np.linalg.solve(np.array([[1.0, 2.0], [2.0, 4.0]]), ad.Var(np.ones(2)))
    # rank 2 in floating point: LU's last pivot is round-off, not 0
    with pytest.raises(ad.SingularMatrixError, match=r"^solve: the matrix of shape \(3, 3\) is "
                       r"singular to working precision \(condition number .*\): a x = b has "
                       "no unique solution"):
        ad.linalg.solve(ad.Var(of_rank(3, 2, 1)), b)


def test_singular_to_working_precision_is_refused_and_names_the_matrix_of_a_stack():
    # numpy returns numbers near 1e16 for this one, without a word
    M = np.array([[1.0, 1.0], [1.0, 1.0 + 2 * np.finfo(float).eps]])
    with pytest.raises(ad.SingularMatrixError, match="singular to working precision "
                       r"\(condition number \d\.\de\+1[56]\)"):
        ad.linalg.inv(M)
    stack = np.stack([np.eye(2), M])
    with pytest.raises(ad.SingularMatrixError, match=r"the matrix at \[1\] of the stack of "
                       r"shape \(2, 2, 2\)"):
        ad.linalg.solve(stack, np.ones(2))


def test_singular_matrix_error_is_numpys_error_and_a_value_error():
    assert issubclass(ad.SingularMatrixError, ad.DualadError)
    assert issubclass(ad.SingularMatrixError, np.linalg.LinAlgError)
    assert issubclass(ad.SingularMatrixError, ValueError)


def test_nan_entries_give_nan_as_in_numpy_not_a_singular_error():
    M = np.array([[np.nan, 1.0], [1.0, 2.0]])
    np.testing.assert_array_equal(ad.linalg.inv(M), np.linalg.inv(M))


# ---- norm at 0, and its arguments ----

@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_norm_gradient_at_zero_is_zero(mode):
    # no derivative at 0: dualad gives the subgradient 0 (as abs gives sign(0) = 0), not nan
    assert ad.grad(ad.linalg.norm, mode=mode)(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    rows = np.array([[0.0, 0.0], [3.0, 4.0]])
    jacobian = ad.jacobian(lambda x: ad.linalg.norm(x, axis=1), mode=mode)(rows)
    np.testing.assert_allclose(jacobian, [[[0, 0], [0, 0]], [[0, 0], [0.6, 0.8]]])


@pytest.mark.parametrize("call,message", [
    (lambda: ad.linalg.norm(b, 1), r"norm: ord=1 is not supported for a vector norm"),
    (lambda: ad.linalg.norm(B, 2), r"norm: ord=2 is not supported for a matrix norm"),
    (lambda: ad.linalg.norm(b, "fro"), r"norm: ord='fro' is not supported for a vector"),
    (lambda: ad.linalg.norm(X, "fro"), r"ord='fro' is not supported for a flattened norm"),
    (lambda: ad.linalg.norm(X, axis=(0, 1, 2)), r"norm: axis must be None, an int or a pair"),
    (lambda: ad.linalg.norm(X, axis=(1, -2)), r"norm: axis \(1, -2\) names an axis twice"),
    (lambda: ad.linalg.norm(X, axis=3), r"norm: axis 3 is out of bounds"),
])
def test_norm_refuses_what_it_does_not_support(call, message):
    with pytest.raises(ad.DualadError, match=message):
        call()


@pytest.mark.parametrize("call,message", [
    (lambda: ad.linalg.det(np.ones((2, 3))), r"det: the argument must be a square matrix or a "
     r"stack of them \(shape \(\.\.\., n, n\)\), got shape \(2, 3\)"),
    (lambda: ad.linalg.inv(np.ones(3)), r"inv: the argument must be a square matrix"),
    (lambda: np.linalg.det(ad.Var(np.ones((2, 3)))), r"det: the argument must be"),
    (lambda: ad.linalg.solve(A, np.ones(2)), r"solve: a of shape \(3, 3\) and b of shape "
     r"\(2,\) do not fit: b must be a vector of length 3 or have 3 rows"),
    (lambda: ad.linalg.solve(STACK, np.ones((4, 3, 1))), r"solve: the stacks of a"),
    (lambda: ad.linalg.det(np.zeros((0, 0))), r"det: the argument is an empty matrix"),
])
def test_shapes_that_do_not_fit_are_shape_errors(call, message):
    with pytest.raises(ad.ShapeMismatchError, match=message):
        call()


# ---- the other views: sympy, verify, traces, parse, compare ----

def test_to_sympy_of_det_is_sympys_determinant():
    expression = ad.to_sympy(ad.trace(lambda A: ad.linalg.det(A), np.eye(3)))
    symbols = {str(s): s for s in expression.free_symbols}
    matrix = sp.Matrix(3, 3, lambda i, j: symbols[f"A[{i}, {j}]"])
    assert sp.expand(expression - matrix.det()) == 0


def test_verify_proves_the_log_det_and_least_squares_gradients():
    report = ad.verify(lambda A: ad.log(ad.linalg.det(A)), np.array([[2.0, 1.0], [1.0, 3.0]]),
                       time_limit=30)
    assert report.ok and report.proved
    X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    y = np.array([1.0, 2.0, 2.0])
    report = ad.verify(lambda y: ad.linalg.solve(X.T @ X, X.T @ y)[1], y, time_limit=30)
    assert report.ok


def test_the_registry_proves_every_linalg_rule():
    proof = ad.prove_registry()
    for name in ("det", "adjugate", "inv", "solve", "norm"):
        rows = [r for r in proof.rules if r.op == name]
        assert rows and all(r.verdict == "proved" for r in rows), name
        assert {r.rule.split(" for ")[0] for r in rows} == {"jvp", "vjp"}
    assert any("solve" == r.op and "for b" in r.rule for r in proof.rules)


def test_trace_table_shows_det_and_its_adjoint():
    table = str(ad.trace_table(lambda A: ad.log(ad.linalg.det(A)), np.eye(2) * 2))
    assert "det(" in table and "ln(" in table           # the survey writes log as ln


def test_parse_does_not_take_matrix_functions():
    with pytest.raises(ad.ExpressionError, match="unknown function 'det'"):
        ad.parse("det(x)")


def test_compare_on_det():
    report = ad.compare(ad.linalg.det, A)
    np.testing.assert_allclose(report.reverse.jacobian.ravel(), cofactors(A).ravel())


def test_prices_are_the_textbook_counts_of_gaussian_elimination():
    # 2 x 2: one division, one multiply and one subtraction; det multiplies the diagonal
    assert ad.REGISTRY["det"].cost([(2, 2)], ()) == 3 + 1
    # solve with one right-hand side: elimination, then 2n^2 - n for the substitutions
    assert ad.REGISTRY["solve"].cost([(2, 2), (2,)], (2,)) == 3 + 6
    assert ad.REGISTRY["inv"].cost([(5, 2, 2)], (5, 2, 2)) == 5 * (3 + 2 * 6)
    assert ad.REGISTRY["norm"].cost([(4, 3)], (4,), axis=(1,), keepdims=False) == 24


def test_the_command_line_reports_a_singular_matrix_in_one_line(monkeypatch, capsys):
    # formulas on the command line are scalar, so no command reaches inv today; a command that
    # did would print numpy's failure as one line of the op's own error, not a traceback
    from dualad import cli
    monkeypatch.setitem(cli.COMMANDS, "trace",
                        lambda args: ad.linalg.inv(np.array([[1.0, 2.0], [2.0, 4.0]])))
    assert cli.main(["trace", "x", "--at", "x=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("dualad trace: error: inv: the matrix of shape (2, 2) is singular")
