"""What each supported exchange is and how ccxt must be spoken to on it: one row per venue.

Adding a venue means adding a row here (and, where ccxt needs it, one small function for
finding an order by the app's id); nothing else in the gateway asks which exchange it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.domain import StopKind


class Kind(StrEnum):
    SPOT = "spot"
    DERIVATIVES = "derivatives"


class StopsAt(StrEnum):
    """Where a venue keeps a position's stop-loss and take-profit."""

    APP = "app"  # nowhere: the app watches the price itself (spot)
    POSITION = "position"  # on the position (Bybit's trading-stop), plus conditional orders
    ORDERS = "orders"  # as conditional close-position orders, one per leg (Binance algo orders)


@dataclass(frozen=True)
class StopCall:
    """One ccxt create_order call that sets whole-position stops: its amount and params."""

    amount: int | None
    params: dict[str, Any]


CCXT_PRICE_PARAM = {StopKind.STOP_LOSS: "stopLossPrice", StopKind.TAKE_PROFIT: "takeProfitPrice"}


def _fetch_order_by(param: str) -> Callable[[Any, str, str], dict | None]:
    """ccxt's own fetchOrder, given the app's id under the name this venue's class reads."""

    def find(client, symbol: str, client_order_id: str) -> dict | None:
        return client.fetch_order(None, symbol, {param: client_order_id})

    return find


def _bybit_realtime(client, symbol: str, client_order_id: str) -> dict | None:
    """ccxt's Bybit fetchOrder takes only the exchange's id, so the app's id is looked up
    through the realtime-orders endpoint (open and recent orders)."""
    market = client.market(symbol)
    answer = client.privateGetV5OrderRealtime(
        {"category": "linear", "symbol": market["id"], "orderLinkId": client_order_id}
    )
    found = answer.get("result", {}).get("list") or []
    return client.parse_order(found[0], market) if found else None


def _bybit_trading_stop(legs: dict[StopKind, str]) -> tuple[StopCall, ...]:
    """Both legs in one trading-stop call (tpslMode Full needs amount 0); ccxt sends a lone
    leg there only when told to, else it would become a conditional order."""
    params: dict[str, Any] = {CCXT_PRICE_PARAM[kind]: price for kind, price in legs.items()}
    if len(legs) == 1:
        params["tradingStopEndpoint"] = True
    return (StopCall(0, params),)


def _bybit_clear_trading_stop(client, symbol: str, kinds: tuple[StopKind, ...]) -> None:
    """A price of 0 removes a position's stop; ccxt refuses 0, so the raw call sends it."""
    names = {StopKind.STOP_LOSS: "stopLoss", StopKind.TAKE_PROFIT: "takeProfit"}
    client.privatePostV5PositionTradingStop(
        {
            "category": "linear",
            "symbol": client.market(symbol)["id"],
            "tpslMode": "Full",
            **{names[kind]: "0" for kind in kinds},
        }
    )


def _close_position_orders(legs: dict[StopKind, str]) -> tuple[StopCall, ...]:
    """One closePosition conditional order per leg, with no quantity (-4137 otherwise)."""
    return tuple(
        StopCall(None, {CCXT_PRICE_PARAM[kind]: price, "closePosition": True})
        for kind, price in legs.items()
    )


@dataclass(frozen=True)
class Venue:
    """One exchange's row. `cancel_param` names the app's client order id when cancelling;
    `find_order` asks about one order by that id; `order_gone` are the codes it answers for
    an order it does not have open (unknown, or already filled or cancelled: a cancel that
    lost the race), so the order is read instead; `local_error_tables` copies the error
    classes ccxt otherwise picks by the real host name (so they hold on a local URL).

    Stops: `stops` says where the venue keeps them; where it keeps any, `stop_calls` turns
    the legs asked for (kind -> trigger price, already rounded) into create_order calls, and
    where they sit on the position `clear_position_stops` removes them. `plain_orders` are the params that keep ccxt's order
    listing and cancel-all to plain orders (Bybit's include conditional orders otherwise)."""

    id: str
    name: str
    kind: Kind
    cancel_param: str
    find_order: Callable[[Any, str, str], dict | None]
    order_gone: frozenset[str] = frozenset()
    ccxt_options: dict[str, Any] = field(default_factory=dict)
    local_error_tables: str | None = None
    stops: StopsAt = StopsAt.APP
    stop_calls: Callable[[dict[StopKind, str]], tuple[StopCall, ...]] | None = None
    clear_position_stops: Callable[[Any, str, tuple[StopKind, ...]], None] | None = None
    plain_orders: dict[str, Any] = field(default_factory=dict)

    @property
    def is_derivatives(self) -> bool:
        return self.kind is Kind.DERIVATIVES

    def lists(self, market: dict) -> bool:
        """Whether a ccxt market is one the app trades on this venue: spot pairs, or
        linear (USDT-margined) perpetuals."""
        if self.is_derivatives:
            return bool(market.get("swap") and market.get("linear"))
        return bool(market.get("spot"))

    @property
    def keeps_stops(self) -> bool:
        """Whether the exchange itself keeps stops (else the app watches the price)."""
        return self.stops is not StopsAt.APP

    def echoes_position_stop(self, order: dict) -> bool:
        """Whether a listed conditional order is only the echo of a stop set on the position
        (Bybit lists those with no size): the position itself is where it is read."""
        return self.stops is StopsAt.POSITION and not order.get("amount")


VENUES: dict[str, Venue] = {
    venue.id: venue
    for venue in (
        Venue(
            id="mexc",
            name="MEXC",
            kind=Kind.SPOT,
            cancel_param="clientOrderId",
            find_order=_fetch_order_by("clientOrderId"),
            # -2011 "Unknown order sent." (a cancel of a filled one), -2013 "Order does not exist."
            order_gone=frozenset({"-2011", "-2013"}),
        ),
        Venue(
            id="bybit",
            name="Bybit",
            kind=Kind.DERIVATIVES,
            cancel_param="orderLinkId",
            find_order=_bybit_realtime,
            # not exists or too late to cancel; finished or cancelled; already cancelled
            order_gone=frozenset({"110001", "110008", "110010"}),
            ccxt_options={"defaultType": "swap", "fetchMarkets": {"types": ["linear"]}},
            stops=StopsAt.POSITION,
            stop_calls=_bybit_trading_stop,
            clear_position_stops=_bybit_clear_trading_stop,
            plain_orders={"orderFilter": "Order"},
        ),
        Venue(
            id="binanceusdm",
            name="Binance USD-M",
            kind=Kind.DERIVATIVES,
            cancel_param="origClientOrderId",
            find_order=_fetch_order_by("origClientOrderId"),
            order_gone=frozenset({"-2011", "-2013"}),  # unknown order sent; does not exist
            # v2 positionRisk still reports each position's leverage (v3 dropped it); the
            # periodic snapshot reads all open orders in one call on purpose
            ccxt_options={
                "fetchCurrencies": False,
                "fetchPositionsRisk": {"useV2": True},
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            },
            local_error_tables="linear",
            stops=StopsAt.ORDERS,
            stop_calls=_close_position_orders,
        ),
    )
}


def venue(exchange_id: str) -> Venue:
    return VENUES[exchange_id]
