"""The step-size study (ad.fd_study, dualad fd) against hand-derived errors: mpmath's exact
values of each estimate where truncation dominates, the textbook slopes, and where the V's
bottom lies."""

import json
import math
import sys

import mpmath
import numpy as np
import pytest

import dualad as ad
from dualad.cli import main

EPS = np.finfo(float).eps


def exact_errors(h):
    """For f = exp at 0 (f' = 1), in 50-digit arithmetic: the forward-difference error
    (e^h - 1)/h - 1, the central one sinh(h)/h - 1, the complex step's sin(h)/h - 1."""
    with mpmath.workdps(50):
        h = mpmath.mpf(h)
        return (float(abs(mpmath.expm1(h) / h - 1)), float(abs(mpmath.sinh(h) / h - 1)),
                float(abs(mpmath.sin(h) / h - 1)))


def test_errors_where_truncation_dominates_match_exact_arithmetic():
    steps = [1e-1, 1e-2, 1e-3]
    study = ad.fd_study(ad.exp, 0.0, h=steps)
    assert study.exact == 1.0 and study.value == 1.0
    for k, h in enumerate(steps):
        forward, central, complex_step = exact_errors(h)
        assert study.forward_error[k] == pytest.approx(forward, rel=1e-6)
        assert study.central_error[k] == pytest.approx(central, rel=1e-4)
        assert study.complex_step_error[k] == pytest.approx(complex_step, rel=1e-6)


def test_the_v_curve_has_the_textbook_slopes_and_bottom():
    study = ad.fd_study(ad.sin, 1.0)
    assert study.h.tolist() == [10.0 ** -k for k in range(1, 17)]
    forward, central, complex_step = (study.forward_error, study.central_error,
                                      study.complex_step_error)
    # truncation: slope 1 (forward) and 2 (central, complex step) in log-log
    assert forward[0] / forward[1] == pytest.approx(10, rel=0.1)
    assert central[0] / central[1] == pytest.approx(100, rel=0.1)
    assert complex_step[1] / complex_step[2] == pytest.approx(100, rel=0.01)
    # round-off: forward and central errors rise again as h shrinks; the complex step's do not
    assert forward[-1] > 100 * forward[7] and central[-1] > 100 * central[4]
    assert np.all(complex_step[7:] <= 4 * EPS)
    assert 1e-10 <= study.best_h["forward"] <= 1e-6
    assert 1e-7 <= study.best_h["central"] <= 1e-3
    assert study.best_h["complex_step"] <= 1e-7
    # predicted from c2 = -sin(1)/2, c3 = -cos(1)/6 and f = sin(1)
    assert study.predicted_best_h["forward"] == pytest.approx(math.sqrt(2 * EPS))
    assert study.predicted_best_h["central"] == pytest.approx(
        (EPS * math.sin(1) / (2 * math.cos(1) / 6)) ** (1 / 3))
    assert study.taylor_coefficients.tolist() == pytest.approx(
        [math.sin(1), math.cos(1), math.sin(1) / 2, math.cos(1) / 6])


def test_several_inputs_move_along_the_unit_vector_of_ones_by_default():
    f = lambda x, y: x * ad.exp(y) + y * y                      # noqa: E731
    gx, gy = ad.grad(f, argnums=(0, 1))(0.5, -1.0)
    study = ad.fd_study(f, 0.5, -1.0)
    assert study.exact == pytest.approx((gx + gy) / math.sqrt(2), rel=1e-14)
    assert study.labels["direction"] == "v = (x: 0.707, y: 0.707)"
    assert ad.fd_study(f, 0.5, -1.0, direction="y").exact == pytest.approx(gy, rel=1e-14)
    assert ad.fd_study(f, 0.5, -1.0, direction=(2.0, 0.0)).exact == pytest.approx(2 * gx)
    v = np.array([1.0, 2.0, 2.0]) / 3
    study = ad.fd_study(lambda x: ad.sum(x ** 3), np.ones(3), direction=v)
    assert study.exact == pytest.approx(3 * v.sum())
    assert ad.fd_study(lambda x: ad.sum(x ** 3), np.ones(4)).exact == pytest.approx(6.0)


def test_vector_outputs_take_the_largest_error():
    study = ad.fd_study(lambda x: ad.stack([ad.sin(x), 10 * ad.sin(x)]), 1.0, h=[1e-1])
    assert study.forward_error[0] == pytest.approx(10 * ad.fd_study(ad.sin, 1.0,
                                                                    h=[1e-1]).forward_error[0])
    assert study.exact.tolist() == pytest.approx([math.cos(1), 10 * math.cos(1)])


def test_the_complex_step_is_nan_with_a_note_where_an_op_is_not_analytic():
    study = ad.fd_study(lambda x: ad.abs(x) * ad.sin(x), 1.0)
    assert np.all(np.isnan(study.complex_step_error))
    assert study.best_h["complex_step"] is None
    assert any("abs is not complex-analytic" in note for note in study.notes)
    assert np.all(np.isfinite(study.central_error))
    assert "complex step: abs is not complex-analytic" in str(study)


def test_branches_decide_on_the_real_part_and_flips_are_noted():
    def f(x):
        return x * x if x > 0 else -x
    study = ad.fd_study(f, 0.05, h=[1e-1, 1e-3])
    # at h = 0.1 the real steps cross 0 (x - h < 0): no forward or central estimate there
    assert np.isnan(study.forward_error[0]) and np.isnan(study.central_error[0])
    assert any("the branch on x > 0" in note for note in study.notes)
    # the complex step keeps the real part: it stays on the branch, exact for x^2
    assert study.complex_step_error.tolist() == pytest.approx([0.0, 0.0], abs=1e-15)
    assert study.forward_error[1] == pytest.approx(1e-3, rel=1e-6)      # (2xh + h^2)/h - 2x


def test_an_infinite_derivative_is_a_note_not_a_number():
    with np.errstate(all="ignore"):
        study = ad.fd_study(ad.sqrt, 0.0, h=[1e-2])
    assert np.isnan(study.forward_error[0])
    assert any("dualad's derivative is inf" in note for note in study.notes)


def test_text_and_json():
    study = ad.fd_study(ad.sin, 1.0)
    lines = str(study).splitlines()
    assert lines[0] == ("Step sizes for sin at x = 1 along v = 1: dualad's derivative (forward "
                        "mode) is 0.540302305868")
    assert lines[1].split() == ["h", "forward", "error", "central", "error", "complex", "step",
                                "error"]
    assert lines[2].split()[:3] == ["1e-01", "4.3e-02", "9.0e-04"]
    assert lines[18].split()[:2] == ["best", "h"]
    assert lines[19].startswith("predicted best h")
    data = json.loads(json.dumps(study.to_dict()))
    assert data["h"][0] == 0.1 and len(data["forward_error"]) == 16
    assert data["best_h"]["forward"] == study.best_h["forward"]
    nan_study = ad.fd_study(ad.abs, 1.0, h=[1e-3])
    assert json.loads(json.dumps(nan_study.to_dict()))["complex_step_error"] == [None]


def test_plot_draws_the_v_curves_with_zero_errors_at_the_bottom(tmp_path):
    study = ad.fd_study(ad.sin, 1.0)
    assert np.any(study.complex_step_error == 0)           # cannot sit on log axes as is
    path = tmp_path / "v.png"
    figure = study.plot(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = figure.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert {"forward", "central", "complex step"} <= set(labels)
    assert "complex step: error 0 (drawn at the bottom)" in labels
    assert any("slope 1" in label for label in labels)
    assert any("slope 2" in label for label in labels)
    bottom = ax.get_ylim()[0]
    assert bottom > 0 and all(np.all(np.asarray(line.get_ydata()) > 0)
                              for line in ax.get_lines())
    (tmp_path / "v.svg").write_text("")
    study.plot(tmp_path / "v.svg")
    assert "<svg" in (tmp_path / "v.svg").read_text()


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
                 "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ad.MissingDependencyError, match=r'FDStudy.plot needs matplotlib.*'
                                                          r'pip install "dualad\[plot\]"'):
        ad.fd_study(ad.sin, 1.0).plot()


@pytest.mark.parametrize("call, message", [
    (lambda: ad.fd_study(ad.sin, 1.0, h=[]), "h must be positive finite step sizes"),
    (lambda: ad.fd_study(ad.sin, 1.0, h=[1e-3, 0.0]), "h must be positive finite"),
    (lambda: ad.fd_study(ad.sin, 1.0, h=["a"]), "h must be a sequence of positive"),
    (lambda: ad.fd_study(ad.sin, 1.0, h=[float("nan")]), "h must be positive finite"),
    (lambda: ad.fd_study(ad.sin, 1j), "the value of x must be real numbers"),
    (lambda: ad.fd_study(lambda x, y: x, 1.0, 2.0, direction="z"), "no input named 'z'"),
    (lambda: ad.fd_study(ad.sin, np.ones(2), direction=np.ones(3)), "has shape"),
    (lambda: ad.fd_study("sin(x)", 1.0), "use ad.parse"),
])
def test_bad_input_is_refused_clearly(call, message):
    with pytest.raises(ad.DualadError, match=message):
        call()


# ---- dualad fd ----

def test_cli_prints_the_table(capsys):
    assert main(["fd", "sin(x)", "--at", "x=1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Step sizes for f at x = 1 along v = 1")
    assert out[2].split()[:3] == ["1e-01", "4.3e-02", "9.0e-04"]


def test_cli_json_direction_and_plot(capsys, tmp_path):
    path = tmp_path / "v.png"
    assert main(["fd", "exp(x) * y", "--at", "x=0,y=2", "--direction", "y", "--json",
                 "--plot", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["exact"] == 1.0 and data["direction"] == "v = (x: 0, y: 1)"
    assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("argv, message", [
    (["fd", "sin(x", "--at", "x=1"], "dualad fd: error: parse:"),
    (["fd", "sin(x)", "--at", "y=1"], "dualad fd: error: --at:"),
    (["fd", "sin(x)", "--at", "x=1", "--direction", "z"],
     "dualad fd: error: --direction: z is not a name"),
    (["fd", "2 * 3"], "dualad fd: error: the expression uses no names"),
])
def test_cli_bad_input_is_one_line_and_status_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and len(err.strip().splitlines()) == 1


def test_cli_plot_without_matplotlib_exits_1(monkeypatch, capsys, tmp_path):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    assert main(["fd", "sin(x)", "--at", "x=1", "--plot", str(tmp_path / "v.png")]) == 1
    err = capsys.readouterr().err
    assert 'pip install "dualad[plot]"' in err and "Traceback" not in err
