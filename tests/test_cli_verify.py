"""`dualad verify`: the report on stdout, exit status 0/1/2, one line on stderr for bad input."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from dualad.cli import main, parse_at


def run(*args):
    return subprocess.run([sys.executable, "-m", "dualad", *args], capture_output=True,
                          text=True, timeout=120)


def test_verify_an_expression_at_a_point(capsys):
    assert main(["verify", "sin(x*w) + exp(x)/w", "--at", "x=1,w=4"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "f(w, x) = sin(x*w) + exp(x)/w"
    assert "ok, proved" in out
    d_dw = math.cos(4.0) - math.e / 16           # x cos(xw) - e^x / w^2
    d_dx = 4 * math.cos(4.0) + math.e / 4        # w cos(xw) + e^x / w
    assert f"df/dw       {d_dw:.12g}" in out and f"{d_dx:.12g}" in out


def test_verify_the_registry(capsys):
    assert main(["verify", "--registry"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    ops, rules, proved = (int(last.split()[i]) for i in (0, 2, 4))
    assert ops >= 29 and rules == proved


def test_require_proof_fails_what_is_not_proved(capsys):
    assert main(["verify", "x*x", "--at", "x=2", "--time-limit", "0"]) == 0
    assert "ok, not proved" in capsys.readouterr().out
    assert main(["verify", "x*x", "--at", "x=2", "--time-limit", "0", "--require-proof"]) == 1


def test_a_point_where_nothing_can_be_confirmed_exits_with_status_1(capsys):
    # outside log's domain: every reference is undefined there and nearby, so nothing
    # confirms the modes' -1 (which is 1/x)
    with np.errstate(invalid="ignore"):
        assert main(["verify", "log(x)", "--at", "x=-1"]) == 1
    out = capsys.readouterr().out
    assert "NOT CONFIRMED" in out and "reference undefined here" in out


def test_x_squared_at_0_exits_with_status_0(capsys):
    assert main(["verify", "x**2", "--at", "x=0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "verify f(x) at x = 0: ok, proved"
    assert lines[4].split() == ["df/dx", "0", "0", "0", "0"]      # d/dx x^2 = 2x = 0


def test_an_infinite_time_limit_means_no_limit(capsys):
    assert main(["verify", "sin(x) * y", "--at", "x=0,y=2", "--time-limit", "inf"]) == 0
    out = capsys.readouterr().out
    assert "ok, proved" in out and "time limit" not in out
    assert f"df/dx       {2.0:.12g}" in out                         # y cos x at x = 0, y = 2


@pytest.mark.parametrize("args,message", [
    (["verify", "sin(x*w)", "--at", "x=1"], "no value for w"),
    (["verify", "sin(x)", "--at", "x=1,y=2"], "y is not used by the expression"),
    (["verify", "x.__class__", "--at", "x=1"], "attribute access is not allowed"),
    (["verify", "sin(x)", "--at", "x=abc"], "the value of x is not a number: 'abc'"),
    (["verify", "sin(x)", "--at", "x=nan"], "x must be a finite number"),
    (["verify", "sin(x)", "--at", "x"], "expected NAME=VALUE"),
    (["verify", "sin(x)", "--registry"], "--registry takes no expression"),
    (["verify"], "give an expression"),
    (["verify", "sin(x)", "--at"], "expected one argument"),
    (["verify", "sin(x)", "--bogus"], "unrecognized arguments: --bogus"),
    (["verify", "sin(x)", "--at", "x=1", "--time-limit", "-1"], "--time-limit must be 0 or more"),
    (["verify", "sin(x)", "--at", "x=1", "--time-limit", "nan"], "--time-limit must be 0 or more"),
    (["verify", "__import__('os').system('echo hi')", "--at", "x=1"], "not allowed"),
])
def test_bad_input_exits_2_with_one_line_on_stderr(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "hi" not in result.stdout


def test_parse_at_reads_names_and_numbers():
    assert parse_at([" a = -1.5e1 , b_2=3 "], ["a", "b_2"]) == [-15.0, 3.0]


def test_verify_json_carries_the_report_and_keeps_the_exit_status(capsys):
    assert main(["verify", "x^3 * y", "--at", "x=2,y=5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["expression"] == "x^3 * y" and data["point"] == {"x": 2.0, "y": 5.0}
    assert data["ok"] is True and data["proved"] is True and data["verdict"] == "ok, proved"
    # d/dx x^3 y = 3 x^2 y = 60, d/dy = x^3 = 8: each mode, sympy and the oracle
    for entry, exact in zip(data["derivatives"], (60.0, 8.0)):
        for method in ("forward", "reverse", "sympy", "oracle"):
            assert entry[method] == pytest.approx(exact, rel=1e-12)
        assert entry["proof"]["reverse"]["verdict"] == "proved"
    assert [c["mode"] for c in data["checks"]].count("forward") == 5
    # a derivative that fails its checks: status 1, with --json as without it
    with np.errstate(invalid="ignore"):
        assert main(["verify", "log(x)", "--at", "x=-1", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["verdict"].startswith("NOT CONFIRMED")
    entry = data["derivatives"][0]
    assert entry["reverse"] == -1.0 and entry["sympy"] is None and entry["oracle"] is None
    assert main(["verify", "x*x", "--at", "x=2", "--json", "--require-proof",
                 "--time-limit", "0"]) == 1
    assert json.loads(capsys.readouterr().out)["proved"] is False


def test_verify_json_with_registry_is_refused(capsys):
    assert main(["verify", "--registry", "--json"]) == 2
    assert "--json is for the report on an expression" in capsys.readouterr().err
