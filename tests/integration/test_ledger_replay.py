"""The ledger's replay property on real SQLite and PostgreSQL databases: any recorded
sequence of reports (fills of the app's orders, some read twice, and checks that read what
the account holds and adopt it) applied twice, or with its buys in another order (where order
does not matter), leaves the same ledger; and whatever the sequence, each position is its
ledger folded by core.pnl (its quantity the sum of the entries, its realized PnL and fees
what each entry says it realized). Hand-worked ledgers, and the migration that starts it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from itertools import count

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import ExchangePosition, Fill, Policy, RecordedPosition, Side
from core.insights.ledger_fold import compute_results
from core.insights.results import EQUITY_COLUMNS, realized_since
from core.monitoring.reconcile import diagnose, plan
from core.pnl import PositionBook, apply_fill, apply_transfer
from core.store import analytics, ledger, repairs
from core.store import repository as repo
from core.store.db import MIGRATIONS, Database
from tests.services import database_of_kind

D = Decimal
ETH = "ETH/USDT"
NO_EQUITY = pd.DataFrame(columns=list(EQUITY_COLUMNS))
T0 = datetime(2024, 5, 1, tzinfo=UTC)
PROPS = settings(max_examples=60, deadline=None, derandomize=True, database=None)
_books = count()


@dataclass(frozen=True)
class Check:
    """A read of the account: it holds `held` ETH at the mark `mark`, at `seen_at`."""

    held: Decimal
    mark: Decimal
    seen_at: datetime


amounts = st.decimals("0.001", "3", places=3)
prices = st.decimals("50", "150", places=2)


@st.composite
def reports(draw) -> list:
    """Fills (each of its own trade) and checks, in the order they happened; each fill or
    check is later than the one before, and some fills are reported again."""
    sequence = []
    for n in range(draw(st.integers(1, 12))):
        when = T0 + timedelta(minutes=n)
        if draw(st.booleans()):
            side = draw(st.sampled_from([Side.BUY, Side.SELL]))
            fee_in_base = side is Side.BUY and draw(st.booleans())
            qty, price = draw(amounts), draw(prices)
            fee = (qty / 1000).quantize(Decimal("0.000001"))
            sequence.append(
                Fill(
                    ETH,
                    side,
                    qty,
                    price,
                    fee,
                    "ETH" if fee_in_base else "USDT",
                    fee * price if fee_in_base else qty * price / 1000,
                    f"t{n}",
                    f"c{n}",
                    when,
                )
            )
        else:
            held = draw(st.sampled_from([Decimal(0), draw(amounts)]))
            sequence.append(Check(held, draw(prices), when))
        if sequence and isinstance(sequence[-1], Fill) and draw(st.booleans()):
            sequence.append(sequence[-1])  # the same fill read again (an overlapping page)
    return sequence


def apply_report(db: Database, book: repo.BookKey, report) -> None:
    """A fill as a trade records it; a check as the monitor applies `adopt`."""
    with db.session() as session:
        if isinstance(report, Fill):
            repo.record_fills(session, book, [report])
            return
        row = repo.find_position(session, book, ETH)
        recorded = [
            RecordedPosition(book.account, ETH, row.qty, report.mark, report.seen_at)
            for _ in [row]
            if row is not None and row.is_open
        ]
        held = (
            [ExchangePosition(book.account, ETH, report.held, report.mark)] if report.held else []
        )
        found = diagnose(recorded, held, {}, report.seen_at, timedelta(days=1))
        repairs.apply_actions(
            session,
            book,
            plan(found, Policy.ADOPT),
            report.seen_at,
            report.seen_at,
            {ETH: report.mark},
        )


def ledger_of(db: Database, book: repo.BookKey) -> set[tuple]:
    """The ledger as a set of entries: what each says, whatever the order it was written."""
    with db.session() as session:
        return {
            (e.entry_key, e.kind, e.origin, e.side, e.qty, e.change, e.price, e.fee, e.time)
            for e in ledger.entries(session, book)
        }


def buys_shuffled(sequence: list, rng: random.Random) -> list:
    """Each run of buys in another order: buys commute (each is its own trade, and adds its
    coins and cost whatever came before); a sale or a check depends on what was held."""
    out, run = [], []
    for report in [*sequence, None]:
        if isinstance(report, Fill) and report.side is Side.BUY:
            run.append(report)
            continue
        rng.shuffle(run)
        out += run if report is None else [*run, report]
        run = []
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A real database of each kind the app runs on (PostgreSQL: skipped where none runs)."""
    with database_of_kind(request.param, tmp_path, "ledger") as database:
        yield database


def new_book() -> repo.BookKey:
    return repo.BookKey("live", f"replay-{next(_books)}")  # books never mix: one per example


def test_applying_the_reports_twice_leaves_the_same_ledger(db):
    @PROPS
    @given(reports())
    def check(sequence):
        book = new_book()
        for report in sequence:
            apply_report(db, book, report)
        once = ledger_of(db, book)
        for report in sequence:
            apply_report(db, book, report)
        assert ledger_of(db, book) == once

    check()


def test_buys_in_another_order_leave_the_same_ledger(db):
    @PROPS
    @given(reports(), st.randoms(use_true_random=False))
    def check(sequence, rng):
        in_order, shuffled = new_book(), new_book()
        for report in sequence:
            apply_report(db, in_order, report)
        for report in buys_shuffled(sequence, rng):
            apply_report(db, shuffled, report)
        assert ledger_of(db, in_order) == ledger_of(db, shuffled)

    check()


def folded(entries) -> tuple[PositionBook, list[Decimal]]:
    """The entries folded by core.pnl in the order written, and what each realized."""
    book, realized = PositionBook(), []
    for e in entries:
        before = book
        if e.kind == ledger.TRANSFER:
            book = apply_transfer(book, e.change, e.price)
        else:
            fill = Fill(
                e.symbol,
                Side(e.side),
                e.qty,
                e.price,
                e.fee,
                e.fee_asset,
                e.fee_quote,
                e.entry_key,
                e.client_order_id,
                e.time,
            )
            book = apply_fill(book, fill)
        realized.append(book.realized - before.realized)
    return book, realized


def agree(db: Database, stored: list[Decimal], computed: list[Decimal]) -> bool:
    """Equal to the digit on SQLite, which keeps every digit. PostgreSQL's NUMERIC(38, 18)
    rounds each write to 18 places and the app goes on from the rounded figure, while the
    fold here goes on from the exact one: they agree to 1e-15."""
    if db.engine.dialect.name != "postgresql":
        return stored == computed
    return len(stored) == len(computed) and all(
        abs(a - b) <= Decimal("1e-15") for a, b in zip(stored, computed, strict=True)
    )


def test_every_position_is_its_ledger_folded(db):
    @PROPS
    @given(reports())
    def check(sequence):
        book = new_book()
        for report in sequence:
            apply_report(db, book, report)
        with db.session() as session:
            row = repo.find_position(session, book, ETH)
            entries = ledger.entries(session, book, ETH)
            held = ledger.holdings(session, book).get(ETH, Decimal(0))
        figures, realized = folded(entries)
        assert agree(db, [e.realized for e in entries], realized)
        if row is None:
            assert entries == []
            return
        folded_row = [figures.qty, figures.cost_basis, figures.realized, figures.fees]
        assert agree(db, [row.qty, row.cost_basis, row.realized, row.fees], folded_row)
        assert held == row.qty

    check()


def test_a_withdrawal_between_a_buy_and_a_stop_worked_by_hand(db):
    # buy 1 at 100 (fee 0.1 USDT); a check finds 0.6 (mark 90): 0.4 went out, a transfer that
    # realizes nothing; the stop sells the 0.6 at 110 (fee 0.066 USDT): realized (110 - 100)
    # x 0.6 = 6, fees 0.166; the round trip bought 0.6 for 60, sold for 66: profit 5.834
    book = new_book()
    fill = partial(Fill, ETH, fee_asset="USDT")
    apply_report(
        db,
        book,
        fill(
            Side.BUY,
            D(1),
            D(100),
            D("0.1"),
            fee_quote=D("0.1"),
            trade_id="t1",
            client_order_id="c1",
            time=T0,
        ),
    )
    apply_report(db, book, Check(D("0.6"), D(90), T0 + timedelta(minutes=1)))
    apply_report(
        db,
        book,
        fill(
            Side.SELL,
            D("0.6"),
            D(110),
            D("0.066"),
            fee_quote=D("0.066"),
            trade_id="t2",
            client_order_id="c2",
            time=T0 + timedelta(minutes=2),
        ),
    )
    with db.session() as session:
        entries = ledger.entries(session, book)
        row = repo.find_position(session, book, ETH)
        frame = analytics.ledger_frame(session, book.mode, book.account)
    assert [(e.kind, e.side, e.change, e.realized) for e in entries] == [
        ("fill", "buy", D(1), D(0)),
        ("transfer", "out", D("-0.4"), D(0)),
        ("fill", "sell", D("-0.6"), D("6.0")),
    ]
    assert (row.qty, row.realized, row.fees) == (D(0), D("6.0"), D("0.166"))
    assert realized_since(frame, None) == (D("6.0"), D("0.166"))
    [trip] = compute_results(frame, NO_EQUITY, T0 + timedelta(hours=1)).closed
    assert (trip.cost, trip.proceeds, trip.profit) == (D("60.0"), D("66.0"), D("5.834"))


def test_a_sale_of_coins_never_recorded_enters_them_first(db):
    # 1 ETH held from before the records (never adopted) is sold at 100: a transfer of 1 in
    # at 100 comes first, so the ledger adds up to the holding (0) and nothing is realized
    book = new_book()
    sale = Fill(ETH, Side.SELL, D(1), D(100), D("0.1"), "USDT", D("0.1"), "t1", "c1", T0)
    apply_report(db, book, sale)
    apply_report(db, book, sale)
    with db.session() as session:
        entries = ledger.entries(session, book)
        row = repo.find_position(session, book, ETH)
    assert [(e.kind, e.origin, e.change, e.price, e.realized) for e in entries] == [
        ("transfer", ledger.UNRECORDED, D(1), D(100), D(0)),
        ("fill", ledger.UNKNOWN_ORIGIN, D(-1), D(100), D(0)),
    ]
    assert (row.qty, row.realized, row.fees) == (D(0), D(0), D("0.1"))


def test_the_migration_carries_the_recorded_fills_and_adopted_holdings_over(tmp_path):
    """A database of the schema before the ledger: its fills become fill entries with their
    orders' origins, and a holding its fills do not explain (adopted) one transfer, so the
    ledger adds up to every position."""
    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    book = {"mode": "live", "account": "default"}
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO orders (mode, account, symbol, client_order_id, side, order_type, "
                "price, amount, filled, status, origin, created_at, updated_at) VALUES "
                "(:mode, :account, 'ETH/USDT', 'c1', 'buy', 'limit', '100', '1', '1', 'filled', "
                "'stop', '2024-05-01 00:00:00', '2024-05-01 00:00:00')"
            ),
            book,
        )
        connection.execute(
            sa.text(
                "INSERT INTO fills (mode, account, symbol, trade_id, client_order_id, side, qty, "
                "price, fee, fee_asset, fee_quote, time) VALUES (:mode, :account, 'ETH/USDT', "
                "'t1', 'c1', 'buy', '1', '100', '0.001', 'ETH', '0.1', '2024-05-01 00:00:01')"
            ),
            book,
        )
        # 0.999 ETH came from the fill (1 less the fee paid in ETH); 0.5 more was adopted
        connection.execute(
            sa.text(
                "INSERT INTO positions (mode, account, symbol, state, qty, cost_basis, realized, "
                "fees, last_price, is_open, entry_source, updated_at) VALUES (:mode, :account, "
                "'ETH/USDT', 'LONG', '1.499', '149.9', '0', '0.1', '120', 1, 'mark', "
                "'2024-05-01 00:00:02')"
            ),
            book,
        )
    engine.dispose()
    db = Database.open(url)
    try:
        with db.session() as session:
            entries = ledger.entries(session, repo.BookKey("live", "default"))
            summary = [(e.kind, e.origin, e.side, e.change, e.price) for e in entries]
        assert summary == [
            ("fill", "stop", "buy", Decimal("0.999"), Decimal(100)),
            ("transfer", "monitor", "in", Decimal("0.500"), Decimal(120)),
        ]
    finally:
        db.dispose()
