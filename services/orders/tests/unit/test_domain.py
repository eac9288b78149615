from __future__ import annotations

from decimal import Decimal

import pytest

from looptrace_orders.domain import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidPrice,
    InvalidQuantity,
    Money,
    OverShipment,
    Pricing,
    Shipment,
    UnknownCurrency,
    check_quantity,
    check_shipments,
    is_fully_shipped,
    remaining_quantity,
)
from looptrace_orders.workflow import OrderRuleViolation


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def test_money_normalises_currency_code() -> None:
    assert Money.of("1.10", "usd") == Money(Decimal("1.10"), "USD")


def test_unknown_currency_names_the_code_and_the_accepted_ones() -> None:
    with pytest.raises(UnknownCurrency) as info:
        Money.of("1", "XYZ")
    assert "'XYZ'" in str(info.value)
    assert "USD" in str(info.value) and "BDT" in str(info.value)
    assert isinstance(info.value, OrderRuleViolation)


@pytest.mark.parametrize("bad", [1.5, "NaN", "Infinity"])
def test_money_refuses_floats_and_non_finite(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        Money.of(bad, "EUR")  # type: ignore[arg-type]


def test_money_arithmetic_is_exact_and_single_currency() -> None:
    assert usd("0.10") + usd("0.20") == usd("0.30")
    assert usd("1.00") - usd("0.35") == usd("0.65")
    assert usd("2.05").times(3) == usd("6.15")
    with pytest.raises(CurrencyMismatch, match="USD and EUR"):
        usd("1") + Money.of("1", "EUR")


def test_pricing_derives_total_and_margin() -> None:
    pricing = Pricing(unit_price=usd("12.50"), quantity=1000, supplier_unit_cost=usd("9.10"))
    assert pricing.total == usd("12500.00")
    assert pricing.supplier_total == usd("9100.00")
    assert pricing.margin == usd("3400.00")
    assert pricing.margin_percent == Decimal("27.20")


def test_pricing_margin_can_be_a_loss() -> None:
    pricing = Pricing(unit_price=usd("10"), quantity=3, supplier_unit_cost=usd("11"))
    assert pricing.margin == usd("-3")
    assert pricing.margin_percent == Decimal("-10.00")


def test_pricing_without_supplier_cost_has_no_margin_yet() -> None:
    pricing = Pricing(unit_price=usd("4"), quantity=10)
    assert pricing.total == usd("40")
    assert pricing.margin is None and pricing.margin_percent is None


def test_free_order_has_a_margin_amount_but_no_percentage() -> None:
    pricing = Pricing(unit_price=usd("0"), quantity=5, supplier_unit_cost=usd("1.20"))
    assert pricing.margin == usd("-6.00")
    assert pricing.margin_percent is None


def test_pricing_rules() -> None:
    with pytest.raises(InvalidPrice, match="must not be negative; got -0.01 USD"):
        Pricing(unit_price=usd("-0.01"), quantity=1)
    with pytest.raises(InvalidPrice, match="must not be negative"):
        Pricing(unit_price=usd("1"), quantity=1, supplier_unit_cost=usd("-1"))
    with pytest.raises(CurrencyMismatch, match="price and cost"):
        Pricing(unit_price=usd("1"), quantity=1, supplier_unit_cost=Money.of("1", "CNY"))
    with pytest.raises(InvalidQuantity):
        Pricing(unit_price=usd("1"), quantity=0)


@pytest.mark.parametrize("bad", [0, -5, True, 2.5, "10"])
def test_quantity_must_be_positive_whole_pieces(bad: object) -> None:
    with pytest.raises(InvalidQuantity) as info:
        check_quantity(bad)  # type: ignore[arg-type]
    assert repr(bad) in str(info.value)


def test_quantity_accepts_positive_ints() -> None:
    assert check_quantity(1) == 1


def test_partial_shipments_add_up() -> None:
    shipments = [Shipment(400, "BL-1"), Shipment(350, "BL-2")]
    assert not is_fully_shipped(1000, shipments)
    assert remaining_quantity(1000, shipments) == 250
    assert is_fully_shipped(1000, [*shipments, Shipment(250, "BL-3")])
    assert not is_fully_shipped(1000, [])


def test_over_shipment_names_the_excess() -> None:
    with pytest.raises(OverShipment) as info:
        check_shipments(1000, [Shipment(800), Shipment(300)])
    assert "1100" in str(info.value) and "1000" in str(info.value) and "by 100" in str(info.value)
    with pytest.raises(OverShipment):
        is_fully_shipped(10, [Shipment(11)])


def test_empty_shipment_is_refused() -> None:
    with pytest.raises(InvalidQuantity, match="shipment quantity"):
        Shipment(0)
