"""Protection on derivatives and across venues, against the emulator's dialects over HTTP:
a stop placed on the exchange with the position fires with the app stopped and the next
check adopts the close; the monitor's unprotected and orphan_stop on MEXC spot, Bybit and
Binance USD-M, repaired by sync --execute --protect in one round."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain import DiscrepancyKind, Policy
from core.store import protection as stops
from core.store import repository as repo
from emulator.control_client import ControlClient

D = Decimal
BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
DIALECTS = ["bybit", "binanceusdm"]


@pytest.fixture
def controls(venues):
    made = {name: ControlClient(server.url) for name, server in venues.items()}
    for control in made.values():
        control.reset()
    return made


@pytest.fixture
def accounts(tmp_path, venues):
    path = tmp_path / "accounts.toml"
    path.write_text(
        "".join(
            f'[[accounts]]\nname = "{name}"\nexchange = "{name}"\nurl = "{server.url}"\n'
            'api_key = "demo-key"\napi_secret = "demo-secret"\n\n'
            for name, server in venues.items()
        )
    )
    return str(path)


def book(name: str) -> repo.BookKey:
    return repo.BookKey("live", name)


def mark(control: ControlClient, symbol_id: str) -> D:
    return D(control.account()["positions"][symbol_id]["mark_price"])


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_stop_kept_by_the_exchange_fires_with_the_app_stopped_and_the_check_adopts_it(
    make_engine, controls, accounts, dialect
):
    control = controls[dialect]
    control.set_positions(
        {
            "BTCUSDT": {"size": "0.5", "entry_price": "60000", "leverage": "5"},
            "ETHUSDT": {"size": "-2", "entry_price": "3000", "leverage": "5"},
        }
    )
    engine = make_engine(ACCOUNTS_FILE=accounts)
    engine.service.monitoring.run(Policy.ADOPT, execute=True, account=dialect)
    price = mark(control, "BTCUSDT")
    outcome = engine.service.protection.protect(BTC, account=dialect, stop_loss=price - 1000)
    assert outcome.ok and "on exchange" in outcome.message, outcome.message
    assert [o["kind"] for o in control.account()["conditional_orders"]] in (
        ["stop_loss"],
        [],  # Bybit keeps a whole-position stop on the position itself
    )
    engine.close()  # the app stops; the exchange keeps watching

    control.set_price("BTCUSDT", str(price - 1500))
    assert list(control.account()["positions"]) == ["ETHUSDT"]

    restarted = make_engine(ACCOUNTS_FILE=accounts)
    [check] = restarted.service.monitoring.run(Policy.ADOPT, execute=True, account=dialect)
    assert [(d.kind, d.symbol) for d in check.discrepancies] == [(DiscrepancyKind.ORPHAN_DB, BTC)]
    with restarted.db.session() as session:
        open_rows = {p.symbol: p.qty for p in repo.positions(session, book(dialect)) if p.is_open}
        [stop] = stops.latest_stops(session, book(dialect))
    assert open_rows == {ETH: D(-2)}  # the other position is left as it is
    assert stop.status == stops.DONE


def test_unprotected_and_orphan_stops_on_three_venues_are_repaired_in_one_round(
    make_engine, controls, accounts
):
    controls["mexc"].set_balances({"ETH": "1.5"})
    for dialect in DIALECTS:
        controls[dialect].set_positions(
            {"BTCUSDT": {"size": "0.2", "entry_price": "60000", "leverage": "3"}}
        )
    engine = make_engine(ACCOUNTS_FILE=accounts, REQUIRE_STOP_LOSS_PCT="5")
    with engine.db.session() as session:  # an app-side stop left on a coin no longer held
        stops.set_stop(
            session, book("mexc"), "BTC/USDT", side="long", stop_loss=D(50000),
            take_profit=None, placement="app",
        )  # fmt: skip
    found = engine.service.monitoring.run(Policy.REPORT, execute=False)
    kinds = sorted(
        (c.account, d.kind.value, d.symbol)
        for c in found
        for d in c.discrepancies
        if d.kind in (DiscrepancyKind.UNPROTECTED, DiscrepancyKind.ORPHAN_STOP)
    )
    assert kinds == [
        ("binanceusdm", "unprotected", BTC),
        ("bybit", "unprotected", BTC),
        ("mexc", "orphan_stop", "BTC/USDT"),
        ("mexc", "unprotected", "ETH/USDT"),
    ]

    repaired = engine.service.monitoring.run(Policy.ADOPT, execute=True, protect=True)
    assert all(c.ok for c in repaired), [c.error for c in repaired]
    again = engine.service.monitoring.run(Policy.REPORT, execute=False)
    assert [d for c in again for d in c.discrepancies] == []
    for dialect in DIALECTS:  # the stops live on the exchanges now
        held = engine.service.wiring.link(dialect).gateway.stops(dialect, BTC)
        assert [s.kind.value for s in held] == ["stop_loss"]
