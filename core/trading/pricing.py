"""Prices and steps every order shares: quantities floored to the market's step, and the
marketable LIMIT price that fills an amount at once without going past the slippage cap.
The planner (which order) and the sizing (how much a BUY buys) both stand on this."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.domain import ZERO, MarketRules, OrderBook, Side, ceil_to_step, floor_to_step
from core.errors import AppError, InputError

TOUCH_OFFSET = Decimal("0.001")


class PlanError(AppError):
    """The target cannot be reached with this account and market; the text says why."""


class SizeError(PlanError, InputError):
    """The trader's order size does not fit the account or the market: nothing was sent."""


@dataclass(frozen=True)
class Limits:
    max_order_notional: Decimal
    max_slippage: Decimal


def marketable_price(
    book: OrderBook, side: Side, amount: Decimal, rules: MarketRules, limits: Limits
) -> Decimal:
    """A limit price that fills `amount` at once: 0.1% beyond the touch, or deeper where the
    book needs it, capped at MAX_SLIPPAGE from the touch."""
    levels = book.asks if side is Side.BUY else book.bids
    if not levels:
        raise PlanError(
            f"the {book.symbol} order book has no {'asks' if side is Side.BUY else 'bids'}"
        )
    touch = levels[0][0]
    sign = 1 if side is Side.BUY else -1
    price = touch * (1 + sign * TOUCH_OFFSET)
    # the level that covers the amount, or the deepest one shown when the book is too thin
    covered = ZERO
    reach = levels[-1][0]
    for level_price, level_qty in levels:
        covered += level_qty
        if covered >= amount:
            reach = level_price
            break
    price = max(price, reach) if side is Side.BUY else min(price, reach)
    cap = touch * (1 + sign * limits.max_slippage)
    price = min(price, cap) if side is Side.BUY else max(price, cap)
    rounded = (
        floor_to_step(price, rules.price_step)
        if side is Side.BUY
        else ceil_to_step(price, rules.price_step)
    )
    return rounded
