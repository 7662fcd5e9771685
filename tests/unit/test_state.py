"""Position state on spot: holdings + price + market limits + the trader's last target ->
LONG / SHORT / NO_POSITION, one rule for every place that shows it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.domain import (
    Balance,
    Holdings,
    MarketRules,
    OrderReport,
    OrderStatus,
    PositionState,
    Side,
)
from core.trading.state import (
    base_is_dust,
    pending_label,
    position_state,
    quote_is_dust,
    reaches,
    spot_positions,
    state_label,
    works_toward,
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
states = st.sampled_from(list(PositionState))
targets = st.none() | states


@st.composite
def markets(draw):
    return rules(draw(min_amounts), draw(min_costs))


@st.composite
def holdings(draw):
    return hold(draw(qty), draw(cash), locked_base=draw(qty), locked_quote=draw(cash))


# --- examples the trader would recognise ---------------------------------------------


@pytest.mark.parametrize(
    ("base", "quote", "target", "expected"),
    [
        ("1", "0", None, LONG),  # coins held, no cash
        ("0", "5000", None, NONE),  # cash only, nobody asked for SHORT: not an open short
        ("0", "5000", NONE, NONE),  # cash only after a CLOSE
        ("0", "5000", SHORT, SHORT),  # the value waits in USDT because the trader asked
        ("0", "5000", LONG, NONE),  # asked LONG, the coins are gone: drift
        ("0", "0", SHORT, NONE),  # asked SHORT, nothing left at all
        ("0", "0", None, NONE),  # empty account
        ("0.00001", "0.5", None, NONE),  # both dust
        ("0.00001", "5000", SHORT, SHORT),  # base dust beside cash
        ("1", "0.5", None, LONG),  # cash dust beside coins
        ("1", "1000", None, LONG),  # mixed: the coins are there
        ("0.1", "1000", None, LONG),  # a small holding beside more cash is still held
        ("0.1", "1000", SHORT, LONG),  # asked SHORT but holds the coins: drift
        ("0.01", "10000", LONG, LONG),  # a small buy beside a large cash balance
    ],
)
def test_position_state_examples(base, quote, target, expected):
    assert position_state(hold(base, quote), PRICE, ETH, target) is expected


def test_locked_balances_count_as_held():
    assert position_state(hold("0", "0", locked_base="1"), PRICE, ETH) is LONG
    assert position_state(hold("0", "0", locked_quote="50"), PRICE, ETH, SHORT) is SHORT


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


def test_thresholds_are_per_market_not_per_coin():
    # the same holding is dust on a market with a high minimum and tradable on a low one
    strict = rules(min_amount="1", min_cost="10", symbol="BTC/USDT")
    loose = rules(min_amount="0.00001", min_cost="1", symbol="BTC/USDT")
    h = hold("0.5", "0")
    assert position_state(h, D("100"), strict) is NONE
    assert position_state(h, D("100"), loose) is LONG


def test_zero_balances_are_never_a_position_even_without_market_minimums():
    """Markets without a cost minimum (ccxt reports None -> 0) must not turn an empty
    account into a SHORT: nothing held is never 'above dust'."""
    free_market = rules(min_amount="0", min_cost="0")
    assert quote_is_dust(D("0"), free_market)
    assert base_is_dust(D("0"), PRICE, free_market)
    assert position_state(hold("0", "0"), PRICE, free_market, SHORT) is NONE
    assert not reaches(SHORT, hold("0", "0"), PRICE, free_market)
    assert not reaches(LONG, hold("0", "0"), PRICE, free_market)
    # any positive amount is tradable on such a market
    assert position_state(hold("0", "0.01"), PRICE, free_market, SHORT) is SHORT
    assert position_state(hold("0.00000001", "0"), PRICE, free_market) is LONG


@PROPS
@given(q=qty, p=price, market=markets())
def test_base_dust_is_exactly_the_market_limits(q, p, market):
    expected = q <= 0 or q < market.min_amount or q * p < market.min_cost
    assert base_is_dust(q, p, market) == expected


@PROPS
@given(a=cash, market=markets())
def test_quote_dust_is_exactly_the_market_limits(a, market):
    assert quote_is_dust(a, market) == (a <= 0 or a < market.min_cost)


# --- properties of the one rule -------------------------------------------------------


@PROPS
@given(h=holdings(), p=price, market=markets(), target=targets)
def test_position_state_matches_the_definition(h, p, market, target):
    state = position_state(h, p, market, target)
    base_dust = base_is_dust(h.base.total, p, market)
    quote_dust = quote_is_dust(h.quote.total, market)
    if not base_dust:
        assert state is LONG
    elif target is SHORT and not quote_dust:
        assert state is SHORT
    else:
        assert state is NONE


@PROPS
@given(h=holdings(), p=price, market=markets(), target=targets)
def test_a_short_is_only_ever_one_the_trader_asked_for(h, p, market, target):
    if position_state(h, p, market, target) is SHORT:
        assert target is SHORT


@PROPS
@given(h=holdings(), p=price, market=markets(), target=targets, extra=qty)
def test_adding_base_never_takes_a_long_away(h, p, market, target, extra):
    before = position_state(h, p, market, target)
    more = Holdings(Balance(h.base.free + extra, h.base.locked), h.quote)
    if before is LONG:
        assert position_state(more, p, market, target) is LONG


@PROPS
@given(h=holdings(), p=price, market=markets(), target=targets, extra=cash)
def test_cash_never_changes_a_long(h, p, market, target, extra):
    more = Holdings(h.base, Balance(h.quote.free + extra, h.quote.locked))
    before = position_state(h, p, market, target)
    after = position_state(more, p, market, target)
    assert (before is LONG) == (after is LONG)


@PROPS
@given(h=holdings(), p=price, market=markets(), target=targets, up=st.integers(1, 1000))
def test_price_rise_never_takes_a_long_away(h, p, market, target, up):
    if position_state(h, p, market, target) is LONG:
        assert position_state(h, p * up, market, target) is LONG


@PROPS
@given(
    h=holdings(),
    p=price,
    market=markets(),
    target=targets,
    k=st.sampled_from([D(2), D(10), D(1000), D("0.5"), D("0.01")]),
)
def test_quote_denomination_does_not_matter(h, p, market, target, k):
    """Re-denominating the quote asset (prices, cash and min cost all times k) leaves the
    state unchanged."""
    scaled_market = rules(market.min_amount, market.min_cost * k)
    scaled = Holdings(h.base, Balance(h.quote.free * k, h.quote.locked * k))
    assert position_state(scaled, p * k, scaled_market, target) is position_state(
        h, p, market, target
    )


@PROPS
@given(
    h=holdings(),
    p=price,
    market=markets(),
    target=targets,
    k=st.sampled_from([D(2), D(10), D(1000), D("0.5"), D("0.01")]),
)
def test_base_unit_does_not_matter(h, p, market, target, k):
    """Re-denominating the base unit (quantities and min amount times k, price over k)
    leaves the state unchanged."""
    scaled_market = rules(market.min_amount * k, market.min_cost)
    scaled = Holdings(Balance(h.base.free * k, h.base.locked * k), h.quote)
    assume((p / k) * k == p)  # keep the division exact
    assert position_state(scaled, p / k, scaled_market, target) is position_state(
        h, p, market, target
    )


@PROPS
@given(h=holdings(), p=price, market=markets(), target=targets)
def test_free_locked_split_does_not_matter(h, p, market, target):
    merged = hold(h.base.total, h.quote.total)
    assert position_state(merged, p, market, target) is position_state(h, p, market, target)


# --- reaches: the account holds what the trader asked for -------------------------------


def test_reaches_examples():
    # a small buy beside a large cash balance is the LONG that was asked for
    assert reaches(LONG, hold("0.01", "10000"), PRICE, ETH)
    # SHORT needs the base sold to dust and the cash above it
    assert reaches(SHORT, hold("0", "100"), PRICE, ETH)
    assert not reaches(SHORT, hold("1", "100"), PRICE, ETH)
    assert not reaches(SHORT, hold("0", "0.5"), PRICE, ETH)
    # NO_POSITION is the base sold to dust whatever cash remains
    assert reaches(NONE, hold("0", "100"), PRICE, ETH)
    assert reaches(NONE, hold("0.00001", "0"), PRICE, ETH)
    assert not reaches(NONE, hold("1", "0"), PRICE, ETH)


@PROPS
@given(h=holdings(), p=price, market=markets())
def test_reached_targets_are_consistent(h, p, market):
    long_ = reaches(LONG, h, p, market)
    short = reaches(SHORT, h, p, market)
    none = reaches(NONE, h, p, market)
    assert long_ != none  # base is either above dust or not
    assert not (long_ and short)
    if short:
        assert none  # a SHORT is also 'no coins held'


@PROPS
@given(h=holdings(), p=price, market=markets(), target=states)
def test_the_state_read_with_a_target_is_the_target_exactly_when_reached(h, p, market, target):
    assert (position_state(h, p, market, target) is target) == reaches(target, h, p, market)


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


# --- a target waiting on a working order ------------------------------------------------


def working(side: str, amount: str, price: str, filled: str = "0") -> OrderReport:
    return OrderReport(
        "td1", "x1", "ETH/USDT", Side(side), D(price), D(amount), D(filled), OrderStatus.OPEN
    )


def test_a_resting_buy_reads_as_long_pending_with_its_side_quantity_and_price():
    label = pending_label(LONG, [working("buy", "0.29", "3300")], rules(), "USDT")
    assert label == "LONG pending: BUY 0.29 ETH @ 3,300.00"


def test_a_partly_filled_sell_toward_short_says_what_filled():
    label = pending_label(SHORT, [working("sell", "1.5", "3650.5", "0.5")], rules(), "USDT")
    assert label == "SHORT (in USDT) pending: SELL 1.5 ETH @ 3,650.50, 0.5 filled"


@pytest.mark.parametrize(
    ("target", "side", "toward"),
    [(LONG, "buy", True), (LONG, "sell", False), (SHORT, "sell", True), (NONE, "buy", False)],
)
def test_only_an_order_on_the_targets_side_works_toward_it(target, side, toward):
    assert works_toward(target, Side(side)) is toward
