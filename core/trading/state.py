"""Position state on spot: one rule, one label, for every place that shows or checks it.

    LONG         the base asset is held above dust (whatever cash sits beside it)
    SHORT        the base is at dust and the value waits in the quote asset because the
                 trader asked for it (their last target for the symbol is SHORT); on spot
                 that reads "SHORT (in USDT)"
    NO_POSITION  the base is at dust otherwise: a cash-only account nobody asked to be
                 SHORT is not an open short

A balance is *dust* when the market would not let it trade: below the minimum quantity or
below the minimum order amount. Thresholds come from the market's own limits, never from
per-coin constants. The account holds what the trader asked for exactly when the state of
its holdings, read with that target, is the target; anything else is drift, unless a
working order of the app's (a priced order resting on the exchange) is on its way to the
target: the state then reads `LONG pending: BUY 0.29 ETH @ 3,300.00`.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from core import wording
from core.domain import (
    Balance,
    ExchangePosition,
    Holdings,
    MarketRules,
    OrderReport,
    PositionState,
    Side,
)


def works_toward(target: PositionState, side: Side) -> bool:
    """Whether a working order on `side` moves the account toward `target`: a BUY toward
    LONG, a SELL toward SHORT or NO_POSITION."""
    return (side is Side.BUY) == (target is PositionState.LONG)


def base_is_dust(qty: Decimal, price: Decimal, rules: MarketRules) -> bool:
    """True when `qty` of the base asset is too small to sell on this market (nothing held is
    always dust, also on a market without minimums)."""
    return qty <= 0 or qty < rules.min_amount or qty * price < rules.min_cost


def quote_is_dust(amount: Decimal, rules: MarketRules) -> bool:
    """True when `amount` of the quote asset is too small to buy anything on this market
    (nothing held is always dust, also on a market without a cost minimum)."""
    return amount <= 0 or amount < rules.min_cost


def position_state(
    holdings: Holdings,
    price: Decimal,
    rules: MarketRules,
    target: PositionState | None = None,
) -> PositionState:
    """The state of these holdings, read with the trader's last target for the symbol."""
    if not base_is_dust(holdings.base.total, price, rules):
        return PositionState.LONG
    asked_short = target is PositionState.SHORT
    if asked_short and not quote_is_dust(holdings.quote.total, rules):
        return PositionState.SHORT
    return PositionState.NO_POSITION


def reaches(target: PositionState, holdings: Holdings, price: Decimal, rules: MarketRules) -> bool:
    """Whether the account holds what the trader asked for."""
    return position_state(holdings, price, rules, target) is target


def state_label(state: PositionState, quote: str) -> str:
    """How the state reads on spot: a SHORT there means the value waits in the quote asset."""
    if state is PositionState.SHORT:
        return f"SHORT (in {quote})"
    return state.value


def pending_label(
    target: PositionState, working: Iterable[OrderReport], rules: MarketRules, quote: str
) -> str:
    """A target waiting on working orders: `LONG pending: BUY 0.29 ETH @ 3,300.00`, with what
    each filled so far (`, 0.1 filled`)."""
    orders = []
    for order in working:
        words = (
            f"{order.side.value.upper()} {wording.quantity(order.amount, rules.amount_step)} "
            f"{rules.base} @ {wording.price(order.price, rules.price_step)}"
        )
        if order.filled > 0:
            words += f", {wording.quantity(order.filled, rules.amount_step)} filled"
        orders.append(words)
    return f"{state_label(target, quote)} pending: {'; '.join(orders)}"


def spot_positions(
    account: str,
    balances: dict[str, Balance],
    prices: dict[str, Decimal],
    rules: dict[str, MarketRules],
    quote: str,
) -> list[ExchangePosition]:
    """A spot account's positions: every asset held above dust that has a market against
    `quote`, its quantity the whole holding, marked at the market's last price."""
    found = []
    for asset, balance in balances.items():
        symbol = f"{asset}/{quote}"
        if asset == quote or symbol not in rules or balance.total <= 0:
            continue
        price = prices.get(symbol)
        if price is None or base_is_dust(balance.total, price, rules[symbol]):
            continue
        found.append(ExchangePosition(account, symbol, balance.total, price))
    return sorted(found, key=lambda p: p.symbol)
