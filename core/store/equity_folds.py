"""The equity curve fold of each book (core.insights.equity_fold), kept in the database so
that every process (each gunicorn worker, the command line) starts from the same fold rather
than from the first snapshot: half a year of one every 30 s took 2.5-7.5 s to read.

The curve (times, and equity as its exact digits) is stored in slices
(core.store.fold_parts); the carried state (each account's latest equity, the drawdown's
running figures) as JSON, money as text. A book is a mode and one account, or '' for all of
them. Functions take the caller's session and never commit.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import numpy as np
from sqlalchemy.orm import Session

from core.insights.equity_fold import EquityFold, Fall
from core.store import fold_parts
from core.store.db import serialize
from core.store.models import EquityFoldPart, EquityFoldState

_MONEY = ("peak", "deepest", "trough_value", "trough_peak_value", "last")


def load(session: Session, mode: str, account: str | None) -> EquityFold:
    """The book's stored fold (an empty one before the first)."""
    key = fold_parts.book_key(mode, account)
    state, empty = session.get(EquityFoldState, (mode, key["account"])), EquityFold()
    if state is None:
        return empty
    parts = fold_parts.load(session, EquityFoldPart, key, "curve")
    carried = json.loads(state.state)
    fall = carried["fall"]
    return EquityFold(
        last_id=state.last_id,
        snapshots=state.snapshots,
        latest={name: Decimal(value) for name, value in carried["latest"].items()},
        times=np.concatenate([empty.times, *(part["times"] for part in parts)]),
        equity=np.concatenate([empty.equity, *(part["equity"] for part in parts)]),
        moves=carried["moves"],
        fall=Fall(**{k: Decimal(v) if k in _MONEY else v for k, v in fall.items()})
        if fall
        else None,
    )


def save(
    session: Session,
    mode: str,
    account: str | None,
    before: EquityFold,
    after: EquityFold,
    refolded: bool = False,
) -> bool:
    """Store `after`, folded from `before` (the stored fold it started from; `refolded`:
    from the first snapshot instead, every slice rewritten); False, and nothing written,
    when the stored fold is no longer `before` (another process stored one since)."""
    key = fold_parts.book_key(mode, account)
    serialize(session, f"equity_fold:{mode}:{key['account']}")
    state = session.get(EquityFoldState, (mode, key["account"]))
    if (state.last_id if state else 0) != before.last_id:
        return False
    kept = 0 if refolded else fold_parts.first_change(before.times, after.times)
    curve = {"times": after.times, "equity": after.equity}
    fold_parts.save(session, EquityFoldPart, key, "curve", curve, kept)
    fall = after.fall and {
        k: str(v) if k in _MONEY else v for k, v in dataclasses.asdict(after.fall).items()
    }
    carried = {
        "latest": {name: str(value) for name, value in after.latest.items()},
        "moves": after.moves,
        "fall": fall,
    }
    if state is None:
        state = EquityFoldState(mode=mode, account=key["account"])
        session.add(state)
    state.last_id, state.snapshots, state.state = (
        after.last_id,
        after.snapshots,
        json.dumps(carried),
    )
    return True
