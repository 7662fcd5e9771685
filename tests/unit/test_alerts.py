"""Alerts: which ALERT_URLS are accepted, one message per incident (state in a real SQLite
file), never a wait on the caller's side, and when an unreachable exchange becomes an alert."""

from __future__ import annotations

import io
import logging
import socket
import threading

import pytest

from core.errors import AppError, InputError
from core.operations import alerts as alerts_module
from core.operations.alerts import (
    AlertUrlError,
    IncidentAlerts,
    UnreachableWatch,
    incident_key,
    parse_alert_urls,
    recent_alerts,
)
from core.store.db import Database

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
