"""Sync health over a window: how often syncs succeed, how much drift the accounts had and
how fast it was repaired, how long syncs take and how many exchange calls they cost.

Pure: DataFrames in (the store loads each with one query), frozen dataclasses out. Every
record after `now` is ignored, so a report is what was known at `now`. Run and order figures
count what started in the window [since, now]; a drift event counts when it was open at any
moment of the window, because drift that began before the window and lasted into it is drift
the trader had. Two figures are states rather than activity and ignore the window: the last
good sync of each account and its unresolved orders.

Percentiles use the nearest-rank method (always an observed duration); a median of an even
count is the mean of the two middle values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

RUN_COLUMNS = (
    "run_id",
    "account",
    "kind",
    "symbol",
    "ok",
    "started_at",
    "finished_at",
    "duration_ms",
    "api_calls",
)
OBSERVATION_COLUMNS = ("run_id", "time", "account", "symbol", "in_sync")
ORDER_COLUMNS = ("account", "symbol", "side", "reason", "created_at", "status")

SYNC_KINDS = frozenset({"trade", "check", "monitor"})
UNRESOLVED_STATUSES = frozenset({"intent", "unknown"})
MANUAL_REASON = "manual"

_BUCKETS = (
    (timedelta(hours=1), timedelta(minutes=5)),
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_US = 1000


@dataclass(frozen=True)
class RunStats:
    """Outcome, duration and exchange cost of a set of sync runs."""

    runs: int
    ok: int
    failed: int
    success_pct: Decimal | None
    duration_p50_ms: int | None
    duration_p95_ms: int | None
    api_calls_mean: Decimal | None
    api_calls_max: int | None


@dataclass(frozen=True)
class CorrectiveOrders:
    """Orders the app sent without a manual trade asking for them."""

    total: int
    by_reason: Mapping[str, int]


@dataclass(frozen=True)
class DriftStats:
    events: int
    open: int
    repaired: int
    repair_median: timedelta | None
    repair_max: timedelta | None
    open_age_max: timedelta | None


@dataclass(frozen=True)
class OpenDrift:
    """A drift event not repaired by `now`: the account still does not hold the target."""

    account: str
    symbol: str
    started_at: datetime
    age: timedelta


@dataclass(frozen=True)
class SymbolHealth:
    account: str
    symbol: str
    runs: RunStats
    corrective: CorrectiveOrders
    drift: DriftStats


@dataclass(frozen=True)
class AccountHealth:
    account: str
    runs: RunStats
    corrective: CorrectiveOrders
    drift: DriftStats
    last_good_sync_at: datetime | None
    since_last_good_sync: timedelta | None
    unresolved_orders: int


@dataclass(frozen=True)
class HealthBucket:
    """One bar of the charts: runs started and drift events begun in [start, start + bucket)."""

    start: datetime
    runs: int
    ok: int
    success_pct: Decimal | None
    drift_events: int


@dataclass(frozen=True)
class HealthReport:
    now: datetime
    since: datetime | None
    bucket: timedelta
    runs: RunStats
    by_kind: Mapping[str, RunStats]
    corrective: CorrectiveOrders
    drift: DriftStats
    open_drift: tuple[OpenDrift, ...]
    unresolved_orders: int
    accounts: tuple[AccountHealth, ...]
    symbols: tuple[SymbolHealth, ...]
    series: tuple[HealthBucket, ...]
    durations_ms: tuple[int, ...]


NO_RUNS = RunStats(0, 0, 0, None, None, None, None, None)
NO_ORDERS = CorrectiveOrders(0, {})
NO_DRIFT = DriftStats(0, 0, 0, None, None, None)


def bucket_for(window: timedelta | None) -> timedelta:
    """The chart bucket that gives a window a readable number of bars."""
    if window is not None:
        for longest, bucket in _BUCKETS:
            if window <= longest:
                return bucket
    return timedelta(days=1)


def compute_health(
    runs: pd.DataFrame,
    observations: pd.DataFrame,
    orders: pd.DataFrame,
    now: datetime,
    since: datetime | None = None,
) -> HealthReport:
    """Every health figure for the window [since, now] (`since=None`: all records)."""
    return report_of(_records(runs, observations, orders, now, since), now, since)


def report_of(records: Records, now: datetime, since: datetime | None) -> HealthReport:
    """The report of records prepared by `compute_health` or by a fold
    (core.insights.health_fold), which give the same records for the same history."""
    window = records.runs
    bucket = bucket_for(None if since is None else now - since)
    return HealthReport(
        now=now,
        since=since,
        bucket=bucket,
        runs=_run_stats(*_run_columns(window)),
        by_kind=_runs_by(window, "kind"),
        corrective=_corrective(_reasons(records.corrective)),
        drift=_drift_stats(*_drift_columns(records.events)),
        open_drift=_open_drift(records.events, records.now_ns),
        unresolved_orders=int(_unresolved(records.orders).sum()),
        accounts=_accounts(records),
        symbols=_symbols(records),
        series=_series(records, bucket),
        durations_ms=tuple(window["duration_ms"].astype("int64").tolist()),
    )


@dataclass(frozen=True)
class Records:
    """The inputs prepared once: everything up to `now`, and the part in the window."""

    all_runs: pd.DataFrame
    runs: pd.DataFrame
    orders: pd.DataFrame
    corrective: pd.DataFrame
    observed_pairs: frozenset[tuple[str, str]]
    events: pd.DataFrame
    now_ns: int
    since_ns: int | None


def _records(
    runs: pd.DataFrame,
    observations: pd.DataFrame,
    orders: pd.DataFrame,
    now: datetime,
    since: datetime | None,
) -> Records:
    now_ns = ns_of(now)
    all_runs = _until(prepared_runs(runs), "started_at", now_ns)
    observed = _until(prepared_observations(observations), "time", now_ns)
    pairs = Pairs(observed)
    events = drift_events(observed, pairs, now_ns)
    return records_of(all_runs, orders, pairs.known(), events, now, since)


def records_of(
    all_runs: pd.DataFrame,
    orders: pd.DataFrame,
    observed_pairs: frozenset[tuple[str, str]],
    events: pd.DataFrame,
    now: datetime,
    since: datetime | None,
) -> Records:
    """The records of the window [since, now]: `all_runs` prepared (prepared_runs) and
    none after `now`; `events` the drift events of every observation up to `now`."""
    now_ns = ns_of(now)
    since_ns = None if since is None else ns_of(since)
    all_orders = _until(_prepared(orders, ORDER_COLUMNS, ("created_at",)), "created_at", now_ns)
    in_window = _since(all_orders, "created_at", since_ns)
    return Records(
        all_runs=all_runs,
        runs=_since(all_runs, "started_at", since_ns),
        orders=all_orders,
        corrective=in_window[in_window["reason"] != MANUAL_REASON],
        observed_pairs=observed_pairs,
        events=events if since_ns is None else events[events["end"] >= since_ns],
        now_ns=now_ns,
        since_ns=since_ns,
    )


def prepared_runs(runs: pd.DataFrame) -> pd.DataFrame:
    return _prepared(runs, RUN_COLUMNS, ("started_at", "finished_at"))


def prepared_observations(observations: pd.DataFrame) -> pd.DataFrame:
    return _prepared(observations, OBSERVATION_COLUMNS, ("time",))


# --- inputs -----------------------------------------------------------------------------


def _prepared(
    frame: pd.DataFrame, columns: tuple[str, ...], times: tuple[str, ...]
) -> pd.DataFrame:
    """The frame with every expected column (an empty frame may come without them) and its
    times as UTC nanoseconds, so windows and buckets are integer arithmetic."""
    frame = frame.reindex(columns=list(columns))
    for column in times:
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.as_unit("ns").array.asi8
    return frame


def ns_of(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * _NS_PER_US


def _datetime(ns: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(ns) // _NS_PER_US)


def _timedelta(ns: int) -> timedelta:
    return timedelta(microseconds=int(ns) // _NS_PER_US)


def _until(frame: pd.DataFrame, column: str, now_ns: int) -> pd.DataFrame:
    return frame[frame[column] <= now_ns]


def _since(frame: pd.DataFrame, column: str, since_ns: int | None) -> pd.DataFrame:
    return frame if since_ns is None else frame[frame[column] >= since_ns]


def _groups(frame: pd.DataFrame, keys: str | list[str]) -> list[tuple[object, np.ndarray]]:
    """(key, row positions) of each group, in key order; rows with a missing key in none."""
    return sorted(frame.groupby(keys).indices.items())


# --- runs -------------------------------------------------------------------------------


def _run_columns(runs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        runs["ok"].to_numpy(dtype=bool),
        runs["duration_ms"].to_numpy(dtype=np.int64),
        runs["api_calls"].to_numpy(dtype=np.int64),
    )


def _runs_by(runs: pd.DataFrame, keys: str | list[str]) -> dict[object, RunStats]:
    ok, durations, calls = _run_columns(runs)
    return {
        key: _run_stats(ok[rows], durations[rows], calls[rows]) for key, rows in _groups(runs, keys)
    }


def _run_stats(ok: np.ndarray, durations: np.ndarray, calls: np.ndarray) -> RunStats:
    total, succeeded = len(ok), int(ok.sum())
    ordered = np.sort(durations)
    return RunStats(
        runs=total,
        ok=succeeded,
        failed=total - succeeded,
        success_pct=_pct(succeeded, total),
        duration_p50_ms=_nearest_rank(ordered, 50),
        duration_p95_ms=_nearest_rank(ordered, 95),
        api_calls_mean=Decimal(int(calls.sum())) / total if total else None,
        api_calls_max=int(calls.max()) if total else None,
    )


def _pct(part: int, whole: int) -> Decimal | None:
    return Decimal(part) * 100 / whole if whole else None


def _nearest_rank(ordered: np.ndarray, pct: int) -> int | None:
    """The smallest value with at least `pct` percent of the values at or below it."""
    if len(ordered) == 0:
        return None
    rank = -(-pct * len(ordered) // 100)
    return int(ordered[rank - 1])


def _last_good_sync(runs: pd.DataFrame) -> dict[str, int]:
    good = runs[runs["ok"].astype(bool) & runs["kind"].isin(SYNC_KINDS)]
    return good.groupby("account")["finished_at"].max().to_dict()


# --- orders -----------------------------------------------------------------------------


def _reasons(orders: pd.DataFrame) -> np.ndarray:
    return orders["reason"].to_numpy(dtype=object)


def _corrective_by(orders: pd.DataFrame, keys: str | list[str]) -> dict[object, CorrectiveOrders]:
    reasons = _reasons(orders)
    return {key: _corrective(reasons[rows]) for key, rows in _groups(orders, keys)}


def _corrective(reasons: np.ndarray) -> CorrectiveOrders:
    names, counts = np.unique(reasons, return_counts=True)
    return CorrectiveOrders(len(reasons), dict(zip(names.tolist(), counts.tolist(), strict=True)))


def _unresolved(orders: pd.DataFrame) -> pd.Series:
    return orders["status"].isin(UNRESOLVED_STATUSES)


# --- drift ------------------------------------------------------------------------------


class Pairs:
    """One integer per (account, symbol) of a frame: faster to sort and compare than pairs
    of strings, and turned back into the pair on demand."""

    def __init__(self, frame: pd.DataFrame) -> None:
        accounts, self._accounts = pd.factorize(frame["account"])
        symbols, self._symbols = pd.factorize(frame["symbol"])
        self._width = max(len(self._symbols), 1)
        self.codes = accounts.astype(np.int64) * self._width + symbols

    def of(self, code: int) -> tuple[str, str]:
        return self._accounts[code // self._width], self._symbols[code % self._width]

    def split(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The accounts and the symbols of `codes`, as object arrays (`of`, all at once)."""
        return (
            np.asarray(self._accounts, dtype=object)[codes // self._width],
            np.asarray(self._symbols, dtype=object)[codes % self._width],
        )

    def known(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.of(code) for code in np.unique(self.codes))

    def in_order(self, times: np.ndarray) -> np.ndarray:
        """The row positions by pair, then time, then position: `np.lexsort((times,
        codes))`, as two stable sorts: by time first (rows arrive nearly in time order,
        which a stable sort goes through fast), then by pair, on codes narrowed to 16 bits
        where they fit (a radix sort)."""
        by_time = np.argsort(times, kind="stable")
        codes = self.codes[by_time]
        if len(codes) and codes.min() >= 0 and codes.max() < np.iinfo(np.int16).max:
            codes = codes.astype(np.int16)
        return by_time[np.argsort(codes, kind="stable")]


def drift_events(
    observations: pd.DataFrame, pairs: Pairs, now_ns: int, order: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per drift event: from the first out-of-sync observation of a pair (account,
    symbol) after an in-sync one (or its first ever) to the next in-sync one, which repairs it.
    `end` is the repair time, or `now` while the event is still open. `order`: the rows'
    `pairs.in_order`, when the caller has it already."""
    times = observations["time"].to_numpy(dtype=np.int64)
    if order is None:
        order = pairs.in_order(times)
    codes, times = pairs.codes[order], times[order]
    drifting = ~observations["in_sync"].to_numpy(dtype=bool)[order]
    pair_goes_on = np.zeros(len(codes), dtype=bool)  # the next observation is of this pair
    pair_goes_on[:-1] = codes[1:] == codes[:-1]
    drifted_before = np.zeros(len(codes), dtype=bool)
    drifted_before[1:] = drifting[:-1] & pair_goes_on[:-1]
    drifts_next = np.zeros(len(codes), dtype=bool)
    drifts_next[:-1] = drifting[1:] & pair_goes_on[:-1]
    starts = np.flatnonzero(drifting & ~drifted_before)
    lasts = np.flatnonzero(drifting & ~drifts_next)
    repaired = pair_goes_on[lasts]  # by the next observation of the pair, in sync
    ends = np.where(repaired, times[np.minimum(lasts + 1, len(times) - 1)], now_ns)
    accounts, symbols = pairs.split(codes[starts])
    return pd.DataFrame(
        {
            "account": pd.Series(accounts, dtype=object),
            "symbol": pd.Series(symbols, dtype=object),
            "start": times[starts],
            "end": ends.astype(np.int64),
            "duration": (ends - times[starts]).astype(np.int64),
            "repaired": repaired,
        }
    )


def _drift_columns(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return events["duration"].to_numpy(dtype=np.int64), events["repaired"].to_numpy(dtype=bool)


def _drift_by(events: pd.DataFrame, keys: str | list[str]) -> dict[object, DriftStats]:
    durations, repaired = _drift_columns(events)
    return {
        key: _drift_stats(durations[rows], repaired[rows]) for key, rows in _groups(events, keys)
    }


def _drift_stats(durations: np.ndarray, repaired: np.ndarray) -> DriftStats:
    repairs = np.sort(durations[repaired])
    ages = durations[~repaired]
    return DriftStats(
        events=len(durations),
        open=len(ages),
        repaired=len(repairs),
        repair_median=_timedelta(_median(repairs)) if len(repairs) else None,
        repair_max=_timedelta(repairs[-1]) if len(repairs) else None,
        open_age_max=_timedelta(ages.max()) if len(ages) else None,
    )


def _median(ordered: np.ndarray) -> int:
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return int(ordered[middle])
    return (int(ordered[middle - 1]) + int(ordered[middle])) // 2


def _open_drift(events: pd.DataFrame, now_ns: int) -> tuple[OpenDrift, ...]:
    """Drift still unrepaired at `now`, oldest first."""
    still_open = events[~events["repaired"].astype(bool)].sort_values(
        ["start", "account", "symbol"]
    )
    return tuple(
        OpenDrift(account, symbol, _datetime(start), _timedelta(now_ns - start))
        for account, symbol, start in zip(
            still_open["account"], still_open["symbol"], still_open["start"], strict=True
        )
    )


# --- per account and symbol -------------------------------------------------------------


def _accounts(records: Records) -> tuple[AccountHealth, ...]:
    names = {account for account, _ in records.observed_pairs}
    names.update(records.all_runs["account"].unique(), records.orders["account"].unique())
    runs = _runs_by(records.runs, "account")
    orders = _corrective_by(records.corrective, "account")
    drift = _drift_by(records.events, "account")
    last_good = _last_good_sync(records.all_runs)
    unresolved = records.orders[_unresolved(records.orders)]["account"].value_counts()
    return tuple(
        AccountHealth(
            account=name,
            runs=runs.get(name, NO_RUNS),
            corrective=orders.get(name, NO_ORDERS),
            drift=drift.get(name, NO_DRIFT),
            last_good_sync_at=_datetime(last_good[name]) if name in last_good else None,
            since_last_good_sync=(
                _timedelta(records.now_ns - last_good[name]) if name in last_good else None
            ),
            unresolved_orders=int(unresolved.get(name, 0)),
        )
        for name in sorted(names)
    )


def _symbols(records: Records) -> tuple[SymbolHealth, ...]:
    """Every (account, symbol) the records know, with its figures in the window."""
    pairs = _pairs(records.all_runs) | _pairs(records.orders) | records.observed_pairs
    keys = ["account", "symbol"]
    runs = _runs_by(records.runs, keys)
    orders = _corrective_by(records.corrective, keys)
    drift = _drift_by(records.events, keys)
    return tuple(
        SymbolHealth(
            account=account,
            symbol=symbol,
            runs=runs.get((account, symbol), NO_RUNS),
            corrective=orders.get((account, symbol), NO_ORDERS),
            drift=drift.get((account, symbol), NO_DRIFT),
        )
        for account, symbol in sorted(pairs)
    )


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    """The (account, symbol) pairs of a frame; account-wide rows (no symbol) name none."""
    known = frame[["account", "symbol"]].dropna().drop_duplicates()
    return set(zip(known["account"], known["symbol"], strict=True))


# --- charts -----------------------------------------------------------------------------


def _series(records: Records, bucket: timedelta) -> tuple[HealthBucket, ...]:
    """Runs and drift starts per bucket, every bucket from the window's start (or the first
    record) to `now`, empty ones included so a chart shows the quiet stretches."""
    run_times = records.runs["started_at"].to_numpy(dtype=np.int64)
    starts = records.events["start"].to_numpy(dtype=np.int64)
    if records.since_ns is not None:
        starts = starts[starts >= records.since_ns]
    if len(run_times) == 0 and len(starts) == 0:
        return ()
    earliest = records.since_ns
    if earliest is None:
        earliest = int(
            min(run_times.min(initial=records.now_ns), starts.min(initial=records.now_ns))
        )
    width = bucket // timedelta(microseconds=1) * _NS_PER_US
    first = earliest // width * width
    count = (records.now_ns - first) // width + 1
    run_index = (run_times - first) // width
    runs = np.bincount(run_index, minlength=count)
    ok_weights = records.runs["ok"].to_numpy(dtype=bool)
    ok = np.bincount(run_index, weights=ok_weights, minlength=count).astype(np.int64)
    drift = np.bincount((starts - first) // width, minlength=count)
    return tuple(
        HealthBucket(
            start=_datetime(first + i * width),
            runs=int(runs[i]),
            ok=int(ok[i]),
            success_pct=_pct(int(ok[i]), int(runs[i])),
            drift_events=int(drift[i]),
        )
        for i in range(count)
    )
