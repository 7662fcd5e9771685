"""Position state on spot: holdings + price + market limits -> LONG / SHORT / NO_POSITION."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.domain import Balance, Holdings, MarketRules, PositionState
from core.state import (
    base_is_dust,
    derive_state,
    quote_is_dust,
    reaches,
    shown_state,
    spot_positions,
    state_label,
)

LONG, SHORT, NONE = PositionState.LONG, PositionState.SHORT, PositionState.NO_POSITION
D = Decimal
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)


def rules(
    min_amount: str | Decimal = "0.0001",
    min_cost: str | Decimal = "1",
    symbol: str = "ETH/USDT",
) -> MarketRules:
    base, quote = symbol.split("/")
    return MarketRules(
        symbol=symbol,
        base=base,
        quote=quote,
        amount_step=D("0.0001"),
        price_step=D("0.01"),
        min_amount=D(min_amount),
        min_cost=D(min_cost),
        max_cost=None,
        taker_fee=D("0.001"),
        maker_fee=D("0.001"),
    )


def hold(
    base: str | Decimal = "0", quote: str | Decimal = "0", *, locked_base="0", locked_quote="0"
):
    return Holdings(Balance(D(base), D(locked_base)), Balance(D(quote), D(locked_quote)))


ETH = rules()
PRICE = D("2000")

# Decimal strategies: exact, finite, a handful of places so products stay exact in 28 digits.
qty = st.decimals(min_value=0, max_value=10_000, places=6, allow_nan=False, allow_infinity=False)
cash = st.decimals(
    min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False
)
price = st.decimals(
    min_value=D("0.0001"), max_value=100_000, places=4, allow_nan=False, allow_infinity=False
)
min_amounts = st.decimals(
    min_value=0, max_value=10, places=4, allow_nan=False, allow_infinity=False
)
min_costs = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
floors = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
states = st.sampled_from(list(PositionState))


@st.composite
def markets(draw):
    return rules(draw(min_amounts), draw(min_costs))


@st.composite
def holdings(draw):
    return hold(draw(qty), draw(cash), locked_base=draw(qty), locked_quote=draw(cash))


# --- examples the trader would recognise ---------------------------------------------


@pytest.mark.parametrize(
    ("base", "quote", "expected"),
    [
        ("1", "0", LONG),  # coins held, no cash
        ("0", "5000", SHORT),  # value waits in USDT
        ("0", "0", NONE),  # empty account
        ("0.00001", "0.5", NONE),  # both dust
        ("0.00001", "5000", SHORT),  # base dust beside cash
        ("1", "0.5", LONG),  # cash dust beside coins
        ("1", "1000", LONG),  # mixed, base worth 2000 > 1000 cash
        ("0.1", "1000", SHORT),  # mixed, base worth 200 < 1000 cash
        ("0.5", "1000", LONG),  # mixed tie (1000 == 1000) goes LONG: the coins are there
    ],
)
def test_derive_state_examples(base, quote, expected):
    assert derive_state(hold(base, quote), PRICE, ETH) is expected


def test_locked_balances_count_as_held():
    assert derive_state(hold("0", "0", locked_base="1"), PRICE, ETH) is LONG
    assert derive_state(hold("0", "0", locked_quote="50"), PRICE, ETH) is SHORT


def test_state_label_reads_spot_short_as_cash():
    assert state_label(SHORT, "USDT") == "SHORT (in USDT)"
    assert state_label(SHORT, "USDC") == "SHORT (in USDC)"
    assert state_label(LONG, "USDT") == "LONG"
    assert state_label(NONE, "USDT") == "NO_POSITION"


# --- dust boundaries come from the market's limits -----------------------------------


def test_base_dust_boundary_exactly_at_min_amount():
    market = rules(min_amount="0.01", min_cost="0")
    assert base_is_dust(D("0.0099999"), PRICE, market)
    assert not base_is_dust(D("0.01"), PRICE, market)  # at the minimum: tradable


def test_base_dust_boundary_exactly_at_min_cost():
    market = rules(min_amount="0.0001", min_cost="5")
    assert not base_is_dust(D("0.0025"), PRICE, market)  # 0.0025 * 2000 == 5
    assert base_is_dust(D("0.0024999"), PRICE, market)


def test_quote_dust_boundary_exactly_at_min_cost():
    market = rules(min_cost="5")
    assert not quote_is_dust(D("5"), market)
    assert quote_is_dust(D("4.99999999"), market)


def test_dust_floor_tightens_but_never_loosens_market_limits():
    market = rules(min_cost="5")
    assert quote_is_dust(D("7"), market, dust_floor=D("10"))
    assert not quote_is_dust(D("10"), market, dust_floor=D("10"))
    # a floor below the market minimum changes nothing
    assert quote_is_dust(D("4"), market, dust_floor=D("1"))
    assert base_is_dust(D("0.004"), PRICE, market, dust_floor=D("10"))  # worth 8 < 10
    assert not base_is_dust(D("0.005"), PRICE, market, dust_floor=D("10"))


def test_thresholds_are_per_market_not_per_coin():
    # the same holding is dust on a market with a high minimum and tradable on a low one
    strict = rules(min_amount="1", min_cost="10", symbol="BTC/USDT")
    loose = rules(min_amount="0.00001", min_cost="1", symbol="BTC/USDT")
    h = hold("0.5", "0")
    assert derive_state(h, D("100"), strict) is NONE
    assert derive_state(h, D("100"), loose) is LONG


def test_zero_balances_are_never_a_position_even_without_market_minimums():
    """Markets without a cost minimum (ccxt reports None -> 0) must not turn an empty
    account into a SHORT: nothing held is never 'above dust'."""
    free_market = rules(min_amount="0", min_cost="0")
    assert quote_is_dust(D("0"), free_market)
    assert base_is_dust(D("0"), PRICE, free_market)
    assert derive_state(hold("0", "0"), PRICE, free_market) is NONE
    assert not reaches(SHORT, hold("0", "0"), PRICE, free_market)
    assert not reaches(LONG, hold("0", "0"), PRICE, free_market)
    # any positive amount is tradable on such a market
    assert derive_state(hold("0", "0.01"), PRICE, free_market) is SHORT
    assert derive_state(hold("0.00000001", "0"), PRICE, free_market) is LONG


@PROPS
@given(q=qty, p=price, market=markets(), floor=floors)
def test_base_dust_is_exactly_the_market_limits(q, p, market, floor):
    expected = q <= 0 or q < market.min_amount or q * p < max(market.min_cost, floor)
    assert base_is_dust(q, p, market, floor) == expected


@PROPS
@given(a=cash, market=markets(), floor=floors)
def test_quote_dust_is_exactly_the_market_limits(a, market, floor):
    assert quote_is_dust(a, market, floor) == (a <= 0 or a < max(market.min_cost, floor))


# --- properties of derive_state -------------------------------------------------------


@PROPS
@given(h=holdings(), p=price, market=markets(), floor=floors)
def test_derive_state_matches_the_definition(h, p, market, floor):
    state = derive_state(h, p, market, floor)
    base_dust = base_is_dust(h.base.total, p, market, floor)
    quote_dust = quote_is_dust(h.quote.total, market, floor)
    if base_dust and quote_dust:
        assert state is NONE
    elif quote_dust:
        assert state is LONG
    elif base_dust:
        assert state is SHORT
    else:
        larger_base = h.base.total * p >= h.quote.total
        assert state is (LONG if larger_base else SHORT)


@PROPS
@given(h=holdings(), p=price, market=markets(), floor=floors, extra=qty)
def test_adding_base_never_turns_long_into_short_or_nothing(h, p, market, floor, extra):
    before = derive_state(h, p, market, floor)
    more = Holdings(Balance(h.base.free + extra, h.base.locked), h.quote)
    after = derive_state(more, p, market, floor)
    if before is LONG:
        assert after is LONG
    if before is SHORT:
        assert after in (SHORT, LONG)


@PROPS
@given(h=holdings(), p=price, market=markets(), floor=floors, extra=cash)
def test_adding_quote_never_turns_short_into_long(h, p, market, floor, extra):
    before = derive_state(h, p, market, floor)
    more = Holdings(h.base, Balance(h.quote.free + extra, h.quote.locked))
    after = derive_state(more, p, market, floor)
    if before is SHORT:
        assert after is SHORT
    if before is NONE:
        assert after in (NONE, SHORT, LONG)
    if after is LONG:  # more cash can only take LONG away, never create it
        assert before is LONG


@PROPS
@given(h=holdings(), p=price, market=markets(), floor=floors, up=st.integers(1, 1000))
def test_price_rise_never_turns_long_into_short(h, p, market, floor, up):
    before = derive_state(h, p, market, floor)
    after = derive_state(h, p * up, market, floor)
    if before is LONG:
        assert after is LONG


@PROPS
@given(
    h=holdings(),
    p=price,
    market=markets(),
    floor=floors,
    k=st.sampled_from([D(2), D(10), D(1000), D("0.5"), D("0.01")]),
)
def test_quote_denomination_does_not_matter(h, p, market, floor, k):
    """Re-denominating the quote asset (prices, cash, min cost and floor all times k)
    leaves the state unchanged."""
    scaled_market = rules(market.min_amount, market.min_cost * k)
    scaled = Holdings(h.base, Balance(h.quote.free * k, h.quote.locked * k))
    assert derive_state(scaled, p * k, scaled_market, floor * k) is derive_state(
        h, p, market, floor
    )


@PROPS
@given(
    h=holdings(),
    p=price,
    market=markets(),
    floor=floors,
    k=st.sampled_from([D(2), D(10), D(1000), D("0.5"), D("0.01")]),
)
def test_base_unit_does_not_matter(h, p, market, floor, k):
    """Re-denominating the base unit (quantities and min amount times k, price over k)
    leaves the state unchanged."""
    scaled_market = rules(market.min_amount * k, market.min_cost)
    scaled = Holdings(Balance(h.base.free * k, h.base.locked * k), h.quote)
    assume((p / k) * k == p)  # keep the division exact
    assert derive_state(scaled, p / k, scaled_market, floor) is derive_state(h, p, market, floor)


@PROPS
@given(h=holdings(), p=price, market=markets(), floor=floors)
def test_free_locked_split_does_not_matter(h, p, market, floor):
    merged = hold(h.base.total, h.quote.total)
    assert derive_state(merged, p, market, floor) is derive_state(h, p, market, floor)


@PROPS
@given(h=holdings(), p=price, market=markets(), floor=floors, tighter=floors)
def test_raising_the_dust_floor_only_removes_positions(h, p, market, floor, tighter):
    loose = derive_state(h, p, market, floor)
    strict = derive_state(h, p, market, max(floor, tighter))
    if loose is NONE:
        assert strict is NONE
    if strict is LONG:
        assert not base_is_dust(h.base.total, p, market, floor)


# --- reaches and shown_state ----------------------------------------------------------


def test_reaches_examples():
    # a small buy beside a large cash balance is still the LONG that was asked for
    small_long = hold("0.01", "10000")
    assert derive_state(small_long, PRICE, ETH) is SHORT
    assert reaches(LONG, small_long, PRICE, ETH)
    assert shown_state(LONG, small_long, PRICE, ETH) is LONG
    # SHORT needs the base sold to dust and the cash above it
    assert reaches(SHORT, hold("0", "100"), PRICE, ETH)
    assert not reaches(SHORT, hold("1", "100"), PRICE, ETH)
    assert not reaches(SHORT, hold("0", "0.5"), PRICE, ETH)
    # NO_POSITION is the base sold to dust whatever cash remains
    assert reaches(NONE, hold("0", "100"), PRICE, ETH)
    assert reaches(NONE, hold("0.00001", "0"), PRICE, ETH)
    assert not reaches(NONE, hold("1", "0"), PRICE, ETH)


def test_shown_state_shows_drift_when_target_is_not_held():
    # asked LONG but the coins are gone: the holdings speak
    assert shown_state(LONG, hold("0", "100"), PRICE, ETH) is SHORT
    assert shown_state(SHORT, hold("1", "0"), PRICE, ETH) is LONG
    assert shown_state(None, hold("1", "0"), PRICE, ETH) is LONG


@PROPS
@given(target=states, h=holdings(), p=price, market=markets(), floor=floors)
def test_shown_state_is_target_whenever_reached(target, h, p, market, floor):
    shown = shown_state(target, h, p, market, floor)
    if reaches(target, h, p, market, floor):
        assert shown is target
    else:
        assert shown is derive_state(h, p, market, floor)


@PROPS
@given(target=st.none() | states, h=holdings(), p=price, market=markets(), floor=floors)
def test_shown_state_is_target_or_derived(target, h, p, market, floor):
    shown = shown_state(target, h, p, market, floor)
    assert shown in (target, derive_state(h, p, market, floor))
    if target is None:
        assert shown is derive_state(h, p, market, floor)


@PROPS
@given(h=holdings(), p=price, market=markets(), floor=floors)
def test_reached_targets_are_consistent(h, p, market, floor):
    long_ = reaches(LONG, h, p, market, floor)
    short = reaches(SHORT, h, p, market, floor)
    none = reaches(NONE, h, p, market, floor)
    assert long_ != none  # base is either above dust or not
    assert not (long_ and short)
    if short:
        assert none  # a SHORT is also 'no coins held'
    # a derived LONG or NO_POSITION is always reached; a derived SHORT is reached
    # exactly when the base is dust
    state = derive_state(h, p, market, floor)
    if state is not SHORT:
        assert reaches(state, h, p, market, floor)
    else:
        assert reaches(SHORT, h, p, market, floor) == none


@PROPS
@given(h=holdings(), p=price, market=markets(), floor=floors)
def test_shown_state_of_the_derived_state_is_itself(h, p, market, floor):
    state = derive_state(h, p, market, floor)
    assert shown_state(state, h, p, market, floor) is state


# --- spot_positions --------------------------------------------------------------------


def test_spot_positions_lists_assets_above_dust_with_a_market():
    balances = {
        "ETH": Balance(D("1"), D("0.5")),
        "BTC": Balance(D("0.00000001")),  # dust
        "DOGE": Balance(D("100")),  # no DOGE/USDT market known
        "SOL": Balance(D("3")),  # no price
        "USDT": Balance(D("1000")),
    }
    markets_ = {
        "ETH/USDT": rules(symbol="ETH/USDT"),
        "BTC/USDT": rules("0.00001", "5", symbol="BTC/USDT"),
        "SOL/USDT": rules(symbol="SOL/USDT"),
    }
    prices = {"ETH/USDT": D("2000"), "BTC/USDT": D("60000")}
    found = spot_positions("acct", balances, prices, markets_, "USDT")
    assert [(p.symbol, p.qty, p.mark_price) for p in found] == [("ETH/USDT", D("1.5"), D("2000"))]
    assert found[0].account == "acct"
