"""Options of the fault run: `python3 dev.py test tests/faults --kills 20 ...` (README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .scenario import Scenario

OPTIONS = {"orders": 40, "kills": 1, "pg-restarts": 1, "cuts": 4, "seed": 1}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faults", "the whole-system fault run (tests/faults)")
    for name, default in OPTIONS.items():
        group.addoption(f"--{name}", type=int, default=None, help=f"default {default}")


@pytest.fixture
def scenario(request: pytest.FixtureRequest) -> Scenario:
    def opt(name: str) -> int:
        value = request.config.getoption(f"--{name}", default=None)
        return OPTIONS[name] if value is None else int(value)

    return Scenario(
        orders=opt("orders"),
        kills=opt("kills"),
        pg_restarts=opt("pg-restarts"),
        cuts=opt("cuts"),
        seed=opt("seed"),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The short run takes about a minute on a quiet machine and several on a loaded one: it
    gets 15 minutes unless `--timeout` says otherwise (the long run passes its own)."""
    if config.getoption("timeout", default=None) is None:
        here = Path(__file__).parent
        for item in items:
            if here in Path(item.path).parents:
                item.add_marker(pytest.mark.timeout(900))
