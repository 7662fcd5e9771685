"""Trades: the page's and the command line's BUY / SELL / CLOSE through the gate, and the
settling of orders a crash left unknown."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from decimal import Decimal

from core import wording
from core.domain import (
    Balance,
    ExitPart,
    MarketRules,
    Mode,
    Origin,
    PositionState,
    SizeKind,
    TradeResult,
    TradeSize,
    floor_to_step,
)
from core.errors import AppError, InputError
from core.operations.locks import TradeBusy
from core.protection.stops import resolve as resolve_stop
from core.service.accounting import book_balances, prices_for, record_equity_point
from core.service.composition import ACCOUNT, Wiring
from core.service.markets import resolve_symbol
from core.service.protection import ProtectionCommands
from core.service.stored_mode import StoredMode
from core.store import jobs
from core.store import protection as stop_records
from core.trading.gate import Gate, OrderRequest
from core.trading.sizing import BuyMarket, Preview, size_buy
from core.valuation import equity

BOOK_DEPTH = 50  # as deep as the trade reads the book, so the preview walks the same levels


class TradeCommands:
    def __init__(
        self, wiring: Wiring, gate: Gate, stored: StoredMode, protection: ProtectionCommands
    ):
        self.wiring = wiring
        self.gate = gate
        self._stored = stored
        self._protection = protection

    def trade(
        self,
        symbol: str,
        target: PositionState,
        size: TradeSize | None = None,
        mode: Mode | None = None,
        origin: Origin = Origin.MANUAL,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        shown_mode: Mode | None = None,
        max_buy: Decimal | None = None,
        part: ExitPart | None = None,
        limit_price: Decimal | None = None,
    ) -> TradeResult:
        """Sync `symbol` to `target` in `mode`'s book (the command line names it), or in the
        book of the mode the page showed when the trader clicked (`shown_mode`: refused if
        the dashboard has switched since), then set the stop asked for with it. A risk size
        is measured to that stop and the book's equity, as the preview measures it. A `part`
        with SELL or CLOSE sells that part of the holding; the rest stays LONG under the
        symbol's stop, which sells whatever is held when it fires. Failures
        come back as a result with a message, never as exceptions; a refused one sent and
        wrote nothing. With `limit_price` the order rests at that price as the trader's
        working order (the symbol reads `LONG pending: BUY ...` until it fills)."""
        mode = mode or shown_mode or self._stored.current()

        def refused(message: str) -> TradeResult:
            return TradeResult(False, symbol, target, None, None, message, refused=True)

        try:
            symbol = resolve_symbol(self.wiring, symbol)
            stops = self._check_stops(symbol, target, stop_loss, take_profit)
            if part is not None and target is PositionState.LONG:
                raise InputError("A part to close goes with SELL or CLOSE, not with BUY.")
            if part is not None and limit_price is not None:
                raise InputError(
                    "A part is sold at the market: leave the limit price out, or rest a "
                    "priced SELL of the whole holding."
                )
            account = self.wiring.account(ACCOUNT, mode)
            if limit_price is not None and stops:
                raise InputError(
                    "A stop protects a position held: set it once the priced order has "
                    "filled (protect SYMBOL --stop-loss PRICE)."
                )
            if limit_price is not None and (limit_price <= 0 or account.is_derivatives):
                raise InputError(
                    "A limit price is a positive price of a spot market's order."
                    if limit_price <= 0
                    else f"A priced order on {account.where}'s derivatives is not supported."
                )
            if size is not None and size.kind is SizeKind.RISK_PCT:
                size = self._measured(size, mode, stops.get("stop_loss"))
        except AppError as exc:
            return refused(str(exc))
        request = OrderRequest(
            symbol, target, origin, size, shown_mode, max_buy, part=part, limit_price=limit_price
        )
        result = self.gate.trade(account, request)
        if stops and result.ok:
            result = self._protect(result, mode, stops)
        if part is not None and result.ok and not result.flat:
            result = self._stop_kept(result, account.book)
        if not result.refused:
            record_equity_point(self.wiring, mode, fetch=False)
            kind = "trade" if origin in (Origin.MANUAL, Origin.CLI) else origin.value
            self.wiring.observers.trade_done(ACCOUNT, result, origin, kind, mode=mode)
        return result

    def preview(
        self,
        symbol: str,
        size: TradeSize,
        mode: Mode | None = None,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
        limit_price: Decimal | None = None,
    ) -> Preview:
        """What a BUY of `size` would be now in `mode`'s book (the stored mode by default):
        the same sizing the trade runs inside its lock, on the book's last balances, cached
        prices and a cached order book. Read-only: nothing is sent or written. InputError
        for a symbol or stop that cannot be; GatewayError when the market cannot be read."""
        mode = mode or self._stored.current()
        symbol = resolve_symbol(self.wiring, symbol)
        rules = self.wiring.market_data.market_rules(symbol)
        book = self.wiring.prices.order_book(symbol, BOOK_DEPTH)
        touch = book.best_bid or book.best_ask
        stops = self._stops_at(rules, touch, book.best_ask or touch, stop_loss, take_profit)
        balances, _ = book_balances(self.wiring, mode)
        free = balances.get(rules.quote, Balance()).free
        measured = replace(size, stop_loss=stops.get("stop_loss"), equity=self._equity(balances))
        limit = None if limit_price is None else floor_to_step(limit_price, rules.price_step)
        return size_buy(
            measured,
            BuyMarket(book, rules, free, limit),
            self.wiring.limits,
            stops.get("take_profit"),
        )

    def _measured(self, size: TradeSize, mode: Mode, stop_loss: Decimal | None) -> TradeSize:
        """A risk size with what it is measured by, as the preview reads them: the stop the
        position gets and the book's equity now."""
        if stop_loss is None:
            raise InputError("Sizing by risk needs a stop-loss price: the risk is measured to it.")
        balances, _ = book_balances(self.wiring, mode)
        return replace(size, stop_loss=stop_loss, equity=self._equity(balances))

    def _equity(self, balances: dict[str, Balance]) -> Decimal | None:
        """The balances' worth at cached prices (one ticker call per time-to-live), or None
        when there are none or their prices cannot be read."""
        if not balances:
            return None
        prices, error = prices_for(self.wiring, balances)
        return None if error else equity(balances, prices, self.wiring.quote)

    def _check_stops(self, symbol, target, stop_loss, take_profit) -> dict:
        """Stops given with a trade protect the LONG it buys: checked against the market
        before anything is sent."""
        if stop_loss is None and take_profit is None:
            return {}
        if target is not PositionState.LONG:
            raise InputError(
                f"A stop protects a position: it goes with a LONG target, not {target.value}."
            )
        ticker = self.wiring.market_data.ticker(symbol)
        rules = self.wiring.market_data.market_rules(symbol)
        bid, ask = ticker.bid or ticker.last, ticker.ask or ticker.last
        return self._stops_at(rules, bid, ask, stop_loss, take_profit)

    @staticmethod
    def _stops_at(rules: MarketRules, bid, ask, stop_loss, take_profit) -> dict:
        """A LONG's stop prices checked against the bid and ask, rounded to the tick as the
        stop is set (nothing to check without prices: the sizing then reports the book)."""
        if (stop_loss is None and take_profit is None) or bid is None:
            return {}
        resolved = resolve_stop(
            "long", bid, ask, rules.price_step, stop_loss=stop_loss, take_profit=take_profit
        )
        return {"stop_loss": resolved.stop_loss, "take_profit": resolved.take_profit}

    def _protect(self, result: TradeResult, mode: Mode, stops: dict) -> TradeResult:
        try:
            outcome = self._protection.protect(result.symbol, mode=mode, **stops)
        except AppError as exc:
            return replace(result, message=f"{result.message}; stop not set: {exc}")
        return replace(result, message=f"{result.message}; {outcome.message}")

    def _stop_kept(self, result: TradeResult, book) -> TradeResult:
        """After a partial exit, the symbol's stop (if any) guards the rest: a spot stop
        sells whatever is held when it fires, so it is resized by the sale itself."""
        with self.wiring.db.session() as session:
            live = [s for s in stop_records.live_stops(session, book) if s.symbol == result.symbol]
        if not live or live[-1].stop_loss is None:
            return result
        step = self.wiring.market_data.market_rules(result.symbol).price_step
        level = wording.price(live[-1].stop_loss, step)
        return replace(
            result, message=f"{result.message}; the stop-loss at {level} now guards the rest"
        )

    def settle_working(self, mode: Mode) -> int:
        """Follow the book's working orders: what they filled goes into the ledger (SIM: the
        paper account fills those the public book crosses now), each told in the feed;
        returns how many changed."""
        changed = self.gate.settle_working(self.wiring.account(ACCOUNT, mode))
        for report in changed:
            self.wiring.observers.working_order(ACCOUNT, report, Origin.MONITOR.value, mode=mode)
        return len(changed)

    def reconcile_unresolved(self, mode: Mode = Mode.LIVE) -> list[str]:
        """Settle orders that a crash or an outage left without a known outcome; returns
        what is still unresolved (empty when trading may go on)."""
        outcomes = self.gate.settle_unresolved(self.wiring.account(ACCOUNT, mode))
        still = [outcome.detail for outcome in outcomes if not outcome.resolved]
        self.wiring.observers.unresolved(ACCOUNT, len(still))
        return still

    def settle_interrupted(self) -> None:
        """Jobs still marked running whose trade lock is free ended with their process; the
        orders they left are settled by `reconcile_unresolved`."""
        with self.wiring.db.session() as session:
            running = jobs.running_jobs(session)
        for job in running:
            with (
                contextlib.suppress(TradeBusy),
                self.wiring.locks.hold(job.account, job.symbol),
                self.wiring.db.session() as session,
            ):
                jobs.mark_interrupted(
                    session,
                    job.id,
                    "interrupted: the process running it stopped; its orders were "
                    "reconciled with the exchange at the next start",
                )
