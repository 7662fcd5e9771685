"""Which markets the trader can name: every market the exchange lists, not only the
configured SYMBOLS. A symbol is checked against the exchange's own list (read through the
shared market cache), never guessed; the page's search and its held assets read the same."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.errors import AppError, InputError
from core.exchange.gateway import GatewayError
from core.service.accounting import book_balances
from core.service.composition import Wiring
from core.service.stored_mode import StoredMode

SEARCH_RESULTS = 30


class Markets:
    def __init__(self, wiring: Wiring, stored: StoredMode):
        self.wiring = wiring
        self._stored = stored

    def resolve(self, text: str | None) -> str:
        return resolve_symbol(self.wiring, text)

    def held(self) -> list[str]:
        """The markets, against the quote, of every asset the shown book holds (adopted
        ones too) that the exchange lists, from the book's last balances: no exchange call
        but the cached market list."""
        balances, _ = book_balances(self.wiring, self._stored.shown())
        quote = self.wiring.quote
        wanted = [f"{asset}/{quote}" for asset, b in sorted(balances.items()) if b.total > 0]
        wanted = [s for s in wanted if s.split("/")[0] != quote]
        try:
            listed = set(_listed(self.wiring, "list the held markets"))
        except AppError:
            return []
        return [s for s in wanted if s in listed]

    def price_on_tick(self, symbol: str, price: Decimal) -> Decimal:
        """`price` rounded to the market's price step, as the exchange would take it."""
        step = self.wiring.market_data.market_rules(resolve_symbol(self.wiring, symbol)).price_step
        return (price / step).quantize(Decimal(1), ROUND_HALF_UP) * step

    def choices(self, query: str | None = None) -> list[str]:
        """What the symbol picker offers: the configured and held markets, then, for a
        search, the listed markets whose name holds it (those starting with it first)."""
        first = list(dict.fromkeys([*self.wiring.symbols, *self.held()]))
        wanted = (query or "").strip().upper()
        if not wanted:
            return first
        try:
            listed = _listed(self.wiring, f"search {wanted}")
        except AppError:
            listed = []
        found = [s for s in listed if wanted in s]
        found.sort(key=lambda s: (not s.startswith(wanted), s))
        ours = [s for s in first if wanted in s]
        return list(dict.fromkeys([*ours, *found]))[:SEARCH_RESULTS]


def resolve_symbol(wiring: Wiring, text: str | None) -> str:
    """The market `text` names, in any case (`sol/usdt` is SOL/USDT): a configured symbol,
    or any market the exchange lists. InputError for one it does not list; AppError when
    the list cannot be read (nothing is assumed)."""
    wanted = (text or "").strip().upper()
    if not wanted:
        raise InputError("Name a market, such as ETH/USDT.")
    if wanted in wiring.symbols:
        return wanted
    if wanted not in _listed(wiring, f"check {wanted}"):
        raise InputError(f"{wanted} is not a market on {wiring.exchange_label}: nothing was sent.")
    return wanted


def _listed(wiring: Wiring, doing: str) -> list[str]:
    try:
        return wiring.prices.listed_symbols()
    except GatewayError as exc:
        raise AppError(
            f"Could not {doing} against the markets of {wiring.exchange_label}: {exc}. "
            "Nothing was sent."
        ) from exc
