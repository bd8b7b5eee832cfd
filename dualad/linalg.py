"""Linear algebra: ``ad.linalg.det``, ``inv``, ``solve`` and ``norm``, as in ``numpy.linalg``.

This module owns the registry blocks of the linear-algebra primitives and their ``jvp``/``vjp``
rules, and it is the namespace ``ad.linalg``. The ops are declared with ``namespace="linalg"``,
so they are ``ad.linalg.<name>`` (not ``ad.<name>``), and numpy's own ``np.linalg.det(v)``,
``np.linalg.inv(v)``, ... reach them on Vars and Duals. As in :mod:`dualad.structural`, the rules
use only registry primitives (through ``m`` or :func:`~dualad.structural.apply_op`), so they run
on arrays, on Vars (nested derivatives), on Duals (Hessians) and on sympy arrays; the registry
proof checks each against ``sympy.diff`` of sympy's own ``Matrix.det()``, ``Matrix.inv()`` and
``Matrix.LUsolve()`` on small matrices of symbols.

``det``, ``inv`` and ``solve`` take a matrix or a stack of matrices (shape ``(..., n, n)``);
``solve``'s ``b`` is a vector (shape ``(n,)``) or a matrix or stack (``(..., n, k)``), as in
numpy 2. ``norm`` is the vector 2-norm and the Frobenius norm, with ``axis`` and ``keepdims``.

Where the textbook formula breaks down
--------------------------------------
- ``det``: its gradient is the adjugate transposed, adj(A)^T, which is det(A) A^-T where A is
  invertible and finite where it is not. dualad computes adj(A) from the singular value
  decomposition (never as det(A) inv(A)) and differentiates it through the minors of A, so
  gradients and Hessians of ``det`` are right at singular matrices too
  (tests/test_linalg.py::test_det_gradient_at_singular_matrices_is_the_adjugate).
- ``inv`` and ``solve`` refuse a singular matrix, or one singular to working precision
  (condition number beyond 1/eps), with :class:`~dualad.errors.SingularMatrixError`.
- ``norm`` has no derivative at 0; dualad gives 0 there, a subgradient, as for ``abs``
  (tests/test_linalg.py::test_norm_gradient_at_zero_is_zero).

Examples
--------
>>> import numpy as np, dualad as ad
>>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
>>> ad.grad(lambda A: ad.linalg.det(A))(A).tolist()          # det(A) A^-T
[[3.0, -1.0], [-1.0, 2.0]]
>>> np.linalg.det(ad.Var(A)).op.name
'det'
"""

import numbers

import numpy as np
import sympy as sp

from .errors import DualadError, ShapeMismatchError, SingularMatrixError
from .primitives import NONZERO, REGISTRY, Primitive, register
from .shapes import shape_of, size, unbroadcast
from .structural import (_gather, _in_range, _lift, _object_array, _scatter, _swap_last,
                         _symbolic_result, apply_op)
from .values import NO_PARAMS

__all__ = ["det", "inv", "solve", "norm", "SingularMatrixError"]

#: Beyond this condition number a matrix is singular to working precision: no digit of its
#: inverse can be trusted (numpy would return numbers of about 1e16 without a word).
CONDITION_LIMIT = 1 / np.finfo(float).eps

# ---- shapes and arguments ----

def _square(name, shape, what="the argument"):
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeMismatchError(f"{name}: {what} must be a square matrix or a stack of them "
                                 f"(shape (..., n, n)), got shape {shape}")
    if shape[-1] == 0:
        raise ShapeMismatchError(f"{name}: {what} is an empty matrix (shape {shape})")


def _bind_square(name):
    def bind(a):
        _square(name, np.shape(a))
        return (a,), NO_PARAMS
    return bind


def _bind_solve(a, b):
    a_shape, b_shape = np.shape(a), np.shape(b)
    _square("solve", a_shape, "a")
    n = a_shape[-1]
    rows = b_shape[0] if len(b_shape) == 1 else b_shape[-2] if len(b_shape) >= 2 else None
    if rows != n:
        raise ShapeMismatchError(f"solve: a of shape {a_shape} and b of shape {b_shape} do not "
                                 f"fit: b must be a vector of length {n} or have {n} rows "
                                 f"(shape ({n},) or (..., {n}, k))")
    if len(b_shape) >= 2:
        try:
            np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
        except ValueError:
            raise ShapeMismatchError(f"solve: the stacks of a {a_shape} and b {b_shape} do not "
                                     "broadcast") from None
    return (a, b), NO_PARAMS


def _bind_norm(x, ord=None, axis=None, keepdims=False):   # noqa: A002 (numpy's name)
    shape = np.shape(x)
    if axis is None:
        axes = tuple(range(len(shape)))
        kind = {1: "vector", 2: "matrix"}.get(len(shape), "flattened")
    else:
        listed = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
        if len(listed) not in (1, 2) or not all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in listed):
            raise DualadError(f"norm: axis must be None, an int or a pair of ints, got {axis!r}")
        axes = tuple(_in_range("norm", int(a), len(shape), shape) for a in listed)
        if len(set(axes)) != len(axes):
            raise DualadError(f"norm: axis {axis!r} names an axis twice")
        kind = "vector" if len(axes) == 1 else "matrix"
    supported = ord is None or (
        kind == "vector" and isinstance(ord, numbers.Real) and not isinstance(ord, bool)
        and ord == 2) or (kind == "matrix" and isinstance(ord, str) and ord == "fro")
    if not supported:
        raise DualadError(f"norm: ord={ord!r} is not supported for a {kind} norm (shape "
                          f"{shape}, axis={axis!r}); dualad has the vector 2-norm (ord=None or "
                          "2) and the Frobenius norm of a matrix (ord=None or 'fro')")
    return (x,), {"axis": tuple(sorted(axes)), "keepdims": bool(keepdims)}


def _per_matrix(a, function, shape=None):
    """``function(sympy.Matrix)`` for each matrix of the stack ``a`` (object arrays)."""
    a = _object_array(a)
    stack = a.shape[:-2]
    out = np.empty(stack + (() if shape is None else shape), dtype=object)
    for index in np.ndindex(stack):
        value = function(sp.Matrix(a[index]))
        out[index] = value if shape is None else np.array(value.tolist(), dtype=object)
    return _symbolic_result(out)


# ---- numeric forms ----

def _condition(a, inverse=None):
    """The 1-norm condition number of each matrix of ``a`` (inf where it is singular)."""
    with np.errstate(all="ignore"):
        if inverse is None:
            return np.linalg.cond(a, 1)
        def norm(x):
            return np.max(np.sum(np.abs(x), axis=-2), axis=-1)
        return norm(a) * norm(inverse)


def _refuse_singular(name, a, condition, consequence):
    """Raise :class:`SingularMatrixError` naming the first matrix of ``a`` that is singular or
    singular to working precision; matrices with nan or inf entries give nan, as in numpy."""
    condition = np.asarray(condition)
    finite = np.isfinite(np.sum(np.abs(a), axis=(-2, -1)))
    bad = finite & ~(condition < CONDITION_LIMIT)
    if not np.any(bad):
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    which = (f"the matrix at {list(index)} of the stack of shape {a.shape}" if index else
             f"the matrix of shape {a.shape}")
    how = ("is singular" if not np.isfinite(condition[index]) else
           f"is singular to working precision (condition number {condition[index]:.1e})")
    raise SingularMatrixError(f"{name}: {which} {how}: {consequence}")


def _inv(a):
    a = np.asarray(a)
    try:
        inverse = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        inverse = None
    _refuse_singular("inv", a, _condition(a, inverse),
                     "it has no inverse (its determinant is 0; ad.linalg.det and its gradient "
                     "are defined for every matrix)")
    return inverse


def _solve(a, b):
    a, b = np.asarray(a), np.asarray(b)
    vector = b.ndim == 1
    columns = b[:, None] if vector else b
    # both stacks spelled out, so numpy 1 and 2 read b the same way
    stack = np.broadcast_shapes(a.shape[:-2], columns.shape[:-2])
    try:
        x = np.linalg.solve(np.broadcast_to(a, stack + a.shape[-2:]),
                            np.broadcast_to(columns, stack + columns.shape[-2:]))
    except np.linalg.LinAlgError:
        x = None
    _refuse_singular("solve", a, _condition(a),
                     "a x = b has no unique solution (least squares: solve the normal "
                     "equations a^T a x = a^T b where a has full column rank)")
    return x[..., 0] if vector else x


def _adjugate(a):
    """adj(A), the transposed cofactor matrix, from A = U S V^H: adj(A) = adj(V^H) adj(S)
    adj(U) = det(V^H) det(U) V diag(prod_{j != i} s_j) U^H, finite and exact at every rank."""
    a = np.asarray(a)
    u, s, vh = np.linalg.svd(a)
    ones = np.ones(s.shape[:-1] + (1,))
    # prod_{j != i} s_j as (product before i) * (product after i): no division by s_i = 0
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(s, -1)[..., :-1]], axis=-1),
                               axis=-1), -1)
    phase = np.linalg.det(u) * np.linalg.det(vh)         # +-1 for real matrices
    v = np.conj(np.swapaxes(vh, -1, -2))
    u_h = np.conj(np.swapaxes(u, -1, -2))
    return phase[..., None, None] * np.matmul(v * (before * after)[..., None, :], u_h)


# ---- prices: the textbook count of Gaussian elimination ----

def _elimination(n):
    # at the step with k rows below the pivot: k divisions, k*k multiplies, k*k subtractions
    return sum(k * (2 * k + 1) for k in range(1, n))


def _substitution(n):
    # one right-hand side through L (unit diagonal) and U: n(n - 1) multiply-adds each way,
    # and n divisions
    return 2 * n * (n - 1) + n


def _det_cost(in_shapes, out_shape, **params):
    n = in_shapes[0][-1]
    return size(in_shapes[0][:-2]) * (_elimination(n) + n - 1)    # and the diagonal's product


def _inv_cost(in_shapes, out_shape, **params):
    n = in_shapes[0][-1]
    return size(in_shapes[0][:-2]) * (_elimination(n) + n * _substitution(n))


def _adjugate_cost(in_shapes, out_shape, **params):
    # priced as det(A) inv(A): both, and a product per element
    return _inv_cost(in_shapes, out_shape) + _det_cost(in_shapes, out_shape) + size(out_shape)


def _solve_cost(in_shapes, out_shape, **params):
    n = in_shapes[0][-1]
    columns = 1 if len(in_shapes[1]) == 1 else in_shapes[1][-1]
    stack = out_shape[:-1] if len(in_shapes[1]) == 1 else out_shape[:-2]
    return size(stack) * (_elimination(n) + columns * _substitution(n))


def _norm_cost(in_shapes, out_shape, **params):
    # N squares, N - M adds, M square roots
    return 2 * size(in_shapes[0])


# ---- det and the adjugate ----

def _adj(a):
    """adj(A) (the ``adjugate`` primitive) on any kind of value: how the rules use it."""
    return apply_op("adjugate", a)


def _det_jvp(m, tangents, inputs, out, batch):
    # Jacobi's formula: d det(A) = tr(adj(A) dA) = sum_ij adj(A)^T_ij dA_ij
    (a,), (a_dot,) = inputs, tangents
    return m.sum(_swap_last(m, _adj(a)) * a_dot, axis=(-2, -1))


def _det_vjp(m, g, inputs, out, batch, needs=None):
    # A_bar = g adj(A)^T, which is g det(A) A^-T where A is invertible and finite where not
    (a,) = inputs
    g = m.reshape(g, shape_of(g) + (1, 1))
    return (g * _swap_last(m, _adj(a)),)


def _minors(n, stack):
    """The index taking every (n-1) x (n-1) minor of a stack of n x n matrices at once:
    ``A[index][..., i, j, :, :]`` is A without row i and column j."""
    keep = np.arange(n - 1)[None, :] + (np.arange(n - 1)[None, :] >= np.arange(n)[:, None])
    return (slice(None),) * stack + (keep[:, None, :, None], keep[None, :, None, :])


def _checkerboard(n):
    return (-1.0) ** np.add.outer(np.arange(n), np.arange(n))


def _adjugate_jvp(m, tangents, inputs, out, batch):
    # adj(A)_ji = (-1)^(i+j) det(M_ij), M_ij the minor without row i and column j, so
    # d adj(A)_ji = (-1)^(i+j) d det(M_ij): Jacobi's formula on every minor at once. The
    # adjugates this needs are of the smaller minors, so nested derivatives end at 1 x 1,
    # whose adjugate [[1]] is constant.
    (a,), (a_dot,) = inputs, tangents
    shape = shape_of(a)
    n = shape[-1]
    if n == 1:
        return np.zeros(shape_of(a_dot))
    index = _minors(n, len(shape) - 2)
    minors = apply_op("getitem", a, index=index)
    minors_dot = _gather(m, a_dot, index, len(shape), batch)
    return _swap_last(m, _checkerboard(n) * _det_jvp(m, (minors_dot,), (minors,), None, batch))


def _adjugate_vjp(m, g, inputs, out, batch, needs=None):
    # the same chain backwards: the minors' dets get (-1)^(i+j) g_ji, each minor
    # det(M) adj(M)^T of that, and every entry of A the sum over the minors it is in
    (a,) = inputs
    shape = shape_of(a)
    n = shape[-1]
    if n == 1:
        return (np.zeros(shape_of(g)),)
    index = _minors(n, len(shape) - 2)
    minors = apply_op("getitem", a, index=index)
    (minors_bar,) = _det_vjp(m, _checkerboard(n) * _swap_last(m, g), (minors,), None, batch)
    return (_scatter(m, minors_bar, shape, index, batch),)


det = register(Primitive(
    name="det", namespace="linalg", numpy=np.linalg.det, nin=1, jvp=_det_jvp, vjp=_det_vjp,
    bind=_bind_square("det"), cost=_det_cost,
    doc="The determinant of a matrix (or of each matrix of a stack); its gradient "
        "adj(A)^T is finite at singular matrices too.",
    example=("linalg.det(np.array([[2.0, 1.0], [1.0, 3.0]]))", "5.0..."),
    examples=(([(2, 2)], {}), ([(3, 3)], {}), ([(2, 2, 2)], {})),
    sympy=lambda a: _per_matrix(a, lambda matrix: matrix.det()),
))
register(Primitive(
    # det's derivative. Not ad.linalg's (numpy has no adjugate): rules reach it by apply_op.
    name="adjugate", namespace="linalg", numpy=_adjugate, nin=1, jvp=_adjugate_jvp,
    vjp=_adjugate_vjp, public=False, cost=_adjugate_cost,
    examples=(([(2, 2)], {}), ([(3, 3)], {})),
    sympy=lambda a: _per_matrix(a, lambda matrix: matrix.adjugate(), shape_of(a)[-2:]),
))


# ---- inv and solve ----

def _inv_jvp(m, tangents, inputs, out, batch):
    # d(A^-1) = -A^-1 dA A^-1
    (a_dot,) = tangents
    return -m.matmul(m.matmul(out, a_dot), out)


def _inv_vjp(m, g, inputs, out, batch, needs=None):
    # A_bar = -A^-T g A^-T
    out_t = _swap_last(m, out)
    return (-m.matmul(m.matmul(out_t, g), out_t),)


inv = register(Primitive(
    name="inv", namespace="linalg", numpy=_inv, numpy_api=np.linalg.inv, nin=1,
    jvp=_inv_jvp, vjp=_inv_vjp, bind=_bind_square("inv"), cost=_inv_cost,
    doc="The inverse of a matrix (or of each matrix of a stack); a singular matrix raises "
        "SingularMatrixError.",
    example=("linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))",
             "array([[0.5 , 0.  ],\n       [0.  , 0.25]])"),
    # 2 x 2 only: sympy takes seconds to cancel the rational functions of a 3 x 3 inverse
    examples=(([(2, 2)], {}),),
    sympy=lambda a: _per_matrix(a, lambda matrix: matrix.inv(method="ADJ"), shape_of(a)[-2:]),
))


def _as_columns(m, x, vector):
    """A solution or right-hand side as a matrix: a vector (n,) becomes a column (n, 1)."""
    return m.reshape(x, shape_of(x) + (1,)) if vector else x


def _solve_jvp(m, tangents, inputs, out, batch):
    # x = A^-1 b, so A dx = db - dA x: dx = A^-1 (db - dA x), one more solve with A
    (a, b), (a_dot, b_dot) = inputs, tangents
    vector = len(shape_of(b)) == 1
    x = _as_columns(m, out, vector)
    core = len(shape_of(x))                   # every term lifted to x's stack (and the batch)
    rhs = None
    if b_dot is not None:
        rhs = _lift(m, _as_columns(m, b_dot, vector), core, batch, batch)
    if a_dot is not None:
        term = -m.matmul(_lift(m, a_dot, core, batch, batch), x)
        rhs = term if rhs is None else rhs + term
    x_dot = apply_op("solve", a, rhs)
    return m.reshape(x_dot, shape_of(x_dot)[:-1]) if vector else x_dot


def _solve_vjp(m, g, inputs, out, batch, needs=None):
    # b_bar = A^-T x_bar (a solve with A^T), A_bar = -b_bar x^T
    a, b = inputs
    vector = len(shape_of(b)) == 1
    x = _as_columns(m, out, vector)
    b_bar = apply_op("solve", _swap_last(m, a), _as_columns(m, g, vector))
    a_bar = None
    if needs is None or needs[0]:
        a_bar = unbroadcast(-m.matmul(b_bar, _swap_last(m, x)), shape_of(a), batch)
    if vector:
        b_bar = m.reshape(b_bar, shape_of(b_bar)[:-1])
    return a_bar, unbroadcast(b_bar, shape_of(b), batch)


def _sympy_solve(a, b):
    a, b = _object_array(a), _object_array(b)
    vector = b.ndim == 1
    columns = b[:, None] if vector else b
    stack = np.broadcast_shapes(a.shape[:-2], columns.shape[:-2])
    a = np.broadcast_to(a, stack + a.shape[-2:])
    columns = np.broadcast_to(columns, stack + columns.shape[-2:])
    out = np.empty(stack + columns.shape[-2:], dtype=object)
    for index in np.ndindex(stack):
        solution = sp.Matrix(a[index]).LUsolve(sp.Matrix(columns[index]))
        out[index] = np.array(solution.tolist(), dtype=object)
    return out[..., 0] if vector else out


solve = register(Primitive(
    name="solve", namespace="linalg", numpy=_solve, numpy_api=np.linalg.solve, nin=2,
    jvp=_solve_jvp, vjp=_solve_vjp, bind=_bind_solve, cost=_solve_cost,
    doc="x with a @ x = b, for b a vector or a matrix (numpy 2's rule: b is a vector when it "
        "has one axis); differentiable in a and b. A singular a raises SingularMatrixError.",
    example=("linalg.solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, 1.0]))",
             "array([0.5 , 0.25])"),
    examples=(([(2, 2), (2,)], {}), ([(2, 2), (2, 3)], {})),     # 2 x 2: as inv
    sympy=_sympy_solve,
))


# ---- norm ----

def _norm(x, axis=(), keepdims=False):
    return np.sqrt(np.sum(np.real(x * np.conj(x)), axis=axis, keepdims=keepdims))


def _nonzero(m, out):
    # ||x|| where it is not 0; 1 where it is, where x = 0 too, so x / 1 = 0: the subgradient
    # 0 of a norm at 0, where it has no derivative (as abs has sign(0) = 0)
    return m.where(m.equal(out, 0), 1, out)


def _norm_jvp(m, tangents, inputs, out, batch, axis=(), keepdims=False):
    # d||x|| = <x, dx> / ||x||
    (x,), (x_dot,) = inputs, tangents
    shifted = tuple(a + batch for a in axis)
    return m.sum(x * x_dot, axis=shifted, keepdims=keepdims) / _nonzero(m, out)


def _norm_vjp(m, g, inputs, out, batch, axis=(), keepdims=False, needs=None):
    # x_bar = out_bar x / ||x||, out_bar spread back over the reduced axes
    (x,) = inputs
    kept = tuple(1 if i in axis else n for i, n in enumerate(shape_of(x)))
    g = m.reshape(g, shape_of(g)[:batch] + kept)
    return (g * x / _nonzero(m, m.reshape(out, kept)),)


norm = register(Primitive(
    name="norm", namespace="linalg", numpy=_norm, numpy_api=np.linalg.norm, nin=1,
    jvp=_norm_jvp, vjp=_norm_vjp, bind=_bind_norm, cost=_norm_cost, analytic=False,
    domain=(NONZERO,),    # smooth entry by entry where no entry is 0 (proved on nonzero reals)
    doc="The vector 2-norm (ord=None or 2) or the Frobenius norm of a matrix (ord=None or "
        "'fro'), over axis (all axes by default); its gradient at 0 is 0.",
    example=("linalg.norm(np.array([3.0, 4.0]))", "5.0"),
    examples=(([(3,)], {"axis": (0,)}), ([(2, 2)], {"axis": (0, 1)}),
              ([(2, 3)], {"axis": (1,), "keepdims": True})),
    sympy=lambda x, axis=(), keepdims=False: _symbolic_result(np.vectorize(
        sp.sqrt, otypes=[object])(np.sum(_object_array(x) ** 2, axis=axis,
                                         keepdims=keepdims))),
))


def __getattr__(name):
    # an op registered with namespace="linalg" while the program runs is ad.linalg.<name> too
    prim = REGISTRY.get(name)
    if prim is not None and prim.public and prim.namespace == "linalg":
        return prim.function
    raise AttributeError(f"module 'dualad.linalg' has no attribute {name!r}")
