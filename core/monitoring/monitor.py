"""The position monitor: database against exchange, for one account or many.

Each account is read once (one snapshot: a fixed number of calls), diagnosed with the pure
rules in `core.monitoring.reconcile`, and, when asked to execute, repaired in a single transaction
across all accounts, so one round converges. Beside the snapshot, the account's deposits and
withdrawals of its quote are read: each completed one is recorded once in the ledger. An
account whose exchange fails is reported as failed, never assumed flat, and the others go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from core import wording
from core.domain import (
    ZERO,
    AccountSnapshot,
    ActionKind,
    CashTransfer,
    Discrepancy,
    ExchangePosition,
    ExternalChange,
    Holdings,
    OrderReport,
    Policy,
    PositionState,
    RecordedPosition,
    RunFindings,
    SyncAction,
    TransferStatus,
)
from core.errors import AppError
from core.exchange.gateway import GatewayError, TradingGateway, UnknownSymbol
from core.monitoring.reconcile import diagnose, plan
from core.protection.audit import ProtectionAudit
from core.store import ledger, outside_orders, repairs, runs, snapshots
from core.store import protection as stop_records
from core.store import repository as repo
from core.store.db import Database
from core.store.models import Position, utcnow
from core.trading.state import pending_label, position_state, spot_positions, works_toward

if TYPE_CHECKING:
    from core.trading.working import WorkingDesk

log = logging.getLogger(__name__)

# How long before the account was first read a deposit or withdrawal may have been asked
# for and still be pending: the history is read from then, and one completed after that
# first read is a change (one completed before it was in the account's start).
PENDING_SINCE = timedelta(days=7)


class CorruptRecord(AppError):
    """A database row cannot be read; the monitor stops before it changes anything."""


@dataclass(frozen=True)
class AccountLink:
    """A named account the monitor watches, and the gateway that reaches it."""

    name: str
    gateway: TradingGateway
    mode: str = "live"
    quote: str = "USDT"


# the gate's hold on the symbols a repair touches (core.trading.gate.Gate.quiet, per account)
Guard = Callable[[AccountLink, list[str], datetime], AbstractContextManager[frozenset[str]]]
# the working orders of an account's book (core.trading.working), to follow and settle
Working = Callable[[AccountLink], "WorkingDesk"]


@dataclass
class AccountCheck:
    """What one account's check found, and (after `execute`) what it changed."""

    account: str
    exchange: str = ""
    discrepancies: list[Discrepancy] = field(default_factory=list)
    actions: list[SyncAction] = field(default_factory=list)
    states: dict[str, PositionState] = field(default_factory=dict)
    prices: dict[str, Decimal] = field(default_factory=dict)
    drift: dict[str, PositionState] = field(default_factory=dict)
    snapshot: AccountSnapshot | None = None
    error: str | None = None
    api_calls: int = 0
    duration_ms: int = 0
    # stops to place or remove (`--protect`)
    protection: list[SyncAction] = field(default_factory=list)
    # what a part of the check could not do (a stop, a working order's read, a fresh read
    # to confirm a close, the deposit history): the check failed in part
    failed_parts: list[str] = field(default_factory=list)
    read_at: datetime | None = None  # when the snapshot was asked for
    busy: tuple[str, ...] = ()  # symbols left to the next round: an action was on them
    # holdings that changed outside the app, recorded in the ledger as transfers by `execute`
    external_changes: list[ExternalChange] = field(default_factory=list)
    # symbols waiting on a working order of the app's (never drift): how they read
    pending: dict[str, str] = field(default_factory=dict)
    # symbols whose working order filled or ended since it was recorded: settled first
    # (with `execute`), their holdings judged by the next check
    settling: tuple[str, ...] = ()
    outside: tuple[OrderReport, ...] = ()  # open orders the app did not place
    settled: list[OrderReport] = field(default_factory=list)  # working orders read to a change
    # completed deposits and withdrawals of the quote the ledger does not hold yet (until
    # `execute` records them); `notes` say what the check could not look at (a venue that
    # does not report them)
    transfers: list[CashTransfer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def touched(self) -> set[str]:
        """Every symbol a repair of this check would write."""
        return {
            *(d.symbol for d in self.discrepancies),
            *(a.symbol for a in self.actions),
            *(a.symbol for a in self.protection),
            *self.states,
            *self.settling,
        }

    def keep_only(self, allowed: frozenset[str]) -> None:
        """Leave out what concerns a symbol the gate did not give this check."""
        self.busy = tuple(sorted({*self.busy, *(self.touched() - allowed)}))
        self.discrepancies = [d for d in self.discrepancies if d.symbol in allowed]
        self.actions = [a for a in self.actions if a.symbol in allowed]
        self.protection = [a for a in self.protection if a.symbol in allowed]
        self.states = {s: v for s, v in self.states.items() if s in allowed}
        self.drift = {s: v for s, v in self.drift.items() if s in allowed}
        self.settling = tuple(s for s in self.settling if s in allowed)

    @property
    def ok(self) -> bool:
        return self.error is None

    def unrecorded(self) -> list[str]:
        """The deposits and withdrawals found that the ledger does not hold (a dry run, the
        report policy, a failed part of the check), in words, and the notes."""
        found = [
            f"{wording.reported_transfer(t.asset, t.kind.value, t.change)}: not in the ledger"
            for t in self.transfers
        ]
        return [*found, *self.notes]

    def findings(self) -> RunFindings:
        return RunFindings(
            discrepancies=tuple(self.discrepancies),
            actions=(*self.actions, *self.protection),
            in_sync=tuple(sorted(s for s in self.states if s not in self.drift)),
            drift=tuple(sorted(self.drift)),
            error=self.error,
        )


class Monitor:
    def __init__(
        self, db: Database, stale_after: timedelta, require_stop_pct: Decimal | None = None
    ):
        self.db = db
        self.stale_after = stale_after
        self.protection = (
            None if require_stop_pct is None else ProtectionAudit(db, require_stop_pct)
        )

    def check(
        self,
        links: list[AccountLink],
        policy: Policy,
        execute: bool,
        symbols: list[str] | None = None,
        progress: Callable[[int, int, str], None] | None = None,
        protect: bool = False,
        guard: Guard | None = None,
        working: Working | None = None,
    ) -> list[AccountCheck]:
        """Diagnose every account from one snapshot each; with `execute`, apply the policy's
        plan to the database in one transaction and record it in the sync history; with
        `protect` too, place the missing stops and remove the orphans.

        `guard` (the gate) holds the trade lock of every symbol a repair touches while it
        is applied, and leaves out a symbol that an action holds now or touched since its
        account was read: what the snapshot says of it may be old. It is checked again next
        round.

        `working` gives an account's working orders: a symbol waiting on one of the app's is
        pending, never drift; one whose working order filled or ended since it was recorded
        has its fills recorded first (with `execute`), and its holding is judged by the next
        check (the balances read may already hold fills the ledger does not)."""
        checks = []
        for index, link in enumerate(links, 1):
            if progress is not None:
                progress(index, len(links), link.name)
            desk = working(link) if working is not None else None
            checks.append(self._examine(link, policy, symbols, protect, desk))
        if execute:
            with ExitStack() as held:
                for link, check in zip(links, checks, strict=True):
                    if guard is not None and check.ok:
                        allowed = held.enter_context(
                            guard(link, sorted(check.touched()), check.read_at)
                        )
                        check.keep_only(allowed)
                for link, check in zip(links, checks, strict=True):
                    if working is not None:
                        self._settle(working(link), check)
                    self._confirm_flat(link, check)
                if protect and self.protection is not None:
                    for link, check in zip(links, checks, strict=True):
                        self.protection.repair(link, check)
                self._apply(links, checks, policy)
        return checks

    def _examine(
        self,
        link: AccountLink,
        policy: Policy,
        symbols: list[str] | None,
        protect: bool,
        working: WorkingDesk | None = None,
    ) -> AccountCheck:
        check = AccountCheck(link.name, link.gateway.market.name.upper(), read_at=utcnow())
        started, calls = time.monotonic(), link.gateway.api_calls
        with ThreadPoolExecutor(max_workers=1) as pool:
            moved = self._read_transfers(pool, link, check)
            self._read_account(link, policy, symbols, protect, working, check)
            self._transfers_found(link, moved, check)
        check.api_calls = link.gateway.api_calls - calls
        check.duration_ms = int((time.monotonic() - started) * 1000)
        return check

    def _read_transfers(
        self, pool: ThreadPoolExecutor, link: AccountLink, check: AccountCheck
    ) -> tuple[Future, datetime]:
        """The account's deposits and withdrawals of its quote, asked for beside the account
        itself (one round trip): from PENDING_SINCE before the account was first read (this
        very read, the first time)."""
        with self.db.session() as session:
            first = snapshots.first_taken_at(session, repo.BookKey(link.mode, link.name))
        watched_since = first or check.read_at
        asked = pool.submit(link.gateway.cash_transfers, link.quote, watched_since - PENDING_SINCE)
        return asked, watched_since

    def _transfers_found(
        self, link: AccountLink, moved: tuple[Future, datetime], check: AccountCheck
    ) -> None:
        """The completed deposits and withdrawals since the account was first read that the
        ledger does not hold yet. A read that fails or is unreadable fails this part of the
        check (nothing of it is used); the next check reads them again."""
        asked, watched_since = moved
        try:
            reported = asked.result()
        except GatewayError as exc:
            check.failed_parts.append(str(exc))
            return
        if reported is None:
            check.notes.append(
                f"{link.gateway.market.label} does not report deposits and withdrawals to the "
                f"app: {link.quote} moved in or out outside it is not in the ledger"
            )
            return
        book = repo.BookKey(link.mode, link.name)
        with self.db.session() as session:
            check.transfers = [
                t
                for t in sorted(reported, key=lambda t: t.time)
                if t.status is TransferStatus.OK
                and t.time > watched_since
                and not ledger.has_entry(session, book, ledger.cash_key(t))
            ]

    def _read_account(
        self,
        link: AccountLink,
        policy: Policy,
        symbols: list[str] | None,
        protect: bool,
        working: WorkingDesk | None,
        check: AccountCheck,
    ) -> None:
        """The snapshot of the account, diagnosed against the records."""
        try:
            snapshot = link.gateway.snapshot(link.name, symbols or (), link.quote)
            listed = self._working_orders(link, snapshot, working, check)
            settling = set(check.settling)
            held = [p for p in self._exchange_positions(link, snapshot) if p.symbol not in settling]
            with self.db.session() as session:
                rows = _position_rows(session, link)
                recorded = [p for p in _recorded(link, rows) if p.symbol not in settling]
                targets = {p.symbol: PositionState(p.target_state) for p in rows if p.target_state}
            self._pending(check, link, listed, targets)
            watched = [s for s in symbols or [] if s not in settling]
            self._read_states(check, link, snapshot, watched, targets)
            tolerances = {p.symbol: self._tolerance(link, p.symbol) for p in [*recorded, *held]}
        except GatewayError as exc:
            check.error = str(exc)
        else:
            check.snapshot = snapshot
            check.discrepancies = diagnose(
                recorded, held, tolerances, snapshot.taken_at, self.stale_after
            )
            check.actions = plan(check.discrepancies, policy)
            if self.protection is not None:
                self.protection.examine(check, link, snapshot, held, protect)

    def _read_states(
        self,
        check: AccountCheck,
        link: AccountLink,
        snapshot: AccountSnapshot,
        symbols: list[str],
        targets: dict[str, PositionState],
    ) -> None:
        """Each watched symbol's state as the trader sees it, and the ones that drifted
        from the target the trader last asked for."""
        for symbol in symbols:
            ticker = snapshot.tickers.get(symbol)
            if ticker is None:
                continue
            try:
                rules = link.gateway.market.market_rules(symbol)
            except UnknownSymbol:
                continue  # the account's exchange does not list it (a derivatives account)
            holdings = Holdings.of(snapshot.balances, rules.base, rules.quote)
            target = targets.get(symbol)
            check.states[symbol] = position_state(holdings, ticker.last, rules, target)
            check.prices[symbol] = ticker.last
            pending = symbol in check.pending
            if target is not None and check.states[symbol] is not target and not pending:
                check.drift[symbol] = target

    def _working_orders(
        self,
        link: AccountLink,
        snapshot: AccountSnapshot,
        working: WorkingDesk | None,
        check: AccountCheck,
    ) -> list[OrderReport]:
        """The open orders, read again after the snapshot when the app has working orders
        on the account (one call): a working order listed as recorded then was as recorded
        when the balances were read; the symbols of the others are settled first. The open
        orders no record of the app's explains are the outside ones."""
        listed = list(snapshot.orders)
        if working is not None and working.recorded():
            listed = link.gateway.open_orders()
            check.settling = tuple(sorted(working.changed(listed)))
        ids = {o.client_order_id for o in listed if o.client_order_id}
        with self.db.session() as session:
            ours = repo.orders_by_client_id(session, repo.BookKey(link.mode, link.name), ids)
        check.outside = tuple(o for o in listed if o.client_order_id not in ours)
        return [o for o in listed if o.client_order_id in ours]

    def _pending(
        self,
        check: AccountCheck,
        link: AccountLink,
        ours: list[OrderReport],
        targets: dict[str, PositionState],
    ) -> None:
        """The symbols waiting on a working order of the app's toward their target."""
        by_symbol: dict[str, list[OrderReport]] = {}
        for order in ours:
            target = targets.get(order.symbol)
            if target is not None and works_toward(target, order.side):
                by_symbol.setdefault(order.symbol, []).append(order)
        for symbol, orders in by_symbol.items():
            rules = link.gateway.market.market_rules(symbol)
            check.pending[symbol] = pending_label(targets[symbol], orders, rules, link.quote)

    def _settle(self, working: WorkingDesk, check: AccountCheck) -> None:
        """Record the fills of the working orders that filled or ended (the symbol's lock is
        held), each once; a read that fails leaves them to the next check."""
        for symbol in check.settling:
            try:
                check.settled.extend(working.settle(symbol))
            except GatewayError as exc:
                check.failed_parts.append(f"{symbol}: its working order was not read: {exc}")

    def _confirm_flat(self, link: AccountLink, check: AccountCheck) -> None:
        """Close a position or end a stop only on a fresh read that still finds the symbol
        flat: the snapshot may predate a fill. A symbol the fresh read finds held, or every
        one when the read fails, is left to the next round."""
        closing = {a.symbol for a in check.actions if a.kind is ActionKind.CLOSE}
        closing |= {a.symbol for a in check.protection if a.kind is ActionKind.UNPROTECT}
        if not closing:
            return
        calls = link.gateway.api_calls
        try:
            fresh = link.gateway.snapshot(link.name, sorted(closing), link.quote)
            held = {p.symbol for p in self._exchange_positions(link, fresh) if p.qty}
        except GatewayError as exc:
            held = closing
            check.failed_parts.append(f"no fresh read to confirm a close: {exc}")
        check.api_calls += link.gateway.api_calls - calls
        if closing & held:
            check.keep_only(frozenset(check.touched() - (closing & held)))

    def _exchange_positions(
        self, link: AccountLink, snapshot: AccountSnapshot
    ) -> list[ExchangePosition]:
        if snapshot.positions is not None:
            return list(snapshot.positions)
        prices = {s: t.last for s, t in snapshot.tickers.items()}
        market = link.gateway.market
        rules = {
            f"{asset}/{link.quote}": market.market_rules(f"{asset}/{link.quote}")
            for asset in snapshot.balances
            if f"{asset}/{link.quote}" in prices
        }
        return spot_positions(link.name, snapshot.balances, prices, rules, link.quote)

    def _tolerance(self, link: AccountLink, symbol: str) -> Decimal:
        try:
            return link.gateway.market.market_rules(symbol).amount_step
        except GatewayError:
            return ZERO

    def _apply(self, links: list[AccountLink], checks: list[AccountCheck], policy: Policy) -> None:
        """The plan of every account, its balances as a snapshot, each watched symbol's
        verdict and the run's record, in one transaction."""
        by_name = {link.name: link for link in links}
        now = utcnow()
        with self.db.session() as session:
            for check in checks:
                book = repo.BookKey(by_name[check.account].mode, check.account)
                if check.actions:
                    check.external_changes += repairs.apply_actions(
                        session,
                        book,
                        check.actions,
                        now,
                        seen_at=check.snapshot.taken_at,
                        marks={s: t.last for s, t in check.snapshot.tickers.items()},
                    )
                    closed = [a.symbol for a in check.actions if a.kind is ActionKind.CLOSE]
                    stop_records.end_stops_of(
                        session, book, closed, stop_records.DONE, "the position closed"
                    )
                if policy is not Policy.REPORT and check.ok and not check.failed_parts:
                    # a check that reports a failure tells no change: left to the next one
                    for transfer in check.transfers:
                        change = repo.record_cash_transfer(session, book, transfer)
                        if change is not None:
                            check.external_changes.append(change)
                    check.transfers = []  # the ledger holds each now
                if check.snapshot is not None:
                    snapshots.record_snapshot(
                        session, book, check.snapshot.balances, "check", check.snapshot.taken_at
                    )
                    outside_orders.record(session, book, check.outside, check.snapshot.taken_at)
                for symbol, state in check.states.items():
                    if policy is not Policy.REPORT:
                        repo.set_position_state(
                            session, book, symbol, state, check.prices.get(symbol)
                        )
                    drifted = symbol in check.drift
                    verdict = f"{symbol} no longer {check.drift[symbol].value}" if drifted else ""
                    repo.record_sync_status(
                        session, book, symbol, "drift" if drifted else "in_sync", verdict, now
                    )
                runs.record_sync_run(
                    session,
                    book,
                    kind="monitor",
                    ok=check.ok,
                    message=_summary(check),
                    started_at=now,
                    policy=policy.value,
                    api_calls=check.api_calls,
                    duration_ms=check.duration_ms,
                    findings=check.findings(),
                )
                log.log(
                    logging.INFO if check.ok else logging.WARNING,
                    "monitor check %s",
                    "done" if check.ok else "failed",
                    extra={
                        "account": check.account,
                        "policy": policy.value,
                        "discrepancies": len(check.discrepancies),
                        "repaired": len(check.actions),
                        "drift": sorted(check.drift),
                        "api_calls": check.api_calls,
                        "duration_ms": check.duration_ms,
                        "outcome": _summary(check),
                    },
                )


def recorded_positions(session: Session, link: AccountLink) -> list[RecordedPosition]:
    return _recorded(link, _position_rows(session, link))


def _position_rows(session: Session, link: AccountLink) -> list[Position]:
    book = repo.BookKey(link.mode, link.name)
    try:
        return repo.positions(session, book)
    except (InvalidOperation, ValueError, TypeError) as exc:
        symbols = ", ".join(repo.unreadable_positions(session, book)) or "?"
        raise CorruptRecord(
            f"the {link.mode} position {symbols} of account {link.name!r} in the database holds "
            f"an unreadable value ({type(exc).__name__}); fix or delete that row, nothing was changed"
        ) from None


def _recorded(link: AccountLink, rows: list[Position]) -> list[RecordedPosition]:
    return [
        RecordedPosition(link.name, p.symbol, p.qty, p.last_price, p.price_time)
        for p in rows
        if p.is_open
    ]


def _amount(qty: Decimal) -> str:
    return format(qty.normalize(), "f")


def _summary(check: AccountCheck) -> str:
    """One line for the sync history and the badge: what was found, what was repaired, and
    which symbols no longer hold the trader's target."""
    if check.error:
        return f"{check.account}: exchange check failed: {check.error}"
    parts = []
    if check.discrepancies:
        counts: dict[str, int] = {}
        for d in check.discrepancies:
            counts[d.kind.value] = counts.get(d.kind.value, 0) + 1
        found = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        done = f"{len(check.actions)} repaired" if check.actions else "left as they are"
        total = wording.count(len(check.discrepancies), "discrepancy", "discrepancies")
        parts.append(f"{total} ({found}), {done}")
    held = [c for c in check.external_changes if c.reported is None]
    if held:
        moved = ", ".join(f"{c.symbol} {_amount(c.before)} → {_amount(c.after)}" for c in held)
        parts.append(f"holdings changed outside the app: {moved}")
    parts += [
        wording.external_change(c, None) for c in check.external_changes if c.reported
    ] + check.unrecorded()
    if check.busy:
        parts.append(f"{', '.join(check.busy)} left to the next check: an action was running")
    if check.pending:
        parts.append("; ".join(f"{s} {label}" for s, label in sorted(check.pending.items())))
    if check.settling:
        parts.append(
            f"{', '.join(check.settling)}: a working order filled or ended; its fills are "
            "recorded and the holding checked next round"
        )
    if check.outside:
        listed = ", ".join(
            f"{o.symbol} {o.side.value.upper()} {_amount(o.amount)} @ {_amount(o.price)}"
            for o in check.outside
        )
        parts.append(
            f"{wording.count(len(check.outside), 'order')} placed outside the app: {listed}"
        )
    if check.drift:
        held = ", ".join(
            f"{symbol} no longer {target.value}" for symbol, target in sorted(check.drift.items())
        )
        parts.append(f"drift from the trader's targets: {held}")
    return f"{check.account}: {'; '.join(parts) or 'in sync'}"
