"""What each supported exchange is and how ccxt must be spoken to on it: one row per venue.

Adding a venue means adding a row here (and, where ccxt needs it, one small function for
finding an order by the app's id); nothing else in the gateway asks which exchange it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    SPOT = "spot"
    DERIVATIVES = "derivatives"


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


@dataclass(frozen=True)
class Venue:
    """One exchange's row. `cancel_param` names the app's client order id when cancelling;
    `find_order` asks about one order by that id; `local_error_tables` copies the error
    classes ccxt otherwise picks by the real host name (so they hold on a local URL)."""

    id: str
    name: str
    kind: Kind
    cancel_param: str
    find_order: Callable[[Any, str, str], dict | None]
    ccxt_options: dict[str, Any] = field(default_factory=dict)
    local_error_tables: str | None = None

    @property
    def is_derivatives(self) -> bool:
        return self.kind is Kind.DERIVATIVES

    def lists(self, market: dict) -> bool:
        """Whether a ccxt market is one the app trades on this venue: spot pairs, or
        linear (USDT-margined) perpetuals."""
        if self.is_derivatives:
            return bool(market.get("swap") and market.get("linear"))
        return bool(market.get("spot"))


VENUES: dict[str, Venue] = {
    venue.id: venue
    for venue in (
        Venue(
            id="mexc",
            name="MEXC",
            kind=Kind.SPOT,
            cancel_param="clientOrderId",
            find_order=_fetch_order_by("clientOrderId"),
        ),
        Venue(
            id="bybit",
            name="Bybit",
            kind=Kind.DERIVATIVES,
            cancel_param="orderLinkId",
            find_order=_bybit_realtime,
            ccxt_options={"defaultType": "swap", "fetchMarkets": {"types": ["linear"]}},
        ),
        Venue(
            id="binanceusdm",
            name="Binance USD-M",
            kind=Kind.DERIVATIVES,
            cancel_param="origClientOrderId",
            find_order=_fetch_order_by("origClientOrderId"),
            # v2 positionRisk still reports each position's leverage (v3 dropped it); the
            # periodic snapshot reads all open orders in one call on purpose
            ccxt_options={
                "fetchCurrencies": False,
                "fetchPositionsRisk": {"useV2": True},
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            },
            local_error_tables="linear",
        ),
    )
}


def venue(exchange_id: str) -> Venue:
    return VENUES[exchange_id]
