"""Amounts in the app's sentences (toasts, results, errors), rounded as the market trades
them: base quantities to the market's step, prices to its tick, quote money to cents."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from core.domain import ZERO, ExternalChange, Fill, Holdings, MarketRules, Side

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


def base_held(held: Holdings, rules: MarketRules) -> str:
    """`holds 0.59327 ETH`: the base total, what the positions table shows."""
    return f"holds {quantity(held.base.total, rules.amount_step)} {rules.base}"


def traded(fills: Iterable[Fill], rules: MarketRules) -> list[str]:
    """`bought 0.59339 ETH at 3,400.34 avg, fee 0.00012 ETH`, and the same for what was
    sold: a fee taken in the base is why less is held than was bought, so it is named."""
    fills = list(fills)
    parts = []
    for side in (Side.BUY, Side.SELL):
        mine = [f for f in fills if f.side is side]
        qty = sum((f.qty for f in mine), ZERO)
        if qty <= 0:
            continue
        avg = sum((f.qty * f.price for f in mine), ZERO) / qty
        verb = "bought" if side is Side.BUY else "sold"
        words = f"{verb} {quantity(qty, rules.amount_step)} {rules.base} at {price(avg, rules.price_step)} avg"
        fees = fee(mine, rules)
        parts.append(f"{words}, fee {fees}" if fees else words)
    return parts


def fee(fills: Iterable[Fill], rules: MarketRules) -> str:
    """`0.00012 ETH`, `1.02 USDT`, `0.5 MX and 0.00001 ETH`: the fees of these fills per
    asset they were paid in, each at its own precision; empty when none was charged."""
    totals: dict[str, Decimal] = {}
    for f in fills:
        if f.fee:
            totals[f.fee_asset] = totals.get(f.fee_asset, ZERO) + f.fee
    return " and ".join(_fee_in(asset, value, rules) for asset, value in totals.items())


def _fee_in(asset: str, value: Decimal, rules: MarketRules) -> str:
    """A fee in one asset at its precision: the base to the nearest step (what was bought
    less the fee is then what is held), the quote as money, any other asset as it is."""
    step = rules.amount_step
    if asset == rules.base and step > 0 and abs(value) >= step:
        rounded = value.quantize(step.normalize(), rounding=ROUND_HALF_UP).normalize()
        return f"{_grouped(rounded)} {asset}"
    if asset == rules.base:
        return f"{quantity(value, step)} {asset}"
    if asset == rules.quote:
        return money(value, asset)
    return f"{_grouped(value.normalize())} {asset}"


def external_change(change: ExternalChange, rules: MarketRules | None) -> str:
    """`ETH holdings changed outside the app: 0.882 → 0.500, -1,300.00 USDT`: before and
    after to the market's step (both with its places, so they read side by side), and
    what the change was worth at the mark."""
    if change.reported is not None:
        return reported_transfer(change.symbol, change.reported.value, change.delta)
    base, _, quote = change.symbol.partition("/")
    quote = quote.split(":")[0]
    step = rules.amount_step if rules is not None else ZERO
    text = (
        f"{base} holdings changed outside the app: "
        f"{stepped(change.before, step)} → {stepped(change.after, step)}"
    )
    if change.value is None:
        return text
    worth = money(change.value, quote)
    return f"{text}, {worth if change.value < 0 else '+' + worth}"


def reported_transfer(asset: str, kind: str, change: Decimal) -> str:
    """`USDT deposit of 1,000.00 outside the app`: cash the exchange reports moved."""
    amount = money(abs(change), asset).removesuffix(f" {asset}")
    return f"{asset} {kind} of {amount} outside the app"


def stepped(value: Decimal, step: Decimal) -> str:
    """`0.500`: down to the market's step with all of its places (`quantity` trims them)."""
    if step <= 0:
        return _grouped(value.normalize())
    return _grouped(value.quantize(step.normalize(), rounding=ROUND_DOWN))


def _grouped(value: Decimal) -> str:
    whole, _, fraction = f"{value:f}".partition(".")
    grouped = f"{int(whole):,}" if whole.lstrip("-").isdigit() else whole
    if whole.startswith("-") and not grouped.startswith("-"):
        grouped = "-" + grouped
    return f"{grouped}.{fraction}" if fraction else grouped


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`1 discrepancy`, `2 discrepancies`, `0 accounts`, `7,500 events`."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
