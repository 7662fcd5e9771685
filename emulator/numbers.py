"""Decimal parsing and formatting as MEXC's wire shows numbers: plain strings, never floats."""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

MAX_DIGITS = 40
# Magnitudes outside 1e-18..1e15 are no real price or amount, and would overflow quantize().
MIN_EXPONENT, MAX_EXPONENT = -18, 15


def parse_decimal(text: object) -> Decimal | None:
    """A finite Decimal from wire text, or None for anything else (NaN, Inf, junk, floats in JSON)."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        return None
    raw = str(text).strip()
    if not raw or len(raw) > MAX_DIGITS or "_" in raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value and not MIN_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        return None
    return value


def step(decimals: int) -> Decimal:
    """The smallest increment with `decimals` digits after the point."""
    return Decimal(1).scaleb(-decimals)


def fits_precision(value: Decimal, decimals: int) -> bool:
    return value == value.quantize(step(decimals), rounding=ROUND_DOWN)


def truncate(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(step(decimals), rounding=ROUND_DOWN)


def fmt(value: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal('1.500') -> '1.5', Decimal('1E+2') -> '100'."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text
