"""Amounts in the app's sentences (toasts, results, errors), rounded as the market trades
them: base quantities to the market's step, prices to its tick, quote money to cents."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from core.domain import Holdings, MarketRules

CENT = Decimal("0.01")
SMALLEST = Decimal("0.00000001")


def quantity(value: Decimal, step: Decimal) -> str:
    """`0.29379`: down to the market's amount step (never more than is there), no trailing
    zeros. Less than one step (dust) is shown as it is, never as 0."""
    if step <= 0 or 0 < abs(value) < step:
        return _grouped(value.normalize())
    return _grouped(value.quantize(step.normalize(), rounding=ROUND_DOWN).normalize())


def price(value: Decimal, step: Decimal) -> str:
    """`3,400.34`: to the market's price tick."""
    places = max(0, -step.normalize().as_tuple().exponent) if step > 0 else 8
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"


def money(value: Decimal, asset: str) -> str:
    """`1,720.00 USDT`; amounts below a cent to 8 decimals (`0.00001002 USDT`)."""
    if value and abs(value) < CENT:
        return f"{value.quantize(SMALLEST, rounding=ROUND_HALF_UP).normalize():f} {asset}"
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):,.2f} {asset}"


def holdings(held: Holdings, rules: MarketRules) -> str:
    """`holds 0.5 ETH and 1,720.00 USDT` (the totals, locked included)."""
    base = quantity(held.base.total, rules.amount_step)
    return f"holds {base} {rules.base} and {money(held.quote.total, rules.quote)}"


def _grouped(value: Decimal) -> str:
    whole, _, fraction = f"{value:f}".partition(".")
    grouped = f"{int(whole):,}" if whole.lstrip("-").isdigit() else whole
    if whole.startswith("-") and not grouped.startswith("-"):
        grouped = "-" + grouped
    return f"{grouped}.{fraction}" if fraction else grouped


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`1 discrepancy`, `2 discrepancies`, `0 accounts`."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
