"""Fixtures for every test, doctests of dualad/ and docs/ included."""

import pytest

from dualad import primitives


@pytest.fixture(autouse=True)
def registry_as_it_was():
    """Undo ops registered by a test or a doc example (ad.register), so none leaks into the next.

    An op registered in a doctest refers to that doctest's names, which are gone after it.
    """
    registry, index = dict(primitives.REGISTRY), dict(primitives._BY_NUMPY)
    yield
    primitives.REGISTRY.clear()
    primitives.REGISTRY.update(registry)
    primitives._BY_NUMPY.clear()
    primitives._BY_NUMPY.update(index)
