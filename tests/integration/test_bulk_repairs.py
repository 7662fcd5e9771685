"""`sync --execute` writes its plan in bulk (core.store.repairs): on real SQLite and
PostgreSQL databases, random books repaired by the bulk path leave exactly the rows the
per-row path left (each action read and written one ORM row at a time, as the monitor did
before): the same positions, the same ledger entries under the same keys, the same stops
ended, and the same changes reported, including reads already applied and holdings that
changed after the read."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.domain import (
    ZERO,
    ActionKind,
    DiscrepancyKind,
    ExternalChange,
    Policy,
    PositionState,
    SyncAction,
)
from core.monitoring.reconcile import plan
from core.pnl import PositionBook, apply_transfer
from core.store import ledger, repairs
from core.store import protection as stop_records
from core.store import repository as repo
from core.store.models import LedgerEntry, Position, Stop
from tests.services import database_of_kind
from tests.unit.test_reconcile import NOW, books, prices

D = Decimal
APPLIED_AT = NOW + timedelta(seconds=2)  # the repair is written just after the read
PROPS = settings(max_examples=60, deadline=None, derandomize=True, database=None)
_examples = count()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A real database of each kind the app runs on (PostgreSQL: skipped where none runs)."""
    with database_of_kind(request.param, tmp_path, "repairs") as database:
        yield database


def per_row(session, book, action: SyncAction, mark: Decimal | None) -> ExternalChange | None:
    """One action as the monitor wrote it before the bulk path: its own queries, its own
    ORM row (the reference the bulk path must equal)."""
    seen_at = NOW
    if action.kind is not ActionKind.REPRICE:
        latest = ledger.latest_time(session, book, action.symbol)
        if ledger.has_entry(session, book, ledger.transfer_key(action.symbol, seen_at)) or (
            latest is not None and latest > seen_at
        ):
            return None
    position = repo.position_row(session, book, action.symbol)
    if action.price is not None:
        position.last_price, position.price_time = action.price, APPLIED_AT
    if action.leverage is not None:
        position.leverage, position.liquidation_price = action.leverage, action.liquidation_price
    if action.kind is ActionKind.REPRICE:
        return None
    before = position.qty
    after = ZERO if action.kind is ActionKind.CLOSE else action.after_qty or ZERO
    mark = action.price if action.price is not None else mark
    opening = not position.is_open or before * after <= 0
    price = (action.entry_price or mark) if opening else mark
    figures = apply_transfer(
        PositionBook(position.qty, position.cost_basis, position.realized, position.fees),
        after - before,
        price,
    )
    position.qty, position.cost_basis = figures.qty, figures.cost_basis
    if opening and after != 0:
        position.entry_source = "exchange" if action.entry_price else "mark"
    if after == 0:
        position.leverage = position.liquidation_price = None
    position.is_open = after != 0
    position.state = (
        PositionState.LONG
        if after > 0
        else PositionState.SHORT
        if after < 0
        else PositionState.NO_POSITION
    ).value
    if after == before:
        return None
    ledger.record_transfer(session, book, action.symbol, after - before, price, seen_at)
    return ExternalChange(book.account, action.symbol, before, after, mark, seen_at)


@st.composite
def worlds(draw):
    """A book (tests.unit.test_reconcile.books), the exchange's entry prices and leverage
    on some positions, and per symbol what the records already hold: a ledger entry from
    before the read, one from after it, this very read already applied, a closed row, an
    active stop; and the marks of the read."""
    world = draw(books())
    exchange = [
        replace(p, entry_price=draw(prices), leverage=D(3), liquidation_price=D(1))
        if draw(st.booleans())
        else p
        for p in world.exchange
    ]
    keys = {(p.account, p.symbol) for p in [*world.recorded, *exchange]}
    history = {
        key: draw(st.sampled_from(["none", "before", "after", "applied", "closed_row", "stop"]))
        for key in sorted(keys)
    }
    marks = {symbol: draw(st.one_of(st.none(), prices)) for _, symbol in sorted(keys)}
    return replace(world, exchange=exchange), history, marks


def seed(session, prefix: str, world, history) -> None:
    for p in world.recorded:
        row = repo.position_row(session, repo.BookKey("live", prefix + p.account), p.symbol)
        row.qty, row.cost_basis = p.qty, p.qty * D(7)
        row.last_price, row.price_time, row.is_open = p.price, p.price_time, True
        row.state, row.entry_source = "LONG", "mark"
    for (account, symbol), what in history.items():
        book = repo.BookKey("live", prefix + account)
        if what in ("before", "after"):
            when = NOW + (timedelta(seconds=1) if what == "after" else -timedelta(hours=1))
            ledger.record_transfer(session, book, symbol, D(1), D(5), when)
        elif what == "applied":
            ledger.record_transfer(session, book, symbol, D(1), D(5), NOW)
        elif what == "closed_row" and repo.find_position(session, book, symbol) is None:
            repo.position_row(session, book, symbol).realized = D("2.5")
        elif what == "stop":
            stop_records.set_stop(
                session,
                book,
                symbol,
                side="long",
                stop_loss=D(1),
                take_profit=None,
                placement="app",
            )


def rows_of(session, prefix: str) -> set[tuple]:
    """Every position, ledger entry and stop of the example's books, without ids and the
    times a row was written (two clocks), the prefix taken off the account."""
    found = set()
    for model, skip in (
        (Position, {"id", "updated_at"}),
        (LedgerEntry, {"id"}),
        (Stop, {"id", "created_at", "updated_at"}),
    ):
        names = [c.name for c in model.__table__.columns if c.name not in skip]
        query = select(*[model.__table__.c[n] for n in names]).where(
            model.account.startswith(prefix)
        )
        for values in session.execute(query):
            row = dict(zip(names, values, strict=True))
            row["account"] = row["account"][len(prefix) :]
            found.add((model.__tablename__, *sorted(row.items())))
    return found


def test_the_bulk_path_writes_what_the_per_row_path_wrote(db):
    @PROPS
    @given(worlds())
    def check(drawn):
        world, history, marks = drawn
        n = next(_examples)
        bulk, single = f"bulk{n}-", f"row{n}-"
        with db.session() as session:
            seed(session, bulk, world, history)
            seed(session, single, world, history)
        actions = plan(world.diagnose(), Policy.ADOPT)
        by_account: dict[str, list[SyncAction]] = {}
        for action in actions:
            by_account.setdefault(action.account, []).append(action)
        changed_bulk, changed_single = [], []
        with db.session() as session:
            for account, planned in sorted(by_account.items()):
                book = repo.BookKey("live", bulk + account)
                changed_bulk += repairs.apply_actions(
                    session, book, planned, APPLIED_AT, seen_at=NOW, marks=marks
                )
                closed = [a.symbol for a in planned if a.kind is ActionKind.CLOSE]
                stop_records.end_stops_of(session, book, closed, stop_records.DONE, "closed")
        with db.session() as session:
            for account, planned in sorted(by_account.items()):
                book = repo.BookKey("live", single + account)
                for action in planned:
                    change = per_row(session, book, action, marks.get(action.symbol))
                    if change is not None:
                        changed_single.append(change)
                    if action.kind is ActionKind.CLOSE:
                        stop_records.end_stops(
                            session, book, action.symbol, stop_records.DONE, "closed"
                        )
        with db.session() as session:
            assert rows_of(session, bulk) == rows_of(session, single)
        unprefixed = [
            [replace(c, account=c.account.split("-", 1)[1]) for c in changes]
            for changes in (changed_bulk, changed_single)
        ]
        assert unprefixed[0] == unprefixed[1]

    check()


def test_a_plan_larger_than_one_statement_takes_is_written_whole(db):
    """More symbols than one IN list carries: every repair is written, the ledger holds one
    transfer per moved holding, and applying the same read again adds nothing."""
    book = repo.BookKey("live", f"many{next(_examples)}")
    actions = [
        SyncAction(
            ActionKind.CREATE,
            book.account,
            f"C{i:04d}/USDT",
            None,
            D(i + 1),
            D(2),
            DiscrepancyKind.ORPHAN_EXCHANGE,
        )
        for i in range(1_200)
    ]
    with db.session() as session:
        changes = repairs.apply_actions(session, book, actions, APPLIED_AT, seen_at=NOW)
    with db.session() as session:
        again = repairs.apply_actions(session, book, actions, APPLIED_AT, seen_at=NOW)
        held = ledger.holdings(session, book)
        positions = repo.positions(session, book)
    assert len(changes) == 1_200 and again == []
    assert held == {f"C{i:04d}/USDT": D(i + 1) for i in range(1_200)}
    assert all(p.is_open and p.entry_source == "mark" for p in positions)
