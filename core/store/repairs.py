"""The monitor's repairs of one book, written in bulk: a plan of 10,000 actions is a few
statements (the book's positions read once, the reads already applied found in one query,
then one INSERT and one UPDATE of positions and one INSERT of ledger
entries), not three queries and a flush per action. Each action writes what it always did:
the position's new figures and, when the holding moved, one ledger transfer keyed by the
read that found it. The caller's session holds the transaction; nothing here commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from core.domain import ZERO, ActionKind, ExternalChange, PositionState, SyncAction
from core.pnl import PositionBook, apply_transfer
from core.store import ledger
from core.store.books import BookKey, chunked, in_book
from core.store.models import EMPTY_POSITION, LedgerEntry, Position

# the columns of a position a repair reads (as a dict: id None is a row to create) ...
_READ = ("id", "symbol", "realized", "fees")
# ... and writes
_WRITTEN = (
    "state",
    "qty",
    "cost_basis",
    "last_price",
    "price_time",
    "is_open",
    "leverage",
    "liquidation_price",
    "entry_source",
)


def apply_actions(
    session: Session,
    book: BookKey,
    actions: Iterable[SyncAction],
    now: datetime,
    seen_at: datetime | None = None,
    marks: dict[str, Decimal] | None = None,
) -> list[ExternalChange]:
    """Write each planned change, and the change of the holding it makes as a ledger
    transfer found by the read at `seen_at` (default `now`): the holding changed outside the
    app. The same read applied twice changes nothing the second time. Coins that came in are
    valued at the mark, and so is a position the app did not hold (or that flipped side),
    unless the exchange reports its entry price; coins that left take their share of the
    average entry with them (core.pnl.apply_transfer). `marks` value a close, whose action
    carries no price. A read older than the holding's latest entry says nothing about it
    now: its change is left to the next read. Returns the changes, in the plan's order."""
    actions = list(actions)
    if not actions:
        return []
    seen_at, marks = seen_at or now, marks or {}
    session.flush()
    symbols = sorted({a.symbol for a in actions})
    rows = _positions(session, book, symbols)
    done = _applied_or_older(session, book, seen_at)
    written: dict[str, dict] = {}
    entries, changes = [], []
    for action in actions:
        if action.kind is not ActionKind.REPRICE and action.symbol in done:
            continue
        row = dict(written.get(action.symbol) or rows.get(action.symbol) or _empty(action.symbol))
        entry, change = _repaired(book, row, action, now, seen_at, marks.get(action.symbol))
        written[action.symbol] = row
        if entry is not None:
            entries.append(entry)
            changes.append(change)
    _write(session, book, rows, written)
    if entries:
        session.execute(insert(LedgerEntry.__table__), entries)
    session.expire_all()  # the rows changed under any object the session had loaded
    return changes


def _repaired(
    book: BookKey,
    row: dict,
    action: SyncAction,
    now: datetime,
    seen_at: datetime,
    mark: Decimal | None,
) -> tuple[dict | None, ExternalChange | None]:
    """Change `row` by one action; the ledger entry and change it makes (None: none)."""
    if action.price is not None:
        row["last_price"], row["price_time"] = action.price, now
    if action.leverage is not None:
        row["leverage"], row["liquidation_price"] = action.leverage, action.liquidation_price
    if action.kind is ActionKind.REPRICE:
        return None, None
    before = row["qty"]
    after = ZERO if action.kind is ActionKind.CLOSE else action.after_qty or ZERO
    mark = action.price if action.price is not None else mark
    opening = not row["is_open"] or before * after <= 0
    price = (action.entry_price or mark) if opening else mark
    figures = apply_transfer(
        PositionBook(before, row["cost_basis"], row["realized"], row["fees"]), after - before, price
    )
    row["qty"], row["cost_basis"] = figures.qty, figures.cost_basis
    if opening and after != 0:
        row["entry_source"] = "exchange" if action.entry_price else "mark"
    if after == 0:
        row["leverage"] = row["liquidation_price"] = None
    row["is_open"], row["state"] = after != 0, PositionState.of_signed(after).value
    if after == before:
        return None, None
    entry = ledger.transfer_row(book, action.symbol, after - before, price, seen_at)
    return entry, ExternalChange(book.account, action.symbol, before, after, mark, seen_at)


def _positions(session: Session, book: BookKey, symbols: list[str]) -> dict[str, dict]:
    names = (*_READ, *_WRITTEN)
    columns = [getattr(Position, name) for name in names]
    found = {}
    for chunk in chunked(symbols):
        query = select(*columns).where(in_book(Position, book), Position.symbol.in_(chunk))
        for values in session.execute(query):
            row = dict(zip(names, values, strict=True))
            found[row["symbol"]] = row
    return found


def _applied_or_older(session: Session, book: BookKey, seen_at: datetime) -> set[str]:
    """The symbols the read at `seen_at` was applied to already, or whose holding changed
    after it: one range of the book's time index (the entries since the read are few)."""
    query = select(LedgerEntry.symbol, LedgerEntry.entry_key, LedgerEntry.time).where(
        in_book(LedgerEntry, book), LedgerEntry.time >= seen_at
    )
    return {
        symbol
        for symbol, key, time in session.execute(query)
        if time > seen_at or key == ledger.transfer_key(symbol, seen_at)
    }


def _write(
    session: Session, book: BookKey, before: dict[str, dict], after: dict[str, dict]
) -> None:
    """One INSERT of the new rows and one UPDATE of the changed ones (Core statements:
    the ORM's unit of work would track every row for nothing)."""
    table = Position.__table__
    created = [
        {"mode": book.mode, "account": book.account, **{k: v for k, v in row.items() if k != "id"}}
        for row in after.values()
        if row["id"] is None
    ]
    changed = [
        {"row_id": row["id"], **{name: row[name] for name in _WRITTEN}}
        for symbol, row in after.items()
        if row["id"] is not None and row != before[symbol]
    ]
    if created:
        session.execute(insert(table), created)
    if changed:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(name) for name in _WRITTEN}),
            changed,
        )


def _empty(symbol: str) -> dict:
    """A symbol's position before its first record (core.store.repository.position_row)."""
    return {
        "id": None,
        "symbol": symbol,
        **EMPTY_POSITION,
        "last_price": None,
        "price_time": None,
        "leverage": None,
        "liquidation_price": None,
        "entry_source": "fills",
    }
