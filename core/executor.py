"""`sync_position`: move one symbol of one account to a target state, safely.

lock -> cancel the symbol's open orders -> read balances and book together -> derive the
state -> plan -> persist the order intent -> send a marketable LIMIT -> await the fill with
short backoff, reprice a bounded number of times, cancel the remainder -> read balances ->
verify -> persist. The same flow runs over the paper gateway (SIM) and ccxt (LIVE).

Never twice: an order's intent, with its client order id, is committed before it is sent.
When the answer is lost the exchange is asked about that id (several times: MEXC reports
fresh orders missing for a moment) and only an order it confirms never existed is sent
again; if the exchange cannot be asked, the order stays `unknown` and the symbol accepts no
trade until `reconcile_unresolved` has settled it.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from core.domain import (
    ZERO,
    Balance,
    Fill,
    Holdings,
    MarketRules,
    OrderReport,
    OrderStatus,
    PositionState,
    Side,
    TradeResult,
    TradeSize,
)
from core.exchange.gateway import ExchangeUnavailable, GatewayError, OutcomeUnknown, TradingGateway
from core.locks import TradeBusy, TradeLocks
from core.planner import Limits, OrderPlan, PlanError, plan_order, plan_remainder, reference_price
from core.state import base_is_dust, derive_state, reaches, shown_state
from core.store import repository as repo
from core.store.db import Database
from core.store.models import utcnow


@dataclass(frozen=True)
class FillPolicy:
    """How long to wait for fills and how hard to try. Waits grow from `first_poll` to
    `max_poll`; nothing sleeps a fixed second."""

    first_poll: float = 0.02
    max_poll: float = 0.25
    attempt_deadline: float = 2.0
    max_attempts: int = 3
    resolve_first_poll: float = 0.1
    resolve_max_poll: float = 1.0
    resolve_tries: int = 12
    receive_window: float = 5.5


class UnresolvedOrder(RuntimeError):
    """An order's outcome is unknown and the exchange could not be asked about it."""


def new_client_order_id() -> str:
    return f"td{uuid.uuid4().hex[:22]}"


def backoff(first: float, largest: float) -> Iterator[float]:
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, largest)


def holdings_of(balances: dict[str, Balance], rules: MarketRules) -> Holdings:
    return Holdings(
        base=balances.get(rules.base, Balance()), quote=balances.get(rules.quote, Balance())
    )


class Executor:
    def __init__(
        self,
        gateway: TradingGateway,
        db: Database,
        book: repo.BookKey,
        limits: Limits,
        locks: TradeLocks,
        policy: FillPolicy | None = None,
    ):
        self.gateway = gateway
        self.db = db
        self.book = book
        self.limits = limits
        self.locks = locks
        self.policy = policy or FillPolicy()

    # --- the flow ----------------------------------------------------------------------

    def sync_position(
        self, symbol: str, target: PositionState, size: TradeSize | None = None
    ) -> TradeResult:
        started, started_at, calls_before = time.monotonic(), utcnow(), self.gateway.api_calls
        trade = _Trade(symbol=symbol, target=target)
        try:
            with self.locks.hold(self.book.account, symbol):
                self._run(trade, size or TradeSize())
        except TradeBusy as exc:
            return TradeResult(
                ok=False, symbol=symbol, target=target, before=None, after=None, message=str(exc)
            )
        except (GatewayError, PlanError, UnresolvedOrder) as exc:
            trade.message = _sentence(exc)
            self._record_what_was_done(trade)
        trade.api_calls = self.gateway.api_calls - calls_before
        trade.duration_ms = int((time.monotonic() - started) * 1000)
        self._record(trade, started_at)
        return trade.result()

    def _run(self, trade: _Trade, size: TradeSize) -> None:
        symbol = trade.symbol
        self._refuse_while_unresolved(symbol)
        rules = self.gateway.market.market_rules(symbol)
        self.gateway.cancel_open_orders(symbol)
        balances, book = self._balances_and_book(symbol)
        price = reference_price(book)
        trade.before = derive_state(
            holdings_of(balances, rules), price, rules, self.limits.dust_floor
        )
        trade.price = price
        plan = plan_order(
            trade.before, trade.target, holdings_of(balances, rules), book, rules, size, self.limits
        )
        if plan is not None:
            self._execute(trade, plan, rules)
            balances = self._balances_and_fills(trade)
        holdings = holdings_of(balances, rules)
        trade.holds_base = not base_is_dust(
            holdings.base.total, price, rules, self.limits.dust_floor
        )
        trade.after = derive_state(holdings, price, rules, self.limits.dust_floor)
        trade.shown = shown_state(trade.target, holdings, price, rules, self.limits.dust_floor)
        trade.ok = reaches(trade.target, holdings, price, rules, self.limits.dust_floor)
        trade.message = _outcome_message(trade, rules, holdings, price, self.limits)

    def _balances_and_book(self, symbol: str):
        with ThreadPoolExecutor(max_workers=2) as pool:
            balances = pool.submit(self.gateway.balances)
            book = pool.submit(self.gateway.market.order_book, symbol, 50)
            return balances.result(), book.result()

    def _execute(self, trade: _Trade, plan: OrderPlan, rules: MarketRules) -> None:
        """Send, await, reprice: until filled, dust, or out of attempts. Every order ends
        filled or cancelled; its fills are read afterwards, beside the final balances."""
        current: OrderPlan | None = plan
        for _ in range(self.policy.max_attempts):
            if current is None:
                break
            report = self._place(current, trade)
            if report is None:
                continue
            report = self._await_fill(report)
            if report.status is OrderStatus.OPEN:
                report = self.gateway.cancel_order(current.symbol, report.client_order_id) or report
            trade.orders.append(report)
            current = self._replan(current, report, rules)

    def _balances_and_fills(self, trade: _Trade) -> dict[str, Balance]:
        """The final balances and every order's fills, read together, then recorded in one
        transaction with the orders' final states."""
        with ThreadPoolExecutor(max_workers=1 + len(trade.orders)) as pool:
            balances = pool.submit(self.gateway.balances)
            fills = [pool.submit(self.gateway.order_fills, o) for o in trade.orders if o.filled > 0]
            trade.fills = [fill for future in fills for fill in future.result()]
            self._settle(trade.orders, trade.fills)
            return balances.result()

    def _place(self, plan: OrderPlan, trade: _Trade) -> OrderReport | None:
        """Send one order with a freshly persisted intent; None when the exchange confirmed
        it never arrived (so a new one may be sent)."""
        client_order_id = new_client_order_id()
        with self.db.session() as session:
            repo.record_intent(
                session,
                self.book,
                client_order_id=client_order_id,
                symbol=plan.symbol,
                side=plan.side,
                price=plan.price,
                amount=plan.amount,
            )
        sent_at = time.time()
        try:
            return self.gateway.place_limit_order(
                plan.symbol, plan.side, plan.amount, plan.price, client_order_id
            )
        except OutcomeUnknown:
            report = self._resolve(plan.symbol, client_order_id, sent_at)
        except GatewayError as exc:
            with self.db.session() as session:
                repo.mark_order(session, client_order_id, OrderStatus.REJECTED, _sentence(exc))
            raise
        if report is None:
            with self.db.session() as session:
                repo.mark_order(
                    session, client_order_id, OrderStatus.REJECTED, "never reached the exchange"
                )
        return report

    def _resolve(self, symbol: str, client_order_id: str, sent_at: float) -> OrderReport | None:
        """Ask the exchange what became of an order whose answer was lost (sent at epoch
        `sent_at`). "Does not exist" is believed only once the request's receive window has
        passed: a request delayed beyond it is refused by the exchange, so the order can no
        longer appear."""
        window_closes = sent_at + self.policy.receive_window
        waits = backoff(self.policy.resolve_first_poll, self.policy.resolve_max_poll)
        for _ in range(self.policy.resolve_tries):
            try:
                report = self.gateway.order_by_client_id(symbol, client_order_id)
            except ExchangeUnavailable:
                time.sleep(next(waits))
                continue
            if report is not None:
                return report
            if time.time() >= window_closes:
                return None
            time.sleep(min(next(waits), window_closes - time.time() + 0.01))
        with self.db.session() as session:
            repo.mark_order(
                session,
                client_order_id,
                OrderStatus.UNKNOWN,
                "outcome unknown: exchange unreachable",
            )
        raise UnresolvedOrder(
            f"could not learn whether order {client_order_id} reached the exchange; "
            f"trading {symbol} is paused until it is reconciled"
        )

    def _await_fill(self, report: OrderReport) -> OrderReport:
        if report.status is not OrderStatus.OPEN:
            return report
        deadline = time.monotonic() + self.policy.attempt_deadline
        for wait in backoff(self.policy.first_poll, self.policy.max_poll):
            if time.monotonic() + wait > deadline:
                return report
            time.sleep(wait)
            latest = self.gateway.order_by_client_id(report.symbol, report.client_order_id)
            if latest is not None:
                report = latest
            if report.status is not OrderStatus.OPEN:
                return report
        return report

    def _replan(self, plan: OrderPlan, report: OrderReport, rules: MarketRules) -> OrderPlan | None:
        if report.filled >= plan.amount:
            return None
        spent = report.filled * (report.average or report.price)
        book = self.gateway.market.order_book(plan.symbol, 50)
        return plan_remainder(plan, report.filled, spent, book, rules, self.limits)

    # --- records -------------------------------------------------------------------------

    def _record_what_was_done(self, trade: _Trade) -> None:
        """After a failure, record the orders that did end and their fills; what cannot be
        read now stays unresolved, and the next trade on the symbol asks the exchange first."""
        if not trade.orders or trade.fills:
            return
        with contextlib.suppress(GatewayError):
            self._balances_and_fills(trade)

    def _settle(self, reports: list[OrderReport], fills: list[Fill]) -> None:
        """Orders' final states and their fills, in one transaction."""
        with self.db.session() as session:
            for report in reports:
                repo.update_order(session, report)
            repo.record_fills(session, self.book, fills)

    def _record(self, trade: _Trade, started_at) -> None:
        with self.db.session() as session:
            if trade.shown is not None:
                repo.set_position_state(
                    session,
                    self.book,
                    trade.symbol,
                    trade.shown,
                    trade.price,
                    target=trade.target,
                    is_open=trade.holds_base,
                )
            repo.record_sync_run(
                session,
                self.book,
                kind="trade",
                ok=trade.ok,
                message=trade.message,
                started_at=started_at,
                symbol=trade.symbol,
                policy="enforce",
                target=trade.target.value,
                before_state=trade.before.value if trade.before else None,
                after_state=(trade.shown or trade.after).value
                if (trade.shown or trade.after)
                else None,
                api_calls=trade.api_calls,
                duration_ms=trade.duration_ms,
                details={
                    "orders": [o.client_order_id for o in trade.orders],
                    "fills": len(trade.fills),
                },
            )

    def _refuse_while_unresolved(self, symbol: str) -> None:
        """An order with an unknown outcome is settled by asking the exchange before anything
        else is sent for its symbol; if the exchange cannot say, the trade is refused."""
        still = [o for o in self._reconcile(symbol) if not o.resolved]
        if still:
            raise UnresolvedOrder(
                f"order {still[0].client_order_id} on {symbol} has an unknown outcome and the "
                "exchange cannot be asked now; no new order is sent until it is reconciled"
            )

    def reconcile_unresolved(self) -> list[Reconciled]:
        """Settle every order of the book that a crash or an outage left without a known
        outcome. Each symbol is settled under its trade lock; a symbol with a trade running
        is left to that trade, which settles it first."""
        with self.db.session() as session:
            symbols = sorted({o.symbol for o in repo.unresolved_orders(session, self.book)})
        outcomes = []
        for symbol in symbols:
            with contextlib.suppress(TradeBusy), self.locks.hold(self.book.account, symbol):
                outcomes.extend(self._reconcile(symbol))
        return outcomes

    def _reconcile(self, symbol: str) -> list[Reconciled]:
        """Ask the exchange about each unresolved order of `symbol`; the caller holds its lock."""
        with self.db.session() as session:
            pending = [
                (o.client_order_id, o.created_at.timestamp())
                for o in repo.unresolved_orders(session, self.book)
                if o.symbol == symbol
            ]
        outcomes = []
        for client_order_id, created_at in pending:
            try:
                report = self._resolve(symbol, client_order_id, created_at)
            except UnresolvedOrder as exc:
                outcomes.append(Reconciled(client_order_id, symbol, False, str(exc)))
                continue
            if report is None:
                outcomes.append(
                    Reconciled(client_order_id, symbol, True, "never reached the exchange")
                )
                continue
            if report.status is OrderStatus.OPEN:
                report = self.gateway.cancel_order(symbol, client_order_id) or report
            self._settle([report], self.gateway.order_fills(report))
            detail = f"{report.status.value} on the exchange, filled {report.filled.normalize():f}"
            outcomes.append(Reconciled(client_order_id, symbol, True, detail))
        return outcomes


@dataclass(frozen=True)
class Reconciled:
    """What reconciling one unresolved order found."""

    client_order_id: str
    symbol: str
    resolved: bool
    detail: str


@dataclass
class _Trade:
    """What one sync found and did, gathered as it goes."""

    symbol: str
    target: PositionState
    before: PositionState | None = None
    after: PositionState | None = None
    shown: PositionState | None = None
    price: Decimal | None = None
    ok: bool = False
    holds_base: bool = False
    message: str = ""
    api_calls: int = 0
    duration_ms: int = 0

    def __post_init__(self):
        self.orders: list[OrderReport] = []
        self.fills: list[Fill] = []

    def result(self) -> TradeResult:
        return TradeResult(
            ok=self.ok,
            symbol=self.symbol,
            target=self.target,
            before=self.before,
            after=self.shown or self.after,
            message=self.message,
            orders=tuple(self.orders),
            fills=tuple(self.fills),
            api_calls=self.api_calls,
            duration_ms=self.duration_ms,
        )


def _outcome_message(
    trade: _Trade, rules: MarketRules, holdings: Holdings, price: Decimal, limits: Limits
) -> str:
    """Plain words for the toast: what was traded, at what average, and the verified state."""
    parts = []
    for side in (Side.BUY, Side.SELL):
        fills = [f for f in trade.fills if f.side is side]
        qty = sum((f.qty for f in fills), ZERO)
        if qty > 0:
            avg = sum((f.qty * f.price for f in fills), ZERO) / qty
            verb = "bought" if side is Side.BUY else "sold"
            parts.append(
                f"{verb} {qty.normalize():f} {rules.base} at {avg:,.{_places(rules.price_step)}f} avg"
            )
    shown = trade.shown.value if trade.shown else "unknown"
    if trade.ok:
        state = f"state {shown} verified"
        if not parts:
            state = f"already {shown}: nothing to trade, state verified"
        return ", ".join([*parts, state])
    left = holdings.base.total
    dust = base_is_dust(left, price, rules, limits.dust_floor)
    why = f"{trade.target.value} not reached: the account holds {left.normalize():f} {rules.base}"
    if trade.target is not PositionState.LONG and dust:
        why = f"{trade.target.value} not reached: no {rules.quote} above the market minimum"
    return ", ".join([*parts, why])


def _places(step: Decimal) -> int:
    return max(0, -step.normalize().as_tuple().exponent)


def _sentence(exc: Exception) -> str:
    text = str(exc).strip()
    return text[0].upper() + text[1:] if text else type(exc).__name__
