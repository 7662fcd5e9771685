"""The sync health fold of each mode (core.insights.health_fold), kept in the database so
every process (each gunicorn worker, the command line) starts from the same fold rather
than from the first run.

A series (the runs' figures, the closed drift events) is stored in slices
(core.store.fold_parts): a fold that adds runs rewrites only its last slice and any new
ones. Functions take the caller's session and never commit.
"""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy.orm import Session

from core.insights.health_fold import HealthFold
from core.store import fold_parts
from core.store.db import serialize
from core.store.models import HealthFoldPart, HealthFoldState, utcnow

SERIES = ("runs", "events")


def load(session: Session, mode: str) -> HealthFold:
    """The mode's stored fold (an empty one before the first)."""
    state = session.get(HealthFoldState, mode)
    if state is None:
        return HealthFold()
    empty = HealthFold()
    frames = {}
    for series in SERIES:
        template = getattr(empty, series)
        parts = fold_parts.load(session, HealthFoldPart, {"mode": mode}, series)
        frames[series] = pd.concat(
            [template, *(pd.DataFrame(part)[template.columns] for part in parts)],
            ignore_index=True,
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
        kept = 0 if refolded or len(new) < len(old) else len(old)  # runs are only added
        columns = {name: new[name].to_numpy() for name in new.columns}
        fold_parts.save(session, HealthFoldPart, {"mode": mode}, series, columns, kept)
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
