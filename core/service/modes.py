"""SIM or LIVE: which book the page trades, and the checks before LIVE may start."""

from __future__ import annotations

import logging

from core.domain import Mode
from core.errors import TradeBusy
from core.exchange.gateway import GatewayError
from core.service.composition import ACCOUNT, NO_KEYS, Wiring
from core.service.monitoring import MonitorCommands
from core.service.stored_mode import StoredMode
from core.service.trading import TradeCommands
from core.store import repository as repo
from core.store import snapshots
from core.trading.gate import Gate
from core.views import ModeChange

log = logging.getLogger(__name__)
SWITCH_WAIT = 10.0  # seconds a switch waits for a trade in flight to end its sends


class ModeCommands:
    def __init__(
        self,
        wiring: Wiring,
        gate: Gate,
        stored: StoredMode,
        trading: TradeCommands,
        monitoring: MonitorCommands,
    ):
        self.wiring = wiring
        self._gate = gate
        self._stored = stored
        self._trading = trading
        self._monitoring = monitoring

    def current(self) -> Mode:
        """The stored mode, read now: what every action (a trade, a stop, a flatten) uses."""
        return self._stored.current()

    def shown(self) -> Mode:
        """The mode the page shows, read at most once a second by every process."""
        return self._stored.shown()

    def start(self) -> str | None:
        """A new database starts in TRADING_MODE. LIVE still needs keys that work: without
        them it stays SIM, and the returned warning says why."""
        if not self._stored.start():
            return None
        if Mode(self.wiring.settings.TRADING_MODE) is not Mode.LIVE:
            return None
        change = self.request(Mode.LIVE)
        return (
            None if change.ok else f"TRADING_MODE=live refused, starting in SIM: {change.message}"
        )

    @property
    def has_keys(self) -> bool:
        return self.wiring.access.has_keys

    def confirmation(self) -> str:
        """The question before LIVE: where, and what enforce would then do by itself."""
        question = (
            f"Go LIVE on {self.wiring.exchange_label} (account {ACCOUNT})? "
            "Every BUY, SELL and CLOSE will then place real orders on that account."
        )
        if self.wiring.settings.SYNC_POLICY != "enforce":
            return question
        targets = self._live_targets()
        if not targets:
            return (
                f"{question} SYNC_POLICY=enforce: no LIVE target is recorded, so it trades nothing."
            )
        words = "; ".join(targets)
        return (
            f"{question} Switching trades nothing by itself; from the next check on, "
            f"SYNC_POLICY=enforce trades back to these LIVE targets: {words}."
        )

    def _live_targets(self) -> list[str]:
        with self.wiring.db.session() as session:
            rows = repo.positions(session, self.wiring.book(Mode.LIVE))
        found = []
        for row in rows:
            if not row.target_state:
                continue
            if row.target_state == "LONG":
                size = (
                    f"up to {row.target_quote:f} {self.wiring.quote}"
                    if row.target_quote
                    else "sells only: no size remembered"
                )
                found.append(f"{row.symbol} LONG ({size})")
            else:
                found.append(f"{row.symbol} {row.target_state}")
        return found

    def live_refusal(self) -> str | None:
        """Why LIVE cannot start now, or None: the keys must exist and work (their balances
        are read and kept as the account's first snapshot), and no order may be left with an
        unknown outcome. Asked before the trader is asked to confirm."""
        if not self.wiring.access.has_keys:
            return NO_KEYS
        try:
            balances = self.wiring.live_gateway().balances()
        except GatewayError as exc:
            return f"LIVE refused: {exc}"
        with self.wiring.db.session() as session:
            snapshots.record_snapshot(session, self.wiring.book(Mode.LIVE), balances, "mode")
        self.wiring.book_changed(self.wiring.book(Mode.LIVE))
        unresolved = self._trading.reconcile_unresolved()
        return f"LIVE refused: {unresolved[0]}" if unresolved else None

    def request(self, mode: Mode) -> ModeChange:
        if mode is Mode.SIM:
            if busy := self._set(Mode.SIM):
                return busy
            return ModeChange(
                True, Mode.SIM, "Simulation mode: paper trading, no orders reach the exchange."
            )
        reason = self.live_refusal()
        if reason:
            return ModeChange(False, self.current(), reason)
        if busy := self._set(Mode.LIVE):
            return busy
        self._monitoring.periodic_check(enforce=False)
        return ModeChange(True, Mode.LIVE, f"LIVE+SYNC on {self.wiring.exchange_label}")

    def _set(self, mode: Mode) -> ModeChange | None:
        """Stored while no order of the traded account is between its gate check and its
        send: every symbol's lock is taken first (a trade in flight is waited for). The
        refusal when one is still running after SWITCH_WAIT, else None."""
        account = self.wiring.account(ACCOUNT, Mode.SIM)  # the lock is the account's, either book
        with self.wiring.db.session() as session:
            symbols = {
                p.symbol
                for book in (Mode.SIM, Mode.LIVE)
                for p in repo.positions(session, self.wiring.book(book))
            }
        try:
            with self._gate.all_symbols(account, {*self.wiring.symbols, *symbols}, SWITCH_WAIT):
                self._stored.store(mode)
        except TradeBusy as busy:
            now = self.current()
            return ModeChange(
                False, now, f"{busy}; the mode stays {now.value.upper()}: try again when it ends"
            )
        log.info("mode set", extra={"account": ACCOUNT, "mode": mode.value})
        return None
