"""The statistic behind the benchmarks' "ad.compile never slower" verdict, against numbers
worked out by hand (the benchmarks themselves are run by hand, never by the tests)."""

import importlib.util
import math
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("benchmark_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_equal_rounds_give_their_ratio_and_no_width(run):
    assert run.paired_ratio([1.25] * 5) == pytest.approx((1.25, 1.25, 1.25))
    assert run.verdict(*run.paired_ratio([1.25] * 5)[1:]) == "slower"
    assert run.verdict(*run.paired_ratio([0.8] * 5)[1:]) == "faster"


def test_two_rounds_by_hand(run):
    # logs -ln 2 and +ln 2: mean 0, standard deviation ln 2 * sqrt 2, so the half-width is
    # t(0.975, 1 degree of freedom) * ln 2 * sqrt 2 / sqrt 2 = 12.706 ln 2
    mean, low, high = run.paired_ratio([0.5, 2.0])
    assert mean == pytest.approx(1.0)
    assert math.log2(high) == pytest.approx(12.706) and math.log2(low) == pytest.approx(-12.706)
    assert run.verdict(low, high) == "a tie"


def test_a_tie_spread_around_one(run):
    # logs of 0.9, 1.0, 1.1: mean -0.0033501, standard deviation 0.10038; t(2) = 4.303
    mean, low, high = run.paired_ratio([0.9, 1.0, 1.1])
    assert mean == pytest.approx(math.exp(-0.0033501), rel=1e-5)
    assert low == pytest.approx(math.exp(-0.0033501 - 4.303 * 0.10038 / math.sqrt(3)), rel=1e-4)
    assert high == pytest.approx(math.exp(-0.0033501 + 4.303 * 0.10038 / math.sqrt(3)), rel=1e-4)
    assert run.verdict(low, high) == "a tie"


def test_many_rounds_use_the_normal_quantile(run):
    ratios = [1.1, 1.2] * 20                 # 40 rounds: 39 degrees of freedom, 1.96
    logs = [math.log(r) for r in ratios]
    mean = sum(logs) / 40
    sd = math.sqrt(sum((v - mean) ** 2 for v in logs) / 39)
    _, low, _ = run.paired_ratio(ratios)
    assert low == pytest.approx(math.exp(mean - 1.96 * sd / math.sqrt(40)))
    assert run.verdict(low, 2.0) == "slower"
