"""verify(): the verdict and its evidence, against hand-derived numbers and independent referees."""

import json
import math
import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

import dualad as ad
from dualad.demo import seed_graph
from dualad.primitives import Primitive
from dualad.referee import (Oracle, complex_step_applies, graph_values, probe_analytic,
                            reference_jacobian_at)

from strategies import NUMPY_OPS, build_program, central_difference, chained_graph, \
    random_programs, random_point


def rows(report, mode):
    """The report's rows for one mode, by kind: "sympy" and "oracle" (at the point),
    "sympy random" and "oracle random" (nearby), "proof"."""
    found = {}
    for check in report.checks:
        if check.mode != mode:
            continue
        if check.method.startswith("sympy.diff, proof"):
            kind = "proof"
        elif "random point" in check.method:
            kind = "sympy random" if check.method.startswith("sympy") else "oracle random"
        else:
            kind = "sympy" if check.method.startswith("sympy") else "oracle"
        found[kind] = check
    return found


# ---- correct gradients: ok, proved, and the right numbers ----

def test_seed_v7_is_proved():
    x, w, v7 = seed_graph()
    report = ad.verify(v7)
    assert report.ok and report.proved
    # dv7/dw at x = 1, w = 4, from sympy's own calculus on the seed's formula
    xs, ws = sp.symbols("x w")
    v1 = xs * ws
    v7_expr = sp.exp(v1 + sp.sin(v1)) + sp.sin(v1) ** 2 * ws
    for d, symbol in zip(report.derivatives, (xs, ws)):
        exact = float(sp.diff(v7_expr, symbol).subs({xs: 1, ws: 4}))
        assert d.forward == pytest.approx(exact, rel=1e-13)
        assert d.reverse == pytest.approx(exact, rel=1e-13)
        assert d.sympy == pytest.approx(exact, rel=1e-15)
        assert d.proof == {"forward": ("proved", d.proof["forward"][1]),
                           "reverse": ("proved", d.proof["reverse"][1])}


def test_verify_of_a_function_gives_the_hand_derived_gradient():
    report = ad.verify(lambda x, w: ad.sin(x * w) + ad.exp(x) / w, 1.0, 4.0)
    expected = [4 * math.cos(4.0) + math.e / 4,                  # d/dx: w cos(xw) + e^x / w
                math.cos(4.0) - math.e / 16]                     # d/dw: x cos(xw) - e^x / w^2
    assert [d.label for d in report.derivatives] == ["df/dx", "df/dw"]
    for d, value in zip(report.derivatives, expected):
        for got in (d.forward, d.reverse, d.sympy, d.oracle):
            assert got == pytest.approx(value, rel=1e-12)
    assert report.ok and report.proved
    assert report.max_abs_error < 1e-13
    assert rows(report, "forward")["oracle"].method == "complex step at the point"
    assert rows(report, "forward")["oracle"].ok and rows(report, "reverse")["oracle random"].ok


def test_verify_accepts_a_graph_and_a_var():
    graph = ad.parse("log(x1) + x1*x2 - sin(x2)")
    report = ad.verify(graph, 2.0, 5.0)
    assert report.ok and report.proved
    assert report.derivatives[0].reverse == pytest.approx(0.5 + 5.0)       # 1/x1 + x2
    assert report.derivatives[1].reverse == pytest.approx(2.0 - math.cos(5.0))
    assert report.assumptions == "x1 > 0, x2 real"
    x = ad.Var(3.0, name="x")
    report = ad.verify(x * x)
    assert report.derivatives[0].forward == 6.0 and report.proved
    assert ad.verify(x * x, 5.0).derivatives[0].reverse == 10.0


def test_verify_on_arrays_and_several_outputs():
    report = ad.verify(lambda v, A: ad.sum((A @ v) ** 2), np.array([1.0, 2.0]),
                       np.array([[1.0, 0.5], [-1.0, 2.0]]))
    assert report.ok and report.proved
    v, A = np.array([1.0, 2.0]), np.array([[1.0, 0.5], [-1.0, 2.0]])
    grad_v = 2 * A.T @ (A @ v)                       # d/dv |Av|^2 = 2 A^T A v
    grad_A = 2 * np.outer(A @ v, v)                  # d/dA |Av|^2 = 2 (Av) v^T
    got = {d.input: d.reverse for d in report.derivatives}
    assert [got["v[0]"], got["v[1]"]] == pytest.approx(grad_v)
    assert got["A[1, 0]"] == pytest.approx(grad_A[1, 0])
    two = ad.verify(ad.parse("x*y, x + y"), 2.0, 3.0)
    assert [(d.label, d.forward) for d in two.derivatives] == [
        ("df0/dx", 3.0), ("df0/dy", 2.0), ("df1/dx", 1.0), ("df1/dy", 1.0)]
    assert two.proved


def test_kinks_follow_sympy_and_every_referee_agrees():
    at_zero = ad.verify(lambda x: ad.abs(x), 0.0)
    assert at_zero.derivatives[0].reverse == 0.0 and at_zero.ok and at_zero.proved
    tie = ad.verify(lambda a, b: ad.maximum(a, b), 1.0, 1.0)
    assert [d.forward for d in tie.derivatives] == [0.5, 0.5]
    assert tie.ok and tie.proved
    assert rows(tie, "reverse")["oracle"].method == "central differences at the point"
    assert rows(tie, "reverse")["oracle"].ok


def test_positive_assumptions_only_where_the_domain_needs_them_and_the_point_allows():
    assert ad.verify(lambda x, y: ad.log(x) + ad.sqrt(y) * x, 2.0, 3.0).assumptions == \
        "x > 0, y > 0"
    assert ad.verify(lambda x, y: ad.log(ad.square(x)) + y, -2.0, 3.0).assumptions == \
        "x real, y real"
    report = ad.verify(lambda x: x ** 2.5, 3.0)
    assert report.assumptions == "x > 0" and report.proved


@settings(max_examples=100)
@given(random_programs())
def test_random_graphs_are_verified_end_to_end(program):
    n_inputs, steps = program
    point = random_point(n_inputs, seed=len(steps))
    graph = ad.trace(lambda *xs: build_program(ad, n_inputs, steps, xs), *point)
    report = ad.verify(graph, *point, time_limit=3.0)
    assert report.ok, str(report)
    reference = lambda *xs: build_program(NUMPY_OPS, n_inputs, steps, xs)  # noqa: E731
    for i, d in enumerate(report.derivatives):
        # sympy's value agrees with plain numpy differences, a referee sharing nothing with it
        assert d.sympy == pytest.approx(central_difference(reference, point, i), rel=1e-5,
                                        abs=1e-6)
    proofs = [c for c in report.checks if c.method.endswith("proof for all inputs")]
    if report.proved:
        assert all(c.result == "proved" for c in proofs)
    else:   # never passed off as proved, and the report says why
        assert any("time limit" in c.detail or "sympy left" in c.detail for c in proofs)


def test_exact_intermediate_numbers_do_not_stall_the_30_digit_comparison():
    # x - x is exactly 0 to sympy even for a float x, cos(0) exactly 1, and tanh(1) would
    # then stay symbolic
    report = ad.verify(lambda x: ad.tanh(ad.cos(x - x)) * x, 0.5)
    assert report.ok and report.proved
    random_row = rows(report, "forward")["sympy random"]
    assert random_row.ok and random_row.method == "sympy.diff at 5 random points"
    assert report.derivatives[0].sympy == pytest.approx(math.tanh(1.0), rel=1e-15)


# ---- wrong gradients are caught ----

def test_a_wrong_seed_style_user_op_is_caught():
    x = ad.Var(1.0, name="x")
    wrong = ad.Var(op=np.sin, children=[x], pds=[np.sin])        # d/dx sin x is not sin x
    report = ad.verify(wrong)
    assert not report.ok and not report.proved
    assert rows(report, "reverse")["oracle"].ok is False
    assert rows(report, "reverse")["oracle random"].ok is False
    assert report.derivatives[0].oracle == pytest.approx(math.cos(1.0), rel=1e-12)
    assert any("'sin' has no sympy form" in note for note in report.notes)
    with pytest.raises(ad.GradientMismatchError) as info:
        report.raise_if_failed()
    assert isinstance(info.value, AssertionError)
    message = str(info.value)
    assert "with respect to x" in message
    assert f"off by {math.sin(1.0) - math.cos(1.0):.3g}" in message


def test_a_correct_user_op_is_checked_by_the_oracle_and_not_proved():
    x = ad.Var(0.3, name="x")
    user = ad.Var(op=np.sin, children=[x], pds=[np.cos])
    report = ad.verify(ad.exp(user))
    assert report.ok and not report.proved
    checks = rows(report, "forward")
    assert checks["oracle"].ok and checks["oracle random"].ok
    assert checks["sympy"].ok is None and "no sympy form" in checks["sympy"].detail
    assert report.derivatives[0].sympy is None
    # d/dx exp(sin x) = cos(x) exp(sin x), by the oracle, which knows no rule
    expected = math.cos(0.3) * math.exp(math.sin(0.3))
    assert report.derivatives[0].oracle == pytest.approx(expected, rel=1e-12)
    report.raise_if_failed()


def test_a_wrong_rule_with_a_sympy_form_fails_every_check():
    wrong_sin = Primitive(name="sin", numpy=np.sin, sympy=sp.sin,
                          pds=(lambda m, x, out: m.sin(x),))
    x = ad.Var(1.0, name="x")
    report = ad.verify(ad.graph.apply_primitive(wrong_sin, x) * 2)
    assert not report.ok and not report.proved
    checks = rows(report, "forward")
    assert checks["sympy"].ok is False and checks["sympy random"].ok is False
    assert checks["oracle"].ok is False and checks["oracle random"].ok is False
    assert checks["proof"].result == "not proved"


def test_a_rule_wrong_only_away_from_the_point_is_caught_by_the_proof_and_random_points():
    # right at x = 1 (where (x - 1)^2 vanishes), wrong everywhere else
    sneaky = Primitive(name="sin", numpy=np.sin, sympy=sp.sin,
                       pds=(lambda m, x, out: m.cos(x) + (x - 1) ** 2,))
    x = ad.Var(1.0, name="x")
    report = ad.verify(ad.graph.apply_primitive(sneaky, x))
    checks = rows(report, "reverse")
    assert checks["sympy"].ok and checks["oracle"].ok              # fine at the point
    assert checks["sympy random"].ok is False                     # not nearby
    assert checks["oracle random"].ok is False
    assert not report.ok and not report.proved
    with pytest.raises(ad.GradientMismatchError, match="with respect to x"):
        report.raise_if_failed()


def test_a_constant_rule_off_by_a_number_is_disproved():
    wrong_negative = Primitive(name="negative", numpy=np.negative, sympy=lambda a: -a,
                               pds=(lambda m, a, out: 1,))
    report = ad.verify(ad.graph.apply_primitive(wrong_negative, ad.Var(2.0, name="a")))
    proof = rows(report, "forward")["proof"]
    assert proof.result == "FAILED" and "simplifies to 2" in proof.detail


# ---- the function itself is checked, not only its trace ----

def test_a_derivative_lost_through_value_makes_verify_fail():
    # sin(x) leaves the graph through .value: the trace is sin(1) * x, frozen
    report = ad.verify(lambda x: ad.Var(float(np.sin(x.value))) * x, 1.0)
    assert not report.ok and not report.proved
    d = report.derivatives[0]
    assert d.forward == pytest.approx(math.sin(1.0)) and d.reverse == d.forward
    # the oracle differentiates f itself: d/dx [x sin x] = sin x + x cos x
    assert d.oracle == pytest.approx(math.sin(1.0) + math.cos(1.0), rel=1e-8)
    trace_rows = [c for c in report.checks if c.mode == "both"]
    assert len(trace_rows) == 1 and trace_rows[0].ok is False
    assert "the trace does not follow f near the point" in trace_rows[0].detail
    assert rows(report, "forward")["oracle"].ok is False
    assert rows(report, "reverse")["oracle random"].ok is False
    with pytest.raises(ad.GradientMismatchError, match="the trace does not follow f"):
        report.raise_if_failed()


def test_a_derivative_lost_where_the_complex_step_cannot_see_it_is_still_caught():
    # .real drops the imaginary part of a complex step inside f and in its trace alike: the
    # values of f and its trace at a real point near the point still differ
    report = ad.verify(lambda x: ad.Var(np.sin(x.value).real) * x, 1.0)
    assert not report.ok
    assert report.failures()[0].mode == "both"
    # where f parts from its trace, its complex step is not trusted: central differences
    assert rows(report, "forward")["oracle"].method == "central differences at the point"
    assert report.derivatives[0].oracle == pytest.approx(math.sin(1.0) + math.cos(1.0))
    assert rows(report, "forward")["oracle random"].ok is False


def test_a_branch_frozen_at_the_point_is_caught():
    # |x| written as a Python branch, traced at 0: the trace is -x, f is x just above 0
    report = ad.verify(lambda x: x if x.value > 0 else -x, 0.0)
    assert not report.ok
    assert "the trace does not follow f" in report.failures()[0].detail
    assert report.derivatives[0].forward == -1.0
    assert report.derivatives[0].oracle == pytest.approx(0.0, abs=1e-9)   # |x| is even


def test_a_function_that_follows_its_trace_passes_with_branches_and_values():
    # .value used only to choose a branch that holds near the point: nothing is lost
    def f(x, y):
        return ad.sin(x) * y if x.value > 0 else ad.cos(x) * y
    report = ad.verify(f, 0.7, 2.0)
    assert report.ok and report.proved
    assert not [c for c in report.checks if c.mode == "both"]
    assert [d.oracle for d in report.derivatives] == pytest.approx(
        [2.0 * math.cos(0.7), math.sin(0.7)], rel=1e-12)


def test_f_run_again_near_the_point_is_not_a_graph_or_a_var():
    x = ad.Var(1.0, name="x")
    y = float(np.sin(x.value)) * x                # a Var is its own function: sin(1) * x
    report = ad.verify(y)
    assert report.ok and report.derivatives[0].oracle == pytest.approx(math.sin(1.0))


# ---- a reference that is not finite confirms nothing ----

def test_a_wrong_user_partial_at_a_point_where_the_oracle_is_undefined_is_not_ok():
    x = ad.Var(0.0, name="x")
    report = ad.verify(ad.Var(op=np.sqrt, children=[x], pds=[lambda x: 12345.0]))
    assert not report.ok
    at_point = rows(report, "forward")["oracle"]
    assert at_point.ok is None and at_point.result == "undefined"
    assert "reference undefined here" in at_point.detail
    nearby = rows(report, "reverse")["oracle random"]
    assert nearby.ok is False and "gives 12345" in nearby.detail
    for check in report.checks:          # no row passes with an infinite error
        assert not (check.ok and check.max_abs_error is not None
                    and not math.isfinite(check.max_abs_error))


def test_the_oracle_is_right_for_that_user_op_away_from_0():
    x = ad.Var(0.3, name="x")
    report = ad.verify(ad.Var(op=np.sqrt, children=[x], pds=[lambda x: 12345.0]))
    assert not report.ok
    # 1 / (2 sqrt(0.3)), far from 12345
    assert report.derivatives[0].oracle == pytest.approx(1 / (2 * math.sqrt(0.3)), rel=1e-12)


def test_random_points_move_an_input_at_0_into_sqrt_domain():
    report = ad.verify(lambda x: ad.sqrt(x), 0.0)
    d = report.derivatives[0]
    assert d.forward == math.inf              # 1 / (2 sqrt 0)
    assert rows(report, "forward")["sympy"].result == "undefined"
    assert rows(report, "forward")["oracle"].result == "undefined"
    assert rows(report, "forward")["oracle random"].ok       # at positive points nearby
    assert rows(report, "forward")["sympy random"].ok
    assert report.ok


def test_nothing_confirmed_is_not_ok():
    with np.errstate(invalid="ignore"):
        report = ad.verify(ad.parse("log(x)"), -1.0)   # log is not defined near -1
    assert not report.ok and not report.failures()
    assert all(not c.confirms for c in report.checks)
    assert str(report).splitlines()[0].startswith("verify f(x) at x = -1: NOT CONFIRMED")
    with pytest.raises(ad.GradientMismatchError, match="nothing confirmed"):
        report.raise_if_failed()


def test_the_complex_step_falls_back_where_f_is_not_analytic_at_the_point():
    sqrt = graph_values(ad.parse("sqrt(x)"))
    at_zero = Oracle(sqrt, [0.0], analytic=True)
    assert np.isnan(at_zero.along([1.0], 1e-3)[0])
    assert at_zero.method == "central differences"
    at_four = Oracle(sqrt, [4.0], analytic=True)
    assert at_four.along([1.0], 1e-3)[0] == pytest.approx(0.25, rel=1e-15)
    assert at_four.method == "complex step"


# ---- references right where the function is ----

def test_x_squared_at_0_is_ok_and_its_reference_is_0():
    report = ad.verify(lambda x: x**2, 0.0)
    assert report.ok and report.proved
    d = report.derivatives[0]
    assert (d.forward, d.reverse, d.sympy, d.oracle) == (0.0, 0.0, 0.0, 0.0)
    # d/dx x**k = k x**(k-1): 0 at 0 for k > 1
    assert reference_jacobian_at(ad.parse("x**2.5 + x**3"), [0.0]).tolist() == [[0.0]]
    assert reference_jacobian_at(ad.parse("x**2"), [-1.5]).tolist() == [[-3.0]]


def test_an_infinite_partial_reaches_only_the_directions_through_it():
    # d/dv_i sum(v_i^1.5) = 1.5 sqrt(v_i): 1.5 and 3 at v = 1, 4; sqrt's partial is
    # infinite at v_0 = 0, which says nothing about the other two columns
    graph = ad.trace(lambda v: ad.sum(ad.sqrt(v) * v), np.array([0.0, 1.0, 4.0]))
    reference = reference_jacobian_at(graph, [np.array([0.0, 1.0, 4.0])])
    assert np.isnan(reference[0, 0]) and reference[0, 1:].tolist() == [1.5, 3.0]
    assert reference_jacobian_at(ad.parse("sqrt(x) + y"), [0.0, 2.0])[0, 1] == 1.0
    report = ad.verify(graph, np.array([0.0, 1.0, 4.0]))
    assert [d.reverse for d in report.derivatives][1:] == [1.5, 3.0]
    sympy_row = rows(report, "forward")["sympy"]
    assert sympy_row.result == "undefined"      # forward mode's nan (inf * 0) is shown
    assert "for df/dv[1] forward mode gives nan, sympy.diff 1.5" in sympy_row.detail


def test_a_partial_undefined_at_the_point_is_left_to_the_points_nearby():
    # d/dy x**y = x**y log x: sympy's partial is nan at x = 0, and so is reverse mode's
    report = ad.verify(lambda x, y: x ** y, 0.0, 2.0)
    assert rows(report, "reverse")["sympy"].result == "undefined"
    assert rows(report, "reverse")["sympy random"].ok
    assert report.ok


# ---- the time limit bounds the whole call ----

def test_a_150_by_150_layer_under_a_1_second_limit_says_what_did_not_run():
    rng = np.random.default_rng(0)
    W, x = rng.normal(size=(150, 150)) / 10, rng.normal(size=150)
    report = ad.verify(lambda W, x: ad.tanh(W @ x), W, x, time_limit=1.0)
    assert len(report.derivatives) == 150 * (150 * 150 + 150)
    not_run = [c for c in report.checks if "not run for lack of time" in c.detail]
    assert {c.method for c in not_run} >= {"sympy.diff at the point"}
    oracle = rows(report, "forward")["oracle"]
    checked, total = (int(n) for n in oracle.detail.split("checked ")[1].split(" columns")[0]
                      .split(" of "))
    assert 1 <= checked < total == 150 * 150 + 150
    assert any(note.startswith("the time limit of 1 s was reached") for note in report.notes)
    assert "proved" not in str(report).splitlines()[0].replace("not proved", "")
    # the numbers: d tanh(Wx)_i / dW_ij = (1 - tanh(Wx)_i^2) x_j, d/dx_j = (1 - ...) W_ij
    slope = 1 - np.tanh(W @ x) ** 2
    for i, j in [(0, 0), (3, 7), (149, 149)]:
        d = report.derivatives[i * (150 * 150 + 150) + i * 150 + j]
        assert d.label == f"df[{i}]/dW[{i}, {j}]"
        assert d.forward is None or d.forward == pytest.approx(slope[i] * x[j], rel=1e-12,
                                                               abs=1e-15)
        assert d.reverse == pytest.approx(slope[i] * x[j], rel=1e-12, abs=1e-15)
        d = report.derivatives[i * (150 * 150 + 150) + 150 * 150 + j]
        assert d.label == f"df[{i}]/dx[{j}]" and d.reverse == pytest.approx(slope[i] * W[i, j])
    # forward mode's 22,650 sweeps (one per input element) stop at half the limit: the
    # columns it reached are right, the others are not shown, and the report says so
    swept = [k for k in range(150 * 150 + 150) if report.derivatives[k].forward is not None]
    assert 1 <= len(swept) < 150 * 150 + 150
    for k in swept[:50]:
        d = report.derivatives[k]
        expected = (slope[0] * x[k % 150] if k < 150 else 0.0) if k < 150 * 150 else \
            slope[0] * W[0, k - 150 * 150]
        assert d.forward == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert any(note.startswith("forward mode's Jacobian at the point: ") for note in report.notes)


def test_an_infinite_time_limit_is_no_limit():
    report = ad.verify(lambda x, w: ad.sin(x * w) * w, 0.5, 2.0, time_limit=float("inf"))
    assert report.ok and report.proved
    assert not any("time limit" in c.detail for c in report.checks)
    assert report.derivatives[0].sympy == pytest.approx(4 * math.cos(1.0), rel=1e-15)


@pytest.mark.parametrize("time_limit", [-1.0, math.nan, "10", None])
def test_a_time_limit_must_be_0_or_more_seconds(time_limit):
    with pytest.raises(ad.DualadError, match="verify: time_limit must be 0 or more seconds"):
        ad.verify(lambda x: x * x, 1.0, time_limit=time_limit)


# ---- which ops the complex step may differentiate ----

def test_a_registered_op_whose_numpy_form_refuses_complex_input_gets_central_differences():
    cbrt = Primitive(name="test_cbrt", numpy=np.cbrt, sympy=lambda x: sp.real_root(x, 3),
                     pds=(lambda m, x, out: 1 / (3 * out * out),))   # d/dx x^(1/3) = 1/(3 out^2)
    ad.register(cbrt)
    try:
        report = ad.verify(lambda x: ad.graph.apply_primitive(cbrt, x) * x, 2.0)
        assert report.ok
        assert rows(report, "forward")["oracle"].method == "central differences at the point"
        # d/dx x^(4/3) = (4/3) x^(1/3)
        assert report.derivatives[0].oracle == pytest.approx(4 / 3 * 2 ** (1 / 3), rel=1e-9)
        applies, how = complex_step_applies(cbrt)
        assert not applies and "refuses complex input" in how
    finally:
        del ad.REGISTRY["test_cbrt"]


def test_the_probe_decides_from_the_numpy_form_alone():
    tanh_like = Primitive(name="t", numpy=np.tanh, pds=(lambda m, x, out: 0,))   # wrong rule
    assert probe_analytic(tanh_like)[0]            # the rule plays no part
    assert not probe_analytic(Primitive(name="a", numpy=np.abs, pds=(np.sign,)))[0]
    # |x| written so that it takes complex input: its complex step is 0, |x|' is not
    modulus = Primitive(name="m", numpy=lambda x: np.sqrt(x * np.conj(x)), pds=(np.sign,))
    assert probe_analytic(modulus) == (
        False, "at (0.7) the complex step gives 0, central differences 1")
    assert probe_analytic(ad.REGISTRY["matmul"]) == (
        True, "the complex step agrees with central differences at 2 points")
    assert complex_step_applies(ad.REGISTRY["maximum"]) == (False, "declared not analytic")


# ---- what cannot be proved is never passed off as proved ----

def test_a_right_rule_sympy_cannot_simplify_is_reported_unproved_but_ok():
    # d/dx tanh(x/2) = (1 - tanh(x/2)^2)/2, written with sinh(x)/(cosh(x)+1) = tanh(x/2):
    # right, but sympy's simplify does not see it
    half_tanh = Primitive(name="half_tanh", numpy=lambda x: np.tanh(x / 2),
                          sympy=lambda x: sp.tanh(x / 2),
                          pds=(lambda m, x, out: (1 - (m.sinh(x) / (m.cosh(x) + 1)) ** 2) / 2,))
    report = ad.verify(ad.graph.apply_primitive(half_tanh, ad.Var(0.8, name="x")))
    assert report.ok and not report.proved
    checks = rows(report, "forward")
    assert checks["sympy random"].ok and "30 digits" in checks["sympy random"].detail
    proof = checks["proof"]
    assert proof.result == "not proved" and "sympy left the difference" in proof.detail
    assert "not proved" in str(report).splitlines()[0]


def test_with_no_time_the_proof_is_not_claimed():
    x, w, v7 = seed_graph()
    report = ad.verify(v7, time_limit=0.0)
    assert report.ok and not report.proved
    proof = rows(report, "forward")["proof"]
    assert proof.result == "not run" and "time limit of 0 s" in proof.detail
    # the least is always done: one column of the oracle, one random point
    oracle = rows(report, "forward")["oracle"]
    assert oracle.ok and "checked 1 of 2 columns before the time limit of 0 s" in oracle.detail
    assert rows(report, "forward")["oracle random"].method.endswith("at 1 random point")
    assert any(note.startswith("the time limit of 0 s was reached") for note in report.notes)


def test_a_1000_node_graph_is_checked_numerically_and_not_proved_in_its_time():
    graph, point = chained_graph(ad, 1000, seed=1)
    assert len(graph) >= 1000
    report = ad.verify(graph, *point, time_limit=5.0)
    assert report.ok and not report.proved
    checks = rows(report, "reverse")
    assert checks["oracle"].ok and checks["oracle"].max_abs_error < 1e-6
    assert checks["oracle random"].ok
    assert checks["sympy"].ok                    # sympy's value, through the shared graph
    assert "time limit of 5 s" in checks["proof"].detail


# ---- the report ----

def test_report_str_is_a_readable_table():
    text = str(ad.verify(lambda x, w: ad.exp(x * w) / w, 1.0, 4.0))
    lines = text.splitlines()
    assert lines[0] == "verify f(x, w) at x = 1, w = 4: ok, proved"
    assert lines[2].split() == ["derivative", "forward", "reverse", "sympy.diff", "complex",
                                "step"]
    assert lines[3].split()[:3] == ["df/dx", f"{math.exp(4):.12g}", f"{math.exp(4):.12g}"]
    assert sum(line.startswith(("forward ", "reverse ")) for line in lines) == 10
    assert "assumptions: x real, w real" in lines


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ad.DualadError, match=r"2 inputs \(x, y\) but 1 value"):
        ad.verify(ad.parse("x * y"), 1.0)
    with pytest.raises(ad.DualadError, match="value of x must be a finite real"):
        ad.verify(lambda x: x * x, math.nan)
    with pytest.raises(ad.DualadError, match=r"use ad.parse\(text\)"):
        ad.verify("x * x", 1.0)
    with pytest.raises(ad.DualadError, match="no inputs"):
        ad.verify(ad.parse("2 * pi"))


# ---- the registry proves itself ----

def test_every_registry_rule_is_proved_equal_to_sympy_diff():
    proof = ad.prove_registry()
    assert proof.ok, str(proof)
    elementwise = {name for name, p in ad.REGISTRY.items() if p.elementwise and not p.boolean}
    proved = {(r.op, r.rule) for r in proof.rules if r.verdict == "proved"}
    for name in elementwise:
        for j in range(ad.REGISTRY[name].nin):
            arg = "x" if ad.REGISTRY[name].nin == 1 else "abc"[j]
            assert (name, f"d/d{arg}") in proved
    structural = {name for name, p in ad.REGISTRY.items() if not p.elementwise}
    for name in structural:
        assert {r.rule.split(" for ")[0] for r in proof.rules if r.op == name} == {"jvp", "vjp"}
    log = next(r for r in proof.rules if r.op == "log")
    assert log.assumptions == "x > 0"


def test_a_broken_registry_is_not_proved():
    broken = dict(ad.REGISTRY)
    broken["sin"] = Primitive(name="sin", numpy=np.sin, sympy=sp.sin,
                              pds=(lambda m, x, out: m.sin(x),))
    broken["negative"] = Primitive(name="negative", numpy=np.negative, sympy=lambda a: -a,
                                   pds=(lambda m, a, out: 1,))
    proof = ad.prove_registry(broken)
    assert not proof.ok
    verdicts = {r.op: r.verdict for r in proof.rules}
    assert verdicts["sin"] == "unproved" and verdicts["negative"] == "disproved"
    assert verdicts["cos"] == "proved"
    assert "disproved (the difference simplifies to 2)" in str(proof)


def test_the_registry_proof_lists_what_the_complex_step_may_differentiate():
    proof = ad.prove_registry()
    rows_by_op = {c.op: c for c in proof.complex_steps}
    assert set(rows_by_op) == set(ad.REGISTRY)
    assert str(rows_by_op["abs"]) == "complex step: declared not analytic (central differences)"
    assert rows_by_op["sin"].verdict == "derived" and rows_by_op["sin"].applies
    assert "complex step: derived, analytic" in str(proof)


def test_a_declared_analytic_op_is_checked_by_the_registry_proof():
    registry = {
        "sin": Primitive(name="sin", numpy=np.sin, sympy=sp.sin, analytic=True,
                         pds=(lambda m, x, out: m.cos(x),)),
        "abs": Primitive(name="abs", numpy=np.absolute, sympy=sp.Abs, analytic=True,
                         pds=(lambda m, x, out: m.sign(x),)),
    }
    proof = ad.prove_registry(registry)
    found = {c.op: c for c in proof.complex_steps}
    assert str(found["sin"]) == "complex step: declared analytic, confirmed"
    assert found["abs"].verdict == "refuted" and not proof.ok
    assert "declared analytic, refuted" in str(proof)


def test_the_report_in_a_notebook_and_as_json():
    W = np.arange(1.0, 401.0).reshape(20, 20)
    report = ad.verify(lambda W, x: ad.sum(ad.sin(W) * x), W, 2.0, time_limit=2.0)
    # the header names the arrays by their shape, not by 400 numbers
    assert str(report).splitlines()[0].startswith("verify f(W, x) at W = a 20 x 20 array, x = 2:")
    assert len(repr(report)) < 120 and repr(report).startswith("<VerificationReport f(W, x): ")
    html = report._repr_html_()
    assert html.count("<table>") == 2 and "<th>sympy.diff</th>" in html
    assert "... (381 more entries)" in html        # 401 entries, 20 shown
    data = json.loads(report.to_json())
    assert len(data["derivatives"]) == 401
    # d/dW[i, j] = x cos(W[i, j]), d/dx = sum(sin W): by each mode, against numpy's own values
    assert data["derivatives"][21]["reverse"] == pytest.approx(2 * np.cos(W[1, 1]), rel=1e-14)
    assert data["derivatives"][-1]["forward"] == pytest.approx(np.sin(W).sum(), rel=1e-12)
    assert data["ok"] == report.ok and data["point"]["x"] == 2.0


def test_the_html_report_escapes_what_it_shows():
    x = ad.Var(1.0, name="a<b>")
    report = ad.verify(ad.Var(op=np.exp, children=[x], pds=[np.cos]))   # a wrong rule
    html = report._repr_html_()
    assert "df/da&lt;b&gt;" in html and "a<b>" not in html
    assert set(re.findall(r"</?([a-z]+)", html)) <= {"table", "caption", "tr", "th", "td", "p",
                                                     "ul", "li"}
    assert "<td>FAILED</td>" in html
