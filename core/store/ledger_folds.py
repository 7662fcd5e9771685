"""The trading results fold of each book (core.insights.ledger_fold), kept in the database
so that every process (each gunicorn worker, the command line) starts from the same fold
rather than from the first ledger entry: at a million entries, reading and folding them
all took 18 s.

The closed trips, the running sums and the day totals are stored in slices
(core.store.fold_parts), money as its exact digits; the carried state (each market's dust,
each pair's tail) as JSON, money as text. A book is a mode and one account, or '' for all
of them. Functions take the caller's session and never commit.
"""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
from sqlalchemy.orm import Session

from core.insights.closed_trips import ClosedTrips
from core.insights.ledger_fold import LedgerFold
from core.insights.results import (
    DAY_DECIMALS,
    NO_BOOKINGS,
    TRIP_DTYPES,
    Booked,
    Tail,
    as_digits,
    decimals_of,
    summaries,
)
from core.store import fold_parts
from core.store.db import serialize
from core.store.models import LedgerFoldPart, LedgerFoldState


def load(session: Session, mode: str, account: str | None) -> LedgerFold:
    """The book's stored fold (an empty one before the first)."""
    key = fold_parts.book_key(mode, account)
    state = session.get(LedgerFoldState, (mode, key["account"]))
    if state is None:
        return LedgerFold()
    series = {
        name: _joined(fold_parts.load(session, LedgerFoldPart, key, name))
        for name in ("trips", "booked", "days")
    }
    trips = ClosedTrips(series["trips"]) if series["trips"] else ClosedTrips()
    days = series["days"] or LedgerFold().days
    days = {name: decimals_of(v) if name in DAY_DECIMALS else v for name, v in days.items()}
    booked = series["booked"]
    carried = json.loads(state.state)
    overall, by_symbol = summaries(days, trips.__getitem__)
    return LedgerFold(
        last_id=state.last_id,
        entries=state.entries,
        dust={symbol: Decimal(value) for symbol, value in carried["dust"].items()},
        tails={(a, s): _tail_of(tail) for a, s, tail in carried["tails"]},
        trips=trips,
        days=days,
        booked=Booked(
            booked["times"],
            np.concatenate([NO_BOOKINGS.realized, booked["realized"]]),
            np.concatenate([NO_BOOKINGS.fees, booked["fees"]]),
        )
        if booked
        else NO_BOOKINGS,
        overall=overall,
        by_symbol=by_symbol,
    )


def save(
    session: Session,
    mode: str,
    account: str | None,
    before: LedgerFold,
    after: LedgerFold,
    refolded: bool = False,
) -> bool:
    """Store `after`, folded from `before` (the stored fold it started from; `refolded`:
    from the first entry instead, every slice rewritten); False, and nothing written, when
    the stored fold is no longer `before` (another process stored one since)."""
    key = fold_parts.book_key(mode, account)
    serialize(session, f"ledger_fold:{mode}:{key['account']}")
    state = session.get(LedgerFoldState, (mode, key["account"]))
    if (state.last_id if state else 0) != before.last_id:
        return False
    trips, booked = after.trips.columns, after.booked
    kept = {
        "trips": fold_parts.first_change(before.trips.columns["closed_at"], trips["closed_at"]),
        "booked": fold_parts.first_change(before.booked.times, booked.times),
        "days": 0,  # a few thousand rows, in (market, day) order: written whole
    }
    series = {
        "trips": trips,
        "booked": {"times": booked.times, "realized": booked.realized[1:], "fees": booked.fees[1:]},
        "days": {
            name: as_digits(v) if name in DAY_DECIMALS else v for name, v in after.days.items()
        },
    }
    for name, columns in series.items():
        fold_parts.save(session, LedgerFoldPart, key, name, columns, 0 if refolded else kept[name])
    carried = json.dumps(
        {
            "dust": {symbol: str(value) for symbol, value in after.dust.items()},
            "tails": [[a, s, _tail_json(tail)] for (a, s), tail in after.tails.items()],
        }
    )
    if state is None:
        state = LedgerFoldState(mode=mode, account=key["account"])
        session.add(state)
    state.last_id, state.entries, state.state = after.last_id, after.entries, carried
    return True


def _joined(parts: list[dict]) -> dict[str, np.ndarray]:
    if not parts:
        return {}
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _tail_json(tail: Tail) -> list:
    trip = tail.open and {name: _plain(value) for name, value in tail.open.items()}
    return [tail.time, str(tail.held), tail.above, trip]


def _tail_of(stored: list) -> Tail:
    time, held, above, trip = stored
    if trip is not None:  # money as Decimal, as the fold carried it
        trip = {name: Decimal(value) if _is_money(name) else value for name, value in trip.items()}
    return Tail(time, Decimal(held), above, trip)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    return value.item() if isinstance(value, np.generic) else value


def _is_money(name: str) -> bool:
    return TRIP_DTYPES.get(name) is object and name not in ("account", "symbol")
