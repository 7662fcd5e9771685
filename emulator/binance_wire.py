"""JSON shapes as Binance USD-M futures sends them: decimals as strings, ids and times as numbers."""

from decimal import Decimal

from emulator.book import SyntheticBook
from emulator.conditionals import (
    CANCELED,
    EXPIRED,
    STOP_LOSS,
    TRIGGERED,
    UNTRIGGERED,
    ConditionalOrder,
)
from emulator.market_data import SymbolStats
from emulator.numbers import fmt
from emulator.perp_engine import PositionFigures, WalletFigures
from emulator.perp_markets import LAUNCH_TIME_MS, PerpMarket
from emulator.perp_orders import PerpOrder, PerpTrade

DAY_MS = 86_400_000
MONEY = Decimal("1e-8")
PERPETUAL_DELIVERY_MS = 4_133_404_800_000  # what Binance reports for contracts with no expiry
TIME_IN_FORCE = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "POST_ONLY": "GTX"}
NOTIONAL_CAP = 10**12
ALGO_ORDER_TYPES = ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET")
ALGO_STATUSES = {UNTRIGGERED: "NEW", CANCELED: "CANCELED", EXPIRED: "EXPIRED"}


def _money(value: Decimal) -> str:
    return fmt(value.quantize(MONEY))


def symbol_info(market: PerpMarket) -> dict:
    return {
        "symbol": market.symbol,
        "pair": market.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS,
        "onboardDate": LAUNCH_TIME_MS,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": market.base,
        "quoteAsset": market.quote,
        "marginAsset": market.quote,
        "pricePrecision": market.price_decimals,
        "quantityPrecision": market.qty_decimals,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(market.min_price),
                "maxPrice": fmt(market.max_price),
                "tickSize": fmt(market.tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(market.min_qty),
                "maxQty": fmt(market.max_qty),
                "stepSize": fmt(market.lot),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": fmt(market.min_qty),
                "maxQty": fmt(market.max_market_qty),
                "stepSize": fmt(market.lot),
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": fmt(market.min_notional)},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": ["LIMIT", "MARKET", *ALGO_ORDER_TYPES],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def ticker_24hr(market: PerpMarket, stats: SymbolStats, now_ms: int) -> dict:
    change = stats.last_price - stats.open_price
    return {
        "symbol": market.symbol,
        "priceChange": fmt(change),
        "priceChangePercent": fmt((change * 100 / stats.open_price).quantize(Decimal("0.001"))),
        "weightedAvgPrice": fmt(stats.last_price),
        "lastPrice": fmt(stats.last_price),
        "lastQty": fmt(stats.trades[-1].qty) if stats.trades else "0",
        "openPrice": fmt(stats.open_price),
        "highPrice": fmt(stats.high),
        "lowPrice": fmt(stats.low),
        "volume": fmt(stats.base_volume.quantize(market.lot)),
        "quoteVolume": _money(stats.quote_volume),
        "openTime": now_ms - DAY_MS,
        "closeTime": now_ms,
        "firstId": 1,
        "lastId": len(stats.trades),
        "count": len(stats.trades),
    }


def book_ticker(symbol: str, book: SyntheticBook, update_id: int, now_ms: int) -> dict:
    """The best bid and ask (/fapi/v1/ticker/bookTicker): no 24 h figures."""
    bid, ask = book.bids[0], book.asks[0]
    return {
        "symbol": symbol,
        "bidPrice": fmt(bid.price),
        "bidQty": fmt(bid.qty),
        "askPrice": fmt(ask.price),
        "askQty": fmt(ask.qty),
        "time": now_ms,
        "lastUpdateId": update_id,
    }


def premium_index(symbol: str, mark: Decimal, now_ms: int) -> dict:
    return {
        "symbol": symbol,
        "markPrice": fmt(mark),
        "indexPrice": fmt(mark),
        "estimatedSettlePrice": fmt(mark),
        "lastFundingRate": "0.00010000",
        "interestRate": "0.00010000",
        "nextFundingTime": now_ms - now_ms % (8 * 3_600_000) + 8 * 3_600_000,
        "time": now_ms,
    }


def depth(book: SyntheticBook, limit: int, update_id: int, now_ms: int) -> dict:
    return {
        "lastUpdateId": update_id,
        "E": now_ms,
        "T": now_ms,
        "bids": [[fmt(level.price), fmt(level.qty)] for level in book.bids[:limit]],
        "asks": [[fmt(level.price), fmt(level.qty)] for level in book.asks[:limit]],
    }


def leverage_bracket(market: PerpMarket) -> dict:
    return {
        "symbol": market.symbol,
        "notionalCoef": 1.0,
        "brackets": [
            {
                "bracket": 1,
                "initialLeverage": market.max_leverage,
                "notionalCap": NOTIONAL_CAP,
                "notionalFloor": 0,
                "maintMarginRatio": float(market.maintenance_margin_rate),
                "cum": 0.0,
            }
        ],
    }


def _status(order: PerpOrder) -> str:
    if order.status == "CANCELED" and order.type == "MARKET":
        return "EXPIRED"  # what is left of a market order when the book ran out
    return order.status


def client_order_id(order: PerpOrder) -> str:
    """Binance names every order; one sent without a client id gets a generated one."""
    return order.client_order_id or f"emu{order.order_id}"


def order(order: PerpOrder) -> dict:
    average = order.average_price
    return {
        "orderId": int(order.order_id),
        "symbol": order.symbol,
        "status": _status(order),
        "clientOrderId": client_order_id(order),
        "price": fmt(order.price) if order.price is not None else "0",
        "avgPrice": _money(average) if average is not None else "0",
        "origQty": fmt(order.quantity),
        "executedQty": fmt(order.executed_qty),
        "cumQty": fmt(order.executed_qty),
        "cumQuote": _money(order.cumulative_quote),
        "timeInForce": TIME_IN_FORCE[order.time_in_force],
        "type": order.type,
        "reduceOnly": order.reduce_only,
        "closePosition": False,
        "side": order.side,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": order.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": order.time_ms,
        "updateTime": order.update_ms,
    }


def user_trade(trade: PerpTrade) -> dict:
    """One fill of /fapi/v1/userTrades; commission is exactly what the wallet was charged,
    in its asset (USDT, or BNB with the fee discount)."""
    return {
        "symbol": trade.symbol,
        "id": int(trade.trade_id),
        "orderId": int(trade.order.order_id),
        "side": trade.side,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "realizedPnl": _money(trade.realized_pnl),
        "quoteQty": fmt(trade.quote_qty),
        "commission": fmt(trade.fee),
        "commissionAsset": trade.fee_asset,
        "time": trade.time_ms,
        "positionSide": "BOTH",
        "buyer": trade.side == "BUY",
        "maker": trade.is_maker,
    }


def algo_order_type(conditional: ConditionalOrder) -> str:
    stop = conditional.kind == STOP_LOSS
    if conditional.request.order_type == "MARKET":
        return "STOP_MARKET" if stop else "TAKE_PROFIT_MARKET"
    return "STOP" if stop else "TAKE_PROFIT"


def client_algo_id(conditional: ConditionalOrder) -> str:
    return conditional.client_order_id or f"emu{conditional.order_id}"


def _algo_status(conditional: ConditionalOrder) -> str:
    """TRIGGERED while the order it sent is still working, FINISHED once that is done."""
    sent = conditional.order
    if conditional.status == TRIGGERED:
        return "TRIGGERED" if sent is not None and sent.is_open else "FINISHED"
    return ALGO_STATUSES[conditional.status]


def algo_order(conditional: ConditionalOrder) -> dict:
    """A conditional order of /fapi/v1/algoOrder (algoType CONDITIONAL)."""
    request = conditional.request
    sent = conditional.order
    return {
        "algoId": int(conditional.order_id),
        "clientAlgoId": client_algo_id(conditional),
        "algoType": "CONDITIONAL",
        "orderType": algo_order_type(conditional),
        "symbol": request.symbol,
        "side": request.side,
        "positionSide": "BOTH",
        "timeInForce": "GTC",
        "quantity": "0" if request.quantity is None else fmt(request.quantity),
        "algoStatus": _algo_status(conditional),
        "actualOrderId": "" if sent is None else sent.order_id,
        "actualPrice": ""
        if sent is None or sent.average_price is None
        else _money(sent.average_price),
        "triggerPrice": fmt(request.trigger_price),
        "price": "0" if request.price is None else fmt(request.price),
        "icebergQuantity": None,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "workingType": request.trigger_by,
        "priceMatch": "NONE",
        "closePosition": request.quantity is None,
        "priceProtect": False,
        "reduceOnly": request.reduce_only,
        "createTime": conditional.time_ms,
        "updateTime": conditional.update_ms,
        "triggerTime": conditional.triggered_ms,
        "goodTillDate": 0,
    }


def position_v3(figures: PositionFigures, order_margin: Decimal) -> dict:
    notional = figures.size * figures.mark_price
    liquidation = figures.liquidation_price
    return {
        "symbol": figures.symbol,
        "positionSide": "BOTH",
        "positionAmt": fmt(figures.size),
        "entryPrice": _money(figures.entry_price),
        "breakEvenPrice": _money(figures.entry_price),
        "markPrice": fmt(figures.mark_price),
        "unRealizedProfit": _money(figures.unrealized_pnl),
        "liquidationPrice": _money(liquidation) if liquidation is not None else "0",
        "isolatedMargin": "0",
        "notional": _money(notional),
        "marginAsset": "USDT",
        "isolatedWallet": "0",
        "initialMargin": _money(figures.initial_margin + order_margin),
        "maintMargin": _money(figures.maintenance_margin),
        "positionInitialMargin": _money(figures.initial_margin),
        "openOrderInitialMargin": _money(order_margin),
        "adl": 2,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": figures.updated_ms,
    }


def position_v2(figures: PositionFigures) -> dict:
    liquidation = figures.liquidation_price
    return {
        "symbol": figures.symbol,
        "positionAmt": fmt(figures.size),
        "entryPrice": _money(figures.entry_price),
        "breakEvenPrice": _money(figures.entry_price),
        "markPrice": fmt(figures.mark_price),
        "unRealizedProfit": _money(figures.unrealized_pnl),
        "liquidationPrice": _money(liquidation) if liquidation is not None else "0",
        "leverage": fmt(figures.leverage),
        "maxNotionalValue": str(NOTIONAL_CAP),
        "marginType": "cross",
        "isolatedMargin": "0.00000000",
        "isAutoAddMargin": "false",
        "positionSide": "BOTH",
        "notional": _money(figures.size * figures.mark_price),
        "isolatedWallet": "0",
        "updateTime": figures.updated_ms,
    }


def account_position(figures: PositionFigures) -> dict:
    return {
        "symbol": figures.symbol,
        "positionSide": "BOTH",
        "positionAmt": fmt(figures.size),
        "unrealizedProfit": _money(figures.unrealized_pnl),
        "isolatedMargin": "0",
        "notional": _money(figures.size * figures.mark_price),
        "isolatedWallet": "0",
        "initialMargin": _money(figures.initial_margin),
        "maintMargin": _money(figures.maintenance_margin),
        "updateTime": figures.updated_ms,
    }


def asset(figures: WalletFigures, now_ms: int) -> dict:
    margin = figures.position_margin + figures.order_margin
    return {
        "asset": figures.coin,
        "walletBalance": _money(figures.wallet),
        "unrealizedProfit": _money(figures.unrealized_pnl),
        "marginBalance": _money(figures.equity),
        "maintMargin": _money(figures.maintenance_margin),
        "initialMargin": _money(margin),
        "positionInitialMargin": _money(figures.position_margin),
        "openOrderInitialMargin": _money(figures.order_margin),
        "crossWalletBalance": _money(figures.wallet),
        "crossUnPnl": _money(figures.unrealized_pnl),
        "availableBalance": _money(figures.available),
        "maxWithdrawAmount": _money(min(figures.available, figures.wallet)),
        "marginAvailable": True,
        "updateTime": now_ms,
    }


def balance_entry(figures: WalletFigures, now_ms: int) -> dict:
    return {
        "accountAlias": "SgsR",
        "asset": figures.coin,
        "balance": _money(figures.wallet),
        "crossWalletBalance": _money(figures.wallet),
        "crossUnPnl": _money(figures.unrealized_pnl),
        "availableBalance": _money(figures.available),
        "maxWithdrawAmount": _money(min(figures.available, figures.wallet)),
        "marginAvailable": True,
        "updateTime": now_ms,
    }
