"""What the Sync health and Results pages read: the stored records as the DataFrames
`core.insights.health` and `core.insights.results` take, one query each, and as rows for the CSV export.

A report reads one book at a time (a mode, and every account of it or one), and so does the
export of fills, the ledger, orders, sync runs and alerts; each row names its
mode and account. Money stays Decimal and times stay UTC-aware datetimes: the frames hold
the values the columns' types return.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import String, and_, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from core.domain import ZERO
from core.insights.health import OBSERVATION_COLUMNS, ORDER_COLUMNS, RUN_COLUMNS
from core.insights.results import ENTRY_COLUMNS, OUTSIDE_COLUMNS
from core.store import ledger
from core.store.models import (
    Alert,
    EquitySnapshot,
    ExactDecimal,
    FillRecord,
    LedgerEntry,
    Order,
    SyncRun,
    UTCDateTime,
)
from core.store.runs import observed as observed_symbols

EQUITY_FRAME_COLUMNS = ("id", "account", "time", "equity")
EXPORT_BATCH = 1000
READ_BATCH = 1000


def _rows(session: Session, query):
    """Rows of a query run on the session's connection: plain columns, no ORM loading."""
    return session.connection().execute(query)


def _of_book(model, mode: str, account: str | None):
    """The WHERE clause of one mode's records, of one account or of all of them."""
    clause = model.mode == mode
    return clause if account is None else and_(clause, model.account == account)


# --- sync health ------------------------------------------------------------------------


@dataclass(frozen=True)
class HealthFrames:
    """What `core.insights.health.compute_health` takes: the runs, what each observed, the orders."""

    runs: pd.DataFrame
    observations: pd.DataFrame
    orders: pd.DataFrame


def health_frames(session: Session, mode: str, account: str | None = None) -> HealthFrames:
    """The book's sync runs (a trade, stop, flatten, check or monitor run each), what they
    observed, and its orders."""
    runs, observations = run_frames(session, mode, account)
    return HealthFrames(runs, observations, order_frame(session, mode, account))


def run_frames(
    session: Session, mode: str, account: str | None = None, after_id: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The book's sync runs with an id above `after_id` (RUN_COLUMNS, in id order), and
    what each observed (OBSERVATION_COLUMNS): a symbol in sync when its findings list it in
    `in_sync`, drifting when in `drift`, dated when the run finished."""
    query = (
        select(
            SyncRun.id,
            SyncRun.account,
            SyncRun.kind,
            SyncRun.symbol,
            SyncRun.ok,
            _as_read(SyncRun.started_at),
            _as_read(SyncRun.finished_at),
            SyncRun.duration_ms,
            SyncRun.api_calls,
            SyncRun.details,
        )
        .where(_along_ids(SyncRun, mode, account), SyncRun.id > after_id)
        .order_by(SyncRun.id)
        .execution_options(yield_per=READ_BATCH)
    )
    # read in batches, each turned into columns: 100,000 rows held at once had the cyclic
    # garbage collector walk them again and again (four full collections, a third of the read)
    columns: list[list] = [[] for _ in range(10)]
    for batch in _rows(session, query).partitions():
        for column, values in zip(columns, zip(*batch, strict=True), strict=True):
            column.extend(values)
    ids, accounts, kinds, symbols, ok, started, finished, durations, calls, details = columns
    # typed columns: only the text ones are inferred (a string dtype, or object with None)
    runs = pd.DataFrame(
        {
            "run_id": np.array(ids, dtype=np.int64),
            "account": pd.Series(accounts),
            "kind": pd.Series(kinds),
            "symbol": pd.Series(symbols),
            "ok": np.array(ok, dtype=bool),
            "started_at": _utc(started),
            "finished_at": _utc(finished),
            "duration_ms": np.array(durations, dtype=np.int64),
            "api_calls": np.array(calls, dtype=np.int64),
        },
        columns=list(RUN_COLUMNS),
    )
    # the symbols of each distinct findings, in sync then drifting, as codes (each name one
    # object), laid end to end; each run's rows are those of its findings
    found, which = observed_symbols(details)
    names: dict[str, int] = {}
    codes, in_sync, sizes = [], [], []
    for synced, drift in found:
        codes += [names.setdefault(symbol, len(names)) for symbol in (*synced, *drift)]
        in_sync += [True] * len(synced) + [False] * len(drift)
        sizes.append(len(synced) + len(drift))
    sizes, which = np.array(sizes, dtype=np.int64), np.array(which, dtype=np.int64)
    counts = sizes[which]
    starts = (np.cumsum(sizes) - sizes)[which]
    rows = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
    # the run's columns repeated once per symbol it observed; the account and the symbol
    # as categoricals of the codes at hand (two million names need not be coded again)
    finished_ns = runs["finished_at"].array.as_unit("ns").asi8
    accounts_coded, account_names = pd.factorize(runs["account"])
    observed = pd.DataFrame(
        {
            "run_id": np.repeat(runs["run_id"].to_numpy(dtype=np.int64), counts),
            "time": pd.DatetimeIndex(np.repeat(finished_ns, counts).view("M8[ns]"), tz="UTC"),
            "account": pd.Categorical.from_codes(
                np.repeat(accounts_coded, counts), categories=account_names
            ),
            "symbol": pd.Categorical.from_codes(
                np.array(codes, dtype=np.int64)[rows], categories=list(names)
            ),
            "in_sync": np.array(in_sync, dtype=bool)[rows],
        },
        columns=list(OBSERVATION_COLUMNS),
    )
    return runs, observed


def _along_ids(model, mode: str, account: str | None):
    """`_of_book` for a read in id order from a watermark on, which walks the primary key:
    the book compared as an expression (`mode || ''`), which no index answers, so that
    SQLite does not take the (mode, account, time) index for the equality and then sort
    every row it found by id in a temporary B-tree (more than half the time of reading
    100,000 runs, and a walk over every one of them for the few after a watermark)."""
    clause = model.mode.concat("") == mode
    return clause if account is None else and_(clause, model.account == account)


def _as_read(column):
    """A time column as text, for `_utc` to parse all at once rather than one datetime a
    value: on SQLite the stored text (the UTC instant's wall clock), on PostgreSQL its ISO
    form with the offset (the DateStyle psycopg reads too)."""
    return cast(column, String).label(column.key)


def _utc(values) -> pd.Series:
    """Times read by `_as_read` as UTC-aware datetimes: naive ones (SQLite's) are UTC,
    those with an offset converted to it."""
    return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601"))


def order_frame(session: Session, mode: str, account: str | None = None) -> pd.DataFrame:
    """The book's orders (ORDER_COLUMNS): their reason (origin) and status change, so they
    are read whole each time."""
    orders = _rows(
        session,
        select(
            Order.account,
            Order.symbol,
            Order.side,
            Order.origin.label("reason"),
            _as_read(Order.created_at),
            Order.status,
        ).where(_of_book(Order, mode, account)),
    ).all()
    frame = _frame(orders, ORDER_COLUMNS)
    frame["created_at"] = _utc(frame["created_at"])
    return frame


def runs_version(session: Session, mode: str, account: str | None = None) -> tuple:
    """Changes whenever a run is recorded (runs are never changed)."""
    return tuple(
        _rows(
            session,
            select(func.max(SyncRun.id), func.count()).where(_of_book(SyncRun, mode, account)),
        ).one()
    )


def runs_missed(session: Session, mode: str, last_id: int, held: int) -> bool:
    """Whether the mode's runs up to `last_id` are more than the `held` read (see `_missed`)."""
    return _missed(session, SyncRun, mode, None, last_id, held)


def snapshots_missed(
    session: Session, mode: str, account: str | None, last_id: int, held: int
) -> bool:
    """Whether the book's equity snapshots up to `last_id` are more than the `held` read."""
    return _missed(session, EquitySnapshot, mode, account, last_id, held)


def _missed(
    session: Session, model, mode: str, account: str | None, last_id: int, held: int
) -> bool:
    """Whether a row with an id up to `last_id` was committed after the `held` rows up to it
    were read: on PostgreSQL concurrent writers can commit a lower id after a higher one.
    SQLite commits one writer at a time, in id order, so never there (and its count read
    every row: 0.1 s for a million ledger entries)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    query = select(func.count()).where(_of_book(model, mode, account), model.id <= last_id)
    return _rows(session, query).scalar_one() != held


def orders_version(session: Session, mode: str, account: str | None = None) -> tuple:
    """Changes whenever an order is added or changes status."""
    return tuple(
        _rows(
            session,
            select(func.max(Order.updated_at), func.count()).where(_of_book(Order, mode, account)),
        ).one()
    )


# --- trading results --------------------------------------------------------------------


def ledger_frame(
    session: Session, mode: str, account: str | None = None, after_id: int = 0
) -> pd.DataFrame:
    """The book's ledger entries with an id above `after_id` (their `id`, then
    ENTRY_COLUMNS: fills and transfers), in the order recorded."""
    columns = ("id", *ENTRY_COLUMNS)
    rows = _rows(
        session,
        select(*_stored(LedgerEntry, columns))
        .where(_of_book(LedgerEntry, mode, account), LedgerEntry.id > after_id)
        .order_by(LedgerEntry.id),
    ).all()
    return _typed_frame(rows, columns, LedgerEntry)


def ledger_missed(
    session: Session, mode: str, account: str | None, last_id: int, held: int
) -> bool:
    """Whether the book's ledger entries up to `last_id` are more than the `held` folded."""
    return _missed(session, LedgerEntry, mode, account, last_id, held)


def outside_frame(session: Session, mode: str, account: str | None = None) -> pd.DataFrame:
    """The book's changes of holdings outside the app (OUTSIDE_COLUMNS): each transfer of the
    ledger with its signed value at the mark it was valued at (none: zero). Coins a sale
    found held from before the records are left out: they were in the account, and in its
    equity, all along."""
    rows = _rows(
        session,
        select(LedgerEntry.time, LedgerEntry.change, LedgerEntry.price)
        .where(
            _of_book(LedgerEntry, mode, account),
            LedgerEntry.kind == ledger.TRANSFER,
            LedgerEntry.origin != ledger.UNRECORDED,
        )
        .order_by(LedgerEntry.time, LedgerEntry.id),
    ).all()
    moves = [(time, change * (price or ZERO)) for time, change, price in rows]
    return _frame(moves, OUTSIDE_COLUMNS)


def equity_frame(
    session: Session, mode: str, account: str | None = None, after_id: int = 0
) -> pd.DataFrame:
    """The book's equity snapshots with an id above `after_id` (id, account, time, equity),
    oldest first."""
    rows = _rows(
        session,
        select(
            EquitySnapshot.id, EquitySnapshot.account, EquitySnapshot.time, EquitySnapshot.equity
        )
        .where(_of_book(EquitySnapshot, mode, account), EquitySnapshot.id > after_id)
        .order_by(EquitySnapshot.time, EquitySnapshot.id),
    ).all()
    return _frame(rows, EQUITY_FRAME_COLUMNS)


def ledger_version(session: Session, mode: str, account: str | None = None) -> object:
    """Changes whenever a ledger entry is recorded (entries are never changed nor deleted):
    the book's newest id, found by index (a count read a million rows every tick)."""
    return _newest_id(session, LedgerEntry, mode, account)


def equity_version(session: Session, mode: str, account: str | None = None) -> object:
    """Changes whenever an equity snapshot is recorded (never changed nor deleted either):
    apart from the ledger's, so that a snapshot (one every 30 s) leaves the round trips kept."""
    return _newest_id(session, EquitySnapshot, mode, account)


def _newest_id(session: Session, model, mode: str, account: str | None) -> object:
    """The book's newest id; on PostgreSQL with the count, since there two writers can commit
    a lower id after a higher one, which the newest id alone would never show (SQLite
    commits one writer at a time, in id order)."""
    book = _of_book(model, mode, account)
    if session.get_bind().dialect.name == "postgresql":
        return tuple(
            session.connection().execute(select(func.max(model.id), func.count()).where(book)).one()
        )
    return session.connection().scalar(select(func.max(model.id)).where(book))


def _stored(model, names: tuple[str, ...]) -> list:
    """The columns as read for `_typed_frame`: exact decimals as their stored values (text on
    SQLite) and UTC times as text (`_as_read`), typed column by column there, since the
    types' own conversion, one Python call per value, was most of reading a million entries."""
    columns = [model.__table__.c[name] for name in names]
    return [
        _as_read(column)
        if isinstance(column.type, UTCDateTime)
        else type_coerce(column, String).label(column.key)
        if isinstance(column.type, ExactDecimal)
        else column
        for column in columns
    ]


def _typed_frame(rows, columns: tuple[str, ...], model) -> pd.DataFrame:
    """Rows of `_stored` columns into a frame of the values the model's types give: Decimal
    (None stays None) and UTC times."""
    values = list(zip(*rows, strict=True)) or [()] * len(columns)
    frame = {}
    for name, column in zip(columns, values, strict=True):
        kind = model.__table__.c[name].type
        if isinstance(kind, ExactDecimal):
            frame[name] = pd.Series(
                [None if v is None else Decimal(v) for v in column], dtype=object
            )
        elif isinstance(kind, UTCDateTime):
            frame[name] = _utc(column)
        else:
            frame[name] = pd.Series(column)
    return pd.DataFrame(frame)


def _frame(rows, columns: tuple[str, ...]) -> pd.DataFrame:
    """Rows into a frame, column by column (several times faster than row by row)."""
    values = list(zip(*rows, strict=True)) or [()] * len(columns)
    return pd.DataFrame(
        {name: pd.Series(column) for name, column in zip(columns, values, strict=True)}
    )


# --- export -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Export:
    model: type
    since_column: str
    columns: tuple[str, ...]


EXPORTS = {
    "fills": _Export(
        FillRecord,
        "time",
        (
            "id",
            "time",
            "mode",
            "account",
            "symbol",
            "side",
            "qty",
            "price",
            "fee",
            "fee_asset",
            "fee_quote",
            "client_order_id",
            "trade_id",
        ),
    ),
    "ledger": _Export(
        LedgerEntry,
        "time",
        (
            "id",
            "time",
            "mode",
            "account",
            "symbol",
            "kind",
            "origin",
            "side",
            "qty",
            "change",
            "price",
            "fee",
            "fee_asset",
            "fee_quote",
            "realized",
            "client_order_id",
            "entry_key",
        ),
    ),
    "orders": _Export(
        Order,
        "created_at",
        (
            "id",
            "created_at",
            "updated_at",
            "mode",
            "account",
            "symbol",
            "side",
            "order_type",
            "price",
            "amount",
            "filled",
            "average",
            "status",
            "origin",
            "reason",
            "client_order_id",
            "exchange_order_id",
            "sync_run_id",
        ),
    ),
    "syncs": _Export(
        SyncRun,
        "started_at",
        (
            "id",
            "started_at",
            "finished_at",
            "mode",
            "account",
            "kind",
            "symbol",
            "policy",
            "target",
            "before_state",
            "after_state",
            "ok",
            "message",
            "api_calls",
            "duration_ms",
            "details",
        ),
    ),
    "alerts": _Export(
        Alert,
        "created_at",
        (
            "id",
            "created_at",
            "incident",
            "kind",
            "mode",
            "account",
            "symbol",
            "state",
            "title",
            "body",
            "delivery",
            "delivery_detail",
            "delivered_at",
        ),
    ),
}


def _or_none(model, clause, column):
    """`clause`, and for alerts also rows whose `column` is empty: an alert of no book or
    account (a test message, one stored before alerts named their book) is every one's."""
    return or_(clause, column.is_(None)) if model is Alert else clause


def export_columns(table: str) -> tuple[str, ...]:
    return EXPORTS[table].columns


def export_rows(
    session: Session,
    table: str,
    since: datetime | None = None,
    account: str | None = None,
    mode: str | None = None,
) -> Iterator[tuple]:
    """The table's rows oldest first, in `export_columns` order, fetched in batches; those
    from `since` on, of `account` and of the book `mode` when given (an alert of no book or
    account, such as a test message, belongs to every one)."""
    export = EXPORTS[table]
    model = export.model
    query = select(*(getattr(model, column) for column in export.columns))
    if mode is not None:
        query = query.where(_or_none(model, model.mode == mode, model.mode))
    if since is not None:
        query = query.where(getattr(model, export.since_column) >= since)
    if account is not None:
        query = query.where(_or_none(model, model.account == account, model.account))
    query = query.order_by(getattr(model, export.since_column), model.id)
    yield from _rows(session, query.execution_options(yield_per=EXPORT_BATCH))
