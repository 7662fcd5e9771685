"""The gate: the one door every order passes, whoever asks it (a page click, the command
line, enforce, the stop watcher, flatten, the monitor, `sync --protect`).

Whether an order may go out is decided here and nowhere else, under the account-and-symbol
lock, once when the action starts and again right before every send:

- the lock is still held (a PostgreSQL session that died would let a second action in);
- the book is not halted: a halted book lets through only the stop watcher's and
  flatten's orders that reduce what is held;
- the mode the request was made for is still the book's mode: a page click carries the mode
  its tab showed and the periodic check the mode it read, so neither trades a book the
  trader did not see;
- the order is within the notional cap, and an order of enforce within the size the trader
  asked with the target (enforce never buys more than that, and buys nothing when no size
  was remembered).

A cancel of working orders (`cancel`, the page's Cancel) takes the same lock and the same
mode check (a halt does not stop it: it only takes risk away). Moving a working order's
price (`amend`) sends an order, so it passes every check above.

The gate opens the action's job (the page shows its step) and finishes it in `finally`;
when a symbol ends verifiably flat it ends the symbol's stops, so a stop never outlives the
holding it protected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.accounts.account import Account
from core.domain import (
    Amended,
    ExitPart,
    Mode,
    OrderReport,
    Origin,
    PositionState,
    Side,
    TradeResult,
    TradeSize,
    WorkingOrder,
)
from core.errors import LockLost, Refused, TradeBusy
from core.exchange.gateway import GatewayError
from core.operations.locks import TradeLocks
from core.store import jobs
from core.store import protection as stops
from core.store import repository as repo
from core.store.books import BookKey
from core.store.db import Database
from core.trading import checkpoints
from core.trading.amend import replace_order
from core.trading.orders import Reconciled, UnresolvedOrder, sentence
from core.trading.planner import OrderPlan
from core.trading.pricing import Limits

log = logging.getLogger(__name__)
REDUCERS = (Origin.STOP, Origin.FLATTEN)  # may still sell on a halted book
FLATTEN_WAIT_SECONDS = 60.0  # a click in flight finishes (fills awaited, orders resolved)


@dataclass(frozen=True)
class OrderRequest:
    """What an action asks of one symbol. `made_in` is the mode the asker saw (a page click,
    the periodic check); None when the book was named explicitly (`--live`, a stop's own
    book, flatten's). `max_buy` caps what enforce may buy, in the quote asset. `wait` is how
    long to wait for a trade in flight on the symbol (flatten waits; a click is refused).
    `part` is the part of a spot holding a SELL or CLOSE sells (the rest stays LONG).
    `limit_price`: the order rests at that price as the trader's working order."""

    symbol: str
    target: PositionState
    origin: Origin
    size: TradeSize | None = None
    made_in: Mode | None = None
    max_buy: Decimal | None = None
    wait: float = 0.0
    part: ExitPart | None = None
    limit_price: Decimal | None = None


class Gate:
    def __init__(
        self,
        db: Database,
        locks: TradeLocks,
        limits: Limits,
        stored_mode: Callable[[], Mode],
        book_changed: Callable[[BookKey], None],
    ):
        self.db = db
        self.locks = locks
        self.limits = limits
        self._stored_mode = stored_mode
        self._book_changed = book_changed

    # --- trades ------------------------------------------------------------------------

    def trade(self, account: Account, request: OrderRequest) -> TradeResult:
        """Move one symbol to the request's target through the account's executor. A refusal
        (busy, halted, another mode) sent and wrote nothing; anything else is recorded."""
        where = _where(account, request.symbol, request.origin)
        checkpoints.reach("before-lock", **where)
        try:
            with self.locks.hold(account.name, request.symbol, wait=request.wait) as lease:
                checkpoints.reach("locked", **where)
                try:
                    self._check(account, request, request.target is PositionState.NO_POSITION)
                    if request.part is not None and account.is_derivatives:
                        raise Refused(
                            f"a part of a position is closed on spot only; {account.where} "
                            "closes its positions whole"
                        )
                except Refused as refusal:
                    log.info("trade refused: %s", refusal, extra={**where, "reason": str(refusal)})
                    return _refused(request, str(refusal))
                result = self._run(
                    account, request, lambda plan: self._may_send(account, request, lease, plan)
                )
        except TradeBusy as busy:
            return _refused(request, str(busy))
        self._book_changed(account.book)
        return result

    def _run(self, account: Account, request: OrderRequest, before_send) -> TradeResult:
        job = _Job(self.db, account.book, request, self._book_changed)
        result: TradeResult | None = None
        try:
            if request.target is PositionState.NO_POSITION and account.is_derivatives:
                result = account.executor.close_position(
                    request.symbol,
                    origin=request.origin,
                    progress=job.step,
                    before_send=before_send,
                )
            else:
                result = account.executor.sync_position(
                    request.symbol,
                    request.target,
                    request.size,
                    origin=request.origin,
                    progress=job.step,
                    before_send=before_send,
                    part=request.part,
                    limit_price=request.limit_price,
                )
            if result.flat or (result.fills and _was_flat(result, account)):
                self._end_stops(account.book, request.symbol)
            return result
        finally:
            job.finish(result)

    def _end_stops(self, book: BookKey, symbol: str) -> None:
        """The symbol is verifiably flat, or this trade opened a new holding from flat: the
        stops of the old holding have nothing left to protect (a stop asked with this trade
        is set after it). A stop the watcher is firing (triggered) is the watcher's to
        finish."""
        with self.db.session() as session:
            stops.end_stops(
                session,
                book,
                symbol,
                stops.DONE,
                "the position closed",
                only=(stops.ACTIVE, stops.REFUSED),
            )

    # --- the rule ------------------------------------------------------------------------

    def _check(self, account: Account, request: OrderRequest, reduces: bool) -> None:
        """Refused unless the book may act for this request now."""
        with self.db.session() as session:
            halt = stops.halted(session, account.book)
        if halt and not (request.origin in REDUCERS and reduces):
            raise Refused(f"{halt[0]} (python app.py resume{_resume_words(account)} --yes)")
        self._check_mode(account, request.made_in)

    def _check_mode(self, account: Account, made_in: Mode | None) -> None:
        if made_in is not None and account.follows_switch:
            now = self._stored_mode()
            if now is not made_in or account.mode is not made_in:
                raise Refused(
                    f"this {made_in.value.upper()} request was not sent: the dashboard "
                    f"is in {now.value.upper()} now; look at the page and ask again"
                )

    def _may_send(self, account: Account, request: OrderRequest, lease, plan: OrderPlan) -> None:
        """Right before a send: the lock still ours, the book's halt and mode as at the
        start, the order within the cap and, for enforce, within the trader's size."""
        lease.verify()
        reduces = plan.reduce_only or (
            request.target is PositionState.NO_POSITION and not _opens(plan, account)
        )
        self._check(account, request, reduces)
        if plan.notional > self.limits.max_order_notional:
            raise Refused(
                f"an order of {plan.notional:f} {account.quote} is above MAX_ORDER_NOTIONAL "
                f"({self.limits.max_order_notional:f}); nothing was sent"
            )
        if request.origin is Origin.ENFORCE and plan.side.value == "buy":
            if request.max_buy is None:
                raise Refused(
                    f"enforce does not buy {request.symbol}: no size was remembered with its "
                    "target; trade it from the page or the command line"
                )
            if plan.notional > request.max_buy:
                raise Refused(
                    f"enforce would buy {plan.notional:f} {account.quote} of {request.symbol}, "
                    f"more than the {request.max_buy:f} the trader asked with the target"
                )

    # --- other actions on one symbol ---------------------------------------------------

    @contextmanager
    def exclusive(
        self, account: Account, symbol: str, origin: Origin, wait: float = 0.0
    ) -> Iterator[Callable[[], None]]:
        """Hold the symbol's lock for an action that is not a trade (a stop placed or
        removed on the exchange): yields the check to call right before each call that
        changes the exchange. A halt does not stop protective actions."""
        where = _where(account, symbol, origin)
        checkpoints.reach("before-lock", **where)
        with self.locks.hold(account.name, symbol, wait=wait) as lease:
            checkpoints.reach("locked", **where)
            yield lease.verify
        self._book_changed(account.book)

    def cancel(
        self,
        account: Account,
        symbol: str,
        orders: list[WorkingOrder],
        origin: Origin,
        made_in: Mode | None = None,
    ) -> list[WorkingOrder]:
        """Cancel working orders of `symbol` under its lock (a halt does not stop a cancel:
        it only takes risk away; the mode a page asked in still must hold), each read to
        its end with its fills recorded; returns those cancelled. Refused (TradeBusy,
        Refused) while a trade runs on the symbol or the mode changed."""
        where = _where(account, symbol, origin)
        checkpoints.reach("before-lock", **where)
        done: list[WorkingOrder] = []
        with self.locks.hold(account.name, symbol) as lease:
            checkpoints.reach("locked", **where)
            self._check_mode(account, made_in)
            for order in orders:
                lease.verify()
                account.executor.working.cancel(symbol, order)
                done.append(order)
        self._book_changed(account.book)
        log.info("orders cancelled", extra={**where, "orders": len(done)})
        return done

    def amend(
        self,
        account: Account,
        order: WorkingOrder,
        price: Decimal,
        origin: Origin,
        made_in: Mode | None = None,
    ) -> Amended:
        """Move the app's working `order` to `price` under its symbol's lock: cancel and
        replace, intent first (core.trading.amend). It places an order, so it is held to
        the rule of every order: refused on a halted book, in another mode than the one it
        was asked in, above the cap, or while a trade runs on the symbol (nothing sent)."""
        symbol = order.symbol
        where = _where(account, symbol, origin)
        target = PositionState.LONG if order.side is Side.BUY else PositionState.NO_POSITION
        request = OrderRequest(symbol, target, origin, made_in=made_in)
        checkpoints.reach("before-lock", **where)
        try:
            with self.locks.hold(account.name, symbol) as lease:
                checkpoints.reach("locked", **where)
                try:
                    self._check(account, request, reduces=False)
                except Refused as refusal:
                    return Amended(False, symbol, str(refusal), refused=True)
                amended = self._amend(account, request, lease, order, price)
        except TradeBusy as busy:
            return Amended(False, symbol, str(busy), refused=True)
        self._book_changed(account.book)
        log.info("order amended", extra={**where, "outcome": amended.message})
        return amended

    def _amend(self, account, request, lease, order: WorkingOrder, price: Decimal) -> Amended:
        job = _Job(self.db, account.book, request, self._book_changed)
        amended: Amended | None = None
        try:
            amended = replace_order(
                account.executor.working,
                order.symbol,
                order.id,
                price,
                request.origin,
                lambda plan: self._may_send(account, request, lease, plan),
            )
        except Refused as refusal:
            amended = Amended(False, order.symbol, str(refusal), refused=True)
        except (GatewayError, UnresolvedOrder, LockLost) as exc:
            amended = Amended(False, order.symbol, sentence(exc))
        finally:
            job.finish(amended)
        return amended

    def settle_working(self, account: Account) -> list[OrderReport]:
        """Record what the book's working orders filled, each symbol under its lock (a
        symbol with an action running is left to it: its cancel step settles them);
        returns the orders that changed."""
        symbols = sorted({r.symbol for r in account.executor.working.recorded()})
        changed: list[OrderReport] = []
        for symbol in symbols:
            try:
                with self.locks.hold(account.name, symbol):
                    changed.extend(account.executor.working.settle(symbol))
            except TradeBusy:
                continue
        if changed:
            self._book_changed(account.book)
        return changed

    @contextmanager
    def quiet(
        self, account: Account, symbols: Iterable[str], since: datetime
    ) -> Iterator[frozenset[str]]:
        """For the periodic check and the monitor: the symbols of `symbols` that no action
        holds now and none touched since `since` (when the check read the account), with
        their locks held until the block ends. The others wait for the next round."""
        where = _where(account, ",".join(symbols), Origin.MONITOR)
        checkpoints.reach("before-lock", **where)
        with self.locks.hold_many(account.name, symbols) as taken:
            checkpoints.reach("locked", **where)
            with self.db.session() as session:
                still = frozenset(
                    s for s in taken if not jobs.touched_since(session, account.book, s, since)
                )
            yield still

    @contextmanager
    def all_symbols(self, account: Account, symbols: Iterable[str], wait: float) -> Iterator[None]:
        """Every symbol's lock at once, each waited for up to `wait` seconds: a mode switch
        lands between orders, never between an order's last check and its send."""
        where = _where(account, ",".join(sorted(set(symbols))), Origin.MANUAL)
        checkpoints.reach("before-lock", **where)
        with ExitStack() as held:
            for symbol in sorted(set(symbols)):
                held.enter_context(self.locks.hold(account.name, symbol, wait=wait))
            checkpoints.reach("locked", **where)
            yield

    def settle_unresolved(self, account: Account) -> list[Reconciled]:
        """Settle every order of the account's book that a crash or an outage left without a
        known outcome, each symbol under its lock; a symbol with an action running is left
        to it (its trade settles them first)."""
        with self.db.session() as session:
            symbols = sorted({o.symbol for o in repo.unresolved_orders(session, account.book)})
        outcomes: list[Reconciled] = []
        for symbol in symbols:
            try:
                with self.locks.hold(account.name, symbol):
                    outcomes.extend(account.executor.desk.reconcile(symbol))
            except TradeBusy:
                continue
        return outcomes


def _was_flat(result: TradeResult, account: Account) -> bool:
    """Whether the trade found the symbol flat before it traded (spot: no base above dust,
    shown as NO_POSITION or SHORT (in USDT); derivatives: no position)."""
    if account.is_derivatives:
        return result.before is PositionState.NO_POSITION
    return result.before in (PositionState.NO_POSITION, PositionState.SHORT)


def _opens(plan: OrderPlan, account: Account) -> bool:
    """Whether an order could open or grow a holding: any BUY on spot, and on derivatives
    anything not reduce-only."""
    return plan.side.value == "buy" or (account.is_derivatives and not plan.reduce_only)


def _resume_words(account: Account) -> str:
    live = " --live" if account.mode is Mode.LIVE and account.follows_switch else ""
    named = "" if account.follows_switch else f" --account {account.name}"
    return f"{named}{live}"


def _where(account: Account, symbol: str, origin: Origin) -> dict[str, str]:
    return {"account": account.name, "symbol": symbol, "origin": origin.value}


def _refused(request: OrderRequest, message: str) -> TradeResult:
    return TradeResult(False, request.symbol, request.target, None, None, message, refused=True)


class _Job:
    """The action's row in trade_jobs: opened under its lock once its checks passed (a
    refused action leaves no row), finished whatever happens."""

    def __init__(self, db: Database, book: BookKey, request: OrderRequest, changed):
        self.db, self.book, self.request, self._changed = db, book, request, changed
        with db.session() as session:
            self.id = jobs.start_job(
                session, book, request.symbol, request.target.value, request.origin.value
            )
        changed(book)

    def step(self, text: str) -> None:
        with self.db.session() as session:
            jobs.set_step(session, self.id, text)
        self._changed(self.book)  # every page shows the step now

    def finish(self, result: TradeResult | Amended | None) -> None:
        ok = bool(result and result.ok)
        message = result.message if result else "stopped on an unexpected error"
        try:
            with self.db.session() as session:
                jobs.finish_job(session, self.id, ok, message)
        except Exception:  # the next start marks it interrupted; the trade itself is recorded
            log.exception("could not finish a trade job", extra={"job": self.id})
