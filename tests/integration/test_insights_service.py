"""The insights read models on a real database: each refresh sees every new record (the kept
frames follow the records' version), a window narrows the round trips to those closed in
it, and a report reads one book."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.domain import Fill, Mode, PositionState, Side, TradeSize
from core.errors import InputError
from core.service.insights import Insights
from core.service.stored_mode import StoredMode
from core.store import analytics
from core.store import repository as repo
from core.store.books import BookKey
from core.store.models import EquitySnapshot, LedgerEntry, SyncRun, utcnow
from tests.services import fresh_postgres_database

ETH = "ETH/USDT"
LONG, FLAT = PositionState.LONG, PositionState.NO_POSITION


@pytest.fixture
def engine(make_engine):
    return make_engine()


@pytest.fixture
def insights(engine):
    return Insights(engine.service.wiring, StoredMode(engine.service.wiring))


def round_trip(service) -> None:
    assert service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(1000))).ok
    assert service.trading.trade(ETH, FLAT, None).ok


def test_every_refresh_sees_the_records_written_since_the_last(engine, insights):
    assert insights.health("24h").report.runs.runs == 0
    assert insights.results().summary.stats.trips == 0
    round_trip(engine.service)
    assert insights.health("24h").report.runs.runs == 2
    assert insights.results().summary.stats.trips == 1
    round_trip(engine.service)
    health = insights.health("24h")
    assert health.report.runs.runs == 4 and health.mode is Mode.SIM
    assert insights.results().summary.stats.trips == 2
    assert insights.results(mode=Mode.LIVE).summary.stats.trips == 0  # the other book


def test_a_window_holds_the_round_trips_closed_in_it(engine, insights):
    round_trip(engine.service)
    long_ago = utcnow() - timedelta(days=3)
    with engine.db.session() as session:  # a trip that closed three days ago
        repo.record_fills(
            session,
            BookKey("sim", "default"),
            [
                Fill(
                    "BTC/USDT",
                    Side(side),
                    Decimal("0.01"),
                    Decimal(price),
                    Decimal(0),
                    "USDT",
                    Decimal(0),
                    f"old-{side}",
                    f"old-{side}",
                    long_ago + timedelta(minutes=minutes),
                )
                for side, price, minutes in (("buy", "1000", 0), ("sell", "1100", 30))
            ],
        )
    every = insights.results("all")
    day = insights.results("24h")
    assert [t.symbol for t in every.closed] == ["BTC/USDT", ETH]
    assert [t.symbol for t in day.closed] == [ETH]
    assert day.summary.stats.trips == 1 and set(day.by_symbol) == {ETH}
    assert every.by_symbol["BTC/USDT"].stats.profit == Decimal("1.00")
    assert len(every.summary.daily) == 2 and len(day.summary.daily) == 1
    assert day.since is not None and every.since is None


def test_an_unknown_account_or_window_is_refused(insights):
    with pytest.raises(InputError, match="unknown account 'nobody'"):
        insights.health(account="nobody")
    with pytest.raises(InputError, match="--since takes"):
        insights.results("a week")
    with pytest.raises(
        InputError, match="export takes one of fills, ledger, orders, syncs, alerts"
    ):
        insights.export("positions", None)


def test_an_equity_snapshot_leaves_the_round_trips_kept(engine, insights, monkeypatch):
    """The check records equity every 30 s: a snapshot brings the curve and its drawdown up
    to date without reading the ledger again, and the view equals a fresh process's."""
    round_trip(engine.service)
    book = BookKey("sim", "default")
    with engine.db.session() as session:
        repo.record_equity(session, book, Decimal(10_000))
    before = insights.results()
    ledger_reads = []
    real_ledger_frame = analytics.ledger_frame

    def counted(*args, **kwargs):
        ledger_reads.append(args[1:])
        return real_ledger_frame(*args, **kwargs)

    equity_reads = []
    real_equity_frame = analytics.equity_frame

    def counted_equity(*args, **kwargs):
        frame = real_equity_frame(*args, **kwargs)
        equity_reads.append(len(frame))
        return frame

    monkeypatch.setattr(analytics, "ledger_frame", counted)
    monkeypatch.setattr(analytics, "equity_frame", counted_equity)
    with engine.db.session() as session:
        repo.record_equity(session, book, Decimal(9_000))
    after = insights.results()
    assert ledger_reads == [] and equity_reads == [1]  # the new snapshot alone
    assert after.closed == before.closed and after.summary == before.summary
    assert len(after.equity) == len(before.equity) + 1
    assert after.drawdown.max_abs == Decimal(1000) and before.drawdown.max_abs == 0
    fresh = Insights(engine.service.wiring, StoredMode(engine.service.wiring)).results()
    assert dataclasses.replace(after, now=fresh.now, open=fresh.open) == fresh
    ledger_reads.clear()  # the fresh process's own
    round_trip(engine.service)  # two new fills: only the entries since the fold's are read
    assert insights.results().summary.stats.trips == 2
    [(mode, account, after_id)] = ledger_reads
    assert (mode, account) == ("sim", None) and after_id > 0


def test_a_new_process_starts_from_the_fold_another_stored(engine, insights, monkeypatch):
    """A restarted worker or a command loads the stored fold (core.store.ledger_folds) and
    reads only the entries recorded after it, never the whole ledger again; its view is the
    one the process that stored the fold shows, and both follow new entries."""
    round_trip(engine.service)
    round_trip(engine.service)
    kept = insights.results()
    with engine.db.session() as session:
        newest = session.scalar(select(func.max(LedgerEntry.id)))
    reads = []
    real_ledger_frame = analytics.ledger_frame

    def counted(*args, **kwargs):
        reads.append(args[1:])
        return real_ledger_frame(*args, **kwargs)

    monkeypatch.setattr(analytics, "ledger_frame", counted)
    fresh = Insights(engine.service.wiring, StoredMode(engine.service.wiring))
    view = fresh.results()
    assert reads == [("sim", None, newest)]  # what came after the stored fold: nothing
    assert dataclasses.replace(view, now=kept.now, open=kept.open) == kept
    assert view.summary.stats.trips == 2
    round_trip(engine.service)
    assert fresh.results().summary.stats.trips == insights.results().summary.stats.trips == 3


def test_a_new_process_starts_from_the_equity_curve_another_stored(engine, insights, monkeypatch):
    """As with the ledger: a restarted worker loads the stored equity fold
    (core.store.equity_folds) and reads only the snapshots recorded after it; its curve and
    drawdown are the storing process's, and both follow a new snapshot."""
    book = BookKey("sim", "default")
    for equity in (10_000, 9_000, 9_500):
        with engine.db.session() as session:
            repo.record_equity(session, book, Decimal(equity))
    kept = insights.results()
    with engine.db.session() as session:
        newest = session.scalar(select(func.max(EquitySnapshot.id)))
    reads = []
    real_equity_frame = analytics.equity_frame

    def counted(*args, **kwargs):
        reads.append((*args[1:], *kwargs.values()))
        return real_equity_frame(*args, **kwargs)

    monkeypatch.setattr(analytics, "equity_frame", counted)
    fresh = Insights(engine.service.wiring, StoredMode(engine.service.wiring))
    view = fresh.results()
    assert reads == [("sim", None, newest)]  # what came after the stored fold: nothing
    assert (view.equity, view.traded, view.drawdown) == (kept.equity, kept.traded, kept.drawdown)
    assert view.drawdown.max_abs == Decimal(1000)
    with engine.db.session() as session:
        repo.record_equity(session, book, Decimal(8_000))
    assert fresh.results().drawdown == insights.results().drawdown
    assert insights.results().drawdown.max_abs == Decimal(2000)


def test_a_snapshot_dated_before_the_newest_takes_its_place_in_the_curve(engine, insights):
    """A snapshot written with a clock set back (here another account's of the book) is not
    appended after the newer ones: the book's curve sums each account's latest equity in
    time order, and equals that of a process that reads every snapshot."""
    book = BookKey("sim", "default")
    for equity in (10_000, 9_500):
        with engine.db.session() as session:
            repo.record_equity(session, book, Decimal(equity))
    assert insights.results().drawdown.max_abs == Decimal(500)
    with engine.db.session() as session:
        session.add(
            EquitySnapshot(
                mode="sim",
                account="other",
                equity=Decimal(12_000),
                time=utcnow() - timedelta(hours=1),
            )
        )
    late = insights.results()
    fresh = Insights(engine.service.wiring, StoredMode(engine.service.wiring)).results()
    assert late.equity == fresh.equity and late.drawdown == fresh.drawdown
    assert [value for _, value in late.equity] == [
        Decimal(12_000),
        Decimal(22_000),
        Decimal(21_500),
    ]
    assert late.drawdown.max_abs == Decimal(500)


@pytest.fixture
def postgres_engine(make_engine):
    """An engine on a fresh PostgreSQL database, where ids can commit out of order."""
    with fresh_postgres_database("late_ids") as url:
        engine = make_engine(DATABASE_URL=url)
        yield engine
        engine.close()


def test_a_snapshot_committed_below_the_newest_kept_is_read(postgres_engine):
    """As a run below the fold's watermark: the kept equity snapshots take in one that a
    second writer committed with a lower id after a higher one (PostgreSQL only: SQLite
    commits one writer at a time, in id order)."""
    engine = postgres_engine
    insights = Insights(engine.service.wiring, StoredMode(engine.service.wiring))
    book = BookKey("sim", "default")

    def snapshot(as_id: int, equity: int) -> None:
        with engine.db.session() as session:
            session.add(
                EquitySnapshot(
                    id=as_id, mode=book.mode, account=book.account, time=utcnow(),
                    equity=Decimal(equity),
                )
            )  # fmt: skip

    snapshot(10, 10_000)
    assert len(insights.results().equity) == 1
    snapshot(7, 9_000)
    results = insights.results()
    assert len(results.equity) == 2 and results.drawdown.max_abs == Decimal(1000)


def test_a_ledger_entry_committed_below_the_fold_s_watermark_is_folded(postgres_engine):
    """As a run: an entry that PostgreSQL commits with an id below the fold's watermark (two
    writers at once) makes the fold start again from the first entry, and it counts."""
    engine = postgres_engine
    insights = Insights(engine.service.wiring, StoredMode(engine.service.wiring))
    round_trip(engine.service)
    db = engine.service.wiring.db
    with db.session() as session:
        entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
        columns = [
            {c.key: getattr(e, c.key) for c in LedgerEntry.__table__.columns} for e in entries
        ]

    def copy_of_trip(first_id: int, after: timedelta) -> None:
        """The round trip's entries again, numbered from `first_id`, `after` the first ones."""
        with db.session() as session:
            for number, entry in enumerate(columns):
                copy = {"id": first_id + number, "entry_key": f"copy-{first_id + number}"}
                session.add(LedgerEntry(**{**entry, **copy, "time": entry["time"] + after}))

    copy_of_trip(20, timedelta(minutes=1))
    assert insights.results().summary.stats.trips == 2  # folded up to id 21
    copy_of_trip(10, timedelta(minutes=2))  # a writer that took ids 10, 11 commits only now
    assert insights.results().summary.stats.trips == 3


def test_a_run_committed_below_the_fold_s_watermark_is_folded(postgres_engine):
    """PostgreSQL can commit a lower id after a higher one (two writers at once): the fold
    that passed it must take it in, not skip it for good."""
    engine = postgres_engine
    insights = Insights(engine.service.wiring, StoredMode(engine.service.wiring))
    round_trip(engine.service)
    db = engine.service.wiring.db

    def copy_of_run(run_id: int, as_id: int) -> None:
        with db.session() as session:
            run = session.get(SyncRun, run_id)
            columns = {c.key: getattr(run, c.key) for c in SyncRun.__table__.columns}
            session.add(SyncRun(**{**columns, "id": as_id}))

    copy_of_run(2, as_id=10)
    assert insights.health("24h").report.runs.runs == 3  # folded up to id 10
    copy_of_run(2, as_id=7)  # a writer that took id 7 before 10 commits only now
    assert insights.health("24h").report.runs.runs == 4
