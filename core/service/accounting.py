"""The balances a book shows and what they are worth: the paper account's own balances in
SIM, the latest account snapshot in LIVE, valued at the cached prices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from core.domain import Balance, Mode
from core.exchange.gateway import GatewayError
from core.service.composition import Wiring
from core.store import paper, snapshots
from core.store import repository as repo
from core.store.models import utcnow
from core.valuation import equity


def book_balances(wiring: Wiring, mode: Mode) -> tuple[dict[str, Balance], datetime | None]:
    """The book's balances and when they were read (None: the account was never read)."""
    with wiring.db.session() as session:
        if mode is Mode.SIM:
            return paper.balances(session, wiring.paper.account), utcnow()
        latest = snapshots.latest_snapshot(session, wiring.book(mode))
    return (latest.balances, latest.taken_at) if latest else ({}, None)


def prices_for(
    wiring: Wiring, balances: dict[str, Balance], fetch: bool = True
) -> tuple[dict[str, Decimal], str | None]:
    """Cached last prices of the configured symbols and of every other asset held (one
    ticker call per time-to-live, none unless `fetch`), or the error that kept them from
    being read."""
    held = [f"{asset}/{wiring.quote}" for asset, b in balances.items() if b.total > 0]
    symbols = wiring.listed(held)
    try:
        tickers = wiring.prices.tickers(symbols) if fetch else wiring.prices.cached_tickers(symbols)
    except GatewayError as exc:
        return {}, str(exc)
    if tickers is None:
        return {}, "no recent prices"
    return {symbol: ticker.last for symbol, ticker in tickers.items()}, None


def record_equity_point(
    wiring: Wiring, mode: Mode, prices: dict[str, Decimal] | None = None, fetch: bool = True
) -> None:
    """A point on the book's equity curve: its balances now, valued at `prices` (a check's
    own tickers) or the cached ones (after a trade, only prices already cached: a trade
    waits for no extra exchange call)."""
    balances, _ = book_balances(wiring, mode)
    error = None
    if prices is None:
        prices, error = prices_for(wiring, balances, fetch)
    if error or not balances:
        return
    with wiring.db.session() as session:
        repo.record_equity(session, wiring.book(mode), equity(balances, prices, wiring.quote))
