"""Every environment variable a service reads is documented in the README."""

from __future__ import annotations

import importlib
from pathlib import Path

from looptrace_shared.system import SERVICES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = []
    for name in SERVICES:
        settings_cls = type(importlib.import_module(f"looptrace_{name}.app").load_settings())
        missing += [
            f"{name}: {f.upper()}" for f in settings_cls.model_fields if f.upper() not in README
        ]
    assert not missing, "undocumented settings (add them to README.md): " + ", ".join(missing)


def test_readme_names_the_two_commands() -> None:
    assert "python3 dev.py up" in README and "python3 dev.py test" in README
