"""Numbers a person types are ASCII decimals, `[0-9]+(.[0-9]+)?`, matched before Decimal
reads them: nothing else Python would take as a number gets through."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.service import InputError, TradeSize, parse_amount, parse_size
from core.service.inputs import MAX_DIGITS, parse_whole_number

HOW = "digits 0-9 with a dot for decimals"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1_000", HOW),
        ("1e3", HOW),
        ("1E3", HOW),
        ("1e999999999", HOW),
        ("Infinity", "must be a finite number"),
        ("-Infinity", "must be a finite number"),
        ("inf", "must be a finite number"),
        ("NaN", "must be a finite number"),
        ("sNaN", "must be a finite number"),
        ("\uff11\uff10\uff10", HOW),  # full-width
        ("\u0661\u0660\u0660", HOW),  # Arabic-Indic
        ("\u06f1\u06f0\u06f0", HOW),  # extended Arabic-Indic
        ("\u0967\u0966\u0966", HOW),  # Devanagari
        ("100abc", HOW),
        ("abc100", HOW),
        ("1 000", HOW),
        ("1.2.3", HOW),
        ("0x10", HOW),
        ("+5", HOW),
        (".5", HOW),
        ("5.", HOW),
        ("-", HOW),
        ("1,5", "use a dot for decimals"),
        ("1,250.50", "use a dot for decimals"),
        ("-5", "above zero"),
        ("-0.5", "above zero"),
        ("0", "above zero"),
        ("0.000", "above zero"),
        ("1" * (MAX_DIGITS + 1), f"too large: at most {MAX_DIGITS} digits before the dot"),
        ("9" * 400, "too large"),
        ("1." + "1" * (MAX_DIGITS + 1), f"at most {MAX_DIGITS} after the dot"),
        ("", "Enter an order size"),
        ("   ", "Enter an order size"),
    ],
)
def test_only_ascii_decimals_are_amounts(text, message):
    with pytest.raises(InputError, match=message) as refused:
        parse_amount(text)
    assert str(refused.value).startswith(("Order size", "Enter"))


def test_the_refusal_says_what_to_type_and_shows_what_was_typed():
    with pytest.raises(InputError) as refused:
        parse_amount("1e3", "Stop-loss")
    assert str(refused.value) == (
        "Stop-loss must be a number: digits 0-9 with a dot for decimals, such as 100 or "
        "1250.50, not '1e3'."
    )


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("100", Decimal(100)),
        (" 1250.50 ", Decimal("1250.50")),
        ("0.5", Decimal("0.5")),
        ("007", Decimal(7)),
        ("9" * MAX_DIGITS, Decimal("9" * MAX_DIGITS)),
        ("0." + "0" * (MAX_DIGITS - 1) + "1", Decimal("1e-18")),
    ],
)
def test_plain_decimals_are_read_exactly(text, amount):
    assert parse_amount(text) == amount


def test_sizes_and_percentages_follow_the_same_rule():
    assert parse_size("25", "pct") == TradeSize(pct_of_free_quote=Decimal(25))
    for unit in ("quote", "pct"):
        with pytest.raises(InputError, match=HOW):
            parse_size("1e1", unit)
    with pytest.raises(InputError, match="cannot be above 100"):
        parse_size("100.01", "pct")


@pytest.mark.parametrize(
    "text", ["80.5", "8_050", "\uff18\uff10\uff15\uff10", "8e3", "+8050", "8050x"]
)
def test_a_whole_number_takes_digits_only(text):
    with pytest.raises(InputError, match="--port must be a"):
        parse_whole_number(text, "--port")


def test_a_whole_number_is_an_int():
    assert parse_whole_number(" 8050 ", "--port") == 8050
