"""The kill switch: halt an account, cancel every open order, close every position with
the same safe flow as a click, and keep it halted (across restarts) until resumed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core import wording
from core.domain import Mode, Origin, PositionState, TradeResult
from core.errors import AppError
from core.monitor import AccountLink
from core.service.composition import ACCOUNT, Wiring
from core.state import spot_positions
from core.store import protection
from core.store import repository as repo
from core.store.books import BookKey
from core.store.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlattenOutcome:
    account: str
    ok: bool
    message: str
    closed: list[TradeResult] = field(default_factory=list)
    cancelled: int = 0


class KillSwitch:
    def __init__(self, wiring: Wiring):
        self.wiring = wiring

    def halted(self, account: str, mode: Mode) -> str | None:
        """Why trading is halted on the account's book, or None."""
        with self.wiring.db.session() as session:
            found = protection.halted(session, self._book(account, mode))
        return found[0] if found else None

    def flatten(self, accounts: list[str], mode: Mode) -> list[FlattenOutcome]:
        """Each account is halted first (so no new trade starts), then its stops, open
        orders and positions are ended; an account whose exchange fails is reported and
        stays halted, and the others go on."""
        outcomes = [self._flatten(account, mode) for account in accounts]
        for account in accounts:
            self.wiring.book_changed(self._book(account, mode))
        for outcome in outcomes:
            self.wiring.observers.kill_switch(outcome.account, outcome.message)
        return outcomes

    def resume(self, account: str, mode: Mode) -> str:
        with self.wiring.db.session() as session:
            was = protection.resume(session, self._book(account, mode))
        self.wiring.book_changed(self._book(account, mode))
        log.info("trading resumed", extra={"account": account, "mode": mode.value})
        if was:
            self.wiring.observers.resumed(account)
        return f"{account}: trading resumed" if was else f"{account}: was not halted"

    def _flatten(self, account: str, mode: Mode) -> FlattenOutcome:
        link, executor, book = self._account(account, mode)
        when = utcnow().strftime("%Y-%m-%d %H:%M:%S UTC")
        with self.wiring.db.session() as session:
            protection.halt(session, book, f"trading halted by flatten at {when}; resume to trade")
            protection.end_stops_everywhere(session, book, "ended by flatten")
        try:
            snapshot = link.gateway.snapshot(link.name)
            cancelled = sum(link.gateway.cancel_open_orders(s) for s in snapshot.open_orders)
            targets = set(self._held(link, snapshot)) | self._asked_for(book)
            closed = [self._close(link, executor, symbol) for symbol in sorted(targets)]
            for symbol in sorted({stop.symbol for stop in snapshot.stops or ()}):
                link.gateway.cancel_stops(symbol)  # a stop left on the exchange with no position
        except AppError as exc:
            message = f"{account}: flatten stopped: {exc}; trading stays halted"
            log.error("flatten failed", extra={"account": account, "reason": str(exc)})
            return FlattenOutcome(account, False, message)
        ok = all(result.ok for result in closed)
        done = ", ".join(r.message for r in closed) or "no position was open"
        orders = wording.count(cancelled, "open order")
        message = f"{account}: {done}; {orders} cancelled; trading halted by flatten at {when}"
        log.warning("flatten", extra={"account": account, "outcome": message})
        return FlattenOutcome(account, ok, message, closed, cancelled)

    def _close(self, link: AccountLink, executor, symbol: str) -> TradeResult:
        if link.gateway.market.venue.is_derivatives:
            return executor.close_position(symbol, origin=Origin.FLATTEN)
        return executor.sync_position(symbol, PositionState.NO_POSITION, origin=Origin.FLATTEN)

    def _held(self, link: AccountLink, snapshot) -> list[str]:
        """Symbols with an open position: a derivatives venue's positions, or on spot every
        asset held above dust that trades against the account's quote."""
        if snapshot.positions is not None:
            return sorted({p.symbol for p in snapshot.positions if p.qty})
        market = link.gateway.market
        prices = {s: t.last for s, t in snapshot.tickers.items()}
        markets = set(market.symbols())
        rules = {
            f"{asset}/{link.quote}": market.market_rules(f"{asset}/{link.quote}")
            for asset in snapshot.balances
            if f"{asset}/{link.quote}" in markets and f"{asset}/{link.quote}" in prices
        }
        held = spot_positions(link.name, snapshot.balances, prices, rules, link.quote)
        return [p.symbol for p in held]

    def _asked_for(self, book: BookKey) -> set[str]:
        """Symbols whose recorded target is a position, held or not: a holding that drifted
        away gets the flat target too, so no target outlives the flatten."""
        with self.wiring.db.session() as session:
            return {
                p.symbol
                for p in repo.positions(session, book)
                if p.target_state not in (None, PositionState.NO_POSITION.value)
            }

    def _account(self, account: str, mode: Mode):
        if account == ACCOUNT:
            gateway = self.wiring.gateway(mode)
            link = AccountLink(ACCOUNT, gateway, mode.value, self.wiring.quote)
            return link, self.wiring.executor(mode), self.wiring.book(mode)
        link = self.wiring.link(account)
        return link, self.wiring.account_executor(link), BookKey(link.mode, link.name)

    def _book(self, account: str, mode: Mode) -> BookKey:
        if account == ACCOUNT:
            return self.wiring.book(mode)
        return BookKey(Mode.LIVE.value, self.wiring.link(account).name)
