"""Supplier network contracts: supplier master data in, capacity alarms out (production's).

``SupplierProfile`` is both the body of ``PUT /v1/suppliers/{id}`` and the payload of the
upstream event ``SupplierMasterData`` (an ERP or supplier portal publishing the same facts).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from looptrace_shared.events.bounds import Code, Day, Id, Name
from looptrace_shared.events.registry import Payload, event
from looptrace_shared.topics import PRODUCTION_EVENTS, PRODUCTION_SUPPLIERS

# one line of text (``Name``: no control characters) of these lengths
Country = Annotated[Name, Field(min_length=2, max_length=64)]
Email = Annotated[Name, Field(min_length=3, max_length=200)]
Phone = Annotated[Name, Field(min_length=3, max_length=40)]
Role = Annotated[Name, Field(min_length=1, max_length=100)]
LeadDays = Annotated[int, Field(ge=1, le=365)]
Moq = Annotated[int, Field(ge=1, le=10_000_000)]


class Contact(Payload):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    role: Role | None = None


class CategoryCapability(Payload):
    category: Code = Field(
        description="a product category production has a template for", examples=["knitwear"]
    )
    moq: Moq = Field(default=1, description="minimum order quantity, units")
    lead_time_days: LeadDays = Field(description="standard lead time, working days")


class Certification(Payload):
    name: Code = Field(description="e.g. OEKO-TEX, GOTS, BSCI")
    expires_on: Day


class SupplierProfile(Payload):
    name: Name = Field(examples=["Knit Co"])
    country: Country | None = Field(
        default=None, examples=["PT"], description="none: known from an assignment only"
    )
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    categories: list[CategoryCapability] = Field(default_factory=list, max_length=50)
    processes: list[Code] = Field(
        default_factory=list,
        max_length=50,
        description="e.g. knitting, linking, printing, embroidery, washing, cutting, sewing",
    )
    certifications: list[Certification] = Field(default_factory=list, max_length=50)
    status: Literal["active", "suspended"] = Field(default="active", examples=["active"])


@event("SupplierMasterData", PRODUCTION_SUPPLIERS)
class SupplierMasterData(SupplierProfile):
    """An upstream system's supplier record: creates or replaces the supplier (key: its id)."""

    supplier_id: Id


class CapacityWeek(Payload):
    supplier_id: Id
    week: date = Field(description="the Monday of the ISO week", examples=["2027-03-08"])
    bucket: str = Field(
        description="'category:<key>' or 'process:<name>'", examples=["category:knitwear"]
    )
    load_units: float
    capacity_units: int
    utilisation_pct: float


@event("production.capacity_overloaded", PRODUCTION_EVENTS)
class CapacityOverloaded(CapacityWeek):
    """A supplier's planned load in one week and bucket went above its reported capacity."""


@event("production.capacity_recovered", PRODUCTION_EVENTS)
class CapacityRecovered(CapacityWeek):
    """A supplier-week that was overloaded is back at or below its capacity."""


@event("production.assignment_warned", PRODUCTION_EVENTS)
class AssignmentWarned(Payload):
    """An order went to a supplier that lacks the capability, is suspended, has an expired
    certification, is below its MOQ or would be over capacity: not refused, but warned.
    Orders records it in the order's history; notifications tells the assigning admin."""

    order_id: Id
    order_number: Id
    supplier_id: Id
    assigned_by: str = Field(examples=["ops@looptrace.example"])
    warnings: list[str] = Field(
        min_length=1,
        examples=[["week of 2027-03-08: category:knitwear would be at 130.0 % of its capacity"]],
    )
