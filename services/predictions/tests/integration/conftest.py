"""Fixtures of the predictions integration tests: a small trained model registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from looptrace_predictions.registry import load_version, read_metadata, save_version
from looptrace_predictions.training.quality_workflows import train_quality
from looptrace_predictions.training.simulate import simulate, simulate_history
from looptrace_predictions.training.workflows import train


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with v1 (trained on 250 simulated orders, active) and v2 (the same model)."""
    root = tmp_path_factory.mktemp("trained-models")
    with threadpool_limits(limits=1):
        train(simulate_history(250, seed=3), "sha-of-simulated-history", root)
    meta = {
        k: v for k, v in read_metadata(root, "v1").items() if k not in ("version", "created_at")
    }
    save_version(root, load_version(root, "v1"), meta)
    return root


@pytest.fixture(scope="session")
def trained_quality_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quality-risk registry with v1 active (trained on 800 simulated orders)."""
    root = tmp_path_factory.mktemp("trained-quality-models")
    simulated = simulate(800, seed=5)
    with threadpool_limits(limits=1):
        train_quality(simulated.stages, simulated.inspections, "sha-of-simulated", root)
    return root
