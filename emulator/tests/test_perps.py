"""The perpetual position maths, on its own: averaging, realized PnL, flips, margin figures."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from emulator import perps


def test_increases_average_the_entry_price():
    first = perps.apply_fill(D(0), D(0), D("0.5"), D("60000"))
    assert (first.size, first.entry_price, first.realized_pnl) == (D("0.5"), D("60000"), 0)
    added = perps.apply_fill(first.size, first.entry_price, D("1.5"), D("64000"))
    assert added.size == D(2) and added.entry_price == D("63000") and added.realized_pnl == 0


def test_shorts_average_too():
    added = perps.apply_fill(D("-1"), D("3000"), D("-3"), D("3400"))
    assert added.size == D(-4) and added.entry_price == D("3300")


def test_reducing_a_long_realizes_at_the_old_entry_and_keeps_it():
    reduced = perps.apply_fill(D(2), D("60000"), D("-0.5"), D("62000"))
    assert reduced == perps.FillResult(D("1.5"), D("60000"), D("1000"))


def test_reducing_a_short_gains_when_the_price_fell():
    reduced = perps.apply_fill(D(-2), D("3000"), D(1), D("2900"))
    assert reduced == perps.FillResult(D(-1), D("3000"), D("100"))


def test_closing_exactly_clears_the_entry():
    closed = perps.apply_fill(D("0.3"), D("100"), D("-0.3"), D("90"))
    assert closed == perps.FillResult(D(0), D(0), D("-3.0"))


def test_a_fill_through_zero_flips_and_opens_the_rest_at_the_fill_price():
    flipped = perps.apply_fill(D(1), D("100"), D(-3), D("110"))
    assert flipped == perps.FillResult(D(-2), D("110"), D("10"))


def test_unrealized_pnl_long_and_short():
    assert perps.unrealized_pnl(D("0.5"), D("60000"), D("61000")) == D("500")
    assert perps.unrealized_pnl(D("-0.5"), D("60000"), D("61000")) == D("-500")


def test_margin_figures():
    assert perps.initial_margin(D("-0.5"), D("60000"), D(10)) == D("3000")
    assert perps.maintenance_margin(D("0.5"), D("60000"), D("0.005")) == D("150")


def test_liquidation_and_bankruptcy_estimates():
    rate = D("0.005")
    assert perps.liquidation_price(D(1), D("60000"), D(10), rate) == D("54300")
    assert perps.liquidation_price(D(-1), D("60000"), D(10), rate) == D("65700")
    assert perps.liquidation_price(D(0), D("60000"), D(10), rate) is None
    assert perps.liquidation_price(D(1), D("100"), D(1), rate) == D("0.5")
    assert perps.bankruptcy_price(D(1), D("60000"), D(10)) == D("54000")
    assert perps.bankruptcy_price(D(-1), D("60000"), D(10)) == D("66000")


sizes = st.decimals(min_value=-100, max_value=100, places=3).filter(lambda d: d != 0)
prices = st.decimals(min_value=1, max_value=100000, places=2)


@given(size=sizes, qty=sizes, entry=prices, price=prices, mark=prices)
def test_equity_is_conserved_by_any_fill(size, qty, entry, price, mark):
    """Trading at `price` moves PnL between realized and unrealized, never creates it."""
    before = perps.unrealized_pnl(size, entry, mark) + perps.unrealized_pnl(qty, price, mark)
    after = perps.apply_fill(size, entry, qty, price)
    total = after.realized_pnl + perps.unrealized_pnl(after.size, after.entry_price, mark)
    assert abs(total - before) < D("1e-12")
