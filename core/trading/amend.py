"""Moving a working order's price: cancel and replace, intent first.

The exchange has no price change of an order that keeps its place, so the app's working
order is cancelled and a new one sent at the new price for what it had left. The
replacement's intent is committed before anything is sent, so a crash between the cancel
and the send leaves a trace the next reconcile settles (it never reached the exchange). The
cancel reads the old order to its end: what it filled meanwhile goes into the ledger with
its own origin, and only the rest is replaced (nothing, when it filled). The replacement is
sent only once the exchange says the old order is no longer open: never two working orders
of the app's on the symbol. The caller (core.trading.gate) holds the symbol's lock and
passes `before_send`, asked before the cancel and again right before the replacement.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from core import wording
from core.domain import (
    Amended,
    MarketRules,
    OrderReport,
    OrderStatus,
    Origin,
    Side,
    ceil_to_step,
    floor_to_step,
)
from core.errors import Refused
from core.exchange.gateway import GatewayError
from core.store import repository as repo
from core.trading import checkpoints
from core.trading.orders import BeforeSend, fields
from core.trading.planner import OrderPlan
from core.trading.sizing import minimum_problems
from core.trading.working import WorkingDesk

log = logging.getLogger(__name__)


def replace_order(
    working: WorkingDesk,
    symbol: str,
    client_order_id: str,
    price: Decimal,
    origin: Origin,
    before_send: BeforeSend,
) -> Amended:
    """Move the app's working order `client_order_id` of `symbol` to `price` (on the
    market's tick: a BUY's rounded down, a SELL's up). Refused (nothing sent, nothing
    cancelled) when the order is no longer working, the price is its price, the rest is
    below the market's minimum, a BUY's rest at the new price needs more cash than the
    account frees by the cancel, or `before_send` refuses it."""
    desk, gateway = working.desk, working.gateway
    rules = gateway.market.market_rules(symbol)
    side, old_price, left = _recorded(working, symbol, client_order_id, rules)
    tick = floor_to_step if side is Side.BUY else ceil_to_step
    price = tick(price, rules.price_step)
    shown = wording.price(old_price, rules.price_step)
    if price == old_price:
        raise Refused(f"order {client_order_id} is already at {shown}; nothing was sent")
    plan = OrderPlan(symbol, side, left, price, resting=True)
    problems = minimum_problems(left, price, rules, f"the rest of order {client_order_id}")
    if problems:
        raise Refused(f"{problems[0].words}; nothing was sent")
    before_send(plan)
    if side is Side.BUY:
        _enough_cash(gateway.balances(), rules, left, old_price, price)
    new_id = desk.intend(plan, origin)
    try:
        ended = desk.read_again(lambda: gateway.cancel_order(symbol, client_order_id), symbol)
    except GatewayError as exc:
        _not_sent(working, new_id, f"the cancel of {client_order_id} failed: {exc}")
        raise
    if ended is None or ended.status is OrderStatus.OPEN:
        why = "the exchange did not confirm its cancel"
        _not_sent(working, new_id, why)
        return Amended(False, symbol, f"order {client_order_id} was not moved: {why}", ended)
    fills = desk.read_again(lambda: gateway.order_fills(ended), symbol)
    desk.settle([ended], fills)
    rest = floor_to_step(ended.amount - ended.filled, rules.amount_step)
    if rest < left:
        if minimum_problems(rest, price, rules, "the rest"):
            _not_sent(working, new_id, f"{client_order_id} filled before its cancel")
            then = "nothing is left" if rest <= 0 else "its rest is below the market minimum"
            return Amended(True, symbol, _filled_words(ended, rules, then), ended)
        plan = replace(plan, amount=rest)
        with working.db.session() as session:
            repo.resize_intent(session, new_id, rest)
    checkpoints.reach("replacing", **_where(working, symbol, origin))
    try:
        before_send(plan)
    except Refused as refusal:
        _not_sent(working, new_id, str(refusal))
        working.forget_target(symbol)
        return Amended(
            False,
            symbol,
            f"order {client_order_id} was cancelled and not replaced: {refusal}",
            ended,
        )
    try:
        report = desk.send(plan, new_id)
    except GatewayError:  # refused by the exchange (recorded so): the old order is gone
        working.forget_target(symbol)
        raise
    if report is None:
        working.forget_target(symbol)
        return Amended(
            False, symbol, f"order {client_order_id} was cancelled; its replacement was refused"
        )
    checkpoints.reach("placed", **_where(working, symbol, origin))
    fills = desk.read_again(lambda: gateway.order_fills(report), symbol) if report.filled else []
    desk.settle([report], fills)  # open now, or what crossed at once is in the ledger
    log.info(
        "working order moved",
        extra={**fields(working.book, symbol), "old": client_order_id, "new": new_id},
    )
    words = (
        f"moved {side.value.upper()} {rules.base} from {shown} to "
        f"{wording.price(price, rules.price_step)}: "
        f"{wording.quantity(plan.amount, rules.amount_step)} {rules.base} rest as order {new_id}"
    )
    if ended.filled > 0:
        words = _filled_words(ended, rules, words)
    return Amended(True, symbol, words, ended, report)


def _recorded(
    working: WorkingDesk, symbol: str, client_order_id: str, rules: MarketRules
) -> tuple[Side, Decimal, Decimal]:
    """The order's side, price and unfilled rest as the app last read it."""
    with working.db.session() as session:
        rows = repo.working_orders(session, working.book, symbol)
        found = [o for o in rows if o.client_order_id == client_order_id]
        if not found:
            raise Refused(
                f"order {client_order_id} is no longer working (it filled, was cancelled or "
                "replaced); nothing was sent"
            )
        row = found[0]
        left = floor_to_step(row.amount - row.filled, rules.amount_step)
        return Side(row.side), row.price, left


def _enough_cash(balances, rules: MarketRules, left: Decimal, old: Decimal, new: Decimal) -> None:
    """A BUY's rest at the new price fits the free cash plus what the old order locks."""
    cash = balances.get(rules.quote)
    free = cash.free if cash else Decimal(0)
    locked = cash.locked if cash else Decimal(0)
    have = free + min(locked, left * old)
    if left * new > have:
        raise Refused(
            f"the rest at the new price costs {wording.money(left * new, rules.quote)}, more "
            f"than the {wording.money(have, rules.quote)} free once the order is cancelled; "
            "nothing was sent"
        )


def _not_sent(working: WorkingDesk, client_order_id: str, why: str) -> None:
    with working.db.session() as session:
        repo.mark_order(session, client_order_id, OrderStatus.REJECTED, f"not sent: {why}")


def _filled_words(ended: OrderReport, rules: MarketRules, then: str) -> str:
    filled = wording.quantity(ended.filled, rules.amount_step)
    return f"order {ended.client_order_id} filled {filled} {rules.base} before its cancel; {then}"


def _where(working: WorkingDesk, symbol: str, origin: Origin) -> dict[str, str]:
    return {"account": working.book.account, "symbol": symbol, "origin": origin.value}
