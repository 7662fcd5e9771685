"""Planning the corrective marketable LIMIT order: price, size, steps, minimums."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.domain import (
    Balance,
    ExitPart,
    Holdings,
    MarketRules,
    OrderBook,
    PositionState,
    Side,
    TradeSize,
    ceil_to_step,
    floor_to_step,
)
from core.trading.planner import OrderPlan, plan_close, plan_order, plan_remainder
from core.trading.pricing import (
    TOUCH_OFFSET,
    Limits,
    PlanError,
    SizeError,
    marketable_price,
)
from core.trading.state import base_is_dust

D = Decimal
LONG, SHORT, NONE = PositionState.LONG, PositionState.SHORT, PositionState.NO_POSITION
PROPS = settings(max_examples=150, deadline=None, derandomize=True, database=None)


def rules(
    amount_step="0.0001",
    price_step="0.01",
    min_amount="0.0001",
    min_cost="1",
    max_cost=None,
) -> MarketRules:
    return MarketRules(
        symbol="ETH/USDT",
        base="ETH",
        quote="USDT",
        amount_step=D(amount_step),
        price_step=D(price_step),
        min_amount=D(min_amount),
        min_cost=D(min_cost),
        max_cost=None if max_cost is None else D(max_cost),
        taker_fee=D("0.001"),
        maker_fee=D("0.001"),
    )


def book(bids=(), asks=()) -> OrderBook:
    return OrderBook(
        "ETH/USDT",
        tuple((D(p), D(q)) for p, q in bids),
        tuple((D(p), D(q)) for p, q in asks),
    )


def hold(base="0", quote="0", locked_base="0") -> Holdings:
    return Holdings(Balance(D(base), D(locked_base)), Balance(D(quote)))


ETH = rules()
LIMITS = Limits(max_order_notional=D("50000"), max_slippage=D("0.005"))
BOOK = book(
    bids=[("1999.00", "1"), ("1998.00", "2"), ("1990.00", "10")],
    asks=[("2001.00", "1"), ("2002.00", "2"), ("2010.00", "10")],
)


# --- step rounding --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "step", "floor", "ceil"),
    [
        ("1.23456", "0.01", "1.23", "1.24"),
        ("1.23", "0.01", "1.23", "1.23"),
        ("0.00009", "0.0001", "0", "0.0001"),
        ("17", "5", "15", "20"),
        ("2000.004", "0.5", "2000.0", "2000.5"),
    ],
)
def test_step_rounding_examples(value, step, floor, ceil):
    assert floor_to_step(D(value), D(step)) == D(floor)
    assert ceil_to_step(D(value), D(step)) == D(ceil)


values = st.decimals(
    min_value=0, max_value=1_000_000, places=8, allow_nan=False, allow_infinity=False
)
steps = st.sampled_from([D("0.00000001"), D("0.0001"), D("0.01"), D("0.5"), D(1), D(10)])


@PROPS
@given(value=values, step=steps)
def test_floor_and_ceil_bracket_the_value_on_the_grid(value, step):
    low, high = floor_to_step(value, step), ceil_to_step(value, step)
    assert low <= value <= high
    assert value - low < step
    assert high - value < step
    assert low % step == 0
    assert high % step == 0
    assert floor_to_step(low, step) == low  # idempotent
    assert ceil_to_step(high, step) == high
    assert (low == high) == (value % step == 0)


# --- marketable price -----------------------------------------------------------------


def test_price_starts_a_tenth_of_a_percent_beyond_the_touch():
    assert marketable_price(BOOK, Side.BUY, D("0.5"), ETH, LIMITS) == D("2003.00")  # 2001*1.001
    assert marketable_price(BOOK, Side.SELL, D("0.5"), ETH, LIMITS) == D("1997.01")  # 1999*0.999


def test_price_walks_the_depth_to_cover_the_size():
    # 3 ETH are covered by the first two levels: the touch offset already reaches them
    assert marketable_price(BOOK, Side.BUY, D("3"), ETH, LIMITS) == D("2003.00")
    assert marketable_price(BOOK, Side.SELL, D("3"), ETH, LIMITS) == D("1997.01")
    # 3.5 ETH needs the 2010 ask level; the cap (2001 * 1.005 = 2011.005) allows it
    assert marketable_price(BOOK, Side.BUY, D("3.5"), ETH, LIMITS) == D("2010.00")
    assert marketable_price(BOOK, Side.SELL, D("3.5"), ETH, LIMITS) == D("1990.00")


def test_price_never_goes_beyond_the_slippage_cap():
    tight = Limits(max_order_notional=D("50000"), max_slippage=D("0.002"))
    # 2001 * 1.002 = 2005.002 -> floored to 2005.00 (never past the cap)
    assert marketable_price(BOOK, Side.BUY, D("3.5"), ETH, tight) == D("2005.00")
    # 1999 * 0.998 = 1995.002 -> ceiled to 1995.01
    assert marketable_price(BOOK, Side.SELL, D("3.5"), ETH, tight) == D("1995.01")


def test_slippage_cap_below_the_touch_offset_wins():
    tiny = Limits(max_order_notional=D("50000"), max_slippage=D("0.0001"))
    assert marketable_price(BOOK, Side.BUY, D("0.1"), ETH, tiny) == D("2001.20")  # 2001.2001
    assert marketable_price(BOOK, Side.SELL, D("0.1"), ETH, tiny) == D("1998.81")  # 1998.8001


def test_price_walks_to_the_deepest_level_when_the_book_does_not_cover_the_size():
    """A size beyond the visible depth must price at least at the deepest level shown
    (within the cap): staying at touch + 0.1% would fill only the first level."""
    assert marketable_price(BOOK, Side.BUY, D("50"), ETH, LIMITS) == D("2010.00")
    assert marketable_price(BOOK, Side.SELL, D("50"), ETH, LIMITS) == D("1990.00")
    deep = book(asks=[("100.00", "1"), ("150.00", "1")], bids=[("100.00", "1"), ("50.00", "1")])
    # the deepest levels are past the 0.5% cap: the cap holds
    assert marketable_price(deep, Side.BUY, D("5"), ETH, LIMITS) == D("100.50")
    assert marketable_price(deep, Side.SELL, D("5"), ETH, LIMITS) == D("99.50")


def test_empty_side_of_the_book_is_refused_clearly():
    with pytest.raises(PlanError, match="the ETH/USDT order book has no asks"):
        marketable_price(book(bids=[("1", "1")]), Side.BUY, D("1"), ETH, LIMITS)
    with pytest.raises(PlanError, match="the ETH/USDT order book has no bids"):
        marketable_price(book(asks=[("1", "1")]), Side.SELL, D("1"), ETH, LIMITS)


@st.composite
def books_on_grid(draw):
    """An order book whose prices sit on the market's price grid, as an exchange's do."""
    step = draw(st.sampled_from([D("0.01"), D("0.1"), D("0.0001"), D(1)]))
    mid_ticks = draw(st.integers(200, 10_000_000))
    spread = draw(st.integers(1, 50))
    bid_ticks, ask_ticks = mid_ticks, mid_ticks + spread
    asks, bids = [], []
    for _ in range(draw(st.integers(1, 8))):
        qty = draw(st.decimals(min_value=D("0.001"), max_value=100, places=3))
        asks.append((ask_ticks * step, qty))
        ask_ticks += draw(st.integers(1, 200))
    for _ in range(draw(st.integers(1, 8))):
        qty = draw(st.decimals(min_value=D("0.001"), max_value=100, places=3))
        bids.append((bid_ticks * step, qty))
        bid_ticks -= draw(st.integers(1, 200))
        if bid_ticks <= 0:
            break
    return OrderBook("ETH/USDT", tuple(bids), tuple(asks)), rules(price_step=step)


slippages = st.sampled_from([D("0.0001"), D("0.001"), D("0.002"), D("0.005"), D("0.02"), D("0.05")])
amounts = st.decimals(min_value=D("0.001"), max_value=500, places=3)


@PROPS
@given(data=books_on_grid(), side=st.sampled_from(list(Side)), amount=amounts, slip=slippages)
def test_marketable_price_properties(data, side, amount, slip):
    ob, market = data
    limits = Limits(D("1e9"), slip)
    price = marketable_price(ob, side, amount, market, limits)
    levels = ob.asks if side is Side.BUY else ob.bids
    touch = levels[0][0]
    assert price % market.price_step == 0  # on the grid
    # covering level: the first level whose cumulative size reaches the amount
    covered, level = D(0), levels[-1][0]
    for level_price, level_qty in levels:
        covered += level_qty
        if covered >= amount:
            level = level_price
            break
    if side is Side.BUY:
        cap = touch * (1 + slip)
        assert touch <= price <= cap  # marketable, never past the cap
        assert price >= min(level, floor_to_step(cap, market.price_step))  # reaches the depth
        start = floor_to_step(touch * (1 + TOUCH_OFFSET), market.price_step)
        assert price >= min(start, floor_to_step(cap, market.price_step))
    else:
        cap = touch * (1 - slip)
        assert cap <= price <= touch
        assert price <= max(level, ceil_to_step(cap, market.price_step))
        start = ceil_to_step(touch * (1 - TOUCH_OFFSET), market.price_step)
        assert price <= max(start, ceil_to_step(cap, market.price_step))


@PROPS
@given(data=books_on_grid(), side=st.sampled_from(list(Side)), a=amounts, b=amounts, slip=slippages)
def test_a_larger_order_never_gets_a_less_aggressive_price(data, side, a, b, slip):
    ob, market = data
    small, large = sorted((a, b))
    limits = Limits(D("1e9"), slip)
    p_small = marketable_price(ob, side, small, market, limits)
    p_large = marketable_price(ob, side, large, market, limits)
    if side is Side.BUY:
        assert p_large >= p_small
    else:
        assert p_large <= p_small


# --- plan_order: examples -------------------------------------------------------------


def test_already_long_needs_no_order():
    assert plan_order(LONG, hold("1", "0"), BOOK, ETH, TradeSize(), LIMITS) is None


def test_already_flat_needs_no_sell():
    h = hold("0.00001", "5000")  # base dust
    assert plan_order(SHORT, h, BOOK, ETH, TradeSize(), LIMITS) is None
    assert plan_order(NONE, h, BOOK, ETH, TradeSize(), LIMITS) is None


def test_long_buys_with_95_percent_of_free_quote():
    plan = plan_order(LONG, hold("0", "1000"), BOOK, ETH, TradeSize(), LIMITS)
    assert plan == OrderPlan("ETH/USDT", Side.BUY, D("0.4742"), D("2003.00"))
    assert plan.notional <= D("950")


def test_long_beside_a_small_dust_balance_still_buys():
    plan = plan_order(LONG, hold("0.0001", "1000"), BOOK, ETH, TradeSize(), LIMITS)
    assert plan is not None and plan.side is Side.BUY


def test_short_sells_the_whole_free_base_floored_to_the_step():
    plan = plan_order(SHORT, hold("0.123456789", "0"), BOOK, ETH, TradeSize(), LIMITS)
    assert plan == OrderPlan("ETH/USDT", Side.SELL, D("0.1234"), D("1997.01"))


def test_no_position_sells_like_short():
    plan = plan_order(NONE, hold("2", "10"), BOOK, ETH, TradeSize(), LIMITS)
    assert plan.side is Side.SELL and plan.amount == 2


def test_sell_is_capped_by_max_order_notional():
    limits = Limits(max_order_notional=D("1000"), max_slippage=D("0.005"))
    plan = plan_order(SHORT, hold("2", "0"), BOOK, ETH, TradeSize(), limits)
    assert plan.notional <= D("1000")
    assert plan.amount == floor_to_step(D("1000") / plan.price, ETH.amount_step)


def test_sell_is_capped_by_the_markets_maximum_order():
    market = rules(max_cost="1000")  # MAX_ORDER_NOTIONAL (50000) is looser here
    plan = plan_order(SHORT, hold("2", "0"), BOOK, market, TradeSize(), LIMITS)
    assert plan.notional <= D("1000")
    assert plan.amount == floor_to_step(D("1000") / plan.price, market.amount_step)


def test_buy_below_the_minimum_order_is_refused_with_the_figures():
    market = rules(min_cost="5")
    with pytest.raises(PlanError) as err:
        plan_order(LONG, hold("0", "4"), BOOK, market, TradeSize(), LIMITS)
    message = str(err.value)
    assert "3.80 USDT" in message
    assert "below the market minimum of 5.00 USDT" in message


def test_buy_below_the_minimum_amount_is_refused_with_the_figures():
    market = rules(min_amount="0.01", min_cost="1")
    with pytest.raises(PlanError, match=r"below the market minimum of 0\.01 ETH"):
        plan_order(LONG, hold("0", "10"), BOOK, market, TradeSize(), LIMITS)


def test_buy_of_zero_is_refused():
    with pytest.raises(SizeError, match=r"0\.00 USDT is below the market minimum"):
        plan_order(LONG, hold("0", "100"), BOOK, ETH, TradeSize(quote_amount=D(0)), LIMITS)


def test_buy_above_the_markets_maximum_order_is_refused():
    market = rules(max_cost="500")
    with pytest.raises(PlanError, match="above the market's maximum order of 500"):
        plan_order(LONG, hold("0", "1000"), BOOK, market, TradeSize(), LIMITS)


def test_sell_of_locked_coins_only_is_refused_clearly():
    # the coins are held (not dust) but all locked in an order: nothing free to sell
    with pytest.raises(PlanError, match="selling ETH gives 0 ETH"):
        plan_order(SHORT, hold("0", "0", locked_base="1"), BOOK, ETH, TradeSize(), LIMITS)


def test_empty_book_is_refused_clearly():
    with pytest.raises(PlanError, match="the ETH/USDT order book is empty"):
        plan_order(LONG, hold("0", "1000"), book(), ETH, TradeSize(), LIMITS)


# --- plan_order: properties -----------------------------------------------------------

cash = st.decimals(min_value=0, max_value=1_000_000, places=2)
coins = st.decimals(min_value=0, max_value=1000, places=8)
targets = st.sampled_from(list(PositionState))
sizes = st.builds(
    TradeSize,
    quote_amount=st.none(),
    pct_of_free_quote=st.none() | st.decimals(min_value=1, max_value=100, places=1),
)


@st.composite
def markets_for(draw, market: MarketRules):
    return rules(
        amount_step=draw(st.sampled_from(["0.0001", "0.001", "0.00000001", "1"])),
        price_step=market.price_step,
        min_amount=draw(st.sampled_from(["0", "0.0001", "0.01", "1"])),
        min_cost=draw(st.sampled_from(["0", "1", "5", "10"])),
        max_cost=draw(st.sampled_from([None, "100000"])),
    )


@PROPS
@given(
    data=books_on_grid(),
    target=targets,
    base=coins,
    quote=cash,
    size=sizes,
    slip=slippages,
    cap=st.sampled_from([D("100"), D("5000"), D("1000000")]),
    draw=st.data(),
)
def test_plan_order_respects_balances_steps_and_limits(
    data, target, base, quote, size, slip, cap, draw
):
    ob, grid = data
    market = draw.draw(markets_for(grid))
    limits = Limits(cap, slip)
    holdings = hold(base, quote)
    mid = (ob.best_bid + ob.best_ask) / 2
    base_dust = base_is_dust(base, mid, market)
    try:
        plan = plan_order(target, holdings, ob, market, size, limits)
    except PlanError as exc:
        assert "ETH" in str(exc) or "USDT" in str(exc)  # the message names what failed
        return
    if plan is None:  # already at target
        assert (target is LONG) != base_dust
        return
    assert plan.symbol == "ETH/USDT"
    assert plan.amount > 0
    assert plan.amount % market.amount_step == 0
    assert plan.price % market.price_step == 0
    assert plan.amount >= market.min_amount
    assert plan.notional >= market.min_cost
    assert plan.notional <= cap
    if market.max_cost is not None:
        assert plan.notional <= market.max_cost
    if target is LONG:
        assert base_dust
        assert plan.side is Side.BUY
        assert plan.notional <= quote  # never spends more than the free quote
        assert ob.best_ask <= plan.price <= ob.best_ask * (1 + slip)
    else:
        assert not base_dust
        assert plan.side is Side.SELL
        assert plan.amount <= base  # never sells more than is free
        assert ob.best_bid * (1 - slip) <= plan.price <= ob.best_bid


# --- plan_remainder --------------------------------------------------------------------


def test_remainder_of_a_partly_filled_sell_is_repriced():
    plan = OrderPlan("ETH/USDT", Side.SELL, D("5"), D("1997.01"))
    # 1 filled; the 4 left need the 1990 bid level now
    rest = plan_remainder(plan, D("1"), D("1997.01"), BOOK, ETH, LIMITS)
    assert rest == OrderPlan("ETH/USDT", Side.SELL, D("4"), D("1990.00"))


def test_remainder_of_a_buy_keeps_to_the_quote_set_aside():
    plan = OrderPlan("ETH/USDT", Side.BUY, D("1"), D("2003.00"))  # 2003 set aside
    rest = plan_remainder(plan, D("0.5"), D("1000"), BOOK, ETH, LIMITS)
    assert rest.side is Side.BUY
    assert rest.amount * rest.price <= D("2003.00") - D("1000")
    assert rest.amount <= D("0.5")


def test_no_remainder_when_filled_or_dust():
    plan = OrderPlan("ETH/USDT", Side.SELL, D("1"), D("1997.01"))
    assert plan_remainder(plan, D("1"), D("1997.01"), BOOK, ETH, LIMITS) is None
    assert plan_remainder(plan, D("0.9999"), D("1996"), BOOK, rules(min_cost="5"), LIMITS) is None


@PROPS
@given(
    data=books_on_grid(),
    side=st.sampled_from(list(Side)),
    amount=amounts,
    filled_share=st.decimals(min_value=0, max_value=1, places=2),
)
def test_remainder_never_exceeds_what_is_left(data, side, amount, filled_share):
    ob, market = data
    price = marketable_price(ob, side, amount, market, LIMITS)
    assume(price > 0)
    plan = OrderPlan("ETH/USDT", side, amount, price)
    filled = floor_to_step(amount * filled_share, market.amount_step)
    spent = filled * price
    rest = plan_remainder(plan, filled, spent, ob, market, LIMITS)
    if rest is None:
        return
    assert 0 < rest.amount <= amount - filled
    assert rest.amount % market.amount_step == 0
    if side is Side.BUY:
        assert rest.notional <= plan.notional - spent


# --- plan_close ------------------------------------------------------------------------


def test_close_of_a_long_sells_its_whole_size_reduce_only():
    plan = plan_close(D("1.5"), BOOK, ETH, LIMITS)
    assert plan == OrderPlan("ETH/USDT", Side.SELL, D("1.5"), D("1997.01"), reduce_only=True)


def test_close_of_a_short_buys_it_back_reduce_only():
    plan = plan_close(D("-0.5"), BOOK, ETH, LIMITS)
    assert plan == OrderPlan("ETH/USDT", Side.BUY, D("0.5"), D("2003.00"), reduce_only=True)


def test_close_floors_the_size_to_the_step():
    assert plan_close(D("-0.123456789"), BOOK, ETH, LIMITS).amount == D("0.1234")
    assert plan_close(D("2.00009"), BOOK, ETH, LIMITS).amount == D("2")


def test_close_of_a_flat_position_plans_nothing():
    assert plan_close(D(0), BOOK, ETH, LIMITS) is None
    assert plan_close(D(0), book(), ETH, LIMITS) is None


def test_close_below_the_step_cannot_be_sent():
    with pytest.raises(PlanError, match=r"below the market's step of 0\.0001"):
        plan_close(D("0.00005"), BOOK, ETH, LIMITS)


def test_close_price_is_capped_by_the_slippage_limit():
    tight = Limits(max_order_notional=D("50000"), max_slippage=D("0.002"))
    # 13 ETH reaches the third level of the book: the price stops 0.2% beyond the touch
    assert plan_close(D("13"), BOOK, ETH, tight).price == D("1995.01")
    assert plan_close(D("-13"), BOOK, ETH, tight).price == D("2005.00")


def test_close_ignores_the_order_notional_cap_and_the_minimum_order_value():
    small = Limits(max_order_notional=D("100"), max_slippage=D("0.005"))
    assert plan_close(D("10"), BOOK, rules(min_cost="50000"), small).amount == D("10")


def test_close_against_an_empty_side_of_the_book_is_refused():
    with pytest.raises(PlanError, match="has no bids"):
        plan_close(D("1"), book(asks=[("2001.00", "1")]), ETH, LIMITS)
    with pytest.raises(PlanError, match="has no asks"):
        plan_close(D("-1"), book(bids=[("1999.00", "1")]), ETH, LIMITS)


def test_remainder_of_a_close_stays_reduce_only_and_closes_whatever_it_costs():
    plan = plan_close(D("-1"), BOOK, ETH, LIMITS)
    risen = book(bids=[("2099.00", "5")], asks=[("2101.00", "5")])
    # a plain buy would keep to the quote set aside; a close buys back all that is left
    rest = plan_remainder(plan, D("0.2"), D("0.2") * plan.price, risen, ETH, LIMITS)
    assert rest == OrderPlan("ETH/USDT", Side.BUY, D("0.8"), D("2103.10"), reduce_only=True)
    tiny = plan_close(D("0.0002"), BOOK, rules(min_cost="5"), LIMITS)
    rest = plan_remainder(tiny, D("0.0001"), D("0.2"), BOOK, rules(min_cost="5"), LIMITS)
    assert rest is not None and rest.amount == D("0.0001")  # no minimum order value


@PROPS
@given(data=books_on_grid(), qty=st.decimals(min_value=D("-50"), max_value=D("50"), places=6))
def test_close_never_asks_for_more_than_the_position_and_always_reduces(data, qty):
    ob, market = data
    assume(abs(qty) >= market.amount_step)
    plan = plan_close(qty, ob, market, LIMITS)
    assert plan.reduce_only
    assert plan.side is (Side.SELL if qty > 0 else Side.BUY)
    assert 0 < plan.amount <= abs(qty) and abs(qty) - plan.amount < market.amount_step
    assert plan.amount % market.amount_step == 0


# --- partial exits ----------------------------------------------------------------------


def part(pct=None, qty=None) -> ExitPart:
    return ExitPart(None if pct is None else D(pct), None if qty is None else D(qty))


def test_a_percentage_sells_that_share_floored_to_the_step_and_leaves_the_rest():
    plan = plan_order(NONE, hold(base="1.23456"), BOOK, ETH, TradeSize(), LIMITS, part("50"))
    assert (plan.side, plan.amount, plan.leaves) == (Side.SELL, D("0.6172"), D("0.61736"))
    assert plan.price == marketable_price(BOOK, Side.SELL, D("0.6172"), ETH, LIMITS)


def test_a_quantity_sells_that_quantity_and_sell_or_close_take_it_alike():
    for target in (SHORT, NONE):
        plan = plan_order(target, hold(base="2"), BOOK, ETH, TradeSize(), LIMITS, part(qty="0.5"))
        assert (plan.amount, plan.leaves) == (D("0.5"), D("1.5"))


def test_a_part_that_takes_everything_is_the_full_exit():
    full = plan_order(NONE, hold(base="2"), BOOK, ETH, TradeSize(), LIMITS)
    for whole in (part("100"), part(qty="2")):
        assert plan_order(NONE, hold(base="2"), BOOK, ETH, TradeSize(), LIMITS, whole) == full
    assert full.leaves is None


@pytest.mark.parametrize(
    ("held", "asked", "words"),
    [
        ("2", part(qty="3"), "closing 3 ETH is more than the 2 ETH held"),
        ("2", part(qty="0.0004"), "below the market minimum of 1.00 USDT"),
        ("2", part("99.99"), "leaves 0.0002 ETH, below the market minimum"),
        ("0", part("50"), "nothing to close a part of"),
    ],
)
def test_a_part_or_a_rest_that_cannot_trade_alone_is_refused(held, asked, words):
    with pytest.raises(SizeError, match=words):
        plan_order(NONE, hold(base=held), BOOK, ETH, TradeSize(), LIMITS, asked)


def test_a_part_above_the_cap_is_refused_not_cut():
    capped = Limits(max_order_notional=D("1000"), max_slippage=D("0.005"))
    with pytest.raises(SizeError, match="above the largest order allowed"):
        plan_order(NONE, hold(base="2"), BOOK, ETH, TradeSize(), capped, part("50"))


@PROPS
@given(
    held=st.decimals(min_value=D("0.01"), max_value=D("50"), places=4),
    pct=st.decimals(min_value=D("0.01"), max_value=D("100"), places=2),
)
def test_a_partial_exit_never_sells_more_than_asked_and_leaves_a_tradable_rest(held, pct):
    try:
        plan = plan_order(NONE, hold(base=str(held)), BOOK, ETH, TradeSize(), LIMITS, part(pct))
    except SizeError:
        return
    assert plan.side is Side.SELL and plan.amount <= held
    if plan.leaves is not None:
        assert plan.amount <= held * pct / 100 and plan.amount + plan.leaves == held
        assert not base_is_dust(plan.leaves, D("2000"), ETH)


# --- priced orders that rest ----------------------------------------------------------


def test_a_priced_buy_rests_at_the_traders_price_sized_at_that_price():
    plan = plan_order(
        LONG,
        hold("0", "10000"),
        BOOK,
        ETH,
        TradeSize(quote_amount=D("990")),
        LIMITS,
        limit_price=D("1980.005"),
    )
    assert plan is not None and plan.resting and plan.side is Side.BUY
    assert plan.price == D("1980.00")  # a BUY's price goes down to the tick, never up
    assert plan.amount == D("0.5")  # 990 / 1980, not / the marketable price above 2001
    assert plan.amount * plan.price <= D("990")


def test_a_priced_sell_rests_above_the_bid_rounded_up_to_the_tick():
    plan = plan_order(
        NONE, hold("1.23456", "0"), BOOK, ETH, TradeSize(), LIMITS, limit_price=D("2100.001")
    )
    assert plan is not None and plan.resting and plan.side is Side.SELL
    assert (plan.price, plan.amount) == (D("2100.01"), D("1.2345"))


def test_a_priced_order_below_the_market_minimum_is_refused():
    tiny = rules(min_cost="5")
    with pytest.raises(SizeError, match="below the market minimum"):
        plan_order(NONE, hold("0.004", "0"), BOOK, tiny, TradeSize(), LIMITS, limit_price=D("1000"))
