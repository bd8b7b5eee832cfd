"""Domain edges in every path: numpy's inf and nan (a RuntimeWarning at most), never a raise.

Each case is a function at a point where it or its derivative is undefined or infinite. The
reference is the textbook value, first and second derivative written out by hand and evaluated
in numpy float64 arithmetic (so 1/0 is inf and 0/0 is nan, as numpy gives them). Values and
first derivatives must be exactly those (nan where nan). Where a sweep reaches 1/0 along
another route it must equal the reference where that is finite and be inf or nan where it is
not: a second derivative (2/x**3 by hand is inf at 0, while forward-over-reverse meets
0 * inf), and forward mode on arrays (the direction e_0 has a 0 for x_1, and inf * 0 is nan,
so d/dx_0 sum(log x) at x = 0 is nan in forward mode and inf in reverse mode).

Every transform is checked on floats and on arrays, in both modes, and ``ad.compile`` both
compiled at an ordinary point and at the edge itself; the command line shows the same numbers.
"""

import contextlib
import io
import json
import warnings

import numpy as np
import pytest

import dualad as ad
from dualad.cli import main

INF, NAN = np.inf, np.nan


def edges():
    """(label, f, its text for the CLI, point, (f, f', f'') by hand in float64)."""
    def by_hand(x, value, first, second):
        with np.errstate(all="ignore"):
            x = np.float64(x)
            return tuple(float(g(x)) for g in (value, first, second))

    return [
        ("x / 0", lambda x: x / 0, "x/0", 1.0,
         by_hand(1.0, lambda x: x / 0.0, lambda x: 1 / np.float64(0.0), lambda x: 0.0 * x)),
        ("0 / x at 0", lambda x: 0 / x, "0/x", 0.0,
         by_hand(0.0, lambda x: 0.0 / x, lambda x: -0.0 / x**2, lambda x: 2 * 0.0 / x**3)),
        ("1 / x at 0", lambda x: 1 / x, "1/x", 0.0,
         by_hand(0.0, lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3)),
        ("log at 0", ad.log, "log(x)", 0.0,
         by_hand(0.0, np.log, lambda x: 1 / x, lambda x: -1 / x**2)),
        ("log at -1", ad.log, "log(x)", -1.0,
         by_hand(-1.0, np.log, lambda x: 1 / x, lambda x: -1 / x**2)),
        ("sqrt at -1", ad.sqrt, "sqrt(x)", -1.0,
         by_hand(-1.0, np.sqrt, lambda x: 1 / (2 * np.sqrt(x)), lambda x: -x**-1.5 / 4)),
        ("x ** -1 at 0", lambda x: x ** -1, "x**-1", 0.0,
         by_hand(0.0, lambda x: x**-1.0, lambda x: -(x**-2.0), lambda x: 2 * x**-3.0)),
    ]


EDGES = edges()
IDS = [case[0] for case in EDGES]

def marked(marks):
    """EDGES as pytest parameters, the cases named in ``marks`` (label -> mark) marked."""
    return [pytest.param(*case, id=case[0], marks=marks.get(case[0], ())) for case in EDGES]


@contextlib.contextmanager
def numpy_warnings_at_most():
    """Run the block; every warning it gives must be a RuntimeWarning (numpy's)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    assert all(issubclass(w.category, RuntimeWarning) for w in caught), \
        [str(w.message) for w in caught]


def same(got, expected):
    """Exactly the IEEE number: nan where nan, inf of the right sign where inf."""
    np.testing.assert_equal(np.asarray(got, dtype=float), np.asarray(expected, dtype=float))


def same_or_undefined(got, expected):
    """The reference where it is finite; inf or nan where it is not (elementwise)."""
    got, expected = np.broadcast_arrays(np.asarray(got, dtype=float), expected)
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12)
    assert not np.any(np.isfinite(got[~finite])), (got, expected)


def off_diagonal_ok(matrix):
    """Off the diagonal the derivative is 0; where inf meets that 0, numpy's nan is fine."""
    off = np.asarray(matrix)[~np.eye(len(matrix), dtype=bool)]
    assert np.all((off == 0) | np.isnan(off)), off


# ---- the transforms on floats ----

@pytest.mark.parametrize("label, f, text, x, expected", EDGES, ids=IDS)
def test_floats_value_grad_jvp_and_jacobians_in_both_modes(label, f, text, x, expected):
    value, first, _ = expected
    with numpy_warnings_at_most():
        same(ad.trace(f, x)(x), value)
        same(ad.grad(f)(x), first)
        same(ad.grad(f, mode="forward")(x), first)
        same(ad.value_and_grad(f)(x), (value, first))
        same(ad.jvp(f, (x,), (1.0,)), (value, first))
        out, vjp_fn = ad.vjp(f, x)
        same((out, vjp_fn(1.0)[0]), (value, first))
        same(ad.jacobian(f, mode="forward")(x), first)
        same(ad.jacobian(f, mode="reverse")(x), first)


@pytest.mark.parametrize("label, f, text, x, expected",
                         EDGES, ids=IDS)
def test_floats_hessian(label, f, text, x, expected):
    with numpy_warnings_at_most():
        same_or_undefined(ad.hessian(f)(x), expected[2])


# ---- the transforms on arrays ----

@pytest.mark.parametrize("label, f, text, x, expected",
                         EDGES, ids=IDS)
def test_arrays_grad_jacobians_and_hessian(label, f, text, x, expected):
    value, first, second = expected
    xs = np.array([x, x])
    total = lambda v: ad.sum(f(v))  # noqa: E731
    with numpy_warnings_at_most():
        same(ad.grad(total)(xs), [first, first])
        same_or_undefined(ad.grad(total, mode="forward")(xs), first)
        same(ad.jvp(f, (xs,), (np.ones(2),)), ([value, value], [first, first]))
        for mode in ("forward", "reverse"):
            jacobian = ad.jacobian(f, mode=mode)(xs)
            same(np.diag(jacobian), [first, first])
            off_diagonal_ok(jacobian)
        hessian = ad.hessian(total)(xs)
    same_or_undefined(np.diag(hessian), second)
    off_diagonal_ok(hessian)


# ---- ad.compile: compiled at an ordinary point, and at the edge itself ----

@pytest.mark.parametrize("label, f, text, x, expected", EDGES, ids=IDS)
@pytest.mark.parametrize("example", ["ordinary point", "the edge"])
def test_compiled_floats(label, f, text, x, expected, example):
    value, first, _ = expected
    with numpy_warnings_at_most():
        compiled = ad.compile(f, 2.0 if example == "ordinary point" else x)
        assert compiled.scalar
        same(compiled(x), value)
        same(compiled.value_and_grad(x), (value, first))
        same(compiled.jvp((x,), (1.0,)), (value, first))
        got = compiled.value_and_grad(x)
    assert all(type(g) is float for g in got)


@pytest.mark.parametrize("label, f, text, x, expected", EDGES, ids=IDS)
def test_compiled_arrays(label, f, text, x, expected):
    value, first, _ = expected
    xs = np.array([x, x])
    with numpy_warnings_at_most():
        total = ad.compile(lambda v: ad.sum(f(v)), xs)
        same(total(xs), np.sum([value, value]))
        got_value, grad = total.value_and_grad(xs)
        same((got_value, *grad), (np.sum([value, value]), first, first))
        same(total.jvp((xs,), (np.ones(2),)), (np.sum([value, value]), np.sum([first, first])))
        elementwise = ad.compile(f, xs)
        same(elementwise(xs), [value, value])
        out, tangent = elementwise.jvp((xs,), (np.ones(2),))
        same((out, tangent), ([value, value], [first, first]))


# ---- the command line ----

def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def shown(number):
    """A number as the CLI's tables print it (the edge values here are all whole or not
    finite)."""
    return {INF: "inf", -INF: "-inf"}.get(number, "nan" if np.isnan(number) else f"{number:g}")


def run_at_edge(command, text, x, *options):
    """The command's output at the edge: status 0 and one warning line on stderr."""
    status, out, err = run_cli(command, text, "--at", f"x={x:g}", *options)
    assert "internal error" not in err, err
    assert status == 0
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"dualad {command}: warning: ")
    assert f"at x = {x:g}, outside its domain; the results there are numpy's inf/nan" in lines[0]
    return out


@pytest.mark.parametrize("label, f, text, x, expected", EDGES, ids=IDS)
def test_cli_trace_shows_the_value_and_both_derivatives(label, f, text, x, expected):
    value, first, _ = expected
    out = run_at_edge("trace", text, x)
    rows = {line.split("=")[0].strip(): line.rsplit("=", 1)[1].strip()
            for line in out.splitlines() if "=" in line}
    assert (rows["y"], rows["ẏ"], rows["x̄"]) == (shown(value), shown(first), shown(first))
    data = json.loads(run_at_edge("trace", text, x, "--json"))   # strict JSON: inf is null
    plain = [None if not np.isfinite(v) else v for v in (value, first, first)]
    assert [data["primal"][-1]["value"], data["tangent"][-1]["value"],
            data["adjoint"][-1]["value"]] == plain


@pytest.mark.parametrize("label, f, text, x, expected", EDGES, ids=IDS)
def test_cli_compare_shows_the_jacobian(label, f, text, x, expected):
    out = run_at_edge("compare", text, x, "--repeats", "1")
    # the entry as forward mode and reverse mode computed it, then sympy's
    assert out.splitlines()[-2].split()[:3] == ["dy/dx", shown(expected[1]), shown(expected[1])]


@pytest.mark.parametrize("label, f, text, x, expected", EDGES, ids=IDS)
def test_cli_compare_never_shows_a_traceback(label, f, text, x, expected):
    status, out, err = run_cli("compare", text, "--at", f"x={x:g}", "--repeats", "1")
    assert "Traceback" not in err
    assert all(line.startswith("dualad compare: ") for line in err.splitlines()), err


@pytest.mark.parametrize("label, f, text, x, expected", EDGES, ids=IDS)
def test_cli_graph_labels_show_values_and_adjoints(label, f, text, x, expected):
    value, first, _ = expected
    out = run_at_edge("graph", text, x)
    assert f'label="v₀ = x\\nvalue = {x:g}\\nadjoint = {shown(first)}"' in out
    assert f"value = {shown(value)}" in out


@pytest.mark.parametrize("label, f, text, x, expected", EDGES, ids=IDS)
def test_cli_verify_reports_without_a_traceback(label, f, text, x, expected):
    status, out, err = run_cli("verify", text, "--at", f"x={x:g}", "--time-limit", "5")
    assert status in (0, 1) and "Traceback" not in err and "internal error" not in err, err
    assert out.startswith(f"f(x) = {text}")
