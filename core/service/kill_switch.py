"""The kill switch: halt an account's book, then end every open order and position through
the gate with the same safe flow as a click, and keep it halted (across restarts) until
resumed. Stops stay armed until their symbol's close is verified."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core import wording
from core.accounts.account import Account
from core.domain import Mode, Origin, PositionState, TradeResult
from core.errors import AppError
from core.service.composition import Wiring
from core.store import protection
from core.store import repository as repo
from core.store.models import utcnow
from core.trading.gate import FLATTEN_WAIT_SECONDS, Gate, OrderRequest
from core.trading.state import spot_positions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlattenOutcome:
    account: str
    ok: bool
    message: str
    closed: list[TradeResult] = field(default_factory=list)
    cancelled: int = 0


class KillSwitch:
    def __init__(self, wiring: Wiring, gate: Gate):
        self.wiring = wiring
        self.gate = gate

    def halted(self, account: str, mode: Mode) -> str | None:
        """Why trading is halted on the account's book, or None."""
        with self.wiring.db.session() as session:
            found = protection.halted(session, self.wiring.account(account, mode).book)
        return found[0] if found else None

    def flatten(self, accounts: list[str], mode: Mode) -> list[FlattenOutcome]:
        """Each account is halted first (so no new order goes out), then each symbol it holds,
        was asked to hold, has orders or stops on is closed through the gate, waiting for a
        trade in flight on it to finish; an account whose exchange fails is reported and
        stays halted, and the others go on."""
        books = [self.wiring.account(name, mode) for name in accounts]
        outcomes = [self._flatten(account) for account in books]
        for outcome in outcomes:
            self.wiring.observers.kill_switch(outcome.account, outcome.message, mode=mode)
        return outcomes

    def resume(self, account: str, mode: Mode) -> str:
        book = self.wiring.account(account, mode)
        with self.wiring.db.session() as session:
            was = protection.resume(session, book.book)
        self.wiring.book_changed(book.book)
        log.info("trading resumed", extra={"account": book.name, "mode": book.mode.value})
        if was:
            self.wiring.observers.resumed(book.name, mode=book.mode)
        return f"{book.where}: trading resumed" if was else f"{book.where}: was not halted"

    def _flatten(self, account: Account) -> FlattenOutcome:
        when = utcnow().strftime("%Y-%m-%d %H:%M:%S UTC")
        with self.wiring.db.session() as session:
            protection.halt(
                session, account.book, f"trading halted by flatten at {when}; resume to trade"
            )
        self.wiring.book_changed(account.book)
        try:
            snapshot = account.gateway.snapshot(account.name, quote=account.quote)
        except AppError as exc:
            message = (
                f"{account.name}: flatten could not read the account: {exc}; nothing was "
                "closed, its stops stay armed and trading stays halted"
            )
            log.error("flatten failed", extra={"account": account.name, "reason": str(exc)})
            return FlattenOutcome(account.name, False, message)
        with_orders = {s for s, n in snapshot.open_orders.items() if n}
        exchange_stops = {stop.symbol for stop in snapshot.stops or ()}
        symbols = (
            set(self._held(account, snapshot))
            | self._asked_for(account)
            | self._protected(account)
            | with_orders
            | exchange_stops
        )
        closed = [self._close(account, symbol) for symbol in sorted(symbols)]
        failed = [r for r in closed if not r.ok]
        cancelled = sum(n for s, n in snapshot.open_orders.items() if s in symbols)
        message = self._words(account, closed, failed, cancelled, when)
        log.warning("flatten", extra={"account": account.name, "outcome": message})
        return FlattenOutcome(account.name, not failed, message, closed, cancelled)

    def _close(self, account: Account, symbol: str) -> TradeResult:
        """One symbol to flat through the gate, after any trade in flight on it."""
        request = OrderRequest(
            symbol, PositionState.NO_POSITION, Origin.FLATTEN, wait=FLATTEN_WAIT_SECONDS
        )
        return self.gate.trade(account, request)

    def _words(self, account: Account, closed, failed, cancelled: int, when: str) -> str:
        done = [r.message for r in closed if r.ok and r.before is not r.after]
        parts = done or ["no position was open"]
        for result in failed:
            parts.append(
                f"{result.symbol} NOT closed: {result.message}; {self._armed(account, result)}"
            )
        orders = wording.count(cancelled, "open order")
        return f"{account.name}: {'; '.join(parts)}; {orders} cancelled; trading halted by flatten at {when}"

    def _armed(self, account: Account, result: TradeResult) -> str:
        with self.wiring.db.session() as session:
            armed = [
                s for s in protection.live_stops(session, account.book) if s.symbol == result.symbol
            ]
        if not armed:
            return "no stop protects it"
        level = armed[0].stop_loss
        if level is None:
            return "its stop still stands"
        step = account.gateway.market.market_rules(result.symbol).price_step
        return f"its stop-loss at {wording.price(level, step)} still stands"

    def _held(self, account: Account, snapshot) -> list[str]:
        """Symbols with an open position: a derivatives venue's positions, or on spot every
        asset held above dust that trades against the account's quote."""
        if snapshot.positions is not None:
            return sorted({p.symbol for p in snapshot.positions if p.qty})
        market = account.gateway.market
        prices = {s: t.last for s, t in snapshot.tickers.items()}
        markets = set(market.symbols())
        rules = {
            f"{asset}/{account.quote}": market.market_rules(f"{asset}/{account.quote}")
            for asset in snapshot.balances
            if f"{asset}/{account.quote}" in markets and f"{asset}/{account.quote}" in prices
        }
        held = spot_positions(account.name, snapshot.balances, prices, rules, account.quote)
        return [p.symbol for p in held]

    def _asked_for(self, account: Account) -> set[str]:
        """Symbols whose recorded target is a position, held or not: a holding that drifted
        away gets the flat target too, so no target outlives the flatten."""
        with self.wiring.db.session() as session:
            return {
                p.symbol
                for p in repo.positions(session, account.book)
                if p.target_state not in (None, PositionState.NO_POSITION.value)
            }

    def _protected(self, account: Account) -> set[str]:
        """Symbols with a live stop in the book: each gets its close, which ends the stop
        only once the symbol is verifiably flat."""
        with self.wiring.db.session() as session:
            return {s.symbol for s in protection.live_stops(session, account.book)}
