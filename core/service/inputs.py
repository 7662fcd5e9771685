"""What a person types, read so that it cannot mean something else: order sizes, symbols
and targets. Each bad value raises InputError saying what to type instead."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core.domain import PositionState, TradeSize
from core.errors import InputError

UNITS = ("quote", "pct")


def parse_amount(
    text: str | None, what: str = "Order size", missing: str = "Enter an order size."
) -> Decimal:
    """A positive decimal number written with a dot. A comma is refused: `1,5` could be one
    and a half or fifteen, and an order size is never guessed."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InputError(missing)
    if "," in cleaned:
        raise InputError(
            f"{what} {cleaned!r} has a comma: use a dot for decimals and no thousands "
            "separators (1.5, 1250.50)."
        )
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise InputError(f"{what} must be a number, not {cleaned!r}.") from None
    if not amount.is_finite():
        raise InputError(f"{what} must be a finite number.")
    if amount <= 0:
        raise InputError(f"{what} must be above zero.")
    return amount


def parse_size(text: str | None, unit: str) -> TradeSize:
    """The trader's order size. Whether it fits the balance and the market's minimum is
    checked by the trade itself, once, inside its lock, against the balances it reads."""
    if unit not in UNITS:
        raise InputError("Choose the order size unit: quote amount or % of free balance.")
    amount = parse_amount(text)
    if unit == "pct" and amount > 100:
        raise InputError("A percentage of the free balance cannot be above 100.")
    return (
        TradeSize(quote_amount=amount) if unit == "quote" else TradeSize(pct_of_free_quote=amount)
    )


def parse_symbol(text: str | None, symbols: list[str]) -> str:
    """A configured symbol, in any case: `eth/usdt` is ETH/USDT."""
    wanted = (text or "").strip().upper()
    if wanted not in symbols:
        raise InputError(
            f"{(text or '').strip() or 'an empty symbol'} is not one of the configured SYMBOLS "
            f"({', '.join(symbols)})."
        )
    return wanted


def parse_target(text: str | None) -> PositionState:
    try:
        return PositionState((text or "").strip().upper())
    except ValueError:
        raise InputError(
            f"--target accepts LONG, SHORT or NO_POSITION, not {(text or '')!r}."
        ) from None
