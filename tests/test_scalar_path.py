"""The scalar fast path: taken for graphs of floats, and handing everything else over."""

import math

import numpy as np
import pytest

import dualad as ad
from dualad.evaluators import (ForwardEvaluator, ReverseEvaluator, ScalarForwardEvaluator,
                               ScalarReverseEvaluator, ScalarValueEvaluator, ValueEvaluator)
from dualad.evaluators.scalar import ScalarPlan


def seed_like(x, w):
    v1 = x * w
    v2 = ad.sin(v1)
    return ad.exp(v1 + v2) + v2 ** 2 * w


def test_graphs_of_floats_take_the_plan_without_the_reference(monkeypatch):
    graph = ad.trace(seed_like, 1.0, 4.0)
    assert ScalarPlan.of(graph).applies([n.value for n in graph.nodes])

    def refuse(*args, **kwargs):
        raise AssertionError("the reference evaluator ran")
    for cls in (ValueEvaluator, ReverseEvaluator, ForwardEvaluator):
        monkeypatch.setattr(cls, "run", refuse)
    values = ScalarValueEvaluator(graph).run([1.0, 4.0])
    adjoints = ScalarReverseEvaluator(graph).run(values, [1.0])
    _, tangents = ScalarForwardEvaluator(graph).run([1.0, 4.0], [0.0, 1.0])
    # dv7/dw at x = 1, w = 4, by hand: e^(w + sin w)(1 + cos w) + 2 sin w cos w w + sin^2 w
    s, c = math.sin(4.0), math.cos(4.0)
    expected = math.exp(4.0 + s) * (1 + c) + 2 * s * c * 4.0 + s * s
    assert adjoints[graph.input_positions[1]] == pytest.approx(expected, rel=1e-14)
    assert tangents[graph.output_positions[0]] == pytest.approx(expected, rel=1e-14)


def test_domain_edges_give_numpys_nan_and_inf_as_the_reference_does():
    graph = ad.trace(lambda x: ad.log(x) + 1 / x, 1.0)
    for value_cls, reverse_cls in [(ValueEvaluator, ReverseEvaluator),
                                   (ScalarValueEvaluator, ScalarReverseEvaluator)]:
        with pytest.warns(RuntimeWarning):
            values = value_cls(graph).run([-1.0])
        assert math.isnan(values[-1])
        with pytest.warns(RuntimeWarning):
            values = value_cls(graph).run([0.0])
            adjoints = reverse_cls(graph).run(values, [1.0])
        assert values[-1] == -math.inf or math.isnan(values[-1])
        assert not math.isfinite(adjoints[0])


def test_arrays_sympy_values_and_batches_go_to_the_reference():
    graph = ad.trace(lambda x: ad.sum(ad.sin(x) * x), np.array([0.5, 1.0]))
    assert not ScalarPlan.of(graph).ok          # sum is structural
    g2 = ad.trace(lambda x: ad.sin(x) * x, 0.5)
    x = np.array([0.5, 1.0])
    fast = ScalarValueEvaluator(g2).run([x])
    np.testing.assert_allclose(fast[-1], np.sin(x) * x)
    _, tangents = ScalarForwardEvaluator(g2, batch=1).run([0.5], [np.array([1.0, 2.0])])
    np.testing.assert_allclose(tangents[-1], (np.cos(0.5) * 0.5 + np.sin(0.5)) * np.array([1, 2]))


def test_seed_style_user_ops_have_no_float_plan_and_still_work():
    x = ad.Var(0.3)
    y = ad.Var(op=np.sin, children=[x], pds=[np.cos]) * 2.0
    assert not ScalarPlan.of(ad.Graph(y)).ok
    y.backward()
    assert x.deriv == pytest.approx(2 * math.cos(0.3))
