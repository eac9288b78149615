"""The five service apps, each built with test settings, for the contract tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from looptrace_shared.testing import broker_settings

SERVICES = ("orders", "production", "quality", "notifications", "predictions")


def build_app(service: str, database_url: str, kafka: str, tmp: Path) -> tuple[Any, Any]:
    """(app, settings) of ``service`` against the test database and broker."""
    base = broker_settings(database_url, kafka)
    if service == "orders":
        from looptrace_orders.app import create_app
        from looptrace_orders.config import OrdersSettings

        settings: Any = OrdersSettings(**base)
    elif service == "production":
        from looptrace_production.app import create_app  # type: ignore[assignment]
        from looptrace_production.config import ProductionSettings

        settings = ProductionSettings(
            **base, photo_dir=tmp / "photos", document_dir=tmp / "documents"
        )
    elif service == "quality":
        from looptrace_quality.app import create_app  # type: ignore[assignment]
        from looptrace_quality.config import QualitySettings

        settings = QualitySettings(**base)
    elif service == "notifications":
        from looptrace_notifications.app import create_app  # type: ignore[assignment]
        from looptrace_notifications.config import NotificationsSettings

        settings = NotificationsSettings(**base, mailer_poll_s=60, digest_poll_s=3600)
    else:
        from looptrace_predictions.app import create_app  # type: ignore[assignment]
        from looptrace_predictions.config import PredictionsSettings

        settings = PredictionsSettings(**base, predictions_model_dir=str(tmp / "models"))
    return create_app(settings), settings
