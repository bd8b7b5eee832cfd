"""Hypothesis profiles: "ci" (derandomized, 200 examples; the default) and "dev" (fast).

Choose with DUALAD_HYPOTHESIS_PROFILE=dev.
"""

import os
import warnings

import pytest
from hypothesis import HealthCheck, settings

from dualad import evaluators
from dualad.evaluators import record

_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=200, derandomize=True, deadline=None,
                          suppress_health_check=_QUIET)
settings.register_profile("dev", max_examples=30, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("DUALAD_HYPOTHESIS_PROFILE", "ci"))

warnings.filterwarnings("error", category=RuntimeWarning, module="dualad")


#: Every set of evaluators the transforms can run on. Tests that use the ``evaluators``
#: fixture run once per set, so each fast path passes the same checks as the reference.
EVALUATOR_SETS = {
    "reference": {"value": evaluators.ValueEvaluator, "reverse": evaluators.ReverseEvaluator,
                  "forward": evaluators.ForwardEvaluator},
    "fast": {"value": evaluators.FastValueEvaluator,
             "reverse": evaluators.FastReverseEvaluator,
             "forward": evaluators.FastForwardEvaluator},
}
#: The fast evaluators with every small program written as straight-line code at its first
#: replay (see ``record.STRAIGHT_AFTER``), not after many: that way of running is checked too.
EVALUATOR_SETS["fast, written out"] = EVALUATOR_SETS["fast"]
#: The fast evaluators as they run on a trace that computed its values (a function that
#: reads a value as it runs): the transforms' traces do not defer them.
EVALUATOR_SETS["fast, values traced"] = EVALUATOR_SETS["fast"]


@pytest.fixture(params=sorted(EVALUATOR_SETS))
def evaluators_in_use(request, monkeypatch):
    """Run the test with the transforms and the Var facade on one set of evaluators."""
    for mode, cls in EVALUATOR_SETS[request.param].items():
        monkeypatch.setitem(evaluators.DEFAULT, mode, cls)
    if request.param == "fast, written out":
        monkeypatch.setattr(record, "STRAIGHT_AFTER", 0)
    if request.param == "fast, values traced":
        for mode in ("reverse", "forward"):
            monkeypatch.setattr(EVALUATOR_SETS["fast"][mode], "runs_from_inputs", False)
    return request.param
