"""JSON shapes exactly as MEXC sends them (field names, nesting, strings vs numbers).

The recorded real responses decide: order values are strings, `orderListId` is "-1",
tickers carry no `timestamp` key and order objects never carry a `code` key.
"""

from decimal import Decimal

from emulator.book import SyntheticBook
from emulator.market_data import SymbolStats
from emulator.markets import Market
from emulator.numbers import fmt
from emulator.orders import Order, PublicTrade, Trade

DAY_MS = 86_400_000
PERCENT_STEP = Decimal("0.0001")


def order_created(order: Order) -> dict:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": "-1",
        "price": fmt(order.price),
        "origQty": fmt(order.reported_quantity),
        "type": order.type,
        "side": order.side,
        "transactTime": str(order.time_ms),
    }


def order_details(order: Order) -> dict:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": "-1",
        "clientOrderId": order.client_order_id,
        "price": fmt(order.price),
        "origQty": fmt(order.reported_quantity),
        "executedQty": fmt(order.executed_qty),
        "cummulativeQuoteQty": fmt(order.cumulative_quote_qty),
        "status": order.status,
        "timeInForce": None,
        "type": order.type,
        "side": order.side,
        "stopPrice": None,
        "icebergQty": None,
        "time": str(order.time_ms),
        "updateTime": str(order.update_ms),
        "isWorking": True,
        "origQuoteOrderQty": fmt(order.reported_quote_qty),
    }


def order_canceled(order: Order) -> dict:
    return {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "clientOrderId": order.client_order_id,
        "price": fmt(order.price),
        "origQty": fmt(order.reported_quantity),
        "executedQty": fmt(order.executed_qty),
        "cummulativeQuoteQty": fmt(order.cumulative_quote_qty),
        "status": order.status,
        "timeInForce": None,
        "type": order.type,
        "side": order.side,
    }


def account_trade(trade: Trade) -> dict:
    order = trade.order
    return {
        "symbol": order.symbol,
        "id": trade.trade_id,
        "orderId": order.order_id,
        "orderListId": "-1",
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "quoteQty": fmt(trade.price * trade.qty),
        "commission": fmt(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": str(trade.time_ms),
        "isBuyer": order.side == "BUY",
        "isMaker": trade.is_maker,
        "isBestMatch": True,
        "isSelfTrade": False,
        "clientOrderId": order.client_order_id,
    }


def public_trade(trade: PublicTrade) -> dict:
    return {
        "id": None,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "quoteQty": fmt(trade.price * trade.qty),
        "time": trade.time_ms,
        "isBuyerMaker": trade.is_buyer_maker,
        "isBestMatch": True,
        "tradeType": "ASK" if trade.is_buyer_maker else "BID",
    }


def aggregate_trade(trade: PublicTrade) -> dict:
    return {
        "a": None,
        "f": None,
        "l": None,
        "p": fmt(trade.price),
        "q": fmt(trade.qty),
        "T": str(trade.time_ms),
        "m": trade.is_buyer_maker,
        "M": True,
    }


def depth(book: SyntheticBook, limit: int, update_id: int, now_ms: int) -> dict:
    return {
        "lastUpdateId": str(update_id),
        "bids": [[fmt(level.price), fmt(level.qty)] for level in book.bids[:limit]],
        "asks": [[fmt(level.price), fmt(level.qty)] for level in book.asks[:limit]],
        "timestamp": str(now_ms),
    }


def _top(levels: list) -> tuple[str | None, str | None]:
    if not levels:
        return None, None
    return fmt(levels[0].price), fmt(levels[0].qty)


def book_ticker(symbol: str, book: SyntheticBook) -> dict:
    bid_price, bid_qty = _top(book.bids)
    ask_price, ask_qty = _top(book.asks)
    return {
        "symbol": symbol,
        "bidPrice": bid_price,
        "bidQty": bid_qty,
        "askPrice": ask_price,
        "askQty": ask_qty,
    }


def ticker_24hr(market: Market, stats: SymbolStats, book: SyntheticBook, now_ms: int) -> dict:
    change = stats.last_price - stats.open_price
    top = book_ticker(market.symbol, book)
    return {
        "symbol": market.symbol,
        "priceChange": fmt(change),
        "priceChangePercent": fmt((change / stats.open_price).quantize(PERCENT_STEP)),
        "prevClosePrice": fmt(stats.open_price),
        "lastPrice": fmt(stats.last_price),
        "bidPrice": top["bidPrice"],
        "bidQty": top["bidQty"],
        "askPrice": top["askPrice"],
        "askQty": top["askQty"],
        "openPrice": fmt(stats.open_price),
        "highPrice": fmt(stats.high),
        "lowPrice": fmt(stats.low),
        "volume": fmt(stats.base_volume.quantize(market.lot)),
        "quoteVolume": fmt(stats.quote_volume.quantize(market.tick)),
        "openTime": str(now_ms - DAY_MS),
        "closeTime": str(now_ms),
        "count": None,
    }


def ticker_price(symbol: str, price: Decimal) -> dict:
    return {"symbol": symbol, "price": fmt(price)}


def kline(open_ms: int, close_ms: int, values: tuple) -> list:
    open_price, high, low, close, volume, quote_volume = values
    return [
        open_ms,
        fmt(open_price),
        fmt(high),
        fmt(low),
        fmt(close),
        fmt(volume),
        close_ms,
        fmt(quote_volume),
    ]


def balances(balance_items: list[tuple[str, Decimal, Decimal]]) -> list[dict]:
    return [
        {"asset": asset, "free": fmt(free), "locked": fmt(locked)}
        for asset, free, locked in balance_items
    ]


def capital_config(asset: str, full_name: str) -> dict:
    """A realistic /capital/config/getall entry: one native network (three for USDT)."""
    networks = NETWORKS.get(asset, [(f"{asset}", asset)])
    return {
        "coin": asset,
        "name": full_name,
        "networkList": [
            {
                "coin": asset,
                "depositDesc": None,
                "depositEnable": True,
                "minConfirm": "12",
                "name": full_name,
                "network": network,
                "withdrawEnable": True,
                "withdrawFee": "1",
                "withdrawIntegerMultiple": None,
                "withdrawMax": "10000000",
                "withdrawMin": "10",
                "sameAddress": False,
                "contract": "",
                "withdrawTips": None,
                "depositTips": None,
                "netWork": net_work,
            }
            for network, net_work in networks
        ],
    }


NETWORKS = {
    "USDT": [("Ethereum(ERC20)", "ETH"), ("Tron(TRC20)", "TRX"), ("BNB Smart Chain(BEP20)", "BSC")],
    "ETH": [("Ethereum(ERC20)", "ETH")],
    "BTC": [("Bitcoin(BTC)", "BTC")],
    "TRX": [("Tron(TRC20)", "TRX")],
    "BNB": [("BNB Smart Chain(BEP20)", "BSC")],
    "SOL": [("Solana(SOL)", "SOL")],
}
