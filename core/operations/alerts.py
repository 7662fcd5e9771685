"""Incidents to notifications, off the trade path.

An incident (drift on a symbol, a failed verification, an exchange that stopped answering...)
sends one message when it is raised and one more when it clears, however often it is reported
in between. The caller stores the alert at once, in one small transaction, against the alerts
table (whose latest row per incident says raised or cleared, so the state holds across
restarts and processes): an outbox, so an alert raised by a short-lived process (a background
trade) is never lost. Delivery is off the trade path: a sender thread claims each stored
alert (one process delivers it), sends it through apprise with short timeouts and records how
delivery went; every sender also takes over alerts another process stored and left.

Many incidents raised at once (a check that finds thousands of holdings changed outside the
app), or cleared at once (the trader acknowledging them all), are stored in one transaction
and handed to the sender together; more than DIGEST_ABOVE of one kind and account go out as
one message listing the first few, whose outcome each of their rows records. Each is still
its own incident, opened and cleared on its own, with a row of its own for each.

Alert URLs carry tokens and passwords: they are never stored, and logs, rows and errors name
a URL by its position, scheme and host only.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from core.errors import InputError
from core.operations import metrics
from core.store import alert_records
from core.store.db import Database
from core.store.models import utcnow

if TYPE_CHECKING:
    import apprise

logger = logging.getLogger(__name__)

# apprise logs a URL it cannot load whole, token and password included: its records stay out
# of the app's handlers; this module logs every delivery failure itself, without secrets.
logging.getLogger("apprise").propagate = False

KINDS = frozenset(
    {
        "drift",
        "sync_failed",
        "verify_failed",
        "stop_triggered",
        "exchange_unreachable",
        "kill_switch",
        "external_change",
        "test",
    }
)
RAISED, CLEARED = "raised", "cleared"
SENT, FAILED, NO_URLS = "sent", "failed", "no urls"

ACCEPTED = (
    "apprise URLs such as json://host:port/path, tgram://bottoken/chatid, "
    "slack://tokenA/tokenB/tokenC or mailto://user:password@host, "
    "separated by commas or spaces"
)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{0,19})://")
_COMMA_BEFORE_URL = re.compile(r",(?=[A-Za-z][A-Za-z0-9+.-]*://)")
_URL_WORD = re.compile(r"[A-Za-z0-9_~%+-]{4,}")
_WARNING_NOTICE = frozenset({"drift", "exchange_unreachable"})


class AlertUrlError(InputError):
    """An ALERT_URLS entry apprise cannot use; the text names the entry, never its secret."""


def parse_alert_urls(text: str) -> list[str]:
    """The URLs in ALERT_URLS (commas and/or whitespace between them; a comma inside a URL,
    as in mailto's `?to=a@x,b@y`, stays in it). Raises AlertUrlError for the first entry
    apprise cannot load."""
    urls = _split_urls(text)
    for position, url in enumerate(urls, start=1):
        _load(url, position)
    return urls


def _split_urls(text: str) -> list[str]:
    entries: list[str] = []
    for word in text.split():
        entries += (entry.strip(",") for entry in _COMMA_BEFORE_URL.split(word))
    return [entry for entry in entries if entry]


def _load(url: str, position: int):
    """apprise's plugin for one entry, or AlertUrlError naming the entry by position and scheme."""
    match = _SCHEME.match(url)
    if match is None:
        raise AlertUrlError(
            f"Setting ALERT_URLS entry {position} has no scheme://; it accepts {ACCEPTED}"
        )
    scheme = match.group(1).lower()
    import apprise  # here, not at the top: only a process with ALERT_URLS loads it
    from apprise.manager_plugins import NotificationManager

    if scheme not in NotificationManager():
        raise AlertUrlError(
            f"Setting ALERT_URLS entry {position} ({scheme}://) is not a service apprise knows; "
            f"it accepts {ACCEPTED}"
        )
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise AlertUrlError(
            f"Setting ALERT_URLS entry {position} ({scheme}://) is malformed (a token, host or "
            f"part apprise needs is missing or wrong); it accepts {ACCEPTED}"
        )
    return plugin


@dataclass(frozen=True)
class _Target:
    """One alert URL, loaded, with the safe name it goes by."""

    plugin: object
    label: str  # scheme://host as apprise's privacy form shows them: safe for logs and rows
    shown: str  # apprise's privacy form without its options, for the alert-test command
    secrets: tuple[str, ...]  # parts of the raw URL that the label does not show

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return text


def _target(url: str, position: int, timeout_seconds: float) -> _Target:
    plugin = _load(url, position)
    plugin.socket_connect_timeout = timeout_seconds
    plugin.socket_read_timeout = timeout_seconds
    private = urlsplit(plugin.url(privacy=True))
    label = f"{private.scheme}://{private.netloc.rpartition('@')[2]}"
    shown = private._replace(query="", fragment="").geturl()
    words = set(_URL_WORD.findall(url))
    words |= {unquote(word) for word in words}
    secrets = words - set(_URL_WORD.findall(label))
    return _Target(plugin, label, shown, tuple(sorted(secrets, key=len, reverse=True)))


@dataclass(frozen=True)
class DeliveryResult:
    """How sending to one URL went. `target` names the URL without its secrets."""

    target: str
    delivered: bool
    detail: str


def _send_one(
    target: _Target, title: str, body: str, notify_type: apprise.NotifyType, timeout_seconds: float
) -> DeliveryResult:
    import apprise

    sender = apprise.Apprise()
    sender.add(target.plugin)
    outcome = sender.notify(
        body=body, title=title, notify_type=notify_type, timeout=timeout_seconds
    )
    if outcome:
        return DeliveryResult(target.label, True, "delivered")
    if outcome.status == apprise.AppriseResultStatus.TIMEOUT:
        return DeliveryResult(target.label, False, f"no answer within {timeout_seconds:g} s")
    said = [entry.message for entry in outcome.logs() if entry.level in ("WARNING", "ERROR")]
    reason = said[0] if said else "the service refused the message"
    return DeliveryResult(target.label, False, target.redact(reason))


def _send(
    targets: Sequence[_Target],
    title: str,
    body: str,
    notify_type: apprise.NotifyType,
    timeout_seconds: float,
) -> list[DeliveryResult]:
    """Every target at once, so one slow URL does not hold up the others."""
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        return list(
            pool.map(
                lambda target: _send_one(target, title, body, notify_type, timeout_seconds),
                targets,
            )
        )


def send_test(urls: Sequence[str], timeout_seconds: float = 10.0) -> list[DeliveryResult]:
    """`python app.py alert-test`: a test message to every URL, synchronously; each result
    names its URL in apprise's privacy form."""
    targets = [_target(url, n, timeout_seconds) for n, url in enumerate(urls, start=1)]
    if not targets:
        return []
    import apprise

    results = _send(
        targets,
        "Trading dashboard: test alert",
        "This is a test: alerts from the trading dashboard reach this address.",
        apprise.NotifyType.INFO,
        timeout_seconds,
    )
    return [
        DeliveryResult(target.shown, result.delivered, result.detail)
        for target, result in zip(targets, results, strict=True)
    ]


def incident_key(kind: str, account: str | None = None, symbol: str | None = None) -> str:
    """The one name of an incident, such as `drift:spot:ETH/USDT` or `exchange_unreachable:spot`."""
    return ":".join(part for part in (kind, account, symbol) if part)


@dataclass(frozen=True)
class _Event:
    action: str
    incident: str
    kind: str
    title: str
    body: str
    account: str | None
    symbol: str | None
    at: datetime
    mode: str | None = None


@dataclass(frozen=True)
class Incident:
    """One incident to raise: `IncidentAlerts.raise_incident`'s arguments, for
    `raise_incidents`."""

    incident: str
    kind: str
    title: str
    body: str
    account: str | None = None
    symbol: str | None = None
    mode: str | None = None


@dataclass(frozen=True)
class Clearing:
    """One incident to clear: `IncidentAlerts.clear_incident`'s arguments, for
    `clear_incidents`."""

    incident: str
    body: str


@dataclass(frozen=True)
class _Stored:
    """A stored alert as the sender reads it to deliver it."""

    id: int
    incident: str
    state: str
    kind: str
    account: str | None
    mode: str | None
    title: str
    body: str


_STOP = object()
# more raised or cleared alerts than this of one kind and account (and book), delivered
# together (one check's changes outside the app, the sweep's left ones), go out as one
# message that lists the first DIGEST_LISTS; each stays its own incident and row
DIGEST_ABOVE = 5
DIGEST_LISTS = 5
SWEEP_SECONDS = 5.0  # how often a sender looks for alerts other processes left
LEFT_AFTER = timedelta(seconds=5)  # pending that long: its process did not deliver it
STUCK_AFTER = timedelta(minutes=5)  # sending that long: its sender stopped mid-way


class IncidentAlerts:
    """Raise and clear incidents from any thread or process: the alert is stored at once
    (milliseconds), and a daemon sender thread (started on first use, or by `start`)
    delivers it. Nothing here waits on a URL or raises into the caller."""

    def __init__(
        self,
        urls: Sequence[str],
        db: Database,
        *,
        timeout_seconds: float = 5.0,
        queue_size: int = 1000,
    ):
        self._targets = [_target(url, n, timeout_seconds) for n, url in enumerate(urls, start=1)]
        self._db = db
        self._timeout = timeout_seconds
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def raise_incident(
        self,
        incident: str,
        kind: str,
        title: str,
        body: str,
        account: str | None = None,
        symbol: str | None = None,
        mode: str | None = None,
    ) -> bool:
        """Notify once while `incident` lasts: nothing is sent if it is already open. True
        when this call opened it. `mode` names the book it belongs to (None: no book)."""
        (opened,) = self.raise_incidents(
            [Incident(incident, kind, title, body, account, symbol, mode)]
        )
        return opened

    def raise_incidents(self, incidents: Sequence[Incident]) -> list[bool]:
        """`raise_incident` for many at once: those not open already are stored in one
        transaction and handed to the sender together, which sends more than DIGEST_ABOVE of
        one kind and account as one message. Each is its own incident all the same (cleared
        on its own); True for each this call opened, in order."""
        at = utcnow()
        return self._submit(
            [
                _Event(
                    RAISED,
                    one.incident[:200],
                    one.kind,
                    one.title,
                    one.body,
                    one.account,
                    one.symbol,
                    at,
                    one.mode,
                )
                for one in incidents
            ]
        )

    def clear_incident(self, incident: str, body: str) -> bool:
        """Notify that `incident` is over; nothing is sent if it is not open. True when this
        call closed it."""
        (closed,) = self.clear_incidents([Clearing(incident, body)])
        return closed

    def clear_incidents(self, clearings: Sequence[Clearing]) -> list[bool]:
        """`clear_incident` for many at once (the trader acknowledging thousands of changes
        outside the app): those open are closed in one transaction, each with its own
        cleared row, and handed to the sender together, which sends more than DIGEST_ABOVE
        of one kind and account as one message. True for each this call closed, in order."""
        at = utcnow()
        return self._submit(
            [
                _Event(CLEARED, one.incident[:200], "", "", one.body, None, None, at)
                for one in clearings
            ]
        )

    def start(self) -> None:
        """Start the sender thread, again in a forked worker whose copy did not survive."""
        with self._start_lock:
            if self._closed or (self._thread is not None and self._thread.is_alive()):
                return
            self._thread = threading.Thread(target=self._run, name="alert-sender", daemon=True)
            self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every alert stored so far by this process is delivered; False on
        timeout."""
        if self._closed:
            return True
        self.start()
        done = threading.Event()
        deadline = time.monotonic() + timeout
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(max(0.0, deadline - time.monotonic()))

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued, then stop the sender; later events are dropped."""
        self.flush(timeout)
        with self._start_lock:
            self._closed = True
            thread = self._thread
        if thread is not None and thread.is_alive():
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                return
            thread.join(timeout)

    def _submit(self, events: Sequence[_Event]) -> list[bool]:
        """Store the alerts in one transaction (a raise of an open incident, or a clear of a
        closed one, stores nothing) and hand them to the sender as one item; True for each
        stored. Never raises into the trade or check."""
        if not events:
            return []
        stored = [False] * len(events)
        try:
            for event in events:
                if event.action == RAISED and event.kind not in KINDS:
                    logger.warning("alert kind %r is not one of %s", event.kind, sorted(KINDS))
            if self._closed:
                logger.warning("alerts are closed: %s not %s", _named(events), events[0].action)
                return stored
            stored, alert_ids = self._store(events)
            if alert_ids:
                self.start()
                self._queue.put_nowait(tuple(alert_ids))
        except queue.Full:
            kept = [event for event, done in zip(events, stored, strict=True) if done]
            logger.warning("alert queue full: the sweep delivers %s", _named(kept))
        except Exception:
            logger.exception("alert for %s not stored", _named(events))
            return [False] * len(events)
        return stored

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=SWEEP_SECONDS)
            except queue.Empty:
                self._sweep()
                continue
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            self._deliver_stored(item)

    def _sweep(self) -> None:
        """Deliver what other processes stored and left (or a stopped sender left)."""
        try:
            now = utcnow()
            with self._db.session() as session:
                left = alert_records.undelivered(session, now - LEFT_AFTER, now - STUCK_AFTER)
                alert_records.release(session, left)
            if left:
                self._deliver_stored(left)
        except Exception:
            logger.exception("looking for undelivered alerts failed")

    def _store(self, events: Sequence[_Event]) -> tuple[list[bool], list[int]]:
        """The alerts' rows, in one transaction under every incident's lock: whether each
        event stored one (not where it changes nothing; an event sees the ones before it in
        the list, so an incident twice in one list is raised once), and the rows' ids."""
        with self._db.session() as session:
            incidents = {event.incident for event in events}
            alert_records.lock_incidents(session, incidents)
            latest = {
                incident: {
                    "state": row.state,
                    "kind": row.kind,
                    "account": row.account,
                    "symbol": row.symbol,
                    "title": row.title,
                    "mode": row.mode,
                }
                for incident, row in alert_records.latest_alerts(session, incidents).items()
            }
            rows, stored = [], []
            for event in events:
                last = latest.get(event.incident)
                is_open = last is not None and last["state"] == RAISED
                stored.append(is_open != (event.action == RAISED))
                if not stored[-1]:
                    continue
                if event.action == CLEARED:
                    kind, account, symbol = last["kind"], last["account"], last["symbol"]
                    title, mode = f"Resolved: {last['title']}", last["mode"]
                else:
                    kind, account, symbol = event.kind, event.account, event.symbol
                    title, mode = event.title, event.mode
                row = {
                    "incident": event.incident,
                    "kind": kind,
                    "state": event.action,
                    "title": title,
                    "body": event.body,
                    "account": account,
                    "symbol": symbol,
                    "created_at": event.at,
                    "mode": mode,
                }
                latest[event.incident] = row
                rows.append(row)
            return stored, alert_records.add_alerts(session, rows)

    def _deliver_stored(self, alert_ids: Sequence[int]) -> None:
        """Deliver these stored alerts (those no other sender took first): each on its own,
        or more than DIGEST_ABOVE of one kind and account as one message."""
        try:
            with self._db.session() as session:
                taken = alert_records.claim_deliveries(session, alert_ids)
                rows = [_Stored(**row._mapping) for row in alert_records.alert_rows(session, taken)]
        except Exception:
            logger.exception("alerts %s not delivered", _ids(alert_ids))
            return
        groups: dict[tuple, list[_Stored]] = {}
        for row in rows:
            groups.setdefault((row.state, row.kind, row.account, row.mode), []).append(row)
        for group in groups.values():
            if len(group) > DIGEST_ABOVE:
                self._deliver_together(group)
            else:
                for row in group:
                    self._deliver_together([row])

    def _deliver_together(self, rows: Sequence[_Stored]) -> None:
        """One message for these alerts (an alert's own, or a digest of them), and its
        outcome recorded on each, and counted for each."""
        first = rows[0]
        try:
            if len(rows) == 1:
                named, title, body = f"incident {first.incident}", first.title, first.body
            else:
                named = f"{len(rows)} incidents ({first.incident} ...)"
                title, body = _digest(rows)
            delivery, detail, delivered_at = self._deliver(
                named, first.state, first.kind, title, body
            )
            with self._db.session() as session:
                alert_records.record_deliveries(
                    session, [row.id for row in rows], delivery, detail, delivered_at
                )
            for _ in rows:
                metrics.count_alert(first.kind, first.state, delivery)
        except Exception:
            logger.exception("alerts %s not delivered", _ids([row.id for row in rows]))

    def _deliver(
        self, named: str, state: str, kind: str, title: str, body: str
    ) -> tuple[str, str | None, datetime | None]:
        if not self._targets:
            return NO_URLS, "ALERT_URLS is empty", None
        results = _send(self._targets, title, body, _notify_type(state, kind), self._timeout)
        failed = [result for result in results if not result.delivered]
        for result in failed:
            logger.warning(
                "alert for %s (%s) not delivered to %s: %s",
                named,
                state,
                result.target,
                result.detail,
            )
        delivered_at = utcnow() if len(failed) < len(results) else None
        if not failed:
            return SENT, None, delivered_at
        detail = "; ".join(f"{result.target}: {result.detail}" for result in failed)
        if delivered_at is not None:
            detail = f"delivered to {len(results) - len(failed)} of {len(results)} URLs; {detail}"
        return FAILED, detail, delivered_at


def _named(events: Sequence[_Event]) -> str:
    """`incident X`, or `N incidents (X ...)`, for the log."""
    if len(events) == 1:
        return f"incident {events[0].incident}"
    return f"{len(events)} incidents ({events[0].incident} ...)" if events else "no incident"


def _ids(alert_ids: Sequence[int]) -> str:
    shown = ", ".join(str(alert_id) for alert_id in alert_ids[:DIGEST_LISTS])
    return shown + (f" ... ({len(alert_ids)})" if len(alert_ids) > DIGEST_LISTS else "")


def _digest(rows: Sequence[_Stored]) -> tuple[str, str]:
    """The title and body of one message for many alerts of one kind, state and account:
    how many, the first DIGEST_LISTS by their titles, and where to see them all (raised),
    or that they are over (cleared: changes outside the app end by being acknowledged)."""
    first, count = rows[0], len(rows)
    where = f"{first.account}: " if first.account else ""
    on = f" on {first.account}" if first.account else ""
    listed = [
        f"- {row.title.removeprefix('Resolved: ').removeprefix(where)}"
        for row in rows[:DIGEST_LISTS]
    ]
    if count > DIGEST_LISTS:
        listed.append(f"- ... and {count - DIGEST_LISTS} more")
    lines = "\n".join(listed)
    if first.state == CLEARED and first.kind == "external_change":
        return (
            f"Resolved: {where}{count} changes outside the app acknowledged",
            f"{count} holdings changed outside the app acknowledged{on}:\n{lines}",
        )
    if first.state == CLEARED:
        return (
            f"Resolved: {where}{count} {first.kind} alerts",
            f"{count} {first.kind} alerts resolved{on}:\n{lines}",
        )
    if first.kind == "external_change":
        return (
            f"{where}{count} holdings changed outside the app",
            f"{count} holdings changed outside the app{on}:\n{lines}\nNone is a trade of the "
            "app; acknowledge them on the page or with `app.py ack`.",
        )
    return (
        f"{where}{count} {first.kind} alerts",
        f"{count} {first.kind} alerts{on}:\n{lines}\nThe page lists each of them.",
    )


def _notify_type(action: str, kind: str) -> apprise.NotifyType:
    import apprise

    if action == CLEARED:
        return apprise.NotifyType.SUCCESS
    if kind == "test":
        return apprise.NotifyType.INFO
    return apprise.NotifyType.WARNING if kind in _WARNING_NOTICE else apprise.NotifyType.FAILURE


class UnreachableWatch:
    """Raises `exchange_unreachable` for an account once every exchange read of it has been
    failing for longer than `after_seconds`, and clears it at the next read that works."""

    def __init__(
        self,
        alerts: IncidentAlerts,
        after_seconds: float = 120,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._alerts = alerts
        self._after = after_seconds
        self._clock = clock
        self._failing_since: dict[str, float] = {}
        # None until this process knows: an incident raised before a restart may still be open
        self._open: dict[str, bool] = {}
        self._lock = threading.Lock()

    def record(self, account: str, ok: bool, mode: str | None = None) -> str | None:
        """One exchange read of `account` (of the book `mode`) worked (`ok`) or failed, now.
        The alert's words when this read raised it (the caller tells the feed too), else
        None."""
        now = self._clock()
        incident = incident_key("exchange_unreachable", account)
        with self._lock:
            if ok:
                self._failing_since.pop(account, None)
                if self._open.get(account) is not False:
                    self._open[account] = False
                    self._alerts.clear_incident(
                        incident, f"The exchange answers account {account} again."
                    )
                return None
            failing_for = now - self._failing_since.setdefault(account, now)
            if failing_for <= self._after or self._open.get(account) is True:
                return None
            self._open[account] = True
            words = (
                f"Every exchange read of account {account} has failed for {failing_for:.0f} s; "
                "trades and checks on it fail until it answers again."
            )
            raised = self._alerts.raise_incident(
                incident,
                "exchange_unreachable",
                f"{account}: exchange unreachable",
                words,
                account=account,
                mode=mode,
            )
            return words if raised else None


@dataclass(frozen=True)
class AlertRecord:
    """One stored alert, for the page: it never holds a URL."""

    time: datetime
    incident: str
    kind: str
    account: str | None
    symbol: str | None
    state: str
    title: str
    body: str
    delivery: str
    delivery_detail: str | None
    delivered_at: datetime | None
    mode: str | None = None  # the book it belongs to; None: no book


def recent_alerts(
    db: Database, limit: int = 50, mode: str | None = None, account: str | None = None
) -> list[AlertRecord]:
    """The newest alerts first: of the book `mode` and `account` when given (and those of
    no book), else all."""
    with db.session() as session:
        rows = alert_records.newest_alerts(session, limit, mode, account)
        return [
            AlertRecord(
                time=row.created_at,
                incident=row.incident,
                kind=row.kind,
                account=row.account,
                symbol=row.symbol,
                state=row.state,
                title=row.title,
                body=row.body,
                delivery=row.delivery,
                delivery_detail=row.delivery_detail,
                delivered_at=row.delivered_at,
                mode=row.mode,
            )
            for row in rows
        ]
