"""Alerts delivered over real HTTP: apprise's json:// posts to a local listener, exactly once
per raise and once per clear, and once for many raised or cleared together; an address that refuses is
stored as failed, with a reason and a warning that carry neither its user nor its password."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import select

from core.operations.alerts import (
    Clearing,
    Incident,
    IncidentAlerts,
    incident_key,
    recent_alerts,
    send_test,
)
from core.store.db import Database
from core.store.models import Alert
from tests.services import free_port

USER, PASSWORD = "alice", "s3cr3tPass"


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on."""
    return free_port()


@pytest.fixture
def db(tmp_path):
    database = Database.open(f"sqlite:///{tmp_path}/alerts.db")
    yield database
    database.dispose()


@pytest.fixture
def root_log():
    """Everything the app's own log handlers (on the root logger) receive."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def assert_no_secret(db, caplog, root_log, *sent: str) -> None:
    """Neither the URL's user nor its password in a stored alert, the app's log records,
    the root log or what was `sent`."""
    with db.session() as session:
        stored = " ".join(
            str(value) for alert in session.scalars(select(Alert)) for value in vars(alert).values()
        )
    # pytest's caplog also hooks apprise's own logger, which never reaches the app's handlers
    ours = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith("apprise"))
    for secret in (USER, PASSWORD):
        for place in (stored, ours, root_log.getvalue(), *sent):
            assert secret not in place


def test_one_post_per_raise_and_one_per_clear(listener, db):
    alerts = IncidentAlerts([f"json://127.0.0.1:{listener.port}/hooks/trading"], db)
    incident = incident_key("verify_failed", "spot", "ETH/USDT")
    try:
        for _ in range(3):
            alerts.raise_incident(
                incident,
                "verify_failed",
                "ETH/USDT: verification failed",
                "asked LONG, holds SHORT after the order",
                account="spot",
                symbol="ETH/USDT",
            )
        assert alerts.flush()
        assert len(listener.posts) == 1

        alerts.clear_incident(incident, "ETH/USDT is LONG as asked")
        alerts.clear_incident(incident, "ETH/USDT is LONG as asked")
        assert alerts.flush()
    finally:
        alerts.close()

    assert [path for path, _ in listener.posts] == ["/hooks/trading", "/hooks/trading"]
    (_, raised), (_, cleared) = listener.posts
    assert {"version", "title", "message", "type"} <= raised.keys()
    assert raised["title"] == "ETH/USDT: verification failed"
    assert raised["message"] == "asked LONG, holds SHORT after the order"
    assert raised["type"] == "failure"
    assert cleared["title"] == "Resolved: ETH/USDT: verification failed"
    assert cleared["message"] == "ETH/USDT is LONG as asked"
    assert cleared["type"] == "success"

    rows = recent_alerts(db, 10)
    assert [(row.state, row.delivery) for row in rows] == [("cleared", "sent"), ("raised", "sent")]
    assert all(row.delivered_at is not None and row.delivery_detail is None for row in rows)


def test_a_refused_address_is_stored_as_failed_without_its_secret(
    listener, closed_port, db, root_log, caplog
):
    refused = f"json://{USER}:{PASSWORD}@127.0.0.1:{closed_port}/hook"
    alerts = IncidentAlerts(
        [refused, f"json://127.0.0.1:{listener.port}/ok"], db, timeout_seconds=2
    )
    try:
        alerts.raise_incident(
            incident_key("exchange_unreachable", "spot"),
            "exchange_unreachable",
            "spot: exchange unreachable",
            "every read failed for 121 s",
            account="spot",
        )
        assert alerts.flush()
    finally:
        alerts.close()

    assert len(listener.posts) == 1  # the other URL still got it
    (row,) = recent_alerts(db, 10)
    assert row.delivery == "failed"
    assert row.delivered_at is not None
    assert row.delivery_detail.startswith(
        f"delivered to 1 of 2 URLs; json://127.0.0.1:{closed_port}:"
    )
    assert "connection error" in row.delivery_detail.lower()

    warnings = [
        r
        for r in caplog.records
        if r.name == "core.operations.alerts" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert f"127.0.0.1:{closed_port}" in warnings[0].getMessage()

    assert_no_secret(db, caplog, root_log)


def test_send_test_reports_each_url(listener, closed_port):
    results = send_test(
        [
            f"json://127.0.0.1:{listener.port}/test",
            f"json://{USER}:{PASSWORD}@127.0.0.1:{closed_port}/hook",
        ],
        timeout_seconds=2,
    )
    assert [result.delivered for result in results] == [True, False]
    assert results[0].target == f"json://127.0.0.1:{listener.port}/test"
    assert results[1].target == f"json://{USER}:****@127.0.0.1:{closed_port}/hook"
    assert PASSWORD not in results[1].detail and results[1].detail
    ((path, body),) = listener.posts
    assert path == "/test" and body["type"] == "info"


def test_many_raised_together_are_one_post_its_outcome_on_each_without_secrets(
    listener, closed_port, db, root_log, caplog
):
    """Seven holdings changed outside the app on one account, raised together, to a
    listener and an address that refuses: one post (not seven), each of the seven rows
    stored as that post went (failed, delivered to 1 of 2 URLs), and no secret of the
    refusing address in the rows or the logs."""
    refused = f"json://{USER}:{PASSWORD}@127.0.0.1:{closed_port}/hook"
    alerts = IncidentAlerts(
        [refused, f"json://127.0.0.1:{listener.port}/ok"], db, timeout_seconds=2
    )
    symbols = [f"C{n}/USDT" for n in range(7)]
    try:
        opened = alerts.raise_incidents(
            [
                Incident(
                    f"external_change:spot:{symbol}#{n}",
                    "external_change",
                    f"spot: C{n} holdings changed outside the app: 1 → 2",
                    f"C{n} holdings changed outside the app: 1 → 2. It is not a trade of "
                    "the app; acknowledge it on the page or with `app.py ack`.",
                    account="spot",
                    symbol=symbol,
                    mode="live",
                )
                for n, symbol in enumerate(symbols)
            ]
        )
        assert opened == [True] * 7
        assert alerts.flush()
    finally:
        alerts.close()

    ((path, posted),) = listener.posts
    assert path == "/ok"
    assert posted["title"] == "spot: 7 holdings changed outside the app"
    assert posted["message"].startswith(
        "7 holdings changed outside the app on spot:\n"
        "- C0 holdings changed outside the app: 1 → 2\n"
    )
    assert "- ... and 2 more\n" in posted["message"]
    assert posted["type"] == "failure"

    rows = recent_alerts(db, 10)
    assert sorted(row.symbol for row in rows) == symbols
    assert len({row.incident for row in rows}) == 7
    assert {row.delivery for row in rows} == {"failed"}
    assert all(row.delivered_at is not None for row in rows)
    (detail,) = {row.delivery_detail for row in rows}
    assert detail.startswith(f"delivered to 1 of 2 URLs; json://127.0.0.1:{closed_port}:")

    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "core.operations.alerts" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1 and "7 incidents" in warnings[0]
    assert_no_secret(db, caplog, root_log, posted["message"])


def test_many_cleared_together_are_one_post_of_success_each_row_sent(listener, db):
    """Seven changes outside the app raised, then acknowledged together: one post for the
    raise and one "Resolved" post for the seven, of type success; each incident its own
    cleared row, recorded as sent."""
    alerts = IncidentAlerts([f"json://127.0.0.1:{listener.port}/hook"], db, timeout_seconds=2)
    changed = [
        Incident(
            f"external_change:spot:C{n}/USDT#{n}",
            "external_change",
            f"spot: C{n} holdings changed outside the app: 1 → 2",
            f"C{n} holdings changed outside the app: 1 → 2.",
            account="spot",
            symbol=f"C{n}/USDT",
            mode="live",
        )
        for n in range(7)
    ]
    try:
        assert alerts.raise_incidents(changed) == [True] * 7
        assert alerts.flush()
        closed = alerts.clear_incidents(
            [Clearing(one.incident, f"Acknowledged: {one.body}") for one in changed]
        )
        assert closed == [True] * 7
        assert alerts.flush()
    finally:
        alerts.close()

    assert len(listener.posts) == 2
    _, resolved = listener.posts[1]
    assert resolved["title"] == "Resolved: spot: 7 changes outside the app acknowledged"
    assert resolved["message"].splitlines()[:2] == [
        "7 holdings changed outside the app acknowledged on spot:",
        "- C0 holdings changed outside the app: 1 → 2",
    ]
    assert resolved["type"] == "success"
    cleared = [row for row in recent_alerts(db, 20) if row.state == "cleared"]
    assert sorted(row.incident for row in cleared) == sorted(one.incident for one in changed)
    assert {(row.delivery, row.delivery_detail) for row in cleared} == {("sent", None)}
    assert all(row.delivered_at is not None for row in cleared)
