"""What balances are worth in the quote asset, at given prices: one rule for the equity
card, the balances panel and the equity curve, so they always add up."""

from __future__ import annotations

from decimal import Decimal

from core.domain import Balance


def asset_value(
    asset: str, balance: Balance, prices: dict[str, Decimal], quote: str
) -> Decimal | None:
    """The holding's value in `quote`; None when the asset has no price against it."""
    if asset == quote:
        return balance.total
    price = prices.get(f"{asset}/{quote}")
    return None if price is None else balance.total * price


def equity(balances: dict[str, Balance], prices: dict[str, Decimal], quote: str) -> Decimal:
    """Cash plus every priced holding."""
    values = (asset_value(a, b, prices, quote) for a, b in balances.items())
    return sum((v for v in values if v is not None), Decimal(0))
