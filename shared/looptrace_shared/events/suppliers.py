"""Supplier network contracts: supplier master data in, capacity alarms out (production's).

``SupplierProfile`` is both the body of ``PUT /v1/suppliers/{id}`` and the payload of the
upstream event ``SupplierMasterData`` (an ERP or supplier portal publishing the same facts).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from looptrace_shared.events.bounds import Code, Day, Id, Line, Name
from looptrace_shared.events.registry import Payload, event
from looptrace_shared.topics import PRODUCTION_EVENTS, PRODUCTION_PROGRESS

Country = Line(64, 2)
LeadDays = Annotated[int, Field(ge=1, le=365)]
Moq = Annotated[int, Field(ge=1, le=10_000_000)]


class Contact(Payload):
    name: Name
    email: Line(320, 3) | None = None
    phone: Line(40, 3) | None = None
    role: Line(100, 1) | None = None


class CategoryCapability(Payload):
    category: Code = Field(description="a product category production has a template for")
    moq: Moq = Field(default=1, description="minimum order quantity, units")
    lead_time_days: LeadDays = Field(description="standard lead time, working days")


class Certification(Payload):
    name: Code = Field(description="e.g. OEKO-TEX, GOTS, BSCI")
    expires_on: Day


class SupplierProfile(Payload):
    name: Name
    country: Country
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    categories: list[CategoryCapability] = Field(default_factory=list, max_length=50)
    processes: list[Code] = Field(
        default_factory=list,
        max_length=50,
        description="e.g. knitting, linking, printing, embroidery, washing, cutting, sewing",
    )
    certifications: list[Certification] = Field(default_factory=list, max_length=50)
    status: Literal["active", "suspended"] = "active"


@event("SupplierMasterData", PRODUCTION_PROGRESS)
class SupplierMasterData(SupplierProfile):
    """An upstream system's supplier record: creates or replaces the supplier (key: its id)."""

    supplier_id: Id


class CapacityWeek(Payload):
    supplier_id: Id
    week: date = Field(description="the Monday of the ISO week")
    bucket: str = Field(description="'category:<key>' or 'process:<name>'")
    load_units: float
    capacity_units: int
    utilisation_pct: float


@event("production.capacity_overloaded", PRODUCTION_EVENTS)
class CapacityOverloaded(CapacityWeek):
    """A supplier's planned load in one week and bucket went above its reported capacity."""


@event("production.capacity_recovered", PRODUCTION_EVENTS)
class CapacityRecovered(CapacityWeek):
    """A supplier-week that was overloaded is back at or below its capacity."""
