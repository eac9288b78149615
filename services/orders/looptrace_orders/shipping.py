"""Shipping details of a shipment: mode, container and seal, ports, departure and arrival dates.

Plain rules of the trade (no SQL, no HTTP). Each refusal is a named rule whose message says what
to fix. A container number is ISO 6346 (owner code, category letter, six digits, check digit);
ports are UN/LOCODEs (country + three letters or digits 2–9, e.g. ``CNSHA``, ``DEHAM``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from looptrace_orders.workflow import OrderRuleViolation


class ShippingMode(StrEnum):
    SEA = "sea"
    AIR = "air"
    ROAD = "road"
    RAIL = "rail"
    COURIER = "courier"


#: the modes whose goods travel in a (sealed) intermodal container
CONTAINERISED: Final = frozenset({ShippingMode.SEA, ShippingMode.RAIL, ShippingMode.ROAD})


class UnknownShippingMode(OrderRuleViolation):
    def __init__(self, value: str) -> None:
        super().__init__(
            f"mode '{value}' is not a shipping mode; use one of: "
            + ", ".join(m.value for m in ShippingMode)
        )


class InvalidContainerNumber(OrderRuleViolation):
    """Not an ISO 6346 container number (format or check digit)."""


class ContainerNotForMode(OrderRuleViolation):
    """Container and seal numbers belong to sea, rail or road freight."""


class InvalidPort(OrderRuleViolation):
    """A port that is not a UN/LOCODE, or the same port at both ends."""


class ArrivalBeforeDeparture(OrderRuleViolation):
    def __init__(self, etd: date, eta: date) -> None:
        super().__init__(
            f"eta {eta} is before etd {etd}: goods cannot arrive before they leave; "
            "correct one of the two dates"
        )


_CONTAINER: Final = re.compile(r"^[A-Z]{3}[UJZ][0-9]{7}$")
_LOCODE: Final = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
# ISO 6346 letter values: 10 upwards, skipping the multiples of 11
_LETTER_VALUES: Final = dict(
    zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", [v for v in range(10, 39) if v % 11], strict=True)
)


def container_check_digit(first_ten: str) -> int:
    """The ISO 6346 check digit of an owner code, category and serial (``CSQU305438`` → 3)."""
    values = [_LETTER_VALUES[c] if c.isalpha() else int(c) for c in first_ten]
    return sum(v << i for i, v in enumerate(values)) % 11 % 10


def check_container_number(value: str) -> str:
    code = value.strip().upper().replace(" ", "")
    if not _CONTAINER.match(code):
        raise InvalidContainerNumber(
            f"container_number '{value}' is not ISO 6346: four letters (the fourth U, J or Z) "
            "and seven digits, e.g. CSQU3054383"
        )
    if container_check_digit(code[:10]) != int(code[10]):
        raise InvalidContainerNumber(
            f"container_number '{value}' fails its ISO 6346 check digit (expected "
            f"{container_check_digit(code[:10])} at the end); check the number on the container"
        )
    return code


def check_port(value: str, what: str) -> str:
    code = value.strip().upper().replace(" ", "")
    if not _LOCODE.match(code):
        raise InvalidPort(
            f"{what} '{value}' is not a UN/LOCODE: two letters of the country and three of the "
            "place, e.g. CNSHA (Shanghai) or DEHAM (Hamburg)"
        )
    return code


def shipping_mode(value: str | None) -> ShippingMode | None:
    if value is None:
        return None
    try:
        return ShippingMode(value.strip().lower())
    except ValueError:
        raise UnknownShippingMode(value) from None


@dataclass(frozen=True)
class ShippingDetails:
    """How one shipment travels; every field optional, each checked when given."""

    mode: ShippingMode | None = None
    container_number: str | None = None
    seal_number: str | None = None
    port_of_loading: str | None = None
    port_of_discharge: str | None = None
    etd: date | None = None
    eta: date | None = None

    def __post_init__(self) -> None:
        has_container = self.container_number is not None or self.seal_number is not None
        if has_container and self.mode not in CONTAINERISED:
            raise ContainerNotForMode(
                f"container_number and seal_number belong to sea, rail or road freight; "
                f"mode is {self.mode.value if self.mode else 'not given'}: set the mode "
                "or leave them out"
            )
        if self.container_number is not None:
            object.__setattr__(
                self, "container_number", check_container_number(self.container_number)
            )
        self._check_ports()
        self.check_dates(self.etd, self.eta)

    def _check_ports(self) -> None:
        pol, pod = self.port_of_loading, self.port_of_discharge
        if pol is not None:
            object.__setattr__(self, "port_of_loading", check_port(pol, "port_of_loading"))
        if pod is not None:
            object.__setattr__(self, "port_of_discharge", check_port(pod, "port_of_discharge"))
        if pol is not None and pod is not None and self.port_of_loading == self.port_of_discharge:
            raise InvalidPort(
                f"port_of_loading and port_of_discharge are both {self.port_of_loading}; "
                "the goods must travel between two ports"
            )

    @staticmethod
    def check_dates(etd: date | None, eta: date | None) -> None:
        if etd is not None and eta is not None and eta < etd:
            raise ArrivalBeforeDeparture(etd, eta)


def projected_delivery(etas: Iterable[date | None]) -> date | None:
    """When the order is delivered: the last shipment's arrival (None while no ETA is known)."""
    known = [eta for eta in etas if eta is not None]
    return max(known) if known else None
