"""The SIM account: orders fill against the exchange's real order book, walking its depth,
with the market's fees, precision and minimums; balances live in the database.

It only ever reads public market data, so SIM sends no signed request, ever. A paper
order is an immediate-or-cancel fill: what the book offers up to the limit price fills,
the rest is cancelled. The paper exchange's balances and its record of the order (with
its fills) are written in one transaction, as an exchange would; the app's own book of
orders and fills is the executor's to write, exactly as in LIVE.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from core import wording
from core.domain import (
    ZERO,
    AccountSnapshot,
    Balance,
    Fill,
    MarketRules,
    OrderBook,
    OrderReport,
    OrderStatus,
    Side,
)
from core.exchange.gateway import MarketData, OrderRejected, OrderTraces
from core.store import paper
from core.store.db import Database
from core.trading.pricing import floor_to_step

BOOK_DEPTH = 100


class PaperGateway:
    def __init__(
        self,
        market: MarketData,
        db: Database,
        account: str,
        starting_quote: Decimal,
        quote: str = "USDT",
    ):
        self.market = market
        self.db = db
        self.account = account
        self.label = f"paper account on {market.label}"
        with db.session() as session:
            paper.seed_balance(session, account, quote, starting_quote)

    @property
    def api_calls(self) -> int:
        return getattr(self.market, "api_calls", 0)

    def balances(self) -> dict[str, Balance]:
        with self.db.session() as session:
            return paper.balances(session, self.account)

    def cancel_open_orders(self, symbol: str) -> int:
        """Paper orders never rest, so there is never anything to cancel."""
        return 0

    def place_limit_order(
        self, symbol: str, side: Side, amount: Decimal, price: Decimal, client_order_id: str
    ) -> OrderReport:
        rules = self.market.market_rules(symbol)
        book = self.market.order_book(symbol, BOOK_DEPTH)
        fills = walk_book(book, rules, side, amount, price, client_order_id)
        filled = sum((f.qty for f in fills), ZERO)
        cost = sum((f.qty * f.price for f in fills), ZERO)
        report = OrderReport(
            client_order_id=client_order_id,
            exchange_order_id=f"paper-{uuid.uuid4().hex[:16]}",
            symbol=symbol,
            side=side,
            price=price,
            amount=amount,
            filled=filled,
            status=OrderStatus.FILLED if filled == amount else OrderStatus.CANCELED,
            average=cost / filled if filled else None,
            fills=tuple(fills),
        )
        try:
            with self.db.session() as session:
                paper.hold_account(session, self.account)
                self._settle(session, rules, fills)
                paper.record_order(session, self.account, report)
        except paper.Overdraft as short:
            needed = rules.quote if side is Side.BUY else rules.base
            raise OrderRejected(
                f"the paper account has too little free {needed} for {side.value} "
                f"{wording.quantity(amount, rules.amount_step)} {rules.base} "
                f"(another trade spent it first); nothing was traded"
            ) from short
        return report

    def order_by_client_id(self, symbol: str, client_order_id: str) -> OrderReport | None:
        with self.db.session() as session:
            return paper.order(session, client_order_id)

    def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        return self.order_by_client_id(symbol, client_order_id)

    def order_fills(self, report: OrderReport) -> list[Fill]:
        return list(report.fills)

    def traces(self, symbol: str, since: datetime) -> OrderTraces:
        """Paper orders never rest, and each is answered in the transaction that records
        it: the paper account never holds an order the app does not know."""
        return OrderTraces(frozenset(), frozenset(), frozenset())

    def snapshot(
        self, account: str, symbols: Iterable[str] = (), quote: str | None = None
    ) -> AccountSnapshot:
        """The paper balances, with the tickers of `symbols` and of each asset held
        (against `quote`), read together."""
        balances = self.balances()
        held = {f"{asset}/{quote}" for asset, b in balances.items() if quote and b.total > 0}
        return AccountSnapshot(
            account=account,
            balances=balances,
            open_orders={},
            tickers=self.market.tickers(sorted(held.union(symbols))),
            taken_at=datetime.now(UTC),
        )

    def _settle(self, session, rules: MarketRules, fills: list[Fill]) -> None:
        account = self.account
        for fill in fills:
            notional = fill.qty * fill.price
            if fill.side is Side.BUY:
                paper.change_balance(session, account, rules.quote, -notional)
                paper.change_balance(session, account, rules.base, fill.qty - fill.fee)
            else:
                paper.change_balance(session, account, rules.base, -fill.qty)
                paper.change_balance(session, account, rules.quote, notional - fill.fee)


def walk_book(
    book: OrderBook,
    rules: MarketRules,
    side: Side,
    amount: Decimal,
    limit: Decimal,
    client_order_id: str,
) -> list[Fill]:
    """The fills an immediate-or-cancel LIMIT order gets from `book`: level by level, never
    past `limit`. Taker fees are charged in the asset received."""
    if amount < rules.min_amount or amount * limit < rules.min_cost:
        raise OrderRejected(
            f"{wording.quantity(amount, rules.amount_step)} {rules.base} at "
            f"{wording.price(limit, rules.price_step)} is below the market minimum"
        )
    levels = book.asks if side is Side.BUY else book.bids
    now = datetime.now(UTC)
    fills: list[Fill] = []
    remaining = amount
    for level_price, level_qty in levels:
        crosses = level_price <= limit if side is Side.BUY else level_price >= limit
        if remaining <= 0 or not crosses:
            break
        qty = floor_to_step(min(remaining, level_qty), rules.amount_step)
        if qty <= 0:
            continue
        remaining -= qty
        if side is Side.BUY:
            fee, fee_asset, fee_quote = (
                qty * rules.taker_fee,
                rules.base,
                qty * rules.taker_fee * level_price,
            )
        else:
            fee = qty * level_price * rules.taker_fee
            fee_asset, fee_quote = rules.quote, fee
        fills.append(
            Fill(
                symbol=rules.symbol,
                side=side,
                qty=qty,
                price=level_price,
                fee=fee,
                fee_asset=fee_asset,
                fee_quote=fee_quote,
                trade_id=uuid.uuid4().hex,
                client_order_id=client_order_id,
                time=now,
            )
        )
    return fills
