"""Indexing in every mode, batched or not, against numpy itself and central differences.

numpy puts the axes of separated advanced indices (``x[0, :, [0, 1]]``) first; with a batch
axis of tangents or adjoints in front that rule would transpose the result. The helpers in
:mod:`dualad.shapes` that say where the axes go are checked against numpy's own indexing, and
every transform is checked against central differences of the same indexing done by numpy.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualad as ad
from dualad.graph import apply_primitive
from dualad.primitives import REGISTRY
from dualad.shapes import advanced_axes, batch_position, batched_index

from strategies import (central_hessian, central_jacobian, index_keys, indexed_values,
                        value_shapes)


# ---- references: numpy's indexing, and central differences of numpy code ----

def as_key(key):
    """The index as a tuple, lists as arrays (numpy's reading, without dualad's as_index)."""
    key = key if isinstance(key, tuple) else (key,)
    return tuple(np.asarray(part) if isinstance(part, list) else part for part in key)


def scalar_keys(key):
    """(position in the advanced block, a basic key picking that position) for each position.

    Advanced indexing is defined elementwise: at each position of the broadcast arrays, take
    the element each array holds there (a boolean array: the coordinates of its true entries)
    and index basically with those integers.
    """
    parts = []
    for part in as_key(key):
        if isinstance(part, np.ndarray) and part.dtype == bool:
            parts.append(("arrays", part.nonzero()))
        elif isinstance(part, (int, np.integer, np.ndarray)):
            parts.append(("arrays", (np.asarray(part),)))
        else:
            parts.append(("basic", part))
    arrays = [a for kind, group in parts if kind == "arrays" for a in group]
    block = np.broadcast_shapes(*(a.shape for a in arrays))
    for position in np.ndindex(block):
        basic = []
        for kind, group in parts:
            if kind == "basic":
                basic.append(group)
            else:
                basic.extend(int(np.broadcast_to(a, block)[position]) for a in group)
        yield position, tuple(basic)


def has_array(key):
    return any(isinstance(part, (list, np.ndarray)) for part in as_key(key))


def point(shape, seed):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape)


# ---- where numpy puts the advanced axes ----

@given(indexed_values())
def test_advanced_axes_match_numpy(shape_and_key):
    shape, key = shape_and_key
    x = np.arange(int(np.prod(shape)), dtype=float).reshape(shape)
    out = x[key]
    axes = advanced_axes(key, len(shape))
    if not has_array(key):
        assert axes == range(0)
        return
    # numpy's result, advanced block moved to the front, holds at each block position the
    # basic indexing with the scalars at that position
    front = np.moveaxis(out, list(axes), list(range(len(axes))))
    for position, basic in scalar_keys(key):
        np.testing.assert_array_equal(front[position], x[basic])


@given(indexed_values())
def test_batch_position_matches_numpy(shape_and_key):
    shape, key = shape_and_key
    t = np.arange(2 * int(np.prod(shape)), dtype=float).reshape((2,) + shape)  # 2 directions
    key_tuple = key if isinstance(key, tuple) else (key,)
    batched = t[batched_index(key_tuple, 1)]
    moved = np.moveaxis(batched, batch_position(key_tuple, len(shape), 1), 0)
    np.testing.assert_array_equal(moved, np.stack([t[0][key], t[1][key]]))
    assert batch_position(key_tuple, len(shape), 0) == 0


@pytest.mark.parametrize("shape, key, expected", [
    ((3, 4, 5), (0, slice(None), [0, 1]), range(0, 1)),             # int + array, separated
    ((3, 4, 5), ([0, 1], slice(None), [0, 0]), range(0, 1)),        # the case
    ((3, 4, 5), (slice(None), [0, 1], [1, 1]), range(1, 2)),        # adjacent after a slice
    ((3, 4, 5), ([0, 1], Ellipsis, [0, 1]), range(0, 1)),           # ... between them
    ((3, 4), ([0, 1], Ellipsis, [0, 1]), range(0, 1)),              # ... of no axes separates
    ((3, 4, 5), (None, [[0], [1]], [0, 2]), range(1, 3)),           # 2-d block after None
    ((3, 4, 5), (slice(None), True, [1, 2]), range(1, 2)),          # boolean scalar: advanced
    ((3, 4, 5), (Ellipsis, np.ones((4, 5), bool)), range(1, 2)),    # 2-d mask: one axis
    ((3, 4, 5), (0, slice(None)), range(0, 0)),                     # no array: basic indexing
])
def test_advanced_axes_on_hand_picked_keys(shape, key, expected):
    assert advanced_axes(key, len(shape)) == expected
    out = np.zeros(shape)[key]
    assert out.ndim >= len(expected)


# ---- every mode against central differences ----

def gathered(lib, key):
    """x -> sin(x)[key] * x[key]: indexing twice, with repeats adding up, not linear."""
    return lambda x: lib.sin(x)[key] * x[key]


@given(indexed_values(), st.integers(0, 2**32 - 1))
def test_jacobian_of_indexing_agrees_in_every_mode(shape_and_key, seed):
    shape, key = shape_and_key
    x = point(shape, seed)
    f, reference = gathered(ad, key), gathered(np, key)
    expected = central_jacobian(reference, x)
    out_shape = reference(x).shape
    forward = ad.jacobian(f, mode="forward")(x)        # every direction in one batched sweep
    reverse = ad.jacobian(f, mode="reverse")(x)        # every cotangent in one batched sweep
    assert np.shape(forward) == np.shape(reverse) == out_shape + shape
    np.testing.assert_allclose(forward, expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(reverse, expected, rtol=1e-6, atol=1e-8)
    # one direction, one cotangent at a time (unbatched rules), and Duals with all directions
    for i in np.ndindex(shape):
        direction = np.zeros(shape)
        direction[i] = 1.0
        value, tangent = ad.jvp(f, (x,), (direction,))
        np.testing.assert_allclose(value, reference(x), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(tangent, expected[(Ellipsis,) + i], rtol=1e-6, atol=1e-8)
    _, vjp_fn = ad.vjp(f, x)
    for o in np.ndindex(out_shape):
        cotangent = np.zeros(out_shape)
        cotangent[o] = 1.0
        (row,) = vjp_fn(cotangent)
        np.testing.assert_allclose(row, expected[o], rtol=1e-6, atol=1e-8)
    # the numpy code itself run on Duals carrying every direction at once
    dual = reference(ad.Dual(x, np.eye(x.size).reshape((x.size,) + shape)))
    np.testing.assert_allclose(np.moveaxis(dual.tangent, 0, -1),
                               expected.reshape(out_shape + (x.size,)), rtol=1e-6, atol=1e-8)


def weighted(lib, key, weights):
    """x -> sum(weights * x[key]^2 * cos(x)[key]): a scalar with an indexing inside."""
    return lambda x: lib.sum(weights * x[key] ** 2 * lib.cos(x)[key])


@st.composite
def small_indexed_values(draw):
    shape = draw(value_shapes(1, 3, 3))
    return shape, draw(index_keys(shape))


@settings(max_examples=60)
@given(small_indexed_values(), st.integers(0, 2**32 - 1))
def test_grad_hessian_nested_and_compile_of_indexing_match_central_differences(shape_and_key, seed):
    shape, key = shape_and_key
    x = point(shape, seed)
    weights = point(np.shape(np.zeros(shape)[key]), seed + 1)
    f, reference = weighted(ad, key, weights), weighted(np, key, weights)
    expected = central_jacobian(reference, x)
    for mode in ("reverse", "forward"):
        np.testing.assert_allclose(ad.grad(f, mode=mode)(x), expected, rtol=1e-6, atol=1e-8)
    compiled = ad.compile(f, x)
    value, gradient = compiled.value_and_grad(x)
    assert value == pytest.approx(reference(x), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6, atol=1e-8)
    direction = point(shape, seed + 2)
    _, tangent = compiled.jvp((x,), (direction,))
    assert tangent == pytest.approx(float(np.sum(expected * direction)), rel=1e-6, abs=1e-8)
    if x.size <= 12:
        hess = central_hessian(reference, x)
        np.testing.assert_allclose(ad.hessian(f)(x), hess, rtol=1e-4, atol=1e-5)
        # reverse over reverse (the rules run on Vars), and forward over reverse: H @ direction
        along = lambda x: ad.sum(ad.grad(f)(x) * direction)       # noqa: E731
        expected = np.tensordot(hess, direction, direction.ndim)
        for mode in ("reverse", "forward"):
            np.testing.assert_allclose(ad.grad(along, mode=mode)(x), expected,
                                       rtol=1e-4, atol=1e-5)


@settings(max_examples=60)
@given(indexed_values(), st.integers(0, 2**32 - 1))
def test_scatter_add_agrees_in_every_mode(shape_and_key, seed):
    # the adjoint of indexing is itself differentiated in nested modes (Hessians); here it is
    # checked directly: g -> sin(scatter_add(g)), whose numpy reference is np.add.at
    shape, key = shape_and_key
    index = as_key(key)
    g = point(np.zeros(shape)[key].shape, seed)
    scatter = REGISTRY["scatter_add"]

    def f(g):
        return ad.sin(apply_primitive(scatter, g, shape=shape, index=ad.shapes.as_index(key)))

    def reference(g):
        out = np.zeros(shape)
        np.add.at(out, index, g)
        return np.sin(out)

    expected = central_jacobian(reference, g)
    np.testing.assert_allclose(ad.jacobian(f, mode="forward")(g), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ad.jacobian(f, mode="reverse")(g), expected, rtol=1e-6, atol=1e-8)


# ---- the cases of the issue, and unpacking, with hand-derived numbers ----

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_separated_advanced_index_gives_A_not_its_transpose(mode):
    # f(x) = reshape(A x, (2, 1, 1))[[0, 1], :, [0, 0]] is A x as a (2, 1) column: J = A
    f = lambda x: ad.reshape(A @ x, (2, 1, 1))[[0, 1], :, [0, 0]]     # noqa: E731
    jac = ad.jacobian(f, mode=mode)(np.array([1.0, -1.0, 2.0]))
    np.testing.assert_array_equal(jac, A.reshape(2, 1, 3))


def test_hessian_through_a_separated_advanced_index():
    # f(x) = sum(x[0, :, [0, 1]]^3) on a (2, 2, 2) value: H = diag(6 x) on x[0], 0 elsewhere
    x = np.arange(1.0, 9.0).reshape(2, 2, 2)
    hess = ad.hessian(lambda x: ad.sum(x[0, :, [0, 1]] ** 3))(x)
    expected = np.diag(np.where(np.arange(8) < 4, 6 * x.ravel(), 0.0)).reshape(x.shape * 2)
    np.testing.assert_array_equal(hess, expected)


@pytest.mark.parametrize("transform", [
    lambda f: ad.jacrev(f), lambda f: ad.jacfwd(f),
    lambda f: ad.grad(lambda x: ad.sum(f(x) * np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])),
                      mode="forward"),
])
def test_int_then_slice_then_array_works_in_every_transform(transform):
    # y = x[0, :, [0, 1]] has y[j, i] = x[0, i, j]: d y[j, i] / d x[0, i, j] = 1
    x = np.arange(12.0).reshape(2, 3, 2)
    result = transform(lambda x: x[0, :, [0, 1]])(x)
    if result.shape == (2, 3, 2, 3, 2):
        expected = np.zeros((2, 3) + x.shape)
        for j in range(2):
            for i in range(3):
                expected[j, i, 0, i, j] = 1.0
    else:   # the gradient of sum(w * y): w[j, i] lands on x[0, i, j]
        expected = np.zeros(x.shape)
        expected[0] = np.array([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]])
    np.testing.assert_array_equal(result, expected)


def test_unpacking_indexes_one_element_at_a_time():
    # a, b, c = x; f = a b + c^2: grad = (b, a, 2c)
    def f(x):
        a, b, c = x
        return a * b + c ** 2
    x = np.array([2.0, 3.0, 5.0])
    for mode in ("reverse", "forward"):
        np.testing.assert_array_equal(ad.grad(f, mode=mode)(x), [3.0, 2.0, 10.0])
    # rows of a matrix: f = sum(r0 * r1), grad = (r1, r0)
    def g(m):
        r0, r1 = m
        return ad.sum(r0 * r1)
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(ad.jacobian(g, mode="forward")(m), [[3.0, 4.0], [1.0, 2.0]])
    np.testing.assert_array_equal(ad.hessian(g)(m).reshape(4, 4),
                                  [[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]])


def test_indexing_a_scalar_with_none_and_ellipsis():
    # x[None] * x[...] = x^2 as a (1,) array: derivative 2x
    f = lambda x: x[None] * x[...]          # noqa: E731
    for mode in ("forward", "reverse"):
        np.testing.assert_array_equal(ad.jacobian(f, mode=mode)(1.5), [3.0])


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_keys_numpy_reads_specially(mode):
    x = np.array([1.0, 2.0, 3.0])
    jac = lambda f: ad.jacobian(f, mode=mode)(x)                     # noqa: E731
    # x[[]] selects nothing: a 0 x 3 Jacobian
    assert jac(lambda x: x[[]] * 2).shape == (0, 3)
    # a 0-d integer array is an int: d x[1]^2 = 2 x[1] = 4
    np.testing.assert_array_equal(jac(lambda x: x[np.array(1)] ** 2), [0.0, 4.0, 0.0])
    # True adds an axis of length 1 (numpy reads it as a 0-d boolean array)
    np.testing.assert_array_equal(jac(lambda x: x[True] * 2), 2 * np.eye(3)[None])


# ---- bad indices: a dualad error naming getitem and the index ----

@pytest.mark.parametrize("key, words", [
    (1.5, "index 1.5 is not an integer"),
    ((0, "a"), "index 'a' is not an integer"),
    (([0, 1], [[0], [1, 2]]), "is not an integer"),               # ragged list
    (5, "getitem: index 5 is out of bounds"),
    (([0, 1], [0, 1, 2]), "getitem: shape mismatch"),             # arrays do not broadcast
    (np.array([True, False]), "getitem: boolean index did not match"),
])
def test_bad_index_raises_a_dualad_error_naming_getitem(key, words):
    x = ad.Var(np.zeros((3, 3)))
    with pytest.raises(ad.ShapeMismatchError, match="getitem") as info:
        x[key]
    assert words in str(info.value)


# ---- known gaps outside the indexing rules ----

def test_compare_counts_a_program_with_indexing():
    # f(x) = sum(x[0:2]^2): the Jacobian is (2 x0, 2 x1, 0)
    report = ad.compare(lambda x: ad.sum(x[0:2] * x[0:2]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(report.forward.jacobian, [[2.0, 4.0, 0.0]])
    np.testing.assert_array_equal(report.reverse.jacobian, [[2.0, 4.0, 0.0]])
