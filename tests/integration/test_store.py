"""The store on real databases: an SQLite file, and PostgreSQL where the server runs.

Every test that takes `store` runs on both backends; the PostgreSQL run gets a fresh
schema of its own, dropped afterwards, so runs repeat cleanly.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError, StatementError

from core.domain import (
    Discrepancy,
    DiscrepancyKind,
    Fill,
    OrderReport,
    OrderStatus,
    PositionState,
    RunFindings,
    Side,
)
from core.pnl import fold_fills
from core.store import paper, runs
from core.store import repository as repo
from core.store.db import MIGRATIONS, Database
from core.store.models import Base, FillRecord, Order, PaperBalance, Position, SyncRun
from core.store.repository import BookKey
from tests.services import postgres_missing

D = Decimal
SIM = BookKey("sim", "default")
LIVE = BookKey("live", "default")
PG_URL = os.environ.get(
    "STORE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


_PG_MISSING = postgres_missing(PG_URL, "STORE_TEST_POSTGRES_URL")
_PG_SKIP = _PG_MISSING and f"{_PG_MISSING}; store tests ran on SQLite only"


@pytest.fixture
def sqlite_db(tmp_path):
    db = Database.open(f"sqlite:///{tmp_path / 'nested' / 'trading.db'}")
    yield db
    db.dispose()


@pytest.fixture
def postgres_db():
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    sep = "&" if "?" in PG_URL else "?"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    db = Database.open(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        yield db
    finally:
        db.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request) -> Database:
    return request.getfixturevalue(f"{request.param}_db")


def make_fill(
    side: str,
    qty: str,
    price: str,
    trade_id: str,
    fee: str = "0",
    symbol: str = "ETH/USDT",
    time: datetime = T0,
) -> Fill:
    side_ = Side(side)
    fee_asset = symbol.split("/")[0] if side_ is Side.BUY else symbol.split("/")[1]
    fee_quote = D(fee) * D(price) if side_ is Side.BUY else D(fee)
    return Fill(
        symbol,
        side_,
        D(qty),
        D(price),
        D(fee),
        fee_asset,
        fee_quote,
        trade_id,
        f"c-{trade_id}",
        time,
    )


# --- schema and migrations ------------------------------------------------------------


def test_migrations_create_the_whole_schema(store):
    inspector = sa.inspect(store.engine)
    tables = set(inspector.get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    for name, table in Base.metadata.tables.items():
        assert {c["name"] for c in inspector.get_columns(name)} == set(table.columns.keys()), name
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [(head,)]


def test_sqlite_file_and_folder_are_created(tmp_path):
    path = tmp_path / "a" / "b" / "app.db"
    db = Database.open(f"sqlite:///{path}")
    try:
        assert path.exists()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_reopening_migrates_nothing_and_keeps_the_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'trading.db'}"
    first = Database.open(url)
    with first.session() as s:
        repo.set_value(s, "k", "v")
        repo.record_fills(s, SIM, [make_fill("buy", "1", "100", "t1")])
    first.dispose()
    for _ in range(2):
        again = Database.open(url)
        with again.session() as s:
            assert repo.get_value(s, "k") == "v"
            assert repo.position_row(s, SIM, "ETH/USDT").qty == 1
        with again.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
        again.migrate()  # an explicit second upgrade is a no-op too
        again.dispose()


def test_postgres_reopen_is_idempotent(postgres_db):
    url = postgres_db.engine.url.render_as_string(hide_password=False)
    with postgres_db.session() as s:
        repo.set_value(s, "k", "v")
    again = Database.open(url)
    try:
        with again.session() as s:
            assert repo.get_value(s, "k") == "v"
        with again.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        again.dispose()


# --- exact types ----------------------------------------------------------------------

EXACT = [
    "0.000000012345678901",
    "0.000000000000000001",
    "-1.5",
    "0",
    "1",
    "12345678901234567890.123456789012345678",
    "-99999.000000000000000001",
]


@pytest.mark.parametrize("text", EXACT)
def test_decimal_round_trips_exactly(store, text):
    value = D(text)
    with store.session() as s:
        s.add(PaperBalance(account="acct", asset="ETH", free=value, locked=-value))
    with store.session() as s:
        row = s.get(PaperBalance, ("acct", "ETH"))
        assert isinstance(row.free, Decimal)
        assert row.free == value
        assert row.locked == -value


def test_sqlite_keeps_the_decimal_digits_as_written(sqlite_db):
    with sqlite_db.session() as s:
        s.add(PaperBalance(account="a", asset="X", free=D("1.50"), locked=D("1E-18")))
    with sqlite_db.session() as s:
        row = s.get(PaperBalance, ("a", "X"))
        assert str(row.free) == "1.50"
        assert str(row.locked) == "1E-18" or row.locked == D("0.000000000000000001")
        raw = s.execute(sa.text("SELECT free, locked FROM paper_balances")).one()
        assert raw == ("1.50", "0.000000000000000001")  # text, never a binary float


def test_float_is_refused(store):
    refused = pytest.raises(StatementError, match="ExactDecimal takes Decimal, got float")
    with refused, store.session() as s:
        s.add(PaperBalance(account="a", asset="X", free=0.1, locked=D(0)))
    with store.session() as s:
        assert paper.balances(s, "a") == {}


def test_naive_datetime_is_refused(store):
    with pytest.raises(StatementError, match="naive datetime"), store.session() as s:
        repo.record_fills(s, SIM, [make_fill("buy", "1", "1", "t1", time=datetime(2024, 1, 1))])
    with store.session() as s:
        assert repo.recent_fills(s, SIM) == []
        assert repo.positions(s, SIM) == []


def test_utc_datetime_round_trips_aware(store):
    when = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    with store.session() as s:
        repo.record_fills(s, SIM, [make_fill("buy", "1", "1", "t1", time=when)])
    with store.session() as s:
        (row,) = repo.recent_fills(s, SIM)
        assert row.time == when
        assert row.time.utcoffset() == timedelta(0)


def test_non_utc_aware_datetime_keeps_its_instant(store):
    """An aware time in another zone is the same instant in UTC, not its wall clock."""
    paris = timezone(timedelta(hours=2))
    when = datetime(2024, 3, 1, 14, 0, tzinfo=paris)  # 12:00 UTC
    with store.session() as s:
        repo.record_fills(s, SIM, [make_fill("buy", "1", "1", "t1", time=when)])
    with store.session() as s:
        (row,) = repo.recent_fills(s, SIM)
        assert row.time == when
        assert row.time.astimezone(UTC) == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
        # and filters compare instants too
        assert repo.recent_fills(s, SIM, since=datetime(2024, 3, 1, 11, 59, tzinfo=UTC))
        assert not repo.recent_fills(s, SIM, since=datetime(2024, 3, 1, 12, 1, tzinfo=UTC))


# --- books never mix ------------------------------------------------------------------


def test_sim_and_live_books_never_mix(store):
    with store.session() as s:
        repo.record_fills(
            s,
            SIM,
            [
                make_fill("buy", "2", "100", "t1"),
                make_fill("buy", "1", "50", "t2", symbol="BTC/USDT"),
            ],
        )
        repo.set_position_state(s, SIM, "ETH/USDT", PositionState.LONG, D("110"))
        repo.record_intent(
            s,
            SIM,
            client_order_id="sim-1",
            symbol="ETH/USDT",
            side=Side.BUY,
            price=D("100"),
            amount=D("2"),
        )
        runs.record_sync_run(s, SIM, kind="trade", ok=True, message="ok", started_at=T0)
        repo.record_equity(s, SIM, D("10000"))
    with store.session() as s:
        assert repo.positions(s, LIVE) == []
        assert repo.recent_fills(s, LIVE) == []
        assert repo.recent_orders(s, LIVE) == []
        assert repo.unresolved_orders(s, LIVE) == []
        assert runs.recent_sync_runs(s, LIVE) == []
        assert repo.equity_curve(s, LIVE) == []
        assert repo.recent_fills(s, BookKey("sim", "other")) == []
        assert [p.symbol for p in repo.positions(s, SIM)] == ["BTC/USDT", "ETH/USDT"]
        assert len(repo.recent_fills(s, SIM)) == 2
        assert [o.client_order_id for o in repo.unresolved_orders(s, SIM)] == ["sim-1"]
        assert len(runs.recent_sync_runs(s, SIM)) == 1
        assert [e for _, e in repo.equity_curve(s, SIM)] == [D("10000")]


def test_the_same_trade_id_is_a_different_fill_in_each_book(store):
    with store.session() as s:
        assert len(repo.record_fills(s, SIM, [make_fill("buy", "1", "100", "t1")])) == 1
        assert len(repo.record_fills(s, LIVE, [make_fill("buy", "3", "200", "t1")])) == 1
    with store.session() as s:
        assert repo.position_row(s, SIM, "ETH/USDT").qty == 1
        assert repo.position_row(s, LIVE, "ETH/USDT").qty == 3
        assert repo.position_row(s, LIVE, "ETH/USDT").cost_basis == 600


# --- fills fold into the position -----------------------------------------------------


def test_record_fills_folds_into_the_position(store):
    fills = [
        make_fill("buy", "1", "100", "t1", fee="0.001"),
        make_fill("buy", "2", "130", "t2", fee="0.002"),
        make_fill("sell", "1.5", "150", "t3", fee="0.225"),
    ]
    with store.session() as s:
        new = repo.record_fills(s, SIM, fills)
        assert new == fills
    expected = fold_fills(fills)
    with store.session() as s:
        pos = repo.position_row(s, SIM, "ETH/USDT")
        assert (pos.qty, pos.cost_basis, pos.realized, pos.fees) == (
            expected.qty,
            expected.cost_basis,
            expected.realized,
            expected.fees,
        )
        rows = repo.recent_fills(s, SIM, symbol="ETH/USDT")
        assert [r.trade_id for r in rows] == ["t3", "t2", "t1"]  # newest first (same time: id)
        assert rows[0].fee_quote == D("0.225")


def test_record_fills_is_idempotent_on_trade_id(store):
    fills = [make_fill("buy", "1", "100", "t1"), make_fill("sell", "0.5", "120", "t2")]
    with store.session() as s:
        assert repo.record_fills(s, SIM, fills) == fills
    with store.session() as s:
        assert repo.record_fills(s, SIM, fills) == []  # a retry records nothing twice
        later = make_fill("buy", "2", "90", "t3")
        assert repo.record_fills(s, SIM, [*fills, later]) == [later]
        assert repo.record_fills(s, SIM, []) == []
    with store.session() as s:
        pos = repo.position_row(s, SIM, "ETH/USDT")
        expected = fold_fills([*fills, later])
        assert (pos.qty, pos.cost_basis, pos.realized) == (
            expected.qty,
            expected.cost_basis,
            expected.realized,
        )
        assert s.scalar(sa.select(sa.func.count()).select_from(FillRecord)) == 3


def test_record_fills_tolerates_a_trade_repeated_in_one_batch(store):
    """Overlapping pages of fills can list a trade twice: it is still recorded once."""
    fill = make_fill("buy", "1", "100", "t1")
    with store.session() as s:
        assert repo.record_fills(s, SIM, [fill, fill]) == [fill]
    with store.session() as s:
        assert repo.position_row(s, SIM, "ETH/USDT").qty == 1
        assert len(repo.recent_fills(s, SIM)) == 1


def test_the_database_refuses_a_duplicate_fill_row(store):
    with store.session() as s:
        repo.record_fills(s, SIM, [make_fill("buy", "1", "100", "t1")])
    with pytest.raises(IntegrityError), store.session() as s:
        s.add(
            FillRecord(
                mode="sim", account="default", symbol="ETH/USDT", trade_id="t1",
                client_order_id="x", side="buy", qty=D(1), price=D(1), fee=D(0),
                fee_asset="ETH", fee_quote=D(0), time=T0,
            )
        )  # fmt: skip


prices = st.decimals(min_value=D("0.01"), max_value=100_000, places=2)
quantities = st.decimals(min_value=D("0.0001"), max_value=100, places=4)


@st.composite
def fill_batches(draw):
    """Fill batches as a trade would record them, sells never above the held quantity."""
    batches, held, n = [], D(0), 0
    for _ in range(draw(st.integers(1, 4))):
        batch = []
        for _ in range(draw(st.integers(1, 4))):
            n += 1
            if held > 0 and draw(st.booleans()):
                qty = held if draw(st.booleans()) else (held / 2).quantize(D("0.0001"))
                qty = qty if qty > 0 else held
                batch.append(make_fill("sell", str(qty), str(draw(prices)), f"t{n}"))
                held -= qty
            else:
                qty = draw(quantities)
                batch.append(make_fill("buy", str(qty), str(draw(prices)), f"t{n}"))
                held += qty
        batches.append(batch)
    return batches


@pytest.fixture(scope="module")
def property_sqlite_db(tmp_path_factory):
    """One database for all examples of a property (fast); each example has its own book."""
    db = Database.open(f"sqlite:///{tmp_path_factory.mktemp('store-property') / 'trading.db'}")
    yield db
    db.dispose()


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(batches=fill_batches(), replay=st.integers(0, 3))
def test_stored_position_equals_the_fold_of_its_fills_property(property_sqlite_db, batches, replay):
    db = property_sqlite_db
    book = BookKey("sim", uuid.uuid4().hex)
    for batch in batches:
        with db.session() as s:
            repo.record_fills(s, book, batch)
    with db.session() as s:  # a replay of any batch changes nothing
        assert repo.record_fills(s, book, batches[replay % len(batches)]) == []
    expected = fold_fills([f for batch in batches for f in batch])
    with db.session() as s:
        pos = repo.position_row(s, book, "ETH/USDT")
        assert (pos.qty, pos.cost_basis, pos.realized, pos.fees) == (
            expected.qty,
            expected.cost_basis,
            expected.realized,
            expected.fees,
        )
        assert pos.qty >= 0


# --- paper balances and atomic units of work ------------------------------------------


def test_paper_balances_seed_once_and_change(store):
    with store.session() as s:
        assert paper.seed_balance(s, "paper", "USDT", D("10000"))
        assert not paper.seed_balance(s, "paper", "USDT", D("99"))  # left alone
        assert paper.change_balance(s, "paper", "USDT", D("-2500.5")) == D("7499.5")
        assert paper.change_balance(s, "paper", "ETH", D("1.25")) == D("1.25")
    with store.session() as s:
        balances = paper.balances(s, "paper")
        assert balances["USDT"].free == D("7499.5")
        assert balances["ETH"].free == D("1.25")
        assert balances["ETH"].locked == 0
        assert paper.balances(s, "someone-else") == {}


def test_paper_balance_cannot_go_negative(store):
    with store.session() as s:
        paper.seed_balance(s, "paper", "USDT", D("100"))
    refused = pytest.raises(ValueError, match="paper balance of USDT would go below zero")
    with refused, store.session() as s:
        paper.change_balance(s, "paper", "USDT", D("-100.01"))
    with store.session() as s:
        assert paper.change_balance(s, "paper", "USDT", D("-100")) == 0  # to zero is fine
    with pytest.raises(ValueError, match="paper balance of ETH"), store.session() as s:
        paper.change_balance(s, "paper", "ETH", D("-1"))  # never held
    with store.session() as s:
        assert "ETH" not in paper.balances(s, "paper")


def test_a_failing_unit_of_work_leaves_nothing_half_written(store):
    with store.session() as s:
        paper.seed_balance(s, "paper", "USDT", D("1000"))
    with pytest.raises(ValueError), store.session() as s:
        runs.record_sync_run(s, SIM, kind="trade", ok=True, message="m", started_at=T0)
        repo.record_intent(
            s, SIM, client_order_id="o1", symbol="ETH/USDT", side=Side.BUY,
            price=D("100"), amount=D("5"),
        )  # fmt: skip
        repo.record_fills(s, SIM, [make_fill("buy", "5", "100", "t1")])
        paper.change_balance(s, "paper", "USDT", D("-500"))
        paper.change_balance(s, "paper", "ETH", D("5"))
        paper.change_balance(s, "paper", "USDT", D("-600"))  # overdraws: all undone
    with store.session() as s:
        assert paper.balances(s, "paper")["USDT"].free == D("1000")
        assert "ETH" not in paper.balances(s, "paper")
        for model in (Order, FillRecord, Position, SyncRun):
            assert s.scalar(sa.select(sa.func.count()).select_from(model)) == 0


# --- orders ---------------------------------------------------------------------------


def test_order_life_from_intent_to_filled(store):
    with store.session() as s:
        order = repo.record_intent(
            s, LIVE, client_order_id="app-1", symbol="ETH/USDT", side=Side.SELL,
            price=D("1997.01"), amount=D("0.1234"),
        )  # fmt: skip
        assert order.id is not None  # flushed: written before anything is sent
        assert order.status == "intent"
    with store.session() as s:
        assert [o.client_order_id for o in repo.unresolved_orders(s, LIVE)] == ["app-1"]
        report = OrderReport(
            "app-1", "ex-9", "ETH/USDT", Side.SELL, D("1996.5"), D("0.1234"), D("0.1234"),
            OrderStatus.FILLED, average=D("1996.75"),
        )  # fmt: skip
        repo.update_order(s, report, reason="filled at once")
    with store.session() as s:
        (order,) = repo.recent_orders(s, LIVE)
        assert (order.status, order.exchange_order_id, order.filled, order.average) == (
            "filled",
            "ex-9",
            D("0.1234"),
            D("1996.75"),
        )
        assert order.price == D("1996.5")
        assert order.reason == "filled at once"
        assert repo.unresolved_orders(s, LIVE) == []
        repo.mark_order(s, "app-1", OrderStatus.UNKNOWN, "lost")
    with store.session() as s:
        assert [o.reason for o in repo.unresolved_orders(s, LIVE)] == ["lost"]


def test_unknown_orders_are_refused_clearly(store):
    report = OrderReport("nope", None, "ETH/USDT", Side.BUY, D(1), D(1), D(0), OrderStatus.OPEN)
    with store.session() as s:
        with pytest.raises(LookupError, match="no recorded order nope"):
            repo.update_order(s, report)
        with pytest.raises(LookupError, match="no recorded order nope"):
            repo.mark_order(s, "nope", OrderStatus.CANCELED, "x")


def test_client_order_ids_are_unique(store):
    with store.session() as s:
        repo.record_intent(
            s, SIM, client_order_id="dup", symbol="ETH/USDT", side=Side.BUY, price=D(1), amount=D(1)
        )
    with pytest.raises(IntegrityError), store.session() as s:
        repo.record_intent(
            s,
            SIM,
            client_order_id="dup",
            symbol="ETH/USDT",
            side=Side.BUY,
            price=D(1),
            amount=D(1),
        )


# --- positions, sync runs, equity, app state ------------------------------------------


def test_position_state_and_target(store):
    with store.session() as s:
        pos = repo.set_position_state(
            s, LIVE, "ETH/USDT", PositionState.LONG, D("2000.5"), target=PositionState.LONG,
            is_open=True,
        )  # fmt: skip
        assert pos.is_open
    with store.session() as s:
        pos = repo.position_row(s, LIVE, "ETH/USDT")
        assert (pos.state, pos.target_state, pos.last_price) == ("LONG", "LONG", D("2000.5"))
        assert pos.price_time is not None and pos.price_time.tzinfo is not None
        repo.set_position_state(s, LIVE, "ETH/USDT", PositionState.SHORT, None)
    with store.session() as s:
        pos = repo.position_row(s, LIVE, "ETH/USDT")
        assert (pos.state, pos.is_open) == ("SHORT", True)  # is_open only when told
        repo.set_position_state(s, LIVE, "ETH/USDT", PositionState.SHORT, None, is_open=False)
        assert not repo.position_row(s, LIVE, "ETH/USDT").is_open
        assert pos.target_state == "LONG"  # unchanged when no target given
        assert pos.last_price == D("2000.5")  # unchanged when no price given


def test_position_row_is_created_empty_once(store):
    with store.session() as s:
        first = repo.position_row(s, SIM, "SOL/USDT")
        assert (first.qty, first.cost_basis, first.realized, first.fees) == (0, 0, 0, 0)
        assert first.state == "NO_POSITION" and not first.is_open
        assert repo.position_row(s, SIM, "SOL/USDT").id == first.id
    with store.session() as s:
        assert len(repo.positions(s, SIM)) == 1


def test_sync_runs_and_equity_curve(store):
    with store.session() as s:
        runs.record_sync_run(
            s, SIM, kind="check", ok=True, message="first", started_at=T0,
            findings=RunFindings(
                discrepancies=(
                    Discrepancy(DiscrepancyKind.QTY_MISMATCH, "default", "ETH/USDT",
                                D("1.5"), D("2"), exchange_price=D("3000.25")),
                ),
                in_sync=("BTC/USDT",), drift=("ETH/USDT",), error=None,
            ),
        )  # fmt: skip
        runs.record_sync_run(
            s, SIM, kind="trade", ok=False, message="second", started_at=T0 + timedelta(minutes=1),
            symbol="ETH/USDT", policy="enforce", target="LONG", api_calls=5, duration_ms=120,
        )  # fmt: skip
        for equity in ("100", "101.5", "99.25"):
            repo.record_equity(s, SIM, D(equity))
    with store.session() as s:
        stored = runs.recent_sync_runs(s, SIM)
        assert [r.message for r in stored] == ["second", "first"]
        [found] = stored[1].findings.discrepancies
        assert found.kind is DiscrepancyKind.QTY_MISMATCH
        assert (found.recorded_qty, found.exchange_qty) == (D("1.5"), D("2"))
        assert found.exchange_price == D("3000.25") and found.entry_price is None
        assert (stored[1].findings.in_sync, stored[1].findings.drift) == (
            ("BTC/USDT",),
            ("ETH/USDT",),
        )
        assert (stored[0].ok, stored[0].api_calls, stored[0].symbol) == (False, 5, "ETH/USDT")
        assert runs.recent_sync_runs(s, SIM, limit=1)[0].message == "second"
        curve = repo.equity_curve(s, SIM)
        assert [e for _, e in curve] == [D("100"), D("101.5"), D("99.25")]  # oldest first
        assert all(t.tzinfo is not None for t, _ in curve)


def test_app_state_values(store):
    with store.session() as s:
        assert repo.get_value(s, "mode") is None
        repo.set_value(s, "mode", "sim")
    with store.session() as s:
        repo.set_value(s, "mode", "live")
    with store.session() as s:
        assert repo.get_value(s, "mode") == "live"


def test_recent_fills_filters_and_limits(store):
    fills = [
        make_fill("buy", "1", "100", f"t{i}", time=T0 + timedelta(minutes=i)) for i in range(5)
    ]
    fills.append(make_fill("buy", "1", "10", "b1", symbol="BTC/USDT", time=T0))
    with store.session() as s:
        repo.record_fills(s, SIM, fills)
    with store.session() as s:
        assert [f.trade_id for f in repo.recent_fills(s, SIM, symbol="ETH/USDT", limit=2)] == [
            "t4",
            "t3",
        ]
        since = repo.recent_fills(s, SIM, since=T0 + timedelta(minutes=3))
        assert [f.trade_id for f in since] == ["t4", "t3"]
        assert {f.symbol for f in repo.recent_fills(s, SIM)} == {"ETH/USDT", "BTC/USDT"}
