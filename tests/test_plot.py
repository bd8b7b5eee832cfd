"""The mode-cost sweep against closed-form counts, and the plot file (with and without
matplotlib)."""

import sys

import numpy as np
import pytest

import dualad as ad
from dualad.plotting import family_from_expression, format_sweep, inline, sweep_mode_costs


def forward_ops(n, m):
    # per sweep: W @ x (m(2n-1)) and tanh (m) for the value; W @ x_dot (m(2n-1)),
    # tanh's partial 1 - out*out (2m) and its product (m) for the tangent; n sweeps
    return n * (2 * m * (2 * n - 1) + 4 * m)


def reverse_ops(n, m):
    # one evaluation (2mn), then per sweep: tanh's partial and product (3m), and matmul's
    # rule forming only the adjoint that is needed, W^T out_bar (n(2m - 1)); m sweeps
    return 2 * m * n + m * (3 * m + n * (2 * m - 1))


def test_sweep_counts_match_the_closed_forms_and_cross_over_near_n_equals_m():
    points = sweep_mode_costs(sizes=(1, 4, 8, 16, 32), fixed=16, repeats=1)
    assert [(p.n, p.m) for p in points] == [(1, 16), (4, 16), (8, 16), (16, 16), (32, 16),
                                            (16, 1), (16, 4), (16, 8), (16, 16), (16, 32)]
    for p in points:
        assert p.forward_ops == forward_ops(p.n, p.m)
        assert p.reverse_ops == reverse_ops(p.n, p.m)
        assert p.forward_seconds > 0 and p.reverse_seconds > 0
    assert [p.cheaper for p in points[:5]] == ["forward"] * 3 + ["reverse"] * 2
    assert [p.cheaper for p in points[5:]] == ["reverse"] * 4 + ["forward"]


def test_sweep_reports_progress_and_refuses_bad_sizes():
    calls = []
    sweep_mode_costs(sizes=(1, 2), fixed=2, repeats=1, progress=lambda *a: calls.append(a))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    with pytest.raises(ad.DualadError, match="sizes must be positive whole numbers"):
        sweep_mode_costs(sizes=(0, 2), fixed=2)


def test_a_family_from_an_expression_applies_it_to_w_x():
    family = family_from_expression("u * sin(u)")
    f, x = family(3, 2)
    graph = ad.trace(f, x)
    value = graph(x)
    assert value.shape == (2,)
    W = graph.nodes[0].value                      # the matrix, a constant of the graph
    np.testing.assert_allclose(value, (W @ x) * np.sin(W @ x), rtol=1e-15)
    with pytest.raises(ad.DualadError, match="use exactly one name"):
        family_from_expression("a * b")
    assert inline(ad.parse("2 * u + 1"), ad.Var(3.0)).value == 7.0


def test_sweep_table_lists_each_point():
    points = sweep_mode_costs(sizes=(1, 2), fixed=2, repeats=1)
    lines = format_sweep(points).splitlines()
    assert lines[0].split()[:4] == ["n", "m", "forward", "ops"]
    assert lines[1].split()[:5] == ["1", "2", str(forward_ops(1, 2)), str(reverse_ops(1, 2)),
                                    "forward"]


def test_the_plot_file_is_written(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib (the 'plot' extra) is not installed")
    path = tmp_path / "costs.png"
    figure = ad.plot_mode_costs(path, sizes=(1, 2, 4), fixed=2, repeats=1)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert len(figure.axes) == 4
    assert [ax.get_xlabel() for ax in figure.axes] == [
        "n (inputs), m = 2", "n (inputs), m = 2", "m (outputs), n = 2", "m (outputs), n = 2"]
    svg = tmp_path / "costs.svg"
    ad.plot_mode_costs(svg, points=sweep_mode_costs(sizes=(1, 2), fixed=2, repeats=1))
    assert "<svg" in svg.read_text()


def test_without_matplotlib_the_error_says_how_to_get_it(monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends",
                 "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)     # "import matplotlib" now fails
    with pytest.raises(ad.MissingDependencyError, match=r'pip install "dualad\[plot\]"'):
        ad.plot_mode_costs(points=sweep_mode_costs(sizes=(1,), fixed=1, repeats=1))
