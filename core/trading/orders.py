"""One order, from its intent to its end, never sent twice.

An order's intent, with its client order id, is committed before it is sent. When the
answer is lost the exchange is asked about that id (several times: MEXC reports fresh
orders missing for a moment) and only an order it confirms never existed is sent again; if
the exchange cannot be asked, the order stays `unknown` and the symbol accepts no trade
until it is reconciled. A marketable order is awaited with short backoff, repriced a
bounded number of times, and what is left is cancelled at the deadline.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core import wording
from core.domain import Fill, MarketRules, OrderReport, OrderStatus, Origin
from core.errors import AppError
from core.exchange.gateway import ExchangeUnavailable, GatewayError, OutcomeUnknown, TradingGateway
from core.store import repository as repo
from core.store.db import Database
from core.trading import checkpoints
from core.trading.planner import Limits, OrderPlan, plan_remainder

log = logging.getLogger(__name__)
NEVER_ARRIVED = "never reached the exchange"
Progress = Callable[[str], None]
BeforeSend = Callable[[OrderPlan], None]


def no_check(_plan: OrderPlan) -> None:
    """No check before sending (callers outside the gate: tests of the desk alone)."""


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


class UnresolvedOrder(AppError):
    """An order's outcome is unknown and the exchange could not be asked about it."""


@dataclass(frozen=True)
class Reconciled:
    """What reconciling one unresolved order found."""

    client_order_id: str
    symbol: str
    resolved: bool
    detail: str


def new_client_order_id() -> str:
    return f"td{uuid.uuid4().hex[:22]}"


def backoff(first: float, largest: float) -> Iterator[float]:
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, largest)


class OrderDesk:
    """The orders of one book on one gateway."""

    def __init__(
        self,
        gateway: TradingGateway,
        db: Database,
        book: repo.BookKey,
        limits: Limits,
        policy: FillPolicy,
    ):
        self.gateway = gateway
        self.db = db
        self.book = book
        self.limits = limits
        self.policy = policy

    def run(
        self,
        plan: OrderPlan,
        rules: MarketRules,
        origin: Origin,
        progress: Progress,
        orders: list[OrderReport],
        before_send: BeforeSend = no_check,
    ) -> None:
        """Send, await, reprice: until filled, dust, or out of attempts. Every order ends
        filled or cancelled (the reports say how); its fills are the caller's to read,
        beside the final balances. Each report is appended to `orders` as soon as the
        exchange answered it, so an exception later in the run still leaves it to settle;
        `before_send` (the gate) is asked right before every send and raises to stop it."""
        current: OrderPlan | None = plan
        for _ in range(self.policy.max_attempts):
            if current is None:
                break
            progress(
                f"placing {current.side.value.upper()} "
                f"{wording.quantity(current.amount, rules.amount_step)} {rules.base} "
                f"at {wording.price(current.price, rules.price_step)}"
            )
            before_send(current)
            report = self.place(current, origin)
            if report is None:
                continue
            orders.append(report)
            checkpoints.reach(
                "placed", account=self.book.account, symbol=current.symbol, origin=origin.value
            )
            report = self.await_fill(report, rules, progress)
            orders[-1] = report
            if report.status is OrderStatus.OPEN:
                report = self.gateway.cancel_order(current.symbol, report.client_order_id) or report
                orders[-1] = report
            current = self.replan(current, report, rules)

    def place(self, plan: OrderPlan, origin: Origin) -> OrderReport | None:
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
                origin=origin,
            )
        sent_at = time.time()
        # only a derivatives gateway takes the flag (the paper gateway is spot)
        reduce_only = {"reduce_only": True} if plan.reduce_only else {}
        try:
            return self.gateway.place_limit_order(
                plan.symbol, plan.side, plan.amount, plan.price, client_order_id, **reduce_only
            )
        except OutcomeUnknown as unknown:
            log.warning(
                "order outcome unknown; asking the exchange",
                extra={
                    **fields(self.book, plan.symbol),
                    "client_order_id": client_order_id,
                    "reason": str(unknown),
                },
            )
            report = self.resolve(plan.symbol, client_order_id, sent_at)
        except GatewayError as exc:
            with self.db.session() as session:
                repo.mark_order(session, client_order_id, OrderStatus.REJECTED, sentence(exc))
            raise
        if report is None:
            with self.db.session() as session:
                repo.mark_order(session, client_order_id, OrderStatus.REJECTED, NEVER_ARRIVED)
        return report

    def resolve(self, symbol: str, client_order_id: str, sent_at: float) -> OrderReport | None:
        """Ask the exchange what became of an order whose answer was lost (sent at epoch
        `sent_at`). "Does not exist" is believed only once the request's receive window has
        passed: a request delayed beyond it is refused by the exchange, so the order can no
        longer appear."""
        window_closes = sent_at + self.policy.receive_window
        waits = backoff(self.policy.resolve_first_poll, self.policy.resolve_max_poll)
        for _ in range(self.policy.resolve_tries):
            try:
                report = self.gateway.order_by_client_id(symbol, client_order_id)
            except ExchangeUnavailable as exc:
                log.warning(
                    "asking about an order failed; retrying",
                    extra={
                        **fields(self.book, symbol),
                        "client_order_id": client_order_id,
                        "reason": str(exc),
                    },
                )
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

    def await_fill(self, report: OrderReport, rules: MarketRules, progress) -> OrderReport:
        if report.status is not OrderStatus.OPEN:
            return report
        deadline = time.monotonic() + self.policy.attempt_deadline
        for wait in backoff(self.policy.first_poll, self.policy.max_poll):
            progress(f"order placed, filled {filled_pct(report)} %")
            if time.monotonic() + wait > deadline:
                return report
            time.sleep(wait)
            latest = self.gateway.order_by_client_id(report.symbol, report.client_order_id)
            if latest is not None:
                report = latest
            if report.status is not OrderStatus.OPEN:
                return report
        return report

    def replan(self, plan: OrderPlan, report: OrderReport, rules: MarketRules) -> OrderPlan | None:
        if report.filled >= plan.amount:
            return None
        spent = report.filled * (report.average or report.price)
        book = self.gateway.market.order_book(plan.symbol, 50)
        return plan_remainder(plan, report.filled, spent, book, rules, self.limits)

    def settle(self, reports: list[OrderReport], fills: list[Fill]) -> None:
        """Orders' final states and their fills, in one transaction."""
        with self.db.session() as session:
            for report in reports:
                repo.update_order(session, report)
            repo.record_fills(session, self.book, fills)

    def refuse_while_unresolved(self, symbol: str) -> None:
        """An order with an unknown outcome is settled by asking the exchange before anything
        else is sent for its symbol; if the exchange cannot say, the trade is refused."""
        still = [o for o in self.reconcile(symbol) if not o.resolved]
        if still:
            raise UnresolvedOrder(
                f"order {still[0].client_order_id} on {symbol} has an unknown outcome and the "
                "exchange cannot be asked now; no new order is sent until it is reconciled"
            )

    def reconcile(self, symbol: str) -> list[Reconciled]:
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
                report = self.resolve(symbol, client_order_id, created_at)
            except UnresolvedOrder as exc:
                outcomes.append(Reconciled(client_order_id, symbol, False, str(exc)))
                continue
            if report is None:
                with self.db.session() as session:
                    repo.mark_order(session, client_order_id, OrderStatus.REJECTED, NEVER_ARRIVED)
                outcomes.append(Reconciled(client_order_id, symbol, True, NEVER_ARRIVED))
                continue
            if report.status is OrderStatus.OPEN:
                report = self.gateway.cancel_order(symbol, client_order_id) or report
            self.settle([report], self.gateway.order_fills(report))
            detail = f"{report.status.value} on the exchange, filled {report.filled.normalize():f}"
            outcomes.append(Reconciled(client_order_id, symbol, True, detail))
        return outcomes


def filled_pct(report: OrderReport) -> int:
    return int(report.filled * 100 / report.amount) if report.amount else 0


def fields(book: repo.BookKey, symbol: str, target=None, exc=None) -> dict:
    """A log line's context: which book and symbol (and target, and why)."""
    found = {"account": book.account, "mode": book.mode, "symbol": symbol}
    if target is not None:
        found["target"] = target.value
    if exc is not None:
        found["reason"] = str(exc)
    return found


def sentence(exc: Exception) -> str:
    text = str(exc).strip()
    return text[0].upper() + text[1:] if text else type(exc).__name__
