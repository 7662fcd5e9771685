"""`sync_position`: move one symbol of one account to a target state, safely.

Under the symbol's lock, held by core.trading.gate: cancel the symbol's open orders while reading the balances and the book (a cancel
does not change what the account holds in total; when it did cancel something the balances
are read again) -> derive the state -> plan -> persist the order intent -> send a
marketable LIMIT -> await the fill with short backoff, reprice a bounded number of times,
cancel the remainder -> read balances and fills together -> verify -> persist. The same
flow runs over the paper gateway (SIM) and ccxt (LIVE); `progress` hears each step. When
the app has a working order on the symbol, the trade is first planned on the account read
without cancelling, so a refused trade cancels nothing; the plan sent is the one made after
the cancel.

`close_position` closes a derivatives position the same way: cancel the symbol's
plain orders while reading the position and the book -> one reduce-only order on the other
side -> await, reprice, cancel the remainder -> read the position and fills together ->
verify it is flat -> remove the stops the exchange keeps for it -> persist.

Each order goes through core.trading.orders (intent first, never sent twice), and the gate is asked
right before each send; a symbol with an order of unknown outcome accepts no trade until it
is settled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar, cast

from core import wording
from core.domain import (
    ZERO,
    Balance,
    ExchangePosition,
    ExitPart,
    Fill,
    Holdings,
    MarketRules,
    OrderBook,
    OrderReport,
    OrderStatus,
    Origin,
    PositionState,
    RunFindings,
    Side,
    TradeResult,
    TradeSize,
)
from core.errors import LockLost, Refused
from core.exchange.gateway import (
    DerivativesGateway,
    GatewayError,
    TradingGateway,
)
from core.store import repository as repo
from core.store import runs, snapshots
from core.store.db import Database
from core.store.models import utcnow
from core.trading import checkpoints
from core.trading.orders import (
    BeforeSend,
    FillPolicy,
    Holding,
    OrderDesk,
    Progress,
    UnresolvedOrder,
    fields,
    no_check,
    sentence,
)
from core.trading.planner import plan_close, plan_order, reference_price
from core.trading.pricing import Limits, PlanError, SizeError
from core.trading.state import base_is_dust, pending_label, position_state, state_label
from core.trading.working import WorkingDesk

log = logging.getLogger(__name__)
_RUN_KIND = {
    Origin.MANUAL: "trade",
    Origin.CLI: "trade",
    Origin.ENFORCE: "enforce",
    Origin.STOP: "stop",
    Origin.FLATTEN: "flatten",
}
_Read = TypeVar("_Read")


def _quiet(_step: str) -> None:
    """Progress nobody listens to."""


class Executor:
    def __init__(
        self,
        gateway: TradingGateway,
        db: Database,
        book: repo.BookKey,
        limits: Limits,
        policy: FillPolicy | None = None,
    ):
        self.gateway = gateway
        self.db = db
        self.book = book
        self.limits = limits
        self.policy = policy or FillPolicy()
        self.desk = OrderDesk(gateway, db, book, limits, self.policy)
        self.working = WorkingDesk(self.desk)

    # --- the flow ----------------------------------------------------------------------

    def sync_position(
        self,
        symbol: str,
        target: PositionState,
        size: TradeSize | None = None,
        *,
        origin: Origin = Origin.MANUAL,
        progress: Progress = _quiet,
        before_send: BeforeSend = no_check,
        part: ExitPart | None = None,
        limit_price: Decimal | None = None,
    ) -> TradeResult:
        """The caller (core.trading.gate) holds the symbol's lock and asks `before_send` before
        every order. With `part`, a SELL or CLOSE sells that part of the holding and the
        rest stays LONG: that is the state verified and recorded as the target. With
        `limit_price` the order rests at that price as the trader's working order instead of
        taking the market."""
        trade = _Trade(symbol=symbol, target=target, origin=origin)
        return self._traded(
            trade,
            lambda: self._run(trade, size or TradeSize(), progress, before_send, part, limit_price),
        )

    def close_position(
        self,
        symbol: str,
        *,
        origin: Origin = Origin.FLATTEN,
        progress: Progress = _quiet,
        before_send: BeforeSend = no_check,
    ) -> TradeResult:
        """Close a derivatives position with reduce-only orders and remove the stops the
        exchange keeps for it; a flat symbol gets no order. (Spot closes with
        `sync_position(symbol, NO_POSITION)`.)"""
        trade = _Trade(symbol=symbol, target=PositionState.NO_POSITION, origin=origin)
        return self._traded(trade, lambda: self._run_close(trade, progress, before_send))

    def _traded(self, trade: _Trade, run: Callable[[], None]) -> TradeResult:
        """Run one trade, then record and log it, whatever stopped it: an order answered
        before a failure is still settled and recorded."""
        started, started_at, calls_before = time.monotonic(), utcnow(), self.gateway.api_calls
        symbol, target = trade.symbol, trade.target
        try:
            run()
        except SizeError as exc:
            log.info("trade refused: %s", exc, extra=fields(self.book, symbol, target, exc=exc))
            return trade.refusal(str(exc))
        except (GatewayError, PlanError, UnresolvedOrder, Refused, LockLost) as exc:
            trade.message = sentence(exc)
            self._record_what_was_done(trade)
        except Exception as exc:  # a bug must not lose what was sent: settle, record, say so
            log.exception("trade stopped on an unexpected error", extra=fields(self.book, symbol))
            trade.message = (
                f"the trade stopped on an unexpected error ({type(exc).__name__}); what it "
                "sent is recorded and the account is read again by the next check"
            )
            self._record_what_was_done(trade)
        trade.api_calls = self.gateway.api_calls - calls_before
        trade.duration_ms = int((time.monotonic() - started) * 1000)
        where = {"account": self.book.account, "symbol": symbol, "origin": trade.origin.value}
        checkpoints.reach("recording", **where)
        self._record(trade, started_at)
        checkpoints.reach("recorded", **where)
        log.log(
            logging.INFO if trade.ok else logging.WARNING,
            "trade %s",
            # a failure's reason in the line itself: a plain formatter drops the extras
            "verified" if trade.ok else f"failed: {trade.message}",
            extra={
                **fields(self.book, symbol, target),
                "origin": trade.origin.value,
                "before": trade.before,
                "after": trade.after,
                "orders": len(trade.orders),
                "api_calls": trade.api_calls,
                "duration_ms": trade.duration_ms,
                "outcome": trade.message,
            },
        )
        return trade.result()

    def _run(
        self,
        trade: _Trade,
        size: TradeSize,
        progress: Progress,
        before_send: BeforeSend,
        part: ExitPart | None = None,
        limit_price: Decimal | None = None,
    ) -> None:
        symbol = trade.symbol
        self.desk.refuse_while_unresolved(symbol)
        rules = self.gateway.market.market_rules(symbol)
        working = bool(self.working.recorded(symbol))
        if working:
            progress("reading the account")
            self._plan_before_replacing(trade, rules, size, part, limit_price)
        progress("cancelling open orders and reading the account")
        balances, book = self._cancel_and_read(symbol, trade, working)
        price = reference_price(book)
        trade.price = price
        trade.balances = balances
        holdings = Holdings.of(balances, rules.base, rules.quote)
        trade.before = position_state(holdings, price, rules, self._last_target(symbol))
        plan = plan_order(trade.target, holdings, book, rules, size, self.limits, part, limit_price)
        if plan is not None and plan.side is Side.BUY:
            trade.asked_quote = plan.notional
            trade.price_limit = plan.price_limit
        if plan is not None and plan.leaves is not None:
            trade.target, trade.part_amount = PositionState.LONG, plan.amount
        if plan is not None:
            held = Holding(holdings.base.total, lambda: self._base_held(rules))
            self.desk.run(plan, rules, trade.origin, progress, trade.orders, before_send, held)
            progress("verifying")
            balances = self._read_with_fills(trade, self.gateway.balances)
            trade.balances = balances
            holdings = Holdings.of(balances, rules.base, rules.quote)
        trade.is_open = not base_is_dust(holdings.base.total, price, rules)
        trade.after = position_state(holdings, price, rules, trade.target)
        trade.working = [
            o
            for o in trade.orders
            if plan is not None and plan.resting and o.status is OrderStatus.OPEN
        ]
        trade.ok = (trade.after is trade.target and trade.sold_the_part) or bool(trade.working)
        trade.message = _outcome_message(trade, rules, holdings)

    def _base_held(self, rules: MarketRules) -> Decimal:
        """The spot account's total of the market's base asset, read now."""
        return Holdings.of(self.gateway.balances(), rules.base, rules.quote).base.total

    def _plan_before_replacing(
        self,
        trade: _Trade,
        rules: MarketRules,
        size: TradeSize,
        part: ExitPart | None,
        limit_price: Decimal | None,
    ) -> None:
        """Plan on the account as the cancel step will leave it, before that step: a trade
        that is refused (SizeError, PlanError) must not have cancelled the trader's working
        order. The balances, the book and the symbol's open orders are read together; the
        funds those orders lock count as free, as after their cancel. Only the plan made
        after the cancel is sent: a working order that filled meanwhile changes what is
        held."""
        symbol = trade.symbol
        with ThreadPoolExecutor(max_workers=3) as pool:
            balances = pool.submit(self.gateway.balances)
            book = pool.submit(self.gateway.market.order_book, symbol, 50)
            listed = pool.submit(self.gateway.open_orders, symbol)
            holdings = _as_if_cancelled(
                Holdings.of(balances.result(), rules.base, rules.quote), listed.result()
            )
            plan_order(
                trade.target, holdings, book.result(), rules, size, self.limits, part, limit_price
            )

    def _cancel_and_read(self, symbol: str, trade: _Trade, working: bool):
        """Cancel the symbol's open orders while the balances and the book are read: one round
        trip. A cancel frees locked funds without changing the totals; when it did cancel
        something, the balances are read again so the free amounts are current. A `working`
        order of the app's on the symbol (a new click replaces it) is read to its end after
        the cancel, whether the cancel found it open or it had filled meanwhile: its fills
        are recorded first, with its own origin, and the balances read after it."""
        with ThreadPoolExecutor(max_workers=3) as pool:
            cancelled = pool.submit(self.gateway.cancel_open_orders, symbol)
            book = pool.submit(self.gateway.market.order_book, symbol, 50)
            if working:
                cancelled.result()
                ended = self.working.settle(symbol)
                trade.replaced = [o for o in ended if o.status is not OrderStatus.FILLED]
                return self.gateway.balances(), book.result()
            balances = pool.submit(self.gateway.balances)
            if not cancelled.result():
                return balances.result(), book.result()
            return self.gateway.balances(), book.result()

    def _run_close(self, trade: _Trade, progress: Progress, before_send: BeforeSend) -> None:
        symbol = trade.symbol
        self.desk.refuse_while_unresolved(symbol)
        rules = self.gateway.market.market_rules(symbol)
        progress("cancelling open orders and reading the position")
        held, book = self._cancel_and_read_position(symbol)
        trade.before = PositionState.of_signed(held.qty)
        trade.price = held.mark_price or reference_price(book)
        plan = plan_close(held.qty, book, rules, self.limits)
        if plan is not None:
            before = Holding(held.qty, lambda: self._position(symbol).qty)
            self.desk.run(plan, rules, trade.origin, progress, trade.orders, before_send, before)
            progress("verifying")
            held = self._read_with_fills(trade, lambda: self._position(symbol))
        trade.after = PositionState.of_signed(held.qty)
        trade.is_open = held.qty != 0
        if not trade.is_open:
            progress("removing the position's stops")
            self._remove_stops(symbol)
        trade.ok = trade.after is trade.target
        trade.message = _close_message(trade, rules, held)

    def _derivatives(self) -> DerivativesGateway:
        """The gateway as close_position uses it: only a derivatives account has a position
        and stops kept by the exchange."""
        return cast(DerivativesGateway, self.gateway)

    def _position(self, symbol: str) -> ExchangePosition:
        return self._derivatives().position(symbol, self.book.account)

    def _cancel_and_read_position(self, symbol: str) -> tuple[ExchangePosition, OrderBook]:
        """Cancel the symbol's plain orders while its position and the book are read; when
        it did cancel something, the position is read again (an order may have filled
        before it was cancelled)."""
        with ThreadPoolExecutor(max_workers=3) as pool:
            cancelled = pool.submit(self.gateway.cancel_open_orders, symbol)
            held = pool.submit(self._position, symbol)
            book = pool.submit(self.gateway.market.order_book, symbol, 50)
            if cancelled.result():
                return self._position(symbol), book.result()
            return held.result(), book.result()

    def _remove_stops(self, symbol: str) -> None:
        """A flat position's stops are orphans: one left on the exchange would act on the
        next position of the symbol."""
        try:
            self._derivatives().cancel_stops(symbol)
        except GatewayError as exc:
            raise GatewayError(
                f"{symbol} is flat, but the stops the exchange keeps for it could not be "
                f"removed: {exc}"
            ) from None

    def _last_target(self, symbol: str) -> PositionState | None:
        with self.db.session() as session:
            row = repo.find_position(session, self.book, symbol)
            return PositionState(row.target_state) if row and row.target_state else None

    def _read_with_fills(self, trade: _Trade, read: Callable[[], _Read]) -> _Read:
        """What `read` returns (the final balances, or the position) and every order's
        fills, read together, each read again a bounded number of times when it fails (the
        orders are out: a failed read is no failed trade); the fills are recorded in one
        transaction with the orders' final states."""
        again = self.desk.read_again
        with ThreadPoolExecutor(max_workers=1 + len(trade.orders)) as pool:
            final = pool.submit(again, read, trade.symbol)
            fills = [
                pool.submit(again, lambda o=o: self.gateway.order_fills(o), trade.symbol)
                for o in trade.orders
                if o.filled > 0
            ]
            trade.fills = [fill for future in fills for fill in future.result()]
            self.desk.settle(trade.orders, trade.fills)
            return final.result()

    # --- records -------------------------------------------------------------------------

    def _record_what_was_done(self, trade: _Trade) -> None:
        """After a failure, end what was sent: an order still open is cancelled (read back,
        whatever the cancel answers) and every order is recorded with its fills. What cannot
        be read now is recorded unknown, never left an intent: the next check or trade on
        the symbol asks the exchange first."""
        if not trade.orders or trade.fills:
            return
        try:
            for index, report in enumerate(trade.orders):
                if report.status is OrderStatus.OPEN:
                    ended = self.gateway.cancel_order(trade.symbol, report.client_order_id)
                    trade.orders[index] = ended or report
            self._read_with_fills(trade, self.gateway.balances)
        except GatewayError as exc:
            self.desk.leave_unresolved(trade.orders, exc)

    def _record(self, trade: _Trade, started_at) -> None:
        """The trade's verdict, in one transaction: the position's state and target, the
        symbol's sync status, the balances last read (an account snapshot) and the run."""
        verdict = "in_sync" if trade.ok else "failed"
        with self.db.session() as session:
            if trade.after is not None:
                repo.set_position_state(
                    session,
                    self.book,
                    trade.symbol,
                    trade.after,
                    trade.price,
                    target=trade.target,
                    is_open=trade.is_open,
                    target_quote=_remembered_size(trade),
                )
            repo.record_sync_status(
                session, self.book, trade.symbol, verdict, trade.message, utcnow()
            )
            if trade.balances is not None:
                snapshots.record_snapshot(session, self.book, trade.balances, "trade")
            runs.record_sync_run(
                session,
                self.book,
                kind=_RUN_KIND[trade.origin],
                ok=trade.ok,
                message=trade.message,
                started_at=started_at,
                symbol=trade.symbol,
                policy="enforce",
                target=trade.target.value,
                before_state=trade.before.value if trade.before else None,
                after_state=trade.after.value if trade.after else None,
                api_calls=trade.api_calls,
                duration_ms=trade.duration_ms,
                findings=RunFindings(
                    in_sync=(trade.symbol,) if trade.ok else (),
                    orders=tuple(o.client_order_id for o in trade.orders),
                    error=None if trade.ok else trade.message,
                ),
            )


@dataclass
class _Trade:
    """What one sync found and did, gathered as it goes."""

    symbol: str
    target: PositionState
    origin: Origin = Origin.MANUAL
    before: PositionState | None = None
    after: PositionState | None = None
    price: Decimal | None = None
    balances: dict[str, Balance] | None = None
    ok: bool = False
    is_open: bool = False  # spot: base held above dust; derivatives: a position
    message: str = ""
    api_calls: int = 0
    duration_ms: int = 0
    asked_quote: Decimal | None = None  # what a BUY of this trade was planned to spend
    part_amount: Decimal | None = None  # what a partial exit was planned to sell
    price_limit: Decimal | None = None  # the most a risk-sized BUY of this trade may pay

    def __post_init__(self):
        self.orders: list[OrderReport] = []
        self.fills: list[Fill] = []
        self.working: list[OrderReport] = []  # the resting order it left on the exchange
        self.replaced: list[OrderReport] = []  # working orders its cancel step ended

    @property
    def sold_the_part(self) -> bool:
        """A partial exit sold all it was planned to (any other trade: nothing to check)."""
        if self.part_amount is None:
            return True
        return sum((o.filled for o in self.orders), Decimal(0)) >= self.part_amount

    def result(self) -> TradeResult:
        return TradeResult(
            ok=self.ok,
            symbol=self.symbol,
            target=self.target,
            before=self.before,
            after=self.after,
            message=self.message,
            orders=tuple(self.orders),
            fills=tuple(self.fills),
            api_calls=self.api_calls,
            duration_ms=self.duration_ms,
            flat=self.ok and self.after is not None and not self.is_open and not self.working,
            asked_quote=self.asked_quote,
            working=tuple(self.working),
            replaced=tuple(self.replaced),
        )

    def refusal(self, message: str) -> TradeResult:
        return TradeResult(False, self.symbol, self.target, None, None, message, refused=True)


def _as_if_cancelled(holdings: Holdings, listed: list[OrderReport]) -> Holdings:
    """`holdings` with what `listed` (open orders of the market) lock freed: a BUY locks
    the cash for its unfilled rest at its price, a SELL its unfilled coins. Never more than
    the balance shows locked (an exchange may lock differently)."""
    cash = sum((o.price * (o.amount - o.filled) for o in listed if o.side is Side.BUY), ZERO)
    coins = sum((o.amount - o.filled for o in listed if o.side is Side.SELL), ZERO)
    return Holdings(_freed(holdings.base, coins), _freed(holdings.quote, cash))


def _freed(balance: Balance, amount: Decimal) -> Balance:
    moved = min(amount, balance.locked)
    return Balance(balance.free + moved, balance.locked - moved)


def _remembered_size(trade: _Trade) -> Decimal | None:
    """What enforce may buy again for this target: the trader's own BUY's planned cost.
    Enforce's own trades and targets other than LONG leave nothing to buy."""
    if trade.target is not PositionState.LONG or trade.origin is Origin.ENFORCE:
        return None
    return trade.asked_quote


def _outcome_message(trade: _Trade, rules: MarketRules, holdings: Holdings) -> str:
    """Plain words for the toast: what was traded, at what average, the verified state, and
    when nothing was traded, why, in terms of what the account holds."""
    parts = _traded_words(trade, rules)
    after = state_label(trade.after, rules.quote) if trade.after else "unknown"
    held = wording.holdings(holdings, rules)
    if trade.part_amount is not None and not trade.ok:
        asked = wording.quantity(trade.part_amount, rules.amount_step)
        sold = ", ".join(parts) or "nothing sold"
        return f"{sold}: the part asked was {asked} {rules.base}; the account {held}"
    replaced = _replaced_words(trade, rules)
    if trade.working:
        pending = pending_label(trade.target, trade.working, rules, rules.quote)
        rests = f"{pending}, resting on the exchange as order {trade.working[0].client_order_id}"
        return ", ".join([*replaced, *parts, rests, f"the account {held}"])
    if replaced:
        parts = [*replaced, *parts]
    if trade.ok and parts and not trade.fills:
        return f"{', '.join(parts)}: {held}; state {after} verified"
    if trade.ok and parts:
        return f"{', '.join(parts)}: {wording.base_held(holdings, rules)}, state {after} verified"
    if trade.ok and trade.before is trade.after:
        return f"already {after}: {held}"
    if trade.ok:
        return f"nothing to trade: {held}; state {after} verified"
    failed = ", ".join([*parts, f"{trade.target.value} not reached: the account {held}"])
    return f"{failed}{_unchased_words(trade, rules)}"


def _unchased_words(trade: _Trade, rules: MarketRules) -> str:
    """Why a risk-sized BUY that did not reach LONG stopped: the market offered no more at
    or below its price limit (the worst price its risk was sized at), and it is never
    repriced above that limit. Empty for any other trade."""
    if trade.price_limit is None or not trade.orders:
        return ""
    bought = sum((o.filled for o in trade.orders), ZERO)
    if bought >= trade.orders[0].amount:
        return ""
    limit = wording.price(trade.price_limit, rules.price_step)
    return (
        f"; the market offered {'no more' if bought else 'nothing'} at or below {limit}, "
        "the worst price its risk was sized at (the price moved up after the book was "
        "read), and a BUY sized by risk is never sent above it: its risk would grow. Click "
        "again to size it at the price now"
    )


def _replaced_words(trade: _Trade, rules: MarketRules) -> list[str]:
    """`replaced the working order BUY 0.29 ETH @ 3,300.00 (nothing filled)`."""
    return [
        f"replaced the working order {order.side.value.upper()} "
        f"{wording.quantity(order.amount, rules.amount_step)} {rules.base} @ "
        f"{wording.price(order.price, rules.price_step)} ("
        + (
            f"{wording.quantity(order.filled, rules.amount_step)} filled"
            if order.filled
            else "nothing filled"
        )
        + ")"
        for order in trade.replaced
    ]


def _close_message(trade: _Trade, rules: MarketRules, held: ExchangePosition) -> str:
    """Plain words for closing a derivatives position: what was traded, and whether it is
    flat now, or what is still open."""
    parts = _traded_words(trade, rules)
    if trade.ok and trade.before is trade.after:
        return f"already {PositionState.NO_POSITION.value}: no {trade.symbol} position is open"
    if trade.ok:
        return ", ".join([*parts, f"position closed, state {trade.after} verified"])
    side = "long" if held.qty > 0 else "short"
    left = wording.quantity(abs(held.qty), rules.amount_step)
    return ", ".join(
        [*parts, f"{trade.target.value} not reached: a {side} of {left} {rules.base} is open"]
    )


def _traded_words(trade: _Trade, rules: MarketRules) -> list[str]:
    """`bought 0.5 ETH at 3,400.00 avg, fee 0.0005 ETH`, and the same for what was sold."""
    return wording.traded(trade.fills, rules)
