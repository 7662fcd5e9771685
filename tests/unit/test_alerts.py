"""Alerts: which ALERT_URLS are accepted, one message per incident (state in a real SQLite
file), never a wait on the caller's side, and when an unreachable exchange becomes an alert;
many incidents raised or cleared at once (on PostgreSQL too): one transaction, each its own
incident and row, and more than a few of one kind and account one message."""

from __future__ import annotations

import io
import logging
import socket
import threading
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import text

from core.errors import AppError, InputError
from core.operations import alerts as alerts_module
from core.operations.alerts import (
    AlertUrlError,
    Clearing,
    Incident,
    IncidentAlerts,
    UnreachableWatch,
    incident_key,
    parse_alert_urls,
    recent_alerts,
)
from core.store import alert_records
from core.store.db import Database
from core.store.models import utcnow
from tests.services import database_of_kind

TELEGRAM = "tgram://123456789:ABCdefGHIjklMNOpqrSTUvwxYZ/12345"
SLACK = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general"
MAIL = "mailto://user:pass@gmail.com?to=a@example.com,b@example.com"


@pytest.fixture
def db(tmp_path):
    database = Database.open(f"sqlite:///{tmp_path}/t.db")
    yield database
    database.dispose()


@pytest.fixture
def alerts(db):
    made = []

    def make(urls=(), **options):
        alerts = IncidentAlerts(list(urls), db, **options)
        made.append(alerts)
        return alerts

    yield make
    for alerts in made:
        alerts.close(timeout=10)


@pytest.fixture
def root_log():
    """What the app's own log handlers (on the root logger) receive, at every level."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def hanging_url():
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"json://127.0.0.1:{listener.getsockname()[1]}/hook"
    listener.close()


def test_accepts_urls_separated_by_commas_and_whitespace():
    text = f" json://127.0.0.1:8080/hook,{TELEGRAM}\n{MAIL}  ,  {SLACK},json://example.com "
    assert parse_alert_urls(text) == [
        "json://127.0.0.1:8080/hook",
        TELEGRAM,
        MAIL,
        SLACK,
        "json://example.com",
    ]


def test_empty_setting_means_no_urls():
    assert parse_alert_urls("") == []
    assert parse_alert_urls(" , \n") == []


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("json://127.0.0.1/hook, tgram://S3CRETbot/chat", "entry 2 (tgram://)"),
        ("foo://admin:S3CRETpw@example.com", "entry 1 (foo://)"),
        (f"{TELEGRAM} S3CRETtoken", "entry 2 has no scheme"),
        ("mailto://user:S3CRETpw@", "entry 1 (mailto://)"),
        ("json://user:S3CRETpw@/hook", "entry 1 (json://)"),
    ],
)
def test_refuses_a_malformed_entry_naming_it_without_its_secret(text, named, root_log):
    with pytest.raises(AlertUrlError) as refused:
        parse_alert_urls(text)
    message = str(refused.value)
    assert isinstance(refused.value, InputError) and isinstance(refused.value, AppError)
    assert named in message
    assert message.startswith("Setting ALERT_URLS") and "accepts" in message
    assert "\n" not in message
    assert "S3CRET" not in message
    # apprise logs an unparseable URL whole: its records never reach the app's handlers
    assert "S3CRET" not in root_log.getvalue()


def test_incident_keys():
    assert incident_key("drift", "spot", "ETH/USDT") == "drift:spot:ETH/USDT"
    assert incident_key("exchange_unreachable", "spot") == "exchange_unreachable:spot"
    assert incident_key("kill_switch") == "kill_switch"


def states(db, incident):
    return [a.state for a in reversed(recent_alerts(db, 100)) if a.incident == incident]


def test_one_message_per_incident_while_it_lasts_and_one_when_it_clears(db, alerts):
    sender = alerts()
    drift = incident_key("drift", "spot", "ETH/USDT")

    sender.raise_incident(
        drift, "drift", "ETH/USDT drift", "LONG recorded, SHORT held", "spot", "ETH/USDT"
    )
    sender.raise_incident(drift, "drift", "ETH/USDT drift", "still drifting", "spot", "ETH/USDT")
    assert sender.flush()
    assert states(db, drift) == ["raised"]

    sender.clear_incident(drift, "in sync again")
    assert sender.flush()
    assert states(db, drift) == ["raised", "cleared"]

    sender.clear_incident(drift, "in sync again")
    assert sender.flush()
    assert states(db, drift) == ["raised", "cleared"]

    sender.raise_incident(drift, "drift", "ETH/USDT drift", "drifting again", "spot", "ETH/USDT")
    assert sender.flush()
    assert states(db, drift) == ["raised", "cleared", "raised"]

    newest, cleared = recent_alerts(db, 2)[:2]
    assert (newest.kind, newest.account, newest.symbol, newest.body) == (
        "drift",
        "spot",
        "ETH/USDT",
        "drifting again",
    )
    assert cleared.title == "Resolved: ETH/USDT drift" and cleared.kind == "drift"
    # stored and listed even with no URL to send to
    assert {a.delivery for a in recent_alerts(db, 10)} == {"no urls"}
    assert newest.delivery_detail == "ALERT_URLS is empty" and newest.delivered_at is None


def test_open_incidents_hold_across_restarts(db, alerts):
    halted = incident_key("kill_switch", "spot")
    first = alerts()
    first.raise_incident(halted, "kill_switch", "spot halted", "kill switch on", "spot")
    first.close()

    after_restart = alerts()
    after_restart.raise_incident(halted, "kill_switch", "spot halted", "kill switch on", "spot")
    after_restart.clear_incident(incident_key("kill_switch", "other"), "never raised")
    assert after_restart.flush()
    assert [a.state for a in recent_alerts(db, 10)] == ["raised"]

    after_restart.clear_incident(halted, "resumed")
    assert after_restart.flush()
    assert [a.state for a in recent_alerts(db, 10)] == ["cleared", "raised"]


@pytest.fixture
def held_sender(monkeypatch):
    """The sender thread stops inside its send until the test releases it: `entered` is
    set when it gets there, and `release` lets it go on to the real send. A caller that
    waited on the sender would wait forever, however fast or slow the machine."""
    entered, release = threading.Event(), threading.Event()
    send = alerts_module._send

    def held(*args, **kwargs):
        entered.set()
        release.wait()
        return send(*args, **kwargs)

    monkeypatch.setattr(alerts_module, "_send", held)
    yield entered, release
    release.set()  # never leave the sender held for the fixtures' close


def returns_while_held(calls) -> None:
    """Run `calls` in a thread of their own, which must finish while the sender is held.
    The join's bound only keeps a regression from hanging the suite: the sender is held
    until the test releases it, so a call that waited on it would never finish."""
    caller = threading.Thread(target=calls, daemon=True)
    caller.start()
    caller.join(timeout=120)
    assert not caller.is_alive(), "raise_incident waited on the sender"


def test_raise_returns_at_once_while_a_url_hangs(db, alerts, hanging_url, held_sender):
    entered, release = held_sender
    sender = alerts([hanging_url], timeout_seconds=0.5)

    def raise_three():
        for n in range(3):
            sender.raise_incident(
                f"sync_failed:spot:{n}", "sync_failed", "sync failed", "timeout", "spot"
            )

    returns_while_held(raise_three)
    assert entered.wait(120), "the sender never started sending"
    assert len(recent_alerts(db, 10)) == 3, "each alert is stored before the call returns"
    assert {row.delivery for row in recent_alerts(db, 10)} <= {"pending", "sending"}

    release.set()
    assert sender.flush(timeout=30)
    rows = recent_alerts(db, 10)
    assert len(rows) == 3
    assert {row.delivery for row in rows} == {"failed"}
    assert all(row.delivery_detail.startswith(hanging_url[:-5]) for row in rows)


def test_a_full_queue_drops_the_event_instead_of_waiting(db, alerts, held_sender, caplog):
    """Queue of one: the held sender has the first alert, the second fills the queue, and
    the next four are dropped at once, each logged, and stay stored for the sweep."""
    entered, release = held_sender
    sender = alerts(["json://127.0.0.1:9/hook"], timeout_seconds=0.5, queue_size=1)
    sender.raise_incident("drift:spot:0", "drift", "drift", "drift", "spot")
    assert entered.wait(120), "the sender never started sending"

    def raise_five():
        for n in range(1, 6):
            sender.raise_incident(f"drift:spot:{n}", "drift", "drift", "drift", "spot")

    with caplog.at_level(logging.WARNING, logger="core.operations.alerts"):
        returns_while_held(raise_five)
    dropped = [r.getMessage() for r in caplog.records if "alert queue full" in r.getMessage()]
    assert dropped == [
        f"alert queue full: the sweep delivers incident drift:spot:{n}" for n in range(2, 6)
    ]
    assert len(recent_alerts(db, 10)) == 6, "a dropped event is still stored"
    release.set()


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_unreachable_is_raised_after_the_threshold_and_cleared_on_the_next_success(db, alerts):
    sender, clock = alerts(), Clock()
    watch = UnreachableWatch(sender, after_seconds=120, clock=clock)
    incident = incident_key("exchange_unreachable", "spot")

    def read(at: float, ok: bool) -> list[str]:
        clock.now = at
        watch.record("spot", ok)
        assert sender.flush()
        return states(db, incident)

    assert read(0, ok=True) == []  # nothing was open: nothing to clear
    assert read(10, ok=False) == []
    assert read(70, ok=False) == []
    assert read(130, ok=False) == []  # failing for exactly 120 s: not yet longer
    assert read(131, ok=False) == ["raised"]
    assert read(400, ok=False) == ["raised"]
    assert read(401, ok=True) == ["raised", "cleared"]
    assert read(402, ok=True) == ["raised", "cleared"]
    # a new outage counts from its own first failure
    assert read(500, ok=False) == ["raised", "cleared"]
    assert read(610, ok=False) == ["raised", "cleared"]
    assert read(621, ok=False) == ["raised", "cleared", "raised"]

    raised = recent_alerts(db, 1)[0]
    assert (raised.kind, raised.account) == ("exchange_unreachable", "spot")
    assert "121 s" in raised.body

    # another process (or a restart) knows nothing in memory: its first success still clears
    fresh = UnreachableWatch(sender, after_seconds=120, clock=clock)
    clock.now = 700
    fresh.record("spot", ok=True)
    assert sender.flush()
    assert states(db, incident)[-1] == "cleared"


def test_accounts_are_watched_apart(db, alerts):
    sender, clock = alerts(), Clock()
    watch = UnreachableWatch(sender, after_seconds=60, clock=clock)
    for at in (0, 30, 61):
        clock.now = at
        watch.record("spot", ok=False)
        watch.record("perps", ok=at != 30)
    assert sender.flush()
    assert states(db, incident_key("exchange_unreachable", "spot")) == ["raised"]
    assert states(db, incident_key("exchange_unreachable", "perps")) == []


def alerts_counted(kind: str, state: str = "raised", delivery: str = "no urls") -> float:
    """The process's trading_alerts_total sample of these labels (0 before any)."""
    labels = {"kind": kind, "state": state, "delivery": delivery}
    return REGISTRY.get_sample_value("trading_alerts_total", labels) or 0.0


class AlertWrites:
    """The INSERTs into alerts and the commits that the calling thread makes (the sender
    thread writes too, at the same time)."""

    def __init__(self, db):
        self.seen: list[str] = []
        self._thread = threading.get_ident()
        sqlalchemy_event.listen(db.engine, "before_cursor_execute", self._statement)
        sqlalchemy_event.listen(db.engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == self._thread and statement.lstrip().upper().startswith(
            "INSERT INTO ALERTS"
        ):
            self.seen.append("insert")

    def _commit(self, conn):
        if threading.get_ident() == self._thread:
            self.seen.append("commit")


def drifts(names, account="spot") -> list[Incident]:
    return [
        Incident(f"drift:{account}:{name}", "drift", f"{account}: {name} drifted", "drift",
                 account, name)
        for name in names
    ]  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_incidents_raised_at_once_are_stored_in_one_transaction_each_once(tmp_path, kind):
    """Twelve incidents in one call, one of them open already and one named twice: the
    eleven new ones stored in one transaction, each its own row and incident;
    the same call again stores nothing; clearing one clears only it; each counted."""
    names = [f"S{n}" for n in range(12)]
    with database_of_kind(kind, tmp_path, "bulk") as db:
        sender = IncidentAlerts([], db)
        try:
            counted = alerts_counted("drift")
            assert sender.raise_incident("drift:spot:S3", "drift", "spot: S3 drifted", "drift")
            assert sender.flush()
            written = AlertWrites(db)
            opened = sender.raise_incidents(drifts([*names, "S5"]))
            assert opened == [n != 3 for n in range(12)] + [False]
            assert written.seen.count("commit") == 1 and written.seen[-1] == "commit"
            assert written.seen[0] == "insert"  # the rows, then their one commit
            assert sender.flush()
            rows = recent_alerts(db, 100)
            assert sorted(row.incident for row in rows) == sorted(
                incident_key("drift", "spot", name) for name in names
            )
            assert {(row.state, row.delivery) for row in rows} == {("raised", "no urls")}
            assert alerts_counted("drift") - counted == 12  # one per incident, as before

            assert sender.raise_incidents(drifts(names)) == [False] * 12  # all open: nothing
            assert sender.clear_incident("drift:spot:S7", "in sync again")
            assert sender.flush()
            assert len(recent_alerts(db, 100)) == 13
            for name in names:
                expected = ["raised", "cleared"] if name == "S7" else ["raised"]
                assert states(db, incident_key("drift", "spot", name)) == expected
            assert sender.raise_incidents(drifts(["S7", "S8"])) == [True, False]
        finally:
            sender.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_processes_raising_overlapping_batches_store_each_incident_once(tmp_path, kind):
    """Two senders (as two processes would, each its own pool) raise 200 incidents at the
    same moment, half of them the same, in opposite orders: each incident is stored once."""
    with database_of_kind(kind, tmp_path, "race") as db:
        other = Database.open(db.engine.url.render_as_string(hide_password=False))
        first, second = IncidentAlerts([], db), IncidentAlerts([], other)
        try:
            ready = threading.Barrier(2)
            opened: dict[str, list[bool]] = {}

            def raise_at_once(name, sender, incidents):
                ready.wait()
                opened[name] = sender.raise_incidents(incidents)

            callers = [
                threading.Thread(
                    target=raise_at_once, args=("first", first, drifts(range(0, 150)))
                ),
                threading.Thread(
                    target=raise_at_once,
                    args=("second", second, drifts(reversed(range(50, 200)))),
                ),
            ]
            for caller in callers:
                caller.start()
            for caller in callers:
                caller.join(timeout=120)
            assert sum(opened["first"]) + sum(opened["second"]) == 200
            rows = recent_alerts(db, 1000)
            assert len(rows) == 200
            assert len({row.incident for row in rows}) == 200
        finally:
            first.close()
            second.close()
            other.dispose()


def test_locking_many_incidents_takes_a_bounded_number_of_locks(tmp_path):
    """PostgreSQL: 20,000 incidents locked in one transaction (a lock each would overflow
    its table of locks, 6,400 by default) hold at most LOCK_STRIPES advisory locks."""
    with database_of_kind("postgresql", tmp_path, "locks") as db, db.session() as session:
        alert_records.lock_incidents(session, [f"drift:spot:C{n}/USDT" for n in range(20_000)])
        held = session.scalar(
            text(
                "SELECT count(*) FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        )
        assert 0 < held <= alert_records.LOCK_STRIPES


@pytest.fixture
def messages(delivered_alerts):
    """Each message the senders deliver: (title, body)."""
    return delivered_alerts("title", "body")


def changes_outside(account, count) -> list[Incident]:
    return [
        Incident(
            f"external_change:{account}:C{n}/USDT#{n}",
            "external_change",
            f"{account}: C{n} holdings changed outside the app: 1 → 2",
            f"C{n} holdings changed outside the app: 1 → 2. It is not a trade of the app; "
            "acknowledge it on the page or with `app.py ack`.",
            account,
            f"C{n}/USDT",
            "live",
        )
        for n in range(count)
    ]


def test_more_than_a_few_raised_together_are_one_message_listing_the_first(db, alerts, messages):
    """Eight changes outside the app raised together are one message (how many, the first
    five, where to acknowledge them), its outcome on each of their eight rows; two drifts
    in the same call are a message each; five changes together are still five messages."""
    sender = alerts()
    counted = alerts_counted("external_change")
    sender.raise_incidents([*changes_outside("main", 8), *drifts(["A", "B"], "main")])
    assert sender.flush()
    assert len(messages) == 3
    title, body = messages[0]
    assert title == "main: 8 holdings changed outside the app"
    assert body == (
        "8 holdings changed outside the app on main:\n"
        + "".join(f"- C{n} holdings changed outside the app: 1 → 2\n" for n in range(5))
        + "- ... and 3 more\n"
        "None is a trade of the app; acknowledge them on the page or with `app.py ack`."
    )
    assert messages[1:] == [("main: A drifted", "drift"), ("main: B drifted", "drift")]
    rows = recent_alerts(db, 100)
    assert len(rows) == 10
    assert {(row.delivery, row.delivery_detail) for row in rows} == {
        ("no urls", "ALERT_URLS is empty")
    }
    assert alerts_counted("external_change") - counted == 8

    messages.clear()
    sender.raise_incidents(changes_outside("spare", 5))
    assert sender.flush()
    assert [title for title, _ in messages] == [
        f"spare: C{n} holdings changed outside the app: 1 → 2" for n in range(5)
    ]


def test_the_sweep_sends_alerts_a_process_left_together(db, alerts, messages):
    """Seven changes a process stored and left undelivered (it ended first), and six of
    their resolutions: the sweep of another sends each kind as one message and records it
    on each row."""
    left = utcnow() - timedelta(minutes=1)
    changed = changes_outside("main", 7)
    raised = [{**vars(one), "state": "raised", "created_at": left} for one in changed]
    cleared = [
        {**row, "state": "cleared", "title": f"Resolved: {row['title']}", "body": "Acknowledged"}
        for row in raised[:6]
    ]
    with db.session() as session:
        alert_records.add_alerts(session, raised + cleared)
    sender = alerts()
    sender._sweep()
    assert [title for title, _ in messages] == [
        "main: 7 holdings changed outside the app",
        "Resolved: main: 6 changes outside the app acknowledged",
    ]
    assert messages[1][1].splitlines()[:2] == [
        "6 holdings changed outside the app acknowledged on main:",
        "- C0 holdings changed outside the app: 1 → 2",
    ]
    assert {row.delivery for row in recent_alerts(db, 100)} == {"no urls"}


def clearings(incidents: list[Incident], body="Acknowledged") -> list[Clearing]:
    return [Clearing(one.incident, body) for one in incidents]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_incidents_cleared_at_once_are_stored_in_one_transaction_each_its_own_row(tmp_path, kind):
    """Twelve open incidents, ten of them cleared in one call beside one never raised and one
    named twice: the ten cleared in one transaction, each its own cleared row (named and
    worded as its own raise), the others left open; the same call again stores nothing;
    each clear counted once."""
    opened = drifts([f"S{n}" for n in range(12)])
    with database_of_kind(kind, tmp_path, "clears") as db:
        sender = IncidentAlerts([], db)
        try:
            assert sender.raise_incidents(opened) == [True] * 12
            assert sender.flush()
            counted = alerts_counted("drift", "cleared")
            written = AlertWrites(db)
            asked = [*opened[:10], Incident("drift:spot:never", "drift", "", ""), opened[4]]
            closed = sender.clear_incidents(clearings(asked, "in sync again"))
            assert closed == [True] * 10 + [False, False]
            assert written.seen == ["insert", "commit"]
            assert sender.flush()
            rows = [row for row in recent_alerts(db, 100) if row.state == "cleared"]
            assert sorted(row.incident for row in rows) == sorted(o.incident for o in opened[:10])
            assert {(r.kind, r.account, r.body, r.delivery) for r in rows} == {
                ("drift", "spot", "in sync again", "no urls")
            }
            assert {row.title for row in rows} == {f"Resolved: {o.title}" for o in opened[:10]}
            for one in opened:
                expected = ["raised"] if one in opened[10:] else ["raised", "cleared"]
                assert states(db, one.incident) == expected
            assert alerts_counted("drift", "cleared") - counted == 10  # one per incident

            assert sender.clear_incidents(clearings(opened[:10])) == [False] * 10
            assert sender.clear_incident(opened[11].incident, "in sync again")
            assert sender.flush()
            assert states(db, opened[11].incident) == ["raised", "cleared"]
            assert states(db, opened[10].incident) == ["raised"]
        finally:
            sender.close()


def test_more_than_a_few_cleared_together_are_one_message_of_what_was_acknowledged(
    db, alerts, messages
):
    """Eight changes outside the app acknowledged together are one "Resolved" message that
    says they were acknowledged and lists the first five, its outcome on each of the eight
    cleared rows; two drifts cleared in the same call are a message each, worded as their
    own; five changes acknowledged together are five messages."""
    sender = alerts()
    changed, drifted = changes_outside("main", 8), drifts(["A", "B"], "main")
    sender.raise_incidents([*changed, *drifted])
    assert sender.flush()
    messages.clear()
    counted = alerts_counted("external_change", "cleared")
    ended = [Clearing(one.incident, f"Acknowledged: {one.title}") for one in changed]
    sender.clear_incidents([*ended, *clearings(drifted, "in sync again")])
    assert sender.flush()
    assert messages == [
        (
            "Resolved: main: 8 changes outside the app acknowledged",
            "8 holdings changed outside the app acknowledged on main:\n"
            + "".join(f"- C{n} holdings changed outside the app: 1 → 2\n" for n in range(5))
            + "- ... and 3 more",
        ),
        ("Resolved: main: A drifted", "in sync again"),
        ("Resolved: main: B drifted", "in sync again"),
    ]
    cleared = [row for row in recent_alerts(db, 100) if row.state == "cleared"]
    assert len(cleared) == 10 and len({row.incident for row in cleared}) == 10
    assert {row.delivery for row in cleared} == {"no urls"}
    assert alerts_counted("external_change", "cleared") - counted == 8

    few = changes_outside("spare", 5)
    sender.raise_incidents(few)
    assert sender.flush()
    messages.clear()
    sender.clear_incidents(clearings(few))
    assert sender.flush()
    assert [title for title, _ in messages] == [
        f"Resolved: spare: C{n} holdings changed outside the app: 1 → 2" for n in range(5)
    ]
