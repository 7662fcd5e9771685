"""The sync health fold of each mode (core.insights.health_fold), kept in the database so
every process (each gunicorn worker, the command line) starts from the same fold rather
than from the first run.

A series (the runs' figures, the closed drift events) is stored in slices of `PART` rows,
each an .npz of its columns (text columns as codes and their names; no pickle): a fold that
adds runs rewrites only its last slice and any new ones. Functions take the caller's
session and never commit.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.insights.health_fold import HealthFold
from core.store.db import serialize
from core.store.models import HealthFoldPart, HealthFoldState, utcnow

PART = 16_384
SERIES = ("runs", "events")


def load(session: Session, mode: str) -> HealthFold:
    """The mode's stored fold (an empty one before the first)."""
    state = session.get(HealthFoldState, mode)
    if state is None:
        return HealthFold()
    empty = HealthFold()
    frames = {}
    for series in SERIES:
        parts = session.scalars(
            select(HealthFoldPart.data)
            .where(HealthFoldPart.mode == mode, HealthFoldPart.series == series)
            .order_by(HealthFoldPart.part)
        ).all()
        template = getattr(empty, series)
        frames[series] = pd.concat(
            [template, *(_decoded(data, template) for data in parts)], ignore_index=True
        ).astype(template.dtypes.to_dict())
    carried = json.loads(state.state)
    return HealthFold(
        last_run_id=state.last_run_id,
        runs=frames["runs"],
        events=frames["events"],
        open={(a, s): t for a, s, t in carried["open"]},
        last={(a, s): (t, in_sync) for a, s, t, in_sync in carried["last"]},
        latest_ns=carried["latest_ns"],
    )


def save(
    session: Session, mode: str, before: HealthFold, after: HealthFold, refolded: bool = False
) -> bool:
    """Store `after`, folded from `before` (the stored fold it started from; `refolded`:
    from the first run instead, every slice rewritten); False, and nothing written, when the
    stored fold is no longer `before` (another process stored one since)."""
    serialize(session, f"health_fold:{mode}")
    state = session.get(HealthFoldState, mode)
    if (state.last_run_id if state else 0) != before.last_run_id:
        return False
    for series in SERIES:
        old, new = getattr(before, series), getattr(after, series)
        unchanged = 0 if refolded or len(new) < len(old) else len(old) // PART
        for part in range(unchanged, -(-len(new) // PART)):
            rows = new.iloc[part * PART : (part + 1) * PART]
            session.merge(
                HealthFoldPart(
                    mode=mode, series=series, part=part, rows=len(rows), data=_encoded(rows)
                )
            )
        session.execute(
            delete(HealthFoldPart).where(
                HealthFoldPart.mode == mode,
                HealthFoldPart.series == series,
                HealthFoldPart.part >= -(-len(new) // PART),
            )
        )
    carried = json.dumps(
        {
            "open": [[a, s, t] for (a, s), t in after.open.items()],
            "last": [[a, s, t, in_sync] for (a, s), (t, in_sync) in after.last.items()],
            "latest_ns": after.latest_ns,
        }
    )
    if state is None:
        session.add(
            HealthFoldState(
                mode=mode, last_run_id=after.last_run_id, state=carried, updated_at=utcnow()
            )
        )
    else:
        state.last_run_id, state.state = after.last_run_id, carried
    return True


def _encoded(frame: pd.DataFrame) -> bytes:
    arrays = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object:
            codes, names = pd.factorize(column)  # None: code -1
            arrays[name] = codes.astype(np.int32)
            arrays[f"{name}.names"] = np.array(list(names), dtype=str)
        else:
            arrays[name] = column.to_numpy()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _decoded(data: bytes, template: pd.DataFrame) -> pd.DataFrame:
    with np.load(io.BytesIO(data), allow_pickle=False) as stored:
        columns = {}
        for name in template.columns:
            if f"{name}.names" in stored.files:
                names = np.append(stored[f"{name}.names"].astype(object), None)
                columns[name] = names[stored[name]]  # code -1: the None at the end
            else:
                columns[name] = stored[name]
    return pd.DataFrame(columns)
