"""Sync health folded as the runs arrive, so a report reads what is folded plus the runs
recorded since (the watermark: the last run id folded), never the whole history again.

What is folded, and why this shape rather than counts per day: the page shows nearest-rank
percentiles of durations (overall, per kind, account and symbol) over any window (1h to all)
and the distribution of those durations; counts per day cannot give an exact percentile of
an arbitrary window, and a duration histogram per day and key is hardly smaller than the
runs. The runs themselves are cheap once their findings are not decoded (nine numbers each,
kept as columns: `runs`). The cost was the findings: a check observes every symbol it
watches, so 100,000 runs hold about 2,000,000 observations, decoded from JSON and walked on
every load. Those fold into drift events (about one per hundred observations): the closed
ones are records that never change (`events`), the open ones and each pair's latest
observation are the carried state the next fold starts from (`open`, `last`).

Runs are append-only; one whose observation of a symbol is older than the fold's latest of
it (runs recorded out of order by concurrent writers) makes `fold` answer None: only a fold
from the first run gives the events the full computation gives then. A report asked for a
`now` before the latest folded record (a clock that went back) is left to the full
computation as well (`report` answers None), since that one ignores records after `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from core.insights.health import (
    HealthReport,
    Pairs,
    drift_events,
    ns_of,
    prepared_observations,
    prepared_runs,
    records_of,
    report_of,
)

EVENT_COLUMNS = ("account", "symbol", "start", "end")
RUN_TYPES = {
    "run_id": np.int64,
    "account": object,
    "kind": object,
    "symbol": object,
    "ok": bool,
    "started_at": np.int64,
    "finished_at": np.int64,
    "duration_ms": np.int64,
    "api_calls": np.int64,
}
Pair = tuple[str, str]


def _no_runs() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=kind) for name, kind in RUN_TYPES.items()})


def _no_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": pd.Series([], dtype=object),
            "symbol": pd.Series([], dtype=object),
            "start": pd.Series([], dtype=np.int64),
            "end": pd.Series([], dtype=np.int64),
        }
    )


@dataclass(frozen=True)
class HealthFold:
    """Every run up to `last_run_id`: the runs (prepared_runs: times in UTC nanoseconds, in
    id order), the drift events closed (EVENT_COLUMNS), the start of each pair's open drift,
    each pair's latest observation (time, in sync), and the latest time any record holds."""

    last_run_id: int = 0
    runs: pd.DataFrame = field(default_factory=_no_runs)
    events: pd.DataFrame = field(default_factory=_no_events)
    open: dict[Pair, int] = field(default_factory=dict)
    last: dict[Pair, tuple[int, bool]] = field(default_factory=dict)
    latest_ns: int = 0


def fold(current: HealthFold, runs: pd.DataFrame, observations: pd.DataFrame) -> HealthFold | None:
    """`current` with `runs` (those after its watermark, in id order, as
    core.store.analytics.run_frames reads them) and their observations folded in; None when
    one of them observed a symbol earlier than the fold's latest observation of it."""
    if not len(runs):
        return current
    new_runs = prepared_runs(runs)
    seen = prepared_observations(observations)
    if _out_of_order(current, seen):
        return None
    carried = _carried(current)
    walked = _walked(carried, seen)
    pairs = Pairs(walked)
    order = pairs.in_order(walked["time"].to_numpy(dtype=np.int64))
    events = drift_events(walked, pairs, now_ns=0, order=order)
    closed = events[events["repaired"].to_numpy(dtype=bool)]
    still_open = events[~events["repaired"].to_numpy(dtype=bool)]
    latest = [
        current.latest_ns,
        *(int(new_runs[c].max()) for c in ("started_at", "finished_at")),
        int(seen["time"].max()) if len(seen) else 0,
    ]
    return HealthFold(
        last_run_id=int(runs["run_id"].max()),
        runs=pd.concat([current.runs, new_runs.astype(RUN_TYPES)], ignore_index=True),
        events=pd.concat([current.events, closed[list(EVENT_COLUMNS)]], ignore_index=True).astype(
            {"start": np.int64, "end": np.int64}
        ),
        open={
            (a, s): int(t)
            for a, s, t in zip(
                still_open["account"], still_open["symbol"], still_open["start"], strict=True
            )
        },
        last={**current.last, **_latest(walked, pairs, order, len(carried))},
        latest_ns=max(latest),
    )


def report(
    current: HealthFold,
    orders: pd.DataFrame,
    now: datetime,
    since: datetime | None = None,
    account: str | None = None,
) -> HealthReport | None:
    """What core.insights.health.compute_health answers for the same records (of `account`,
    or of every account), from the fold; None when a folded record is later than `now`."""
    now_ns = ns_of(now)
    if current.latest_ns > now_ns:
        return None
    runs, closed = current.runs, current.events
    opened = [(a, s, t) for (a, s), t in current.open.items()]
    observed = frozenset(current.last)
    if account is not None:
        runs = runs[runs["account"] == account]
        closed = closed[closed["account"] == account]
        opened = [item for item in opened if item[0] == account]
        observed = frozenset(pair for pair in observed if pair[0] == account)
    open_starts = np.array([t for *_, t in opened], dtype=np.int64)
    events = pd.DataFrame(
        {
            "account": pd.Series([*closed["account"], *(a for a, _, _ in opened)], dtype=object),
            "symbol": pd.Series([*closed["symbol"], *(s for _, s, _ in opened)], dtype=object),
            "start": np.concatenate([closed["start"].to_numpy(np.int64), open_starts]),
            "end": np.concatenate(
                [closed["end"].to_numpy(np.int64), np.full(len(opened), now_ns, np.int64)]
            ),
            "repaired": np.concatenate(
                [np.ones(len(closed), dtype=bool), np.zeros(len(opened), dtype=bool)]
            ),
        }
    )
    events["duration"] = events["end"] - events["start"]
    records = records_of(runs.reset_index(drop=True), orders, observed, events, now, since)
    return report_of(records, now, since)


def _out_of_order(current: HealthFold, seen: pd.DataFrame) -> bool:
    """Whether an observation is older than the fold's latest of its pair."""
    if not current.last or not len(seen):
        return False
    latest = pd.Series({pair: t for pair, (t, _) in current.last.items()}, dtype=np.int64)
    keys = pd.MultiIndex.from_arrays(
        [np.asarray(seen["account"], dtype=object), np.asarray(seen["symbol"], dtype=object)]
    )
    before = latest.reindex(keys).to_numpy(dtype=float)
    return bool((seen["time"].to_numpy(dtype=float) < before).any())


def _carried(current: HealthFold) -> pd.DataFrame:
    """The fold's state as observations the new ones follow: a pair drifting since `start`
    as a drifting observation then, any other as its latest (in sync) observation."""
    rows = [
        (a, s, current.open[(a, s)], False) if (a, s) in current.open else (a, s, t, in_sync)
        for (a, s), (t, in_sync) in current.last.items()
    ]
    return pd.DataFrame(
        {
            "time": np.array([r[2] for r in rows], dtype=np.int64),
            "account": pd.Series([r[0] for r in rows], dtype=object),
            "symbol": pd.Series([r[1] for r in rows], dtype=object),
            "in_sync": np.array([r[3] for r in rows], dtype=bool),
        }
    )


def _walked(carried: pd.DataFrame, seen: pd.DataFrame) -> pd.DataFrame:
    """The carried observations (`_carried`), then the new ones, with the account and the
    symbol as categoricals that keep the new ones' codes where they come coded (as
    core.store.analytics.run_frames reads them): coding two million names again was half
    the fold."""
    columns = {
        name: np.concatenate([carried[name].to_numpy(kind), seen[name].to_numpy(kind)])
        for name, kind in (("time", np.int64), ("in_sync", bool))
    }
    for name in ("account", "symbol"):
        new = pd.Categorical(seen[name])
        old = pd.Index(carried[name], dtype=object)
        names = new.categories.astype(object).append(old.difference(new.categories))
        codes = np.concatenate([names.get_indexer(old), new.codes])
        columns[name] = pd.Categorical.from_codes(codes, categories=names)
    return pd.DataFrame(columns, columns=list(carried.columns))


def _latest(
    walked: pd.DataFrame, pairs: Pairs, order: np.ndarray, first: int
) -> dict[Pair, tuple[int, bool]]:
    """Each pair's latest observation among the rows of `walked` from `first` on (the new
    ones): the last in time, the last recorded among equals. `order` is the rows'
    `pairs.in_order`: a pair's last row there is one of the new rows whenever it has any,
    since no new row is older than what was carried of its pair (`_out_of_order`) and a
    new row follows a carried one of the same time."""
    if len(order) == first:
        return {}
    codes = pairs.codes[order]
    lasts = order[np.flatnonzero(np.append(codes[1:] != codes[:-1], True))]
    lasts = lasts[lasts >= first]
    times = walked["time"].to_numpy(dtype=np.int64)
    in_sync = walked["in_sync"].to_numpy(dtype=bool)
    return {pairs.of(pairs.codes[i]): (int(times[i]), bool(in_sync[i])) for i in lasts}
