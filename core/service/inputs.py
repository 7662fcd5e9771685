"""What a person types, read so that it cannot mean something else: order sizes, prices,
percentages, symbols and targets. Each bad value raises InputError saying what to type
instead."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from core.domain import ExitPart, PositionState, SizeKind, TradeSize
from core.errors import InputError
from core.insights.choices import parse_window

# The first size the ticket offers, and the command line's BUY without a size flag: 10 % of
# the free cash. Without a stop a 10 % fall of the coin then costs 1 % of the account; with
# a stop, "% risk" sizes the BUY to lose RISK_DEFAULT % of equity at it (README, the ticket).
DEFAULT_SIZE_TEXT, DEFAULT_SIZE_UNIT = "10", SizeKind.PCT_OF_CASH.value
RISK_DEFAULT = "1"
MAX_DIGITS = 18  # each side of the dot: what the database stores exactly (Numeric(38, 18))
# ASCII digits only: Python's Decimal and int would also take 1_000, 1e3, Infinity, NaN,
# full-width and Arabic-Indic digits, none of which a person means as an order size.
_NUMBER = re.compile(r"([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_SPECIALS = {"nan", "snan", "inf", "infinity"}  # Decimal's words, named for a clearer refusal
_HOW = "digits 0-9 with a dot for decimals, such as 100 or 1250.50"


def _number(text: str | None, what: str, missing: str, how: str = _HOW) -> Decimal:
    """A number, zero or above, written `[0-9]+(.[0-9]+)?` (no sign, exponent,
    underscore, other digits or separators), matched before Decimal ever sees it. A comma
    is refused: `1,5` could be one and a half or fifteen, and an amount is never guessed."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise InputError(missing)
    if "," in cleaned:
        raise InputError(
            f"{what} {cleaned!r} has a comma: use a dot for decimals and no thousands "
            "separators (1.5, 1250.50)."
        )
    match = _NUMBER.fullmatch(cleaned)
    if match is None:
        if cleaned.startswith("-") and _NUMBER.fullmatch(cleaned[1:]):
            raise InputError(f"{what} must be above zero, not {cleaned}.")
        kind = "finite number" if cleaned.lower().lstrip("+-") in _SPECIALS else "number"
        raise InputError(f"{what} must be a {kind}: {how}, not {cleaned!r}.")
    digits = len(match[1].lstrip("0"))
    if digits > MAX_DIGITS:
        raise InputError(
            f"{what} is too large: at most {MAX_DIGITS} digits before the dot, not {digits}."
        )
    if len(match[2] or "") > MAX_DIGITS:
        raise InputError(f"{what} has too many decimals: at most {MAX_DIGITS} after the dot.")
    return Decimal(cleaned)


def parse_amount(
    text: str | None, what: str = "Order size", missing: str = "Enter an order size."
) -> Decimal:
    """A number above zero (_number's rule): an order size, a price, a percentage."""
    amount = _number(text, what, missing)
    if amount <= 0:
        raise InputError(f"{what} must be above zero.")
    return amount


def parse_whole_number(text: str | None, what: str) -> int:
    """A whole number (_number's rule without decimals), such as a port."""
    how = "digits 0-9, such as 8050"
    number = _number(text, what, f"Enter {what}.", how)
    if "." in text:
        raise InputError(f"{what} must be a whole number: {how}, not {text.strip()!r}.")
    return int(number)


def parse_size(text: str | None, unit: str) -> TradeSize:
    """The trader's order size in one of the SizeKind units (`quote`, `pct`, `qty`, `risk`).
    Whether it fits the balance and the market's minimum is checked by the trade itself,
    once, inside its lock, against the balances it reads (and shown before by the preview)."""
    try:
        kind = SizeKind(unit)
    except ValueError:
        raise InputError(
            "Choose the order size unit: quote amount, % of free balance, base quantity or "
            "% of equity at risk."
        ) from None
    amount = parse_amount(text)
    if kind is SizeKind.QUOTE:
        return TradeSize(quote_amount=amount)
    if kind is SizeKind.BASE_QTY:
        return TradeSize(base_qty=amount)
    if amount > 100:
        of = "the free balance" if kind is SizeKind.PCT_OF_CASH else "equity at risk"
        raise InputError(f"A percentage of {of} cannot be above 100.")
    if kind is SizeKind.PCT_OF_CASH:
        return TradeSize(pct_of_free_quote=amount)
    return TradeSize(risk_pct=amount)


EXIT_UNITS = ("pct", "qty")  # a part of the holding: a percentage of it, or a quantity


def parse_exit_part(text: str | None, unit: str) -> ExitPart | None:
    """The part of the holding a SELL or CLOSE sells: a percentage above 0 and at most 100,
    or a quantity of the base; an empty field is the whole holding (None)."""
    if not (text or "").strip():
        return None
    if unit == "pct":
        pct = parse_amount(text, "The part to close (%)")
        if pct > 100:
            raise InputError(
                f"The part to close is a percentage of the holding: at most 100, not {pct}."
            )
        return ExitPart(pct=pct)
    if unit == "qty":
        return ExitPart(qty=parse_amount(text, "The quantity to close"))
    raise InputError("Choose how the part to close is given: % of the holding or a quantity.")


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


def parse_since(text: str) -> timedelta | None:
    """A window as `--since` and the pages take it: a duration (`1h`, `24h`, `7d`, `30m`,
    `2w`) or `all` (None: no lower bound). Raises InputError saying what it takes."""
    try:
        return parse_window(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None
