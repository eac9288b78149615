"""Session fixtures shared by every test: a real Kafka-protocol broker and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from looptrace_shared.testing import Infra, infrastructure, scratch_database


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    with infrastructure(Path(tmp_path_factory.mktemp("infra"))) as found:
        yield found


@pytest.fixture(scope="session")
def database_url(infra: Infra) -> Iterator[str]:
    with scratch_database(infra.server_url) as url:
        yield url


@pytest.fixture(scope="session")
def kafka_bootstrap(infra: Infra) -> str:
    return infra.kafka
