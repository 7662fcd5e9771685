"""The events table on a real SQLite file: newest first per book, a symbol's newest event
(an account's flatten standing for all), and incidents acknowledged once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.store import events
from core.store.books import BookKey
from core.store.db import Database
from tests.services import database_of_kind

LIVE, SIM = BookKey("live", "default"), BookKey("sim", "default")
T0 = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    database = Database.open(f"sqlite:///{tmp_path}/t.db")
    yield database
    database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def each_db(request, tmp_path):
    """A real database of each kind the app runs on (PostgreSQL: skipped where none runs)."""
    with database_of_kind(request.param, tmp_path, "events") as database:
        yield database


def record(db, book=LIVE, minutes=0, **fields):
    values = {"kind": "trade", "who": "manual", "text": "ETH/USDT → LONG: bought", **fields}
    with db.session() as session:
        return events.record_event(session, book, time=T0 + timedelta(minutes=minutes), **values)


def test_a_book_reads_its_own_events_newest_first_and_from_a_time_on(db):
    first = record(db, symbol="ETH/USDT")
    record(db, SIM, 1, symbol="ETH/USDT", text="paper")
    last = record(db, minutes=2, kind="stop_fired", who="stop", symbol="ETH/USDT", text="fired")
    with db.session() as session:
        live = events.recent_events(session, book=LIVE)
        since = events.recent_events(session, mode="live", since=T0 + timedelta(minutes=1))
        every = events.recent_events(session)
    assert [e.id for e in live] == [last, first]
    assert [(e.kind, e.who, e.text) for e in since] == [("stop_fired", "stop", "fired")]
    assert len(every) == 3 and every[0].time == T0 + timedelta(minutes=2)


def test_a_symbols_newest_event_and_the_accounts_own(db):
    record(db, symbol="ETH/USDT", text="bought ETH")
    btc = record(db, minutes=1, symbol="BTC/USDT", text="bought BTC")
    flatten = record(db, minutes=2, kind="flatten", who="flatten", text="everything closed")
    eth = record(db, minutes=3, kind="drift", who="monitor", symbol="ETH/USDT", text="drifted")
    with db.session() as session:
        newest = events.latest_by_symbol(session, LIVE, ["ETH/USDT", "BTC/USDT", "SOL/USDT"])
        assert events.latest_by_symbol(session, SIM, ["ETH/USDT"]) == {}
    assert {symbol: e.id for symbol, e in newest.items()} == {
        "ETH/USDT": eth,
        "BTC/USDT": btc,
        None: flatten,
    }


def test_the_newest_events_of_more_symbols_than_sqlite_takes_in_one_compound_select(db):
    """A book of 1,200 held symbols (SQLite refuses a compound SELECT of over 500 parts: the
    page's layout failed at about 500 positions): each symbol's newest event, and the
    account's, are found across the statements."""
    symbols = [f"C{n}/USDT" for n in range(1200)]
    firsts = {s: record(db, symbol=s, text="first") for s in symbols[::97]}
    lasts = {s: record(db, minutes=1, symbol=s, text="last") for s in symbols[::199]}
    flatten = record(db, minutes=2, kind="flatten", who="flatten", text="closed")
    with db.session() as session:
        newest = events.latest_by_symbol(session, LIVE, symbols)
    assert {symbol: e.id for symbol, e in newest.items()} == {**firsts, **lasts, None: flatten}


def test_an_incident_waits_until_acknowledged_once(db):
    trade = record(db, symbol="ETH/USDT")
    change = record(
        db, minutes=1, kind="external_change", who="monitor", symbol="ETH/USDT", needs_ack=True
    )
    with db.session() as session:
        [waiting] = events.unacknowledged(session, LIVE)
        assert waiting.id == change and waiting.waiting
        assert events.unacknowledged(session, SIM) == []
    with db.session() as session:
        assert events.acknowledge(session, [trade, change]) == [change]
    with db.session() as session:
        assert events.acknowledge(session, [change]) == []  # acknowledged before: left as is
        assert events.unacknowledged(session) == []
        acked = events.find_event(session, change)
        assert events.find_event(session, 999) is None
    assert acked.acked_at is not None and not acked.waiting


def test_events_written_together_keep_their_order_and_their_ids_grow_after_the_last(each_db):
    """`record_events`, on SQLite and PostgreSQL: one INSERT of 2,500 events (more than
    one page of SQLAlchemy's multi-row insert) returns each its id in the order given,
    after the last single one; the feed, a symbol's newest event and the badge read them
    as if written one by one."""
    before = record(each_db, symbol="C0/USDT", text="before")
    rows = [
        {"kind": "repaired", "who": "monitor", "symbol": f"C{n % 1000}/USDT", "text": f"r{n}"}
        for n in range(2500)
    ]
    rows[7] |= {"kind": "external_change", "needs_ack": True, "time": T0, "requester": "tab-1"}
    with each_db.session() as session:
        ids = events.record_events(session, LIVE, rows)
        assert events.record_events(session, LIVE, []) == []
    assert ids == list(range(before + 1, before + 2501))
    with each_db.session() as session:
        stored = list(reversed(events.recent_events(session, book=LIVE, limit=3000)))
        newest = events.latest_by_symbol(session, LIVE, ["C0/USDT", "C7/USDT"])
        [waiting] = events.unacknowledged(session, LIVE)
    assert [e.text for e in stored] == ["before", *(f"r{n}" for n in range(2500))]
    assert [e.id for e in stored[1:]] == ids
    assert [e.symbol for e in stored[1:]] == [row["symbol"] for row in rows]
    assert {e.time for e in stored[1:] if e.id != ids[7]} == {stored[1].time}  # one "now"
    assert (waiting.id, waiting.time, waiting.requester) == (ids[7], T0, "tab-1")
    assert (newest["C0/USDT"].text, newest["C7/USDT"].text) == ("r2000", "r2007")


def test_thousands_of_incidents_acknowledged_at_once_and_read_back_together(each_db):
    """`acknowledge` and `find_events`, on SQLite and PostgreSQL: 2,500 changes outside the
    app (more than one statement's list on SQLite) beside events that are not incidents
    and one acknowledged before: the waiting ones acknowledged at one time, in id order,
    read back in one go as the feed reads them; asked again, nothing."""
    rows = [
        {"kind": "external_change", "who": "monitor", "symbol": f"C{n}/USDT", "text": f"c{n}",
         "needs_ack": n % 10 != 9}
        for n in range(2500)
    ]  # fmt: skip
    with each_db.session() as session:
        ids = events.record_events(session, LIVE, rows)
    waiting = [i for n, i in enumerate(ids) if n % 10 != 9]
    with each_db.session() as session:
        assert events.acknowledge(session, [waiting[0]]) == [waiting[0]]
    asked = [*reversed(ids), ids[4], 10**9]
    with each_db.session() as session:
        done = events.acknowledge(session, asked, at=T0)
        found = events.find_events(session, [*done, 10**9])
    assert done == waiting[1:]
    assert [e.id for e in found] == done
    assert {e.acked_at for e in found} == {T0}
    assert [(e.symbol, e.text, e.kind) for e in found[:2]] == [
        ("C1/USDT", "c1", "external_change"),
        ("C2/USDT", "c2", "external_change"),
    ]
    with each_db.session() as session:
        assert events.acknowledge(session, ids) == []
        assert events.unacknowledged(session) == []
        assert events.find_events(session, []) == []
        [one] = events.find_events(session, [ids[0]])
    assert one == events_of(each_db, ids[0])


def events_of(db, event_id):
    with db.session() as session:
        return events.find_event(session, event_id)
