"""The orders service: quotes, orders, workflow, supplier assignment, audit trail."""

from __future__ import annotations

from looptrace_orders.api import router
from looptrace_orders.config import OrdersSettings
from looptrace_orders.handlers import consumer_groups
from looptrace_orders.models import plumbing
from looptrace_shared.runtime import ServiceSpec, app_factories

SPEC = ServiceSpec(
    name="orders",
    plumbing=plumbing,
    groups=consumer_groups,
    routers=[router],
    publishes=[
        "order.created",
        "order.supplier_assigned",
        "order.status_changed",
        "order.shipment_recorded",
    ],
)

load_settings, create_app = app_factories(OrdersSettings, SPEC)
