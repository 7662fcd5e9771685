"""Pure planning of the corrective order that moves an account to a target state.

Orders are marketable LIMIT orders: the price starts a little beyond the touch, walks the
book far enough to cover the size, and never goes past the slippage cap. Quantities are
floored to the market's step so an order never asks for more than the account has.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from core import wording
from core.domain import ZERO, Holdings, MarketRules, OrderBook, PositionState, Side, TradeSize
from core.errors import AppError, InputError
from core.trading.state import base_is_dust

TOUCH_OFFSET = Decimal("0.001")
DEFAULT_PCT_OF_FREE_QUOTE = Decimal(95)


class PlanError(AppError):
    """The target cannot be reached with this account and market; the text says why."""


class SizeError(PlanError, InputError):
    """The trader's order size does not fit the account or the market: nothing was sent."""


@dataclass(frozen=True)
class OrderPlan:
    """One order to send. A `reduce_only` order (derivatives) can only shrink a position."""

    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    reduce_only: bool = False

    @property
    def notional(self) -> Decimal:
        return self.amount * self.price


@dataclass(frozen=True)
class Limits:
    max_order_notional: Decimal
    max_slippage: Decimal


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def buy_quote_amount(
    size: TradeSize, free_quote: Decimal, limits: Limits, quote: str = "USDT"
) -> Decimal:
    """How much quote a LONG spends: the trader's amount or percentage (95% of the free quote
    by default), never more than is free, capped by MAX_ORDER_NOTIONAL."""
    if size.quote_amount is not None:
        wanted = size.quote_amount
    else:
        pct = (
            size.pct_of_free_quote
            if size.pct_of_free_quote is not None
            else DEFAULT_PCT_OF_FREE_QUOTE
        )
        wanted = free_quote * pct / 100
    if wanted > free_quote:
        raise SizeError(
            f"Order size {wording.money(wanted, quote)} is above the free balance of "
            f"{wording.money(free_quote, quote)}."
        )
    return min(wanted, limits.max_order_notional)


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


def plan_order(
    target: PositionState,
    holdings: Holdings,
    book: OrderBook,
    rules: MarketRules,
    size: TradeSize,
    limits: Limits,
) -> OrderPlan | None:
    """The one order that moves the account toward `target`, or None when nothing is to do:
    a buy when LONG is asked and no base is held above dust, a sell of the base otherwise."""
    mid = reference_price(book)
    base_dust = base_is_dust(holdings.base.total, mid, rules)
    if target is PositionState.LONG:
        if not base_dust:
            return None
        return _plan_buy(holdings, book, rules, size, limits)
    if base_dust:
        return None
    return _plan_sell(holdings, book, rules, limits)


def _plan_buy(
    holdings: Holdings, book: OrderBook, rules: MarketRules, size: TradeSize, limits: Limits
) -> OrderPlan:
    spend = buy_quote_amount(size, holdings.quote.free, limits, rules.quote)
    if spend < rules.min_cost:
        raise SizeError(
            f"Order size {wording.money(spend, rules.quote)} is below the market minimum "
            f"of {wording.money(rules.min_cost, rules.quote)}."
        )
    estimate = floor_to_step(spend / book.best_ask, rules.amount_step) if book.best_ask else ZERO
    price = marketable_price(book, Side.BUY, estimate, rules, limits)
    amount = floor_to_step(spend / price, rules.amount_step)
    _check_minimums(amount, price, rules, f"buying {wording.money(spend, rules.quote)}", SizeError)
    if rules.max_cost is not None and amount * price > rules.max_cost:
        raise SizeError(
            f"An order of {wording.money(amount * price, rules.quote)} is above the market's "
            f"maximum order of {wording.money(rules.max_cost, rules.quote)}."
        )
    return OrderPlan(rules.symbol, Side.BUY, amount, price)


def _plan_sell(
    holdings: Holdings, book: OrderBook, rules: MarketRules, limits: Limits
) -> OrderPlan:
    amount = floor_to_step(holdings.base.free, rules.amount_step)
    price = marketable_price(book, Side.SELL, amount, rules, limits)
    cap = limits.max_order_notional
    if rules.max_cost is not None:  # the market's own maximum order holds for sells too
        cap = min(cap, rules.max_cost)
    if amount * price > cap:
        amount = floor_to_step(cap / price, rules.amount_step)
    _check_minimums(amount, price, rules, f"selling {rules.base}", PlanError)
    return OrderPlan(rules.symbol, Side.SELL, amount, price)


def _check_minimums(
    amount: Decimal, price: Decimal, rules: MarketRules, what: str, error: type[PlanError]
) -> None:
    step = rules.amount_step
    if amount <= 0 or amount < rules.min_amount:
        raise error(
            f"{what} gives {wording.quantity(amount, step)} {rules.base}, below the market "
            f"minimum of {wording.quantity(rules.min_amount, step)} {rules.base}"
        )
    if amount * price < rules.min_cost:
        raise error(
            f"{what} gives an order of {wording.money(amount * price, rules.quote)}, "
            f"below the market minimum of {wording.money(rules.min_cost, rules.quote)}"
        )


def reference_price(book: OrderBook) -> Decimal:
    """The book's mid, or its one side when the other is empty."""
    if book.best_bid and book.best_ask:
        return (book.best_bid + book.best_ask) / 2
    price = book.best_bid or book.best_ask
    if price is None:
        raise PlanError(f"the {book.symbol} order book is empty")
    return price


def plan_close(
    position_qty: Decimal, book: OrderBook, rules: MarketRules, limits: Limits
) -> OrderPlan | None:
    """The one reduce-only order that closes a derivatives position (`position_qty` signed,
    below zero a short), or None when flat: the other side, the whole size floored to the
    step, at a marketable price capped by the slippage limit. No notional cap: it only ever
    reduces risk, and a reduce-only order needs no minimum order value."""
    if position_qty == 0:
        return None
    amount = floor_to_step(abs(position_qty), rules.amount_step)
    if amount <= 0:
        raise PlanError(
            f"the {rules.symbol} position of {position_qty.normalize():f} {rules.base} is "
            f"below the market's step of {rules.amount_step.normalize():f}: no order can close it"
        )
    side = Side.SELL if position_qty > 0 else Side.BUY
    price = marketable_price(book, side, amount, rules, limits)
    return OrderPlan(rules.symbol, side, amount, price, reduce_only=True)


def plan_remainder(
    plan: OrderPlan,
    filled: Decimal,
    spent: Decimal,
    book: OrderBook,
    rules: MarketRules,
    limits: Limits,
) -> OrderPlan | None:
    """The repriced order for what `plan` left unfilled, or None when the rest is dust. A buy
    keeps to the quote `plan` set aside: what it did not spend, at the new price. A
    reduce-only order closes what is left of a position whatever it costs now, and needs no
    minimum order value."""
    left = plan.amount - filled
    if left <= 0:
        return None
    price = marketable_price(book, plan.side, left, rules, limits)
    if plan.side is Side.BUY and not plan.reduce_only:
        left = min(left, floor_to_step((plan.notional - spent) / price, rules.amount_step))
    left = floor_to_step(left, rules.amount_step)
    below_minimum = left < rules.min_amount or (
        not plan.reduce_only and left * price < rules.min_cost
    )
    if left <= 0 or below_minimum:
        return None
    return replace(plan, amount=left, price=price)
