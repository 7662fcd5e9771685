"""Sizing a BUY: the four kinds of size by hand-worked numbers, the problems in words, and
the properties the ticket's preview and the trade rely on (risk never above R %, whole steps,
no cost above the cash when nothing is reported, and the planner sending what was shown)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import Balance, Holdings, MarketRules, OrderBook, PositionState, Side, TradeSize
from core.service import InputError, parse_size
from core.trading.planner import OrderPlan, plan_order, plan_remainder
from core.trading.pricing import Limits, SizeError
from core.trading.sizing import BuyMarket, ProblemKind, size_buy

D = Decimal
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)


def rules(min_amount="0.0001", min_cost="1", max_cost=None, price_step="0.01") -> MarketRules:
    return MarketRules(
        symbol="ETH/USDT",
        base="ETH",
        quote="USDT",
        amount_step=D("0.0001"),
        price_step=D(price_step),
        min_amount=D(min_amount),
        min_cost=D(min_cost),
        max_cost=None if max_cost is None else D(max_cost),
        taker_fee=D("0.001"),
        maker_fee=D("0.001"),
    )


def book(asks, bids=(("1999.00", "1"),)) -> OrderBook:
    return OrderBook(
        "ETH/USDT", tuple((D(p), D(q)) for p, q in bids), tuple((D(p), D(q)) for p, q in asks)
    )


ETH = rules()
# asks: 1 ETH at 2,001, 2 more at 2,002, 10 more at 2,010
BOOK = book([("2001.00", "1"), ("2002.00", "2"), ("2010.00", "10")])
LIMITS = Limits(max_order_notional=D("50000"), max_slippage=D("0.005"))


def sized(size: TradeSize, cash="10000", market=ETH, ob=BOOK, limits=LIMITS, take_profit=None):
    return size_buy(size, BuyMarket(ob, market, D(cash)), limits, take_profit)


def kinds(preview) -> list[ProblemKind]:
    return [p.kind for p in preview.problems]


# --- by hand ------------------------------------------------------------------------------


def test_one_percent_of_equity_at_risk_to_the_stop():
    # budget 1 % of 10,000 = 100 USDT, stop 1,900
    # first estimate at the ask: 100 / (2,001 - 1,900) = 0.990099 -> 0.9900 ETH, which the
    #   first level covers: worst price = 2,001 x 1.001 = 2,003.001 -> 2,003.00 (tick, down)
    # quantity = 100 / (2,003 - 1,900) = 100 / 103 = 0.970873 -> 0.9708 ETH (step, down)
    # cost 0.9708 x 2,003 = 1,944.5124; fee 0.1 % = 1.9445124
    # risk 0.9708 x 103 = 99.9924 USDT = 0.999924 % of equity; distance 103 = 5.14 % of 2,003
    # take-profit 2,209: (2,209 - 2,003) / 103 = 2 R
    size = TradeSize(risk_pct=D(1), stop_loss=D(1900), equity=D(10000))
    preview = sized(size, take_profit=D(2209))
    assert preview.ok, preview.problems
    assert preview.quantity == D("0.9708")
    assert preview.worst_price == D("2003.00")
    assert preview.cost == D("1944.5124")
    assert preview.fee == D("1.9445124")
    assert preview.stop_distance == D(103)
    assert round(preview.stop_distance_pct, 4) == D("5.1423")
    assert preview.risk == D("99.9924")
    assert preview.risk_pct == D("0.999924")
    assert preview.r_multiple == D(2)


def test_a_quote_amount():
    # estimate 500 / 2,001 = 0.2498 ETH -> worst 2,003.00; 500 / 2,003 = 0.249625 -> 0.2496
    # cost 0.2496 x 2,003 = 499.9488; fee 0.4999488
    preview = sized(TradeSize(quote_amount=D(500)))
    assert preview.ok and not preview.capped
    assert (preview.quantity, preview.worst_price) == (D("0.2496"), D("2003.00"))
    assert (preview.cost, preview.fee) == (D("499.9488"), D("0.4999488"))
    assert preview.risk is None and preview.r_multiple is None  # no stop given


def test_a_percentage_of_the_free_cash_and_the_default_of_95():
    # 10 % of 1,000 = 100: 100 / 2,003 = 0.049925 -> 0.0499 ETH, cost 99.9497
    ten = sized(TradeSize(pct_of_free_quote=D(10)), cash="1000")
    assert (ten.quantity, ten.cost) == (D("0.0499"), D("99.9497"))
    # nothing given: 95 % of 1,000 = 950: 950 / 2,003 = 0.474288 -> 0.4742 ETH
    assert sized(TradeSize(), cash="1000").quantity == D("0.4742")


def test_a_base_quantity_walks_the_book_for_its_price():
    # 1.5 ETH needs the second level (2,002) but 2,003.001 is further: worst 2,003.00
    # cost 1.5 x 2,003 = 3,004.50, fee 3.0045
    preview = sized(TradeSize(base_qty=D("1.5")))
    assert (preview.quantity, preview.worst_price) == (D("1.5"), D("2003.00"))
    assert (preview.cost, preview.fee) == (D("3004.500"), D("3.0045000"))
    # 5 ETH needs the third level: worst 2,010.00 (below the cap of 2,001 x 1.005 = 2,011.005)
    assert sized(TradeSize(base_qty=D(5)), cash="20000").worst_price == D("2010.00")
    # a quantity off the step is rounded down to it
    assert sized(TradeSize(base_qty=D("0.12345"))).quantity == D("0.1234")


def test_a_stop_with_a_quote_size_shows_its_risk():
    # 0.2496 ETH bought at worst 2,003 with a stop at 1,903: 0.2496 x 100 = 24.96 USDT at risk,
    # 0.2496 % of 10,000 equity
    size = TradeSize(quote_amount=D(500), stop_loss=D(1903), equity=D(10000))
    preview = sized(size)
    assert (preview.risk, preview.risk_pct) == (D("24.9600"), D("0.249600"))


# --- what keeps it from being sent -------------------------------------------------------


def test_not_enough_cash_is_said_with_both_figures():
    quote = sized(TradeSize(quote_amount=D(1500)), cash="1000")
    assert kinds(quote) == [ProblemKind.NOT_ENOUGH_CASH]
    assert quote.problems[0].words == (
        "Order size 1,500.00 USDT is above the free balance of 1,000.00 USDT."
    )
    # 5 ETH at worst 2,010 = 10,050 USDT
    qty = sized(TradeSize(base_qty=D(5)), cash="10000")
    assert kinds(qty) == [ProblemKind.NOT_ENOUGH_CASH]
    assert qty.problems[0].words == (
        "An order of 10,050.00 USDT is above the free balance of 10,000.00 USDT."
    )


def test_above_max_order_notional_is_a_problem_for_a_quantity_or_a_risk():
    capped = Limits(D(3000), D("0.005"))
    # 1.5 ETH x 2,003 = 3,004.50 > 3,000
    qty = sized(TradeSize(base_qty=D("1.5")), limits=capped)
    assert kinds(qty) == [ProblemKind.ABOVE_CAP]
    assert "3,004.50 USDT is above MAX_ORDER_NOTIONAL (3,000.00 USDT)" in qty.problems[0].words
    # 10 % of 100,000 at risk to a stop 100 below: 100 ETH, far above the cap (and the cash)
    risk = TradeSize(risk_pct=D(10), stop_loss=D(1901), equity=D(100000))
    assert kinds(sized(risk, limits=capped)) == [
        ProblemKind.ABOVE_CAP,
        ProblemKind.NOT_ENOUGH_CASH,
    ]


def test_a_quote_size_above_the_cap_is_cut_to_it():
    # 500 asked, 300 allowed: 300 / 2,003 = 0.149775 -> 0.1497 ETH
    preview = sized(TradeSize(quote_amount=D(500)), limits=Limits(D(300), D("0.005")))
    assert preview.ok and preview.capped and preview.quantity == D("0.1497")


def test_below_the_minimum():
    # 1 % of 10 = 0.10 at risk over 103: 0.00097 -> 0.0009 ETH = 1.8027 USDT, below 5
    risk = TradeSize(risk_pct=D(1), stop_loss=D(1900), equity=D(10))
    preview = sized(risk, market=rules(min_cost="5"))
    assert kinds(preview) == [ProblemKind.BELOW_MINIMUM]
    assert preview.problems[0].words == (
        "risking 0.10 USDT to the stop at 1,900.00 gives an order of 1.80 USDT, below the "
        "market minimum of 5.00 USDT"
    )
    small = sized(TradeSize(base_qty=D("0.005")), market=rules(min_amount="0.01"))
    assert "gives 0.005 ETH, below the market minimum of 0.01 ETH" in small.problems[0].words
    # a quote amount below the minimum order is said once, in the trader's own figure
    quote = sized(TradeSize(quote_amount=D("0.5")))
    assert [p.words for p in quote.problems] == [
        "Order size 0.50 USDT is below the market minimum of 1.00 USDT."
    ]


def test_above_the_markets_own_maximum_order():
    preview = sized(TradeSize(base_qty=D(2)), market=rules(max_cost="1000"))
    assert ProblemKind.ABOVE_MARKET_MAXIMUM in kinds(preview)


def test_a_risk_size_needs_a_stop_below_the_price_and_the_equity():
    no_stop = sized(TradeSize(risk_pct=D(1), equity=D(10000)))
    assert kinds(no_stop) == [ProblemKind.NO_STOP] and no_stop.quantity == 0
    assert no_stop.worst_price == D("2003.00")  # still shown
    no_equity = sized(TradeSize(risk_pct=D(1), stop_loss=D(1900)))
    assert kinds(no_equity) == [ProblemKind.NO_EQUITY]
    above = sized(TradeSize(risk_pct=D(1), stop_loss=D(2001), equity=D(10000)))
    assert kinds(above) == [ProblemKind.STOP_NOT_BELOW]
    assert above.problems[0].words == "The stop-loss 2,001.00 must be below the price (2,001.00)."


def test_an_empty_book_has_no_worst_price():
    preview = sized(TradeSize(quote_amount=D(100)), ob=book([]))
    assert kinds(preview) == [ProblemKind.NO_ASKS] and preview.worst_price is None


# --- what the trader types ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "size"),
    [
        ("250", "quote", TradeSize(quote_amount=D(250))),
        ("10", "pct", TradeSize(pct_of_free_quote=D(10))),
        ("0.05", "qty", TradeSize(base_qty=D("0.05"))),
        (" 1.5 ", "risk", TradeSize(risk_pct=D("1.5"))),
    ],
)
def test_each_kind_of_size_reads_to_its_decimal(text, unit, size):
    assert parse_size(text, unit) == size


@pytest.mark.parametrize(
    ("text", "unit", "words"),
    [
        ("101", "risk", "A percentage of equity at risk cannot be above 100."),
        ("101", "pct", "A percentage of the free balance cannot be above 100."),
        ("1e1", "qty", "must be a number"),
        ("0,5", "qty", "use a dot for decimals"),
        ("0", "risk", "above zero"),
        ("1", "lots", "Choose the order size unit"),
    ],
)
def test_sizes_that_cannot_be_meant_are_refused(text, unit, words):
    with pytest.raises(InputError, match=words):
        parse_size(text, unit)


# --- the planner sends what the preview showed ------------------------------------------


def holdings(cash: str) -> Holdings:
    return Holdings(Balance(), Balance(D(cash)))


def test_the_planner_buys_the_risk_sized_quantity_and_never_pays_more_for_the_rest():
    size = TradeSize(risk_pct=D(1), stop_loss=D(1900), equity=D(10000))
    plan = plan_order(PositionState.LONG, holdings("10000"), BOOK, ETH, size, LIMITS)
    assert plan == OrderPlan(
        "ETH/USDT", Side.BUY, D("0.9708"), D("2003.00"), price_limit=D("2003.00")
    )
    moved_up = book([("2050.00", "5")])
    rest = plan_remainder(plan, D("0.5"), D("0.5") * D("2003.00"), moved_up, ETH, LIMITS)
    assert rest is not None and rest.price == D("2003.00")


def test_the_planner_refuses_what_the_preview_reports():
    with pytest.raises(SizeError, match="Sizing by risk needs a stop-loss"):
        plan_order(
            PositionState.LONG, holdings("10000"), BOOK, ETH, TradeSize(risk_pct=D(1)), LIMITS
        )


# --- properties ------------------------------------------------------------------------------


@st.composite
def books(draw):
    """Asks on the price grid, ascending, as an exchange shows them."""
    step = draw(st.sampled_from([D("0.01"), D("0.1"), D(1)]))
    ticks = draw(st.integers(100, 5_000_000))
    asks = []
    for _ in range(draw(st.integers(1, 6))):
        asks.append((ticks * step, draw(st.decimals(D("0.001"), D(50), places=3))))
        ticks += draw(st.integers(1, 300))
    return OrderBook("ETH/USDT", (), tuple(asks)), rules(
        min_amount=draw(st.sampled_from(["0", "0.0001", "0.01"])),
        min_cost=draw(st.sampled_from(["0", "1", "5"])),
        max_cost=draw(st.sampled_from([None, "100000"])),
        price_step=str(step),
    )


pcts = st.decimals(min_value=D("0.01"), max_value=100, places=2)
money = st.decimals(min_value=0, max_value=1_000_000, places=2)
limits_st = st.builds(
    Limits,
    st.sampled_from([D(100), D(5000), D(1_000_000)]),
    st.sampled_from([D("0.001"), D("0.005"), D("0.05")]),
)


@st.composite
def risk_sizes(draw, ob: OrderBook):
    """A risk size whose stop is below the touch (a fraction of it, on or off the tick)."""
    fraction = draw(st.decimals(min_value=D("0.5"), max_value=D("0.999"), places=3))
    return TradeSize(
        risk_pct=draw(pcts),
        stop_loss=ob.best_ask * fraction,
        equity=draw(st.decimals(min_value=1, max_value=1_000_000, places=2)),
    )


@st.composite
def any_sizes(draw, ob: OrderBook):
    return draw(
        st.one_of(
            st.builds(TradeSize, quote_amount=money),
            st.builds(TradeSize, pct_of_free_quote=pcts),
            st.builds(TradeSize, base_qty=st.decimals(min_value=0, max_value=200, places=5)),
            risk_sizes(ob),
        )
    )


@PROPS
@given(data=books(), cash=money, limits=limits_st, draw=st.data())
def test_risk_never_exceeds_the_percentage_asked(data, cash, limits, draw):
    ob, market = data
    size = draw.draw(risk_sizes(ob))
    preview = size_buy(size, BuyMarket(ob, market, cash), limits)
    assert preview.risk is not None and preview.risk_pct is not None
    assert preview.risk <= size.equity * size.risk_pct / 100  # exactly, after rounding
    assert preview.risk_pct <= size.risk_pct


@PROPS
@given(data=books(), cash=money, limits=limits_st, draw=st.data())
def test_every_size_is_whole_steps_and_fits_when_no_problem_is_reported(data, cash, limits, draw):
    ob, market = data
    size = draw.draw(any_sizes(ob))
    preview = size_buy(size, BuyMarket(ob, market, cash), limits)
    assert preview.quantity % market.amount_step == 0
    assert preview.quantity >= 0
    if preview.ok:
        assert preview.cost <= cash
        assert preview.cost <= limits.max_order_notional
        assert preview.quantity >= market.min_amount and preview.quantity > 0
        assert preview.cost >= market.min_cost


@PROPS
@given(data=books(), cash=money, limits=limits_st, draw=st.data())
def test_the_planner_sends_exactly_what_the_preview_shows(data, cash, limits, draw):
    ob, market = data
    size = draw.draw(any_sizes(ob))
    preview = size_buy(size, BuyMarket(ob, market, cash), limits)
    try:
        plan = plan_order(PositionState.LONG, holdings(str(cash)), ob, market, size, limits)
    except SizeError as refusal:
        assert not preview.ok and str(refusal) == preview.problems[0].words
        return
    assert preview.ok
    assert (plan.amount, plan.price) == (preview.quantity, preview.worst_price)
