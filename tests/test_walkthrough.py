"""Every step of both sweeps: the survey's numbers, fan-out, partials against sympy, random
graphs against finite differences, the page (escaped, offline) and the page in a browser."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from headless import start_browser
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import (NUMPY_OPS, build_program, central_difference, exact_partial, random_point,
                        random_programs, symbols_for)

import dualad as ad
from dualad.cli import main


def survey(x1, x2):
    return ad.log(x1) + x1 * x2 - ad.sin(x2)


def test_the_reverse_sweep_of_the_survey_shows_the_fan_out_sums():
    steps = ad.walkthrough(survey, 2, 5)
    assert len(steps) == 9                     # the seed, then one share per edge
    assert [s.node for s in steps] == ["v₅", "v₄", "v₃", "v₁", "v₂", "v₀", "v₋₁", "v₀", "v₋₁"]
    x1 = [s for s in steps if s.node == "v₋₁"]
    # x1 feeds * (its share x2 = 5) and log (its share 1/x1 = 0.5): 5, then 5 + 0.5
    assert [(s.before, s.contribution, s.after) for s in x1] == [(None, 5.0, 5.0),
                                                                 (5.0, 0.5, 5.5)]
    x2 = [s for s in steps if s.node == "v₀"]
    assert x2[0].after == pytest.approx(-math.cos(5), rel=1e-15)
    assert x2[1].contribution == 2.0
    assert x2[1].after == pytest.approx(2 - math.cos(5), rel=1e-15)      # 1.716
    assert steps[-1].update == ("v̄₋₁ = v̄₋₁ + v̄₁ ∂v₁/∂v₋₁ = v̄₋₁ + v̄₁/v₋₁ = 5 + 1 × 0.5 = "
                                "5.5")
    assert steps[-2].update == ("v̄₀ = v̄₀ + v̄₂ ∂v₂/∂v₀ = v̄₀ + v̄₂*v₋₁ = -0.284 + 1 × 2 = "
                                "1.716")
    assert steps[-2].partial == "∂v₂/∂v₀ = v₋₁ = 2"
    assert steps[-2].edges == ((2, 3),)      # x2 (position 2) into x1 * x2 (position 3)
    assert steps.results == ["x̄1 = v̄₋₁ = 5.5", "x̄2 = v̄₀ = 1.716"]


def test_steps_print_the_node_the_partial_and_the_update():
    steps = ad.walkthrough(survey, 2, 5)
    assert str(steps[2]) == "\n".join([
        "step 3 of 9: v₃, from v₅ = v₄ - v₃",
        "  local partial  ∂v₅/∂v₃ = -1",
        "  update         v̄₃ = v̄₅ ∂v₅/∂v₃ = -v̄₅ = 1 × (-1) = -1"])
    assert str(steps[0]) == "step 1 of 9: v₅ (the output y), the seed\n" \
                            "  update         v̄₅ = ȳ = 1"
    text = str(steps)
    assert text.splitlines()[0] == ("Reverse sweep of survey(x1, x2) at x1 = 2, x2 = 5, from "
                                    "ȳ = 1: 9 steps")
    assert text.splitlines()[-1] == "result: x̄1 = v̄₋₁ = 5.5, x̄2 = v̄₀ = 1.716"


def test_the_forward_sweep_of_the_survey_step_by_step():
    steps = ad.walkthrough(survey, 2, 5, mode="forward")
    assert len(steps) == 10                    # two seeds, then one term per edge
    assert [s.update for s in steps[:2]] == ["v̇₋₁ = ẋ1 = 1", "v̇₀ = ẋ2 = 0"]
    assert steps[4].update == "v̇₂ = v̇₂ + v̇₀ ∂v₂/∂v₀ = v̇₂ + v̇₀*v₋₁ = 5 + 0 × 2 = 5"
    assert steps[-1].update == "v̇₅ = v̇₅ + v̇₃ ∂v₅/∂v₃ = v̇₅ - v̇₃ = 5.5 + 0 × (-1) = 5.5"
    assert steps[-1].after == 5.5 and steps.results == ["ẏ = v̇₅ = 5.5"]
    along_x2 = ad.walkthrough(survey, 2, 5, mode="forward", direction="x2")
    assert along_x2[-1].after == pytest.approx(2 - math.cos(5), rel=1e-15)


def exact_partial_at(step, values):
    """sympy's partial of the op's specification, at the values of its arguments."""
    instruction = step.record.instruction
    prim = instruction.prim
    symbols = symbols_for(prim)
    return float(exact_partial(prim, step.record.argument, symbols).subs(dict(zip(
        symbols, [values[a] for a in instruction.args]))))


@settings(max_examples=30)
@given(random_programs(max_ops=8), st.integers(0, 2**32 - 1))
def test_random_sweeps_match_sympy_step_by_step_and_finite_differences_in_sum(program, seed):
    n_inputs, steps = program
    point = random_point(n_inputs, seed)
    f = lambda *xs: build_program(ad, n_inputs, steps, xs)              # noqa: E731
    reference = lambda *xs: build_program(NUMPY_OPS, n_inputs, steps, xs)  # noqa: E731
    expected = [central_difference(reference, point, i) for i in range(n_inputs)]
    reverse = ad.walkthrough(f, *point)
    for step in reverse:
        if step.record is not None and step.record.instruction is not None:
            assert step.partial_value == pytest.approx(exact_partial_at(step, reverse.values),
                                                       rel=1e-9, abs=1e-12)
    inputs = reverse.graph.input_positions
    gradient = [sum(s.contribution for s in reverse if s.target == p) for p in inputs]
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-5)
    for k in range(n_inputs):
        forward = ad.walkthrough(f, *point, mode="forward", direction=k)
        out = forward.graph.output_positions[0]
        last = [s.after for s in forward if s.target == out][-1]
        assert last == pytest.approx(expected[k], rel=1e-4, abs=1e-5)


def test_structural_ops_show_their_jacobian_products():
    x = np.array([1.0, 2.0, 3.0])
    reverse = ad.walkthrough(lambda x: ad.sum(x * x), x)
    shares = [s for s in reverse if s.node == "v₀"]
    assert len(shares) == 2                  # x * x: the same node twice
    np.testing.assert_array_equal(shares[-1].after, 2 * x)
    sum_step = next(s for s in reverse if "sum" in s.title)
    assert "vjp[sum](v̄₂)[0]" in sum_step.update and "Jacobian" in sum_step.partial
    forward = ad.walkthrough(lambda x: ad.sum(x * x), x, mode="forward",
                             direction=[np.array([1.0, 0.0, 0.0])])
    assert "jvp[sum](v̇₁)" in forward[-1].update
    assert forward[-1].after == 2.0          # d/dx0 of sum(x*x) at x0 = 1


def test_a_walkthrough_takes_a_graph_and_a_var_and_names_the_function():
    graph = ad.parse("x * sin(x)")
    assert ad.walkthrough(graph, 0.5).function == "f(x)"
    x = ad.Var(0.5, name="x")
    steps = ad.walkthrough(x * ad.sin(x))
    assert steps.results == [f"x̄ = v̄₀ = {math.sin(0.5) + 0.5 * math.cos(0.5):.3f}"]
    several = ad.walkthrough(lambda t: (ad.sin(t), t * t), 1.0, mode="forward")
    assert several.results == ["ẏ₁ = v̇₁ = 0.54", "ẏ₂ = v̇₂ = 2"]        # cos 1, 2t


@pytest.mark.parametrize("options, message", [
    ({"mode": "sideways"}, "walkthrough: mode must be 'reverse' or 'forward', got 'sideways'"),
    ({"direction": "x1"}, "walkthrough: direction is the seed of a forward sweep"),
    ({"mode": "forward", "output": 1}, "walkthrough: output picks the seed of a reverse sweep"),
    ({"output": 3}, r"walkthrough: output 3 does not exist \(f has 1\)"),
    ({"mode": "forward", "direction": "x9"}, "walkthrough: no input named 'x9'"),
])
def test_bad_options_are_refused_naming_walkthrough(options, message):
    with pytest.raises(ad.DualadError, match=message):
        ad.walkthrough(survey, 2, 5, **options)


def test_the_page_is_self_contained_and_escapes_names(tmp_path):
    name = "</script><script>window.hacked = 1</script><!--"
    x = ad.Var(2.0, name=name)
    html = ad.walkthrough(ad.log(x) * x).to_html()
    assert "<script>window.hacked" not in html and "<!--" not in html
    assert html.count("<script") == 2        # the data and the page's own script
    assert "&lt;/script&gt;&lt;script&gt;window.hacked" in html
    for reference in ("http:", "https:", "//cdn", "@import", "src="):
        assert reference not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    data = html.split('id="dualad-walkthrough-data">', 1)[1].split("</script>", 1)[0]
    sweeps = json.loads(data)
    assert sweeps[0]["count"] == 4 and sweeps[0]["steps"][-1]["after"] == \
        f"{math.log(2) + 1:.3f}"


def test_the_course_page_is_linked_from_the_index_and_its_picture_is_there():
    docs = Path(__file__).resolve().parents[1] / "docs"
    assert "(walkthrough.md)" in (docs / "index.md").read_text(encoding="utf-8")
    page = (docs / "walkthrough.md").read_text(encoding="utf-8")
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page):
        assert (docs / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_trace_writes_the_page_of_both_sweeps(tmp_path, capsys):
    path = tmp_path / "sweeps.html"
    assert main(["trace", "log(x1) + x1*x2 - sin(x2)", "--at", "x1=2,x2=5", "--html",
                 str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Evaluation traces of f(x1, x2)")
    assert out.splitlines()[-1] == f"walkthrough of both sweeps written to {path}"
    html = path.read_text("utf-8")
    assert html.count('<section class="sweep"') == 2
    assert "Forward sweep (ẋ1 = 1, ẋ2 = 0)" in html and "Reverse sweep (ȳ = 1)" in html
    assert main(["trace", "x*y", "--at", "x=1,y=2", "--json", "--html", str(path)]) == 0
    json.loads(capsys.readouterr().out)       # JSON alone on stdout


# ---- in a real browser ----

STATE = """(() => {
  const section = [...document.querySelectorAll('section.sweep')].find(s => !s.hidden);
  const p = section.id.replace('sweep', '');
  const current = section.querySelector('.node.current text');
  const cells = {};
  section.querySelectorAll('td.derivative').forEach(td => {
    cells[td.parentElement.querySelector('td.name').textContent] = td.textContent; });
  return {counter: document.getElementById(p + 'counter').textContent,
          title: document.getElementById(p + 'title').textContent,
          update: document.getElementById(p + 'update').textContent,
          current: current ? current.textContent : null,
          edges: section.querySelectorAll('.edge.current').length,
          labels: [...section.querySelectorAll('.edge .label')]
                    .filter(l => getComputedStyle(l).visibility === 'visible').length,
          results: document.getElementById(p + 'results').textContent,
          cells: cells};
})()"""


@pytest.fixture(scope="module")
def browser():
    started, reason = start_browser()
    if started is None:
        pytest.skip(f"no headless browser for the page test: {reason}")
    with started:
        yield started


def test_the_browser_sees_a_script_error_when_there_is_one(browser, tmp_path):
    path = tmp_path / "broken.html"
    path.write_text("<!DOCTYPE html><p>x</p><script>no_such_function();</script>")
    browser.open(path.as_uri())
    assert any("no_such_function" in e for e in browser.errors())


def test_the_page_steps_through_both_sweeps_in_a_browser(browser, tmp_path):
    path = tmp_path / "sweeps.html"
    assert main(["trace", "log(x1) + x1*x2 - sin(x2)", "--at", "x1=2,x2=5", "--html",
                 str(path)]) == 0
    browser.open(path.as_uri())
    assert browser.errors() == []
    state = lambda: browser.evaluate(STATE)  # noqa: E731
    start = state()
    assert start["counter"] == "step 0 of 10" and start["current"] is None
    assert set(start["cells"].values()) == {"?"}
    browser.press("ArrowRight")
    first = state()
    assert first["counter"] == "step 1 of 10" and first["title"] != start["title"]
    assert first["current"] == "v₋₁ = x1" and first["cells"]["v₋₁"] == "1"
    browser.press(" ")
    browser.press("ArrowRight")
    third = state()                           # v̇₁ = v̇₋₁ ∂v₁/∂v₋₁: along the edge x1 -> log
    assert third["current"] == "v₁ = log(v₋₁)" and third["edges"] == 1
    assert third["update"] == "v̇₁ = v̇₋₁ ∂v₁/∂v₋₁ = v̇₋₁/v₋₁ = 1 × 0.5 = 0.5"
    assert third["labels"] == 1 and third["cells"]["v₁"] == "0.5"
    browser.press("End")
    last = state()
    assert last["counter"] == "step 10 of 10" and last["cells"]["v₅"] == "5.5"
    assert last["results"] == "Result: ẏ = v̇₅ = 5.5"
    browser.press("ArrowLeft")
    assert state()["counter"] == "step 9 of 10" and state()["results"] == ""

    browser.press("2")                        # the reverse sweep
    assert state()["counter"] == "step 0 of 9"
    browser.press("End")
    reverse = state()
    assert reverse["cells"]["v₋₁"] == "5.5" and reverse["cells"]["v₀"] == "1.716"
    assert reverse["current"] == "v₋₁ = x1" and reverse["labels"] == 8
    browser.press("ArrowLeft")
    browser.press("ArrowLeft")
    back = state()                            # before x1's second share: 5, not yet 5.5
    assert back["counter"] == "step 7 of 9" and back["cells"]["v₋₁"] == "5"
    browser.click('section[data-sweep="1"] button[data-go="first"]')
    assert state()["counter"] == "step 0 of 9"
    browser.screenshot(tmp_path / "reverse.png")
    assert browser.errors() == []
    assert browser.requests() == [path.as_uri()]      # nothing fetched: no network


def test_a_wide_graph_takes_the_page_width_and_the_table_goes_below(browser, tmp_path):
    def chain(x):
        for _ in range(14):
            x = ad.sin(x) * x
        return x
    wide = ad.walkthrough(chain, 0.5).save(tmp_path / "wide.html")
    narrow = ad.walkthrough(survey, 2, 5).save(tmp_path / "narrow.html")
    below = "document.querySelector('.main').classList.contains('wide')"
    browser.open(narrow.as_uri())
    assert browser.evaluate(below) is False
    browser.open(wide.as_uri())
    assert browser.evaluate(below) is True
    # shrunk to no less than 0.6 of its size: it scrolls, and follows the current step
    ratio = browser.evaluate("document.querySelector('svg.dualad-graph').getBoundingClientRect()"
                             ".width / Number(document.querySelector('svg.dualad-graph')"
                             ".getAttribute('width'))")
    assert ratio == pytest.approx(0.6, abs=0.01)
    shown = """(() => {
      const area = document.querySelector('.graph').getBoundingClientRect();
      const node = document.querySelector('.node.current').getBoundingClientRect();
      return area.left <= node.left && node.right <= area.right; })()"""
    browser.press("ArrowRight")
    assert browser.evaluate(shown) is True         # the output, at the right end
    browser.press("End")
    assert browser.evaluate(shown) is True         # the input, at the left end
    assert browser.errors() == []


def test_a_hostile_name_shows_as_text_in_a_browser(browser, tmp_path):
    name = "</script><script>window.hacked = 1</script>"
    x = ad.Var(2.0, name=name)
    path = ad.walkthrough(ad.log(x) * x).save(tmp_path / "hostile.html")
    browser.open(path.as_uri())
    assert browser.errors() == []
    assert browser.evaluate("window.hacked === undefined") is True
    assert name in browser.evaluate("document.querySelector('table.trace').textContent")
    browser.press("End")
    assert browser.evaluate("document.querySelector('.results').textContent") == \
        f"Result: {name[0]}\u0304{name[1:]} = v̄₀ = {math.log(2) + 1:.3f}"
