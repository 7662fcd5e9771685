"""Position state on spot, derived from holdings exactly as a trader reads an account.

A balance is *dust* when the market would not let it trade: below the minimum quantity or
below the minimum order amount. Thresholds come from the market's own limits, never from
per-coin constants; `dust_floor` lets settings tighten them.
"""

from __future__ import annotations

from decimal import Decimal

from core.domain import ZERO, Balance, ExchangePosition, Holdings, MarketRules, PositionState


def base_is_dust(
    qty: Decimal, price: Decimal, rules: MarketRules, dust_floor: Decimal = ZERO
) -> bool:
    """True when `qty` of the base asset is too small to sell on this market (nothing held is
    always dust, also on a market without minimums)."""
    return qty <= 0 or qty < rules.min_amount or qty * price < max(rules.min_cost, dust_floor)


def quote_is_dust(amount: Decimal, rules: MarketRules, dust_floor: Decimal = ZERO) -> bool:
    """True when `amount` of the quote asset is too small to buy anything on this market
    (nothing held is always dust, also on a market without a cost minimum)."""
    return amount <= 0 or amount < max(rules.min_cost, dust_floor)


def derive_state(
    holdings: Holdings, price: Decimal, rules: MarketRules, dust_floor: Decimal = ZERO
) -> PositionState:
    """LONG when the base is held above dust, SHORT when the value sits in the quote asset
    only, NO_POSITION when neither is above dust; mixed holdings go to the side with the
    larger quote value (ties go LONG: the coins are really there)."""
    base_qty = holdings.base.total
    quote_amount = holdings.quote.total
    has_base = not base_is_dust(base_qty, price, rules, dust_floor)
    has_quote = not quote_is_dust(quote_amount, rules, dust_floor)
    if has_base and has_quote:
        return PositionState.LONG if base_qty * price >= quote_amount else PositionState.SHORT
    if has_base:
        return PositionState.LONG
    if has_quote:
        return PositionState.SHORT
    return PositionState.NO_POSITION


def state_label(state: PositionState, quote: str) -> str:
    """How the state reads on spot: a SHORT there means the value waits in the quote asset."""
    if state is PositionState.SHORT:
        return f"SHORT (in {quote})"
    return state.value


def reaches(
    target: PositionState,
    holdings: Holdings,
    price: Decimal,
    rules: MarketRules,
    dust_floor: Decimal = ZERO,
) -> bool:
    """Whether the account holds what the trader asked for. On spot a LONG is any base held
    above dust (a small buy beside a large cash balance is still the LONG that was asked
    for); SHORT is the value in the quote asset with the base sold to dust; NO_POSITION is
    the base sold to dust, whatever cash remains."""
    base_dust = base_is_dust(holdings.base.total, price, rules, dust_floor)
    if target is PositionState.LONG:
        return not base_dust
    if target is PositionState.SHORT:
        return base_dust and not quote_is_dust(holdings.quote.total, rules, dust_floor)
    return base_dust


def shown_state(
    target: PositionState | None,
    holdings: Holdings,
    price: Decimal,
    rules: MarketRules,
    dust_floor: Decimal = ZERO,
) -> PositionState:
    """The state a trader sees: the target while the account still holds it, otherwise the
    state the holdings alone say (which then differs from the target: that is drift)."""
    if target is not None and reaches(target, holdings, price, rules, dust_floor):
        return target
    return derive_state(holdings, price, rules, dust_floor)


def spot_positions(
    account: str,
    balances: dict[str, Balance],
    prices: dict[str, Decimal],
    rules: dict[str, MarketRules],
    quote: str,
    dust_floor: Decimal = ZERO,
) -> list[ExchangePosition]:
    """A spot account's positions: every asset held above dust that has a market against
    `quote`, its quantity the whole holding, marked at the market's last price."""
    found = []
    for asset, balance in balances.items():
        symbol = f"{asset}/{quote}"
        if asset == quote or symbol not in rules or balance.total <= 0:
            continue
        price = prices.get(symbol)
        if price is None or base_is_dust(balance.total, price, rules[symbol], dust_floor):
            continue
        found.append(ExchangePosition(account, symbol, balance.total, price))
    return sorted(found, key=lambda p: p.symbol)
