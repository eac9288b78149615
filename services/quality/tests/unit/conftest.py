"""A small screening model, trained once per session (deterministic; synthetic fabrics)."""

from __future__ import annotations

import pytest

from looptrace_quality.screening import model as m


@pytest.fixture(scope="session")
def small_model() -> m.ScreeningModel:
    return m.train(seed=7, photos=30)
