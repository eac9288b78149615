"""Order value objects: money, pricing and margin, quantity, shipments.

The workflow (states, moves, reactions) lives in :mod:`looptrace_orders.workflow`.
Money is ``Decimal``, never float. Totals and margins are derived, never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from looptrace_orders.workflow import OrderRuleViolation

#: ISO 4217 codes accepted for prices and costs: the buyers' and the sourcing
#: countries' currencies. Add a code here to accept it.
ACCEPTED_CURRENCIES: Final = frozenset(
    {
        "AUD", "BDT", "BRL", "CAD", "CHF", "CNY", "DKK", "EGP", "EUR", "GBP",
        "HKD", "IDR", "INR", "JPY", "KHR", "KRW", "LKR", "MAD", "MMK", "MXN",
        "NOK", "NZD", "PKR", "PLN", "SEK", "SGD", "THB", "TRY", "TWD", "USD",
        "VND", "ZAR",
    }
)  # fmt: skip

_HUNDRED: Final = Decimal(100)
_PERCENT_PLACES: Final = Decimal("0.01")


class UnknownCurrency(OrderRuleViolation):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            f"currency '{code}' is not accepted; use an ISO 4217 code, one of: "
            + ", ".join(sorted(ACCEPTED_CURRENCIES))
        )


class CurrencyMismatch(OrderRuleViolation):
    def __init__(self, left: str, right: str, what: str = "amounts") -> None:
        super().__init__(
            f"{what} must be in one currency; got {left} and {right}. "
            f"Convert one of them to {left} first"
        )


class InvalidAmount(OrderRuleViolation):
    """An amount that is not a finite decimal (e.g. a float, NaN or infinity)."""


class InvalidPrice(OrderRuleViolation):
    """A price or cost outside what the trade allows (e.g. a negative unit cost)."""


class InvalidQuantity(OrderRuleViolation):
    def __init__(self, value: object, what: str = "quantity") -> None:
        self.value = value
        super().__init__(f"{what} must be a whole number of pieces greater than 0; got {value!r}")


class OverShipment(OrderRuleViolation):
    def __init__(self, ordered: int, shipped: int) -> None:
        self.ordered = ordered
        self.shipped = shipped
        super().__init__(
            f"shipments add up to {shipped} pieces but the order is for {ordered}; "
            f"reduce the shipment by {shipped - ordered} pieces or amend the order quantity"
        )


@dataclass(frozen=True)
class Money:
    """An exact amount in one ISO 4217 currency (codes are upper-cased)."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise InvalidAmount(
                f"amount must be a finite Decimal (e.g. Decimal('12.50')); got {self.amount!r}"
            )
        code = self.currency.strip().upper()
        if code not in ACCEPTED_CURRENCIES:
            raise UnknownCurrency(self.currency)
        object.__setattr__(self, "currency", code)

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        """Build from a string or int (``Money.of("12.50", "USD")``); floats are refused."""
        if isinstance(amount, float):
            raise InvalidAmount(f"amount must not be a float; pass it as a string: '{amount}'")
        return cls(Decimal(amount), currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, factor: int | Decimal) -> Money:
        return Money(self.amount * factor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(self.currency, other.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def check_quantity(value: int, what: str = "quantity") -> int:
    """Return ``value`` when it is a whole number of pieces > 0; raise ``InvalidQuantity``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidQuantity(value, what)
    return value


@dataclass(frozen=True)
class Pricing:
    """What the buyer pays and what the supplier costs; totals and margin are derived.

    Margin is on the selling price: ``(total - supplier total) / total``. It is
    ``None`` while the supplier cost is not known yet (e.g. on a quote); the
    percentage is also ``None`` for a free order (a unit price of 0, e.g. samples).
    """

    unit_price: Money
    quantity: int
    supplier_unit_cost: Money | None = None

    def __post_init__(self) -> None:
        check_quantity(self.quantity)
        if self.unit_price.amount < 0:
            raise InvalidPrice(f"unit price must not be negative; got {self.unit_price}")
        cost = self.supplier_unit_cost
        if cost is not None and cost.currency != self.unit_price.currency:
            raise CurrencyMismatch(self.unit_price.currency, cost.currency, "price and cost")
        if cost is not None and cost.amount < 0:
            raise InvalidPrice(f"supplier unit cost must not be negative; got {cost}")

    @property
    def total(self) -> Money:
        return self.unit_price.times(self.quantity)

    @property
    def supplier_total(self) -> Money | None:
        cost = self.supplier_unit_cost
        return None if cost is None else cost.times(self.quantity)

    @property
    def margin(self) -> Money | None:
        supplier_total = self.supplier_total
        return None if supplier_total is None else self.total - supplier_total

    @property
    def margin_percent(self) -> Decimal | None:
        """Margin as a percentage of the selling price, to two decimals (negative at a loss)."""
        margin = self.margin
        if margin is None or not self.total.amount:
            return None
        return (margin.amount / self.total.amount * _HUNDRED).quantize(_PERCENT_PLACES)


@dataclass(frozen=True)
class Shipment:
    """One dispatch of part (or all) of an order."""

    quantity: int
    reference: str = ""

    def __post_init__(self) -> None:
        check_quantity(self.quantity, "shipment quantity")


def shipped_quantity(shipments: Iterable[Shipment]) -> int:
    return sum(s.quantity for s in shipments)


def check_shipments(ordered: int, shipments: Iterable[Shipment]) -> int:
    """Return the pieces shipped so far; raise ``OverShipment`` above the order quantity."""
    shipped = shipped_quantity(shipments)
    if shipped > check_quantity(ordered):
        raise OverShipment(ordered, shipped)
    return shipped


def remaining_quantity(ordered: int, shipments: Iterable[Shipment]) -> int:
    return ordered - check_shipments(ordered, shipments)


def is_fully_shipped(ordered: int, shipments: Iterable[Shipment]) -> bool:
    """True once partial shipments add up to the order quantity (more raises ``OverShipment``)."""
    return check_shipments(ordered, shipments) == ordered
