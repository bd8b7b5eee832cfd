"""CostEvaluator: operation counts, memory and Jacobians, each checked against a count or a
derivative worked out by hand from the documented cost model."""

import numpy as np
import pytest

import dualad as ad
from dualad.evaluators import CostEvaluator
from dualad.evaluators.cost import forward_sweeps, reverse_sweeps

from strategies import speelpenning


def costs(f, *args):
    graph = ad.trace(f, *args)
    return [CostEvaluator(graph, mode).run(list(args), repeats=1) for mode in ("forward",
                                                                              "reverse")]


# ---- whole modes, counted by hand ----

def test_speelpenning_counts():
    # y = x0 * x1 * ... * x9: a chain of 9 multiplies; multiply's partials are its other
    # input (free), so a visited multiply costs one multiply per active input, plus one add
    # when both inputs carry a tangent (never here: only one input is seeded per sweep).
    # forward: 10 sweeps x 9 values, plus the multiplies downstream of each seed:
    #          9 (x0 and x1 feed the first) + 9 + 8 + ... + 1 = 54  ->  90 + 54 = 144
    # reverse: 9 values, then one sweep with 2 multiplies per node and no fan-out -> 27
    forward, reverse = costs(speelpenning, *map(float, range(1, 11)))
    assert (forward.passes, forward.ops, forward.primal_ops) == (10, 144, 90)
    assert (reverse.passes, reverse.ops, reverse.primal_ops) == (1, 27, 9)


def test_the_cost_of_a_partial_is_what_its_rule_computes():
    # exp reuses its output (d/dx e^x = out: free); tanh computes 1 - out*out (2 ops);
    # each then multiplies by the tangent (1): forward = 1 value + partial + 1
    assert costs(ad.exp, 0.3)[0].ops == 1 + 0 + 1
    assert costs(ad.tanh, 0.3)[0].ops == 1 + 2 + 1
    # divide's partial for b is -a/(b*b): 3 ops, for a 1/b: 1 op
    forward, reverse = costs(lambda a, b: a / b, 1.0, 2.0)
    # forward, seed a: value 1, partial 1/b 1, times tangent 1;  seed b: 1 + 3 + 1
    assert forward.ops == (1 + 1 + 1) + (1 + 3 + 1)
    # reverse: value 1, both partials 1 + 3, two products
    assert reverse.ops == 1 + 4 + 2


def test_fan_out_costs_one_add_per_extra_use():
    # y = x * x: forward: value 1, the two terms x * x_dot (the same product: computed once),
    # one add; reverse: value 1, the two shares x * y_bar (the same product, once), and the
    # second share accumulated onto x's adjoint with one add
    forward, reverse = costs(lambda x: x * x, 3.0)
    assert forward.ops == 1 + 1 + 1
    assert reverse.ops == 1 + 1 + 1
    # y = x * sin(x): no product repeats: values 2; reverse: multiply's two shares (2
    # products), sin's partial cos (1) times its adjoint (1), one add onto x's adjoint
    forward, reverse = costs(lambda x: x * ad.sin(x), 3.0)
    assert reverse.ops == 2 + 2 + 1 + 1 + 1


def test_arrays_are_counted_per_element():
    # sin on x of 5 elements: f: R^5 -> R^5
    # forward: 5 sweeps, each 5 sines + 5 cosines + 5 products = 15  -> 75
    # reverse: 5 sines once, then 5 sweeps of 5 cosines + 5 products -> 5 + 50 = 55
    forward, reverse = costs(ad.sin, np.linspace(0, 1, 5))
    assert (forward.passes, forward.ops) == (5, 75)
    assert (reverse.passes, reverse.ops) == (5, 55)


def test_broadcasting_and_summing_back_are_counted():
    # s = sum(a * b), a (3,1), b (1,4): values 12 products + 11 adds = 23.
    # reverse: sum's adjoint is a broadcast (free); multiply's partials are free; 12 + 12
    # products; summing back to a's shape 12 - 3 adds, to b's 12 - 4 adds  -> 23 + 41 = 64
    forward, reverse = costs(lambda a, b: ad.sum(a * b), np.ones((3, 1)), np.ones((1, 4)))
    assert reverse.ops == 23 + 24 + 9 + 8
    # forward: 7 sweeps (3 + 4 elements); each: 23 values, 12 products (one seeded input),
    # 11 adds summing the tangent -> 46 each
    assert (forward.passes, forward.ops) == (7, 7 * 46)


def test_matmul_counts_q_multiplies_and_q_minus_1_adds():
    # tanh(W @ x), W 3x4 constant: values 3*(4+3) + 3 = 24.
    # forward sweep: 24 values, W @ x_dot 21, tanh partial 2*3, products 3 -> 54; 4 sweeps.
    # reverse sweep: tanh partial 6 and products 3; matmul's rule forms only the adjoint that
    # is needed, W^T out_bar (4x3 @ 3x1: 4*(3+2) = 20), not the constant W's -> 29
    W = np.arange(12.0).reshape(3, 4) / 10
    forward, reverse = costs(lambda x: ad.tanh(W @ x), np.ones(4))
    assert (forward.passes, forward.ops) == (4, 4 * 54)
    assert (reverse.passes, reverse.ops) == (3, 24 + 3 * 29)


def test_memory_forward_is_constant_along_a_chain_and_reverse_keeps_the_tape():
    def chain(depth):
        def f(x):
            for _ in range(depth):
                x = ad.sin(x)
            return x
        return f
    # forward: a value and its tangent (16 bytes) for the node being computed and its input
    # reverse: the tape, (depth + 1) values of 8 bytes, plus at most two adjoints alive
    for depth in (10, 100):
        forward, reverse = costs(chain(depth), 0.5)
        assert forward.peak_memory == 2 * 16
        assert reverse.peak_memory == (depth + 1) * 8 + 2 * 8


def test_memory_counts_array_bytes_and_constants():
    # y = sum(x * c), x and c of 100 elements: forward keeps x, c, x*c and their tangents
    # (x and x*c are active): 800 * (2 + 1 + 2) at the product, then the sum's 16 bytes
    # reverse: tape 800 * 3 + 8; adjoints: seed 8, then x*c's 800 and x's 800 alive together
    c = np.linspace(1, 2, 100)
    forward, reverse = costs(lambda x: ad.sum(x * c), np.ones(100))
    assert forward.peak_memory == 800 * 5
    assert reverse.peak_memory == (800 * 3 + 8) + (800 + 800)


def test_sweeps_give_hand_derived_jacobians():
    W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x = np.array([0.5, -1.0, 2.0])
    linear = ad.trace(lambda x: W @ x, x)
    np.testing.assert_array_equal(forward_sweeps(linear, [x]), W)
    np.testing.assert_array_equal(reverse_sweeps(linear, [x]), W)
    two = ad.trace(lambda x, s: (x * x * s, ad.sum(x)), x, 3.0)
    # d(x^2 s)/dx = diag(2 x s), d/ds = x^2; d sum/dx = 1, d sum/ds = 0
    expected = np.zeros((4, 4))
    expected[:3, :3] = np.diag(2 * x * 3.0)
    expected[:3, 3] = x * x
    expected[3, :3] = 1.0
    np.testing.assert_allclose(forward_sweeps(two, [x, 3.0]), expected)
    np.testing.assert_allclose(reverse_sweeps(two, [x, 3.0]), expected)


def test_seconds_are_a_median_of_real_runs_and_bad_arguments_are_refused():
    graph = ad.trace(lambda x: ad.sin(x), 1.0)
    cost = CostEvaluator(graph, "reverse").run([1.0], repeats=3)
    assert cost.repeats == 3 and cost.seconds > 0      # measured, never bounded
    with pytest.raises(ad.DualadError, match="mode must be 'forward' or 'reverse'"):
        CostEvaluator(graph, "sideways")
    with pytest.raises(ad.DualadError, match="repeats must be at least 1"):
        CostEvaluator(graph, "forward").run([1.0], repeats=0)


def test_a_rule_that_cannot_be_recorded_is_reported_as_unpriced_by_name():
    x = ad.Var(np.ones(3), name="x")
    y = ad.Var(op=np.cumsum, children=[x], pds=[lambda a: np.ones_like(a)])
    cost = CostEvaluator(ad.Graph(ad.sum(y)), "reverse").run([np.ones(3)], repeats=1)
    # values: cumsum (a user op: priced as elementwise, 3) + sum (2 adds); the sweep: sum's
    # adjoint is a broadcast (free), the partial is a call of the user's numpy code (no
    # price), times the adjoint (3)
    assert cost.ops == 3 + 2 + 3 and cost.unpriced == ["partial 0 of cumsum"]
