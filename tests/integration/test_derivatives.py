"""Derivative accounts through the app's own gateway and monitor: the real ccxt `bybit` and
`binanceusdm` classes against the emulator's dialects over HTTP, then one diagnose and one
sync over a MEXC spot, a Bybit linear and a Binance USD-M account together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from core.domain import DiscrepancyKind, Policy, Side
from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_gateway import CcxtTradingGateway
from core.exchange.ccxt_market import CcxtMarketData
from core.exchange.gateway import OrderRejected
from core.monitoring.monitor import AccountLink, Monitor
from core.store import repository as repo
from core.store.db import Database
from core.store.models import utcnow
from emulator.control_client import ControlClient

ROOT = Path(__file__).resolve().parents[2]
DIALECTS = ["bybit", "binanceusdm"]
BTC = "BTC/USDT:USDT"


def take(gateway, side: Side, amount: str, client_order_id: str, reduce_only: bool = False):
    book = gateway.market.order_book(BTC)
    price = (
        book.best_ask * Decimal("1.002") if side is Side.BUY else book.best_bid * Decimal("0.998")
    )
    rules = gateway.market.market_rules(BTC)
    price = (price / rules.price_step).quantize(Decimal(1)) * rules.price_step
    gateway.place_limit_order(
        BTC, side, Decimal(amount), price, client_order_id, reduce_only=reduce_only
    )
    return gateway.order_by_client_id(BTC, client_order_id)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_open_long_and_short_and_close_reduce_only(gateways, dialect):
    gateway = gateways[dialect]
    assert BTC in gateway.market.symbols()
    assert take(gateway, Side.BUY, "0.01", "long-1").filled == Decimal("0.01")
    [long] = gateway.snapshot("acct").positions
    assert long.qty == Decimal("0.01") and long.entry_price > 0 and long.leverage > 0
    assert long.mark_price > 0 and long.liquidation_price is not None

    assert take(gateway, Side.SELL, "0.01", "close-1", reduce_only=True).filled == Decimal("0.01")
    assert gateway.snapshot("acct").positions == ()
    with pytest.raises(OrderRejected):
        take(gateway, Side.SELL, "0.01", "close-2", reduce_only=True)

    take(gateway, Side.SELL, "0.02", "short-1")
    [short] = gateway.snapshot("acct").positions
    assert short.qty == Decimal("-0.02")
    assert gateway.order_by_client_id(BTC, "never-sent") is None


def test_one_diagnose_and_one_sync_over_three_exchanges(tmp_path, gateways, venues):
    controls = {name: ControlClient(server.url) for name, server in venues.items()}
    controls["mexc"].set_balances({"ETH": "1.5", "SOL": "4"})
    controls["bybit"].set_positions(
        {
            "BTCUSDT": {"size": "-0.5", "entry_price": "97000", "leverage": "5"},
            "ETHUSDT": {"size": "2", "entry_price": "3400", "leverage": "10"},
        }
    )
    controls["binanceusdm"].set_positions(
        {"SOLUSDT": {"size": "30", "entry_price": "180", "leverage": "3"}}
    )

    db = Database.open(f"sqlite:///{tmp_path}/monitor.db")
    now = utcnow()
    recorded = {
        "spot": [
            ("ETH/USDT", "1.5"),
            ("BTC/USDT", "0.2"),
        ],  # BTC gone from the exchange; SOL unknown
        "bybit": [
            ("BTC/USDT:USDT", "0.5"),
            ("ETH/USDT:USDT", "1"),
        ],  # long recorded, short held; 1 vs 2
        "binance": [("SOL/USDT:USDT", "30"), ("XRP/USDT:USDT", "100")],  # in sync; XRP gone
    }
    with db.session() as session:
        for account, rows in recorded.items():
            for symbol, qty in rows:
                position = repo.position_row(session, repo.BookKey("live", account), symbol)
                position.qty, position.cost_basis, position.is_open = (
                    Decimal(qty),
                    Decimal(qty) * 100,
                    True,
                )
                position.last_price, position.price_time = Decimal(100), now

    links = [
        AccountLink("spot", gateways["mexc"]),
        AccountLink("bybit", gateways["bybit"]),
        AccountLink("binance", gateways["binanceusdm"]),
    ]
    monitor = Monitor(db, stale_after=timedelta(hours=1))
    checks = monitor.check(links, Policy.ADOPT, execute=False)
    found = {(d.account, d.symbol): d.kind for c in checks for d in c.discrepancies}
    assert found == {
        ("spot", "BTC/USDT"): DiscrepancyKind.ORPHAN_DB,
        ("spot", "SOL/USDT"): DiscrepancyKind.ORPHAN_EXCHANGE,
        ("bybit", "BTC/USDT:USDT"): DiscrepancyKind.SIDE_MISMATCH,
        ("bybit", "ETH/USDT:USDT"): DiscrepancyKind.QTY_MISMATCH,
        ("binance", "XRP/USDT:USDT"): DiscrepancyKind.ORPHAN_DB,
    }

    monitor.check(links, Policy.ADOPT, execute=True)
    again = monitor.check(links, Policy.ADOPT, execute=False)
    assert [d for c in again for d in c.discrepancies] == []
    with db.session() as session:
        short = repo.position_row(session, repo.BookKey("live", "bybit"), BTC)
        assert short.qty == Decimal("-0.5") and short.state == "SHORT"
        assert short.cost_basis / short.qty == Decimal(97000) and short.leverage == Decimal(5)
        assert short.liquidation_price is not None

    unreachable = CcxtTradingGateway(
        CcxtMarketData(Connection("bybit", "http://127.0.0.1:9", 1000)), "k", "s"
    )
    links[1] = AccountLink("bybit", unreachable)
    down = {c.account: c for c in monitor.check(links, Policy.ADOPT, execute=True)}
    assert down["bybit"].error and not down["bybit"].discrepancies
    assert down["spot"].ok and down["binance"].ok
    with db.session() as session:
        still = repo.position_row(session, repo.BookKey("live", "bybit"), BTC)
        assert still.qty == Decimal("-0.5") and still.is_open


def test_diagnose_and_sync_commands_over_three_exchanges_from_an_accounts_file(tmp_path, venues):
    controls = {name: ControlClient(server.url) for name, server in venues.items()}
    for control in controls.values():
        control.reset()
    controls["mexc"].set_balances({"ETH": "2"})
    controls["bybit"].set_positions(
        {"BTCUSDT": {"size": "-0.25", "entry_price": "97000", "leverage": "4"}}
    )
    controls["binanceusdm"].set_positions(
        {"ETHUSDT": {"size": "3", "entry_price": "3400", "leverage": "2"}}
    )
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        "".join(
            f'[[accounts]]\nname = "{name}"\nexchange = "{exchange}"\nurl = "{venues[exchange].url}"\n'
            'api_key_env = "DEMO_KEY"\napi_secret_env = "DEMO_SECRET"\n\n'
            for name, exchange in (("spot", "mexc"), ("bybit", "bybit"), ("usdm", "binanceusdm"))
        )
    )
    env = {
        **os.environ,
        "ACCOUNTS_FILE": str(accounts),
        "DEMO_KEY": "demo-key",
        "DEMO_SECRET": "demo-secret",
        "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "EXCHANGE_URL": venues["mexc"].url,
        "PYTHONPATH": str(ROOT),
    }

    def run(*args):
        done = subprocess.run(
            [sys.executable, "app.py", *args, "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "demo-secret" not in done.stdout + done.stderr
        return done.returncode, json.loads(done.stdout)

    code, found = run("diagnose")
    assert code == 1
    assert {
        (d["account"], d["symbol"], Decimal(d["exchange_qty"])) for d in found["discrepancies"]
    } == {
        ("spot", "ETH/USDT", Decimal("2")),
        ("bybit", "BTC/USDT:USDT", Decimal("-0.25")),
        ("usdm", "ETH/USDT:USDT", Decimal("3")),
    }
    assert found["counts"] == {"orphan_exchange": 3}
    code, applied = run("sync", "--execute")
    assert code == 0 and applied["counts"] == {"create": 3}
    code, after = run("diagnose")
    assert code == 0 and after["discrepancies"] == []


def test_the_dashboard_lists_monitored_derivative_positions_with_their_details(
    tmp_path, venues, make_engine
):
    ControlClient(venues["bybit"].url).reset()
    ControlClient(venues["bybit"].url).set_positions(
        {"BTCUSDT": {"size": "-0.5", "entry_price": "97000", "leverage": "5"}}
    )
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[accounts]]\nname = "desk-bybit"\nexchange = "bybit"\nurl = "{venues["bybit"].url}"\n'
        'api_key = "demo-key"\napi_secret = "demo-secret"\n'
    )
    service = make_engine(ACCOUNTS_FILE=str(accounts)).service
    [check] = service.monitoring.run(Policy.ADOPT, execute=True)
    assert [d.kind for d in check.discrepancies] == [DiscrepancyKind.ORPHAN_EXCHANGE]
    view = service.reads.dashboard()
    [short] = [p for p in view.derivatives if p.account == "desk-bybit"]
    assert (short.exchange, short.symbol, short.side, short.qty) == (
        "Bybit",
        BTC,
        "short",
        Decimal("-0.5"),
    )
    assert short.entry == Decimal(97000) and short.leverage == Decimal(5)
    assert short.entry_source == "exchange"
    assert short.mark > 0 and short.liquidation_price > short.entry
    assert short.unrealized == (short.mark - short.entry) * short.qty
    assert all(p.symbol != BTC for p in view.positions)  # the traded account's cards only
