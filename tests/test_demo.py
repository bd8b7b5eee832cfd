"""`dualad demo`: every printed step against gradient descent done independently with sympy."""

import re
import subprocess
import sys

import pytest
import sympy as sp

from dualad.cli import main

LINE = re.compile(r"step\s+(\d+)\s+w = (\S+)\s+v7 = (\S+)\s+dv7/dw = (\S+)")
FINAL = re.compile(r"final\s+w = (\S+)\s+v7 = (\S+)")


def sympy_reference(steps=30, lr=sp.Rational(1, 10)):
    """The seed's v7 and dv7/dw from sympy's own calculus, at 40 digits."""
    x, w = sp.symbols("x w", real=True)
    v1 = x * w
    v2 = sp.sin(v1)
    v7 = sp.exp(v1 + v2) + v2**2 * w
    dv7 = sp.diff(v7, w)
    at_w = sp.Float(4, 40)
    rows = []
    for step in range(steps):
        point = {x: 1, w: at_w}
        value, slope = v7.evalf(40, subs=point), dv7.evalf(40, subs=point)
        rows.append((step, at_w, value, slope))
        at_w = at_w - lr * slope
    final = (at_w, v7.evalf(40, subs={x: 1, w: at_w}))
    return rows, final


def check_output(text):
    rows, (final_w, final_v7) = sympy_reference()
    printed = LINE.findall(text)
    assert len(printed) == 30
    for (step, w, v7, dv7), (ref_step, ref_w, ref_v7, ref_dv7) in zip(printed, rows):
        assert int(step) == ref_step
        assert float(w) == pytest.approx(float(ref_w), rel=1e-10, abs=1e-11)
        assert float(v7) == pytest.approx(float(ref_v7), rel=1e-10, abs=1e-11)
        assert float(dv7) == pytest.approx(float(ref_dv7), rel=1e-8, abs=1e-10)
    (w, v7), = FINAL.findall(text)
    assert float(w) == pytest.approx(float(final_w), rel=1e-10)
    assert float(v7) == pytest.approx(float(final_v7), rel=1e-10)


def test_demo_prints_every_step_as_sympy_computes_it(capsys):
    assert main(["demo"]) == 0
    check_output(capsys.readouterr().out)


def test_demo_says_first_what_it_computes(capsys):
    assert main(["demo"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    # the function it names is the one whose steps are printed
    formula = first.split("v7 = ", 1)[1].split(" at x = ")[0]
    x, w = sp.symbols("x w", real=True)
    named = sp.parse_expr(formula, local_dict={"x": x, "w": w, "square": lambda u: u**2})
    v1 = x * w
    assert sp.simplify(named - (sp.exp(v1 + sp.sin(v1)) + sp.sin(v1)**2 * w)) == 0
    assert " at x = 1, from w = 4: 30 steps of gradient descent on w (learning rate 0.1)" in first
    assert first.endswith("each line w, v7 and dv7/dw")


def test_python_dash_m_dualad_demo_runs_the_same_demo():
    result = subprocess.run([sys.executable, "-m", "dualad", "demo"], capture_output=True,
                            text=True, check=True)
    check_output(result.stdout)


def test_the_dualad_console_script_runs_the_demo():
    from pathlib import Path
    script = Path(sys.executable).parent / "dualad"
    if not script.exists():
        pytest.skip("the dualad console script is not installed next to this Python")
    result = subprocess.run([str(script), "demo"], capture_output=True, text=True, check=True)
    check_output(result.stdout)
