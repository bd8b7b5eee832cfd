"""The dualad command: results, JSON, and bad input (status 2, one line, no traceback)."""

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dualad.cli
from dualad.cli import INTERNAL_ERROR, ProgressBar, UsageError, console_main, main, parse_at

ROOT = Path(__file__).resolve().parents[1]
SURVEY = "log(x1) + x1*x2 - sin(x2)"


def run(*argv):
    """``python -m dualad ARGV`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "dualad", *argv], capture_output=True,
                          text=True, cwd=ROOT, encoding="utf-8")


def one_line_error(stderr, prog):
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"{prog}: error: ")
    return lines[0]


BAD_INPUT = [
    (["compare", "x*y", "--at", "x=1"], "--at: no value for y (the expression uses x, y)"),
    (["compare", "x*y", "--at", "x=1,y=2,z=3"], "--at: z is not used by the expression"),
    (["compare", "x*y", "--at", "x=1,y=two"], "--at: the value of y is not a number: 'two'"),
    (["compare", "x*y", "--at", "x=1,y=inf"], "the value of y must be a finite number"),
    (["compare", "x*y", "--at", "x=1,x=2,y=3"], "--at: x is given twice"),
    (["compare", "x*y", "--at", "x=1,y"], "--at: expected NAME=VALUE, got 'y'"),
    (["compare", "x*y"], "--at: no value for x"),
    (["compare", "x.__class__", "--at", "x=1"], "parse: attribute access is not allowed"),
    (["compare", "__import__('os').system('echo hi')", "--at", "x=1"],
     "parse: calling anything but a function name is not allowed"),
    (["compare", "sin(x", "--at", "x=1"], "parse: not a valid expression"),
    (["compare", "2*3"], "the expression uses no names"),
    (["compare"], "give an expression (EXPR), or --sweep"),
    (["compare", "x", "--at", "x=1", "--plot", "p.png"], "--plot needs --sweep"),
    (["compare", "--sweep", "--at", "x=1"], "--at is not used with --sweep"),
    (["compare", "--sweep", "--sizes", "1,two"], "--sizes: expected whole numbers"),
    (["compare", "a*b", "--sweep"], "use exactly one name"),
    (["compare", "x", "--at", "x=1", "--repeats", "0"], "--repeats must be at least 1"),
    (["compare", "e^x * y", "--at", "e=1,y=2"],
     "--at: in expressions e is the number 2.71828 (pi and e are constants), not a variable"),
    (["trace", "pi * r^2", "--at", "pi=3,r=1"], "--at: in expressions pi is the number 3.14159"),
    (["trace", SURVEY, "--at", "x1=2,x2=5", "--direction", "x3"],
     "--direction: x3 is not a name in the expression (its names: x1, x2)"),
    (["trace", SURVEY, "--at", "x1=2,x2=5", "--output", "1"], "--output: the expression has 1"),
    (["graph", "x*x", "--format", "png"], "--format png needs -o FILE"),
    (["graph", "x*x", "--at", "y=1"], "--at: y is not used by the expression"),
]


@pytest.mark.parametrize("argv,message", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_exits_2_with_one_clear_line(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert message in one_line_error(captured.err, f"dualad {argv[0]}")
    assert captured.out == ""


@pytest.mark.parametrize("argv,message", [
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["compare", "x", "--repeats", "many"], "invalid int value: 'many'"),
    (["graph", "x", "--format", "gif"], "invalid choice: 'gif'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_argument_errors_are_one_line_too(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in one_line_error(capsys.readouterr().err, "dualad" if not argv or
                                     argv[0] == "frobnicate" else f"dualad {argv[0]}")


def test_python_dash_m_reports_bad_input_without_a_traceback():
    result = run("compare", "x*y", "--at", "x=1,y=oops")
    assert result.returncode == 2 and result.stdout == ""
    assert "the value of y is not a number: 'oops'" in one_line_error(result.stderr,
                                                                       "dualad compare")
    result = run("trace", "x.__class__", "--at", "x=1")
    assert result.returncode == 2
    one_line_error(result.stderr, "dualad trace")


def test_compare_prints_the_table_for_speelpenning():
    result = run("compare", "x1*x2*x3*x4", "--at", "x1=1,x2=2,x3=3,x4=4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "f: R^4 -> R^1 at x1 = 1, x2 = 2, x3 = 3, x4 = 4"
    assert lines[2].split()[-2:] == ["4", "1"]                    # passes
    assert any(line.startswith("reverse mode is cheaper here") for line in lines)
    # d/dx_i = prod_{j != i} x_j, by each mode and by sympy
    assert [line.split() for line in lines[-5:-1]] == [
        [f"dy/dx{i}"] + [str(d)] * 3 for i, d in zip(range(1, 5), (24, 12, 8, 6))]
    assert lines[-1] == "forward and reverse mode agree exactly, and with sympy."


def test_compare_json(capsys):
    assert main(["compare", "sin(x*w) + exp(x)/w", "--at", "x=1,w=4", "--json",
                 "--repeats", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    # d/dw = x cos(xw) - e^x/w^2, d/dx = w cos(xw) + e^x/w; inputs in alphabetical order
    expected = [math.cos(4) - math.e / 16, 4 * math.cos(4) + math.e / 4]
    for mode in ("forward", "reverse"):
        (row,) = data[mode]["jacobian"]
        assert row == pytest.approx(expected, rel=1e-14)
        assert data[mode]["repeats"] == 2
    assert data["forward"]["passes"] == 2 and data["reverse"]["passes"] == 1
    assert data["reference"][0] == pytest.approx(expected, rel=1e-14)
    assert data["inputs"] == {"w": 4.0, "x": 1.0}


def test_compare_at_may_be_repeated(capsys):
    assert main(["compare", "x*y", "--at", "x=2", "--at", "y=3", "--json", "--repeats",
                 "1", "--no-reference"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reverse"]["jacobian"] == [[3.0, 2.0]] and data["reference"] is None


def test_trace_prints_the_survey_and_json_has_its_numbers(capsys):
    assert main(["trace", SURVEY, "--at", "x1=2,x2=5"]) == 0
    text = capsys.readouterr().out
    assert "v₃  = sin(v₀)  = -0.959" in text and "x̄2  = v̄₀" in text
    assert main(["trace", SURVEY, "--at", "x1=2,x2=5", "--direction", "x2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in data["tangent"]][-1] == "ẏ"
    assert data["tangent"][-1]["value"] == pytest.approx(2 - math.cos(5), rel=1e-15)
    assert [row["value"] for row in data["adjoint"]][-2:] == pytest.approx(
        [5.5, 2 - math.cos(5)], rel=1e-15)


def test_graph_writes_dot_text(tmp_path, capsys):
    assert main(["graph", "sin(x) * 2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digraph dualad {") and "v₁ = sin(v₀)" in out
    path = tmp_path / "g.dot"
    assert main(["graph", "sin(x) * 2", "--at", "x=0", "-o", str(path)]) == 0
    dot = path.read_text(encoding="utf-8")
    assert 'label="v₀ = x\\nvalue = 0\\nadjoint = 2"' in dot      # d(2 sin x)/dx at 0


def test_graph_png_without_graphviz_exits_1_saying_how_to_install_it(tmp_path, monkeypatch,
                                                                     capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["graph", "x*x", "--format", "png", "-o", str(tmp_path / "g.png")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "apt install graphviz" in err and "brew install graphviz" in err


@pytest.mark.skipif(__import__("shutil").which("dot") is None,
                    reason="the Graphviz 'dot' program is not installed")
def test_graph_renders_svg_and_png(tmp_path, capsys):
    assert main(["graph", "exp(x)", "--format", "svg"]) == 0
    assert "<svg" in capsys.readouterr().out
    path = tmp_path / "g.png"
    assert main(["graph", "exp(x)", "--at", "x=1", "--format", "png", "-o", str(path)]) == 0
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_sweep_prints_a_table_and_writes_the_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="matplotlib (the 'plot' extra) is not installed")
    path = tmp_path / "costs.png"
    assert main(["compare", "--sweep", "--sizes", "1,4", "--fixed", "2", "--repeats", "1",
                 "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "f(x) = tanh(W @ x), W: m x n; each mode computes the " \
                                  "whole Jacobian"
    assert f"plot written to {path}" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sweep_json_and_a_family_from_an_expression(capsys):
    assert main(["compare", "u*u", "--sweep", "--sizes", "1,3", "--fixed", "2",
                 "--repeats", "1", "--json"]) == 0
    points = json.loads(capsys.readouterr().out)
    assert [(p["n"], p["m"]) for p in points] == [(1, 2), (3, 2), (2, 1), (2, 3)]
    # g(u) = u*u on W @ x: per forward sweep 2m(2n-1) for the matmuls, m for the value of
    # u*u and 2m for its tangent (the two terms u * u_dot are one product, then one add):
    # n (4mn + m) in all
    assert [p["forward_ops"] for p in points] == [n * (4 * m * n + m)
                                                  for n, m in [(1, 2), (3, 2), (2, 1), (2, 3)]]


def test_sweep_plot_without_matplotlib_exits_1_with_the_pip_command(monkeypatch, capsys):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    assert main(["compare", "--sweep", "--sizes", "1", "--fixed", "1", "--repeats", "1",
                 "--plot", "never.png"]) == 1
    err = capsys.readouterr().err
    assert 'pip install "dualad[plot]"' in err and "Traceback" not in err
    assert not Path("never.png").exists()


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_only_on_a_terminal():
    screen = Terminal()
    bar = ProgressBar("sweep", stream=screen, width=10)
    bar(1, 4)
    bar(4, 4)
    assert screen.getvalue() == "\rsweep [##........] 1/4\rsweep [##########] 4/4\n"
    pipe = io.StringIO()
    ProgressBar("sweep", stream=pipe)(1, 4)
    assert pipe.getvalue() == ""


def test_help_shows_examples():
    result = run("--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and 'dualad compare --sweep --plot costs.png' in \
        result.stdout
    for command in ("compare", "trace", "graph"):
        result = run(command, "--help")
        assert result.returncode == 0 and "examples:" in result.stdout


def test_parse_at_in_the_order_of_the_names():
    assert parse_at(["b=2, a=1"], ["a", "b"]) == [1.0, 2.0]
    assert parse_at(["a=1e-3", "b=-4"], ["a", "b"]) == [0.001, -4.0]
    assert parse_at(None, []) == []
    with pytest.raises(UsageError, match="no value for a"):
        parse_at(None, ["a"])


def test_an_infinite_derivative_is_shown_without_warnings():
    result = run("compare", "sqrt(x)", "--at", "x=0", "--repeats", "1")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[-2].split() == ["dy/dx", "inf", "inf", "nan"]
    assert result.stdout.splitlines()[-1] == ("forward and reverse mode agree exactly; sympy's "
                                              "derivative is undefined at some entries.")


def test_graph_adjoints_are_those_of_the_first_output(capsys):
    assert main(["graph", "a*b, a+b", "--at", "a=1,b=2"]) == 0
    dot = capsys.readouterr().out
    assert 'label="v₋₁ = a\\nvalue = 1\\nadjoint = 2"' in dot        # d(ab)/da = b
    assert 'label="v₂ = v₋₁ + v₀   (y₂)\\nvalue = 3"' in dot          # no adjoint for y2


# ---- never a traceback: closed pipes, unexpected errors, Ctrl-C ----

#: A trace long enough (about 40 kB) to fill any pipe or stdout buffer while printing.
LONG = " + ".join(f"sin(x{i})*x{i}" for i in range(60))
LONG_AT = ",".join(f"x{i}={i / 10}" for i in range(60))

#: Every sub-command, with --json where it has it (small outputs fail at the last flush,
#: the long trace while printing).
PIPED = [
    ["demo"],
    ["--help"],             # argparse ignores the failed write itself: status 0
    ["compare", SURVEY, "--at", "x1=2,x2=5", "--repeats", "1"],
    ["compare", SURVEY, "--at", "x1=2,x2=5", "--repeats", "1", "--json"],
    ["compare", "--sweep", "--sizes", "1,2", "--fixed", "2", "--repeats", "1", "--json"],
    ["trace", SURVEY, "--at", "x1=2,x2=5"],
    ["trace", SURVEY, "--at", "x1=2,x2=5", "--json"],
    ["trace", LONG, "--at", LONG_AT],
    ["graph", "sin(x*w) + w", "--at", "x=1,w=4"],
    ["verify", "x*y", "--at", "x=1,y=2", "--time-limit", "5"],
]


def test_every_command_writing_into_a_closed_pipe_exits_quietly():
    """As ``dualad ... | head -1`` once head has gone: the reading end is closed before the
    command writes, so every write fails (EPIPE), whether while printing or at the last flush.
    """
    processes = []
    for argv in PIPED:
        read, write = os.pipe()
        os.close(read)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "dualad", *argv], stdout=write, stderr=subprocess.PIPE,
            cwd=ROOT, text=True, encoding="utf-8"))
        os.close(write)
    for argv, process in zip(PIPED, processes):
        _, err = process.communicate(timeout=120)
        assert err == "", (argv, err)
        assert process.returncode == (0 if argv == ["--help"] else 1), argv


def test_a_reader_that_stops_after_one_line_sees_that_line_and_no_error():
    result = subprocess.run(f'"{sys.executable}" -m dualad trace "{LONG}" --at {LONG_AT} '
                            "| head -1", shell=True, capture_output=True, text=True, cwd=ROOT,
                            encoding="utf-8")
    assert result.stdout.startswith("Evaluation traces of f(x0, x1, ")
    assert result.stderr == ""


def test_an_unexpected_error_is_one_line_and_status_70(monkeypatch, capsys):
    def broken(args):
        return 1 / 0

    monkeypatch.setitem(dualad.cli.COMMANDS, "trace", broken)
    assert main(["trace", "x", "--at", "x=1"]) == INTERNAL_ERROR == 70
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.splitlines() == [
        "dualad trace: internal error: ZeroDivisionError: division by zero (unexpected; "
        "please report it with the command line)"]


def test_ctrl_c_ends_with_status_130_and_no_traceback(monkeypatch, capsys):
    def interrupted(argv=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(dualad.cli, "main", interrupted)
    with pytest.raises(SystemExit) as exit_:
        console_main()
    assert exit_.value.code == 130
    assert capsys.readouterr().err == ""


def test_closed_stdout_or_stderr_at_start_is_no_traceback_either():
    python = f'"{sys.executable}" -m dualad'
    result = subprocess.run(f"{python} demo >&-", shell=True, capture_output=True, text=True,
                            cwd=ROOT, encoding="utf-8")
    assert result.returncode == 0 and result.stderr == ""
    # stderr closed: the warning is dropped, never printed into the results on stdout
    result = subprocess.run(f'{python} trace "1/x" --at x=0 2>&-', shell=True,
                            capture_output=True, text=True, cwd=ROOT, encoding="utf-8")
    assert result.returncode == 0
    assert result.stdout.startswith("Evaluation traces of f(x) at x = 0")
    assert "warning" not in result.stdout and "Traceback" not in result.stdout
