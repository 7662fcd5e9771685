"""The results fold kept in the database (core.store.ledger_folds), on real SQLite and
PostgreSQL: what one process stores another loads as it was, slice by slice, however the
ledger arrives (entries dated before others, trips closing before trips already kept,
dust that changes); a process whose fold is no longer the stored one writes nothing; and
a new service answers from the stored fold, reading only the entries recorded since."""

from __future__ import annotations

from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings

from core.insights.ledger_fold import LedgerFold, compute_results, fold, report
from core.store import fold_parts, ledger_folds
from core.store.models import LedgerFoldPart
from tests.services import database_of_kind
from tests.unit.test_ledger_fold import DUSTS, NOW, cuts, frame_of, ledgers

BOOKS = count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A real database of each kind the app runs on (PostgreSQL: skipped where none runs)."""
    with database_of_kind(request.param, tmp_path, "ledger_folds") as database:
        yield database


def same(a: LedgerFold, b: LedgerFold) -> bool:
    return (
        (a.last_id, a.entries, a.dust, a.tails) == (b.last_id, b.entries, b.dust, b.tails)
        and a.trips == b.trips
        and all(list(a.days[name]) == list(b.days[name]) for name in a.days)
        and a.days.keys() == b.days.keys()
        and list(a.booked.times) == list(b.booked.times)
        and all(
            a.booked.after(first) == b.booked.after(first)
            for first in range(len(a.booked.times) + 1)
        )
        and (a.overall, a.by_symbol) == (b.overall, b.by_symbol)
    )


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ledgers, cuts)
def test_a_stored_fold_loads_as_it_was_however_the_ledger_arrives(db, monkeypatch, plans, cuts):
    monkeypatch.setattr(fold_parts, "PART", 2)  # a slice for every two rows: a change shows
    entries = frame_of(plans)
    account = f"book{next(BOOKS)}"  # each example its own book in the one database
    stored, done = LedgerFold(), 0
    bounds = sorted({min(cut, len(entries)) for cut in cuts} | {len(entries)})
    for number, bound in enumerate(bounds):
        dust = DUSTS[number % 2]
        grown = fold(stored, entries.iloc[done:bound], bound, dust)
        refolded = grown is None
        if refolded:
            grown = fold(LedgerFold(), entries.iloc[:bound], bound, dust)
        with db.session() as session:
            assert ledger_folds.save(session, "live", account, stored, grown, refolded)
        with db.session() as session:
            loaded = ledger_folds.load(session, "live", account)
        assert same(loaded, grown)
        stored, done = loaded, bound
    assert report(stored, NOW) == compute_results(entries, None, NOW, dust)


def test_only_the_slices_from_the_first_change_are_written(db, monkeypatch):
    """A new trip closing last rewrites the last slice of the trips; the slices before it
    stay as they were (their bytes untouched)."""
    monkeypatch.setattr(fold_parts, "PART", 2)
    plans = [(("main", "ETH/USDT"), side, 1_000, 100, False, 10, 0) for side in ["buy", "sell"] * 3]
    entries = frame_of(plans)
    first = fold(LedgerFold(), entries.iloc[:4], 4, {})
    with db.session() as session:
        ledger_folds.save(session, "live", None, LedgerFold(), first)
    grown = fold(first, entries.iloc[4:], 6, {})
    assert len(first.trips) == 2 and len(grown.trips) == 3

    def parts():
        with db.session() as session:
            rows = session.query(LedgerFoldPart).filter_by(series="trips").all()
            return {row.part: (row.rows, row.data) for row in rows}

    before = parts()
    with db.session() as session:
        assert ledger_folds.save(session, "live", None, first, grown)
    after = parts()
    assert before[0] == after[0] and after[1][0] == 1  # the first slice kept; a second one
    with db.session() as session:
        assert same(ledger_folds.load(session, "live", None), grown)


def test_a_process_whose_fold_is_no_longer_the_stored_one_writes_nothing(db):
    plans = [(("main", "ETH/USDT"), side, 1_000, 100, False, 10, 0) for side in ["buy", "sell"]]
    entries = frame_of(plans)
    first = fold(LedgerFold(), entries.iloc[:1], 1, {})
    with db.session() as session:
        assert ledger_folds.save(session, "live", "main", LedgerFold(), first)
    late = fold(LedgerFold(), entries, 2, {})  # folded from nothing while `first` was stored
    with db.session() as session:
        assert not ledger_folds.save(session, "live", "main", LedgerFold(), late)
    with db.session() as session:
        assert same(ledger_folds.load(session, "live", "main"), first)
        assert ledger_folds.load(session, "sim", "main").last_id == 0  # books never mix
        assert ledger_folds.load(session, "live", None).last_id == 0


def test_a_trip_closing_before_kept_ones_rewrites_the_slices_from_its_place(db, monkeypatch):
    """Another market's trip, recorded later but dated before trips already stored, takes
    its place among them (and its entries theirs among the running sums): the slices from
    there on are written again, and the fold loads as the one folded from nothing."""
    monkeypatch.setattr(fold_parts, "PART", 2)
    eth = [(("main", "ETH/USDT"), side, 1_000, 100, False, 60, 100) for side in ["buy", "sell"] * 3]
    btc = [(("main", "BTC/USDT"), side, 1_000, 100, False, 1, -50) for side in ["buy", "sell"]]
    entries = frame_of(eth + btc)  # BTC's clock starts 3 h after ETH's, within ETH's trips
    first = fold(LedgerFold(), entries.iloc[:6], 6, {})
    grown = fold(first, entries.iloc[6:], 8, {})
    assert grown is not None and grown.trips[1].symbol == "BTC/USDT"  # merged into its place
    with db.session() as session:
        ledger_folds.save(session, "live", None, LedgerFold(), first)
    with db.session() as session:
        assert ledger_folds.save(session, "live", None, first, grown)
    with db.session() as session:
        loaded = ledger_folds.load(session, "live", None)
    assert same(loaded, grown) and same(loaded, fold(LedgerFold(), entries, 8, {}))
