"""The position monitor's protection audit (REQUIRE_STOP_LOSS_PCT): every open position
needs a stop-loss that close to the mark, and a stop with no position is an orphan;
`--protect` places the missing stops (on the exchange on derivatives, app-side on spot) and
removes the orphans."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from core.domain import ZERO, AccountSnapshot, ActionKind, ExchangePosition, StopKind
from core.exchange.gateway import GatewayError
from core.monitoring.reconcile import StopOnRecord, diagnose_protection, plan_protection
from core.store import protection as stop_records
from core.store import repository as repo
from core.store.db import Database

if TYPE_CHECKING:  # the monitor imports this module
    from core.monitoring.monitor import AccountCheck, AccountLink


class ProtectionAudit:
    def __init__(self, db: Database, require_pct: Decimal):
        self.db = db
        self.require_pct = require_pct

    def examine(
        self,
        check: AccountCheck,
        link: AccountLink,
        snapshot: AccountSnapshot,
        held: list[ExchangePosition],
        protect: bool,
    ) -> None:
        """REQUIRE_STOP_LOSS_PCT: every open position needs a stop-loss that close to the
        mark; a stop with no position is an orphan."""
        found = diagnose_protection(held, self._stops_on_record(link, snapshot), self.require_pct)
        check.discrepancies.extend(found)
        if protect:
            steps = {d.symbol: self._price_step(link, d.symbol) for d in found}
            check.protection = plan_protection(found, self.require_pct, steps)

    def _stops_on_record(self, link: AccountLink, snapshot: AccountSnapshot) -> list[StopOnRecord]:
        """The stop-losses that protect the account: what a derivatives exchange keeps, or
        on spot the app's own (app-side) stops."""
        if snapshot.stops is not None:
            return [
                StopOnRecord(link.name, s.symbol, s.trigger_price)
                for s in snapshot.stops
                if s.kind is StopKind.STOP_LOSS
            ]
        with self.db.session() as session:
            kept = stop_records.live_stops(session, repo.BookKey(link.mode, link.name))
        return [
            StopOnRecord(link.name, s.symbol, s.stop_loss)
            for s in kept
            if s.stop_loss is not None and s.status != stop_records.REFUSED
        ]

    def repair(self, link: AccountLink, check: AccountCheck) -> None:
        """Carry out the protection plan: on the exchange for derivatives, as app-side stops
        on spot. A refusal is reported on the check and tried again only next run."""
        book = repo.BookKey(link.mode, link.name)
        derivatives = link.gateway.market.venue.is_derivatives
        for action in check.protection:
            try:
                if action.kind is ActionKind.UNPROTECT:
                    if derivatives:
                        link.gateway.cancel_stops(action.symbol)
                    with self.db.session() as session:
                        stop_records.end_stops(
                            session,
                            book,
                            action.symbol,
                            stop_records.CANCELLED,
                            "no position to protect",
                        )
                    continue
                side = "long" if action.after_qty > 0 else "short"
                placed = ()
                if derivatives:
                    placed = link.gateway.place_stops(
                        action.symbol, action.after_qty, action.price, None, link.name
                    )
                with self.db.session() as session:
                    stop_records.set_stop(
                        session,
                        book,
                        action.symbol,
                        side=side,
                        stop_loss=action.price,
                        take_profit=None,
                        placement="exchange" if derivatives else "app",
                        exchange_ids=tuple(s.exchange_id for s in placed),
                        message="placed by the monitor (REQUIRE_STOP_LOSS_PCT)",
                    )
            except GatewayError as exc:
                check.failed_parts.append(f"{action.symbol}: {exc}")

    def _price_step(self, link: AccountLink, symbol: str) -> Decimal:
        try:
            return link.gateway.market.market_rules(symbol).price_step
        except GatewayError:
            return ZERO
