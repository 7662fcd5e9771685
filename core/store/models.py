"""SQLAlchemy 2.0 models. Every trading row carries its book (`mode`, `account`) so SIM and
LIVE never mix. Decimals are stored exactly: NUMERIC on PostgreSQL, text on SQLite (whose
NUMERIC is a float)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.domain import PositionState


def utcnow() -> datetime:
    return datetime.now(UTC)


class ExactDecimal(TypeDecorator):
    """Decimal in, the same Decimal out, on every backend."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(38, 18, asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"ExactDecimal takes Decimal, got {type(value).__name__}")
        return value if dialect.name == "postgresql" else format(value, "f")

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store UTC-aware times only")
        # SQLite keeps the wall clock and drops the zone: store the UTC instant
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class AppState(Base):
    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PaperBalance(Base):
    """The SIM account's balances; LIVE balances live on the exchange only."""

    __tablename__ = "paper_balances"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    asset: Mapped[str] = mapped_column(String(20), primary_key=True)
    free: Mapped[Decimal] = mapped_column(ExactDecimal)
    locked: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))


# a position before its first record: what the ORM path and the bulk repairs create
EMPTY_POSITION = {
    "state": PositionState.NO_POSITION.value,
    "qty": Decimal(0),
    "cost_basis": Decimal(0),
    "realized": Decimal(0),
    "fees": Decimal(0),
    "is_open": False,
}


class Position(Base):
    __tablename__ = "positions"
    __table_args__ = (UniqueConstraint("mode", "account", "symbol"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    target_state: Mapped[str | None] = mapped_column(String(16))
    # the quote the trader's BUY for a LONG target was planned to spend: enforce never buys more
    target_quote: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    cost_basis: Mapped[Decimal] = mapped_column(ExactDecimal)
    realized: Mapped[Decimal] = mapped_column(ExactDecimal)
    fees: Mapped[Decimal] = mapped_column(ExactDecimal)
    last_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    price_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # what a derivatives exchange reports of the position (spot rows leave them empty)
    leverage: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    liquidation_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # where the average entry comes from: the app's own fills, the exchange's entry price,
    # or the mark price when holdings were adopted without one
    entry_source: Mapped[str] = mapped_column(String(12), default="fills")
    # the last sync's verdict on this symbol: in_sync, drift or failed (None: never synced)
    sync_status: Mapped[str | None] = mapped_column(String(12))
    sync_message: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Order(Base):
    """An order from the moment the app decides to send it (status `intent`) to its end."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_book_time", "mode", "account", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(40))
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    exchange_order_id: Mapped[str | None] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(16), default="limit")
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    filled: Mapped[Decimal] = mapped_column(ExactDecimal, default=Decimal(0))
    average: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    status: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    # why the app sent it: manual (a click or the command line), enforce, stop, flatten, protect
    origin: Mapped[str] = mapped_column(String(12), default="manual")
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FillRecord(Base):
    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("mode", "account", "symbol", "trade_id"),
        Index("ix_fills_book_symbol_time", "mode", "account", "symbol", "time"),
        Index("ix_fills_book_time", "mode", "account", "time"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(40))
    trade_id: Mapped[str] = mapped_column(String(64))
    client_order_id: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(4))
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    fee_asset: Mapped[str] = mapped_column(String(20))
    fee_quote: Mapped[Decimal] = mapped_column(ExactDecimal)
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerEntry(Base):
    """One change of one holding: a fill the app made (`origin` says why) or a transfer a
    check found (the holding changed outside the app: a deposit, a withdrawal, a trade made
    elsewhere), valued at `price` (the fill's price, or the mark). `change` is the signed
    change of the base holding (a fee paid in base included); `qty` the fill's own size (a
    transfer's: the size of its change); `realized` the PnL it realized by average cost (a
    transfer: none), so a window's realized PnL is a sum. `entry_key` names the report the
    entry came from, so that recording the same report twice adds nothing."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("mode", "account", "entry_key"),
        Index("ix_ledger_book_time", "mode", "account", "time"),
        Index("ix_ledger_mode_id", "mode", "id"),  # a book's newest entry: its version
        Index("ix_ledger_book_id", "mode", "account", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(40))
    entry_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # fill or transfer
    origin: Mapped[str] = mapped_column(String(12))
    side: Mapped[str] = mapped_column(String(4))  # buy or sell (a fill), in or out (a transfer)
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    change: Mapped[Decimal] = mapped_column(ExactDecimal)
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal, nullable=True)
    fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    fee_asset: Mapped[str] = mapped_column(String(20))
    fee_quote: Mapped[Decimal] = mapped_column(ExactDecimal)
    realized: Mapped[Decimal] = mapped_column(ExactDecimal)
    client_order_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class SyncRun(Base):
    """One sync or trade: what was asked, what was found, what was done, how it ended."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_book_time", "mode", "account", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str | None] = mapped_column(String(40))
    policy: Mapped[str | None] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(16))
    before_state: Mapped[str | None] = mapped_column(String(16))
    after_state: Mapped[str | None] = mapped_column(String(16))
    ok: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(Text)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    details: Mapped[str] = mapped_column(Text, default="{}")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EquitySnapshot(Base):
    __tablename__ = "equity_snapshots"
    __table_args__ = (
        Index("ix_equity_book_time", "mode", "account", "time"),
        Index("ix_equity_mode_id", "mode", "id"),  # a book's newest snapshot: its version
        Index("ix_equity_book_id", "mode", "account", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    equity: Mapped[Decimal] = mapped_column(ExactDecimal)


class AccountSnapshot(Base):
    """The balances one read of an account found (free and locked per asset, as exact
    decimal text in one JSON document): every trade's last read and every check's."""

    __tablename__ = "account_snapshots"
    __table_args__ = (Index("ix_account_snapshots_book_time", "mode", "account", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    balances: Mapped[str] = mapped_column(Text)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperOrder(Base):
    """The paper exchange's own record of an order (what LIVE would ask the exchange): its
    outcome and fills, written in one transaction with the paper balances it changed."""

    __tablename__ = "paper_orders"

    client_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    exchange_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(ExactDecimal)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal)
    filled: Mapped[Decimal] = mapped_column(ExactDecimal)
    average: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    status: Mapped[str] = mapped_column(String(12))
    fills: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TradeJob(Base):
    """A trade from the moment it starts to its result, so any page (a reload, another tab,
    another host) shows it running, its current step and how it ended."""

    __tablename__ = "trade_jobs"
    __table_args__ = (Index("ix_trade_jobs_book_time", "mode", "account", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(12))
    step: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), index=True)
    ok: Mapped[bool | None] = mapped_column(Boolean)
    message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Stop(Base):
    """A stop-loss and optional take-profit on one position: watched by the app (spot) or
    placed on the exchange (derivatives). One active stop per book and symbol."""

    __tablename__ = "stops"
    __table_args__ = (Index("ix_stops_book_symbol", "mode", "account", "symbol", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(40))
    side: Mapped[str] = mapped_column(String(5))
    stop_loss: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    take_profit: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    placement: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))
    exchange_ids: Mapped[str] = mapped_column(Text, default="[]")
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Halt(Base):
    """A book the kill switch halted: every trade is refused until it is resumed."""

    __tablename__ = "halts"

    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    halted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """One notification about an incident (raised or cleared) of a book, and how its
    delivery went. The text never holds a secret: alert URLs are not stored."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_incident", "incident", "created_at"),
        Index("ix_alerts_mode_id", "mode", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    # the book (sim or live) the incident belongs to; None: of no book (a test message)
    mode: Mapped[str | None] = mapped_column(String(8))
    account: Mapped[str | None] = mapped_column(String(64))
    symbol: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    delivery: Mapped[str] = mapped_column(String(12), default="pending")
    delivery_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Event(Base):
    """One thing that happened to a book, worded as the trader is told it: a trade and who
    made it, a stop that fired, a holding changed outside the app, drift found, a repair,
    flatten, resume, an alert. `requester` is the page tab whose click made it (its own
    toast already said so; every other tab shows it as news). An incident (`needs_ack`)
    stays on the badge until the trader acknowledges it."""

    __tablename__ = "events"
    __table_args__ = (
        # newest first of a book, and of one symbol of it: read backwards, never sorted
        Index("ix_events_book_id", "mode", "account", "id"),
        Index("ix_events_book_symbol", "mode", "account", "symbol", "id"),
        Index("ix_events_unacked", "needs_ack", "acked_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mode: Mapped[str] = mapped_column(String(8))
    account: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24))
    who: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    requester: Mapped[str | None] = mapped_column(String(64))
    needs_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HealthFoldState(Base):
    """How far the sync health of a mode's books is folded (core.insights.health_fold): the
    last run folded, and the state the next fold starts from (JSON: each pair's open drift
    and latest observation)."""

    __tablename__ = "health_folds"

    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_run_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HealthFoldPart(Base):
    """One slice of a folded series of a mode (`runs`: the runs' figures; `events`: the
    drift events closed), as numpy arrays (an .npz, no pickle): only the last slice changes
    when runs are added."""

    __tablename__ = "health_fold_parts"

    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerFoldState(Base):
    """How far the trading results of a book are folded (core.insights.ledger_fold): the
    last ledger entry folded, the number folded, and the state the next fold starts from
    (JSON: each market's dust and each pair's tail). `account` is '' for the whole book."""

    __tablename__ = "ledger_folds"

    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BookFoldSlice:
    """The columns of one slice of a book's folded series (core.store.fold_parts): `rows`
    of its columns as numpy arrays in an .npz (no pickle); `account` '' for the whole book."""

    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerFoldPart(BookFoldSlice, Base):
    """One slice of a folded series of a book (`trips`: the closed round trips; `booked`:
    the running realized PnL and fees; `days`: the trips' totals per market and day): a new
    entry rewrites the last slices only."""

    __tablename__ = "ledger_fold_parts"


class EquityFoldState(Base):
    """How far the equity curve of a book is folded (core.insights.equity_fold): the last
    snapshot folded, the number folded, and the state the next fold starts from (JSON: each
    account's latest equity and the drawdown's running figures). `account` is '' for the
    whole book."""

    __tablename__ = "equity_folds"

    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    snapshots: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class EquityFoldPart(BookFoldSlice, Base):
    """One slice of a book's folded equity curve (`curve`: times and equity): a new snapshot
    rewrites the last slice only."""

    __tablename__ = "equity_fold_parts"
