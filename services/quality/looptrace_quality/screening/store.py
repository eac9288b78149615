"""Where the service's screening model comes from: the file at the configured path, reloaded
when the file changes (``looptrace quality screening train`` replaced it); while there is none,
the synthetic baseline shipped with the package (``baseline.joblib``, written by ``looptrace
quality screening build --model <that path>``, deterministic); trained from the baseline's seed
only when neither loads (e.g. a feature version the shipped file predates). The cache lives
here, not in the model."""

from __future__ import annotations

import threading
from pathlib import Path

from looptrace_quality.screening import model as m

SHIPPED = Path(__file__).with_name("baseline.joblib")
_lock = threading.Lock()
_loaded: dict[Path, tuple[int | None, m.ScreeningModel]] = {}


def current(path: Path) -> m.ScreeningModel:
    """The model at ``path``, else the shipped baseline (else one trained and saved there)."""
    with _lock:
        stamp = path.stat().st_mtime_ns if path.is_file() else None
        cached = _loaded.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        found = m.load(path)
        if found is None:
            found = m.load(SHIPPED)
            if found is None:
                found = m.train()
                m.save(found, path)
        _loaded[path] = (path.stat().st_mtime_ns if path.is_file() else None, found)
        return found


def describe(model: m.ScreeningModel) -> str:
    """What the model learned from, in a few words (stored with every screening)."""
    t = model.trained_on
    base = f"synthetic baseline (seed {t.get('seed')}, {t.get('synthetic_photos')} photos)"
    labelled = t.get("labelled_tiles", 0)
    return f"{base} + {labelled} labelled tiles" if labelled else base
