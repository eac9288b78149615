"""Settings of the orders service (environment variables; see the README)."""

from __future__ import annotations

from pydantic import Field

from looptrace_orders.order_dates import TargetWindow
from looptrace_shared.ports import SERVICES
from looptrace_shared.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    service_name: str = "orders"
    http_port: int = SERVICES["orders"]
    order_target_past_days: int = Field(
        default=365, ge=0, le=36_500, description="earliest target date: today minus this"
    )
    order_target_future_days: int = Field(
        default=3 * 365, ge=1, le=36_500, description="latest target date: today plus this"
    )
    # an order's rows are its own; what orders share is either looked up, not created
    # (order numbers: a clash fails one lane's INSERT, and its messages, rerun one by one,
    # find the other order) or taken under a row lock (an invoice series' next number)
    kafka_batch_lanes: int = Field(default=2, ge=1)

    @property
    def target_window(self) -> TargetWindow:
        return TargetWindow(self.order_target_past_days, self.order_target_future_days)
