"""The position monitor (`diagnose` / `sync`) against the emulator, over real HTTP with the
real ccxt client and a real SQLite database: the desk's report reproduced and repaired in one
round, the command line's JSON and exit codes, several accounts, one exchange down, bad
accounts files, a corrupt row, stale prices, and secrets that never reach the output."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from sqlalchemy import delete, select

import app
from core.config import Settings
from core.domain import ActionKind, DiscrepancyKind, Policy
from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_market import CcxtMarketData
from core.monitoring.monitor import AccountLink, recorded_positions
from core.monitoring.reconcile import apply, plan
from core.store import repairs
from core.store import repository as repo
from core.store.db import Database
from core.store.models import LedgerEntry, Position, SyncRun, utcnow
from tests.unit.test_reconcile import NOW, books

ROOT = Path(__file__).resolve().parents[2]
D = Decimal
DEMO_KEY, DEMO_SECRET = "demo-key", "demo-secret"
DESK_KEY, DESK_SECRET = "desk-key-5Tq", "desk-secret-8Wz"
SECRETS = (DEMO_SECRET, DESK_SECRET, DESK_KEY)
FAST = {"EXCHANGE_TIMEOUT_MS": "2000", "RECV_WINDOW_MS": "2000"}
DISCREPANCY_FIELDS = {"kind", "account", "symbol", "recorded_qty", "exchange_qty"}
ACTION_FIELDS = {"kind", "account", "symbol", "before_qty", "after_qty", "price", "reason"}


@dataclass(frozen=True)
class Market:
    price: Decimal
    step: Decimal

    def worth(self, usdt: str) -> Decimal:
        """The quantity worth `usdt` at the current price, on the market's amount step."""
        steps = (D(usdt) / self.price / self.step).to_integral_value(rounding=ROUND_FLOOR)
        return steps * self.step


@pytest.fixture
def markets(exchange, control) -> dict[str, Market]:
    """Every USDT market the emulator lists, with its start price and amount step."""
    data = CcxtMarketData(Connection(url=exchange.url))
    tickers = data.client.fetch_tickers()
    return {
        symbol: Market(D(str(tickers[symbol]["last"])), data.market_rules(symbol).amount_step)
        for symbol in data.symbols()
    }


@dataclass(frozen=True)
class DeskReport:
    gone: list[str]  # open in the DB, nothing (or only dust) on the exchange
    unknown: list[str]  # held on the exchange, unknown to the DB
    wrong: list[str]  # both, with a different quantity
    in_sync: list[str]  # both, equal or within one amount step
    held: dict[str, Decimal]


def record_position(
    db: Database,
    symbol: str,
    qty: Decimal,
    price: Decimal,
    account: str = "default",
    price_time=None,
) -> None:
    with db.session() as session:
        position = repo.position_row(session, repo.BookKey("live", account), symbol)
        position.qty, position.cost_basis = qty, qty * price * D("0.9")
        position.last_price, position.price_time = price, price_time or utcnow()
        position.is_open, position.state = True, "LONG"


def set_up_desk_report(db: Database, control, markets: dict[str, Market]) -> DeskReport:
    """9 positions gone from the exchange (three of them left as dust), 8 held but unknown
    to the database, 7 with the wrong quantity, and 5 in sync (one off by exactly one amount
    step, which is rounding), all recorded with fresh prices."""
    symbols = sorted(markets)
    report = DeskReport(symbols[0:9], symbols[9:17], symbols[17:24], symbols[24:29], {})
    balances: dict[str, str] = {}
    for symbol in report.unknown + report.wrong + report.in_sync:
        report.held[symbol] = markets[symbol].worth("100")
        balances[symbol.split("/")[0]] = str(report.held[symbol])
    for symbol in report.gone[:3]:
        balances[symbol.split("/")[0]] = str(markets[symbol].worth("0.5"))  # below min cost
    balances["NOMARKET"] = "1000"  # an asset without a USDT market is no position
    control.set_balances(balances)
    for symbol in report.gone:
        record_position(db, symbol, markets[symbol].worth("100"), markets[symbol].price)
    for symbol in report.wrong:
        record_position(db, symbol, markets[symbol].worth("60"), markets[symbol].price)
    for index, symbol in enumerate(report.in_sync):
        off_by_one_step = markets[symbol].step if index == 0 else D(0)
        qty = report.held[symbol] + off_by_one_step
        record_position(db, symbol, qty, markets[symbol].price)
    return report


def database_rows(db_path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, to prove a run wrote nothing."""
    with sqlite3.connect(db_path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
            for table in tables
        }


def monitor_runs(db: Database, account: str = "default") -> list[SyncRun]:
    with db.session() as session:
        return list(
            session.scalars(
                select(SyncRun)
                .where(SyncRun.kind == "monitor", SyncRun.account == account)
                .order_by(SyncRun.id)
            )
        )


def open_positions(db: Database, account: str = "default") -> dict[str, Position]:
    with db.session() as session:
        rows = repo.positions(session, repo.BookKey("live", account))
    return {p.symbol: p for p in rows if p.is_open}


def counts_of(items) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in items:
        found[item.kind.value] = found.get(item.kind.value, 0) + 1
    return found


def settings_environment(tmp_path, exchange, **extra) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
        "EXCHANGE_URL": exchange.url,
        "EXCHANGE_API_KEY": DEMO_KEY,
        "EXCHANGE_API_SECRET": DEMO_SECRET,
        **FAST,
        **extra,
    }


@dataclass(frozen=True)
class CliRun:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out)

    def assert_no_secret(self) -> None:
        for secret in SECRETS:
            assert secret not in self.out and secret not in self.err


def run_app(tmp_path, exchange, *args: str, **extra) -> CliRun:
    """`python app.py ...` in its own process, with only the settings given here."""
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(settings_environment(tmp_path, exchange, **extra), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "app.py", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    run = CliRun(done.returncode, done.stdout, done.stderr)
    run.assert_no_secret()
    return run


@pytest.fixture
def cli(tmp_path, exchange, monkeypatch, capsys):
    """`app.main([...])` in this process (much faster than a subprocess) with only the
    settings given; returns the exit code and what it printed."""

    def run(*args: str, stderr=None, **extra) -> CliRun:
        for name in Settings.model_fields:
            monkeypatch.delenv(name, raising=False)
        for name, value in settings_environment(tmp_path, exchange, **extra).items():
            monkeypatch.setenv(name, value)
        if stderr is not None:
            monkeypatch.setattr(sys, "stderr", stderr)
        code = app.main(list(args))
        out, err = capsys.readouterr()
        result = CliRun(code, out, err)
        result.assert_no_secret()
        return result

    return run


@pytest.fixture
def live(make_engine):
    return make_engine(live=True, **FAST)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "trading.db"


# --- the desk's report ---------------------------------------------------------------


def test_the_desk_report_is_found_planned_and_repaired_in_one_round(
    live, control, markets, db_path
):
    report = set_up_desk_report(live.db, control, markets)
    service = live.service

    control.clear_requests()
    [check] = service.monitoring.run(Policy.REPORT, execute=False)
    assert check.ok, check.error
    assert counts_of(check.discrepancies) == {
        "orphan_db": 9,
        "orphan_exchange": 8,
        "qty_mismatch": 7,
    }
    by_kind = {
        kind: sorted(d.symbol for d in check.discrepancies if d.kind is kind)
        for kind in DiscrepancyKind
    }
    assert by_kind[DiscrepancyKind.ORPHAN_DB] == report.gone
    assert by_kind[DiscrepancyKind.ORPHAN_EXCHANGE] == report.unknown
    assert by_kind[DiscrepancyKind.QTY_MISMATCH] == report.wrong
    # one snapshot: balances, open orders and the tickers of what it watches or holds,
    # each by symbol: together they weigh less than one read of every market (MEXC: 40)
    tickers = [c for c in control.requests_log() if c["path"] == "/api/v3/ticker/24hr"]
    assert all(c["symbol"] for c in tickers) and len(tickers) < 40
    assert check.api_calls == 4 + len(tickers)  # and the deposit and withdrawal histories

    before = database_rows(db_path)
    [dry] = service.monitoring.run(Policy.ADOPT, execute=False)
    assert counts_of(dry.actions) == {"close": 9, "create": 8, "resize": 7}
    assert database_rows(db_path) == before

    link = AccountLink("default", service.wiring.live_gateway())
    with live.db.session() as session:
        predicted = apply(recorded_positions(session, link), dry.actions, NOW)

    [applied] = service.monitoring.run(Policy.ADOPT, execute=True)
    assert counts_of(applied.actions) == {"close": 9, "create": 8, "resize": 7}

    positions = open_positions(live.db)
    assert sorted(positions) == sorted(report.unknown + report.wrong + report.in_sync)
    for symbol in report.unknown + report.wrong:
        assert positions[symbol].qty == report.held[symbol]
        assert positions[symbol].last_price == markets[symbol].price
    for symbol in report.unknown:  # the real entry is unknown: the mark price stands in
        assert positions[symbol].cost_basis == report.held[symbol] * markets[symbol].price
    for symbol in report.wrong:  # the recorded coins keep their cost; those that came in: the mark
        recorded, price = markets[symbol].worth("60"), markets[symbol].price
        came_in = report.held[symbol] - recorded
        assert positions[symbol].cost_basis == recorded * price * D("0.9") + came_in * price
    assert positions[report.in_sync[0]].qty == report.held[report.in_sync[0]] + (
        markets[report.in_sync[0]].step
    )
    with live.db.session() as session:
        gone_rows = [
            repo.position_row(session, repo.BookKey("live", "default"), s) for s in report.gone
        ]
        assert all(not p.is_open and p.qty == 0 for p in gone_rows)
        written = recorded_positions(session, link)
    assert [(p.symbol, p.qty, p.price) for p in written] == [
        (p.symbol, p.qty, p.price) for p in predicted
    ]

    [run] = monitor_runs(live.db)
    details = json.loads(run.details)
    assert run.ok and run.policy == "adopt"
    assert len(details["actions"]) == 24
    assert {a["kind"] for a in details["actions"]} == {"close", "create", "resize"}
    for action in details["actions"]:
        assert action.keys() >= {"kind", "reason", "before_qty", "after_qty", "symbol"}
    resized = next(a for a in details["actions"] if a["symbol"] == report.wrong[0])
    assert (resized["reason"], D(resized["before_qty"]), D(resized["after_qty"])) == (
        "qty_mismatch",
        markets[report.wrong[0]].worth("60"),
        report.held[report.wrong[0]],
    )

    [after] = service.monitoring.run(Policy.REPORT, execute=False)
    assert after.discrepancies == []
    [again] = service.monitoring.run(Policy.ADOPT, execute=True)
    assert {a.kind for a in again.actions} <= {ActionKind.REPRICE}


def test_the_desk_report_through_the_command_line(
    tmp_path, exchange, live, control, markets, db_path
):
    set_up_desk_report(live.db, control, markets)
    before = database_rows(db_path)

    found = run_app(tmp_path, exchange, "diagnose", "--json")
    assert found.code == 1, found.err
    assert set(found.json) == {"discrepancies", "counts", "errors", "notes"}
    assert found.json["counts"] == {"orphan_db": 9, "orphan_exchange": 8, "qty_mismatch": 7}
    assert found.json["errors"] == []
    assert all(set(d) == DISCREPANCY_FIELDS for d in found.json["discrepancies"])
    mismatch = next(d for d in found.json["discrepancies"] if d["kind"] == "qty_mismatch")
    assert D(mismatch["recorded_qty"]) != D(mismatch["exchange_qty"])
    assert found.err == ""  # quiet under --json

    planned = run_app(tmp_path, exchange, "sync", "--json")
    assert planned.code == 0, planned.err
    assert planned.json["dry_run"] is True
    assert planned.json["counts"] == {"close": 9, "create": 8, "resize": 7}
    assert all(set(a) == ACTION_FIELDS for a in planned.json["actions"])
    assert database_rows(db_path) == before

    applied = run_app(tmp_path, exchange, "sync", "--execute", "--json")
    assert applied.code == 0, applied.err
    assert applied.json["dry_run"] is False
    assert applied.json["counts"] == {"close": 9, "create": 8, "resize": 7}

    clean = run_app(tmp_path, exchange, "diagnose", "--json")
    assert clean.code == 0, clean.err
    assert clean.json["discrepancies"] == [] and clean.json["counts"] == {}

    second = run_app(tmp_path, exchange, "sync", "--execute", "--json")
    assert second.code == 0, second.err
    assert set(second.json["counts"]) <= {"reprice"}
    for table, rows in database_rows(db_path).items():
        for secret in SECRETS:
            assert secret not in repr(rows), f"{secret!r} written into {table}"


def test_people_get_a_table_and_a_summary_line(cli, live, control, markets):
    set_up_desk_report(live.db, control, markets)
    found = cli("diagnose")
    assert found.code == 1
    lines = found.out.strip().splitlines()
    assert lines[0].split()[:3] == ["kind", "account", "symbol"]
    assert set(lines[1]) <= {"-", " "}
    assert len(lines) == 2 + 24 + 1
    assert lines[-1].startswith("24 discrepancies")
    assert "9 orphan_db" in lines[-1] and "8 orphan_exchange" in lines[-1]
    assert "7 qty_mismatch" in lines[-1]

    planned = cli("sync")
    assert planned.code == 0
    assert "would apply 24 actions (9 close, 8 create, 7 resize)" in planned.out
    assert "nothing was written" in planned.out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_and_never_under_json(cli, live, control):
    terminal = Terminal()
    cli("diagnose", stderr=terminal)
    assert "[1/1] checking default" in terminal.getvalue()
    quiet = Terminal()
    cli("diagnose", "--json", stderr=quiet)
    assert quiet.getvalue() == ""


def test_the_report_policy_records_the_findings_and_changes_no_position(
    live, control, markets, db_path
):
    set_up_desk_report(live.db, control, markets)
    with live.db.session() as session:
        positions_before = [
            (p.symbol, p.qty, p.is_open, p.last_price)
            for p in repo.positions(session, repo.BookKey("live", "default"))
        ]
    [check] = live.service.monitoring.run(Policy.REPORT, execute=True)
    assert check.actions == []
    with live.db.session() as session:
        positions_after = [
            (p.symbol, p.qty, p.is_open, p.last_price)
            for p in repo.positions(session, repo.BookKey("live", "default"))
        ]
    assert positions_after == positions_before
    [run] = monitor_runs(live.db)
    assert len(json.loads(run.details)["discrepancies"]) == 24


def test_coins_locked_in_an_open_order_still_count_as_held(live, control, markets):
    control.set_balances({"SOL": "2"})
    record_position(live.db, "SOL/USDT", D("2"), markets["SOL/USDT"].price)
    gateway = live.service.wiring.live_gateway()
    far_above = float(markets["SOL/USDT"].price * 10)
    gateway._ready().create_order("SOL/USDT", "limit", "sell", 0.5, far_above)
    assert control.balance(DEMO_KEY, "SOL") == (D("1.5"), D("0.5"))
    [check] = live.service.monitoring.run(Policy.REPORT, execute=False)
    assert check.discrepancies == []
    assert check.open_orders == {"SOL/USDT": 1}


# --- stale prices --------------------------------------------------------------------


def test_an_old_recorded_price_is_stale_and_sync_reprices_it(make_engine, control, markets):
    engine = make_engine(live=True, STALE_PRICE_SECONDS="60", **FAST)
    sol = markets["SOL/USDT"]
    control.set_balances({"SOL": "2"})
    two_minutes_ago = utcnow() - timedelta(minutes=2)
    record_position(engine.db, "SOL/USDT", D("2"), D("150"), price_time=two_minutes_ago)

    [check] = engine.service.monitoring.run(Policy.REPORT, execute=False)
    assert [(d.kind, d.symbol) for d in check.discrepancies] == [
        (DiscrepancyKind.STALE_PRICE, "SOL/USDT")
    ]
    [planned] = engine.service.monitoring.run(Policy.ADOPT, execute=False)
    assert [(a.kind, a.price, a.after_qty) for a in planned.actions] == [
        (ActionKind.REPRICE, sol.price, D("2"))
    ]
    engine.service.monitoring.run(Policy.ADOPT, execute=True)
    position = open_positions(engine.db)["SOL/USDT"]
    assert (position.qty, position.last_price) == (D("2"), sol.price)
    assert position.price_time > two_minutes_ago
    [after] = engine.service.monitoring.run(Policy.REPORT, execute=False)
    assert after.discrepancies == []


# --- several accounts ----------------------------------------------------------------


def write_accounts(tmp_path, *entries: dict, name: str = "accounts.toml") -> Path:
    lines = []
    for entry in entries:
        lines.append("[[accounts]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in entry.items()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def keyed_entry(name: str, url: str, prefix: str) -> dict:
    return {
        "name": name,
        "url": url,
        "api_key_env": f"{prefix}_API_KEY",
        "api_secret_env": f"{prefix}_API_SECRET",
    }


ACCOUNT_KEYS = {
    "MAIN_API_KEY": DEMO_KEY,
    "MAIN_API_SECRET": DEMO_SECRET,
    "DESK_API_KEY": DESK_KEY,
    "DESK_API_SECRET": DESK_SECRET,
}


@pytest.fixture
def two_accounts(tmp_path, exchange, control, live, markets):
    """`main` (the demo account) holds ETH as recorded and lost its DOGE; `desk` holds
    less SOL than recorded and ADA the database never saw."""
    control.create_account(DESK_KEY, DESK_SECRET, {"USDT": "500", "SOL": "2", "ADA": "300"})
    control.set_balances({"ETH": "0.5"})
    record_position(live.db, "ETH/USDT", D("0.5"), markets["ETH/USDT"].price, account="main")
    record_position(live.db, "DOGE/USDT", D("400"), markets["DOGE/USDT"].price, account="main")
    record_position(live.db, "SOL/USDT", D("3"), markets["SOL/USDT"].price, account="desk")
    path = write_accounts(
        tmp_path,
        keyed_entry("main", exchange.url, "MAIN"),
        keyed_entry("desk", exchange.url, "DESK"),
    )
    return {"ACCOUNTS_FILE": str(path), **ACCOUNT_KEYS}


def test_every_account_in_the_accounts_file_is_diagnosed(cli, two_accounts):
    found = cli("diagnose", "--json", **two_accounts)
    assert found.code == 1, found.err
    assert [(d["account"], d["symbol"], d["kind"]) for d in found.json["discrepancies"]] == [
        ("main", "DOGE/USDT", "orphan_db"),
        ("desk", "ADA/USDT", "orphan_exchange"),
        ("desk", "SOL/USDT", "qty_mismatch"),
    ]

    desk_only = cli("diagnose", "--json", "--account", "desk", **two_accounts)
    assert desk_only.code == 1
    assert {d["account"] for d in desk_only.json["discrepancies"]} == {"desk"}
    assert desk_only.json["counts"] == {"orphan_exchange": 1, "qty_mismatch": 1}

    repaired = cli("sync", "--execute", "--json", "--account", "desk", **two_accounts)
    assert repaired.json["counts"] == {"create": 1, "resize": 1}
    after = cli("diagnose", "--json", **two_accounts)
    assert [(d["account"], d["kind"]) for d in after.json["discrepancies"]] == [
        ("main", "orphan_db")
    ]


def test_an_unknown_account_is_refused_with_the_known_names(cli, two_accounts, db_path):
    before = database_rows(db_path)
    refused = cli("sync", "--execute", "--account", "nope", **two_accounts)
    assert refused.code == 2
    assert "unknown account 'nope'" in refused.err
    assert "main" in refused.err and "desk" in refused.err
    assert refused.out == ""
    assert database_rows(db_path) == before


def test_one_exchange_down_is_reported_and_the_others_are_still_checked_and_repaired(
    cli, tmp_path, exchange, control, live, markets, db_path
):
    control.set_balances({"SOL": "2"})
    record_position(live.db, "ETH/USDT", D("1.5"), markets["ETH/USDT"].price, account="offline")
    record_position(live.db, "BTC/USDT", D("0.01"), markets["BTC/USDT"].price, account="offline")
    path = write_accounts(
        tmp_path,
        keyed_entry("main", exchange.url, "MAIN"),
        keyed_entry("offline", "http://127.0.0.1:9", "DESK"),
    )
    accounts = {"ACCOUNTS_FILE": str(path), **ACCOUNT_KEYS}

    found = cli("diagnose", "--json", **accounts)
    assert found.code == 2
    assert [(d["account"], d["symbol"], d["kind"]) for d in found.json["discrepancies"]] == [
        ("main", "SOL/USDT", "orphan_exchange")
    ]
    [error] = found.json["errors"]
    assert error["account"] == "offline" and "unreachable" in error["error"]

    with live.db.session() as session:
        offline_before = [
            (p.symbol, p.qty, p.is_open, p.last_price, p.price_time)
            for p in repo.positions(session, repo.BookKey("live", "offline"))
        ]
    repaired = cli("sync", "--execute", "--json", **accounts)
    assert repaired.code == 2
    assert [(a["account"], a["kind"]) for a in repaired.json["actions"]] == [("main", "create")]
    assert [e["account"] for e in repaired.json["errors"]] == ["offline"]
    assert open_positions(live.db, "main")["SOL/USDT"].qty == D("2")
    with live.db.session() as session:
        offline_after = [
            (p.symbol, p.qty, p.is_open, p.last_price, p.price_time)
            for p in repo.positions(session, repo.BookKey("live", "offline"))
        ]
    assert offline_after == offline_before
    [failed] = monitor_runs(live.db, "offline")
    assert not failed.ok and "failed" in failed.message


# --- bad input -----------------------------------------------------------------------


def bad_accounts_files(tmp_path, url: str) -> dict[str, tuple[Path, str]]:
    entry = keyed_entry("main", url, "MAIN")
    missing_variable = {**entry, "api_secret_env": "NOBODY_SET_THIS_SECRET"}
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text('[[accounts]]\nname = "main\n', encoding="utf-8")
    return {
        "missing file": (tmp_path / "nowhere.toml", "cannot read it"),
        "bad TOML": (bad_toml, "not valid TOML"),
        "missing key variable": (
            write_accounts(tmp_path, missing_variable, name="unset.toml"),
            "NOBODY_SET_THIS_SECRET",
        ),
        "duplicate names": (
            write_accounts(tmp_path, entry, entry, name="twice.toml"),
            "'main' appears twice",
        ),
    }


@pytest.mark.parametrize(
    "problem", ["missing file", "bad TOML", "missing key variable", "duplicate names"]
)
def test_an_unusable_accounts_file_stops_the_run_before_anything_is_written(
    problem, cli, tmp_path, exchange, live, control, markets, db_path
):
    record_position(live.db, "DOGE/USDT", D("400"), markets["DOGE/USDT"].price, account="main")
    path, says = bad_accounts_files(tmp_path, exchange.url)[problem]
    before = database_rows(db_path)
    for command in (["diagnose", "--json"], ["sync", "--execute", "--json"]):
        refused = cli(*command, ACCOUNTS_FILE=str(path), **ACCOUNT_KEYS)
        assert refused.code == 2
        assert refused.err.startswith("error: ACCOUNTS_FILE")
        assert says in refused.err
        assert refused.out == ""
    assert database_rows(db_path) == before


@pytest.mark.parametrize(("column", "garbage"), [("qty", "abc"), ("price_time", "yesterday")])
def test_a_corrupt_position_row_stops_the_run_before_anything_is_written(
    column, garbage, cli, live, control, markets, db_path
):
    report = set_up_desk_report(live.db, control, markets)
    with sqlite3.connect(db_path) as connection:
        connection.execute(
            f"UPDATE positions SET {column} = ? WHERE symbol = ?", (garbage, report.wrong[0])
        )
    before = database_rows(db_path)
    for command in (["diagnose", "--json"], ["sync", "--execute", "--json"]):
        refused = cli(*command)
        assert refused.code == 2
        assert "unreadable value" in refused.err
        assert f"position {report.wrong[0]} of account 'default'" in refused.err
        assert "nothing was changed" in refused.err
        assert refused.out == ""
    assert database_rows(db_path) == before


# --- what --execute writes is what the pure rules predict -----------------------------


def test_execute_writes_exactly_what_reconcile_apply_predicts(tmp_path):
    """Random books written to a real database, the adopt plan applied as `sync --execute`
    does, read back: the same positions `core.monitoring.reconcile.apply` computes."""
    db = Database.open(f"sqlite:///{tmp_path}/apply.db")

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(books())
    def check(world):
        with db.session() as session:
            session.execute(delete(Position))
            session.execute(delete(LedgerEntry))  # each example is a new book
            for p in world.recorded:
                position = repo.position_row(session, repo.BookKey("live", p.account), p.symbol)
                position.qty, position.cost_basis = p.qty, p.qty
                position.last_price, position.price_time = p.price, p.price_time
                position.is_open = True
        actions = plan(world.diagnose(), Policy.ADOPT)
        with db.session() as session:
            for account in {a.account for a in actions}:
                mine = [a for a in actions if a.account == account]
                repairs.apply_actions(session, repo.BookKey("live", account), mine, NOW)
        accounts = sorted({p.account for p in world.recorded} | {a.account for a in actions})
        with db.session() as session:
            written = [
                p
                for account in accounts
                for p in recorded_positions(session, AccountLink(account, gateway=None))
            ]
        assert written == apply(world.recorded, actions, NOW)

    try:
        check()
    finally:
        db.dispose()
