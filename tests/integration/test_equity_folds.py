"""The equity curve fold kept in the database (core.store.equity_folds), on real SQLite and
PostgreSQL: what one process stores another loads as it was, slice by slice, however the
snapshots arrive; only the slices from the first change are written; and a process whose
fold is no longer the stored one writes nothing."""

from __future__ import annotations

from itertools import count

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from core.insights.equity_fold import EquityFold, curve, fold
from core.store import equity_folds, fold_parts
from core.store.models import EquityFoldPart
from tests.services import database_of_kind
from tests.unit.test_equity_fold import NO_MOVES, frames, move_plans, snapshot_plans, snapshots_of

BOOKS = count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A real database of each kind the app runs on (PostgreSQL: skipped where none runs)."""
    with database_of_kind(request.param, tmp_path, "equity_folds") as database:
        yield database


def same(a: EquityFold, b: EquityFold) -> bool:
    return (
        (a.last_id, a.snapshots, a.latest, a.moves, a.fall)
        == (b.last_id, b.snapshots, b.latest, b.moves, b.fall)
        and np.array_equal(a.times, b.times)
        and np.array_equal(a.equity, b.equity)
    )


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(snapshot_plans, move_plans)
def test_a_stored_fold_loads_as_it_was_however_the_snapshots_arrive(
    db, monkeypatch, snapshot_plan, move_plan
):
    monkeypatch.setattr(fold_parts, "PART", 2)  # a slice for every two points: a change shows
    snapshots, reads, moves = frames(snapshot_plan, move_plan)
    account = f"book{next(BOOKS)}"  # each example its own book in the one database
    stored, done = EquityFold(), 0
    for read in sorted(set(reads) | set(moves["seen"])):  # a read may find only a change
        upto = int(np.searchsorted(reads, read, side="right"))
        outside = moves[moves["seen"] <= read][["time", "value"]]
        grown = fold(stored, snapshots.iloc[done:upto].sort_values(["time", "id"]), upto, outside)
        refolded = grown is None
        if refolded:
            grown = fold(
                EquityFold(), snapshots.iloc[:upto].sort_values(["time", "id"]), upto, outside
            )
        if refolded or grown.last_id != stored.last_id:  # as the service stores it
            with db.session() as session:
                assert equity_folds.save(session, "live", account, stored, grown, refolded)
        with db.session() as session:
            loaded = equity_folds.load(session, "live", account)
        assert same(loaded, grown) and curve(loaded, outside) == curve(grown, outside)
        stored, done = loaded, upto


def test_only_the_slices_from_the_first_change_are_written(db, monkeypatch):
    """A new snapshot rewrites the last slice of the curve; the slices before it stay as
    they were (their bytes untouched)."""
    monkeypatch.setattr(fold_parts, "PART", 2)
    snapshots = snapshots_of(("a", 0, "100"), ("a", 1, "90"), ("a", 2, "95"))
    first = fold(EquityFold(), snapshots.iloc[:2], 2, NO_MOVES)
    with db.session() as session:
        equity_folds.save(session, "live", None, EquityFold(), first)
    grown = fold(first, snapshots.iloc[2:], 3, NO_MOVES)

    def parts():
        with db.session() as session:
            rows = session.query(EquityFoldPart).filter_by(series="curve").all()
            return {row.part: (row.rows, row.data) for row in rows}

    before = parts()
    with db.session() as session:
        assert equity_folds.save(session, "live", None, first, grown)
    after = parts()
    assert before[0] == after[0] and after[1][0] == 1  # the first slice kept; a second one
    with db.session() as session:
        assert same(equity_folds.load(session, "live", None), grown)


def test_a_process_whose_fold_is_no_longer_the_stored_one_writes_nothing(db):
    snapshots = snapshots_of(("a", 0, "100"), ("a", 1, "90"))
    first = fold(EquityFold(), snapshots.iloc[:1], 1, NO_MOVES)
    with db.session() as session:
        assert equity_folds.save(session, "live", "a", EquityFold(), first)
    late = fold(EquityFold(), snapshots, 2, NO_MOVES)  # folded from nothing meanwhile
    with db.session() as session:
        assert not equity_folds.save(session, "live", "a", EquityFold(), late)
    with db.session() as session:
        assert same(equity_folds.load(session, "live", "a"), first)
        assert equity_folds.load(session, "sim", "a").last_id == 0  # books never mix
        assert equity_folds.load(session, "live", None).last_id == 0
