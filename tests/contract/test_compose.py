"""docker-compose.yml can't run here (no Docker engine), so its structure is checked."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from looptrace_shared.system import SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def settings_fields(service: str) -> set[str]:
    settings_cls = type(importlib.import_module(f"looptrace_{service}.app").load_settings())
    return {name.upper() for name in settings_cls.model_fields}


def test_every_service_is_in_compose_with_its_own_command() -> None:
    services = COMPOSE["services"]
    for name in SERVICES:
        assert name in services, f"{name} missing from docker-compose.yml"
        assert services[name]["command"] == ["looptrace", "serve", name]
        assert "healthcheck" in services[name]
    assert {"kafka", "postgres", "mailpit"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka")


def test_service_environment_matches_the_settings_classes() -> None:
    for name in SERVICES:
        env = COMPOSE["services"][name]["environment"]
        unknown = set(env) - settings_fields(name)
        assert not unknown, (
            f"{name}: compose sets variables its settings don't read: {sorted(unknown)}"
        )
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["KAFKA_IDEMPOTENCE"] == "true"  # Apache Kafka supports the idempotent producer


def test_services_wait_for_healthy_infrastructure() -> None:
    for name in SERVICES:
        deps = COMPOSE["services"][name]["depends_on"]
        assert deps["kafka"]["condition"] == "service_healthy"
        assert deps["postgres"]["condition"] == "service_healthy"


def test_dockerfile_installs_the_locked_workspace() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "uv sync --frozen" in dockerfile
    assert "COPY pyproject.toml uv.lock" in dockerfile


def test_services_stop_gracefully_and_are_checked_for_readiness() -> None:
    for name in SERVICES:
        service = COMPOSE["services"][name]
        assert service["stop_signal"] == "SIGTERM"
        grace = int(str(service["stop_grace_period"]).removesuffix("s"))
        assert grace > float(service["environment"]["SHUTDOWN_TIMEOUT_S"])
        assert "/health/ready" in " ".join(service["healthcheck"]["test"])
    assert "STOPSIGNAL SIGTERM" in (ROOT / "deploy" / "Dockerfile").read_text()


def test_the_console_is_in_compose_and_talks_to_the_five_services() -> None:
    web = COMPOSE["services"]["web"]
    assert web["command"] == ["looptrace", "serve", "web"] and "healthcheck" in web
    assert web["ports"] == ["8100:8000"]
    env = web["environment"]
    assert not set(env) - settings_fields("web")
    for name in SERVICES:
        assert env[f"{name.upper()}_URL"] == f"http://{name}:8000"
        assert web["depends_on"][name]["condition"] == "service_healthy"
    assert env["CONSOLE_DEV_SIGNIN"] == "false"  # no token-minting page in production
