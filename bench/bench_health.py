"""Compute time of the health page's two reports: `core.insights.health.compute_health` and
`core.insights.ledger_fold.compute_results`.

    .venv/bin/python bench/bench_health.py [--runs 10000] [--fills 100000] [--repeat 7] [--store]
        [--snapshot-every 600]

The pure computations are timed from DataFrames already in memory (what the store hands over
after one query each); with --store, the same records are written to a real SQLite database
first and the store's loading (core.store.analytics) is timed with the computation. The health records are four accounts watching 2, 12, 30 and 50
symbols, run every 30 s, a mix of periodic checks (each observing every watched symbol),
manual trades, monitor runs, stops and kill-switch closes, with drift that starts and gets
repaired now and then and a few orders left unresolved. The fills are round trips over 20
symbols, each one to three buys (fee in base) and one to three sells (fee in quote) that
bring the holding back to zero, with an equity snapshot every ten minutes. Each figure is the
median of several runs (target: under 300 ms each). With --store the folded health is timed
too (core.insights.health_fold, stored by core.store.health_folds): the first load, a new
process loading the stored fold, one new run folded, and each tick's report; and the
Results page's reads as the service makes them: any change before, and after, a new fill
(the ledger fold), a new equity point (the equity fold, core.insights.equity_fold) and each
tick with nothing new; and a new process's first load of each stored fold."""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, insert, select

from core.domain import Fill, Side
from core.insights import equity_fold, health_fold, ledger_fold
from core.insights.health import OBSERVATION_COLUMNS, ORDER_COLUMNS, RUN_COLUMNS, compute_health
from core.insights.ledger_fold import compute_results
from core.insights.results import (
    ENTRY_COLUMNS,
    drawdown,
    net_of_outside,
    prepared,
    realized_since,
    summarize,
    traded_curve,
)
from core.pnl import PositionBook, apply_fill
from core.store import analytics, equity_folds, health_folds, ledger_folds
from core.store.db import Database
from core.store.models import (
    EquitySnapshot,
    HealthFoldPart,
    HealthFoldState,
    LedgerEntry,
    Order,
    SyncRun,
)

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
WATCHED = {"main": 2, "swing": 12, "alts": 30, "wide": 50}
KINDS = [("check", 80), ("trade", 10), ("monitor", 5), ("stop", 3), ("flatten", 2)]
INTERVAL = timedelta(seconds=30)
DRIFT_STARTS, DRIFT_REPAIRED = 0.01, 0.5
FEE_RATE = Decimal("0.001")
QTY_STEP = Decimal("0.0001")
TICK = Decimal("0.01")
NEW_FILL = {  # one unit of a market the bench's ledger never traded, fee in quote
    "mode": "live",
    "account": "acct",
    "symbol": "NEW/USDT",
    "kind": "fill",
    "origin": "manual",
    "qty": Decimal(1),
    "price": Decimal(100),
    "fee": Decimal("0.1"),
    "fee_asset": "USDT",
    "fee_quote": Decimal("0.1"),
    "realized": Decimal(0),
}


def health_records(runs: int, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """`runs` sync runs ending at NOW, their observations and the orders they sent."""
    rng = random.Random(seed)
    symbols = {name: [f"C{i:02d}/USDT" for i in range(n)] for name, n in WATCHED.items()}
    in_sync = {(name, s): True for name, watched in symbols.items() for s in watched}
    kinds = [kind for kind, share in KINDS for _ in range(share)]
    start = NOW - INTERVAL * (runs // len(WATCHED))
    run_rows, observation_rows, order_rows = [], [], []
    for run_id in range(runs):
        account = list(WATCHED)[run_id % len(WATCHED)]
        kind = rng.choice(kinds)
        began = start + INTERVAL * (run_id // len(WATCHED)) + timedelta(seconds=rng.random())
        duration = int(rng.lognormvariate(5.5, 0.6))
        ok = rng.random() > 0.03
        calls = 3 if kind in ("check", "monitor") else rng.randint(4, 12)
        symbol = None if kind in ("check", "monitor") else rng.choice(symbols[account])
        ended = began + timedelta(milliseconds=duration)
        run_rows.append((run_id, account, kind, symbol, ok, began, ended, duration, calls))
        for watched in symbols[account] if symbol is None else [symbol]:
            key = (account, watched)
            if symbol is None:
                flips = rng.random() < (DRIFT_STARTS if in_sync[key] else DRIFT_REPAIRED)
                in_sync[key] = in_sync[key] != flips
            else:
                in_sync[key] = ok
            observation_rows.append((run_id, ended, account, watched, in_sync[key]))
            if symbol is None and not in_sync[key] and rng.random() < 0.2:
                order_rows.append((account, watched, "buy", "enforce", ended, "filled"))
        if symbol is not None:
            reason = "manual" if kind == "trade" else kind
            status = "unknown" if rng.random() < 0.002 else "filled"
            order_rows.append((account, symbol, "sell", reason, began, status))
    return (
        pd.DataFrame(
            run_rows,
            columns=RUN_COLUMNS,
        ),
        pd.DataFrame(observation_rows, columns=OBSERVATION_COLUMNS),
        pd.DataFrame(order_rows, columns=ORDER_COLUMNS),
    )


def fill_records(
    count: int, seed: int = 5, snapshot_every: int = 600
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """About `count` fills in complete round trips over 20 symbols, and the equity curve
    (a snapshot every `snapshot_every` seconds; the check records one every 30 s)."""
    rng = random.Random(seed)
    symbols = [f"C{i:02d}/USDT" for i in range(20)]
    moment = NOW - timedelta(days=180)
    step = timedelta(days=180) / count
    rows = []
    while len(rows) < count:
        symbol = rng.choice(symbols)
        price = Decimal(rng.randint(100, 500_000)) / 100
        held = Decimal(0)
        for _ in range(rng.randint(1, 3)):
            qty = Decimal(rng.randint(10, 100_000)) * QTY_STEP
            fee = (qty * FEE_RATE).quantize(Decimal("0.00000001"))
            rows.append(("acct", symbol, "buy", qty, price, fee, symbol[:3], fee * price, moment))
            held += qty - fee
            moment += step
        sells = rng.randint(1, 3)
        for n in range(sells):
            price = (price * Decimal(rng.randint(9_500, 10_600)) / 10_000).quantize(TICK)
            qty = held if n == sells - 1 else (held / sells).quantize(QTY_STEP)
            fee = (qty * price * FEE_RATE).quantize(Decimal("0.00000001"))
            rows.append(("acct", symbol, "sell", qty, price, fee, "USDT", fee, moment))
            held -= qty
            moment += step
    fills = pd.DataFrame(
        [(*row, f"c{i}", f"t{i}", realized) for i, (row, realized) in enumerate(folded(rows))],
        columns=ENTRY_COLUMNS,
    )
    snapshots = pd.date_range(NOW - timedelta(days=180), NOW, freq=f"{snapshot_every}s", tz="UTC")
    equity, level = [], Decimal(10_000)
    for _ in snapshots:
        level += Decimal(rng.randint(-1000, 1050)) / 100
        equity.append(level)
    return fills, pd.DataFrame({"time": snapshots, "equity": equity})


def folded(rows: list[tuple]) -> list[tuple[tuple, Decimal]]:
    """Each fill with the PnL it realized by average cost, as the store writes it."""
    books: dict[str, PositionBook] = {}
    out = []
    for row in rows:
        _, symbol, side, qty, price, fee, fee_asset, fee_quote, moment = row
        fill = Fill(symbol, Side(side), qty, price, fee, fee_asset, fee_quote, "", "", moment)
        before = books.get(symbol, PositionBook())
        books[symbol] = apply_fill(before, fill)
        out.append((row, books[symbol].realized - before.realized))
    return out


def median_ms(repeat: int, compute) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = compute()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, min(times) * 1000, result


def stored(runs, observations, orders, fills, equity) -> Database:
    """The records in a new SQLite database, as the app stores them (the LIVE book)."""
    db = Database.open(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    seen = {run_id: {"in_sync": [], "drift": []} for run_id in runs["run_id"]}
    for run_id, symbol, in_sync in zip(
        observations["run_id"], observations["symbol"], observations["in_sync"], strict=True
    ):
        seen[run_id]["in_sync" if in_sync else "drift"].append(symbol)
    live = {"mode": "live"}
    with db.session() as session:
        session.execute(
            insert(SyncRun),
            [
                {
                    **live,
                    "id": int(r.run_id) + 1,
                    "account": r.account,
                    "kind": r.kind,
                    "symbol": r.symbol,
                    "ok": bool(r.ok),
                    "message": "",
                    "api_calls": int(r.api_calls),
                    "duration_ms": int(r.duration_ms),
                    "details": json.dumps(seen[r.run_id]),
                    "started_at": r.started_at.to_pydatetime(),
                    "finished_at": r.finished_at.to_pydatetime(),
                }
                for r in runs.itertuples()
            ],
        )
        session.execute(
            insert(Order),
            [
                {
                    **live,
                    "account": o.account,
                    "symbol": o.symbol,
                    "client_order_id": f"o{n}",
                    "side": o.side,
                    "price": Decimal(1),
                    "amount": Decimal(1),
                    "status": o.status,
                    "origin": o.reason,
                    "created_at": o.created_at.to_pydatetime(),
                    "updated_at": o.created_at.to_pydatetime(),
                }
                for n, o in enumerate(orders.itertuples())
            ],
        )
        session.execute(
            insert(LedgerEntry),
            [
                {
                    **live,
                    **row,
                    "time": row["time"].to_pydatetime(),
                    "kind": "fill",
                    "origin": "manual",
                    # a buy pays its fee in base, a sell in USDT
                    "change": row["qty"] - row["fee"] if row["side"] == "buy" else -row["qty"],
                }
                for row in fills.to_dict("records")
            ],
        )
        session.execute(
            insert(EquitySnapshot),
            [
                {**live, "account": "acct", "time": t.to_pydatetime(), "equity": e}
                for t, e in zip(equity["time"], equity["equity"], strict=True)
            ],
        )
    return db


def store_figures(db: Database, repeat: int) -> None:
    """Load (one query per frame) and compute, as the service does on a cold cache."""

    def health():
        with db.session() as session:
            frames = analytics.health_frames(session, "live")
        return compute_health(frames.runs, frames.observations, frames.orders, NOW)

    def results():
        with db.session() as session:
            fills = analytics.ledger_frame(session, "live")
            outside = analytics.outside_frame(session, "live")
            equity = analytics.equity_frame(session, "live")[["time", "equity"]]
        return compute_results(fills, traded_curve(net_of_outside(equity, outside)), NOW)

    median, best, report = median_ms(repeat, health)
    print(f"  health load + compute: {median:6.1f} ms (min {best:.1f}), runs {report.runs.runs:,}")
    median, best, report = median_ms(repeat, results)
    print(
        f"  results load + compute: {median:6.1f} ms (min {best:.1f}), "
        f"closed trips {len(report.closed):,}"
    )


def measured(repeat: int, compute) -> tuple[float, float, object]:
    """Median wall and CPU milliseconds of `compute` (CPU: what other work on a shared
    machine does not inflate), and its last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = compute()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000, result


def folded_figures(db: Database, repeat: int) -> None:
    """The folded health (core.insights.health_fold, stored by core.store.health_folds), as
    the service reads it, beside the full load and computation it replaces: the first load
    folds every run and stores the fold; a new process loads the stored fold; a tick after a
    new run folds that run alone; each tick computes its window's report from the fold kept
    in memory."""

    def full():
        with db.session() as session:
            frames = analytics.health_frames(session, "live")
        return compute_health(frames.runs, frames.observations, frames.orders, NOW)

    def first_load():
        with db.session() as session:
            session.execute(delete(HealthFoldPart))
            session.execute(delete(HealthFoldState))
        return fold_and_store()

    def fold_and_store():
        with db.session() as session:
            start = health_folds.load(session, "live")
            runs, seen = analytics.run_frames(session, "live", None, start.last_run_id)
            orders = analytics.order_frame(session, "live")
        folded = health_fold.fold(start, runs, seen)
        if folded is not start:
            with db.session() as session:
                health_folds.save(session, "live", start, folded)
        return folded, orders

    def line(label: str, wall: float, cpu: float, more: str = "") -> None:
        print(f"  {label:<52} {wall:8.1f} ms wall {cpu:8.1f} ms CPU  {more}")

    wall, cpu, report = measured(1, full)
    line("before: full load + computation (window all)", wall, cpu, f"runs {report.runs.runs:,}")
    wall, cpu, (folded, orders) = measured(1, first_load)
    line("folded, first load (every run folded, stored)", wall, cpu)
    wall, cpu, (folded, orders) = measured(repeat, fold_and_store)
    line("folded, a new process (the stored fold loaded)", wall, cpu)
    with db.session() as session:
        last = session.scalar(select(SyncRun).order_by(SyncRun.id.desc()).limit(1))
        values = {
            c.name: getattr(last, c.name) for c in SyncRun.__table__.columns if c.name != "id"
        }

    def one_new_run():
        nonlocal folded
        with db.session() as session:
            session.execute(insert(SyncRun), [values])
        with db.session() as session:
            runs, seen = analytics.run_frames(session, "live", None, folded.last_run_id)
        grown = health_fold.fold(folded, runs, seen)
        with db.session() as session:
            health_folds.save(session, "live", folded, grown)
        folded = grown

    wall, cpu, _ = measured(repeat, one_new_run)
    line("folded, one new run folded and stored", wall, cpu, "(the insert not timed apart)")
    for label, since in (
        ("all", None),
        ("7d", NOW - timedelta(days=7)),
        ("1h", NOW - timedelta(hours=1)),
    ):
        wall, cpu, report = measured(
            repeat, lambda s=since: health_fold.report(folded, orders, NOW, s)
        )
        line(
            f"folded, each tick's report, window {label}",
            wall,
            cpu,
            f"runs {report.runs.runs:,}, drift events {report.drift.events:,}",
        )


def results_figures(db: Database, repeat: int) -> None:
    """The Results page's reads as the service makes them (core.service.insights), before
    and after the round trips were kept apart from the equity curve: before, any new ledger
    entry or equity snapshot loaded the ledger, its changes outside the app and the equity,
    and worked out every figure; now a snapshot (one every 30 s) reads only the snapshots
    recorded since the last read and works out the curve and its drawdown, and a tick with nothing new reads two versions
    and narrows the kept figures to its window (its realized PnL and fees a difference of
    the ledger's running sums). A new ledger entry is folded in (core.insights.ledger_fold):
    only the entries since the fold's watermark are read."""

    def line(label: str, wall: float, cpu: float, more: str = "") -> None:
        print(f"  {label:<52} {wall:8.1f} ms wall {cpu:8.1f} ms CPU  {more}")

    def everything():
        with db.session() as session:
            entries = analytics.ledger_frame(session, "live")
            outside = analytics.outside_frame(session, "live")
            snapshots = analytics.equity_frame(session, "live")
        curve = net_of_outside(snapshots[["time", "equity"]], outside)  # one account's curve
        return compute_results(entries, traded_curve(curve), NOW), entries, outside

    wall, cpu, (report, entries, outside) = measured(1, everything)
    line(
        "before: any new entry or snapshot (all reloaded)",
        wall,
        cpu,
        f"closed trips {len(report.closed):,}",
    )
    kept = ledger_fold.LedgerFold()

    def fold_since(start: ledger_fold.LedgerFold | None = None):
        """What the service does on a new ledger version: read the entries since the fold's
        watermark (and the count through it), fold them in, store the fold for the other
        processes (core.store.ledger_folds), report. `start`: a new process's, loaded."""
        nonlocal kept
        before = kept if start is None else start
        with db.session() as session:
            new = analytics.ledger_frame(session, "live", None, before.last_id)
            assert not analytics.ledger_missed(
                session, "live", None, before.last_id, before.entries
            )
        last_id = int(new["id"].max()) if len(new) else before.last_id
        kept = ledger_fold.fold(before, new, last_id, {})
        if kept.last_id != before.last_id:
            with db.session() as session:
                assert ledger_folds.save(session, "live", None, before, kept)
        return ledger_fold.report(kept, NOW)

    wall, cpu, report_folded = measured(1, fold_since)
    line("after: the first load ever (every entry read, folded, stored)", wall, cpu)
    assert report_folded == dataclasses.replace(report, drawdown=None)  # measured apart
    sides = iter(["buy", "sell"] * (repeat + 1))
    keys = count()

    def new_fill():
        side = next(sides)  # a buy opens a trip, the sell after it closes it
        change = NEW_FILL["qty"] if side == "buy" else -NEW_FILL["qty"]
        fill = {**NEW_FILL, "side": side, "change": change, "entry_key": f"bench{next(keys)}"}
        with db.session() as session:
            session.execute(insert(LedgerEntry), [{**fill, "time": NOW}])
        return fold_since()

    for label in ("opens a trip", "closes it"):
        wall, cpu, _ = measured(1, new_fill)
        line(f"after: a new fill that {label} (read since, folded)", wall, cpu)
    walls = [measured(1, new_fill)[:2] for _ in range(2 * repeat)]
    wall, cpu = (statistics.median(values) for values in zip(*walls, strict=True))
    line("after: a new fill, median of a trip's each", wall, cpu, f"{len(kept.trips):,} trips")

    def new_process():
        """A restarted worker or a command: the stored fold loaded, the entries since read."""
        with db.session() as session:
            loaded = ledger_folds.load(session, "live", None)
        return fold_since(loaded)

    in_memory = ledger_fold.report(kept, NOW)
    wall, cpu, loaded = measured(repeat, new_process)
    line("after: the first load in a new process (stored fold)", wall, cpu)
    assert loaded == in_memory
    sums = kept.booked
    with db.session() as session:
        last = session.scalar(select(EquitySnapshot).order_by(EquitySnapshot.id.desc()).limit(1))
        snapshot = {"mode": "live", "account": last.account, "equity": last.equity}

    def versions():
        with db.session() as session:
            return analytics.ledger_version(session, "live"), analytics.equity_version(
                session, "live"
            )

    with db.session() as session:
        snapshots = analytics.equity_frame(session, "live")
    assert snapshots["account"].nunique() == 1  # one account: its snapshots are the curve

    def new_snapshot_before():
        """Before the equity fold: the snapshots since read, every point worked out again."""
        nonlocal snapshots
        with db.session() as session:
            session.execute(insert(EquitySnapshot), [{**snapshot, "time": NOW}])
        versions()
        with db.session() as session:
            new = analytics.equity_frame(session, "live", None, int(snapshots["id"].max()))
        snapshots = pd.concat([snapshots, new], ignore_index=True)
        curve = net_of_outside(snapshots[["time", "equity"]], outside)
        return curve, drawdown(traded_curve(curve))

    wall, cpu, (curve, _) = measured(repeat, new_snapshot_before)
    line("before: a new equity point (the whole curve again)", wall, cpu, f"{len(curve):,} points")
    folded = equity_fold.EquityFold()

    def equity_since(start: equity_fold.EquityFold | None = None):
        """What the service does on a new equity version: read the snapshots since the
        fold's watermark, fold them in, store the fold (core.store.equity_folds), and work
        out the whole curve's figures. `start`: a new process's, loaded."""
        nonlocal folded
        before = folded if start is None else start
        with db.session() as session:
            new = analytics.equity_frame(session, "live", None, before.last_id)
        last_id = int(new["id"].max()) if len(new) else before.last_id
        folded = equity_fold.fold(before, new, last_id, outside)
        if folded.last_id != before.last_id:
            with db.session() as session:
                assert equity_folds.save(session, "live", None, before, folded)
        return equity_fold.curve(folded, outside)

    wall, cpu, _ = measured(1, equity_since)
    line("after: the equity curve's first fold (read, folded, stored)", wall, cpu)

    def equity_new_process():
        """A restarted worker or a command: the stored fold loaded, the snapshots since read."""
        with db.session() as session:
            loaded = equity_folds.load(session, "live", None)
        return equity_since(loaded)

    wall, cpu, _ = measured(repeat, equity_new_process)
    line("after: the equity curve's first load in a new process", wall, cpu)

    def new_snapshot():
        with db.session() as session:
            session.execute(insert(EquitySnapshot), [{**snapshot, "time": NOW}])
        versions()
        return equity_since()

    wall, cpu, _ = measured(repeat, new_snapshot)
    line(
        "after: a new equity point (read since, folded, stored)",
        wall,
        cpu,
        f"{len(folded.times):,} points (the insert not timed apart)",
    )
    week = folded.start_of(NOW - timedelta(days=7))
    wall, cpu, _ = measured(repeat, lambda: equity_fold.curve(folded, outside, week))
    line(
        "after: window 7d's curve (on a new point, or one leaving it)",
        wall,
        cpu,
        f"{len(folded.times) - week:,} points",
    )
    now_curve = equity_fold.curve(folded, outside)
    assert now_curve.drawdown == drawdown(traded_curve(curve))  # the fold's is the whole curve's

    def counted_versions():  # what a tick asked before: each table's newest id and count
        with db.session() as session:
            for model in (LedgerEntry, EquitySnapshot):
                session.execute(
                    select(func.max(model.id), func.count()).where(model.mode == "live")
                ).one()

    for label, since in (("all", None), ("7d", NOW - timedelta(days=7))):

        def tick_before(since=since):
            counted_versions()
            closed = report.closed
            if since is not None:
                closed = tuple(trip for trip in closed if trip.closed_at >= since)
                summarize(closed)
            realized_since(entries, since)  # every entry filtered and summed
            times = prepared(curve, ("time",))["time"].to_numpy()
            return tuple(
                equity_fold.chart_points(times, curve[name].to_numpy(object))
                for name in ("equity", "traded")
            )

        wall, cpu, _ = measured(repeat, tick_before)
        line(f"before: each tick, nothing new, window {label}", wall, cpu)

        def tick(since=since):
            versions()
            if since is not None:
                report.closed.since(since).summarized()
            realized_since(sums, since)
            return folded.start_of(since)  # the curve from there is kept for its versions

        wall, cpu, _ = measured(repeat, tick)
        line(f"after: each tick, nothing new, window {label}", wall, cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--fills", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--snapshot-every", type=int, default=600, help="seconds between equity snapshots"
    )
    parser.add_argument(
        "--store", action="store_true", help="also time loading from a real SQLite database"
    )
    args = parser.parse_args()

    runs, observations, orders = health_records(args.runs)
    print(
        f"health: {len(runs):,} runs, {len(observations):,} observations, "
        f"{len(orders):,} orders; median of {args.repeat}"
    )
    for label, since in (
        ("all", None),
        ("7d", NOW - timedelta(days=7)),
        ("1h", NOW - timedelta(hours=1)),
    ):
        median, best, report = median_ms(
            args.repeat, lambda s=since: compute_health(runs, observations, orders, NOW, s)
        )
        print(
            f"  window {label:>3}: {median:6.1f} ms (min {best:.1f})  runs {report.runs.runs:,}, "
            f"drift events {report.drift.events:,} ({report.drift.open} open), "
            f"{len(report.series)} buckets"
        )

    fills, equity = fill_records(args.fills, snapshot_every=args.snapshot_every)
    print(f"results: {len(fills):,} fills, {len(equity):,} equity points; median of {args.repeat}")
    median, best, results = median_ms(args.repeat, lambda: compute_results(fills, equity, NOW))
    print(
        f"  {median:6.1f} ms (min {best:.1f})  closed trips {len(results.closed):,}, "
        f"open {len(results.open)}, profit {results.overall.stats.profit:.2f}"
    )
    median, best, _ = median_ms(args.repeat, lambda: realized_since(fills, NOW - timedelta(7)))
    print(f"  realized PnL and fees of the last 7 days: {median:6.1f} ms (min {best:.1f})")
    daily = equity.iloc[::144]  # a withdrawal of 50 USDT a day, read with a snapshot
    outside = pd.DataFrame({"time": daily["time"], "value": [Decimal(-50)] * len(daily)})
    median, best, curve = median_ms(args.repeat, lambda: net_of_outside(equity, outside))
    print(
        f"  equity less {len(outside):,} changes outside the app: {median:6.1f} ms "
        f"(min {best:.1f}), {len(curve):,} points"
    )
    if args.store:
        print("from a SQLite database (core.store.analytics), LIVE book:")
        db = stored(runs, observations, orders, fills, equity)
        store_figures(db, args.repeat)
        folded_figures(db, args.repeat)
        results_figures(db, args.repeat)
    print("target: under 300 ms each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
