"""Public endpoints through real ccxt: markets, tickers, books, trades and klines."""

import itertools
import json
import time
from pathlib import Path

import ccxt
import pytest
import requests

from emulator.engine import Engine
from emulator.markets import load_catalogue
from emulator.server import EmulatorServer
from emulator.tests.conftest import mexc_client

RECORDED_SYMBOLS = {"BTCUSDT", "LTCUSDT", "ADAUSDT", "XRPUSDT", "SOLUSDT", "TRXUSDT"}
RECORDED_SYMBOLS |= {"ATLASUSDT", "ETHUSDT", "PYTHUSDT"}
FIXTURES = Path(__file__).parent / "fixtures"
ETH = "ETH/USDT"
STEP_MS = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000, "1d": 86_400_000}


def test_load_markets_without_keys_reads_exchange_info_and_the_empty_contract_list(
    emulator, control
):
    client = mexc_client(emulator.url)
    markets = client.load_markets()
    spot = [market for market in markets.values() if market["spot"]]
    assert len(spot) >= 30
    assert {"ETH/USDT", "BTC/USDT"} <= set(markets)
    assert not any(market["swap"] for market in markets.values())
    paths = [entry["path"] for entry in control.requests_log()]
    assert paths == ["/api/v3/exchangeInfo", "/api/v1/contract/detail"]


def test_load_markets_with_keys_also_reads_signed_currencies(emulator, control):
    client = mexc_client(emulator.url, "demo-key", "demo-secret")
    client.load_markets()
    assert {"USDT", "ETH", "BTC"} <= set(client.currencies)
    assert "ERC20" in client.currencies["USDT"]["networks"]
    signed = [e["path"] for e in control.requests_log() if e["signed"]]
    assert signed == ["/api/v3/capital/config/getall"]


def test_recorded_markets_keep_their_recorded_entries_exactly(emulator):
    recorded = json.loads((FIXTURES / "recorded_exchange_info_symbols.json").read_text())
    served = requests.get(emulator.url + "/api/v3/exchangeInfo", timeout=5).json()["symbols"]
    by_symbol = {entry["symbol"]: entry for entry in served}
    assert {entry["symbol"] for entry in recorded} == RECORDED_SYMBOLS
    for entry in recorded:
        assert by_symbol[entry["symbol"]] == entry


def test_synthetic_markets_have_the_recorded_entry_shape(emulator):
    served = requests.get(emulator.url + "/api/v3/exchangeInfo", timeout=5).json()["symbols"]
    recorded = [entry for entry in served if entry["symbol"] in RECORDED_SYMBOLS]
    required = set.intersection(*(set(entry) for entry in recorded))
    for entry in served:
        assert required <= set(entry), entry["symbol"]


def test_ccxt_reads_precision_and_limits_and_marks_recorded_markets_inactive(public):
    eth = public.market("ETH/USDT")
    assert eth["precision"]["amount"] == 0.00001
    assert eth["precision"]["price"] == 0.01
    assert eth["limits"]["amount"]["min"] == 0.0001
    assert eth["limits"]["cost"]["min"] == 1
    assert eth["taker"] == 0.0002
    assert eth["active"] is False  # isSpotTradingAllowed is false in the recording
    assert public.market("ADA/USDT")["active"] is True


def test_exchange_info_filters_by_symbol_and_symbols(emulator):
    base = emulator.url + "/api/v3/exchangeInfo"
    one = requests.get(base, params={"symbol": "ETHUSDT"}, timeout=5).json()
    assert [entry["symbol"] for entry in one["symbols"]] == ["ETHUSDT"]
    two = requests.get(base, params={"symbols": "ETHUSDT,BTCUSDT"}, timeout=5).json()
    assert [entry["symbol"] for entry in two["symbols"]] == ["ETHUSDT", "BTCUSDT"]
    unknown = requests.get(base, params={"symbol": "NOPEUSDT"}, timeout=5)
    assert unknown.status_code == 400
    assert unknown.json() == {"code": -1121, "msg": "Invalid symbol."}


def test_ping_and_time(emulator, public):
    assert requests.get(emulator.url + "/api/v3/ping", timeout=5).json() == {}
    assert abs(public.fetch_time() - public.milliseconds()) < 5000


def test_fetch_ticker_is_a_spot_ticker_with_book_top(public):
    ticker = public.fetch_ticker("ETH/USDT")
    book = public.fetch_order_book("ETH/USDT", 1)
    assert "timestamp" not in ticker["info"]
    assert ticker["bid"] == book["bids"][0][0]
    assert ticker["ask"] == book["asks"][0][0]
    assert ticker["last"] == 3400
    assert ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["baseVolume"] > 0


def test_fetch_tickers_all_and_some(public):
    every = public.fetch_tickers()
    assert len(every) >= 30
    some = public.fetch_tickers(["ETH/USDT", "BTC/USDT"])
    assert set(some) == {"ETH/USDT", "BTC/USDT"}
    one = public.fetch_tickers(["BTC/USDT"])
    assert set(one) == {"BTC/USDT"}


def test_fetch_bids_asks(public):
    tops = public.fetch_bids_asks(["ETH/USDT", "BTC/USDT"])
    assert tops["ETH/USDT"]["bid"] < tops["ETH/USDT"]["ask"]
    assert tops["BTC/USDT"]["bid"] < tops["BTC/USDT"]["ask"]


def test_ticker_price_and_book_ticker_single_and_all(emulator):
    base = emulator.url + "/api/v3/ticker/"
    assert requests.get(base + "price", params={"symbol": "ETHUSDT"}, timeout=5).json() == {
        "symbol": "ETHUSDT",
        "price": "3400",
    }
    assert len(requests.get(base + "price", timeout=5).json()) >= 30
    top = requests.get(base + "bookTicker", params={"symbol": "ETHUSDT"}, timeout=5).json()
    assert set(top) == {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}
    assert len(requests.get(base + "bookTicker", timeout=5).json()) >= 30


def test_order_book_is_sorted_spread_and_limited(public):
    book = public.fetch_order_book("BTC/USDT", 20)
    bids, asks = book["bids"], book["asks"]
    assert len(bids) == len(asks) == 20
    assert bids == sorted(bids, reverse=True)
    assert asks == sorted(asks)
    assert bids[0][0] < 97000 < asks[0][0]
    assert book["timestamp"] is not None and book["nonce"] is not None
    assert len(public.fetch_order_book("BTC/USDT")["bids"]) == 100


def test_fetch_trades_from_agg_trades_and_trades(public):
    trades = public.fetch_trades("ETH/USDT", limit=5)
    assert len(trades) == 5
    assert all(abs(trade["price"] - 3400) < 1 for trade in trades)
    plain = public.fetch_trades("ETH/USDT", limit=3, params={"method": "spotPublicGetTrades"})
    assert len(plain) == 3 and all(trade["amount"] > 0 for trade in plain)


@pytest.mark.parametrize(
    ("timeframe", "step_ms"),
    [
        ("1m", 60_000),
        ("5m", 300_000),
        ("15m", 900_000),
        ("30m", 1_800_000),
        ("1h", 3_600_000),
        ("4h", 14_400_000),
        ("1d", 86_400_000),
        ("1w", 7 * 86_400_000),
    ],
)
def test_fetch_ohlcv_intervals(public, timeframe, step_ms):
    candles = public.fetch_ohlcv("ETH/USDT", timeframe, limit=10)
    assert len(candles) == 10
    opens = [candle[0] for candle in candles]
    assert all(b - a == step_ms for a, b in itertools.pairwise(opens))
    for _, open_, high, low, close, volume in candles:
        assert low <= min(open_, close) <= max(open_, close) <= high
        assert volume >= 0  # a minute of this frozen run without a trade has none
    assert candles[0][5] > 0  # the history before the run has its synthetic volume
    assert candles[-1][4] == 3400  # the newest candle closes at the current price


def test_a_fill_lies_within_its_candle_however_the_price_moves_after(trader_factory, control):
    """The history is kept, not regenerated around the current price: a buy at about 3000
    stays inside its candle after the price has moved to 4000 and traded there, and older
    candles do not move."""
    client, _ = trader_factory({"USDT": "10000"})
    before = client.fetch_ohlcv(ETH, "1m", limit=50)
    control.set_price("ETHUSDT", "3000")
    client.create_order(ETH, "market", "buy", 0.5)
    [fill] = client.fetch_my_trades(ETH)
    control.set_price("ETHUSDT", "4000")
    client.create_order(ETH, "market", "buy", 0.5)
    last = client.fetch_ticker(ETH)["last"]
    assert last > 3990
    for timeframe in ("1m", "5m", "1h", "1d"):
        candles = client.fetch_ohlcv(ETH, timeframe, limit=50)
        [home] = [c for c in candles if c[0] <= fill["timestamp"] < c[0] + STEP_MS[timeframe]]
        assert home[3] <= fill["price"] <= home[2], (timeframe, home, fill["price"])
        assert candles[-1][4] == last  # the newest candle closes at the last trade
    older = [c for c in before if c[0] < fill["timestamp"] - 120_000]
    opens = {c[0] for c in older}
    assert older == [c for c in client.fetch_ohlcv(ETH, "1m", limit=50) if c[0] in opens]


def test_fetch_ohlcv_monthly_and_since(public):
    months = public.fetch_ohlcv("BTC/USDT", "1M", limit=3)
    assert len(months) == 3
    since = public.milliseconds() - 10 * 60_000
    recent = public.fetch_ohlcv("BTC/USDT", "1m", since=since, limit=100)
    assert 9 <= len(recent) <= 11
    assert recent[0][0] >= since


def test_unknown_symbol_and_bad_interval_are_rejected(emulator, public):
    with pytest.raises(ccxt.BadSymbol):
        public.spotPublicGetDepth({"symbol": "NOPEUSDT"})
    bad = requests.get(
        emulator.url + "/api/v3/klines", params={"symbol": "ETHUSDT", "interval": "7m"}, timeout=5
    )
    assert bad.status_code == 400 and bad.json()["code"] == 730002


def test_unfrozen_prices_walk_about_once_a_second_and_the_seed_replays():
    with EmulatorServer(seed=99) as server:
        url = server.url + "/api/v3/ticker/price"
        first = requests.get(url, params={"symbol": "BTCUSDT"}, timeout=5).json()["price"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            moved = [
                requests.get(url, params={"symbol": s}, timeout=5).json()["price"]
                for s in ("BTCUSDT", "ETHUSDT")
            ]
            if moved[0] != first:
                break
            time.sleep(0.05)
        assert moved[0] != first
    replays = [Engine(load_catalogue(), 99, []) for _ in range(2)]
    for engine in replays:
        for _ in range(5):
            engine.tick()
    assert replays[0].walk.mids == replays[1].walk.mids
