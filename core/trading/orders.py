"""One order, from its intent to its end, never sent twice.

An order's intent, with its client order id, is committed before it is sent. When the
answer is lost the exchange is asked about that id (several times: MEXC reports fresh
orders missing for a moment) and only an order it confirms never existed is sent again; if
the exchange cannot be asked, the order stays `unknown` and the symbol accepts no trade
until it is reconciled. "Does not exist" is believed only once no open order and no fill
of the symbol since the order was sent is unknown to the app. A marketable order is
awaited with short backoff, repriced a bounded number of times, and what is left is
cancelled at the deadline; an order the exchange took and then says it does not know is
settled by its fills. A read that fails once an order is out is tried again, a bounded
number of times with growing waits, before the trade is called failed.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import NoReturn, TypeVar

from core import wording
from core.domain import ZERO, Fill, MarketRules, OrderReport, OrderStatus, Origin, Side
from core.errors import AppError
from core.exchange.gateway import (
    AuthenticationFailed,
    GatewayError,
    OrderRejected,
    OutcomeUnknown,
    RateLimited,
    TradingGateway,
    UnknownSymbol,
)
from core.store import repository as repo
from core.store.db import Database
from core.trading import checkpoints
from core.trading.planner import OrderPlan, plan_remainder
from core.trading.pricing import Limits

log = logging.getLogger(__name__)
NEVER_ARRIVED = "never reached the exchange"
Progress = Callable[[str], None]
BeforeSend = Callable[[OrderPlan], None]
# Answers to a read that asking again cannot change: the key, the symbol, a refusal.
FINAL = (AuthenticationFailed, UnknownSymbol, OrderRejected)
_Read = TypeVar("_Read")


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
    read_tries: int = 5
    read_first_wait: float = 0.1
    read_max_wait: float = 1.0


@dataclass(frozen=True)
class Holding:
    """What the account held of a symbol before a run (the spot base total, or the signed
    derivatives position) and how to read it now."""

    before: Decimal
    read: Callable[[], Decimal]


@dataclass
class SentSoFar:
    """A run's orders as the exchange answered them, what the account held before them, and
    the market's taker fee (the most a fee paid in the base takes off what a fill brings)."""

    orders: list[OrderReport]
    holding: Holding | None = None
    taker_fee: Decimal = ZERO

    def exchange_ids(self) -> set[str | None]:
        return {o.exchange_order_id for o in self.orders}

    def expected_holding(self) -> tuple[Decimal, Decimal]:
        """What the account should hold after these orders alone, and by how much a fee
        paid in the base may leave it short."""
        assert self.holding is not None
        signed = sum((o.filled if o.side is Side.BUY else -o.filled for o in self.orders), ZERO)
        traded = sum((o.filled for o in self.orders), ZERO)
        return self.holding.before + signed, traded * self.taker_fee


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
        holding: Holding | None = None,
    ) -> None:
        """Send, await, reprice: until filled, dust, or out of attempts. Every order ends
        filled or cancelled (the reports say how); its fills are the caller's to read,
        beside the final balances. Each report is appended to `orders` as soon as the
        exchange answered it, so an exception later in the run still leaves it to settle;
        `before_send` (the gate) is asked right before every send and raises to stop it.
        `holding` is what the account held before: an order "not found" is sent again only
        if the account holds what the orders the app knows explain."""
        so_far = SentSoFar(orders, holding, rules.taker_fee)
        if plan.resting:
            self._rest(plan, rules, origin, progress, orders, before_send, so_far)
            return
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
            report = self.place(current, origin, so_far)
            if report is None:
                continue
            orders.append(report)
            checkpoints.reach(
                "placed", account=self.book.account, symbol=current.symbol, origin=origin.value
            )
            report = self.await_fill(report, rules, progress)
            orders[-1] = report
            if report.status is OrderStatus.OPEN:
                ended = self.read_again(
                    lambda r=report: self.gateway.cancel_order(r.symbol, r.client_order_id),
                    report.symbol,
                )
                report = ended if ended is not None else self.settle_by_fills(report, so_far)
                orders[-1] = report
            current = self.replan(current, report, rules)

    def _rest(
        self,
        plan: OrderPlan,
        rules: MarketRules,
        origin: Origin,
        progress: Progress,
        orders: list[OrderReport],
        before_send: BeforeSend,
        so_far: SentSoFar,
    ) -> None:
        """A working order: sent once at the trader's price and left to rest. Whatever
        fills at once is the run's; the rest stays open (recorded so) for the periodic
        check to follow, a cancel or a new click to end."""
        progress(
            f"placing {plan.side.value.upper()} "
            f"{wording.quantity(plan.amount, rules.amount_step)} {rules.base} "
            f"at {wording.price(plan.price, rules.price_step)} to rest"
        )
        before_send(plan)
        report = self.place(plan, origin, so_far)
        if report is not None:
            orders.append(report)
            checkpoints.reach(
                "placed", account=self.book.account, symbol=plan.symbol, origin=origin.value
            )

    def place(
        self, plan: OrderPlan, origin: Origin, so_far: SentSoFar | None = None
    ) -> OrderReport | None:
        """Send one order with a freshly persisted intent; None when the exchange confirmed
        it never arrived (so a new one may be sent)."""
        return self.send(plan, self.intend(plan, origin), so_far)

    def intend(self, plan: OrderPlan, origin: Origin) -> str:
        """Commit the intent of `plan` (a new client order id) before anything is sent."""
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
                resting=plan.resting,
            )
        return client_order_id

    def send(
        self, plan: OrderPlan, client_order_id: str, so_far: SentSoFar | None = None
    ) -> OrderReport | None:
        """Send the order whose intent (`client_order_id`, for `plan` as it is now) is
        committed; None when the exchange confirmed it never arrived."""
        sent_at = time.time()
        # only a derivatives gateway takes the flag (the paper gateway is spot)
        flags = {"reduce_only": True} if plan.reduce_only else {}
        if plan.resting:
            flags["rest"] = True
        try:
            return self.gateway.place_limit_order(
                plan.symbol, plan.side, plan.amount, plan.price, client_order_id, **flags
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
            report = self.resolve(plan.symbol, client_order_id, sent_at, so_far)
        except GatewayError as exc:
            with self.db.session() as session:
                repo.mark_order(session, client_order_id, OrderStatus.REJECTED, sentence(exc))
            raise
        if report is None:
            with self.db.session() as session:
                repo.mark_order(session, client_order_id, OrderStatus.REJECTED, NEVER_ARRIVED)
        return report

    def resolve(
        self,
        symbol: str,
        client_order_id: str,
        sent_at: float,
        so_far: SentSoFar | None = None,
    ) -> OrderReport | None:
        """Ask the exchange what became of an order whose answer was lost (sent at epoch
        `sent_at`, after the orders of its run `so_far`). "Does not exist" is believed only once
        the request's receive window has passed (a request delayed beyond it is refused by
        the exchange, so the order can no longer appear) and the account shows no trace of
        it (confirm_absent)."""
        window_closes = sent_at + self.policy.receive_window
        waits = backoff(self.policy.resolve_first_poll, self.policy.resolve_max_poll)
        failure: GatewayError | None = None
        for _ in range(self.policy.resolve_tries):
            try:
                report = self.gateway.order_by_client_id(symbol, client_order_id)
            except GatewayError as exc:  # whatever failed, the order may stand: ask again
                failure = exc
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
                self.confirm_absent(symbol, client_order_id, sent_at, so_far)
                return None
            time.sleep(min(next(waits), window_closes - time.time() + 0.01))
        self._unresolved(
            symbol,
            client_order_id,
            "the app could not learn whether it reached the exchange"
            + (f" ({sentence(failure)})" if failure else ""),
        )

    def confirm_absent(
        self, symbol: str, client_order_id: str, sent_at: float, so_far: SentSoFar | None
    ) -> None:
        """Before an order the exchange says does not exist is taken as never placed (and
        one like it may be sent): its open orders and the symbol's fills since the order was
        sent (and one receive window before: the clocks may differ) must show no order the
        app does not know (recorded, or sent earlier in the run), and, within a run, the
        account must hold what the orders the app knows explain (a fill the exchange's lists
        do not show yet still moves the balance). Any trace leaves the order unknown and the
        symbol paused."""
        since = datetime.fromtimestamp(sent_at - self.policy.receive_window, UTC)
        checkpoints.reach("confirming-absent", account=self.book.account, symbol=symbol)
        try:
            traces = self.read_again(lambda: self.gateway.traces(symbol, since), symbol)
        except GatewayError as exc:
            self._unresolved(symbol, client_order_id, f"its traces could not be read ({exc})")
        with self.db.session() as session:
            known = {o.exchange_order_id for o in repo.recent_orders(session, self.book)}
        known |= so_far.exchange_ids() if so_far else set()
        strangers = (traces.open_order_ids | traces.filled_order_ids) - known
        if client_order_id in traces.open_client_ids or strangers:
            self._unresolved(
                symbol,
                client_order_id,
                "the exchange says it does not exist, but it lists "
                f"{'it as open' if client_order_id in traces.open_client_ids else 'orders'} "
                f"the app does not know since it was sent ({', '.join(sorted(strangers))})",
            )
        if so_far is not None and so_far.holding is not None:
            self._confirm_holding(symbol, client_order_id, so_far)

    def _confirm_holding(self, symbol: str, client_order_id: str, so_far: SentSoFar) -> None:
        assert so_far.holding is not None
        try:
            held = self.read_again(so_far.holding.read, symbol)
        except GatewayError as exc:
            self._unresolved(symbol, client_order_id, f"the account could not be read ({exc})")
        expected, fee_slack = so_far.expected_holding()
        if abs(held - expected) > fee_slack:
            self._unresolved(
                symbol,
                client_order_id,
                f"the exchange says it does not exist, but the account holds "
                f"{held.normalize():f} where the orders the app knows leave "
                f"{expected.normalize():f}",
            )

    def _unresolved(self, symbol: str, client_order_id: str, why: str) -> NoReturn:
        """Leave the order unknown (the symbol takes no trade until it is reconciled)."""
        with self.db.session() as session:
            repo.mark_order(
                session, client_order_id, OrderStatus.UNKNOWN, f"outcome unknown: {why}"
            )
        raise UnresolvedOrder(
            f"order {client_order_id} on {symbol}: {why}; nothing more is sent and trading "
            f"{symbol} is paused until it is reconciled"
        )

    def settle_by_fills(self, report: OrderReport, so_far: SentSoFar) -> OrderReport:
        """An order the exchange took and now says it does not know (a cancel answered
        "unknown order" and the order cannot be read back): its fills, asked by its exchange
        id, say how much it filled. Filled whole, it is done; otherwise it ended (nothing is
        open under its id) or the symbol is paused, and never sent again blindly."""
        unknown = replace(report, status=OrderStatus.UNKNOWN)
        fills = self.read_again(lambda: self.gateway.order_fills(unknown), report.symbol)
        filled = sum((f.qty for f in fills), ZERO)
        average = sum((f.qty * f.price for f in fills), ZERO) / filled if filled else None
        ended = replace(report, filled=filled, average=average)
        if filled >= report.amount:
            return replace(ended, status=OrderStatus.FILLED)
        since = report.placed_at.timestamp() if report.placed_at else time.time()
        so_far.orders[-1] = ended  # the holding it explains is what its fills say
        self.confirm_absent(report.symbol, report.client_order_id, since, so_far)
        return replace(ended, status=OrderStatus.CANCELED)

    def read_again(self, read: Callable[[], _Read], symbol: str) -> _Read:
        """`read` once an order is out: a read that fails (busy, unreachable, a 5xx,
        unreadable, fills listed late) is tried again with growing waits (a rate limit's own
        wait), `read_tries` times in all, before its error is the trade's."""
        waits = backoff(self.policy.read_first_wait, self.policy.read_max_wait)
        for _ in range(self.policy.read_tries - 1):
            try:
                return read()
            except FINAL:
                raise
            except GatewayError as exc:
                wait = exc.retry_after if isinstance(exc, RateLimited) else next(waits)
                log.warning(
                    "a read after an order failed; reading again",
                    extra={**fields(self.book, symbol), "reason": str(exc), "wait_s": wait},
                )
                checkpoints.reach("reading-again", account=self.book.account, symbol=symbol)
                time.sleep(wait)
        return read()

    def await_fill(self, report: OrderReport, rules: MarketRules, progress) -> OrderReport:
        """Read an open order until it ends or the attempt's deadline passes. The first read
        is at once: MEXC answers a placement with the order's id and no status, and an
        aggressive LIMIT has nearly always filled by then; later reads wait longer each time."""
        if report.status is not OrderStatus.OPEN:
            return report
        deadline = time.monotonic() + self.policy.attempt_deadline
        for wait in itertools.chain((0.0,), backoff(self.policy.first_poll, self.policy.max_poll)):
            progress(f"order placed, filled {filled_pct(report)} %")
            if time.monotonic() + wait > deadline:
                return report
            time.sleep(wait)
            latest = self.read_again(
                lambda r=report: self.gateway.order_by_client_id(r.symbol, r.client_order_id),
                report.symbol,
            )
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

    def leave_unresolved(self, reports: list[OrderReport], why: Exception) -> None:
        """A run's orders when their end or fills could not be read: each that filled or may
        still be open is recorded unknown (the others as they ended), in one transaction, so
        the next reconcile settles them first."""
        with self.db.session() as session:
            for report in reports:
                unsettled = report.filled > 0 or report.status is OrderStatus.OPEN
                status = OrderStatus.UNKNOWN if unsettled else report.status
                repo.update_order(session, replace(report, status=status), str(why))

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
            fills = self.read_again(lambda r=report: self.gateway.order_fills(r), symbol)
            self.settle([report], fills)
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
