"""Cash moved in or out of the account outside the app, against the emulator over real HTTP
with the real ccxt client and SQLite: USDT deposited and withdrawn through the emulator's
control API (as the exchange's own app would), then the periodic check, twice. Each
completed one is one ledger transfer of USDT and one external change told once (an event
waiting for an acknowledgement, an alert); equity rises or falls by it, equity net of the
changes outside the app does not, nor Results' realized PnL, nor the drawdown. A pending
one moves nothing and is not recorded; one completed before the app first read the account
was part of its start; an unreadable history stores nothing and the check says so."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from core.domain import Mode, Policy, PositionState, TradeSize, TransferKind
from core.monitoring.monitor import AccountLink, Monitor
from core.store import ledger
from core.store import repository as repo
from core.store.db import Database

BOOK = repo.BookKey(Mode.LIVE.value, "default")
FAST = {"EXCHANGE_TIMEOUT_MS": "2000", "RECV_WINDOW_MS": "2000"}
D = Decimal


@pytest.fixture
def live(make_engine):
    """A LIVE desk on the demo account, its account read once by the periodic check."""
    engine = make_engine(live=True, **FAST)
    assert engine.service.modes.request(Mode.LIVE).ok
    checked(engine.service)
    return engine


def checked(service):
    view = service.monitoring.periodic_check()
    assert view is not None and view.ok, view and view.error
    return view


def cash_entries(engine) -> list:
    with engine.db.session() as session:
        return ledger.entries(session, BOOK, "USDT")


def told(service) -> list:
    return [e for e in service.events.events(mode=Mode.LIVE) if e.kind == "external_change"]


def test_a_usdt_deposit_is_one_transfer_told_once_and_never_profit(live, control):
    service = live.service
    before = service.insights.results(mode=Mode.LIVE)
    control.transfer("deposit", "1000")
    control.transfer("deposit", "250", status="pending")  # nothing moves, nothing recorded

    first, second = checked(service), checked(service)
    [change] = first.external_changes
    assert (change.symbol, change.reported, change.delta, change.value) == (
        "USDT",
        TransferKind.DEPOSIT,
        D(1000),
        D(1000),
    )
    assert second.external_changes == ()
    [entry] = cash_entries(live)
    assert (entry.kind, entry.side, entry.change, entry.price, entry.origin) == (
        "transfer",
        "in",
        D(1000),
        D(1),
        "monitor",
    )
    [event] = told(service)
    assert event.text == "USDT deposit of 1,000.00 outside the app" and event.needs_ack
    page = service.reads.dashboard()
    assert [w.id for w in page.waiting] == [event.id]
    assert "USDT changed outside the app" in page.badge.detail
    alerts = [a for a in service.insights.alerts(mode=Mode.LIVE) if a.kind == "external_change"]
    assert len(alerts) == 1

    results = service.insights.results(mode=Mode.LIVE)
    assert results.equity[0][1] == D(10000) and results.equity[-1][1] == D(11000)
    assert {value for _, value in results.traded} == {D(10000)}  # net of the deposit
    assert results.outside == D(1000) and results.drawdown.max_abs == 0
    assert (results.realized, results.fees) == (before.realized, before.fees) == (0, 0)
    assert results.open == () and results.closed == ()  # cash is in no round trip

    out = io.StringIO()
    service.insights.export("ledger", out, mode=Mode.LIVE)
    [row] = csv.DictReader(io.StringIO(out.getvalue()))
    assert (row["symbol"], row["kind"], row["side"], D(row["change"])) == (
        "USDT",
        "transfer",
        "in",
        D(1000),
    )


def test_a_usdt_withdrawal_with_its_fee_is_no_loss_and_no_drawdown(live, control):
    """An ETH round trip first (realized PnL of its own), then 500 USDT withdrawn, 1 of it
    the network's fee: the balance falls by 500, and so do equity and the ledger."""
    service = live.service
    bought = service.trading.trade("ETH/USDT", PositionState.LONG, TradeSize(quote_amount=D(800)))
    assert bought.ok, bought.message
    sold = service.trading.trade("ETH/USDT", PositionState.NO_POSITION)
    assert sold.ok, sold.message
    checked(service)
    before = service.insights.results(mode=Mode.LIVE)
    cash = control.balance("demo-key", "USDT")[0]

    control.transfer("withdrawal", "500", fee="1")
    assert control.balance("demo-key", "USDT")[0] == cash - 500
    [change] = checked(service).external_changes
    assert (change.reported, change.delta) == (TransferKind.WITHDRAWAL, D(-500))
    assert checked(service).external_changes == ()
    [entry] = cash_entries(live)
    assert (entry.side, entry.change) == ("out", D(-500))
    [event] = told(service)
    assert event.text == "USDT withdrawal of 500.00 outside the app"

    results = service.insights.results(mode=Mode.LIVE)
    assert results.equity[-1][1] == before.equity[-1][1] - 500
    assert results.traded[-1][1] == before.traded[-1][1]
    assert results.drawdown.max_abs == before.drawdown.max_abs
    assert (results.realized, results.fees) == (before.realized, before.fees)
    assert results.outside == before.outside - 500
    assert [t.symbol for t in results.closed] == ["ETH/USDT"]


def test_a_deposit_made_before_the_app_first_read_the_account_was_its_start(make_engine, control):
    control.transfer("deposit", "1000")
    engine = make_engine(live=True, **FAST)
    assert engine.service.modes.request(Mode.LIVE).ok
    view = checked(engine.service)
    assert view.external_changes == () and cash_entries(engine) == []
    assert told(engine.service) == []


@pytest.mark.parametrize("mode", ["nan_numbers", "unknown_status", "html_body"])
def test_an_unreadable_history_stores_nothing_and_the_check_says_so(live, control, mode):
    service = live.service
    control.transfer("deposit", "1000")
    path = "/api/v3/capital/deposit/hisrec"
    control.faults({"fail": {"method": "GET", "path": path, "mode": mode}})

    view = service.monitoring.periodic_check()
    assert not view.ok and "answered something unreadable" in view.error
    assert "reading deposits and withdrawals" in view.error
    assert cash_entries(live) == [] and told(service) == []

    [change] = checked(service).external_changes  # read again, once readable
    assert change.delta == D(1000) and len(cash_entries(live)) == 1 == len(told(service))


def test_diagnose_says_when_a_venue_does_not_report_deposits(tmp_path, gateways):
    database = Database.open(f"sqlite:///{tmp_path}/monitor.db")
    monitor = Monitor(database, stale_after=timedelta(minutes=5))
    links = [AccountLink(name, gateways[name]) for name in ("mexc", "bybit")]
    mexc, bybit = monitor.check(links, Policy.REPORT, execute=False)
    assert mexc.notes == []
    assert bybit.notes == [
        "Bybit does not report deposits and withdrawals to the app: USDT moved in or out "
        "outside it is not in the ledger"
    ]


def test_a_holding_changed_outside_the_app_is_told_when_the_history_is_unreadable(live, control):
    """The check repairs ETH (its own read was fine) while the history it read beside is
    unreadable: the check fails in part, and the ETH it recorded is still told, once."""
    service = live.service
    bought = service.trading.trade("ETH/USDT", PositionState.LONG, TradeSize(quote_amount=D(500)))
    assert bought.ok, bought.message
    held = control.balance("demo-key", "ETH")[0]
    control.set_balances({"ETH": str(held / 2)})
    path = "/api/v3/capital/withdraw/history"
    control.faults({"fail": {"method": "GET", "path": path, "mode": "html_body"}})

    view = service.monitoring.periodic_check()
    assert not view.ok and "answered something unreadable" in view.error
    [change] = view.external_changes
    assert change.symbol == "ETH/USDT"
    [event] = told(service)
    assert event.text.startswith("ETH holdings changed outside the app")
    assert checked(service).external_changes == () and len(told(service)) == 1
