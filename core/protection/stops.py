"""Stop-loss and take-profit rules, pure: what a stop a person asked for means in prices,
whether it is on the right side of the market, and when it fires.

A long is protected by a stop-loss below the bid (it sells when the bid falls to it) and a
take-profit above it; a short by a stop-loss above the ask and a take-profit below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from core import wording
from core.domain import StopKind
from core.errors import InputError

LONG, SHORT = "long", "short"
LARGEST_PCT = Decimal(50)


@dataclass(frozen=True)
class StopPrices:
    stop_loss: Decimal | None
    take_profit: Decimal | None


def resolve(
    side: str,
    bid: Decimal,
    ask: Decimal,
    price_step: Decimal,
    *,
    stop_loss: Decimal | None = None,
    stop_loss_pct: Decimal | None = None,
    take_profit: Decimal | None = None,
    entry: Decimal | None = None,
) -> StopPrices:
    """The stop's prices, rounded to the market's tick away from the market, or InputError
    saying what is wrong: a stop on the wrong side would fire at once."""
    if stop_loss is not None and stop_loss_pct is not None:
        raise InputError("Give a stop-loss as a price or as a percentage, not both.")
    if stop_loss_pct is not None:
        stop_loss = _from_pct(side, stop_loss_pct, entry)
    for name, price in (("stop-loss", stop_loss), ("take-profit", take_profit)):
        if price is not None and (not price.is_finite() or price <= 0):
            raise InputError(f"The {name} must be a price above zero.")
    if stop_loss is None and take_profit is None:
        raise InputError("Give a stop-loss or a take-profit.")
    touch = bid if side == LONG else ask
    shown = wording.price(touch, price_step)
    below, above = ("below", "above") if side == LONG else ("above", "below")
    if stop_loss is not None and not _beyond(side, touch, stop_loss, losing=True):
        raise InputError(
            f"A stop-loss on a {side} must be {below} the {_touch(side)} ({shown}); "
            f"{wording.price(stop_loss, price_step)} would fire at once."
        )
    if take_profit is not None and not _beyond(side, touch, take_profit, losing=False):
        raise InputError(
            f"A take-profit on a {side} must be {above} the {_touch(side)} ({shown}); "
            f"{wording.price(take_profit, price_step)} would fire at once."
        )
    return StopPrices(
        _round(stop_loss, price_step, away_down=side == LONG),
        _round(take_profit, price_step, away_down=side == SHORT),
    )


def fired(
    side: str,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
    bid: Decimal | None,
    ask: Decimal | None,
) -> StopKind | None:
    """Which leg the market crossed, if any: a long is sold at the bid, so the bid decides
    both of its legs; a short is bought back at the ask."""
    touch = bid if side == LONG else ask
    if touch is None:
        return None
    if stop_loss is not None and not _beyond(side, touch, stop_loss, losing=True):
        return StopKind.STOP_LOSS
    if take_profit is not None and not _beyond(side, touch, take_profit, losing=False):
        return StopKind.TAKE_PROFIT
    return None


def distance_pct(side: str, stop_loss: Decimal, mark: Decimal) -> Decimal:
    """How far the stop-loss is from the mark, in percent of the mark (positive while it
    has not fired)."""
    gap = mark - stop_loss if side == LONG else stop_loss - mark
    return gap * 100 / mark


def stop_at_distance(side: str, mark: Decimal, pct: Decimal, price_step: Decimal) -> Decimal:
    """A stop-loss `pct` percent from the mark (what the monitor places with --protect)."""
    price = mark * (1 - pct / 100) if side == LONG else mark * (1 + pct / 100)
    return _round(price, price_step, away_down=side == LONG)


def _from_pct(side: str, pct: Decimal, entry: Decimal | None) -> Decimal:
    if not pct.is_finite() or pct <= 0 or pct > LARGEST_PCT:
        raise InputError(
            f"A stop-loss percentage must be above 0 and at most {LARGEST_PCT:f}, not {pct:f}."
        )
    if entry is None:
        raise InputError("No entry price is known for this position: give the stop as a price.")
    return entry * (1 - pct / 100) if side == LONG else entry * (1 + pct / 100)


def _beyond(side: str, touch: Decimal, price: Decimal, losing: bool) -> bool:
    """Whether `price` is still on the far side of the touch from the position's point of
    view: below it for a long's stop-loss, above it for a long's take-profit, mirrored for a
    short."""
    below = price < touch
    return below if (side == LONG) == losing else price > touch


def _touch(side: str) -> str:
    return "bid" if side == LONG else "ask"


def _round(price: Decimal | None, step: Decimal, away_down: bool) -> Decimal | None:
    if price is None or step <= 0:
        return price
    rounding = ROUND_FLOOR if away_down else ROUND_CEILING
    return (price / step).to_integral_value(rounding=rounding) * step
