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


def _bybit_order(client, symbol: str, client_order_id: str) -> dict | None:
    """ccxt's Bybit fetchOrder takes only the exchange's id, so the app's id is looked up
    through the realtime-orders endpoint (open and recent closed orders), then, since that
    one forgets closed orders (after a restart of Bybit's servers, for unified accounts),
    through the order history."""
    market = client.market(symbol)
    request = {"category": "linear", "symbol": market["id"], "orderLinkId": client_order_id}
    for endpoint in (client.privateGetV5OrderRealtime, client.privateGetV5OrderHistory):
        found = endpoint(request).get("result", {}).get("list") or []
        if found:
            return client.parse_order(found[0], market)
    return None


# A page of one order's fills: (ccxt's unified trades, where the next page starts or None).
FillsPage = tuple[list[dict], Any]


def _fills_from_time(client, symbol: str, order_id: str, since, size: int, after) -> FillsPage:
    """MEXC lists an order's fills from a start time, at most 100 a page: the next page
    starts at the last fill's time (the caller drops the fills it already has)."""
    trades = client.fetch_my_trades(symbol, after or since, size, {"orderId": order_id})
    return trades, trades[-1]["timestamp"] if len(trades) == size else None


def _fills_from_id(client, symbol: str, order_id: str, since, size: int, after) -> FillsPage:
    """Binance USD-M lists an order's fills from a trade id on (fromId, never with a start
    time), oldest first: the next page starts after the last one's id."""
    trades = client.fetch_my_trades(symbol, None, size, {"orderId": order_id, "fromId": after or 0})
    last = max((int(t["id"]) for t in trades), default=0)
    return trades, last + 1 if len(trades) == size else None


def _fills_by_cursor(client, symbol: str, order_id: str, since, size: int, after) -> FillsPage:
    """Bybit pages an order's executions with a cursor, which ccxt leaves on the info of
    the page's first entry."""
    params = {"orderId": order_id, **({"cursor": after} if after else {})}
    trades = client.fetch_my_trades(symbol, since, size, params)
    cursors = [t.get("info", {}).get("nextPageCursor") for t in trades]
    return trades, next((c for c in cursors if c), None)


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


def _mexc_book_ticker(client, symbol: str) -> dict:
    """One symbol's best bid and ask: ccxt's fetchBidsAsks leaves the symbol out on MEXC
    (it reads every market), so the book ticker is asked for by symbol directly."""
    market = client.market(symbol)
    return client.parse_ticker(
        client.spotPublicGetTickerBookTicker({"symbol": market["id"]}), market
    )


def _bids_asks_of_one(client, symbol: str) -> dict:
    """ccxt's fetchBidsAsks of one symbol, which Binance USD-M sends with ?symbol=."""
    return client.fetch_bids_asks([symbol])[symbol]


def _close_position_orders(legs: dict[StopKind, str]) -> tuple[StopCall, ...]:
    """One closePosition conditional order per leg, with no quantity (-4137 otherwise)."""
    return tuple(
        StopCall(None, {CCXT_PRICE_PARAM[kind]: price, "closePosition": True})
        for kind, price in legs.items()
    )


# A read of every market moves the whole exchange (on MEXC's ~2,000 spot markets about
# 740 KB of 24 h tickers, 200 KB of book tickers): up to this many symbols are always read
# one by one, whatever the weights say.
FEW_SYMBOLS = 8


@dataclass(frozen=True)
class RequestBudget:
    """What the venue publishes about request weights: each "METHOD /path" weighs
    `weights[path]` = (with ?symbol=, without: every market), any other `default`, and the
    weights spent in `window_s` seconds may not pass `limit`, for each endpoint on its own
    when `per_endpoint` (MEXC) or for all of them together (Binance, Bybit). `source` is
    where the figures come from."""

    limit: int
    window_s: int
    per_endpoint: bool
    source: str
    weights: dict[str, tuple[int, int]] = field(default_factory=dict)
    default: int = 1

    def weight(self, method: str, path: str, by_symbol: bool) -> int:
        one, every = self.weights.get(f"{method} {path}", (self.default, self.default))
        return one if by_symbol else every

    @property
    def per_minute(self) -> float:
        return self.limit * 60 / self.window_s


@dataclass(frozen=True)
class TickerReads:
    """How ccxt reads tickers on the venue. The 24 h ticker of one symbol is ccxt's
    fetchTicker on every venue (its ?symbol= form), of every market fetchTickers();
    `book_ticker` reads one symbol's best bid and ask, `every_book_ticker` every market's.
    `ticker_path` and `book_path` are the endpoints they send to (for their weights).
    None of the three venues takes a list of symbols on these endpoints (Binance spot's
    ?symbols= has no USD-M twin), so a few symbols are read one by one, in parallel."""

    ticker_path: str
    book_path: str
    book_ticker: Callable[[Any, str], dict]
    every_book_ticker: Callable[[Any], dict]


@dataclass(frozen=True)
class Venue:
    """One exchange's row. `cancel_param` names the app's client order id when cancelling;
    `find_order` asks about one order by that id; `not_found` are the codes it answers for an
    order it does not have, `finished` those for one already filled or cancelled (a cancel
    that lost the race): either way the order is read instead; `rate_limited` are the codes
    of a refusal for asking too often; `fills_page` reads one page of an order's fills by the
    exchange's order id, at most `fills_page_size` of them; `local_error_tables` copies the
    error classes ccxt otherwise picks by the real host name (so they hold on a local URL).

    Stops: `stops` says where the venue keeps them; where it keeps any, `stop_calls` turns
    the legs asked for (kind -> trigger price, already rounded) into create_order calls, and
    where they sit on the position `clear_position_stops` removes them. `plain_orders` are the params that keep ccxt's order
    listing and cancel-all to plain orders (Bybit's include conditional orders otherwise).

    Market data: `tickers` says how tickers are read, `budget` what each request weighs;
    `rules_refused` are the codes of an order refused for the market's precision or
    minimum, after which the markets are read again (they changed under the app).

    Transfers: `reads_transfers` says whether the app reads the account's deposit and
    withdrawal history (ccxt's fetchDeposits / fetchWithdrawals, from a start time) on the
    venue, going back at most `transfer_days` (how far the exchange lists them); where it
    does not, cash moved in or out outside the app is not in the ledger, and `diagnose`
    says so."""

    id: str
    name: str
    kind: Kind
    cancel_param: str
    find_order: Callable[[Any, str, str], dict | None]
    tickers: TickerReads
    budget: RequestBudget
    fills_page: Callable[..., FillsPage]
    fills_page_size: int
    not_found: frozenset[str] = frozenset()
    finished: frozenset[str] = frozenset()
    rate_limited: frozenset[str] = frozenset()
    ccxt_options: dict[str, Any] = field(default_factory=dict)
    local_error_tables: str | None = None
    stops: StopsAt = StopsAt.APP
    stop_calls: Callable[[dict[StopKind, str]], tuple[StopCall, ...]] | None = None
    clear_position_stops: Callable[[Any, str, tuple[StopKind, ...]], None] | None = None
    plain_orders: dict[str, Any] = field(default_factory=dict)
    rules_refused: frozenset[str] = frozenset()
    reads_transfers: bool = False
    transfer_days: int = 0

    @property
    def is_derivatives(self) -> bool:
        return self.kind is Kind.DERIVATIVES

    def reads_by_symbol(self, path: str, count: int) -> bool:
        """Whether `count` symbols are read from `path` one by one rather than with one read
        of every market: when they weigh no more than it does, and always a FEW_SYMBOLS."""
        one, every = self.budget.weight("GET", path, True), self.budget.weight("GET", path, False)
        return count <= FEW_SYMBOLS or count * one <= every

    @property
    def order_gone(self) -> frozenset[str]:
        """The codes of an answer that the order is not open: unknown or finished."""
        return self.not_found | self.finished

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


MEXC_SPOT_BUDGET = RequestBudget(
    # MEXC spot v3 docs, "Limits" and each endpoint's Weight(IP/UID) (/work/shared/reference/
    # mexc-spot-v3-notes.md section 3): every endpoint has its own 500 per 10 s
    limit=500,
    window_s=10,
    per_endpoint=True,
    source="MEXC spot v3 API docs: 500 weight per 10 s per endpoint (IP or UID)",
    weights={
        "GET /api/v3/exchangeInfo": (10, 10),
        "GET /api/v3/depth": (1, 1),
        "GET /api/v3/klines": (1, 1),
        "GET /api/v3/ticker/24hr": (1, 40),
        "GET /api/v3/ticker/price": (1, 2),
        "GET /api/v3/ticker/bookTicker": (1, 1),
        "GET /api/v3/account": (10, 10),
        "GET /api/v3/openOrders": (3, 3),
        "GET /api/v3/order": (2, 2),
        "GET /api/v3/allOrders": (10, 10),
        "GET /api/v3/myTrades": (10, 10),
        "POST /api/v3/order": (1, 1),
        "DELETE /api/v3/order": (1, 1),
        "DELETE /api/v3/openOrders": (1, 1),
        "GET /api/v3/capital/deposit/hisrec": (1, 1),
        "GET /api/v3/capital/withdraw/history": (1, 1),
    },
)

BYBIT_LINEAR_BUDGET = RequestBudget(
    # Bybit v5 docs, "Rate Limit Rules": 600 requests per 5 s per IP over every HTTP
    # endpoint, each request counting one (per-UID limits apply to private endpoints too,
    # e.g. 10/s for /v5/order/create, well above the app's pace)
    limit=600,
    window_s=5,
    per_endpoint=False,
    source="Bybit v5 API docs: 600 requests per 5 s per IP, each request weighing 1",
)

BINANCE_USDM_BUDGET = RequestBudget(
    # Binance USD-M futures docs, each endpoint's "Request Weight", and exchangeInfo's
    # REQUEST_WEIGHT limit of 2400 per minute per IP (ccxt 4.5 carries the same figures)
    limit=2400,
    window_s=60,
    per_endpoint=False,
    source="Binance USD-M API docs: 2400 request weight per minute per IP",
    weights={
        "GET /fapi/v1/exchangeInfo": (1, 1),
        "GET /fapi/v1/depth": (2, 2),  # 2 up to 50 levels, 5 to 100, 10 to 500, 20 to 1000
        "GET /fapi/v1/klines": (2, 2),
        "GET /fapi/v1/ticker/24hr": (1, 40),
        "GET /fapi/v1/ticker/price": (1, 2),
        "GET /fapi/v1/ticker/bookTicker": (2, 5),
        "GET /fapi/v1/openOrders": (1, 40),
        "GET /fapi/v1/openAlgoOrders": (1, 40),
        "GET /fapi/v2/balance": (5, 5),
        "GET /fapi/v2/account": (5, 5),
        "GET /fapi/v3/account": (5, 5),
        "GET /fapi/v2/positionRisk": (5, 5),
        "GET /fapi/v3/positionRisk": (5, 5),
        "GET /fapi/v1/userTrades": (5, 5),
        "GET /fapi/v1/order": (1, 1),
        "POST /fapi/v1/order": (0, 0),  # counted against the order limits, not the IP's
        "GET /fapi/v1/leverageBracket": (1, 1),
    },
)

VENUES: dict[str, Venue] = {
    venue.id: venue
    for venue in (
        Venue(
            id="mexc",
            name="MEXC",
            kind=Kind.SPOT,
            cancel_param="clientOrderId",
            find_order=_fetch_order_by("clientOrderId"),
            fills_page=_fills_from_time,
            fills_page_size=100,
            not_found=frozenset({"-2013"}),  # "Order does not exist."
            finished=frozenset({"-2011"}),  # "Unknown order sent." (a cancel of a filled one)
            rate_limited=frozenset({"429", "510"}),  # too many requests; too frequent
            tickers=TickerReads(
                ticker_path="/api/v3/ticker/24hr",
                book_path="/api/v3/ticker/bookTicker",
                book_ticker=_mexc_book_ticker,
                every_book_ticker=lambda client: client.fetch_bids_asks(),
            ),
            budget=MEXC_SPOT_BUDGET,
            # 10096 "amount decimal places is too long", 30002 "The minimum transaction
            # volume cannot be less than :"
            rules_refused=frozenset({"10096", "30002"}),
            # /api/v3/capital/deposit/hisrec and /capital/withdraw/history list 90 days
            # when asked without a start time
            reads_transfers=True,
            transfer_days=90,
        ),
        Venue(
            id="bybit",
            name="Bybit",
            kind=Kind.DERIVATIVES,
            cancel_param="orderLinkId",
            find_order=_bybit_order,
            fills_page=_fills_by_cursor,
            fills_page_size=100,
            not_found=frozenset({"110001"}),  # not exists or too late to cancel
            finished=frozenset({"110008", "110010"}),  # finished or cancelled; cancelled
            rate_limited=frozenset({"10006", "10018"}),  # too many visits; IP limit
            ccxt_options={"defaultType": "swap", "fetchMarkets": {"types": ["linear"]}},
            stops=StopsAt.POSITION,
            stop_calls=_bybit_trading_stop,
            clear_position_stops=_bybit_clear_trading_stop,
            plain_orders={"orderFilter": "Order"},
            # a linear ticker carries the best bid and ask (bid1Price, ask1Price): it is
            # the book ticker too
            tickers=TickerReads(
                ticker_path="/v5/market/tickers",
                book_path="/v5/market/tickers",
                book_ticker=lambda client, symbol: client.fetch_ticker(symbol),
                every_book_ticker=lambda client: client.fetch_tickers(),
            ),
            budget=BYBIT_LINEAR_BUDGET,
            # 110094 "Order does not meet minimum order value"; a quantity or price off the
            # market's step is the generic 10001 ("Qty invalid", "price invalid")
            rules_refused=frozenset({"110094", "10001"}),
        ),
        Venue(
            id="binanceusdm",
            name="Binance USD-M",
            kind=Kind.DERIVATIVES,
            cancel_param="origClientOrderId",
            find_order=_fetch_order_by("origClientOrderId"),
            fills_page=_fills_from_id,
            fills_page_size=1000,
            not_found=frozenset({"-2013"}),  # "Order does not exist."
            finished=frozenset({"-2011"}),  # "Unknown order sent."
            rate_limited=frozenset({"-1003"}),  # too many requests
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
            # the 24 h ticker of USD-M carries no bid or ask: the book ticker is its own read
            tickers=TickerReads(
                ticker_path="/fapi/v1/ticker/24hr",
                book_path="/fapi/v1/ticker/bookTicker",
                book_ticker=_bids_asks_of_one,
                every_book_ticker=lambda client: client.fetch_bids_asks(),
            ),
            budget=BINANCE_USDM_BUDGET,
            # -1111 precision over the maximum, -4014 price not a multiple of the tick,
            # -4023 quantity not a multiple of the step, -4164 notional below the minimum
            rules_refused=frozenset({"-1111", "-4014", "-4023", "-4164"}),
        ),
    )
}


def venue(exchange_id: str) -> Venue:
    return VENUES[exchange_id]
