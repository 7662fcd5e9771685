"""The SIM account: orders fill against the exchange's real order book, walking its depth,
with the market's fees, precision and minimums; balances live in the database.

It only ever reads public market data, so SIM sends no signed request, ever. A paper
order is an immediate-or-cancel fill: what the book offers up to the limit price fills,
the rest is cancelled; unless it is asked to rest (a priced order, the trader's working
order): then the rest waits, holding its cash or coins locked, and fills at its own price
(as the maker) once the public book crosses it. The paper exchange matches its resting
orders whenever it is read about them (open orders, an order, a cancel, a snapshot), as an
exchange's book would have done meanwhile. The paper exchange's balances and its record of the order (with
its fills) are written in one transaction, as an exchange would; the app's own book of
orders and fills is the executor's to write, exactly as in LIVE.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from core import wording
from core.domain import (
    ZERO,
    AccountSnapshot,
    Balance,
    CashTransfer,
    Fill,
    MarketRules,
    OrderBook,
    OrderReport,
    OrderStatus,
    Side,
    floor_to_step,
)
from core.exchange.gateway import MarketData, OrderRejected, OrderTraces
from core.store import paper
from core.store.db import Database

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
        """Cancel the symbol's resting orders (after matching them: what the book crossed
        meanwhile filled first); returns how many there were."""
        resting = self.open_orders(symbol)
        for report in resting:
            self._end(report)
        return len(resting)

    def open_orders(self, symbol: str | None = None) -> list[OrderReport]:
        with self.db.session() as session:
            symbols = sorted({o.symbol for o in paper.open_orders(session, self.account, symbol)})
        for each in symbols:
            self._match(each)
        with self.db.session() as session:
            return paper.open_orders(session, self.account, symbol)

    def cancel_outside_order(self, symbol: str, exchange_order_id: str) -> None:
        """The paper account holds only the app's orders."""
        raise OrderRejected(f"the paper account has no order {exchange_order_id}")

    def place_limit_order(
        self,
        symbol: str,
        side: Side,
        amount: Decimal,
        price: Decimal,
        client_order_id: str,
        rest: bool = False,
    ) -> OrderReport:
        rules = self.market.market_rules(symbol)
        book = self.market.order_book(symbol, BOOK_DEPTH)
        fills = walk_book(book, rules, side, amount, price, client_order_id)
        filled = sum((f.qty for f in fills), ZERO)
        cost = sum((f.qty * f.price for f in fills), ZERO)
        resting = rest and filled < amount
        report = OrderReport(
            client_order_id=client_order_id,
            exchange_order_id=f"paper-{uuid.uuid4().hex[:16]}",
            symbol=symbol,
            side=side,
            price=price,
            amount=amount,
            filled=filled,
            status=OrderStatus.OPEN
            if resting
            else OrderStatus.FILLED
            if filled == amount
            else OrderStatus.CANCELED,
            average=cost / filled if filled else None,
            fills=tuple(fills),
            placed_at=datetime.now(UTC),
        )
        try:
            with self.db.session() as session:
                paper.hold_account(session, self.account)
                self._settle(session, rules, fills)
                if resting:
                    asset, held = _locked_by(rules, side, amount - filled, price)
                    paper.lock_balance(session, self.account, asset, held)
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
            found = paper.order(session, client_order_id)
        if found is not None and found.status is OrderStatus.OPEN:
            self._match(symbol)
            with self.db.session() as session:
                found = paper.order(session, client_order_id)
        return found

    def cancel_order(self, symbol: str, client_order_id: str) -> OrderReport | None:
        found = self.order_by_client_id(symbol, client_order_id)
        if found is not None and found.status is OrderStatus.OPEN:
            return self._end(found)
        return found

    def _end(self, report: OrderReport) -> OrderReport:
        """Cancel a resting order: what it still holds locked is free again."""
        rules = self.market.market_rules(report.symbol)
        with self.db.session() as session:
            paper.hold_account(session, self.account)
            now = paper.order(session, report.client_order_id)
            if now is None or now.status is not OrderStatus.OPEN:
                return now or report
            asset, held = _locked_by(rules, now.side, now.amount - now.filled, now.price)
            paper.lock_balance(session, self.account, asset, -held)
            ended = replace(now, status=OrderStatus.CANCELED)
            paper.update_order(session, ended)
            return ended

    def _match(self, symbol: str) -> None:
        """Fill the symbol's resting orders the public book crosses now, oldest first, each
        at its own price as the maker; the book read once."""
        rules = self.market.market_rules(symbol)
        book = self.market.order_book(symbol, BOOK_DEPTH)
        with self.db.session() as session:
            paper.hold_account(session, self.account)
            for report in paper.open_orders(session, self.account, symbol):
                fill = crossed_fill(book, rules, report)
                if fill is None:
                    continue
                asset, held = _locked_by(rules, report.side, fill.qty, report.price)
                paper.lock_balance(session, self.account, asset, -held)
                self._settle(session, rules, [fill])
                filled = report.filled + fill.qty
                spent = (report.average or ZERO) * report.filled + fill.qty * fill.price
                paper.update_order(
                    session,
                    replace(
                        report,
                        filled=filled,
                        average=spent / filled,
                        status=OrderStatus.FILLED if filled >= report.amount else OrderStatus.OPEN,
                        fills=(*report.fills, fill),
                    ),
                )

    def order_fills(self, report: OrderReport) -> list[Fill]:
        return list(report.fills)

    def traces(self, symbol: str, since: datetime) -> OrderTraces:
        """Each paper order is answered in the transaction that records it: the paper
        account never holds an order the app does not know."""
        return OrderTraces(frozenset(), frozenset(), frozenset())

    def snapshot(
        self, account: str, symbols: Iterable[str] = (), quote: str | None = None
    ) -> AccountSnapshot:
        """The paper balances, with the tickers of `symbols` and of each asset held
        (against `quote`), read together."""
        orders = self.open_orders()
        balances = self.balances()
        held = {f"{asset}/{quote}" for asset, b in balances.items() if quote and b.total > 0}
        counts: dict[str, int] = {}
        for order in orders:
            counts[order.symbol] = counts.get(order.symbol, 0) + 1
        return AccountSnapshot(
            account=account,
            balances=balances,
            open_orders=counts,
            orders=tuple(orders),
            tickers=self.market.tickers(sorted(held.union(symbols))),
            taken_at=datetime.now(UTC),
        )

    def cash_transfers(self, asset: str, since: datetime) -> tuple[CashTransfer, ...]:
        """Nobody deposits into or withdraws from the paper account."""
        return ()

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


def _locked_by(rules: MarketRules, side: Side, qty: Decimal, price: Decimal):
    """What a resting order of `qty` at `price` holds: the quote a BUY would pay, the coins
    a SELL would sell."""
    return (rules.quote, qty * price) if side is Side.BUY else (rules.base, qty)


def crossed_fill(book: OrderBook, rules: MarketRules, order: OrderReport) -> Fill | None:
    """The fill a resting order gets from `book`: as much of what is left as the other side
    offers at or beyond its price, at its price, with the maker fee in the asset received;
    None when the book does not cross it."""
    levels = book.asks if order.side is Side.BUY else book.bids
    crossing = sum(
        (
            qty
            for price, qty in levels
            if (price <= order.price if order.side is Side.BUY else price >= order.price)
        ),
        ZERO,
    )
    qty = floor_to_step(min(order.amount - order.filled, crossing), rules.amount_step)
    if qty <= 0:
        return None
    if order.side is Side.BUY:
        fee, fee_asset = qty * rules.maker_fee, rules.base
        fee_quote = fee * order.price
    else:
        fee = fee_quote = qty * order.price * rules.maker_fee
        fee_asset = rules.quote
    return Fill(
        symbol=rules.symbol,
        side=order.side,
        qty=qty,
        price=order.price,
        fee=fee,
        fee_asset=fee_asset,
        fee_quote=fee_quote,
        trade_id=uuid.uuid4().hex,
        client_order_id=order.client_order_id,
        time=datetime.now(UTC),
    )


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
