"""Order and trade records as the engine keeps them."""

from dataclasses import dataclass
from decimal import Decimal

OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")
ORDER_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER", "IMMEDIATE_OR_CANCEL", "FILL_OR_KILL")
SIDES = ("BUY", "SELL")


@dataclass
class OrderRequest:
    """A validated new-order request (units checked against the market)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None
    client_order_id: str | None


@dataclass(eq=False)
class Order:
    order_id: str
    api_key: str
    symbol: str
    side: str
    type: str
    price: Decimal  # the limit price, or the reference price when a MARKET order arrived
    quantity: Decimal  # requested base quantity (estimated from the price for quote-sized orders)
    quote_order_qty: Decimal | None
    client_order_id: str | None
    time_ms: int
    lock_asset: str
    lock_remaining: Decimal
    status: str = "NEW"
    executed_qty: Decimal = Decimal(0)
    cumulative_quote_qty: Decimal = Decimal(0)
    update_ms: int = 0
    awaiting_first_match: bool = True  # placed while fills were stalled: not yet run as taker

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        return self.quantity - self.executed_qty

    @property
    def reported_quantity(self) -> Decimal:
        """origQty: a finished quote-sized order reports what it actually bought or sold."""
        if self.quote_order_qty is not None and not self.is_open:
            return self.executed_qty
        return self.quantity

    @property
    def reported_quote_qty(self) -> Decimal:
        """origQuoteOrderQty: the quote size asked for, or quantity x price (as MEXC reports)."""
        if self.quote_order_qty is not None:
            return self.quote_order_qty
        return self.quantity * self.price


@dataclass(frozen=True)
class Trade:
    trade_id: str
    order: Order
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    is_maker: bool
    time_ms: int


@dataclass(frozen=True)
class PublicTrade:
    price: Decimal
    qty: Decimal
    time_ms: int
    is_buyer_maker: bool
