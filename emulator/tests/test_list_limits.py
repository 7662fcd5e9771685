"""Public list endpoints asked for more rows than their maximum answer with at most the
maximum (as Binance-style APIs do) instead of refusing; a limit below 1 is still refused."""

import itertools

import ccxt
import pytest

ETH = "ETH/USDT"
ETH_PERP = "ETH/USDT:USDT"
TRADE_METHODS = ["spotPublicGetAggTrades", "spotPublicGetTrades", "spotPublicGetHistoricalTrades"]


@pytest.mark.parametrize("method", TRADE_METHODS)
def test_mexc_trades_asked_for_12000_answer_what_there_is(public, method):
    """ccxt's own fetch_trades test asks MEXC for 12,000 trades."""
    everything = public.fetch_trades(ETH, limit=1000, params={"method": method})
    assert everything  # the seeded recent trades
    assert public.fetch_trades(ETH, limit=12000, params={"method": method}) == everything


def test_mexc_klines_above_the_maximum_answer_the_maximum(public):
    candles = public.fetch_ohlcv(ETH, "1m", limit=5000)
    assert len(candles) == 1000
    assert all(b[0] - a[0] == 60_000 for a, b in itertools.pairwise(candles))
    assert candles == public.fetch_ohlcv(ETH, "1m", limit=1000)


def test_mexc_depth_above_the_maximum_answers_the_whole_book(public):
    deep = public.fetch_order_book(ETH, 10_000)
    assert len(deep["bids"]) == len(public.fetch_order_book(ETH, 5000)["bids"]) > 5


def test_a_limit_below_one_is_still_refused(public):
    with pytest.raises(ccxt.BadRequest):
        public.fetch_ohlcv(ETH, "1m", limit=0)


def test_bybit_order_book_above_500_answers(bybit_trader):
    client, _ = bybit_trader
    book = client.fetch_order_book(ETH_PERP, 1000)
    assert len(book["bids"]) == len(client.fetch_order_book(ETH_PERP, 500)["bids"]) > 25


def test_binance_depth_above_1000_answers(binance_trader):
    client, _ = binance_trader
    book = client.fetch_order_book(ETH_PERP, 5000)
    assert len(book["asks"]) == len(client.fetch_order_book(ETH_PERP, 1000)["asks"]) > 5
