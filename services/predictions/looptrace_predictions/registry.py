"""Versioned model directory: MODEL_DIR/<version>/{model.joblib, metadata.json}
and MODEL_DIR/ACTIVE naming the version the service scores with.

Versions are ``v1``, ``v2``, … in order of creation. Writes are atomic (a
version directory is renamed into place; ACTIVE is replaced, never edited), so a
running worker never sees half a model.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from looptrace_predictions.risk_model import ScoringModel


class Stored(Protocol):
    """A model class the registry stores: ``STORED`` names the fields saved, as keywords of
    its constructor besides ``version`` (ScoringModel, QualityModel)."""

    STORED: ClassVar[tuple[str, ...]]


M = TypeVar("M", bound=Stored)

ACTIVE_FILE = "ACTIVE"
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"
_VERSION = re.compile(r"^v(\d+)$")


class ModelNotFound(LookupError):
    """The model directory has no such version, or no active one."""


def list_versions(model_dir: str | Path) -> list[str]:
    root = Path(model_dir)
    if not root.is_dir():
        return []
    found = [p.name for p in root.iterdir() if _VERSION.match(p.name) and (p / MODEL_FILE).exists()]
    return sorted(found, key=lambda name: int(name[1:]))


def active_version(model_dir: str | Path) -> str | None:
    path = Path(model_dir) / ACTIVE_FILE
    if not path.exists():
        return None
    return path.read_text(encoding="utf-8").strip() or None


def promote(model_dir: str | Path, version: str) -> None:
    """Make ``version`` the active one."""
    if version not in list_versions(model_dir):
        known = ", ".join(list_versions(model_dir)) or "none"
        raise ModelNotFound(f"no model version {version!r} in {model_dir} (versions: {known})")
    _write_atomic(Path(model_dir) / ACTIVE_FILE, version + "\n")


def save_version(model_dir: str | Path, model: Any, metadata: dict[str, Any]) -> str:
    """Store a new version (not yet active) and return its name."""
    root = Path(model_dir)
    root.mkdir(parents=True, exist_ok=True)
    existing = list_versions(root)
    version = f"v{int(existing[-1][1:]) + 1 if existing else 1}"
    model.version = version
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    import joblib

    joblib.dump({name: getattr(model, name) for name in type(model).STORED}, staging / MODEL_FILE)
    meta = {"version": version, "created_at": datetime.now(UTC).isoformat(), **metadata}
    (staging / METADATA_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    staging.rename(root / version)
    return version


def load_version(model_dir: str | Path, version: str, kind: type[M] = ScoringModel) -> M:  # type: ignore[assignment]
    path = Path(model_dir) / version / MODEL_FILE
    if not path.exists():
        raise ModelNotFound(f"no model version {version!r} in {model_dir}")
    import joblib  # scikit-learn and joblib load only with a trained model (start-up time)

    stored = joblib.load(path)
    names = kind.STORED
    missing = [name for name in names if name not in stored]
    if missing:
        raise ModelNotFound(
            f"model version {version!r} in {model_dir} was saved without {', '.join(missing)} "
            "(an older format); train a new version with `looptrace predictions train`"
        )
    return kind(version=version, **{name: stored[name] for name in names})  # type: ignore[call-arg]


def load_active(model_dir: str | Path, kind: type[M] = ScoringModel) -> M:  # type: ignore[assignment]
    version = active_version(model_dir)
    if version is None:
        raise ModelNotFound(
            f"no active model in {model_dir}; run `looptrace predictions train --out {model_dir}`"
        )
    return load_version(model_dir, version, kind)


def read_metadata(model_dir: str | Path, version: str) -> dict[str, Any]:
    return json.loads((Path(model_dir) / version / METADATA_FILE).read_text(encoding="utf-8"))


class ActiveModel:
    """Holds the active model and swaps it when ACTIVE names another version."""

    def __init__(self, model_dir: str | Path, kind: type = ScoringModel):
        self.model_dir = Path(model_dir)
        self.kind = kind
        self.model: Any = load_active(self.model_dir, kind)

    @property
    def version(self) -> str:
        return self.model.version

    def reload_if_changed(self) -> bool:
        """Load the newly promoted version, if any; True when the model changed."""
        version = active_version(self.model_dir)
        if version is None or version == self.model.version:
            return False
        self.model = load_version(self.model_dir, version, self.kind)
        return True


def _write_atomic(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=".active-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
