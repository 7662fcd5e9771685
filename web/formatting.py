"""Text for Decimal money, prices, quantities and times. Display only: values stay Decimal
until they become strings, so nothing is rounded twice or through a float."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

MISSING = "—"
CENT = Decimal("0.01")
TONE_COLOURS = {"success": "success", "info": "info", "warning": "warning", "danger": "danger"}


def _fixed(value: Decimal, places: int) -> str:
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def _trimmed(value: Decimal, max_places: int, min_places: int) -> str:
    """At most `max_places` decimals, trailing zeros dropped down to `min_places`."""
    text = _fixed(value, max_places)
    if "." not in text:
        return text
    whole, fraction = text.split(".")
    fraction = fraction.rstrip("0").ljust(min_places, "0")
    return f"{whole}.{fraction}" if fraction else whole


def money(value: Decimal, asset: str = "") -> str:
    """`10,000.00 USDT`: two decimals, thousands separated."""
    text = _fixed(value, 2)
    return f"{text} {asset}" if asset else text


def signed_money(value: Decimal, asset: str = "") -> str:
    """PnL with its sign spelled out: `+12.34 USDT`, `-5.00 USDT`, `0.00 USDT`."""
    shown = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if not shown:
        return money(abs(shown), asset)  # never "-0.00": less than a cent is no loss shown
    text = money(value, asset)
    return f"+{text}" if shown > 0 else text


def price(value: Decimal | None) -> str:
    """A market price with as many decimals as its size needs: `3,012.50`, `0.00001234`."""
    if value is None:
        return MISSING
    magnitude = abs(value)
    max_places = 2 if magnitude >= 1000 else 4 if magnitude >= 1 else 8
    return _trimmed(value, max_places, 2)


def quantity(value: Decimal | None) -> str:
    """An amount of an asset, up to 8 decimals, without trailing zeros: `0.0315`."""
    if value is None:
        return MISSING
    return _trimmed(value, 8, 0)


def percent(value: Decimal | None) -> str:
    """A change in percent with its sign: `+1.23%`."""
    if value is None:
        return MISSING
    text = _fixed(value, 2)
    return f"+{text}%" if value > 0 and text != "0.00" else f"{text}%"


def plain_percent(value: Decimal | None) -> str:
    """A distance in percent, one decimal, no sign: `5.9%`."""
    if value is None:
        return MISSING
    return f"{_fixed(abs(value), 1)}%"


def timestamp(value: datetime | None) -> str:
    """UTC time to the second; naive datetimes from the database are already UTC."""
    if value is None:
        return MISSING
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def sign_class(value: Decimal | None) -> str:
    """Bootstrap text colour for a gain (green), a loss (red), or nothing worth a cent (muted),
    judged at the two decimals the page shows."""
    shown = None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)
    if not shown:
        return "text-muted"
    return "text-success" if shown > 0 else "text-danger"


def tone_colour(tone: str) -> str:
    """Bootstrap colour of a badge tone; an unknown tone shows as neutral grey."""
    return TONE_COLOURS.get(tone, "secondary")


def quote_of(symbol: str) -> str:
    """`USDT` of `ETH/USDT` and of the perpetual `ETH/USDT:USDT`."""
    return symbol.split("/")[1].split(":")[0]


def stepped(value: Decimal, step: Decimal | None) -> str:
    """An amount at its market's precision: down to the amount step (never more than is
    there), trailing zeros dropped; less than one step (dust) as it is; with no step known,
    as `quantity` shows it."""
    if step is None or step <= 0 or 0 < abs(value) < step:
        return quantity(value)
    return _trimmed(value.quantize(step.normalize(), rounding=ROUND_DOWN), 18, 0)
