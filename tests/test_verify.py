"""verify(): the verdict and its evidence, against hand-derived numbers and independent referees."""

import math
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

import dualad as ad
from dualad.demo import seed_graph
from dualad.primitives import Primitive

from strategies import NUMPY_OPS, build_program, central_difference, chained_graph, \
    random_programs, random_point


def rows(report, mode):
    return {check.method.split(" at ")[0] if "random" not in check.method else "random": check
            for check in report.checks if check.mode == mode}


# ---- correct gradients: ok, proved, and the right numbers ----

def test_seed_v7_is_proved_in_under_a_second():
    x, w, v7 = seed_graph()
    start = time.perf_counter()
    report = ad.verify(v7)
    seconds = time.perf_counter() - start
    assert report.ok and report.proved
    assert seconds < 1.0, f"verify(v7) took {seconds:.2f} s"
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
    assert rows(report, "forward")["complex step"].ok


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
    assert rows(tie, "reverse")["central differences"].ok


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
    random_row = rows(report, "forward")["random"]
    assert random_row.ok and random_row.method == "sympy.diff at 5 random points"
    assert report.derivatives[0].sympy == pytest.approx(math.tanh(1.0), rel=1e-15)


# ---- wrong gradients are caught ----

def test_a_wrong_seed_style_user_op_is_caught():
    x = ad.Var(1.0, name="x")
    wrong = ad.Var(op=np.sin, children=[x], pds=[np.sin])        # d/dx sin x is not sin x
    report = ad.verify(wrong)
    assert not report.ok and not report.proved
    assert rows(report, "reverse")["central differences"].ok is False
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
    assert checks["central differences"].ok
    assert checks["sympy.diff"].ok is None and "no sympy form" in checks["sympy.diff"].detail
    assert report.derivatives[0].sympy is None
    report.raise_if_failed()


def test_a_wrong_rule_with_a_sympy_form_fails_every_check():
    wrong_sin = Primitive(name="sin", numpy=np.sin, sympy=sp.sin,
                          pds=(lambda m, x, out: m.sin(x),))
    x = ad.Var(1.0, name="x")
    report = ad.verify(ad.graph.apply_primitive(wrong_sin, x) * 2)
    assert not report.ok and not report.proved
    checks = rows(report, "forward")
    assert checks["sympy.diff"].ok is False and checks["random"].ok is False
    assert checks["sympy.diff, proof for all inputs"].result == "not proved"


def test_a_rule_wrong_only_away_from_the_point_is_caught_by_the_proof_and_random_points():
    # right at x = 1 (where (x - 1)^2 vanishes), wrong everywhere else
    sneaky = Primitive(name="sin", numpy=np.sin, sympy=sp.sin,
                       pds=(lambda m, x, out: m.cos(x) + (x - 1) ** 2,))
    x = ad.Var(1.0, name="x")
    report = ad.verify(ad.graph.apply_primitive(sneaky, x))
    checks = rows(report, "reverse")
    assert checks["sympy.diff"].ok and checks["central differences"].ok   # fine at the point
    assert checks["random"].ok is False                               # not nearby
    assert not report.ok and not report.proved
    with pytest.raises(ad.GradientMismatchError, match="with respect to x"):
        report.raise_if_failed()


def test_a_constant_rule_off_by_a_number_is_disproved():
    wrong_negative = Primitive(name="negative", numpy=np.negative, sympy=lambda a: -a,
                               pds=(lambda m, a, out: 1,))
    report = ad.verify(ad.graph.apply_primitive(wrong_negative, ad.Var(2.0, name="a")))
    proof = rows(report, "forward")["sympy.diff, proof for all inputs"]
    assert proof.result == "FAILED" and "simplifies to 2" in proof.detail


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
    assert checks["random"].ok and "30 digits" in checks["random"].detail
    proof = checks["sympy.diff, proof for all inputs"]
    assert proof.result == "not proved" and "sympy left the difference" in proof.detail
    assert "not proved" in str(report).splitlines()[0]


def test_with_no_time_the_proof_is_not_claimed():
    x, w, v7 = seed_graph()
    report = ad.verify(v7, time_limit=0.0)
    assert report.ok and not report.proved
    proof = rows(report, "forward")["sympy.diff, proof for all inputs"]
    assert proof.result == "not proved" and "time limit of 0 s" in proof.detail
    assert rows(report, "forward")["complex step"].ok      # the numeric checks still ran


def test_a_1000_node_graph_finishes_within_its_time_limit_with_numeric_checks_done():
    graph, point = chained_graph(ad, 1000, seed=1)
    assert len(graph) >= 1000
    start = time.perf_counter()
    report = ad.verify(graph, *point, time_limit=5.0)
    seconds = time.perf_counter() - start
    assert seconds < 30.0
    assert report.ok and not report.proved
    checks = rows(report, "reverse")
    assert checks["central differences"].ok and checks["central differences"].max_abs_error < 1e-6
    assert checks["sympy.diff"].ok                    # sympy's value, through the shared graph
    assert "time limit of 5 s" in checks["sympy.diff, proof for all inputs"].detail


# ---- the report ----

def test_report_str_is_a_readable_table():
    text = str(ad.verify(lambda x, w: ad.exp(x * w) / w, 1.0, 4.0))
    lines = text.splitlines()
    assert lines[0] == "verify f(x, w) at x = 1, w = 4: ok, proved"
    assert lines[2].split() == ["derivative", "forward", "reverse", "sympy.diff", "complex",
                                "step"]
    assert lines[3].split()[:3] == ["df/dx", f"{math.exp(4):.12g}", f"{math.exp(4):.12g}"]
    assert sum(line.startswith(("forward ", "reverse ")) for line in lines) == 8
    assert "assumptions: x real, w real" in lines


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ad.DualadError, match=r"2 input\(s\) \(x, y\) but 1 value"):
        ad.verify(ad.parse("x * y"), 1.0)
    with pytest.raises(ad.DualadError, match="value of x must be a finite real"):
        ad.verify(lambda x: x * x, math.nan)
    with pytest.raises(ad.DualadError, match="use verify\\(dualad.parse\\(text\\)"):
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
