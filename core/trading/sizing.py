"""How much a BUY buys, and what it would cost and risk, before anything is sent: the one
sizing rule behind the ticket's preview and the order a LONG trade plans inside its lock.

A size is a quote amount, a percentage of the free cash, a base quantity, or a percentage
of equity at risk to the stop-loss:

    quantity = R % of equity / (worst price - stop), rounded down to the market's step

The worst price is the marketable LIMIT price the order carries (core.trading.pricing): the
order never fills above it, so the loss if the stop fills at its price is at most the risk
shown. The fee is shown beside the risk, not in it.

Pure: the book, the market's rules, the free cash and the equity come in; nothing is read
or sent here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from core import wording
from core.domain import ZERO, MarketRules, OrderBook, Side, SizeKind, TradeSize, floor_to_step
from core.trading.pricing import Limits, marketable_price

# What a trade given no size at all spends (a caller in code: the ticket and the command
# line always send one, and enforce buys only the size remembered with the target).
DEFAULT_PCT_OF_FREE_QUOTE = Decimal(95)


class ProblemKind(StrEnum):
    NO_ASKS = "no_asks"
    NO_STOP = "no_stop"
    NO_EQUITY = "no_equity"
    STOP_NOT_BELOW = "stop_not_below"
    NOT_ENOUGH_CASH = "not_enough_cash"
    BELOW_MINIMUM = "below_minimum"
    ABOVE_MARKET_MAXIMUM = "above_market_maximum"
    ABOVE_CAP = "above_cap"


@dataclass(frozen=True)
class Problem:
    """Why the BUY cannot be sent as sized, in the words the trader reads."""

    kind: ProblemKind
    words: str


@dataclass(frozen=True)
class BuyMarket:
    """What a BUY is sized against: the symbol's order book and rules, and the free quote.
    `limit_price` is the trader's own price for a BUY that rests: it is then the worst
    price, in place of the marketable one."""

    book: OrderBook
    rules: MarketRules
    free_cash: Decimal
    limit_price: Decimal | None = None

    def worst_price(self, quantity: Decimal, limits: Limits) -> Decimal:
        if self.limit_price is not None:
            return self.limit_price
        return marketable_price(self.book, Side.BUY, quantity, self.rules, limits)


@dataclass(frozen=True)
class Preview:
    """A BUY as it would be sent: `quantity` at a limit of `worst_price` (None: the book has
    no asks), its cost and taker fee in the quote asset, and what it risks to the stop.
    `capped`: a quote or cash size was cut to MAX_ORDER_NOTIONAL. Nothing is sent while
    `problems` is not empty."""

    rules: MarketRules
    quantity: Decimal
    worst_price: Decimal | None
    equity: Decimal | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    problems: tuple[Problem, ...] = ()
    capped: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def cost(self) -> Decimal:
        return self.quantity * self.worst_price if self.worst_price is not None else ZERO

    @property
    def fee(self) -> Decimal:
        return self.cost * self.rules.taker_fee

    @property
    def stop_distance(self) -> Decimal | None:
        """From the worst price down to the stop, per unit of the base."""
        if self.stop_loss is None or self.worst_price is None:
            return None
        distance = self.worst_price - self.stop_loss
        return distance if distance > 0 else None

    @property
    def stop_distance_pct(self) -> Decimal | None:
        distance = self.stop_distance
        return None if distance is None else distance * 100 / self.worst_price

    @property
    def risk(self) -> Decimal | None:
        """What is lost, before fees, if the whole quantity is sold at the stop."""
        distance = self.stop_distance
        return None if distance is None else self.quantity * distance

    @property
    def risk_pct(self) -> Decimal | None:
        risk = self.risk
        if risk is None or not self.equity or self.equity <= 0:
            return None
        return risk * 100 / self.equity

    @property
    def r_multiple(self) -> Decimal | None:
        """The take-profit's gain per unit as a multiple of the stop's loss per unit."""
        distance = self.stop_distance
        if distance is None or self.take_profit is None:
            return None
        return (self.take_profit - self.worst_price) / distance


def size_buy(
    size: TradeSize, market: BuyMarket, limits: Limits, take_profit: Decimal | None = None
) -> Preview:
    """The BUY `size` asks for on this market, with every problem that keeps it from being
    sent. The size's equity is what a risk size is a percentage of, and what any risk to
    its stop-loss is shown against."""
    rules, book, equity = market.rules, market.book, size.equity
    found: list[Problem] = []

    def preview(quantity: Decimal, worst: Decimal | None, capped: bool = False) -> Preview:
        return Preview(
            rules, quantity, worst, equity, size.stop_loss, take_profit, tuple(found), capped
        )

    if not book.asks:
        found.append(Problem(ProblemKind.NO_ASKS, f"the {rules.symbol} order book has no asks"))
        return preview(ZERO, None)
    kind, capped = size.kind, False
    if kind is SizeKind.RISK_PCT:
        sized = _by_risk(size, market, limits, found)
        if sized is None:
            return preview(ZERO, market.worst_price(ZERO, limits))
        quantity, worst, what = sized
    elif kind is SizeKind.BASE_QTY:
        quantity = floor_to_step(size.base_qty, rules.amount_step)
        worst = market.worst_price(quantity, limits)
        what = f"buying {wording.quantity(size.base_qty, rules.amount_step)} {rules.base}"
    else:
        quantity, worst, capped, what = _by_cash(size, market, limits, found)
    cost = quantity * worst
    if not any(p.kind is ProblemKind.BELOW_MINIMUM for p in found):
        found.extend(minimum_problems(quantity, worst, rules, what))
    if rules.max_cost is not None and cost > rules.max_cost:
        found.append(
            Problem(
                ProblemKind.ABOVE_MARKET_MAXIMUM,
                f"An order of {wording.money(cost, rules.quote)} is above the market's "
                f"maximum order of {wording.money(rules.max_cost, rules.quote)}.",
            )
        )
    if kind in (SizeKind.BASE_QTY, SizeKind.RISK_PCT):
        _check_cap_and_cash(cost, market, limits, found)
    if kind is not SizeKind.RISK_PCT and size.stop_loss is not None and size.stop_loss >= worst:
        found.append(_stop_not_below(size.stop_loss, worst, rules))
    return preview(quantity, worst, capped)


def minimum_problems(
    amount: Decimal, price: Decimal, rules: MarketRules, what: str
) -> list[Problem]:
    """An order of `amount` at `price` below the market's minimum quantity or order value
    (`what` says which order: `buying 100.00 USDT`, `selling ETH`)."""
    step = rules.amount_step
    if amount <= 0 or amount < rules.min_amount:
        return [
            Problem(
                ProblemKind.BELOW_MINIMUM,
                f"{what} gives {wording.quantity(amount, step)} {rules.base}, below the market "
                f"minimum of {wording.quantity(rules.min_amount, step)} {rules.base}",
            )
        ]
    if amount * price < rules.min_cost:
        return [
            Problem(
                ProblemKind.BELOW_MINIMUM,
                f"{what} gives an order of {wording.money(amount * price, rules.quote)}, "
                f"below the market minimum of {wording.money(rules.min_cost, rules.quote)}",
            )
        ]
    return []


def most_within(budget: Decimal, per_unit: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` whose `per_unit` cost stays within `budget`. (A
    division rounded at Decimal's 28 digits can land one step high: checked, not hoped.)"""
    quantity = floor_to_step(budget / per_unit, step)
    if quantity > 0 and quantity * per_unit > budget:
        quantity -= step
    return quantity


def _by_cash(
    size: TradeSize, market: BuyMarket, limits: Limits, found: list[Problem]
) -> tuple[Decimal, Decimal, bool, str]:
    """A quote amount, or a percentage of the free quote: never more than is free, cut to
    MAX_ORDER_NOTIONAL."""
    rules, book, free = market.rules, market.book, market.free_cash
    if size.quote_amount is not None:
        wanted = size.quote_amount
    else:
        pct = size.pct_of_free_quote
        wanted = free * (pct if pct is not None else DEFAULT_PCT_OF_FREE_QUOTE) / 100
    if wanted > free:
        found.append(
            Problem(
                ProblemKind.NOT_ENOUGH_CASH,
                f"Order size {wording.money(wanted, rules.quote)} is above the free balance of "
                f"{wording.money(free, rules.quote)}.",
            )
        )
    spend = min(wanted, limits.max_order_notional)
    if spend < rules.min_cost:
        found.append(
            Problem(
                ProblemKind.BELOW_MINIMUM,
                f"Order size {wording.money(spend, rules.quote)} is below the market minimum "
                f"of {wording.money(rules.min_cost, rules.quote)}.",
            )
        )
    estimate = floor_to_step(spend / book.best_ask, rules.amount_step)
    worst = market.worst_price(estimate, limits)
    quantity = most_within(spend, worst, rules.amount_step)
    return quantity, worst, spend < wanted, f"buying {wording.money(spend, rules.quote)}"


def _by_risk(
    size: TradeSize, market: BuyMarket, limits: Limits, found: list[Problem]
) -> tuple[Decimal, Decimal, str] | None:
    """R % of equity over the distance from the worst price to the stop, or None (with the
    reason in `found`) when there is no stop, no equity, or the stop is not below the
    price. The worst price of the first estimate covers the final quantity, which is never
    larger."""
    book, rules = market.book, market.rules
    stop, equity, ask = size.stop_loss, size.equity, market.limit_price or book.best_ask
    if stop is None:
        found.append(
            Problem(
                ProblemKind.NO_STOP,
                "Sizing by risk needs a stop-loss price: the risk is what is lost if it fills.",
            )
        )
    if equity is None or equity <= 0:
        found.append(
            Problem(
                ProblemKind.NO_EQUITY,
                "The account's equity is not known (its balances or prices were not read): "
                "a percentage of it cannot be sized.",
            )
        )
    if found:
        return None
    if stop >= ask:
        found.append(_stop_not_below(stop, ask, rules))
        return None
    budget = equity * size.risk_pct / 100
    estimate = floor_to_step(budget / (ask - stop), rules.amount_step)
    worst = market.worst_price(estimate, limits)
    if stop >= worst:  # a book off the price grid: the limit would be below the stop
        found.append(_stop_not_below(stop, worst, rules))
        return None
    quantity = most_within(budget, worst - stop, rules.amount_step)
    what = (
        f"risking {wording.money(budget, rules.quote)} to the stop at "
        f"{wording.price(stop, rules.price_step)}"
    )
    return quantity, worst, what


def _check_cap_and_cash(
    cost: Decimal, market: BuyMarket, limits: Limits, found: list[Problem]
) -> None:
    quote = market.rules.quote
    if cost > limits.max_order_notional:
        found.append(
            Problem(
                ProblemKind.ABOVE_CAP,
                f"An order of {wording.money(cost, quote)} is above MAX_ORDER_NOTIONAL "
                f"({wording.money(limits.max_order_notional, quote)}).",
            )
        )
    if cost > market.free_cash:
        found.append(
            Problem(
                ProblemKind.NOT_ENOUGH_CASH,
                f"An order of {wording.money(cost, quote)} is above the free balance of "
                f"{wording.money(market.free_cash, quote)}.",
            )
        )


def _stop_not_below(stop: Decimal, price: Decimal, rules: MarketRules) -> Problem:
    return Problem(
        ProblemKind.STOP_NOT_BELOW,
        f"The stop-loss {wording.price(stop, rules.price_step)} must be below the price "
        f"({wording.price(price, rules.price_step)}).",
    )
