"""JSON shapes as Bybit v5 sends them for category=linear: every number a string."""

from decimal import Decimal

from emulator.book import SyntheticBook
from emulator.conditionals import (
    CANCELED,
    EXPIRED,
    RISE,
    STOP_LOSS,
    TAKE_PROFIT,
    TRIGGERED,
    UNTRIGGERED,
    ConditionalOrder,
)
from emulator.market_data import SymbolStats
from emulator.numbers import fmt
from emulator.perp_engine import PositionFigures, WalletFigures
from emulator.perp_markets import LAUNCH_TIME_MS, PerpMarket
from emulator.perp_orders import PerpOrder, PerpTrade

PRICE_DISPLAY = Decimal("1e-8")
STATUSES = {"NEW": "New", "PARTIALLY_FILLED": "PartiallyFilled", "FILLED": "Filled"}
CONDITIONAL_STATUSES = {
    UNTRIGGERED: "Untriggered",
    TRIGGERED: "Triggered",
    CANCELED: "Deactivated",
    EXPIRED: "Rejected",  # fired, but its reduce-only order had nothing left to reduce
}
TIME_IN_FORCE = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "POST_ONLY": "PostOnly"}
# stopOrderType of the conditional that sent an order -> the createType of its executions
CREATE_TYPES = {
    "StopLoss": "CreateByStopLoss",
    "TakeProfit": "CreateByTakeProfit",
    "PartialStopLoss": "CreateByPartialStopLoss",
    "PartialTakeProfit": "CreateByPartialTakeProfit",
    "Stop": "CreateByStopOrder",
}


def envelope(result: object, now_ms: int) -> dict:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms}


def _money(value: Decimal) -> str:
    return fmt(value.quantize(PRICE_DISPLAY))


def _price(value: Decimal | None, market: PerpMarket) -> str:
    return "" if value is None else fmt(value.quantize(market.tick))


def instrument(market: PerpMarket) -> dict:
    return {
        "symbol": market.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": market.base,
        "quoteCoin": market.quote,
        "launchTime": str(LAUNCH_TIME_MS),
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(market.price_decimals),
        "leverageFilter": {
            "minLeverage": "1",
            "maxLeverage": f"{market.max_leverage}.00",
            "leverageStep": "0.01",
        },
        "priceFilter": {
            "minPrice": fmt(market.min_price),
            "maxPrice": fmt(market.max_price),
            "tickSize": fmt(market.tick),
        },
        "lotSizeFilter": {
            "maxOrderQty": fmt(market.max_qty),
            "minOrderQty": fmt(market.min_qty),
            "qtyStep": fmt(market.lot),
            "postOnlyMaxOrderQty": fmt(market.max_qty),
            "maxMktOrderQty": fmt(market.max_market_qty),
            "minNotionalValue": fmt(market.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": market.quote,
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
    }


def ticker(market: PerpMarket, stats: SymbolStats, book: SyntheticBook, mark: Decimal) -> dict:
    best_bid = book.bids[0] if book.bids else None
    best_ask = book.asks[0] if book.asks else None
    change = (stats.last_price - stats.open_price) / stats.open_price
    return {
        "symbol": market.symbol,
        "lastPrice": fmt(stats.last_price),
        "indexPrice": fmt(mark),
        "markPrice": fmt(mark),
        "prevPrice24h": fmt(stats.open_price),
        "price24hPcnt": fmt(change.quantize(Decimal("0.000001"))),
        "highPrice24h": fmt(stats.high),
        "lowPrice24h": fmt(stats.low),
        "prevPrice1h": fmt(stats.open_price),
        "openInterest": fmt(stats.base_volume.quantize(market.lot)),
        "openInterestValue": _money(stats.base_volume * mark),
        "turnover24h": _money(stats.quote_volume),
        "volume24h": fmt(stats.base_volume.quantize(market.lot)),
        "fundingRate": "0.0001",
        "nextFundingTime": "0",
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": fmt(best_ask.qty) if best_ask else "",
        "bid1Price": fmt(best_bid.price) if best_bid else "",
        "ask1Price": fmt(best_ask.price) if best_ask else "",
        "bid1Size": fmt(best_bid.qty) if best_bid else "",
        "basis": "",
    }


def order_book(book: SyntheticBook, limit: int, update_id: int, now_ms: int) -> dict:
    return {
        "s": book.market.symbol,
        "b": [[fmt(level.price), fmt(level.qty)] for level in book.bids[:limit]],
        "a": [[fmt(level.price), fmt(level.qty)] for level in book.asks[:limit]],
        "ts": now_ms,
        "u": update_id,
        "seq": update_id,
        "cts": now_ms,
    }


def _status(order: PerpOrder) -> str:
    if order.status == "CANCELED":
        return "PartiallyFilledCanceled" if order.executed_qty else "Cancelled"
    return STATUSES[order.status]


_NO_TRIGGER = {
    "stopOrderType": "",
    "triggerPrice": "",
    "triggerDirection": 0,
    "triggerBy": "",
    "closeOnTrigger": False,
    "tpslMode": "",
}


def _trigger(conditional: ConditionalOrder, market: PerpMarket) -> dict:
    """The fields that show an order is (or was sent by) a conditional order."""
    request = conditional.request
    if not request.position_tpsl:
        stop_order_type, tpsl_mode = "Stop", ""
    else:
        name = "StopLoss" if conditional.kind == STOP_LOSS else "TakeProfit"
        whole = request.quantity is None
        stop_order_type = name if whole else "Partial" + name
        tpsl_mode = "Full" if whole else "Partial"
    return {
        "stopOrderType": stop_order_type,
        "triggerPrice": _price(request.trigger_price, market),
        "triggerDirection": 1 if request.direction == RISE else 2,
        "triggerBy": request.trigger_by,
        "closeOnTrigger": request.quantity is None,
        "tpslMode": tpsl_mode,
    }


# Order fields the emulator always sends the same, for plain and conditional orders alike.
_ORDER_CONSTANTS = {
    "blockTradeId": "",
    "isLeverage": "",
    "positionIdx": 0,
    "rejectReason": "EC_NoError",
    "orderIv": "",
    "takeProfit": "",
    "stopLoss": "",
    "tpTriggerBy": "",
    "slTriggerBy": "",
    "lastPriceOnCreated": "",
    "smpType": "None",
    "smpGroup": 0,
    "smpOrderId": "",
    "tpLimitPrice": "",
    "slLimitPrice": "",
    "placeType": "",
}


def order(order: PerpOrder, market: PerpMarket) -> dict:
    average = order.average_price
    price = order.price
    return {
        **_ORDER_CONSTANTS,
        "orderId": order.order_id,
        "orderLinkId": order.client_order_id or "",
        "symbol": order.symbol,
        "price": _price(price, market) if price is not None else "0",
        "qty": fmt(order.quantity),
        "side": "Buy" if order.side == "BUY" else "Sell",
        "orderStatus": _status(order),
        "cancelType": "UNKNOWN" if order.status != "CANCELED" else "CancelByUser",
        "avgPrice": _money(average) if average is not None else "",
        "leavesQty": fmt(order.remaining_qty if order.is_open else Decimal(0)),
        "leavesValue": _money(order.remaining_qty * price) if order.is_open and price else "0",
        "cumExecQty": fmt(order.executed_qty),
        "cumExecValue": _money(order.cumulative_quote),
        "cumExecFee": _money(order.fee),
        "cumFeeDetail": {market.quote: _money(order.fee)} if order.fee else {},
        "timeInForce": "IOC" if order.type == "MARKET" else TIME_IN_FORCE[order.time_in_force],
        "orderType": "Market" if order.type == "MARKET" else "Limit",
        "reduceOnly": order.reduce_only,
        **(_NO_TRIGGER if order.fired_by is None else _trigger(order.fired_by, market)),
        "createdTime": str(order.time_ms),
        "updatedTime": str(order.update_ms),
    }


def conditional(conditional: ConditionalOrder, market: PerpMarket) -> dict:
    """A conditional order or position TP/SL before it fires (or one that never sent its
    order); once it has sent one, that order is listed under the same id instead."""
    request = conditional.request
    size = Decimal(0) if request.quantity is None else request.quantity
    return {
        **_ORDER_CONSTANTS,
        "orderId": conditional.order_id,
        "orderLinkId": request.client_order_id or "",
        "symbol": request.symbol,
        "price": _price(request.price, market) if request.price is not None else "0",
        "qty": fmt(size),
        "side": "Buy" if request.side == "BUY" else "Sell",
        "orderStatus": CONDITIONAL_STATUSES[conditional.status],
        "cancelType": "CancelByUser" if conditional.status == CANCELED else "UNKNOWN",
        "avgPrice": "",
        "leavesQty": fmt(size if conditional.is_open else Decimal(0)),
        "leavesValue": "0",
        "cumExecQty": "0",
        "cumExecValue": "0",
        "cumExecFee": "0",
        "cumFeeDetail": {},
        "timeInForce": "IOC" if request.order_type == "MARKET" else "GTC",
        "orderType": "Market" if request.order_type == "MARKET" else "Limit",
        "reduceOnly": request.reduce_only,
        **_trigger(conditional, market),
        "createdTime": str(conditional.time_ms),
        "updatedTime": str(conditional.update_ms),
    }


def execution(trade: PerpTrade, market: PerpMarket) -> dict:
    """One fill of /v5/execution/list; execFee is exactly what the wallet was charged."""
    order = trade.order
    stop_order_type = "UNKNOWN"
    if order.fired_by is not None:
        stop_order_type = _trigger(order.fired_by, market)["stopOrderType"]
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderLinkId": order.client_order_id or "",
        "side": "Buy" if order.side == "BUY" else "Sell",
        "orderPrice": _price(order.price, market) if order.price is not None else "0",
        "orderQty": fmt(order.quantity),
        "leavesQty": fmt(trade.leaves_qty),
        "createType": CREATE_TYPES.get(stop_order_type, "CreateByUser"),
        "orderType": "Market" if order.type == "MARKET" else "Limit",
        "stopOrderType": stop_order_type,
        "execFee": fmt(trade.fee),
        "execFeeV2": "",
        "execId": trade.trade_id,
        "execPrice": fmt(trade.price),
        "execQty": fmt(trade.qty),
        "execType": "Trade",
        "execValue": fmt(trade.quote_qty),
        "execTime": str(trade.time_ms),
        "feeCurrency": market.quote,
        "isMaker": trade.is_maker,
        "feeRate": fmt(trade.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": fmt(trade.mark_price),
        "indexPrice": fmt(trade.mark_price),
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": fmt(trade.closed_qty),
        "seq": trade.seq,
        "extraFees": "",
    }


def position(
    market: PerpMarket,
    figures: PositionFigures | None,
    leverage: Decimal,
    mark: Decimal,
    tpsl: dict[str, Decimal],
) -> dict:
    """One one-way position; an empty one (size 0, side "") when there is none. `tpsl`: its
    whole-position stop-loss and take-profit prices by kind ("0" when unset)."""
    if figures is None:
        size = entry = value = im = mm = upnl = realized = Decimal(0)
        side, liq, bust, created, updated = "", None, None, "0", "0"
    else:
        size, entry = abs(figures.size), figures.entry_price
        value, im, mm = size * entry, figures.initial_margin, figures.maintenance_margin
        upnl, realized = figures.unrealized_pnl, figures.realized_pnl
        side = "Buy" if figures.size > 0 else "Sell"
        liq, bust = figures.liquidation_price, figures.bankruptcy_price
        created, updated = str(figures.created_ms), str(figures.updated_ms)
    return {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": market.symbol,
        "side": side,
        "size": fmt(size),
        "avgPrice": _money(entry),
        "positionValue": _money(value),
        "tradeMode": 0,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": fmt(leverage),
        "markPrice": fmt(mark),
        "liqPrice": _price(liq, market),
        "bustPrice": _price(bust, market),
        "positionIM": _money(im),
        "positionMM": _money(mm),
        "positionBalance": _money(im),
        "tpslMode": "Full",
        "takeProfit": _price(tpsl.get(TAKE_PROFIT, Decimal(0)), market),
        "stopLoss": _price(tpsl.get(STOP_LOSS, Decimal(0)), market),
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": _money(upnl),
        "curRealisedPnl": _money(realized),
        "cumRealisedPnl": _money(realized),
        "adlRankIndicator": 2 if size else 0,
        "createdTime": created,
        "updatedTime": updated,
        "seq": 0,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
    }


def wallet(account_type: str, coins: list[WalletFigures]) -> dict:
    """One account entry of /v5/account/wallet-balance (USD figures equal USDT ones)."""
    total_wallet = sum((c.wallet for c in coins), Decimal(0))
    upnl = sum((c.unrealized_pnl for c in coins), Decimal(0))
    im = sum((c.position_margin + c.order_margin for c in coins), Decimal(0))
    mm = sum((c.maintenance_margin for c in coins), Decimal(0))
    equity = total_wallet + upnl
    return {
        "accountType": account_type,
        "totalEquity": _money(equity),
        "totalWalletBalance": _money(total_wallet),
        "totalMarginBalance": _money(equity),
        "totalAvailableBalance": _money(max(Decimal(0), equity - im)),
        "totalPerpUPL": _money(upnl),
        "totalInitialMargin": _money(im),
        "totalMaintenanceMargin": _money(mm),
        "accountIMRate": _money(im / equity) if equity > 0 else "0",
        "accountMMRate": _money(mm / equity) if equity > 0 else "0",
        "accountLTV": "0",
        "coin": [_coin(account_type, c) for c in coins],
    }


def _coin(account_type: str, coin: WalletFigures) -> dict:
    entry = {
        "coin": coin.coin,
        "equity": _money(coin.equity),
        "usdValue": _money(coin.equity),
        "walletBalance": _money(coin.wallet),
        "unrealisedPnl": _money(coin.unrealized_pnl),
        "cumRealisedPnl": "0",
        "totalOrderIM": _money(coin.order_margin),
        "totalPositionIM": _money(coin.position_margin),
        "totalPositionMM": _money(coin.maintenance_margin),
        "locked": "0",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "availableToBorrow": "",
        "bonus": "0",
        "collateralSwitch": True,
        "marginCollateral": True,
        "spotHedgingQty": "0",
        # UTA leaves this empty (free = wallet - margin); the classic CONTRACT wallet fills it.
        "availableToWithdraw": _money(coin.available) if account_type == "CONTRACT" else "",
    }
    return entry
