"""The matching engine: accounts, orders, fills and fees against synthetic book liquidity.

Everything here is synchronous and runs on the server's single event loop, so no locks.
"""

import hashlib
import time
from collections.abc import Callable
from decimal import Decimal

from emulator import errors
from emulator.accounts import Account, AccountSpec
from emulator.book import Level, SyntheticBook
from emulator.market_motion import MarketMotion
from emulator.markets import Market
from emulator.numbers import fits_precision, truncate
from emulator.orders import Order, OrderRequest, PublicTrade, Trade
from emulator.transfers import WITHDRAWAL, Transfer

MAX_OPEN_ORDERS = 500
FEE_TOKEN = "MX"  # fees paid in MX when the account holds it, at FEE_TOKEN_RATE of their value
FEE_TOKEN_RATE = Decimal("0.8")
FEE_TOKEN_DECIMALS = 8
ORDER_ID_BASE = 545_584_045_430_000_000
BOOK_UPDATE_ID_BASE = 20_453_289_489
LIMIT_TYPES = ("LIMIT", "LIMIT_MAKER")


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Engine(MarketMotion):
    def __init__(
        self,
        markets: dict[str, Market],
        seed: int,
        account_specs: list[AccountSpec],
        clock: Callable[[], int] = wall_clock_ms,
    ):
        self._catalogue = dict(markets)
        self.markets = markets
        self.seed = seed
        self.clock = clock
        self._account_specs = list(account_specs)
        self.order_seq = 0  # never reset: ids do not repeat after a reset
        self.trade_seq = 0
        self.transfer_seq = 0
        self.book_update_id = BOOK_UPDATE_ID_BASE  # depth's lastUpdateId: bumps on every change
        self.reset()

    def reset(self) -> None:
        """Back to the start state: the markets' own rules, configured accounts, start
        prices, no orders or trades."""
        self.markets = dict(self._catalogue)
        self._start_markets()
        self._load([Account.from_spec(spec) for spec in self._account_specs], [], [])

    def restore(
        self,
        seed: int,
        prices: dict[str, Decimal],
        accounts: list[Account],
        orders: list[Order],
        trades: list[Trade],
        order_seq: int,
        trade_seq: int,
        book_update_id: int,
        transfers: list[Transfer] | None = None,
    ) -> None:
        """Resume a saved exchange; `orders` in time order, `trades` referring to them."""
        self.seed = seed
        self.order_seq, self.trade_seq, self.book_update_id = order_seq, trade_seq, book_update_id
        self._start_markets(prices)
        self._load(accounts, orders, trades)
        self.transfers = list(transfers or [])
        self.transfer_seq = max((t.seq for t in self.transfers), default=self.transfer_seq)

    def _load(self, accounts: list[Account], orders: list[Order], trades: list[Trade]) -> None:
        self.accounts = {account.api_key: account for account in accounts}
        self.orders: dict[str, Order] = {}
        self._open: dict[str, Order] = {}  # insertion order is time priority
        self._orders_by_account: dict[str, list[Order]] = {}
        self._client_ids: dict[tuple[str, str], Order] = {}
        for order in orders:
            self._index(order)
        self.trades: dict[str, list[Trade]] = {}
        self.transfers: list[Transfer] = []
        for trade in trades:
            self.trades.setdefault(trade.order.api_key, []).append(trade)

    def _index(self, order: Order) -> None:
        self.orders[order.order_id] = order
        if order.is_open:
            self._open[order.order_id] = order
        self._orders_by_account.setdefault(order.api_key, []).append(order)
        if order.client_order_id is not None:
            self._client_ids[(order.api_key, order.client_order_id)] = order

    def change_rules(self, symbol: str, market: Market) -> None:
        """The market's rules changed (precision, minimums); its book is built anew."""
        self.markets[symbol] = market
        self._books.pop(symbol, None)

    # --- accounts -------------------------------------------------------------------------

    def add_account(self, spec: AccountSpec) -> Account:
        account = Account.from_spec(spec)
        self.accounts[spec.api_key] = account
        return account

    def transfer(
        self, account: Account, kind: str, asset: str, amount: Decimal, fee: Decimal, status: str
    ) -> Transfer:
        """A deposit or withdrawal made outside any client's view; a completed withdrawal
        takes `amount` (its fee included) from the free balance, which must hold it."""
        if kind == WITHDRAWAL and status == "success":
            if account.free(asset) < amount:
                raise ValueError(f"the free {asset} balance is below {amount}")
            account.balance(asset).free -= amount
        elif status == "success":
            account.credit(asset, amount)
        self.transfer_seq += 1
        moved = Transfer(
            account.api_key, self.transfer_seq, kind, asset, amount, fee, status, self.clock()
        )
        self.transfers.append(moved)
        return moved

    def account_transfers(self, account: Account, kind: str) -> list[Transfer]:
        return [t for t in self.transfers if t.api_key == account.api_key and t.kind == kind]

    # --- orders ---------------------------------------------------------------------------

    def validate(self, account: Account, request: OrderRequest) -> None:
        """MEXC's per-market checks of a new order (what /order/test runs); raises MexcError."""
        market = self.markets[request.symbol]
        if request.quantity is not None:
            if not fits_precision(request.quantity, market.base_decimals):
                raise errors.too_many_decimals("quantity")
            if request.quantity < market.min_qty:
                raise errors.below_minimum(market.min_qty, market.base)
        if request.price is not None and not fits_precision(request.price, market.quote_decimals):
            raise errors.too_many_decimals("price")
        if request.quote_order_qty is not None and not fits_precision(
            request.quote_order_qty, market.quote_decimals
        ):
            raise errors.too_many_decimals("quoteOrderQty")
        if request.type == "MARKET":
            notional = request.quote_order_qty
            if notional is None:
                notional = request.quantity * self.mid(request.symbol)
            minimum, maximum = market.min_notional_market, market.max_notional_market
        else:
            notional = request.quantity * request.price
            minimum, maximum = market.min_notional, market.max_notional
        if notional < minimum:
            raise errors.below_minimum(minimum, market.quote)
        if notional > maximum:
            raise errors.above_maximum(maximum, market.quote)
        if request.client_order_id is not None and (
            (account.api_key, request.client_order_id) in self._client_ids
        ):
            raise errors.duplicate_client_order_id()

    def place(self, account: Account, request: OrderRequest) -> Order:
        self.validate(account, request)
        if sum(1 for o in self._open.values() if o.api_key == account.api_key) >= MAX_OPEN_ORDERS:
            raise errors.max_open_orders()
        book = self.book(request.symbol)
        if request.type == "LIMIT_MAKER" and book.crossing(request.side, request.price):
            raise errors.post_only_would_take()
        lock_asset, lock_amount = self._reservation(account, request, book)
        now = self.clock()
        self.order_seq += 1
        reference_price = request.price if request.type != "MARKET" else self.mid(request.symbol)
        quantity = request.quantity
        if quantity is None:
            market = self.markets[request.symbol]
            quantity = truncate(request.quote_order_qty / reference_price, market.base_decimals)
        order = Order(
            order_id=f"C02__{ORDER_ID_BASE + self.order_seq}029",
            api_key=account.api_key,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            price=reference_price,
            quantity=quantity,
            quote_order_qty=request.quote_order_qty,
            client_order_id=request.client_order_id,
            time_ms=now,
            update_ms=now,
            lock_asset=lock_asset,
            lock_remaining=lock_amount,
        )
        account.lock(lock_asset, lock_amount)
        self._index(order)
        if not self.stall_fills:
            self._run_as_taker(order, book)
        return order

    def cancel(self, order: Order) -> Order:
        if not order.is_open:
            raise errors.unknown_order_sent()
        self._finish(order, "PARTIALLY_CANCELED" if order.executed_qty > 0 else "CANCELED")
        return order

    def find_order(
        self, account: Account, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> Order | None:
        if order_id is not None:
            order = self.orders.get(order_id)
        else:
            order = self._client_ids.get((account.api_key, client_order_id or ""))
        if order is None or order.api_key != account.api_key or order.symbol != symbol:
            return None
        return order

    def open_orders(self, account: Account, symbol: str | None = None) -> list[Order]:
        return [
            order
            for order in self._open.values()
            if order.api_key == account.api_key and (symbol is None or order.symbol == symbol)
        ]

    def account_orders(self, account: Account, symbol: str) -> list[Order]:
        orders = self._orders_by_account.get(account.api_key, [])
        return [order for order in orders if order.symbol == symbol]

    def account_trades(self, account: Account, symbol: str) -> list[Trade]:
        trades = self.trades.get(account.api_key, [])
        return [trade for trade in trades if trade.order.symbol == symbol]

    # --- matching -------------------------------------------------------------------------

    def _reservation(
        self, account: Account, request: OrderRequest, book: SyntheticBook
    ) -> tuple[str, Decimal]:
        """What the order locks: quote for buys, base for sells; raises if the account lacks it."""
        market = self.markets[request.symbol]
        if request.type != "MARKET":
            if request.side == "BUY":
                asset, amount = market.quote, request.quantity * request.price
            else:
                asset, amount = market.base, request.quantity
            if account.free(asset) < amount:
                raise errors.insufficient_position()
            return asset, amount
        if request.side == "BUY":
            amount = request.quote_order_qty
            if amount is None:
                amount = self._estimate(book.asks, quantity=request.quantity)
            if account.free(market.quote) < amount:
                raise errors.insufficient_balance()
            return market.quote, amount
        amount = request.quantity
        if amount is None:
            amount = self._estimate(book.bids, quote=request.quote_order_qty, base=market)
        if account.free(market.base) < amount:
            raise errors.oversold()
        return market.base, amount

    @staticmethod
    def _estimate(
        levels: list[Level],
        quantity: Decimal | None = None,
        quote: Decimal | None = None,
        base: Market | None = None,
    ) -> Decimal:
        """Walk `levels`: the quote cost of `quantity`, or the base needed to raise `quote`."""
        total = Decimal(0)
        for level in levels:
            if quantity is not None:
                take = min(level.qty, quantity)
                total += take * level.price
                quantity -= take
                if quantity <= 0:
                    break
            else:
                take = min(level.qty, truncate(quote / level.price, base.base_decimals))
                total += take
                quote -= take * level.price
                if take < level.qty:
                    break
        if total <= 0:
            raise errors.no_valid_trade_price()
        return total

    def _run_as_taker(self, order: Order, book: SyntheticBook) -> None:
        order.awaiting_first_match = False
        limit = None if order.type == "MARKET" else order.price
        levels = book.crossing(order.side, limit)
        if order.type == "FILL_OR_KILL" and sum(level.qty for level in levels) < order.quantity:
            self._finish(order, "CANCELED")
            return
        ran_out = self._take(order, book, levels, maker_price=None)
        if order.quote_order_qty is not None:
            complete = order.executed_qty > 0 and not ran_out
        else:
            complete = order.executed_qty == order.quantity
        if complete:
            self._finish(order, "FILLED")
        elif order.type in LIMIT_TYPES:
            order.status = "PARTIALLY_FILLED" if order.executed_qty > 0 else "NEW"
        else:
            self._finish(order, "PARTIALLY_CANCELED" if order.executed_qty > 0 else "CANCELED")

    def _take(
        self, order: Order, book: SyntheticBook, levels: list[Level], maker_price: Decimal | None
    ) -> bool:
        """Fill `order` against `levels`; True if it stopped because the levels ran out."""
        market = self.markets[order.symbol]
        for level in levels:
            price = maker_price if maker_price is not None else level.price
            if order.quote_order_qty is not None:
                quote_left = order.quote_order_qty - order.cumulative_quote_qty
                qty = min(level.qty, truncate(quote_left / price, market.base_decimals))
            else:
                qty = min(level.qty, order.remaining_qty)
            if order.side == "BUY":
                qty = min(qty, truncate(order.lock_remaining / price, market.base_decimals))
            else:
                qty = min(qty, order.lock_remaining)
            if qty <= 0:
                return False
            self._fill(order, market, price, qty, is_maker=maker_price is not None)
            book.consume(level, qty)
            self.book_update_id += 1
            if order.quote_order_qty is None and order.remaining_qty <= 0:
                return False
        return True

    def _fill(self, order: Order, market: Market, price: Decimal, qty: Decimal, is_maker: bool):
        account = self.accounts[order.api_key]
        now = self.clock()
        quote_amount = price * qty
        rate = market.maker_fee if is_maker else market.taker_fee
        in_mx = self._fee_in_mx(account, market, quote_amount * rate)
        if order.side == "BUY":
            account.spend_locked(market.quote, quote_amount)
            order.lock_remaining -= quote_amount
            fee, fee_asset = (in_mx, FEE_TOKEN) if in_mx else (qty * rate, market.base)
            account.credit(market.base, qty - (0 if in_mx else fee))
        else:
            account.spend_locked(market.base, qty)
            order.lock_remaining -= qty
            fee, fee_asset = (in_mx, FEE_TOKEN) if in_mx else (quote_amount * rate, market.quote)
            account.credit(market.quote, quote_amount - (0 if in_mx else fee))
        if in_mx:
            account.balance(FEE_TOKEN).free -= in_mx
        order.executed_qty += qty
        order.cumulative_quote_qty += quote_amount
        order.update_ms = now
        self.trade_seq += 1
        trade_id = hashlib.blake2b(f"{self.seed}:trade:{self.trade_seq}".encode(), digest_size=16)
        trade = Trade(trade_id.hexdigest(), order, price, qty, fee, fee_asset, is_maker, now)
        self.trades.setdefault(order.api_key, []).append(trade)
        buyer_is_maker = (order.side == "BUY") == is_maker
        self.stats[order.symbol].record(PublicTrade(price, qty, now, buyer_is_maker))

    def _fee_in_mx(self, account: Account, market: Market, fee_quote: Decimal) -> Decimal:
        """MEXC's MX deduction, switched on for every account: an account that holds enough
        free MX pays a fee of a USDT market in MX, 20% off, at MX's price; 0 when it does
        not (the fee is then taken from what the fill brings)."""
        token = f"{FEE_TOKEN}{market.quote}"
        if market.symbol == token or token not in self.markets or not fee_quote:
            return Decimal(0)
        fee = truncate(fee_quote * FEE_TOKEN_RATE / self.mid(token), FEE_TOKEN_DECIMALS)
        return fee if 0 < fee <= account.free(FEE_TOKEN) else Decimal(0)

    def _finish(self, order: Order, status: str) -> None:
        """Close the order and hand back whatever it still had locked."""
        order.status = status
        order.update_ms = self.clock()
        if order.lock_remaining:
            self.accounts[order.api_key].unlock(order.lock_asset, order.lock_remaining)
            order.lock_remaining = Decimal(0)
        self._open.pop(order.order_id, None)
