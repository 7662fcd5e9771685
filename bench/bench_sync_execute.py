"""What `sync --execute` costs to write its plan, and to tell it: the monitor's check with
`execute` over a book where every position needs a repair, on a real SQLite file, then what
the service does after the write (`MonitorCommands.run`: each check's view to the observers'
`monitor_done`, which records the feed's events and raises the alerts).

    .venv/bin/python bench/bench_sync_execute.py [--repairs 10000] [--accounts 4] [--runs 3]
        [--told changes|repairs]

The exchange side is a fixed snapshot per account (what a derivatives venue reports: the
positions themselves), so the figure is the monitor's own work: read the recorded
positions, diagnose, plan, and write every repair (positions, their ledger transfers, the
stops a close ends, the snapshot and the run's record) in one transaction. The repairs are
a quarter each: closes (with an active stop to end), creates, resizes and reprices; every
recorded position has a ledger entry from before the read. Each run starts from a fresh
copy of the same database (target: 10,000 repairs in under 1 s).

What is told after the write depends on the plan. `--told changes` (the default): every
close, create and resize moves a holding the ledger did not know, so each is an external
change, told as one event the trader acknowledges and one alert incident (7,500 of each
for 10,000 repairs; the alerts have no URL, so the sender thread only records that). `--told
repairs`: the ledger already holds the same read's transfer of every symbol (the read was
applied before), so the write moves no holding and each close, create and resize is told as
one "repaired" event, with no alert.

Before the bulk write (one ORM row, three queries and a flush per repair) 10,000 repairs
took 18.8 s wall, 16.7 s CPU on this machine; after it, 1.0-1.1 s wall, 0.9 s CPU.

Told one event per transaction (a session and a commit per repaired holding, then an alert
per change), on a machine at load 4-5 of 2 cores: 7,500 "repaired" events took 30.3 s
wall, 6.9 s CPU (`--told repairs`); 7,500 external changes, their events and alerts,
75-141 s wall, 34-40 s CPU (`--told changes`), the alerts' queue of 1,000 overflowing into the
sender's sweep. Told in one transaction per check (the events in one multi-row INSERT
returning their ids, then each change's alert), load 3.4-5: 7,500 "repaired" events 0.31 s
wall, 0.26 s CPU; 7,500 external changes 62-67 s wall, 28-30 s CPU, nearly all of it the 7,500
alerts, each still stored in its own transaction and queued for its own notification (the
same code, rerun on a machine at load 1-7: 36-108 s wall, 40-54 s CPU).

The alerts raised together (`raise_incidents`: each check's in one transaction, handed to the
sender as one item, which sends the account's more than five as one message and records its
outcome on each), load 2.6-7: 7,500 external changes told in 1.4-2.0 s wall (median of 3
runs; min 1.1 s), 1.2-1.4 s CPU, the sender's claims and records included; 7,500 "repaired"
events 0.45 s wall. Raising the 7,500 alerts alone takes 0.5-0.8 s on SQLite, 0.8-0.9 s on
PostgreSQL (the INSERT from arrays of the columns).

With `--told changes`, each run then acknowledges every change told as `app.py ack --all`
does (the service's `acknowledge_all`, of an engine built on the same file; its start-up
and the alerts' delivery after are not counted). The events were acknowledged in one
UPDATE, read back one SELECT each, and each incident cleared in its own transaction with
its own "Resolved" notification queued (the queue of 1,000 overflowing into the sweep),
load 1.3-3.4: 43-54 s wall, 38-46 s CPU for 7,500. Read back in one statement and cleared
together (`clear_incidents`: one transaction, a cleared row each, one message per account),
load 2.1-4.5: 1.1-1.5 s wall (median of 3 runs; min 0.8 s), 1.0-1.4 s CPU. Clearing the
7,500 alerts alone takes 0.6 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from core.config import load_settings
from core.domain import AccountSnapshot, ExchangePosition, Mode, Policy
from core.monitoring.monitor import AccountLink, Monitor
from core.operations.alerts import IncidentAlerts
from core.service.monitoring import _check_view
from core.service.observers import Observers
from core.store import ledger
from core.store.books import BookKey
from core.store.db import Database
from core.store.models import Alert, Event, LedgerEntry, Position, Stop
from emulator.server import EmulatorServer
from runtime import build_engine

READ_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
KINDS = ("close", "create", "resize", "reprice")


class _Rules:
    amount_step = Decimal("0.0001")


class _Market:
    name = "bench"

    def market_rules(self, symbol: str) -> _Rules:
        return _Rules()


class SnapshotGateway:
    """An account whose every read finds the same positions (no call leaves the process)."""

    def __init__(self, snapshot: AccountSnapshot):
        self.market = _Market()
        self.api_calls = 0
        self._snapshot = snapshot

    def snapshot(self, account: str, symbols, quote: str) -> AccountSnapshot:
        self.api_calls += 1
        return self._snapshot

    def cash_transfers(self, quote: str, since: datetime) -> list:
        """No deposit or withdrawal of the quote since the account was first read."""
        self.api_calls += 1
        return []


def seed(
    db: Database, repairs: int, accounts: int, applied: bool = False
) -> dict[str, AccountSnapshot]:
    """The recorded book, and each account's snapshot: position n is repaired by KINDS[n % 4].
    With `applied`, the ledger holds the snapshot's transfer of every symbol already."""
    positions, entries, stops, held = [], [], [], {f"acct{a}": [] for a in range(accounts)}
    before = READ_AT - timedelta(days=1)
    for n in range(repairs):
        account, symbol, kind = f"acct{n % accounts}", f"C{n:05d}/USDT", KINDS[n % 4]
        qty, price = Decimal(n % 97 + 1), Decimal(100 + n % 13)
        if kind != "create":
            positions.append(
                {
                    "mode": "live",
                    "account": account,
                    "symbol": symbol,
                    "state": "LONG",
                    "qty": qty,
                    "cost_basis": qty * price,
                    "realized": Decimal(0),
                    "fees": Decimal(0),
                    "last_price": price,
                    "price_time": READ_AT - timedelta(hours=1),
                    "is_open": True,
                    "entry_source": "mark",
                    "updated_at": before,
                }
            )
            entries.append(
                {
                    "mode": "live",
                    "account": account,
                    "symbol": symbol,
                    "entry_key": f"transfer:{symbol}:{before.isoformat()}",
                    "kind": "transfer",
                    "origin": "monitor",
                    "side": "in",
                    "qty": qty,
                    "change": qty,
                    "price": price,
                    "fee": Decimal(0),
                    "fee_asset": "",
                    "fee_quote": Decimal(0),
                    "realized": Decimal(0),
                    "client_order_id": None,
                    "time": before,
                }
            )
        if applied:
            book = BookKey("live", account)
            entries.append(ledger.transfer_row(book, symbol, Decimal(0), price, READ_AT))
        if kind == "close":
            stops.append(
                {
                    "mode": "live",
                    "account": account,
                    "symbol": symbol,
                    "side": "long",
                    "stop_loss": price / 2,
                    "placement": "app",
                    "status": "active",
                    "exchange_ids": "[]",
                    "created_at": before,
                    "updated_at": before,
                }
            )
        else:
            after = qty * 2 if kind in ("create", "resize") else qty
            held[account].append(ExchangePosition(account, symbol, after, price + 1))
    with db.session() as session:
        for table, rows in ((Position, positions), (LedgerEntry, entries), (Stop, stops)):
            if rows:
                session.execute(insert(table), rows)
    return {
        account: AccountSnapshot(account, {}, {}, {}, READ_AT, positions=tuple(found))
        for account, found in held.items()
    }


class Run:
    """What one run took (wall and CPU seconds) and left behind."""

    def __init__(self):
        self.write = self.write_cpu = self.told = self.told_cpu = 0.0
        self.acked = self.acked_cpu = 0.0
        self.repairs = self.entries = self.events = self.alerts = 0
        self.acknowledged = self.cleared = 0


def run_once(
    path: Path, snapshots: dict[str, AccountSnapshot], exchange_url: str | None = None
) -> Run:
    """One `sync --execute` (adopt) over every account, then its checks told as
    `MonitorCommands.run` tells them: each check's view to the observers (`monitor_done`).
    With `exchange_url`, then every change told acknowledged as `app.py ack --all` does it
    (the service's `acknowledge_all`, of an engine on the same file), until its alerts are
    handed to the sender."""
    db = Database.open(f"sqlite:///{path}")
    links = [AccountLink(name, SnapshotGateway(s)) for name, s in snapshots.items()]
    monitor = Monitor(db, stale_after=timedelta(minutes=5))
    alerts = IncidentAlerts([], db)  # no URL: the sender records each alert as undelivered
    observers = Observers(alerts, 120, db, lambda symbol: _Rules())
    run = Run()
    started, cpu = time.perf_counter(), time.process_time()
    checks = monitor.check(links, Policy.ADOPT, execute=True)
    run.write, run.write_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    for check in checks:
        observers.monitor_done(_check_view(check), Mode.LIVE, applied=True)
    run.told, run.told_cpu = time.perf_counter() - started, time.process_time() - cpu
    alerts.close(timeout=60)
    if exchange_url is not None:
        run.acknowledged, run.acked, run.acked_cpu = acknowledge_all(path, exchange_url)
    with db.session() as session:
        run.entries = session.scalar(select(func.count()).select_from(LedgerEntry))
        run.events = session.scalar(select(func.count()).select_from(Event))
        run.alerts = session.scalar(select(func.count()).select_from(Alert))
        run.cleared = session.scalar(
            select(func.count()).select_from(Alert).where(Alert.state == "cleared")
        )
    db.dispose()
    run.repairs = sum(len(c.actions) for c in checks)
    return run


def acknowledge_all(path: Path, exchange_url: str) -> tuple[int, float, float]:
    """`app.py ack --all` on the file: how many it acknowledged, in what wall and CPU time
    (the engine's start-up, and the delivery of the alerts after, not counted)."""
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{path}",
        EXCHANGE_URL=exchange_url,
        EXCHANGE_API_KEY="",
        EXCHANGE_API_SECRET="",
    )
    engine = build_engine(settings)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        outcome = engine.service.events.acknowledge_all()
        return (
            len(outcome.events),
            time.perf_counter() - started,
            time.process_time() - cpu,
        )
    finally:
        engine.close()


def _figure(name: str, wall: list[float], cpu: list[float]) -> str:
    return (
        f"{name}: wall median {statistics.median(wall):.3f} s, min {min(wall):.3f} s; "
        f"CPU median {statistics.median(cpu):.3f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repairs", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--told",
        choices=("changes", "repairs"),
        default="changes",
        help="what the repairs are told as: external changes (event + alert each) or "
        "repaired holdings (one event each)",
    )
    args = parser.parse_args()
    applied = args.told == "repairs"
    with tempfile.TemporaryDirectory() as folder, EmulatorServer(seed=11, freeze=True) as exchange:
        template = Path(folder) / "template.db"
        db = Database.open(f"sqlite:///{template}")
        snapshots = seed(db, args.repairs, args.accounts, applied)
        db.dispose()
        runs = []
        for n in range(args.runs):
            copy = Path(folder) / f"run{n}.db"
            shutil.copy(template, copy)
            runs.append(run_once(copy, snapshots, None if applied else exchange.url))
    last = runs[-1]
    print(
        f"sync --execute (adopt), {args.accounts} accounts, SQLite file: {last.repairs:,} "
        f"repairs, {last.entries:,} ledger entries after; told as {args.told}: "
        f"{last.events:,} events, {last.alerts:,} alerts"
    )
    print(_figure("write", [r.write for r in runs], [r.write_cpu for r in runs]))
    print(_figure("told", [r.told for r in runs], [r.told_cpu for r in runs]))
    if not applied:
        print(
            _figure(f"ack --all of {last.acknowledged:,}", [r.acked for r in runs],
                    [r.acked_cpu for r in runs])
        )  # fmt: skip
    print(
        f"over {args.runs} runs (CPU: what a machine shared with other work does not inflate; "
        "told's includes the alert sender thread's)"
    )
    moved = sum(1 for n in range(args.repairs) if KINDS[n % 4] != "reprice")
    recorded = sum(1 for n in range(args.repairs) if KINDS[n % 4] != "create")
    entries = recorded + args.repairs if applied else recorded + moved
    alerts = 0 if applied else moved * 2  # raised, then cleared by the acknowledgement
    acknowledged = 0 if applied else moved
    found = (last.repairs, last.entries, last.events, last.alerts, last.acknowledged, last.cleared)
    if found != (args.repairs, entries, moved, alerts, acknowledged, acknowledged):
        print(
            f"error: expected {args.repairs} repairs, {entries} ledger entries, {moved} "
            f"events, {alerts} alerts and {acknowledged} acknowledged, each alert cleared; "
            f"found {found}"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
