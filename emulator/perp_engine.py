"""The perpetuals engine: USDT-margined one-way positions filled against synthetic books.

Prices, books and 24h statistics are the spot engine's own pieces (random walk, synthetic
liquidity, seeded stats); only accounts, orders and margin are specific to perpetuals.
Synchronous on the server's single event loop, like the spot engine.
"""

import hashlib
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from emulator import perps
from emulator.accounts import AccountSpec, parse_balances
from emulator.book import Level, SyntheticBook
from emulator.conditionals import ConditionalOrder
from emulator.engine import wall_clock_ms
from emulator.market_motion import MarketMotion
from emulator.orders import PublicTrade
from emulator.perp_markets import DEFAULT_LEVERAGE, SETTLE, PerpMarket
from emulator.perp_orders import (
    PerpAccount,
    PerpOrder,
    PerpOrderRequest,
    PerpTrade,
    Position,
    Rejection,
)
from emulator.perp_triggers import Triggers

MAX_OPEN_ORDERS = 500
RECENT_ORDERS_KEPT = 500
TRADES_KEPT = 2000  # fills kept per account: two of Binance's largest userTrades pages
INT_ORDER_ID_BASE = 4_036_000_000
INT_TRADE_ID_BASE = 612_000_000
FEE_TOKEN_RATE = Decimal("0.9")  # Binance's BNB fee discount: 10 % off
FEE_TOKEN_STEP = Decimal("0.00000001")


@dataclass(frozen=True)
class PositionFigures:
    """One position as every dialect reports it, computed at the current mark price."""

    symbol: str
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    leverage: Decimal
    notional: Decimal  # |size| x mark
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    liquidation_price: Decimal | None
    bankruptcy_price: Decimal | None
    created_ms: int
    updated_ms: int


@dataclass(frozen=True)
class WalletFigures:
    coin: str
    wallet: Decimal
    unrealized_pnl: Decimal
    position_margin: Decimal
    order_margin: Decimal
    maintenance_margin: Decimal

    @property
    def equity(self) -> Decimal:
        return self.wallet + self.unrealized_pnl

    @property
    def available(self) -> Decimal:
        return max(Decimal(0), self.equity - self.position_margin - self.order_margin)


class PerpEngine(MarketMotion, Triggers):
    def __init__(
        self,
        markets: dict[str, PerpMarket],
        seed: int,
        account_specs: list[AccountSpec],
        id_style: str,
        fired_keeps_id: bool = False,
        clock: Callable[[], int] = wall_clock_ms,
        fee_token: str | None = None,
    ):
        """`id_style` is "uuid" (Bybit's order ids) or "int" (Binance's). With
        `fired_keeps_id` (Bybit) a fired conditional order becomes the order it sends, which
        keeps the conditional's id; otherwise (Binance's algo orders) it gets a new id. With
        `fee_token` (Binance's BNB fee discount, switched on for every account) an account
        whose wallet holds enough of it pays each fill's commission in it, 10 % off, at its
        market's price: a fee in a third asset, which the client values at that price."""
        self.markets = markets
        self.fee_token = fee_token
        self.seed = seed
        self.clock = clock
        self.id_style = id_style
        self.fired_keeps_id = fired_keeps_id
        self._account_specs = list(account_specs)
        self.book_update_id = 0
        self.reset()

    def reset(self) -> None:
        self._start_markets()
        self.accounts: dict[str, PerpAccount] = {}
        for spec in self._account_specs:
            self.add_account(spec)
        self.orders: dict[str, PerpOrder] = {}
        self._open: dict[str, PerpOrder] = {}
        self._client_ids: dict[tuple[str, str], PerpOrder] = {}
        self._recent: dict[str, list[PerpOrder]] = {}
        self._forgotten: set[str] = set()
        self._trades: dict[str, deque[PerpTrade]] = {}
        self._order_seq = 0
        self._trade_seq = 0
        self._start_triggers()

    # --- accounts -------------------------------------------------------------------------

    def add_account(self, spec: AccountSpec) -> PerpAccount:
        account = PerpAccount(spec.api_key, spec.api_secret, parse_balances(spec.balances))
        self.accounts[spec.api_key] = account
        return account

    def set_balances(self, account: PerpAccount, balances: dict[str, Decimal]) -> None:
        account.wallet.update(balances)

    def leverage(self, account: PerpAccount, symbol: str) -> Decimal:
        return account.leverage.get(symbol, DEFAULT_LEVERAGE)

    def set_leverage(self, account: PerpAccount, symbol: str, leverage: Decimal) -> None:
        if not 1 <= leverage <= self.markets[symbol].max_leverage:
            raise Rejection(Rejection.LEVERAGE_INVALID)
        account.leverage[symbol] = leverage

    def set_position(
        self, account: PerpAccount, symbol: str, size: Decimal, entry_price: Decimal | None
    ) -> None:
        """Put a position in place behind the client's back (the control API)."""
        held = account.positions.get(symbol)
        if size == 0 or (held is not None and (held.size > 0) != (size > 0)):
            self.cancel_position_tpsl(account, symbol)
        if size == 0:
            account.positions.pop(symbol, None)
            return
        now = self.clock()
        account.positions[symbol] = Position(size, entry_price, now, now)

    # --- figures --------------------------------------------------------------------------

    def position_figures(self, account: PerpAccount, symbol: str) -> PositionFigures | None:
        position = account.positions.get(symbol)
        if position is None:
            return None
        market = self.markets[symbol]
        leverage = self.leverage(account, symbol)
        mark = self.mid(symbol)
        size, entry = position.size, position.entry_price
        rate = market.maintenance_margin_rate
        return PositionFigures(
            symbol=symbol,
            size=size,
            entry_price=entry,
            mark_price=mark,
            leverage=leverage,
            notional=abs(size) * mark,
            unrealized_pnl=perps.unrealized_pnl(size, entry, mark),
            realized_pnl=position.realized_pnl,
            initial_margin=perps.initial_margin(size, entry, leverage),
            maintenance_margin=perps.maintenance_margin(size, mark, rate),
            liquidation_price=perps.liquidation_price(size, entry, leverage, rate),
            bankruptcy_price=perps.bankruptcy_price(size, entry, leverage),
            created_ms=position.created_ms,
            updated_ms=position.updated_ms,
        )

    def positions(self, account: PerpAccount) -> list[PositionFigures]:
        return [self.position_figures(account, symbol) for symbol in sorted(account.positions)]

    def wallet_figures(self, account: PerpAccount, coin: str = SETTLE) -> WalletFigures:
        wallet = account.wallet.get(coin, Decimal(0))
        if coin != SETTLE:
            return WalletFigures(coin, wallet, *[Decimal(0)] * 4)
        figures = self.positions(account)
        return WalletFigures(
            coin=coin,
            wallet=wallet,
            unrealized_pnl=sum((f.unrealized_pnl for f in figures), Decimal(0)),
            position_margin=sum((f.initial_margin for f in figures), Decimal(0)),
            order_margin=self.open_order_margin(account),
            maintenance_margin=sum((f.maintenance_margin for f in figures), Decimal(0)),
        )

    def _reducible(self, account: PerpAccount, symbol: str, side: str) -> Decimal:
        """How much an order of `side` can take off the current position."""
        position = account.positions.get(symbol)
        if position is None or (position.size > 0) == (side == "BUY"):
            return Decimal(0)
        return abs(position.size)

    def _increase(self, account: PerpAccount, symbol: str, side: str, qty: Decimal) -> Decimal:
        return max(Decimal(0), qty - self._reducible(account, symbol, side))

    def open_order_margin(self, account: PerpAccount, symbol: str | None = None) -> Decimal:
        """Margin held by open orders for what they would add to the positions."""
        orders = self.open_orders(account, symbol)
        return sum((self._order_margin(account, order) for order in orders), Decimal(0))

    def _order_margin(self, account: PerpAccount, order: PerpOrder) -> Decimal:
        if order.reduce_only:
            return Decimal(0)
        increase = self._increase(account, order.symbol, order.side, order.remaining_qty)
        price = order.price if order.price is not None else self.mid(order.symbol)
        return increase * price / self.leverage(account, order.symbol)

    # --- orders ---------------------------------------------------------------------------

    def validate(self, account: PerpAccount, request: PerpOrderRequest) -> None:
        market = self.markets[request.symbol]
        if request.quantity % market.lot:
            raise Rejection(Rejection.QTY_STEP)
        maximum = market.max_market_qty if request.type == "MARKET" else market.max_qty
        if request.quantity > maximum:
            raise Rejection(Rejection.QTY_ABOVE_MAX)
        if request.price is not None:
            if request.price % market.tick:
                raise Rejection(Rejection.PRICE_TICK)
            if not market.min_price <= request.price <= market.max_price:
                raise Rejection(Rejection.PRICE_RANGE)
        reference = request.price if request.price is not None else self.mid(request.symbol)
        if not request.reduce_only and request.quantity * reference < market.min_notional:
            raise Rejection(Rejection.NOTIONAL_BELOW_MIN, str(market.min_notional))
        if request.client_order_id is not None and (
            (account.api_key, request.client_order_id) in self._client_ids
        ):
            raise Rejection(Rejection.DUPLICATE_CLIENT_ID)

    def place(
        self,
        account: PerpAccount,
        request: PerpOrderRequest,
        fired_by: ConditionalOrder | None = None,
    ) -> PerpOrder:
        self.validate(account, request)
        if len(self.open_orders(account)) >= MAX_OPEN_ORDERS:
            raise Rejection(Rejection.TOO_MANY_ORDERS)
        quantity = request.quantity
        if request.reduce_only:
            reducible = self._reducible(account, request.symbol, request.side)
            if reducible == 0:
                raise Rejection(Rejection.REDUCE_ONLY_INCREASE)
            quantity = min(quantity, reducible)
        else:
            self._check_margin(account, request)
        now = self.clock()
        keeps_id = fired_by is not None and self.fired_keeps_id
        order = PerpOrder(
            order_id=fired_by.order_id if keeps_id else self._next_order_id(),
            api_key=account.api_key,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            price=request.price,
            quantity=quantity,
            time_in_force=request.time_in_force,
            reduce_only=request.reduce_only,
            client_order_id=request.client_order_id,
            time_ms=now,
            update_ms=now,
            fired_by=fired_by,
        )
        self.orders[order.order_id] = order
        self._open[order.order_id] = order
        recent = self._recent.setdefault(account.api_key, [])
        recent.append(order)
        del recent[:-RECENT_ORDERS_KEPT]
        if order.client_order_id is not None:
            self._client_ids[(account.api_key, order.client_order_id)] = order
        if not self.stall_fills:
            self._run_as_taker(order, self.book(order.symbol))
        return order

    def _check_margin(self, account: PerpAccount, request: PerpOrderRequest) -> None:
        market = self.markets[request.symbol]
        price = request.price if request.price is not None else self.mid(request.symbol)
        increase = self._increase(account, request.symbol, request.side, request.quantity)
        needed = increase * price / self.leverage(account, request.symbol)
        needed += request.quantity * price * market.taker_fee
        if needed > self.wallet_figures(account).available:
            raise Rejection(Rejection.INSUFFICIENT_MARGIN)

    def _next_order_id(self) -> str:
        self._order_seq += 1
        return self._new_id("order", INT_ORDER_ID_BASE, self._order_seq)

    def _new_id(self, kind: str, int_base: int, seq: int) -> str:
        if self.id_style == "int":
            return str(int_base + seq)
        digest = hashlib.blake2b(f"{self.seed}:{kind}:{seq}".encode(), digest_size=16)
        return str(uuid.UUID(bytes=digest.digest()))

    def cancel(self, order: PerpOrder) -> PerpOrder:
        if not order.is_open:
            raise Rejection(Rejection.ORDER_FINISHED)
        self._finish(order, "CANCELED")
        return order

    def find_order(
        self,
        account: PerpAccount,
        symbol: str | None,
        order_id: str | None,
        client_order_id: str | None,
    ) -> PerpOrder | None:
        if order_id is not None:
            order = self.orders.get(order_id)
        else:
            order = self._client_ids.get((account.api_key, client_order_id or ""))
        if order is None or order.api_key != account.api_key:
            return None
        if symbol is not None and order.symbol != symbol:
            return None
        return order

    def open_orders(self, account: PerpAccount, symbol: str | None = None) -> list[PerpOrder]:
        return [
            order
            for order in self._open.values()
            if order.api_key == account.api_key and (symbol is None or order.symbol == symbol)
        ]

    def recent_orders(self, account: PerpAccount, symbol: str | None = None) -> list[PerpOrder]:
        """The account's last orders of any status, newest first."""
        orders = reversed(self._recent.get(account.api_key, []))
        return [order for order in orders if symbol is None or order.symbol == symbol]

    def realtime_orders(self, account: PerpAccount, symbol: str | None = None) -> list[PerpOrder]:
        """recent_orders as Bybit's realtime list keeps them: those closed before the last
        restart are gone from it (the order history still has them)."""
        return [o for o in self.recent_orders(account, symbol) if o.order_id not in self._forgotten]

    def restart(self) -> None:
        """What a restart of the exchange's servers forgets: every order closed so far drops
        out of the realtime list."""
        self._forgotten.update(o.order_id for o in self.orders.values() if not o.is_open)

    def account_trades(self, account: PerpAccount, symbol: str | None = None) -> list[PerpTrade]:
        """The account's last TRADES_KEPT fills, of every order (reduce-only closes and the
        orders fired stops sent included), oldest first."""
        trades = self._trades.get(account.api_key, ())
        return [trade for trade in trades if symbol is None or trade.symbol == symbol]

    # --- matching -------------------------------------------------------------------------

    def _run_as_taker(self, order: PerpOrder, book: SyntheticBook) -> None:
        order.awaiting_first_match = False
        levels = book.crossing(order.side, order.price)
        if order.time_in_force == "POST_ONLY" and levels:
            self._finish(order, "CANCELED")
            return
        if order.time_in_force == "FOK" and sum(lv.qty for lv in levels) < order.remaining_qty:
            self._finish(order, "CANCELED")
            return
        self._take(order, book, levels, maker_price=None)
        if order.is_open and order.remaining_qty <= 0:
            self._finish(order, "FILLED")
        elif order.is_open and (order.type == "MARKET" or order.time_in_force in ("IOC", "FOK")):
            self._finish(order, "CANCELED")
        elif order.is_open and order.executed_qty > 0:
            order.status = "PARTIALLY_FILLED"

    def _before_matching(self, symbol: str) -> None:
        """Fire the conditionals the mark has reached (even while fills are stalled: what they
        send then rests)."""
        self._fire_due(symbol)

    def _take(
        self,
        order: PerpOrder,
        book: SyntheticBook,
        levels: list[Level],
        maker_price: Decimal | None,
    ) -> None:
        account = self.accounts[order.api_key]
        for level in levels:
            qty = min(level.qty, order.remaining_qty)
            if order.reduce_only:
                reducible = self._reducible(account, order.symbol, order.side)
                if reducible == 0:
                    self._finish(order, "CANCELED")  # nothing left to reduce: the rest expires
                    return
                qty = min(qty, reducible)
            if qty <= 0:
                return
            price = maker_price if maker_price is not None else level.price
            self._fill(account, order, price, qty, is_maker=maker_price is not None)
            book.consume(level, qty)
            self.book_update_id += 1
            if order.remaining_qty <= 0:
                return

    def _fill(
        self, account: PerpAccount, order: PerpOrder, price: Decimal, qty: Decimal, is_maker: bool
    ) -> None:
        market = self.markets[order.symbol]
        now = self.clock()
        position = account.positions.get(order.symbol) or Position(Decimal(0), Decimal(0), now, now)
        result = perps.apply_fill(position.size, position.entry_price, order.direction * qty, price)
        fee_rate = market.maker_fee if is_maker else market.taker_fee
        fee = qty * price * fee_rate
        in_token = self._fee_in_token(account, order.symbol, fee)
        if in_token:
            account.wallet[self.fee_token] -= in_token
            fee, fee_asset = Decimal(0), self.fee_token  # nothing charged in the settle coin
        else:
            fee_asset = SETTLE
        reduces = position.size != 0 and (position.size > 0) != (order.direction > 0)
        closed_qty = min(qty, abs(position.size)) if reduces else Decimal(0)
        account.wallet[SETTLE] = account.wallet.get(SETTLE, Decimal(0)) + result.realized_pnl - fee
        flipped = position.size != 0 and (position.size > 0) != (result.size > 0)
        if result.size == 0 or flipped:
            self.cancel_position_tpsl(account, order.symbol)  # TP/SL end with their position
        if result.size == 0:
            account.positions.pop(order.symbol, None)
        else:
            if flipped or position.size == 0:
                position = Position(result.size, result.entry_price, now, now)
            position.size, position.entry_price = result.size, result.entry_price
            position.realized_pnl += result.realized_pnl - fee
            position.updated_ms = now
            account.positions[order.symbol] = position
        order.executed_qty += qty
        order.cumulative_quote += qty * price
        order.fee += fee
        order.update_ms = now
        self._trade_seq += 1
        trade = PerpTrade(
            trade_id=self._new_id("exec", INT_TRADE_ID_BASE, self._trade_seq),
            seq=self._trade_seq,
            order=order,
            price=price,
            qty=qty,
            fee=in_token or fee,
            fee_rate=fee_rate,
            is_maker=is_maker,
            closed_qty=closed_qty,
            realized_pnl=result.realized_pnl,
            leaves_qty=order.remaining_qty,
            mark_price=self.mid(order.symbol),
            time_ms=now,
            fee_asset=fee_asset,
        )
        self._trades.setdefault(account.api_key, deque(maxlen=TRADES_KEPT)).append(trade)
        buyer_is_maker = (order.side == "BUY") == is_maker
        self.stats[order.symbol].record(PublicTrade(price, qty, now, buyer_is_maker))

    def _fee_in_token(self, account: PerpAccount, symbol: str, fee: Decimal) -> Decimal:
        """The commission `fee` (in the settle coin) in the fee token, 10 % off at the
        token's price, when the account's wallet holds that much of it; else 0."""
        token = f"{self.fee_token}{SETTLE}"
        if self.fee_token is None or token not in self.markets or symbol == token or not fee:
            return Decimal(0)
        in_token = (fee * FEE_TOKEN_RATE / self.mid(token)).quantize(FEE_TOKEN_STEP, ROUND_DOWN)
        return in_token if 0 < in_token <= account.wallet.get(self.fee_token, 0) else Decimal(0)

    def _finish(self, order: PerpOrder, status: str) -> None:
        order.status = status
        order.update_ms = self.clock()
        self._open.pop(order.order_id, None)
