"""``looptrace quality screening …``: build, evaluate and retrain the photo pre-screening model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from looptrace_quality.screening import model as m
from looptrace_quality.screening.evaluation import HELD_OUT_SEED, evaluate
from looptrace_quality.screening.store import current

MODEL_OPTION = click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="model file (default: the quality service's SCREENING_MODEL_PATH setting)",
)


def _default_path(path: Path | None) -> Path:
    if path is not None:
        return path
    from looptrace_quality.config import QualitySettings

    return QualitySettings().screening_model_path


@click.group(name="quality")
def quality() -> None:
    """Quality service tools."""


@quality.group(name="screening")
def screening() -> None:
    """Photo pre-screening (advisory; trained on SYNTHETIC fabrics until real labels exist)."""


@screening.command(name="build")
@MODEL_OPTION
@click.option("--seed", default=m.BASELINE_SEED, show_default=True)
@click.option("--photos", default=m.BASELINE_PHOTOS, show_default=True)
def build(model_path: Path | None, seed: int, photos: int) -> None:
    """Train the synthetic baseline deterministically and save it (replaces the file)."""
    path = _default_path(model_path)
    model = m.train(seed, photos)
    m.save(model, path)
    click.echo(f"saved the synthetic baseline to {path} (threshold {model.threshold})")


@screening.command(name="evaluate")
@MODEL_OPTION
@click.option("--seed", default=HELD_OUT_SEED, show_default=True, help="held-out set's seed")
@click.option("--photos", default=60, show_default=True, help="held-out synthetic photos")
def evaluate_command(model_path: Path | None, seed: int, photos: int) -> None:
    """Tile ROC AUC and photo precision/recall at the shipped threshold, held-out synthetic."""
    model = current(_default_path(model_path))
    click.echo(json.dumps(evaluate(model, seed, photos), indent=2))


@screening.command(name="train")
@MODEL_OPTION
@click.option("--seed", default=m.BASELINE_SEED, show_default=True)
@click.option("--photos", default=m.BASELINE_PHOTOS, show_default=True, help="synthetic base")
@click.option("--database-url", default=None, help="quality's database (default: its setting)")
def train_command(
    model_path: Path | None, seed: int, photos: int, database_url: str | None
) -> None:
    """Retrain on the synthetic base plus every label people gave, and replace the model file
    (a running service picks the new file up at its next screening)."""
    from looptrace_quality.config import QualitySettings
    from looptrace_quality.screening.retrain import retrain

    url = database_url or QualitySettings().database_url
    model = asyncio.run(retrain(url, _default_path(model_path), seed, photos))
    click.echo(
        f"trained on {model.trained_on['labelled_tiles']} labelled tiles + {photos} synthetic "
        f"photos; threshold {model.threshold}"
    )
