"""The observers write the feed: a holding changed outside the app is one alert and one
event to acknowledge, whatever else the check found; a trade names who made it and the tab
that asked; drift is told when it starts and when it ends; and a feed that cannot be written
never fails the trade that reported; many changes outside the app at once are one
transaction of alerts and one notification, each still its own incident (real SQLite, real
alerts without URLs)."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event as sqlalchemy_event

from core.domain import (
    ActionKind,
    DiscrepancyKind,
    ExternalChange,
    MarketRules,
    Mode,
    Origin,
    PositionState,
    SyncAction,
    TradeResult,
)
from core.operations.alerts import IncidentAlerts, UnreachableWatch, recent_alerts
from core.service.badge import SyncFacts, badge
from core.service.observers import Observers, external_change_incident, requested_by
from core.store import analytics, events
from core.store.books import BookKey
from core.store.db import Database
from core.views import AccountCheckView

T0 = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
LIVE = BookKey("live", "default")
NO_URLS_RAISED = {"kind": "external_change", "state": "raised", "delivery": "no urls"}
RULES = MarketRules(
    "ETH/USDT", "ETH", "USDT", D("0.001"), D("0.01"), D("0.001"), D("1"), None, D(0), D(0)
)


@pytest.fixture
def db(tmp_path):
    database = Database.open(f"sqlite:///{tmp_path}/t.db")
    yield database
    database.dispose()


@pytest.fixture
def observers(db):
    alerts = IncidentAlerts([], db)
    yield Observers(alerts, 120, db, lambda symbol: RULES if symbol == "ETH/USDT" else None)
    alerts.close(timeout=10)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def feed(db, book=LIVE):
    with db.session() as session:
        return list(reversed(events.recent_events(session, book=book)))


def feed_of(db, limit, book=LIVE):
    """The book's newest `limit` events, oldest first."""
    with db.session() as session:
        return list(reversed(events.recent_events(session, book=book, limit=limit)))


def change(symbol="ETH/USDT", before="0.882", after="0.5", mark="3403.14"):
    return ExternalChange("default", symbol, D(before), D(after), D(mark), T0)


def test_each_change_outside_the_app_is_one_alert_and_one_event_to_acknowledge(db, observers):
    resize = SyncAction(
        ActionKind.RESIZE, "default", "ETH/USDT", D("0.882"), D("0.5"), None,
        DiscrepancyKind.QTY_MISMATCH,
    )  # fmt: skip
    check = AccountCheckView(
        "default",
        actions=[resize],
        external_changes=(change(), change("BTC/USDT", "0.01", "0", "90000")),
    )
    observers.check_done(check, [])
    told = feed(db)
    assert [(e.kind, e.symbol, e.who, e.waiting) for e in told] == [
        ("external_change", "ETH/USDT", "monitor", True),
        ("external_change", "BTC/USDT", "monitor", True),
    ]  # the resize of a holding changed outside is the change itself, not a second line
    assert told[0].text == "ETH holdings changed outside the app: 0.882 → 0.500, -1,300.00 USDT"
    assert told[0].time == T0
    alerts = [a for a in recent_alerts(db) if a.kind == "external_change"]
    assert sorted(a.symbol for a in alerts) == ["BTC/USDT", "ETH/USDT"]
    assert all(a.state == "raised" for a in alerts)


def test_acknowledging_the_event_ends_its_alert(db, observers):
    observers.external_change(change())
    [event] = feed(db)
    observers.acknowledged(event)
    states = [a.state for a in recent_alerts(db) if a.kind == "external_change"]
    assert states == ["cleared", "raised"]


def test_a_repair_of_a_holding_is_told_a_stale_price_is_not(db, observers):
    def action(kind, reason):
        return SyncAction(kind, "default", "ETH/USDT", D("0.3"), D("0.25"), None, reason)

    check = AccountCheckView(
        "default",
        actions=[
            action(ActionKind.RESIZE, DiscrepancyKind.QTY_MISMATCH),
            action(ActionKind.REPRICE, DiscrepancyKind.STALE_PRICE),
        ],
    )
    observers.check_done(check, [])
    [repaired] = feed(db)
    assert repaired.kind == "repaired"
    assert repaired.text == (
        "ETH/USDT: the record resized 0.300 → 0.250 to what the exchange holds (qty_mismatch)"
    )


def test_a_sync_execute_tells_its_repairs_and_changes_a_dry_run_tells_nothing(db, observers):
    resize = SyncAction(
        ActionKind.RESIZE, "default", "ETH/USDT", D("0.3"), D("0.25"), None,
        DiscrepancyKind.QTY_MISMATCH,
    )  # fmt: skip
    create = SyncAction(
        ActionKind.CREATE, "default", "BTC/USDT", None, D("0.01"), None,
        DiscrepancyKind.ORPHAN_EXCHANGE,
    )  # fmt: skip
    planned = AccountCheckView("default", actions=[resize, create])
    observers.monitor_done(planned, Mode.LIVE, applied=False)
    assert feed(db) == []  # a plan is not news: nothing changed
    applied = AccountCheckView("default", actions=[resize, create], external_changes=(change(),))
    observers.monitor_done(applied, Mode.LIVE, applied=True)
    told = feed(db)
    assert [(e.kind, e.symbol, e.waiting) for e in told] == [
        ("repaired", "BTC/USDT", False),
        ("external_change", "ETH/USDT", True),
    ]  # the resize of the ETH changed outside is that change, told once
    assert [a.symbol for a in recent_alerts(db) if a.kind == "external_change"] == ["ETH/USDT"]


def test_an_exchange_unreachable_too_long_is_one_alert_and_one_event(db, observers):
    clock = Clock()
    observers.unreachable = UnreachableWatch(observers.alerts, 120, clock=clock)
    failed = AccountCheckView("default", error="exchange unreachable (connection failed)")
    for clock.now in (0, 60, 121, 180):
        observers.check_done(failed, [])
    told = [e for e in feed(db) if e.kind == "alert"]
    unreachable = [e for e in told if "121 s" in e.text]
    assert len(unreachable) == 1  # told once, when it passed the threshold
    assert unreachable[0].text.startswith("Every exchange read of account default has failed")
    assert observers.alerts.flush()
    assert [a.kind for a in recent_alerts(db)].count("exchange_unreachable") == 1


def test_drift_is_told_when_it_starts_and_when_it_ends_not_on_every_check(db, observers):
    drifted = AccountCheckView("default", drift={"ETH/USDT": PositionState.LONG})
    observers.check_done(drifted, ["ETH/USDT"])
    observers.check_done(drifted, [])
    observers.in_sync("default", ["ETH/USDT"])
    observers.in_sync("default", ["ETH/USDT"])
    assert [(e.kind, e.symbol) for e in feed(db)] == [
        ("drift", "ETH/USDT"),
        ("in_sync", "ETH/USDT"),
    ]


def test_a_trade_names_who_made_it_and_the_tab_that_asked(db, observers):
    result = TradeResult(
        True, "ETH/USDT", PositionState.LONG, PositionState.NO_POSITION, PositionState.LONG,
        "bought 0.5 ETH at 3,400.00 avg, fee 0.0005 ETH: holds 0.4995 ETH, state LONG verified",
    )  # fmt: skip
    with requested_by("tab-1"):
        observers.trade_done("default", result, Origin.MANUAL, "trade", mode=Mode.SIM)
    observers.trade_done("default", result, Origin.CLI, "trade", mode=Mode.SIM)
    refused = TradeResult(False, "ETH/USDT", PositionState.LONG, None, None, "no", refused=True)
    observers.trade_done("default", refused, Origin.MANUAL, "trade", mode=Mode.SIM)
    told = feed(db, BookKey("sim", "default"))
    assert [(e.kind, e.who, e.requester) for e in told] == [
        ("trade", "manual", "tab-1"),
        ("trade", "cli", None),
    ]
    assert told[0].text.startswith("ETH/USDT → LONG: bought 0.5 ETH")
    assert feed(db) == []  # the LIVE book heard nothing


def test_a_feed_that_cannot_be_written_never_fails_the_trade(db, observers, caplog):
    result = TradeResult(
        False, "ETH/USDT", PositionState.LONG, PositionState.NO_POSITION, None, "not verified"
    )
    with db.session() as session:
        session.connection().exec_driver_sql("DROP TABLE events")
    with caplog.at_level(logging.ERROR, logger="core.service.observers"):
        observers.trade_done("default", result, Origin.MANUAL, "trade", mode=Mode.LIVE)
        observers.stop_fired("default", "ETH/USDT", "stop-loss fired", 1, mode=Mode.LIVE)
    assert [r.message for r in caplog.records] == ["event not recorded"] * 2
    assert {a.kind for a in recent_alerts(db)} == {"verify_failed", "stop_triggered"}


def test_the_badge_asks_for_an_acknowledgement_until_given():
    read = {"account_read_age": timedelta(seconds=5), "stale_after": timedelta(seconds=90)}
    facts = SyncFacts(Mode.LIVE, "MEXC", None, [], None, changed_outside=["ETH"], **read)
    shown = badge(facts)
    assert (shown.text, shown.tone) == ("LIVE+SYNC", "warning")
    assert shown.detail == "ETH changed outside the app \N{EN DASH} acknowledge"
    assert badge(SyncFacts(Mode.LIVE, "MEXC", None, [], None, **read)).tone == "success"


def test_alerts_belong_to_their_book_a_live_list_never_holds_a_sim_one(db, observers):
    """A paper trade's failure, a SIM kill switch and a LIVE one: each its own incident (the
    SIM ones never open, close or hide the LIVE ones), each listed and exported with its
    book only; a test message belongs to every book."""
    failed = TradeResult(
        False, "ETH/USDT", PositionState.LONG, PositionState.NO_POSITION, None, "not verified"
    )
    observers.trade_done("default", failed, Origin.MANUAL, "trade", mode=Mode.SIM)
    observers.kill_switch("default", "flattened the paper book", mode=Mode.SIM)
    observers.kill_switch("default", "flattened the real account", mode=Mode.LIVE)
    observers.resumed("default", mode=Mode.SIM)
    observers.alerts.raise_incident("test:1", "test", "test", "a test message")
    assert observers.alerts.flush()

    def listed(mode):
        return [(a.kind, a.state, a.mode) for a in recent_alerts(db, mode=mode)]

    assert listed("live") == [("test", "raised", None), ("kill_switch", "raised", "live")]
    assert listed("sim") == [
        ("test", "raised", None),
        ("kill_switch", "cleared", "sim"),  # the paper resume ends the paper halt only
        ("kill_switch", "raised", "sim"),
        ("verify_failed", "raised", "sim"),
    ]
    with db.session() as session:
        exported = list(analytics.export_rows(session, "alerts", mode="live"))
    columns = analytics.export_columns("alerts")
    assert [(row[columns.index("kind")], row[columns.index("mode")]) for row in exported] == [
        ("kill_switch", "live"),
        ("test", None),
    ]


class Transactions:
    """The statements that write events or alerts, and the commits, in the order the engine
    ran them for the thread that made it (the alerts' sender thread writes too, meanwhile)."""

    def __init__(self, db):
        self.seen: list[str] = []
        self._thread = threading.get_ident()
        sqlalchemy_event.listen(db.engine, "before_cursor_execute", self._statement)
        sqlalchemy_event.listen(db.engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() != self._thread:
            return
        for table in ("events", "alerts"):
            if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
                self.seen.append(table)

    def _commit(self, conn):
        if threading.get_ident() == self._thread:
            self.seen.append("commit")

    def of_events(self) -> int:
        """How many transactions wrote events: the writes of events not after another's."""
        return self.writing("events")

    def writing(self, table: str) -> int:
        """How many transactions wrote to `table`."""
        after = ["commit", *self.seen]
        return sum(1 for n, what in enumerate(self.seen) if what == table and after[n] != what)


def test_a_sync_of_many_repairs_tells_each_once_in_order_in_one_transaction(db, observers):
    """2,500 holdings repaired by one `sync --execute`: 2,500 "repaired" events, each once
    with its symbol and words, in the plan's order (a reprice is not told), ids in a row,
    written by one transaction where each was a commit of its own."""

    def action(n):
        kind = ActionKind.REPRICE if n % 5 == 4 else ActionKind.RESIZE
        symbol, reason = f"C{n:04d}/USDT", DiscrepancyKind.QTY_MISMATCH
        return SyncAction(kind, "default", symbol, D(n + 1), D(n + 2), None, reason)

    actions = [action(n) for n in range(3125)]
    written = Transactions(db)
    observers.monitor_done(AccountCheckView("default", actions=actions), Mode.LIVE, applied=True)
    assert written.seen.count("commit") == 1  # one transaction, and nothing else written
    told = feed_of(db, 4000)
    resized = [a for a in actions if a.kind is ActionKind.RESIZE]
    assert [(e.kind, e.symbol) for e in told] == [("repaired", a.symbol) for a in resized]
    assert told[0].text == (
        "C0000/USDT: the record resized 1 → 2 to what the exchange holds (qty_mismatch)"
    )
    assert [e.id for e in told] == list(range(told[0].id, told[0].id + 2500))
    assert written.of_events() == 1
    assert recent_alerts(db) == []


def test_many_changes_outside_the_app_are_one_write_of_events_and_an_alert_each(db, observers):
    """A sync that finds 300 holdings changed outside the app beside a plain repair: the
    repair's event and then each change's, in order, in one transaction; each change its
    own event id, its own alert named by that id, and acknowledging one ends its alert
    only."""
    create = SyncAction(
        ActionKind.CREATE, "default", "BTC/USDT", None, D("0.01"), None,
        DiscrepancyKind.ORPHAN_EXCHANGE,
    )  # fmt: skip
    changes = tuple(change(f"C{n:03d}/USDT", str(n + 1), str(n + 2), "2") for n in range(300))
    written = Transactions(db)
    applied = AccountCheckView("default", actions=[create], external_changes=changes)
    observers.monitor_done(applied, Mode.LIVE, applied=True)
    told = feed_of(db, 400)
    assert [(e.kind, e.symbol, e.waiting) for e in told] == [
        ("repaired", "BTC/USDT", False),
        *(("external_change", c.symbol, True) for c in changes),
    ]
    assert told[1].text == "C000 holdings changed outside the app: 1 → 2, +2.00 USDT"
    assert [e.id for e in told] == list(range(told[0].id, told[0].id + 301))
    assert written.of_events() == 1
    assert written.writing("alerts") == 1  # the 300 alerts: one more transaction
    raised = {a.incident for a in recent_alerts(db, limit=400) if a.kind == "external_change"}
    assert raised == {external_change_incident("default", e.symbol, e.id) for e in told[1:]}
    observers.acknowledged(told[5])
    cleared = [a.incident for a in recent_alerts(db, limit=400) if a.state == "cleared"]
    assert cleared == [external_change_incident("default", told[5].symbol, told[5].id)]


def test_many_changes_outside_the_app_are_one_notification_and_counted_each(
    db, observers, delivered_alerts
):
    """A check that finds 40 holdings changed outside the app: one notification for them
    all (how many, the first five, acknowledge them on the page), each alert recording
    how it went and counted as before; acknowledging one on the page sends its own
    "Resolved"; a check that finds three changes sends three."""
    sent = delivered_alerts("state", "title", "body")
    counted = REGISTRY.get_sample_value("trading_alerts_total", NO_URLS_RAISED) or 0.0
    changes = tuple(change(f"C{n:03d}/USDT", str(n + 1), str(n + 2), "2") for n in range(40))
    observers.check_done(AccountCheckView("default", external_changes=changes), [])
    assert observers.alerts.flush()
    ((state, title, body),) = sent
    assert (state, title) == ("raised", "default: 40 holdings changed outside the app")
    assert body.splitlines() == [
        "40 holdings changed outside the app on default:",
        *(f"- C{n:03d} holdings changed outside the app: {n + 1} → {n + 2}, +2.00 USDT"
          for n in range(5)),
        "- ... and 35 more",
        "None is a trade of the app; acknowledge them on the page or with `app.py ack`.",
    ]  # fmt: skip
    alerts = recent_alerts(db, limit=100)
    assert len(alerts) == 40 and {a.delivery for a in alerts} == {"no urls"}
    assert REGISTRY.get_sample_value("trading_alerts_total", NO_URLS_RAISED) - counted == 40

    sent.clear()
    observers.acknowledged(feed_of(db, 100)[7])
    assert observers.alerts.flush()
    assert [(state, title) for state, title, _ in sent] == [
        ("cleared", "Resolved: default: C007 holdings changed outside the app: 8 → 9, +2.00 USDT")
    ]
    sent.clear()
    few = tuple(change(f"F{n}/USDT", "1", "2", "2") for n in range(3))
    observers.check_done(AccountCheckView("default", external_changes=few), [])
    assert observers.alerts.flush()
    assert [title for _, title, _ in sent] == [
        f"default: F{n} holdings changed outside the app: 1 → 2, +2.00 USDT" for n in range(3)
    ]


def test_a_bulk_write_of_events_that_fails_is_logged_and_the_changes_still_alerted(
    db, observers, caplog
):
    """The feed that cannot take a sync's events misses them, logged once; the sync's
    outcome stands and each change outside the app is still its own alert (named by the
    time the read found it, there being no event)."""
    resize = SyncAction(
        ActionKind.RESIZE, "default", "SOL/USDT", D("3"), D("2"), None,
        DiscrepancyKind.QTY_MISMATCH,
    )  # fmt: skip
    changes = (change(), change("BTC/USDT", "0.01", "0", "90000"))
    with db.session() as session:
        session.connection().exec_driver_sql("DROP TABLE events")
    applied = AccountCheckView("default", actions=[resize], external_changes=changes)
    with caplog.at_level(logging.ERROR, logger="core.service.observers"):
        observers.monitor_done(applied, Mode.LIVE, applied=True)
    assert [r.message for r in caplog.records] == ["events not recorded"]
    alerts = [a for a in recent_alerts(db) if a.kind == "external_change"]
    assert sorted(a.incident for a in alerts) == [
        external_change_incident("default", c.symbol, T0.isoformat()) for c in reversed(changes)
    ]


def test_many_changes_acknowledged_together_are_one_clear_and_one_notification(
    db, observers, delivered_alerts
):
    """40 changes outside the app acknowledged together (`ack --all`, the page's button):
    every change's incident cleared, each its own cleared row, in one transaction of
    alerts; one "Resolved" notification for them all, each alert counted as before; and
    acknowledging one of the others clears it alone."""
    sent = delivered_alerts("state", "title")
    changes = tuple(change(f"C{n:03d}/USDT", str(n + 1), str(n + 2), "2") for n in range(43))
    observers.check_done(AccountCheckView("default", external_changes=changes), [])
    assert observers.alerts.flush()
    told = feed_of(db, 100)
    sent.clear()
    cleared_labels = {**NO_URLS_RAISED, "state": "cleared"}
    counted = REGISTRY.get_sample_value("trading_alerts_total", cleared_labels) or 0.0
    written = Transactions(db)

    observers.acknowledged_events(told[:40])
    assert written.writing("alerts") == 1
    assert observers.alerts.flush()
    assert sent == [("cleared", "Resolved: default: 40 changes outside the app acknowledged")]
    cleared = [a for a in recent_alerts(db, limit=200) if a.state == "cleared"]
    assert sorted(a.incident for a in cleared) == sorted(
        external_change_incident("default", e.symbol, e.id) for e in told[:40]
    )
    assert {a.body for a in cleared} == {f"Acknowledged: {e.text}" for e in told[:40]}
    assert {a.delivery for a in cleared} == {"no urls"}
    assert REGISTRY.get_sample_value("trading_alerts_total", cleared_labels) - counted == 40

    sent.clear()
    observers.acknowledged(told[41])
    assert observers.alerts.flush()
    assert sent == [("cleared", f"Resolved: default: {told[41].text}")]
    still_open = {a.incident for a in recent_alerts(db, limit=200) if a.state == "raised"} - {
        a.incident for a in recent_alerts(db, limit=200) if a.state == "cleared"
    }
    assert still_open == {
        external_change_incident("default", e.symbol, e.id) for e in (told[40], told[42])
    }
