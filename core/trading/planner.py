"""Pure planning of the corrective order that moves an account to a target state.

Orders are marketable LIMIT orders: the price starts a little beyond the touch, walks the
book far enough to cover the size, and never goes past the slippage cap. Quantities are
floored to the market's step so an order never asks for more than the account has. How much
a BUY buys is core.trading.sizing's rule, the one the ticket's preview shows. A partial exit
sells a part of the base and leaves the rest LONG: both the part and the rest must be
tradable on their own, or nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from core import wording
from core.domain import (
    ExitPart,
    Holdings,
    MarketRules,
    OrderBook,
    PositionState,
    Side,
    SizeKind,
    TradeSize,
    ceil_to_step,
    floor_to_step,
)
from core.trading.pricing import (
    Limits,
    PlanError,
    SizeError,
    marketable_price,
)
from core.trading.sizing import BuyMarket, ProblemKind, minimum_problems, size_buy
from core.trading.state import base_is_dust


@dataclass(frozen=True)
class OrderPlan:
    """One order to send. A `reduce_only` order (derivatives) can only shrink a position.
    A `price_limit` is the most a BUY and its repriced remainders may pay: a risk size's
    worst price, so no fill adds to the risk shown when the market moves up meanwhile.
    `leaves` is the base a partial exit keeps (None: the order is no partial exit).
    A `resting` order is the trader's working order at their own price: what does not fill
    at once rests on the exchange until it fills or is cancelled (never repriced)."""

    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    reduce_only: bool = False
    price_limit: Decimal | None = None
    leaves: Decimal | None = None
    resting: bool = False

    @property
    def notional(self) -> Decimal:
        return self.amount * self.price


def plan_order(
    target: PositionState,
    holdings: Holdings,
    book: OrderBook,
    rules: MarketRules,
    size: TradeSize,
    limits: Limits,
    part: ExitPart | None = None,
    limit_price: Decimal | None = None,
) -> OrderPlan | None:
    """The one order that moves the account toward `target`, or None when nothing is to do:
    a buy when LONG is asked and no base is held above dust, a sell of the base otherwise
    (of `part` of it, when given: SizeError when there is nothing to take a part of).
    With `limit_price` it is a resting order at that price (on the market's tick: a BUY's
    rounded down, a SELL's up), sized at that price; a part is taken at the market only."""
    mid = reference_price(book)
    base_dust = base_is_dust(holdings.base.total, mid, rules)
    if target is PositionState.LONG:
        if not base_dust:
            return None
        price = None if limit_price is None else floor_to_step(limit_price, rules.price_step)
        return _plan_buy(holdings, book, rules, size, limits, price)
    if base_dust:
        if part is not None:
            raise SizeError(
                f"nothing to close a part of: the account {wording.holdings(holdings, rules)}"
            )
        return None
    if part is not None:
        return _plan_part(holdings, book, rules, part, limits)
    if limit_price is not None:
        price = ceil_to_step(limit_price, rules.price_step)
        return _plan_resting_sell(holdings, rules, limits, price)
    return _plan_sell(holdings, book, rules, limits)


def _plan_buy(
    holdings: Holdings,
    book: OrderBook,
    rules: MarketRules,
    size: TradeSize,
    limits: Limits,
    limit_price: Decimal | None = None,
) -> OrderPlan:
    """The BUY the ticket's preview showed for the same book and cash (core.trading.sizing);
    with a limit price, sized at that price, to rest."""
    market = BuyMarket(book, rules, holdings.quote.free, limit_price)
    sized = size_buy(size, market, limits)
    if sized.problems:
        first = sized.problems[0]
        raise (PlanError if first.kind is ProblemKind.NO_ASKS else SizeError)(first.words)
    limit = sized.worst_price if size.kind is SizeKind.RISK_PCT else None
    return OrderPlan(
        rules.symbol,
        Side.BUY,
        sized.quantity,
        sized.worst_price,
        price_limit=limit,
        resting=limit_price is not None,
    )


def _plan_resting_sell(
    holdings: Holdings, rules: MarketRules, limits: Limits, price: Decimal
) -> OrderPlan:
    """A SELL of the free base at the trader's price, cut to the caps, to rest."""
    amount = floor_to_step(holdings.base.free, rules.amount_step)
    cap = limits.max_order_notional
    if rules.max_cost is not None:
        cap = min(cap, rules.max_cost)
    if amount * price > cap:
        amount = floor_to_step(cap / price, rules.amount_step)
    problems = minimum_problems(amount, price, rules, f"selling {rules.base}")
    if problems:
        raise SizeError(problems[0].words)
    return OrderPlan(rules.symbol, Side.SELL, amount, price, resting=True)


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
    problems = minimum_problems(amount, price, rules, f"selling {rules.base}")
    if problems:
        raise PlanError(problems[0].words)
    return OrderPlan(rules.symbol, Side.SELL, amount, price)


def _plan_part(
    holdings: Holdings, book: OrderBook, rules: MarketRules, part: ExitPart, limits: Limits
) -> OrderPlan:
    """The SELL of `part` of the base held, floored to the step; a part that takes all there
    is to sell is the full exit. Refused (SizeError, nothing sent) when the part or the rest
    is below the market's minimums (the rest could never be sold on its own: close it all),
    when it asks for more than is held, or when it is above the notional cap (a partial exit
    is never silently cut)."""
    held, step, base = holdings.base.total, rules.amount_step, rules.base
    if part.qty is not None and part.qty > held:
        raise SizeError(
            f"closing {wording.quantity(part.qty, step)} {base} is more than the "
            f"{wording.quantity(held, step)} {base} held: close it all, or a smaller part"
        )
    asked = part.qty if part.qty is not None else held * part.pct / 100
    amount = floor_to_step(asked, step)
    if amount >= floor_to_step(holdings.base.free, step):
        return _plan_sell(holdings, book, rules, limits)
    price = marketable_price(book, Side.SELL, amount, rules, limits)
    what = _part_words(part, held, step, base)
    problems = minimum_problems(amount, price, rules, what)
    if problems:
        raise SizeError(problems[0].words)
    rest = held - amount
    if base_is_dust(rest, reference_price(book), rules):
        raise SizeError(
            f"{what} leaves {wording.quantity(rest, step)} {base}, below the market minimum "
            f"({wording.quantity(rules.min_amount, step)} {base}, "
            f"{wording.money(rules.min_cost, rules.quote)}): it could not be sold on its own; "
            "close it all instead (100 %, or no part)"
        )
    cap = limits.max_order_notional
    if rules.max_cost is not None:
        cap = min(cap, rules.max_cost)
    if amount * price > cap:
        raise SizeError(
            f"{what} is an order of {wording.money(amount * price, rules.quote)}, above the "
            f"largest order allowed ({wording.money(cap, rules.quote)}): close a smaller part"
        )
    return OrderPlan(rules.symbol, Side.SELL, amount, price, leaves=rest)


def _part_words(part: ExitPart, held: Decimal, step: Decimal, base: str) -> str:
    """`closing 50 % of 0.5 ETH`, `closing 0.2 of 0.5 ETH`."""
    share = (
        f"{part.pct.normalize():f} %" if part.pct is not None else wording.quantity(part.qty, step)
    )
    return f"closing {share} of {wording.quantity(held, step)} {base}"


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
    keeps to the quote `plan` set aside: what it did not spend, at the new price, never above
    its price limit. A reduce-only order closes what is left of a position whatever it costs
    now, and needs no minimum order value."""
    left = plan.amount - filled
    if left <= 0:
        return None
    price = marketable_price(book, plan.side, left, rules, limits)
    if plan.price_limit is not None:
        price = min(price, plan.price_limit)
    if plan.side is Side.BUY and not plan.reduce_only:
        left = min(left, floor_to_step((plan.notional - spent) / price, rules.amount_step))
    left = floor_to_step(left, rules.amount_step)
    below_minimum = left < rules.min_amount or (
        not plan.reduce_only and left * price < rules.min_cost
    )
    if left <= 0 or below_minimum:
        return None
    return replace(plan, amount=left, price=price)
