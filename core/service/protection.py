"""Protection between clicks: stops on positions (watched by the app on spot, kept by the
exchange on derivatives) and their watcher."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from core import wording
from core.domain import (
    Balance,
    BookTicker,
    ExchangeStop,
    Holdings,
    Mode,
    Origin,
    PositionState,
    StopKind,
    Ticker,
)
from core.errors import InputError
from core.exchange.gateway import GatewayError
from core.monitoring.monitor import AccountLink
from core.protection import stops as protection
from core.service.composition import ACCOUNT, Wiring
from core.service.inputs import parse_symbol
from core.service.markets import resolve_symbol
from core.service.stored_mode import StoredMode
from core.store import protection as stops
from core.store import repository as repo
from core.store.books import BookKey
from core.store.models import utcnow
from core.trading.gate import Gate, OrderRequest
from core.trading.state import base_is_dust

log = logging.getLogger(__name__)
APP, EXCHANGE = "app", "exchange"
STALE_CLAIM = timedelta(seconds=60)
STOP_LOCK_WAIT = 5.0  # seconds a stop change waits for a trade or check on its symbol
WHERE = {
    APP: "app-side, active while the dashboard or worker runs",
    EXCHANGE: "on exchange",
}


@dataclass(frozen=True)
class StopOutcome:
    """What a protect or clear did, in words; `ok` False when nothing was set (the input
    was refused, or the exchange refused the stop)."""

    ok: bool
    message: str
    symbol: str
    account: str
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    placement: str | None = None


@dataclass(frozen=True)
class _Record:
    """What a stop's record says: its state, levels, the exchange's ids, and after a
    failure what happened (`ok` False)."""

    ok: bool
    status: str
    stop_loss: Decimal | None
    take_profit: Decimal | None
    exchange_ids: tuple[str, ...] = ()
    message: str | None = None


@dataclass(frozen=True)
class _Position:
    """What the account holds of one symbol, as a stop needs it."""

    side: str
    qty: Decimal
    entry: Decimal | None
    ticker: Ticker


class ProtectionCommands:
    def __init__(self, wiring: Wiring, gate: Gate, stored: StoredMode):
        self.wiring = wiring
        self.gate = gate
        self._stored = stored
        self._claimed: set[int] = set()  # stops this process claimed and is closing

    # --- setting and clearing --------------------------------------------------------

    def protect(
        self,
        symbol: str,
        *,
        account: str = ACCOUNT,
        mode: Mode | None = None,
        stop_loss: Decimal | None = None,
        stop_loss_pct: Decimal | None = None,
        take_profit: Decimal | None = None,
    ) -> StopOutcome:
        """Set (or replace) the symbol's stop. InputError for a stop that makes no sense
        (nothing held, the wrong side of the market, an absurd percentage): nothing is
        written or sent. On a derivatives exchange the new stop is placed before the old
        one is removed; after any failure the record says what the exchange keeps."""
        link, book = self._where(account, mode)
        symbol = self._symbol(link, symbol)
        owner = self.wiring.account(link.name, Mode(link.mode))
        with self.gate.exclusive(owner, symbol, Origin.MANUAL, wait=STOP_LOCK_WAIT) as verify:
            held = self._position(link, book, symbol)
            rules = link.gateway.market.market_rules(symbol)
            prices = protection.resolve(
                held.side,
                held.ticker.bid or held.ticker.last,
                held.ticker.ask or held.ticker.last,
                rules.price_step,
                stop_loss=stop_loss,
                stop_loss_pct=stop_loss_pct,
                take_profit=take_profit,
                entry=held.entry,
            )
            placement = EXCHANGE if link.gateway.market.venue.is_derivatives else APP
            record = _Record(True, stops.ACTIVE, prices.stop_loss, prices.take_profit)
            if placement == EXCHANGE:
                verify()
                record = self._replace_on_exchange(link, symbol, held, record, rules.price_step)
            with self.wiring.db.session() as session:
                self._record(session, book, symbol, held.side, placement, record)
        self.wiring.book_changed(book)
        words = _stop_words(prices.stop_loss, prices.take_profit, rules.price_step)
        if not record.ok:
            log.warning(
                "stop not replaced",
                extra={"account": link.name, "symbol": symbol, "reason": record.message},
            )
            return StopOutcome(
                False, f"{symbol}: {words} not set as asked: {record.message}", symbol, link.name
            )
        log.info("stop set", extra={"account": link.name, "symbol": symbol, "placement": placement})
        return StopOutcome(
            True,
            f"{symbol}: {words}, {WHERE[placement]}",
            symbol,
            link.name,
            prices.stop_loss,
            prices.take_profit,
            placement,
        )

    def clear(
        self, symbol: str, *, account: str = ACCOUNT, mode: Mode | None = None
    ) -> StopOutcome:
        """Remove the symbol's stop; on a derivatives exchange a removal that fails records
        what the exchange still keeps."""
        link, book = self._where(account, mode)
        symbol = self._symbol(link, symbol)
        owner = self.wiring.account(link.name, Mode(link.mode))
        with self.gate.exclusive(owner, symbol, Origin.MANUAL, wait=STOP_LOCK_WAIT) as verify:
            if link.gateway.market.venue.is_derivatives:
                try:
                    verify()
                    link.gateway.cancel_stops(symbol)
                except GatewayError as exc:
                    return self._clear_failed(link, book, symbol, exc)
            with self.wiring.db.session() as session:
                ended = stops.end_stops(
                    session, book, symbol, stops.CANCELLED, "removed by the trader"
                )
        self.wiring.book_changed(book)
        if not ended:
            return StopOutcome(True, f"{symbol}: no stop to remove", symbol, link.name)
        return StopOutcome(True, f"{symbol}: stop removed", symbol, link.name)

    def _replace_on_exchange(
        self, link: AccountLink, symbol: str, held: _Position, asked: _Record, step: Decimal
    ) -> _Record:
        """The new stop placed before the old one goes (the gateway's replace_stops); after
        any failure, what the exchange keeps, read back."""
        try:
            placed = link.gateway.replace_stops(
                symbol, held.qty, asked.stop_loss, asked.take_profit, link.name
            )
        except GatewayError as exc:
            failure = f"replacing the stop failed ({exc})"
            return self._kept(link, symbol, failure, asked.stop_loss, asked.take_profit, step)
        return _Record(
            True,
            stops.ACTIVE,
            asked.stop_loss,
            asked.take_profit,
            tuple(s.exchange_id for s in placed),
        )

    def _kept(
        self,
        link: AccountLink,
        symbol: str,
        failure: str,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        step: Decimal,
    ) -> _Record:
        """The record after a failure: the stops the exchange keeps now (their levels, the
        asked one first where it is among them), or refused at the asked levels when it
        keeps none or cannot be read."""
        try:
            held = link.gateway.stops(link.name, symbol)
        except GatewayError as exc:
            return _Record(
                False,
                stops.REFUSED,
                stop_loss,
                take_profit,
                message=f"{failure}; its stops could not be read back ({exc}): "
                "the next check reads them",
            )
        if not held:
            return _Record(
                False,
                stops.REFUSED,
                stop_loss,
                take_profit,
                message=f"{failure}; the exchange keeps no stop",
            )
        kept = " and ".join(
            f"{s.kind.value.replace('_', '-')} {wording.price(s.trigger_price, step)}" for s in held
        )
        return _Record(
            False,
            stops.ACTIVE,
            _level(held, StopKind.STOP_LOSS, stop_loss),
            _level(held, StopKind.TAKE_PROFIT, take_profit),
            tuple(s.exchange_id for s in held),
            f"{failure}; the exchange keeps {kept}",
        )

    def _clear_failed(
        self, link: AccountLink, book: BookKey, symbol: str, failure: GatewayError
    ) -> StopOutcome:
        """A removal that failed: the stops the exchange still keeps replace the record (on
        the recorded side), or the record ends when it keeps none."""
        step = link.gateway.market.market_rules(symbol).price_step
        record = self._kept(link, symbol, f"removing the stop failed ({failure})", None, None, step)
        with self.wiring.db.session() as session:
            recorded = [s for s in stops.live_stops(session, book) if s.symbol == symbol]
            if record.status == stops.ACTIVE and recorded:
                self._record(session, book, symbol, recorded[-1].side, EXCHANGE, record)
            else:
                stops.end_stops(session, book, symbol, stops.CANCELLED, record.message)
        self.wiring.book_changed(book)
        log.warning(
            "stop not removed",
            extra={"account": link.name, "symbol": symbol, "reason": record.message},
        )
        return StopOutcome(False, f"{symbol}: {record.message}", symbol, link.name)

    @staticmethod
    def _record(
        session, book: BookKey, symbol: str, side: str, placement: str, record: _Record
    ) -> None:
        stops.set_stop(
            session,
            book,
            symbol,
            side=side,
            stop_loss=record.stop_loss,
            take_profit=record.take_profit,
            placement=placement,
            status=record.status,
            exchange_ids=record.exchange_ids,
            message=record.message,
        )

    # --- the app-side watcher ---------------------------------------------------------

    def watch_once(self) -> int:
        """One pass of the spot stop watcher: the best bid and ask of every symbol with an
        app-side stop, and of no other; a crossed stop is claimed (once, whatever else is watching) and
        closed with the same safe sync as a click. Returns how many fired."""
        with self.wiring.db.session() as session:
            watched = stops.live_stops(session, placement=APP)
        watched = [s for s in watched if s.status in (stops.ACTIVE, stops.TRIGGERED)]
        if not watched:
            return 0
        tickers = self.wiring.market_data.book_tickers(sorted({s.symbol for s in watched}))
        closed = 0
        for stop in watched:
            ticker = tickers.get(stop.symbol)
            if ticker is None:
                continue
            kind = protection.fired(
                stop.side, stop.stop_loss, stop.take_profit, ticker.bid, ticker.ask
            )
            if self._ours(stop, kind):
                closed += self._close(stop, kind or StopKind.STOP_LOSS, ticker)
        return closed

    def _ours(self, stop, kind: StopKind | None) -> bool:
        """Whether this watcher closes the stop now: an active one it just claimed (one
        watcher wins the claim), one it claimed before and could not close yet, or one left
        triggered by a watcher that stopped (untouched for STALE_CLAIM)."""
        with self.wiring.db.session() as session:
            if stop.status == stops.ACTIVE:
                mine = kind is not None and stops.claim(session, stop.id)
            else:
                stale = utcnow() - STALE_CLAIM
                mine = stop.id in self._claimed or stops.reclaim_stale(session, stop.id, stale)
        if mine:
            self._claimed.add(stop.id)
        return mine

    def _close(self, stop, kind: StopKind, ticker: BookTicker) -> int:
        """Close a claimed stop's position, in the stop's own account and book, through the
        gate; a close that could not run stays triggered and is tried again on the next
        pass (never a second sell: the sync finds nothing held)."""
        account = self.wiring.account(stop.account, Mode(stop.mode))
        request = OrderRequest(stop.symbol, PositionState.NO_POSITION, Origin.STOP)
        try:
            return self._closed(stop, kind, ticker, self.gate.trade(account, request))
        finally:
            self.wiring.book_changed(account.book)  # how the stop ended, shown at once

    def _closed(self, stop, kind: StopKind, ticker: BookTicker, result) -> int:
        """Record how the stop's close ended: done, or still triggered to be tried again."""
        step = self.wiring.market_data.market_rules(stop.symbol).price_step
        level = stop.stop_loss if kind is StopKind.STOP_LOSS else stop.take_profit
        leg = "stop-loss" if kind is StopKind.STOP_LOSS else "take-profit"
        touch = wording.price(ticker.bid or ticker.ask, step)
        text = f"{leg} at {wording.price(level, step)} fired at bid {touch}: {result.message}"
        if not result.ok:
            with self.wiring.db.session() as session:
                stops.finish(
                    session,
                    stop.id,
                    stops.TRIGGERED,
                    f"{leg} fired; closing failed: {result.message}",
                )
            log.warning(
                "stop fired, close failed", extra={"symbol": stop.symbol, "reason": result.message}
            )
            return 0
        self._claimed.discard(stop.id)
        with self.wiring.db.session() as session:
            if not stops.finish(session, stop.id, stops.DONE, text):
                return 0
        log.info(
            "stop fired", extra={"account": stop.account, "symbol": stop.symbol, "outcome": text}
        )
        self.wiring.observers.stop_fired(
            stop.account, stop.symbol, text, stop.id, mode=Mode(stop.mode)
        )
        return 1

    # --- where and what -----------------------------------------------------------------

    def _where(self, account: str, mode: Mode | None) -> tuple[AccountLink, BookKey]:
        """The account's link and book: the traded account in the given (or current) mode,
        or a monitored (LIVE) account of ACCOUNTS_FILE."""
        found = self.wiring.account(account, mode or self._stored.current())
        return found.link(), found.book

    def _symbol(self, link: AccountLink, text: str) -> str:
        """Any market the traded account's exchange lists; a monitored account's listed
        markets."""
        if link.name == ACCOUNT:
            return resolve_symbol(self.wiring, text)
        return parse_symbol(text, link.gateway.market.symbols())

    def _position(self, link: AccountLink, book: BookKey, symbol: str) -> _Position:
        """The position a stop would protect, read from the exchange now (or the paper
        account); InputError when nothing is held."""
        market = link.gateway.market
        rules = market.market_rules(symbol)
        ticker = market.ticker(symbol)
        if market.venue.is_derivatives:
            held = link.gateway.position(symbol, link.name)
            if held is None or not held.qty:
                raise InputError(f"No open {symbol} position on {link.name}: nothing to protect.")
            return _Position(
                "long" if held.qty > 0 else "short", held.qty, held.entry_price, ticker
            )
        balances: dict[str, Balance] = link.gateway.balances()
        holdings = Holdings.of(balances, rules.base, rules.quote)
        if base_is_dust(holdings.base.total, ticker.last, rules):
            raise InputError(
                f"{symbol} is not held ({wording.holdings(holdings, rules)}): nothing to protect."
            )
        with self.wiring.db.session() as session:
            row = repo.find_position(session, book, symbol)
            entry = row.cost_basis / row.qty if row and row.is_open and row.qty > 0 else None
        return _Position("long", holdings.base.total, entry, ticker)


def _level(held: tuple[ExchangeStop, ...], kind: StopKind, asked: Decimal | None):
    """The level a record shows for one leg: the asked one if the exchange keeps it, else
    the first the exchange keeps, else none."""
    levels = [s.trigger_price for s in held if s.kind is kind]
    return asked if asked in levels else next(iter(levels), None)


def _stop_words(stop_loss, take_profit, step) -> str:
    parts = []
    if stop_loss is not None:
        parts.append(f"stop-loss {wording.price(stop_loss, step)}")
    if take_profit is not None:
        parts.append(f"take-profit {wording.price(take_profit, step)}")
    return " and ".join(parts)
