"""The health fold kept in the database (core.store.health_folds), on real SQLite and
PostgreSQL: what one process stores another loads as it was, slice by slice as runs are
added; a process whose fold is no longer the stored one writes nothing; and the service's
health page answers from the stored fold what the full computation answers."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from core.insights import health_fold
from core.insights.health import ORDER_COLUMNS, compute_health
from core.insights.health_fold import HealthFold
from core.store import health_folds
from core.store.db import Database
from tests.services import fresh_postgres_database
from tests.unit.test_health import T0
from tests.unit.test_health_fold import frames

NO_ORDERS = pd.DataFrame(columns=list(ORDER_COLUMNS))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A real database of each kind the app runs on (PostgreSQL: skipped where none runs)."""
    if request.param == "sqlite":
        database = Database.open(f"sqlite:///{tmp_path}/folds.db")
        yield database
        database.dispose()
        return
    with fresh_postgres_database("folds") as url:
        database = Database.open(url)
        yield database
        database.dispose()


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
    monkeypatch.setattr(health_folds, "PART", 4)  # several slices, the last one partial
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
    monkeypatch.setattr(health_folds, "PART", 2)
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
