"""The health fold kept in the database (core.store.health_folds), on real SQLite and
PostgreSQL: what one process stores another loads as it was, slice by slice as runs are
added; a process whose fold is no longer the stored one writes nothing; and the service's
health page answers from the stored fold what the full computation answers. And what the
fold reads (core.store.analytics): the runs and what they observed, and the orders, as
they were recorded on either database."""

from __future__ import annotations

import json
from datetime import UTC, timedelta, timezone
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import insert, text

from core.insights import health_fold
from core.insights.health import ORDER_COLUMNS, compute_health
from core.insights.health_fold import HealthFold
from core.store import analytics, fold_parts, health_folds
from core.store.models import Order, SyncRun
from tests.services import database_of_kind
from tests.unit.test_health import T0
from tests.unit.test_health_fold import frames

NO_ORDERS = pd.DataFrame(columns=list(ORDER_COLUMNS))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A real database of each kind the app runs on (PostgreSQL: skipped where none runs)."""
    with database_of_kind(request.param, tmp_path, "folds") as database:
        yield database


def history(count: int):
    """`count` runs on two accounts, a check every minute observing two symbols, ETH out of
    step every third run and repaired by the next."""
    runs, observations = [], []
    for n in range(1, count + 1):
        account = "main" if n % 2 else "alt"
        started = T0 + timedelta(minutes=n)
        finished = started + timedelta(milliseconds=10 * n)
        runs.append((n, account, "check", None, n % 5 != 0, started, finished, 10 * n, 3))
        observations.append((n, finished, account, "ETH/USDT", n % 3 != 0))
        observations.append((n, finished, account, "BTC/USDT", True))
    return runs, observations


def same(a: HealthFold, b: HealthFold) -> bool:
    """Equal folds (the closed events in any order: a fold in batches appends them)."""
    return (
        a.last_run_id == b.last_run_id
        and a.open == b.open
        and a.last == b.last
        and a.latest_ns == b.latest_ns
        and a.runs.equals(b.runs)
        and ordered(a.events).equals(ordered(b.events))
    )


def ordered(events: pd.DataFrame) -> pd.DataFrame:
    return events.sort_values(["account", "symbol", "start"]).reset_index(drop=True)


def test_a_stored_fold_loads_as_it_was_slice_by_slice(db, monkeypatch):
    monkeypatch.setattr(fold_parts, "PART", 4)  # several slices, the last one partial
    runs, observations = history(30)
    stored = HealthFold()
    for cut in (5, 6, 13, 30):
        grown = health_fold.fold(stored, *frames(runs, observations, cut, stored.last_run_id))
        with db.session() as session:
            assert health_folds.save(session, "live", stored, grown)
        with db.session() as session:
            loaded = health_folds.load(session, "live")
        assert same(loaded, grown)
        stored = loaded
    whole = health_fold.fold(HealthFold(), *frames(runs, observations, 30))
    assert same(stored, whole)
    with db.session() as session:
        assert health_folds.load(session, "sim").last_run_id == 0  # books never mix


def test_a_fold_from_an_older_start_is_not_stored(db):
    runs, observations = history(10)
    first = health_fold.fold(HealthFold(), *frames(runs, observations, 6))
    with db.session() as session:
        health_folds.save(session, "live", HealthFold(), first)
    late = health_fold.fold(HealthFold(), *frames(runs, observations, 4))
    with db.session() as session:
        assert not health_folds.save(session, "live", HealthFold(), late)
    with db.session() as session:
        assert same(health_folds.load(session, "live"), first)


def test_a_refold_rewrites_every_slice(db, monkeypatch):
    monkeypatch.setattr(fold_parts, "PART", 2)
    runs, observations = history(12)
    first = health_fold.fold(HealthFold(), *frames(runs, observations, 12))
    with db.session() as session:
        health_folds.save(session, "live", HealthFold(), first)
    fewer = [o for o in observations if o[3] == "BTC/USDT"]  # no drift at all this time
    again = health_fold.fold(HealthFold(), *frames(runs, fewer, 12))
    with db.session() as session:
        assert health_folds.save(session, "live", first, again, refolded=True)
    with db.session() as session:
        loaded = health_folds.load(session, "live")
    assert same(loaded, again) and len(loaded.events) == 0


def test_the_report_of_a_loaded_fold_is_the_full_computation(db):
    runs, observations = history(40)
    grown = health_fold.fold(HealthFold(), *frames(runs, observations, 40))
    with db.session() as session:
        health_folds.save(session, "live", HealthFold(), grown)
    with db.session() as session:
        loaded = health_folds.load(session, "live")
    now = T0 + timedelta(hours=2)
    run_frame, seen_frame = frames(runs, observations, 40)
    for since in (None, now - timedelta(minutes=90)):
        expected = compute_health(run_frame, seen_frame, NO_ORDERS, now, since)
        assert health_fold.report(loaded, NO_ORDERS, now, since) == expected


def test_the_runs_what_they_observed_and_the_orders_read_as_recorded(db):
    """Times written in another zone come back as the same instant in UTC; a run's findings
    give its symbols in sync, then those drifting, each dated when the run finished (runs
    with the same findings, and one with none, included); a read from a watermark or of one
    account holds only those runs, and another book's never."""
    east = timezone(timedelta(hours=2))
    findings = [
        {"in_sync": ["ETH/USDT", "BTC/USDT"], "drift": []},
        {"in_sync": ["ETH/USDT"], "drift": ["BTC/USDT"], "discrepancies": [], "error": None},
        {"in_sync": ["ETH/USDT", "BTC/USDT"], "drift": []},
        {},
        {"in_sync": ["SOL/USDT"], "drift": ["ETH/USDT", "BTC/USDT"]},
    ]
    rows = []
    for n, found in enumerate(findings, start=1):
        started = (T0 + timedelta(minutes=n, microseconds=n)).astimezone(east)
        rows.append(
            {
                "mode": "live",
                "account": "main" if n % 2 else "alt",
                "kind": "check" if n != 4 else "trade",
                "symbol": None if n != 4 else "ETH/USDT",
                "ok": n != 2,
                "message": "",
                "api_calls": n,
                "duration_ms": 100 * n,
                "details": json.dumps(found),
                "started_at": started,
                "finished_at": started + timedelta(milliseconds=100 * n),
            }
        )
    other_book = {**rows[0], "mode": "sim", "details": json.dumps({"in_sync": ["XRP/USDT"]})}
    order = {
        "mode": "live",
        "account": "main",
        "symbol": "ETH/USDT",
        "client_order_id": "o1",
        "side": "buy",
        "price": Decimal(1),
        "amount": Decimal(1),
        "status": "filled",
        "origin": "enforce",
        "created_at": (T0 + timedelta(minutes=3)).astimezone(east),
    }
    with db.session() as session:
        session.execute(insert(SyncRun), [rows[0], other_book, *rows[1:]])
        session.execute(insert(Order), [order])
    ids = [1, 3, 4, 5, 6]  # the other book's run took id 2

    with db.session() as session:
        if session.get_bind().dialect.name == "postgresql":  # it writes times in this zone
            session.execute(text("SET TIME ZONE 'Asia/Kolkata'"))
        runs, seen = analytics.run_frames(session, "live")
        orders = analytics.order_frame(session, "live")
        later, later_seen = analytics.run_frames(session, "live", None, 4)
        main, main_seen = analytics.run_frames(session, "live", "main")

    assert runs["run_id"].tolist() == ids
    for column in ("started_at", "finished_at"):
        times = runs[column].tolist()
        assert times == [row[column] for row in rows]
        assert all(t.utcoffset() == timedelta(0) for t in times)
    assert runs[["account", "kind", "ok", "duration_ms", "api_calls"]].values.tolist() == [
        [r["account"], r["kind"], r["ok"], r["duration_ms"], r["api_calls"]] for r in rows
    ]
    assert runs["symbol"].fillna("none").tolist() == ["none"] * 3 + ["ETH/USDT", "none"]
    expected = [
        (run_id, row["finished_at"], row["account"], symbol, in_sync)
        for run_id, row, found in zip(ids, rows, findings, strict=True)
        for symbol, in_sync in [
            *((s, True) for s in found.get("in_sync", [])),
            *((s, False) for s in found.get("drift", [])),
        ]
    ]
    assert list(seen.itertuples(index=False, name=None)) == expected
    assert all(t.tz == UTC for t in seen["time"])
    assert later["run_id"].tolist() == [5, 6]
    assert later_seen["run_id"].unique().tolist() == [6]  # run 5 observed nothing
    assert main["run_id"].tolist() == [1, 4, 6]
    assert list(main_seen.itertuples(index=False, name=None)) == [
        row for row in expected if row[2] == "main"
    ]
    assert orders.to_dict("records") == [
        {
            "account": "main",
            "symbol": "ETH/USDT",
            "side": "buy",
            "reason": "enforce",
            "created_at": T0 + timedelta(minutes=3),
            "status": "filled",
        }
    ]
