"""Hypothesis profiles: "ci" (derandomized, 200 examples; the default) and "dev" (fast).

Choose with DUALAD_HYPOTHESIS_PROFILE=dev.
"""

import os
import warnings

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=200, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile(os.environ.get("DUALAD_HYPOTHESIS_PROFILE", "ci"))

warnings.filterwarnings("error", category=RuntimeWarning, module="dualad")
