"""Value types shared by the engine. Money and quantities are Decimal, times are UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

ZERO = Decimal(0)


def base_asset(symbol: str) -> str:
    """`ETH` of the unified symbol `ETH/USDT`."""
    return symbol.split("/")[0]


def quote_asset(symbol: str) -> str:
    """`USDT` of the unified symbol `ETH/USDT`."""
    return symbol.split("/")[1].split(":")[0]


def is_market(symbol: str) -> bool:
    """Whether a ledger entry's symbol is a market (`ETH/USDT`), not an asset itself
    (`USDT`: cash deposited or withdrawn)."""
    return "/" in symbol


class PositionState(StrEnum):
    LONG = "LONG"
    SHORT = "SHORT"
    NO_POSITION = "NO_POSITION"

    @classmethod
    def of_signed(cls, qty: Decimal) -> PositionState:
        """The state a signed holding is in (a derivatives position, or a record's qty)."""
        if qty > 0:
            return cls.LONG
        return cls.SHORT if qty < 0 else cls.NO_POSITION


class Mode(StrEnum):
    SIM = "sim"
    LIVE = "live"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderStatus(StrEnum):
    """Life of an order as the app records it; INTENT is written before anything is sent."""

    INTENT = "intent"
    OPEN = "open"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded down to a market's step (an amount or price the exchange accepts)."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded up to a market's step."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


@dataclass(frozen=True)
class MarketRules:
    """What the exchange allows on one market; the source of every dust and minimum threshold."""

    symbol: str
    base: str
    quote: str
    amount_step: Decimal
    price_step: Decimal
    min_amount: Decimal
    min_cost: Decimal
    max_cost: Decimal | None
    taker_fee: Decimal
    maker_fee: Decimal


@dataclass(frozen=True)
class Balance:
    free: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


@dataclass(frozen=True)
class Holdings:
    """The base and quote balances of one market's assets."""

    base: Balance
    quote: Balance

    @classmethod
    def of(cls, balances: dict[str, Balance], base: str, quote: str) -> Holdings:
        return cls(balances.get(base, Balance()), balances.get(quote, Balance()))


@dataclass(frozen=True)
class Ticker:
    symbol: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    change_pct: Decimal | None
    timestamp: datetime


@dataclass(frozen=True)
class BookTicker:
    """A market's best bid and ask, and nothing else: what a stop needs to know it fired."""

    symbol: str
    bid: Decimal | None
    ask: Decimal | None


@dataclass(frozen=True)
class OrderBook:
    symbol: str
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None


@dataclass(frozen=True)
class Candle:
    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True)
class Fill:
    """One execution. `fee_quote` is the fee valued in the quote asset at the fill price."""

    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    fee: Decimal
    fee_asset: str
    fee_quote: Decimal
    trade_id: str
    client_order_id: str
    time: datetime

    @property
    def net_base(self) -> Decimal:
        """Change in the base holding this fill caused (a fee paid in base reduces it)."""
        base_fee = self.fee if self.fee_asset == base_asset(self.symbol) else ZERO
        return self.qty - base_fee if self.side is Side.BUY else -(self.qty + base_fee)


@dataclass(frozen=True)
class OrderReport:
    """What the exchange (or the paper book) says about one order."""

    client_order_id: str
    exchange_order_id: str | None
    symbol: str
    side: Side
    price: Decimal
    amount: Decimal
    filled: Decimal
    status: OrderStatus
    average: Decimal | None = None
    fills: tuple[Fill, ...] = ()
    placed_at: datetime | None = None  # when the exchange took it: where its fills start


class SizeKind(StrEnum):
    """How a BUY's size is given: the ticket's selector and the command line's size flags."""

    QUOTE = "quote"  # spend this amount of the quote asset
    PCT_OF_CASH = "pct"  # spend this percentage of the free quote balance
    BASE_QTY = "qty"  # buy this quantity of the base asset
    RISK_PCT = "risk"  # lose this percentage of equity if the stop-loss fills


@dataclass(frozen=True)
class TradeSize:
    """How much a LONG target buys: one of a quote amount, a percentage of the free quote
    balance, a base quantity, or a percentage of equity at risk to `stop_loss` (none given:
    a percentage of the free quote, see core.trading.sizing). The service fills in the stop
    the position gets and the equity it read, so the trade sizes its order inside its lock
    by the same rule as the ticket's preview."""

    quote_amount: Decimal | None = None
    pct_of_free_quote: Decimal | None = None
    base_qty: Decimal | None = None
    risk_pct: Decimal | None = None
    stop_loss: Decimal | None = None
    equity: Decimal | None = None

    @property
    def kind(self) -> SizeKind:
        if self.quote_amount is not None:
            return SizeKind.QUOTE
        if self.base_qty is not None:
            return SizeKind.BASE_QTY
        if self.risk_pct is not None:
            return SizeKind.RISK_PCT
        return SizeKind.PCT_OF_CASH


@dataclass(frozen=True)
class ExitPart:
    """The part of a spot holding a SELL or CLOSE sells: a percentage of the base held
    (0 < pct <= 100) or a quantity of it. The rest stays LONG, under the same stop."""

    pct: Decimal | None = None
    qty: Decimal | None = None


class Origin(StrEnum):
    """Why the app sent an order (or ran a trade)."""

    MANUAL = "manual"  # a click on the page
    CLI = "cli"  # the command line's trade
    MONITOR = "monitor"  # the periodic check's or `sync`'s repairs
    ENFORCE = "enforce"  # the periodic check correcting drift on its own
    STOP = "stop"  # a stop-loss or take-profit firing
    FLATTEN = "flatten"  # the kill switch


@dataclass(frozen=True)
class TradeResult:
    """How one trade ended. `refused` means the input was refused before anything was sent
    or recorded (a size that does not fit, a halted account, a trade already running)."""

    ok: bool
    symbol: str
    target: PositionState
    before: PositionState | None
    after: PositionState | None
    message: str
    orders: tuple[OrderReport, ...] = ()
    fills: tuple[Fill, ...] = ()
    api_calls: int = 0
    duration_ms: int = 0
    refused: bool = False
    flat: bool = False  # verified: nothing of the symbol is held any more
    asked_quote: Decimal | None = None  # what its BUY was planned to spend
    working: tuple[OrderReport, ...] = ()  # priced orders it left resting on the exchange
    replaced: tuple[OrderReport, ...] = ()  # working orders its cancel step ended


class PlacedBy(StrEnum):
    """Who placed a working order or keeps a stop, as the orders panel names it."""

    APP = "app"  # an order the app recorded before sending it
    OUTSIDE = "outside"  # an order on the account the app has no record of
    APP_STOP = "app stop"  # a stop the app watches (spot)
    EXCHANGE_STOP = "exchange-side stop"  # a stop the exchange keeps (derivatives)


@dataclass(frozen=True)
class WorkingOrder:
    """One working order or stop of a book: what the orders panel and `orders` list. `id`
    is what `cancel` takes: the app's client order id, else the exchange's order id (a stop
    of the app's has the id `stop:SYMBOL`). `price` is a stop's trigger."""

    id: str
    symbol: str
    side: Side | None  # None: a stop that closes whichever side is held
    price: Decimal
    amount: Decimal | None
    filled: Decimal
    placed_at: datetime | None
    placed_by: PlacedBy
    kind: str = "limit"  # limit, stop_loss, take_profit
    origin: str | None = None  # why the app sent it (manual, cli, ...)

    @classmethod
    def outside(cls, report: OrderReport) -> WorkingOrder:
        """An open order the app has no record of, as the exchange reported it."""
        return cls(
            id=report.exchange_order_id or report.client_order_id,
            symbol=report.symbol,
            side=report.side,
            price=report.price,
            amount=report.amount,
            filled=report.filled,
            placed_at=report.placed_at,
            placed_by=PlacedBy.OUTSIDE,
        )

    @property
    def cancellable(self) -> bool:
        return self.placed_by in (PlacedBy.APP, PlacedBy.OUTSIDE)


@dataclass(frozen=True)
class Amended:
    """How moving a working order's price ended. `old` is the order as its cancel left it
    (its fills recorded), `new` the replacement as the exchange answered it (None: none was
    sent, `message` says why). `refused`: nothing was sent and nothing cancelled."""

    ok: bool
    symbol: str
    message: str
    old: OrderReport | None = None
    new: OrderReport | None = None
    refused: bool = False


class DiscrepancyKind(StrEnum):
    ORPHAN_DB = "orphan_db"
    ORPHAN_EXCHANGE = "orphan_exchange"
    QTY_MISMATCH = "qty_mismatch"
    SIDE_MISMATCH = "side_mismatch"
    STALE_PRICE = "stale_price"
    UNPROTECTED = "unprotected"  # an open position without a stop-loss close enough
    ORPHAN_STOP = "orphan_stop"  # a stop with no position to protect


class ActionKind(StrEnum):
    CREATE = "create"
    RESIZE = "resize"
    CLOSE = "close"
    REPRICE = "reprice"
    PROTECT = "protect"  # place a stop-loss (with --protect)
    UNPROTECT = "unprotect"  # remove an orphan stop (with --protect)


class Policy(StrEnum):
    REPORT = "report"
    ADOPT = "adopt"
    ENFORCE = "enforce"


@dataclass(frozen=True)
class RecordedPosition:
    """An open position as the database has it."""

    account: str
    symbol: str
    qty: Decimal
    price: Decimal | None
    price_time: datetime | None


@dataclass(frozen=True)
class ExchangePosition:
    """A position as the exchange reports it: on spot, a base asset held above dust; on a
    derivatives exchange, what it reports. `qty` is signed: below zero is a real short."""

    account: str
    symbol: str
    qty: Decimal
    mark_price: Decimal | None
    entry_price: Decimal | None = None
    leverage: Decimal | None = None
    unrealized: Decimal | None = None
    liquidation_price: Decimal | None = None


@dataclass(frozen=True)
class Discrepancy:
    """One difference between the database and the exchange. Quantities are signed (a
    derivatives short is below zero); the exchange's entry, leverage and liquidation price
    come along where it reports them, for the repair to record."""

    kind: DiscrepancyKind
    account: str
    symbol: str
    recorded_qty: Decimal | None
    exchange_qty: Decimal | None
    recorded_price: Decimal | None = None
    exchange_price: Decimal | None = None
    entry_price: Decimal | None = None
    leverage: Decimal | None = None
    liquidation_price: Decimal | None = None


@dataclass(frozen=True)
class SyncAction:
    """One change to the database that makes it agree with the exchange."""

    kind: ActionKind
    account: str
    symbol: str
    before_qty: Decimal | None
    after_qty: Decimal | None
    price: Decimal | None
    reason: DiscrepancyKind
    entry_price: Decimal | None = None
    leverage: Decimal | None = None
    liquidation_price: Decimal | None = None


@dataclass(frozen=True)
class BookEvent:
    """One line of a book's feed: what happened, when, and who made it happen (click, cli,
    stop, flatten, enforce, monitor). `requester` is the page tab whose click made it;
    `waiting` is an incident the trader has yet to acknowledge."""

    id: int
    time: datetime
    mode: str
    account: str
    symbol: str | None
    kind: str
    who: str
    text: str
    needs_ack: bool = False
    acked_at: datetime | None = None
    requester: str | None = None

    @property
    def waiting(self) -> bool:
        return self.needs_ack and self.acked_at is None


class TransferKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class TransferStatus(StrEnum):
    """ccxt's unified statuses of a deposit or withdrawal; only an OK one moved the money."""

    OK = "ok"
    PENDING = "pending"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class CashTransfer:
    """A deposit or withdrawal of an asset as the exchange reports it. `amount` is what came
    into or left the account (a withdrawal's fee included: the balance fell by it all);
    `exchange_id` names it on the exchange (a deposit without an id: its transaction hash);
    `time` is when it was last updated (completed, once OK)."""

    asset: str
    kind: TransferKind
    amount: Decimal
    exchange_id: str
    status: TransferStatus
    time: datetime

    @property
    def change(self) -> Decimal:
        """The signed change of the account's balance of `asset`."""
        return self.amount if self.kind is TransferKind.DEPOSIT else -self.amount


@dataclass(frozen=True)
class ExternalChange:
    """A holding that changed outside the app (a deposit, a withdrawal, a trade made in the
    exchange's own app), found by a check. The ledger records it as a transfer valued at
    `mark`; the trader is told once, and the badge shows it until acknowledged. A deposit or
    withdrawal of cash the exchange reported (`reported`) has `symbol` the asset, `mark` 1
    and `after - before` its signed amount (the balances around it are not known)."""

    account: str
    symbol: str
    before: Decimal
    after: Decimal
    mark: Decimal | None
    time: datetime
    reported: TransferKind | None = None

    @property
    def delta(self) -> Decimal:
        return self.after - self.before

    @property
    def value(self) -> Decimal | None:
        """The change valued in quote at the mark (negative when holdings left)."""
        return None if self.mark is None else self.delta * self.mark


class StopKind(StrEnum):
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"


@dataclass(frozen=True)
class ExchangeStop:
    """A stop a derivatives exchange keeps for a position: a conditional order, or a
    stop-loss / take-profit set on the position itself (`exchange_id` "position")."""

    account: str
    symbol: str
    kind: StopKind
    trigger_price: Decimal
    exchange_id: str
    close_position: bool = True
    size: Decimal | None = None


@dataclass(frozen=True)
class AccountSnapshot:
    """One consistent read of an account: a fixed number of calls, whatever the symbols.
    `positions` is what a derivatives exchange reports; spot leaves it None and the monitor
    derives positions from the balances."""

    account: str
    balances: dict[str, Balance]
    open_orders: dict[str, int]
    tickers: dict[str, Ticker]
    taken_at: datetime
    positions: tuple[ExchangePosition, ...] | None = None
    stops: tuple[ExchangeStop, ...] | None = None
    orders: tuple[OrderReport, ...] = ()  # the plain open orders `open_orders` counts


@dataclass(frozen=True)
class RunFindings:
    """What one sync run found and did, in the one typed form the store keeps: its
    discrepancies and repairs (monitor and checks), the symbols that held the trader's
    target and those that drifted from it, the orders it sent, and an error if it failed."""

    discrepancies: tuple[Discrepancy, ...] = ()
    actions: tuple[SyncAction, ...] = ()
    in_sync: tuple[str, ...] = ()
    drift: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()
    error: str | None = None

    @property
    def unrepaired(self) -> int:
        """Differences the run found and left in place."""
        return 0 if self.actions else len(self.discrepancies)
