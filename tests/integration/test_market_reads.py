"""Market data asks the exchange for what is needed: against the emulator over HTTP with the
real ccxt client, each read counted in the emulator's request log by path and symbol.

One symbol's ticker or book ticker is asked for by symbol on every venue, a few symbols one
by one, every market at once only where that weighs less; the stop watcher reads the book
tickers of the protected symbols only, the periodic check the tickers of what it watches
and holds; markets are read again after their time and after an order refused for the
market's precision or minimum (a failed reload keeps the old ones); and an emulator with
2,000 more markets starts and lists them."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from core.domain import Mode, PositionState, Side, TradeSize
from core.exchange.ccxt_client import Connection
from core.exchange.ccxt_gateway import CcxtTradingGateway
from core.exchange.ccxt_market import MARKETS_RETRY_S, CcxtMarketData
from core.exchange.gateway import OrderRejected
from emulator.control_client import ControlClient

ROOT = Path(__file__).resolve().parents[2]
D = Decimal
HOUR = 3600.0
SYMBOLS = {
    "mexc": ["ETH/USDT", "BTC/USDT", "SOL/USDT"],
    "bybit": ["ETH/USDT:USDT", "BTC/USDT:USDT", "SOL/USDT:USDT"],
    "binanceusdm": ["ETH/USDT:USDT", "BTC/USDT:USDT", "SOL/USDT:USDT"],
}
TICKER_PATHS = {
    "/api/v3/ticker/24hr",
    "/api/v3/ticker/bookTicker",
    "/v5/market/tickers",
    "/fapi/v1/ticker/24hr",
    "/fapi/v1/ticker/bookTicker",
}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ids(symbols: list[str]) -> set[str]:
    return {s.split(":")[0].replace("/", "") for s in symbols}


def ticker_reads(control: ControlClient) -> list[dict]:
    return [c for c in control.requests_log() if c["path"] in TICKER_PATHS]


def loaded(name: str, url: str, **kwargs) -> tuple[CcxtMarketData, ControlClient]:
    """The venue's market data with its markets read, and an empty request log."""
    market = CcxtMarketData(Connection(name, url, timeout_ms=3000), **kwargs)
    market.markets()
    control = ControlClient(url)
    control.clear_requests()
    return market, control


@pytest.mark.parametrize("name", list(SYMBOLS))
def test_one_symbols_ticker_and_book_ticker_are_asked_for_by_symbol(venues, name):
    market, control = loaded(name, venues[name].url)
    symbol = SYMBOLS[name][0]

    assert market.ticker(symbol).last > 0
    assert market.tickers([symbol])[symbol].last > 0
    book = market.book_tickers([symbol])[symbol]
    assert book.bid is not None and book.ask is not None and book.bid < book.ask

    reads = ticker_reads(control)
    assert len(reads) == 3 and {c["symbol"] for c in reads} == ids([symbol])


@pytest.mark.parametrize("name", list(SYMBOLS))
def test_a_few_symbols_are_read_one_by_one(venues, name):
    market, control = loaded(name, venues[name].url)
    symbols = SYMBOLS[name]

    assert set(market.tickers(symbols)) == set(symbols)
    assert set(market.book_tickers(symbols)) == set(symbols)

    reads = ticker_reads(control)
    assert len(reads) == 2 * len(symbols)
    assert sorted(c["symbol"] for c in reads) == sorted(2 * list(ids(symbols)))


def test_many_symbols_are_read_in_one_read_of_every_market_where_that_weighs_less(venues):
    """MEXC weighs its 24 h ticker 1 by symbol and 40 for every market, its book ticker 1
    either way: 45 tickers, or 9 book tickers, are one read of every market."""
    market, control = loaded("mexc", venues["mexc"].url)
    symbols = market.symbols()[:45]

    assert set(market.tickers(symbols)) == set(symbols)
    assert set(market.book_tickers(symbols[:9])) == set(symbols[:9])

    reads = [(c["path"], c["symbol"]) for c in ticker_reads(control)]
    assert reads == [("/api/v3/ticker/24hr", None), ("/api/v3/ticker/bookTicker", None)]


def test_unlisted_symbols_are_left_out_and_nothing_is_sent_for_none(venues):
    market, control = loaded("mexc", venues["mexc"].url)
    assert market.tickers(["NOPE/USDT"]) == {}
    assert market.book_tickers([]) == {}
    assert ticker_reads(control) == []


# --- the stop watcher and the periodic check ------------------------------------------


@pytest.fixture
def live(make_engine, control):
    engine = make_engine(live=True, RECV_WINDOW_MS="1000", EXCHANGE_TIMEOUT_MS="2000")
    assert engine.service.modes.request(Mode.LIVE).ok
    return engine


def test_the_stop_watcher_reads_the_book_tickers_of_protected_symbols_only(live, control):
    bought = live.service.trading.trade(
        "ETH/USDT", PositionState.LONG, TradeSize(quote_amount=D(500))
    )
    assert bought.ok, bought.message
    bid = live.service.reads.market("ETH/USDT").bid
    assert live.service.protection.protect("ETH/USDT", mode=Mode.LIVE, stop_loss=bid - 50).ok
    control.clear_requests()

    assert live.service.protection.watch_once() == 0

    log = control.requests_log()
    assert [(c["path"], c["symbol"]) for c in log] == [("/api/v3/ticker/bookTicker", "ETHUSDT")]


def test_the_stop_watcher_sends_nothing_when_nothing_is_protected(live, control):
    control.clear_requests()
    assert live.service.protection.watch_once() == 0
    assert control.requests_log() == []


def test_the_periodic_check_reads_the_tickers_it_needs_by_symbol(live, control):
    """The configured symbols (ETH/USDT, BTC/USDT) and every asset held (SOL, bought
    elsewhere): never a read of every market."""
    control.set_balances({"USDT": "10000", "SOL": "3"})
    control.clear_requests()

    view = live.service.monitoring.periodic_check()

    assert view is not None and view.error is None
    reads = ticker_reads(control)
    asked = {c["symbol"] for c in reads}
    assert None not in asked
    assert asked == ids([*live.settings.symbols, "SOL/USDT"])


# --- markets read again ---------------------------------------------------------------


def markets_reads(control: ControlClient) -> int:
    return sum(1 for c in control.requests_log() if c["path"] == "/api/v3/exchangeInfo")


def change_rules(control: ControlClient, symbol: str, **rules) -> None:
    answer = control.call("PUT", f"/_emulator/markets/{symbol}/rules", json=rules)
    assert answer.status_code == 200, answer.text


def test_markets_are_read_again_once_they_are_an_hour_old(exchange, control):
    clock = Clock()
    market, _ = loaded("mexc", exchange.url, markets_max_age=HOUR, clock=clock)
    assert market.market_rules("ETH/USDT").min_cost == 1
    change_rules(control, "ETHUSDT", min_notional="50")

    clock.now += HOUR - 1
    assert market.market_rules("ETH/USDT").min_cost == 1
    assert markets_reads(control) == 0

    clock.now += 1
    assert market.market_rules("ETH/USDT").min_cost == 50
    assert market.market_rules("BTC/USDT").min_cost == 1
    assert markets_reads(control) == 1


def test_markets_are_read_again_once_however_many_threads_find_them_old(exchange, control):
    clock = Clock()
    market, _ = loaded("mexc", exchange.url, markets_max_age=HOUR, clock=clock)
    old = market.markets()
    control.faults({"latency_ms": 200})

    clock.now += HOUR
    with ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda _: market.markets(), range(8)))

    assert markets_reads(control) == 1
    new = market.markets()
    assert new is not old and all(m is old or m is new for m in seen)


def test_a_failed_reload_keeps_the_markets_read_before(exchange, control):
    clock = Clock()
    market, _ = loaded("mexc", exchange.url, markets_max_age=HOUR, clock=clock)
    change_rules(control, "ETHUSDT", min_notional="50")
    control.faults(
        {"fail": [{"method": "GET", "path": "/api/v3/exchangeInfo", "mode": "http_500"}]}
    )

    clock.now += HOUR
    assert market.market_rules("ETH/USDT").min_cost == 1  # the old markets, no error
    assert markets_reads(control) == 1

    clock.now += MARKETS_RETRY_S - 1
    assert market.market_rules("ETH/USDT").min_cost == 1
    assert markets_reads(control) == 1  # a down exchange is not asked on every read

    clock.now += 1
    assert market.market_rules("ETH/USDT").min_cost == 50
    assert markets_reads(control) == 2


def gateway_on(url: str) -> tuple[CcxtTradingGateway, ControlClient]:
    market, control = loaded("mexc", url)
    gateway = CcxtTradingGateway(market, "demo-key", "demo-secret")
    gateway.balances()  # the signed client has its markets
    control.clear_requests()
    return gateway, control


def test_markets_are_read_again_after_an_order_refused_for_its_precision(exchange, control):
    gateway, _ = gateway_on(exchange.url)
    assert gateway.market.market_rules("ETH/USDT").amount_step == D("0.00001")
    change_rules(control, "ETHUSDT", base_decimals=2)

    with pytest.raises(OrderRejected, match="decimal places"):
        gateway.place_limit_order("ETH/USDT", Side.BUY, D("0.0123"), D(3000), "md-precision-1")

    paths = [c["path"] for c in control.requests_log()]
    assert paths[:2] == ["/api/v3/order", "/api/v3/exchangeInfo"]
    assert gateway.market.market_rules("ETH/USDT").amount_step == D("0.01")
    # the signed client sends with the new precision: the same order now goes through
    report = gateway.place_limit_order("ETH/USDT", Side.BUY, D("0.0123"), D(3000), "md-precision-2")
    assert report.amount == D("0.01")


def test_markets_are_read_again_after_an_order_refused_for_the_minimum(exchange, control):
    gateway, _ = gateway_on(exchange.url)
    change_rules(control, "ETHUSDT", min_notional="50")

    with pytest.raises(OrderRejected, match="minimum"):
        gateway.place_limit_order("ETH/USDT", Side.BUY, D("0.005"), D(3000), "md-minimum-1")

    assert markets_reads(control) == 1
    assert gateway.market.market_rules("ETH/USDT").min_cost == 50


def test_an_order_refused_for_another_reason_reads_no_markets(exchange, control):
    gateway, _ = gateway_on(exchange.url)
    with pytest.raises(OrderRejected):
        gateway.place_limit_order("ETH/USDT", Side.BUY, D(100), D(3000), "md-funds-1")
    assert markets_reads(control) == 0


# --- an exchange as large as real MEXC ------------------------------------------------


def test_an_emulator_with_2000_more_markets_starts_and_lists_them(tmp_path):
    url_file = tmp_path / "url"
    command = ["--port", "0", "--freeze", "--markets", "2000", "--url-file", str(url_file)]
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", *command],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not url_file.exists():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the emulator did not start"
            time.sleep(0.05)
        market, control = loaded("mexc", url_file.read_text().strip())

        symbols = market.symbols()
        assert len(symbols) == 2054  # the 54 known markets and 2,000 generated ones
        assert {"ETH/USDT", "GEN1/USDT", "GEN2000/USDT"} <= set(symbols)
        assert market.ticker("GEN1999/USDT").last > 0
        assert [c["symbol"] for c in ticker_reads(control)] == ["GEN1999USDT"]
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)  # a busy machine takes seconds to free 2,054 markets
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
