"""Invoices of an order: the supplier's (its cost × shipped quantity) and the buyer's (the price
× shipped quantity), one pair per shipment; their numbering, status and the realised margin.

Plain rules (no SQL, no HTTP). Money is ``Decimal`` and exact: the invoices of partial
shipments add up to the unit amount × the quantity shipped, to the last digit.

Status moves (``INVOICE_TRANSITIONS``)::

    draft -> issued -> paid
    draft -> void, issued -> void        (paid and void are final)
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from looptrace_orders.domain import Money, check_quantity
from looptrace_orders.workflow import OrderRuleViolation


class InvoiceKind(StrEnum):
    SUPPLIER = "supplier"  # the supplier invoices its cost for what it shipped
    BUYER = "buyer"  # the buyer is invoiced its price for what was shipped


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"


S = InvoiceStatus
INVOICE_TRANSITIONS: Final = MappingProxyType(
    {
        S.DRAFT: frozenset({S.ISSUED, S.VOID}),
        S.ISSUED: frozenset({S.PAID, S.VOID}),
        S.PAID: frozenset(),
        S.VOID: frozenset(),
    }
)

#: the number prefix of each kind's series; a series is (prefix, year), numbered from 1
SERIES_PREFIX: Final = MappingProxyType({InvoiceKind.BUYER: "INV", InvoiceKind.SUPPLIER: "SUP"})


class InvalidInvoiceTransition(OrderRuleViolation):
    def __init__(self, number: str, current: InvoiceStatus, requested: InvoiceStatus) -> None:
        allowed = [s.value for s in InvoiceStatus if s in INVOICE_TRANSITIONS[current]]
        super().__init__(
            f"invoice {number} is '{current}'; it cannot become '{requested}'. Allowed next: "
            + (", ".join(allowed) if allowed else "none (the invoice is final)")
        )


class VoidWithoutReason(OrderRuleViolation):
    def __init__(self, number: str) -> None:
        super().__init__(f"voiding invoice {number} needs a reason; give one")


def change_invoice_status(
    number: str, current: InvoiceStatus, requested: InvoiceStatus, reason: str | None
) -> InvoiceStatus:
    """Validate one status move; raise ``InvalidInvoiceTransition`` / ``VoidWithoutReason``."""
    if requested not in INVOICE_TRANSITIONS[current]:
        raise InvalidInvoiceTransition(number, current, requested)
    if requested is S.VOID and not (reason and reason.strip()):
        raise VoidWithoutReason(number)
    return requested


def invoice_amount(unit: Money, quantity: int) -> Money:
    """What one shipment's invoice comes to: the unit amount × the pieces shipped, exact."""
    return unit.times(check_quantity(quantity, "invoiced quantity"))


def series_of(kind: InvoiceKind, year: int) -> str:
    return f"{SERIES_PREFIX[kind]}-{year}"


def invoice_number(series: str, n: int) -> str:
    """``INV-2026-000042``: the series and its n-th number (gapless within the series)."""
    return f"{series}-{n:06d}"


def total(amounts: Iterable[Money], currency: str) -> Money:
    result = Money.of(0, currency)
    for amount in amounts:
        result = result + amount
    return result


def realised_margin(buyer: Iterable[Money], supplier: Iterable[Money], currency: str) -> Money:
    """What was invoiced to the buyer minus what the supplier invoiced (void ones left out by
    the caller): the margin on what actually shipped."""
    return total(buyer, currency) - total(supplier, currency)
