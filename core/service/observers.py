"""What the engine's outcomes set off beside their own records: an event in the book's feed,
alerts (one per incident, sent off the trade path by the alerts' sender thread) and
Prometheus metrics.

Every trade, check, stop, flatten and resume of the service reports here, so an incident
is named the same way wherever it starts and clears. They report after the action has
ended and its lock is released; recording the event is one small transaction (the events
of one check or sync, however many it repaired, one transaction together), and a failure
to record it is logged, never raised into the trade or check that reported."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from core import wording
from core.domain import (
    ZERO,
    ActionKind,
    Amended,
    ExternalChange,
    MarketRules,
    Mode,
    OrderReport,
    OrderStatus,
    Origin,
    SyncAction,
    TradeResult,
    WorkingOrder,
)
from core.operations import metrics
from core.operations.alerts import (
    Clearing,
    Incident,
    IncidentAlerts,
    UnreachableWatch,
    incident_key,
)
from core.store import events
from core.store.books import BookKey
from core.store.db import Database
from core.views import AccountCheckView, BookEvent

log = logging.getLogger(__name__)

# the page tab whose click is being carried out in this thread (None: the command line, the
# scheduler, the watcher): its events are news to every other tab, not to that one
_requester: ContextVar[str | None] = ContextVar("requester", default=None)
# repairs of holdings worth telling; a reprice of a stale mark happens on every quiet check
REPAIRS_TOLD = {
    ActionKind.CREATE: "created",
    ActionKind.RESIZE: "resized",
    ActionKind.CLOSE: "closed",
}
CHECKED = Mode.LIVE  # a check reads a real account: its events belong to the LIVE book


@contextmanager
def requested_by(tab: str | None) -> Iterator[None]:
    """Run the block on behalf of a page tab: the events it records name that tab."""
    token = _requester.set(tab or None)
    try:
        yield
    finally:
        _requester.reset(token)


def book_incident(kind: str, book: BookKey, symbol: str | None = None) -> str:
    """An incident of one book: a LIVE book's key as it always was, a SIM book's its own,
    so that a paper trade never opens, closes or hides an incident of the real account."""
    key = incident_key(kind, book.account, symbol)
    return key if book.mode == Mode.LIVE.value else f"{book.mode}:{key}"


def external_change_incident(account: str, symbol: str | None, event_id: int | str) -> str:
    """One incident per external change: it opens with the change and closes when the
    trader acknowledges its event."""
    return incident_key("external_change", account, f"{symbol}#{event_id}")


class Observers:
    def __init__(
        self,
        alerts: IncidentAlerts,
        unreachable_after: float,
        db: Database,
        rules: Callable[[str], MarketRules | None],
    ):
        """`rules(symbol)` is the market's precision for the words, or None when unknown."""
        self.alerts = alerts
        self.unreachable = UnreachableWatch(alerts, unreachable_after)
        self._db = db
        self._rules = rules

    def trade_done(
        self, account: str, result: TradeResult, origin: Origin, kind: str, *, mode: Mode
    ) -> None:
        """A trade that ran (a refused one did nothing to report)."""
        if result.refused:
            return
        metrics.observe_sync_run(
            account, kind, result.ok, result.duration_ms / 1000, result.api_calls
        )
        for order in result.orders:
            metrics.count_order(account, result.symbol, order.side.value, origin.value)
        asked = f"{result.symbol} → {result.target.value}"
        book = BookKey(mode.value, account)
        self._record(
            book,
            kind="trade" if result.ok else "trade_failed",
            who=origin.value,
            symbol=result.symbol,
            text=f"{asked}: {result.message}",
        )
        incident = book_incident("verify_failed", book, result.symbol)
        if result.ok:
            metrics.mark_good_sync(account, datetime.now(UTC))
            self.alerts.clear_incident(incident, f"{result.symbol}: {result.message}")
        else:
            self.alerts.raise_incident(
                incident,
                "verify_failed",
                f"{account}: {result.symbol} {result.target.value} not verified",
                result.message,
                account=account,
                symbol=result.symbol,
                mode=book.mode,
            )

    def check_done(self, check: AccountCheckView, drift_started: list[str]) -> None:
        """A periodic check of one account: a failure, a drift that starts, a holding
        repaired and a holding changed outside the app are each told once."""
        account = check.account
        book = BookKey(CHECKED.value, account)
        metrics.observe_sync_run(
            account, "check", check.ok, check.duration_ms / 1000, check.api_calls
        )
        unreachable = self.unreachable.record(account, check.ok, book.mode)
        if unreachable is not None:
            self._record(book, kind="alert", who=Origin.MONITOR.value, text=unreachable)
        failed = incident_key("sync_failed", account)
        if not check.ok:
            words = f"The check of account {account} could not read it: {check.error}"
            if self.alerts.raise_incident(
                failed,
                "sync_failed",
                f"{account}: the check failed",
                words,
                account=account,
                mode=book.mode,
            ):
                self._record(book, kind="alert", who=Origin.MONITOR.value, text=words)
            self._repairs(book, check)  # what a part that failed did not keep it from writing
            return
        metrics.mark_good_sync(account, datetime.now(UTC))
        self.alerts.clear_incident(failed, f"The check of account {account} works again.")
        for symbol in drift_started:
            metrics.count_drift(account, symbol)
        for symbol, target in check.drift.items():
            words = f"{symbol} no longer holds the trader's target {target.value}."
            if self.alerts.raise_incident(
                incident_key("drift", account, symbol),
                "drift",
                f"{account}: {symbol} drifted",
                words,
                account=account,
                symbol=symbol,
                mode=book.mode,
            ):
                self._record(
                    book, kind="drift", who=Origin.MONITOR.value, symbol=symbol, text=words
                )
        self._repairs(book, check)

    def _repairs(self, book: BookKey, check: AccountCheckView) -> None:
        """The holdings a check or sync repaired, and those changed outside the app (the
        repair of such a holding is the change itself, told once as such): every event of
        the check in one transaction, in that order (a sync of 10,000 repairs is one
        INSERT, not 10,000 commits), then each change's alert, the alerts in one more."""
        changed = {change.symbol for change in check.external_changes}
        told = [
            {
                "kind": "repaired",
                "who": Origin.MONITOR.value,
                "symbol": action.symbol,
                "text": self._repair_words(action),
            }
            for action in check.actions
            if action.kind in REPAIRS_TOLD and action.symbol not in changed
        ]
        repaired = len(told)
        words = [self._change_words(change) for change in check.external_changes]
        told += [
            self._change_event(change, said)
            for change, said in zip(check.external_changes, words, strict=True)
        ]
        # the changes are the book's own (the check's account): one insert holds them all
        ids = self._record_all(book, told)
        self._change_alerts(check.external_changes, words, ids[repaired:], Mode(book.mode))

    def external_change(self, change: ExternalChange, mode: Mode = CHECKED) -> None:
        """A holding changed outside the app: one alert and one event, which the badge shows
        until the trader acknowledges it."""
        words = self._change_words(change)
        event_id = self._record(
            BookKey(mode.value, change.account), **self._change_event(change, words)
        )
        self._change_alerts([change], [words], [event_id], mode)

    def _change_words(self, change: ExternalChange) -> str:
        return wording.external_change(change, self._rules(change.symbol))

    @staticmethod
    def _change_event(change: ExternalChange, words: str) -> dict:
        """The event of an external change, at the time the read found it."""
        return {
            "kind": "external_change",
            "who": Origin.MONITOR.value,
            "symbol": change.symbol,
            "text": words,
            "needs_ack": True,
            "time": change.time,
        }

    def _change_alerts(
        self,
        changes: Sequence[ExternalChange],
        words: Sequence[str],
        event_ids: Sequence[int | None],
        mode: Mode,
    ) -> None:
        """Each change's own incident, named by its event (by its time when the event could
        not be stored), so that acknowledging the event ends it: raised together (one
        transaction, one message for more than a few)."""
        self.alerts.raise_incidents(
            [
                Incident(
                    external_change_incident(
                        change.account, change.symbol, event_id or change.time.isoformat()
                    ),
                    "external_change",
                    f"{change.account}: {said}",
                    f"{said}. It is not a trade of the app; acknowledge it on the page or with "
                    "`app.py ack`.",
                    account=change.account,
                    symbol=change.symbol,
                    mode=mode.value,
                )
                for change, said, event_id in zip(changes, words, event_ids, strict=True)
            ]
        )

    def acknowledged(self, event: BookEvent) -> None:
        """An incident the trader acknowledged: its alert is over."""
        self.acknowledged_events([event])

    def acknowledged_events(self, acked: Sequence[BookEvent]) -> None:
        """Incidents the trader acknowledged together (`ack --all`, the page's button): each
        one's alert is over, cleared together (one transaction, a cleared row each, one
        message for more than a few of an account)."""
        self.alerts.clear_incidents(
            [
                Clearing(
                    external_change_incident(event.account, event.symbol, event.id),
                    f"Acknowledged: {event.text}",
                )
                for event in acked
            ]
        )

    def monitor_done(self, check: AccountCheckView, mode: Mode, *, applied: bool) -> None:
        """A diagnose or sync of the position monitor: counted; the repairs a `sync
        --execute` (`applied`) made are told in the feed, as the periodic check's are (also
        when a part of it failed), and a holding it found changed outside the app is an
        incident like any other. Failures
        and drift are not alerted: the periodic check is what watches while nobody does."""
        metrics.observe_sync_run(
            check.account, "monitor", check.ok, check.duration_ms / 1000, check.api_calls
        )
        if applied:
            self._repairs(BookKey(mode.value, check.account), check)

    def in_sync(self, account: str, symbols: list[str]) -> None:
        """Symbols found holding their target again: any drift on them is over."""
        for symbol in symbols:
            if self.alerts.clear_incident(
                incident_key("drift", account, symbol), f"{symbol} holds its target again."
            ):
                self._record(
                    BookKey(CHECKED.value, account),
                    kind="in_sync",
                    who=Origin.MONITOR.value,
                    symbol=symbol,
                    text=f"{symbol} holds the trader's target again.",
                )

    def unresolved(self, account: str, count: int) -> None:
        metrics.set_unresolved(account, count)

    def stop_fired(self, account: str, symbol: str, text: str, stop_id: int, *, mode: Mode) -> None:
        metrics.count_stop_trigger(account, symbol)
        book = BookKey(mode.value, account)
        self._record(
            book,
            kind="stop_fired",
            who=Origin.STOP.value,
            symbol=symbol,
            text=f"{symbol} {text}",
        )
        self.alerts.raise_incident(
            book_incident("stop_triggered", book, f"{symbol}#{stop_id}"),
            "stop_triggered",
            f"{account}: stop on {symbol} fired",
            text,
            account=account,
            symbol=symbol,
            mode=book.mode,
        )

    def working_order(self, account: str, report: OrderReport, who: str, *, mode: Mode) -> None:
        """A working order that filled (in part or whole) or ended, as a check or a cancel
        found it: one line of the feed."""
        rules = self._rules(report.symbol)
        step, tick = (rules.amount_step, rules.price_step) if rules else (ZERO, ZERO)
        what = (
            f"{report.symbol} {report.side.value.upper()} {wording.stepped(report.amount, step)} "
            f"@ {wording.stepped(report.price, tick)}"
        )
        filled = wording.stepped(report.filled, step)
        if report.status is OrderStatus.FILLED:
            kind, text = "order_filled", f"working order {what} filled"
        elif report.status is OrderStatus.OPEN:
            kind, text = "order_filled", f"working order {what}: {filled} filled so far"
        else:
            kind, text = (
                "order_ended",
                f"working order {what} ended {report.status.value} ({filled} filled)",
            )
        self._record(
            BookKey(mode.value, account), kind=kind, who=who, symbol=report.symbol, text=text
        )

    def order_cancelled(self, account: str, order: WorkingOrder, who: str, *, mode: Mode) -> None:
        side = order.side.value.upper() if order.side else ""
        amount = "" if order.amount is None else f" {order.amount.normalize():f}"
        text = (
            f"{order.symbol} {side}{amount} @ {order.price.normalize():f} cancelled "
            f"(placed by {order.placed_by.value})"
        )
        self._record(
            BookKey(mode.value, account),
            kind="order_cancelled",
            who=who,
            symbol=order.symbol,
            text=text,
        )

    def order_amended(self, account: str, amended: Amended, who: str, *, mode: Mode) -> None:
        self._record(
            BookKey(mode.value, account),
            kind="order_amended",
            who=who,
            symbol=amended.symbol,
            text=f"{amended.symbol}: {amended.message}",
        )

    def kill_switch(self, account: str, text: str, *, mode: Mode) -> None:
        book = BookKey(mode.value, account)
        self._record(book, kind="flatten", who=Origin.FLATTEN.value, text=text)
        self.alerts.raise_incident(
            book_incident("kill_switch", book),
            "kill_switch",
            f"{account}: trading halted by the kill switch",
            text,
            account=account,
            mode=book.mode,
        )

    def resumed(self, account: str, *, mode: Mode) -> None:
        who = Origin.MANUAL if _requester.get() else Origin.CLI
        book = BookKey(mode.value, account)
        self._record(
            book,
            kind="resume",
            who=who.value,
            text=f"Trading on {account} ({mode.value.upper()}) resumed.",
        )
        self.alerts.clear_incident(
            book_incident("kill_switch", book), f"Trading on {account} resumed."
        )

    def _repair_words(self, action: SyncAction) -> str:
        """`ETH/USDT: the record resized 0.882 → 0.500 to what the exchange holds (qty_mismatch)`."""
        rules = self._rules(action.symbol)
        step = rules.amount_step if rules is not None else ZERO
        before = "none" if action.before_qty is None else wording.stepped(action.before_qty, step)
        after = "none" if action.after_qty is None else wording.stepped(action.after_qty, step)
        return (
            f"{action.symbol}: the record {REPAIRS_TOLD[action.kind]} {before} → {after} to what "
            f"the exchange holds ({action.reason.value})"
        )

    def _record(self, book: BookKey, **event) -> int | None:
        """One event in the book's feed; its id, or None when it could not be stored (logged:
        a feed that missed one line never fails what happened)."""
        try:
            with self._db.session() as session:
                return events.record_event(session, book, requester=_requester.get(), **event)
        except Exception:
            log.exception(
                "event not recorded",
                extra={"account": book.account, "kind": event.get("kind"), "mode": book.mode},
            )
            return None

    def _record_all(self, book: BookKey, told: list[dict]) -> list[int | None]:
        """Events of the book in one transaction, in order; their ids, or a None for each
        when they could not be stored (logged, as `_record` does: the feed missed them,
        what happened stands)."""
        if not told:
            return []
        requester = _requester.get()
        try:
            with self._db.session() as session:
                return events.record_events(
                    session, book, [{**event, "requester": requester} for event in told]
                )
        except Exception:
            log.exception(
                "events not recorded",
                extra={
                    "account": book.account,
                    "kind": ",".join(sorted({event["kind"] for event in told})),
                    "mode": book.mode,
                    "count": len(told),
                },
            )
            return [None] * len(told)
