"""SIM end to end below the page: the service, the paper gateway and the executor against
the emulator's real order book over HTTP, with a real SQLite database."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.config import load_settings
from core.domain import Mode, PositionState, TradeSize
from core.service import InputError, StartupError, parse_size
from core.store.models import FillRecord, Order, SyncRun

LONG, SHORT, FLAT = PositionState.LONG, PositionState.SHORT, PositionState.NO_POSITION


def count(engine, model) -> int:
    with engine.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def wait_for(read, done, seconds: float = 10.0):
    """Read until `done` holds (cached market data expires after a couple of seconds)."""
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def row(view, symbol):
    return next(p for p in view.positions if p.symbol == symbol)


def balance(view, asset):
    return next(b for b in view.balances if b.asset == asset)


def test_buy_sell_close_round_trip_accounts_exactly(make_engine):
    engine = make_engine()
    service = engine.service

    bought = service.trading.trade("ETH/USDT", LONG)
    assert bought.ok, bought.message
    assert bought.before is FLAT and bought.after is LONG  # cash only: nobody asked for SHORT
    assert bought.message.startswith("bought ") and "state LONG verified" in bought.message
    assert bought.fills and all(f.price > 0 for f in bought.fills)

    view = service.reads.dashboard()
    eth = row(view, "ETH/USDT")
    assert eth.state is LONG and eth.state_label == "LONG"
    filled = sum(f.qty for f in bought.fills)
    base_fees = sum(f.fee for f in bought.fills)
    assert eth.qty == filled - base_fees
    spent = sum(f.qty * f.price for f in bought.fills)
    assert balance(view, "USDT").free == Decimal(10000) - spent
    assert balance(view, "ETH").free == eth.qty
    assert spent == pytest.approx(Decimal(9500), rel=Decimal("0.001"))

    sold = service.trading.trade("ETH/USDT", SHORT)
    assert sold.ok, sold.message
    view = service.reads.dashboard()
    eth = row(view, "ETH/USDT")
    assert eth.state is SHORT and eth.state_label == "SHORT (in USDT)"
    rules = service.wiring.market_data.market_rules("ETH/USDT")
    assert eth.qty == balance(view, "ETH").free < rules.min_amount
    assert eth.dust and eth.avg_entry is None and eth.unrealized is None
    assert eth.fees == sum(f.fee_quote for f in [*bought.fills, *sold.fills])
    value_change = view.pnl.equity - Decimal(10000)
    assert abs(eth.realized + view.pnl.unrealized - eth.fees - value_change) < Decimal("1e-18")

    closed = service.trading.trade("ETH/USDT", FLAT)
    assert closed.ok and not closed.orders
    assert "nothing to trade" in closed.message
    assert row(service.reads.dashboard(), "ETH/USDT").state is FLAT


def test_sim_sends_no_signed_request(make_engine, control):
    service = make_engine().service
    control.clear_requests()
    assert service.trading.trade("BTC/USDT", LONG, TradeSize(quote_amount=Decimal(500))).ok
    assert service.trading.trade("BTC/USDT", FLAT).ok
    calls = control.requests_log()
    assert calls, "the trades read the public order book"
    assert not [c for c in calls if c["signed"]]


def test_small_buy_beside_a_large_cash_balance_is_the_long_asked_for(make_engine):
    service = make_engine().service
    result = service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=Decimal(100)))
    assert result.ok, result.message
    assert row(service.reads.dashboard(), "ETH/USDT").state is LONG


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        ("", "quote", "Enter an order size"),
        ("0", "quote", "above zero"),
        ("-5", "quote", "above zero"),
        ("abc", "quote", "must be a number"),
        ("NaN", "quote", "finite"),
        ("1,5", "quote", "use a dot for decimals"),
        ("1,250.50", "quote", "use a dot for decimals"),
        ("101", "pct", "cannot be above 100"),
    ],
)
def test_sizes_that_cannot_be_read_are_refused(text, unit, message):
    with pytest.raises(InputError, match=message):
        parse_size(text, unit)


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (TradeSize(quote_amount=Decimal(20000)), "above the free balance"),
        (TradeSize(quote_amount=Decimal("0.5")), "below the market minimum"),
        (TradeSize(pct_of_free_quote=Decimal("0.001")), "below the market minimum"),
    ],
)
def test_sizes_that_do_not_fit_are_refused_and_nothing_is_written(make_engine, size, message):
    """Checked once, inside the trade's lock, against the balances the trade reads."""
    engine = make_engine()
    result = engine.service.trading.trade("ETH/USDT", LONG, size)
    assert not result.ok and result.refused and message in result.message
    assert count(engine, Order) == 0 and count(engine, SyncRun) == 0


def test_good_sizes_parse_to_exact_decimals():
    assert parse_size(" 1250.50 ", "quote") == TradeSize(quote_amount=Decimal("1250.50"))
    assert parse_size("25", "pct") == TradeSize(pct_of_free_quote=Decimal(25))


def test_a_second_trade_on_the_same_symbol_is_refused_while_one_runs(make_engine, control):
    service = make_engine().service
    control.faults({"latency_ms": 150})
    results = {}

    def run(name):
        results[name] = service.trading.trade("ETH/USDT", LONG)

    first = threading.Thread(target=run, args=("first",))
    first.start()
    threading.Event().wait(0.1)
    run("second")
    first.join()
    assert results["first"].ok
    assert not results["second"].ok
    assert results["second"].message == "a trade for ETH/USDT is already running"
    assert not results["second"].orders


def test_below_minimum_trade_places_no_order(make_engine):
    engine = make_engine(SIM_STARTING_BALANCE="0.5")
    result = engine.service.trading.trade("ETH/USDT", LONG)
    assert not result.ok
    assert "below the market minimum" in result.message
    assert count(engine, Order) == 0 and count(engine, FillRecord) == 0


def test_unknown_symbol_in_settings_stops_start_up(make_engine):
    with pytest.raises(StartupError, match="NOPE/USDT"):
        make_engine(SYMBOLS="ETH/USDT,NOPE/USDT")


def test_going_live_without_keys_is_refused_with_the_reason(make_engine):
    service = make_engine().service
    change = service.modes.request(Mode.LIVE)
    assert not change.ok and change.mode is Mode.SIM
    assert "EXCHANGE_API_KEY" in change.message
    assert service.modes.current() is Mode.SIM


def test_ten_dashboard_refreshes_share_one_ticker_fetch(make_engine, control):
    service = make_engine().service
    service.reads.dashboard()
    control.clear_requests()
    for _ in range(10):
        service.reads.dashboard()
        service.reads.market("ETH/USDT")
    # one fetch at most (the cache may expire once on a slow machine): a symbol's ticker is
    # asked by symbol, so one fetch is one request per symbol shown, never one per refresh
    asked = [c["symbol"] for c in control.requests_log() if c["path"].startswith("/api/v3/ticker")]
    assert len(asked) == len(set(asked)), asked


def test_exchange_down_the_dashboard_still_answers_and_recovers(tmp_path):
    from emulator.server import EmulatorServer
    from runtime import build_engine

    first = EmulatorServer(seed=3, freeze=True)
    first.start(host="127.0.0.1", port=0)
    url = first.url
    engine = build_engine(
        load_settings(DATABASE_URL=f"sqlite:///{tmp_path}/t.db", EXCHANGE_URL=url)
    )
    try:
        assert engine.service.reads.dashboard().exchange_error is None
        first.stop()
        view = wait_for(lambda: engine.service.reads.dashboard(), lambda v: v.exchange_error)
        assert "unreachable" in view.exchange_error
        assert view.badge.text == "SIM" and view.badge.tone == "warning"
        assert engine.service.reads.market("ETH/USDT").error
        second = EmulatorServer(seed=3, freeze=True)
        second.start(host="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
        try:
            deadline = time.monotonic() + 10
            while engine.service.reads.dashboard().exchange_error and time.monotonic() < deadline:
                time.sleep(0.2)
            assert engine.service.reads.dashboard().exchange_error is None
        finally:
            second.stop()
    finally:
        engine.close()
