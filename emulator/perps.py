"""Pure one-way-mode position maths for linear perpetuals (signed size: negative is short).

Isolated-margin estimates: initial margin is notional / leverage, and the liquidation price
is where the loss eats the initial margin down to the maintenance margin.
"""

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True)
class FillResult:
    size: Decimal
    entry_price: Decimal
    realized_pnl: Decimal


def apply_fill(size: Decimal, entry_price: Decimal, qty: Decimal, price: Decimal) -> FillResult:
    """The position after trading signed `qty` at `price`.

    Increases average the entry price; reductions realize PnL at the old entry; a fill that
    goes through zero closes the old side and opens the rest at `price`.
    """
    new_size = size + qty
    if size == 0 or (size > 0) == (qty > 0):
        entry = (abs(size) * entry_price + abs(qty) * price) / abs(new_size)
        return FillResult(new_size, entry, ZERO)
    closed = min(abs(qty), abs(size))
    direction = 1 if size > 0 else -1
    realized = closed * (price - entry_price) * direction
    if new_size == 0:
        return FillResult(ZERO, ZERO, realized)
    if (new_size > 0) != (size > 0):
        return FillResult(new_size, price, realized)
    return FillResult(new_size, entry_price, realized)


def unrealized_pnl(size: Decimal, entry_price: Decimal, mark_price: Decimal) -> Decimal:
    return size * (mark_price - entry_price)


def initial_margin(size: Decimal, price: Decimal, leverage: Decimal) -> Decimal:
    return abs(size) * price / leverage


def maintenance_margin(size: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    return abs(size) * price * rate


def liquidation_price(
    size: Decimal, entry_price: Decimal, leverage: Decimal, maintenance_rate: Decimal
) -> Decimal | None:
    """Isolated estimate: long entry*(1 - 1/lev + mmr), short entry*(1 + 1/lev - mmr)."""
    if size == 0:
        return None
    if size > 0:
        return max(ZERO, entry_price * (1 - 1 / leverage + maintenance_rate))
    return entry_price * (1 + 1 / leverage - maintenance_rate)


def bankruptcy_price(size: Decimal, entry_price: Decimal, leverage: Decimal) -> Decimal | None:
    """Where the initial margin is lost entirely."""
    if size == 0:
        return None
    if size > 0:
        return entry_price * (1 - 1 / leverage)
    return entry_price * (1 + 1 / leverage)
