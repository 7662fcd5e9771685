"""Stop rules: prices from what a person asked, the right side of the market, firing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import StopKind
from core.errors import InputError
from core.protection.stops import LONG, SHORT, distance_pct, fired, resolve, stop_at_distance

D = Decimal
TICK = D("0.01")
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)


def test_a_long_stop_below_the_bid_and_take_profit_above():
    prices = resolve(LONG, D(3400), D("3400.5"), TICK, stop_loss=D(3200), take_profit=D(3600))
    assert (prices.stop_loss, prices.take_profit) == (D(3200), D(3600))


def test_a_percentage_is_taken_from_the_entry_and_rounded_away_from_the_market():
    prices = resolve(LONG, D(3400), D(3401), TICK, stop_loss_pct=D(3), entry=D("3333.33"))
    assert prices.stop_loss == D("3233.33")  # 3333.33 * 0.97 = 3233.3301, floored
    short = resolve(SHORT, D(99), D(100), TICK, stop_loss_pct=D(2), entry=D("100.005"))
    assert short.stop_loss == D("102.01")  # 102.0051, ceiled


@pytest.mark.parametrize(
    ("side", "asked", "message"),
    [
        (LONG, {"stop_loss": D(3500)}, "must be below the bid (3,400.00); 3,500.00 would fire"),
        (LONG, {"take_profit": D(3300)}, "must be above the bid"),
        (SHORT, {"stop_loss": D(3300)}, "must be above the ask (3,401.00)"),
        (SHORT, {"take_profit": D(3500)}, "must be below the ask"),
        (LONG, {"stop_loss": D(-5)}, "price above zero"),
        (LONG, {"stop_loss_pct": D(-1), "entry": D(3000)}, "above 0 and at most 50"),
        (LONG, {"stop_loss_pct": D(80), "entry": D(3000)}, "above 0 and at most 50"),
        (LONG, {"stop_loss_pct": D(5)}, "No entry price is known"),
        (LONG, {"stop_loss": D(3000), "stop_loss_pct": D(5)}, "not both"),
        (LONG, {}, "Give a stop-loss or a take-profit"),
    ],
)
def test_stops_that_would_fire_at_once_or_make_no_sense_are_refused(side, asked, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(side, D(3400), D(3401), TICK, **asked)


def test_firing_follows_the_price_a_close_would_trade_at():
    assert fired(LONG, D(3200), D(3600), D(3200), D(3201)) is StopKind.STOP_LOSS
    assert fired(LONG, D(3200), D(3600), D("3200.01"), D(3201)) is None
    assert fired(LONG, D(3200), D(3600), D(3600), D(3601)) is StopKind.TAKE_PROFIT
    assert fired(SHORT, D(3600), D(3200), D(3590), D(3600)) is StopKind.STOP_LOSS
    assert fired(SHORT, D(3600), D(3200), D(3190), D(3200)) is StopKind.TAKE_PROFIT
    assert fired(LONG, D(3200), None, None, None) is None  # no price, no verdict


def test_distance_and_a_stop_placed_at_a_distance():
    assert distance_pct(LONG, D(3230), D(3400)) == D(5)
    assert distance_pct(SHORT, D(3570), D(3400)) == D(5)
    assert stop_at_distance(LONG, D(3400), D(5), TICK) == D(3230)
    assert stop_at_distance(SHORT, D("3400.01"), D(5), TICK) == D("3570.02")  # 3570.0105 up


prices = st.decimals(min_value=D(1), max_value=D(100000), places=2)


@PROPS
@given(bid=prices, gap=st.decimals(min_value=D("0.01"), max_value=D(1000), places=2))
def test_a_resolved_stop_never_fires_at_the_price_it_was_set_at(bid, gap):
    ask = bid + gap
    for side in (LONG, SHORT):
        touch = bid if side == LONG else ask
        loss = touch - gap if side == LONG else touch + gap
        if loss <= 0:
            continue
        stop = resolve(side, bid, ask, TICK, stop_loss=loss)
        assert fired(side, stop.stop_loss, None, bid, ask) is None
