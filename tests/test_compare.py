"""compare(): both modes' Jacobians against hand-derived ones and sympy's, and the verdicts."""

import json
import math

import numpy as np
import pytest

import dualad as ad
from dualad.compare import ModeComparison
from dualad.evaluators.cost import ModeCost

from strategies import speelpenning


def test_speelpenning_reverse_needs_one_pass_and_fewer_ops():
    point = [float(i) for i in range(1, 11)]
    report = ad.compare(speelpenning, *point)
    assert (report.n, report.m) == (10, 1)
    assert report.reverse.passes == 1 and report.forward.passes == 10
    assert report.reverse.ops < report.forward.ops
    assert report.cheaper == "reverse"
    assert "reverse mode needs one sweep per output (1) where forward mode needs one per " \
           "input (10)" in report.why
    # d/dx_i prod_j x_j = prod_{j != i} x_j = 10!/i
    expected = [[math.factorial(10) / i for i in range(1, 11)]]
    for jacobian in (report.forward.jacobian, report.reverse.jacobian, report.reference):
        np.testing.assert_allclose(jacobian, expected, rtol=1e-15)
    assert report.forward.max_error == 0 and report.reverse.max_error == 0


def fan_out(t):
    """R^1 -> R^20: twenty outputs sharing w = exp(tanh(t))."""
    w = ad.exp(ad.tanh(t))
    return tuple(ad.sin(k * w) for k in range(1, 21))


def test_one_input_twenty_outputs_forward_is_cheaper():
    report = ad.compare(fan_out, 0.3)
    assert (report.n, report.m) == (1, 20)
    assert report.forward.passes == 1 and report.reverse.passes == 20
    assert report.forward.ops < report.reverse.ops
    assert report.cheaper == "forward"
    assert report.why.startswith("forward mode is cheaper here")
    # dy_k/dt = cos(k w) k w (1 - tanh(t)^2)
    t = 0.3
    w = math.exp(math.tanh(t))
    expected = [[math.cos(k * w) * k * w * (1 - math.tanh(t) ** 2)] for k in range(1, 21)]
    np.testing.assert_allclose(report.forward.jacobian, expected, rtol=1e-13)
    np.testing.assert_allclose(report.reverse.jacobian, expected, rtol=1e-13)
    np.testing.assert_allclose(report.reference, expected, rtol=1e-13)
    assert report.output_labels == [f"y{''.join('₀₁₂₃₄₅₆₇₈₉'[int(d)] for d in str(k))}"
                                    for k in range(1, 21)]


def test_array_arguments_give_the_full_flattened_jacobian():
    W = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
    x = np.array([1.0, 2.0, -1.0])
    report = ad.compare(lambda x, W: ad.tanh(W @ x), x, W)
    assert (report.n, report.m) == (3 + 6, 2)
    assert report.input_labels == ["x[0]", "x[1]", "x[2]", "W[0, 0]", "W[0, 1]", "W[0, 2]",
                                   "W[1, 0]", "W[1, 1]", "W[1, 2]"]
    # y_i = tanh(sum_j W_ij x_j): dy_i/dx_j = s_i W_ij, dy_i/dW_kj = [i == k] s_i x_j
    s = 1 - np.tanh(W @ x) ** 2
    expected = np.zeros((2, 9))
    expected[:, :3] = s[:, None] * W
    for i in range(2):
        expected[i, 3 + 3 * i: 6 + 3 * i] = s[i] * x
    for jacobian in (report.forward.jacobian, report.reverse.jacobian, report.reference):
        np.testing.assert_allclose(jacobian, expected, rtol=1e-14, atol=1e-16)
    assert report.forward.max_error < 1e-15 and report.reverse.max_error < 1e-15


def test_a_separable_function_ties_and_the_sentence_says_why():
    # sin(x), 2x: each reverse sweep visits only its own output's branch.
    # forward: values 2; partials and products: sin's cos 1 + 1, 2x's product by 2: 1 -> 5
    # reverse: values 2; sweeps: cos times the adjoint 2, and 2 times the adjoint 1 -> 5
    report = ad.compare(lambda x: (ad.sin(x), x * 2.0), 0.7)
    assert report.forward.ops == report.reverse.ops == 5
    assert report.cheaper is None
    assert report.why.startswith("both modes perform 5 operations here")


def fake(mode, passes, ops, primal_ops):
    return ModeCost(mode=mode, passes=passes, ops=ops, primal_ops=primal_ops, peak_memory=0,
                    seconds=0.0, jacobian=np.zeros((1, 1)))


@pytest.mark.parametrize("forward,reverse,start", [
    (fake("forward", 3, 30, 9), fake("reverse", 3, 24, 3),
     "reverse mode is cheaper here (24 operations against 30): with n = m = 3 both modes "
     "need 3 sweeps, but reverse mode evaluates f once"),
    (fake("forward", 3, 20, 9), fake("reverse", 3, 24, 3),
     "forward mode is cheaper here (20 operations against 24) although it needs 3 sweeps "
     "to 3: a forward sweep costs about 7 operations here and a reverse sweep about 7 "
     "(after one evaluation of f)."),
    (fake("forward", 2, 30, 9), fake("reverse", 1, 24, 3),
     "reverse mode is cheaper here (24 operations against 30): f has n = 2 inputs and "
     "m = 1 output"),
])
def test_the_verdict_sentence_in_each_case(forward, reverse, start):
    report = ModeComparison(graph=None, point=[], forward=forward, reverse=reverse,
                            input_labels=["a"] * forward.passes,
                            output_labels=["y"] * reverse.passes)
    assert report.why.startswith(start)


def test_the_report_prints_as_a_table_and_as_html():
    report = ad.compare(lambda x1, x2: ad.log(x1) + x1 * x2 - ad.sin(x2), 2.0, 5.0,
                        repeats=3)
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == "f: R^2 -> R^1 at x1 = 2, x2 = 5"
    assert lines[1].split() == ["forward", "reverse"]
    assert lines[2].split()[-2:] == ["2", "1"]
    assert "seconds (median of 3)" in text and "max |error| vs sympy" in text
    assert report.why in text
    # each entry as forward mode, reverse mode and sympy computed it, side by side
    assert lines[-4].split() == ["forward", "reverse", "sympy"]
    assert lines[-3].split() == ["dy/dx1", "5.5", "5.5", "5.5"]
    exact = f"{2 - math.cos(5):.12g}"
    assert lines[-2].split() == ["dy/dx2", exact, exact, exact]
    assert lines[-1] == "forward and reverse mode agree exactly, and with sympy."
    html = report._repr_html_()
    assert html.count("<table>") == 2 and "<th>reverse</th>" in html
    assert "<th>sympy</th>" in html and "<td>dy/dx2</td>" in html
    assert "R^2 -&gt; R^1" in html


def test_a_large_jacobian_is_summed_up_in_a_sentence():
    def curve(t):
        w = ad.exp(ad.tanh(t))
        return tuple(ad.sin(k * w) for k in range(1, 31))
    report = ad.compare(curve, 0.3, repeats=1)
    last = str(report).splitlines()[-1]
    assert last.startswith("Jacobian: 30 x 1 (rows: outputs, columns: inputs); forward and "
                           "reverse mode agree ")
    # the largest difference it names is the real one, between the modes and against sympy
    assert report.difference == np.max(np.abs(report.forward.jacobian - report.reverse.jacobian))
    assert report.difference < 1e-12 and "and sympy agree" in last
    assert "<table>" in report._repr_html_() and "Jacobian: 30 x 1" in report._repr_html_()


def test_modes_that_disagree_are_said_to_differ():
    forward, reverse = fake("forward", 2, 1, 0), fake("reverse", 1, 1, 0)
    forward.jacobian, reverse.jacobian = np.array([[1.0, 2.0]]), np.array([[1.0, 2.5]])
    forward.max_error, reverse.max_error = 0.0, 0.5
    report = ModeComparison(graph=None, point=[], forward=forward, reverse=reverse,
                            reference=np.array([[1.0, 2.0]]), input_labels=["a", "b"],
                            output_labels=["y"])
    assert report.agreement() == ("forward and reverse mode DIFFER, by up to 0.5; they and "
                                  "sympy DIFFER, by up to 0.5.")
    assert report.jacobian_rows()[2] == ["dy/db", "2", "2.5", "2"]


def test_json_report_round_trips():
    report = ad.compare(lambda x: ad.exp(x) * x, 0.0)
    data = json.loads(report.to_json())
    assert data["forward"]["jacobian"] == [[1.0]] and data["reference"] == [[1.0]]
    assert data["inputs"] == {"x": 0.0} and data["n"] == data["m"] == 1
    assert data["cheaper"] == report.cheaper and data["why"] == report.why
    assert data["difference"] == 0.0 and data["agreement"] == report.agreement()


def test_without_a_reference_there_are_no_errors():
    report = ad.compare(lambda x: ad.sin(x), 1.0, reference=False, repeats=1)
    assert report.reference is None and report.forward.max_error is None
    assert "vs sympy" not in str(report)


def test_a_parsed_graph_is_compared_at_given_values():
    report = ad.compare(ad.parse("x * w + sin(w)"), 4.0, 1.0)     # inputs: w, x
    np.testing.assert_allclose(report.reverse.jacobian, [[1.0 + math.cos(4.0), 4.0]])
    with pytest.raises(ad.DualadError, match=r"compare: give a value for each input \(w, x\)"):
        ad.compare(ad.parse("x * w"))
    with pytest.raises(ad.DualadError, match="has 2 input"):
        ad.compare(ad.parse("x * w"), 1.0)
    with pytest.raises(ad.DualadError, match="expected a function, a Graph or a Var"):
        ad.compare("x * w", 1.0, 2.0)


def test_kinks_follow_sympy_and_both_agree():
    report = ad.compare(lambda a, b: ad.abs(a) + ad.maximum(a, b), 0.0, 0.0)
    np.testing.assert_array_equal(report.reference, [[0.5, 0.5]])   # sign(0) + H(0)
    assert report.forward.max_error == 0 and report.reverse.max_error == 0


def test_at_a_pole_of_the_derivative_the_report_still_comes_back():
    # d/dx sqrt(x) = 1/(2 sqrt x) is infinite at 0; sympy's value there is undefined (zoo)
    with pytest.warns(RuntimeWarning, match="divide by zero"):     # numpy's, as on arrays
        report = ad.compare(ad.sqrt, 0.0, repeats=1)
    assert report.forward.jacobian[0, 0] == report.reverse.jacobian[0, 0] == math.inf
    assert math.isnan(report.reference[0, 0]) and math.isnan(report.reverse.max_error)
