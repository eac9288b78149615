"""Invoice rules: exact amounts over partial shipments, status moves, numbering, margin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from looptrace_orders.domain import Money
from looptrace_orders.invoices import (
    INVOICE_TRANSITIONS,
    InvalidInvoiceTransition,
    InvoiceKind,
    InvoiceStatus,
    VoidWithoutReason,
    change_invoice_status,
    invoice_amount,
    invoice_number,
    realised_margin,
    series_of,
    total,
)

units = st.decimals(min_value=0, max_value=Decimal("99999.9999"), places=4)


#: an order shipped in 1–12 partial shipments of at least one piece each
partial_shipments = st.lists(st.integers(min_value=1, max_value=800_000), min_size=1, max_size=12)


@given(units, units, partial_shipments, st.sampled_from(["EUR", "USD", "JPY"]))
def test_partial_invoices_add_up_exactly_to_the_total(
    price: Decimal, cost: Decimal, parts: list[int], currency: str
) -> None:
    p, c = Money(price, currency), Money(cost, currency)
    shipped = sum(parts)
    buyer = [invoice_amount(p, q) for q in parts]
    supplier = [invoice_amount(c, q) for q in parts]
    assert total(buyer, currency) == p.times(shipped)
    assert total(supplier, currency) == c.times(shipped)
    margin = realised_margin(buyer, supplier, currency)
    assert margin.amount == (price - cost) * shipped  # exact: no rounding anywhere
    assert all(isinstance(m.amount, Decimal) for m in buyer)


@pytest.mark.parametrize("current", list(InvoiceStatus))
@pytest.mark.parametrize("requested", list(InvoiceStatus))
def test_only_the_listed_status_moves_are_allowed(
    current: InvoiceStatus, requested: InvoiceStatus
) -> None:
    allowed = {
        (InvoiceStatus.DRAFT, InvoiceStatus.ISSUED), (InvoiceStatus.DRAFT, InvoiceStatus.VOID),
        (InvoiceStatus.ISSUED, InvoiceStatus.PAID), (InvoiceStatus.ISSUED, InvoiceStatus.VOID),
    }  # fmt: skip
    assert (requested in INVOICE_TRANSITIONS[current]) == ((current, requested) in allowed)
    if (current, requested) in allowed:
        assert change_invoice_status("INV-2027-000001", current, requested, "r") is requested
    else:
        with pytest.raises(InvalidInvoiceTransition, match="INV-2027-000001"):
            change_invoice_status("INV-2027-000001", current, requested, "r")


def test_voiding_needs_a_reason() -> None:
    for reason in (None, "", "  "):
        with pytest.raises(VoidWithoutReason, match="needs a reason"):
            change_invoice_status(
                "SUP-2027-000003", InvoiceStatus.ISSUED, InvoiceStatus.VOID, reason
            )


def test_numbers_name_their_series() -> None:
    assert invoice_number(series_of(InvoiceKind.BUYER, 2027), 42) == "INV-2027-000042"
    assert invoice_number(series_of(InvoiceKind.SUPPLIER, 2026), 1) == "SUP-2026-000001"
