"""Average-cost PnL folded fill by fill: realized, unrealized, fees."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from itertools import count

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import Fill, Side
from core.pnl import PositionBook, apply_fill, fold_fills

D = Decimal
ZERO = D(0)
STEP = D("0.0001")
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)
T0 = datetime(2024, 1, 1, tzinfo=UTC)
_ids = count()


def fill(
    side: Side | str,
    qty: str | Decimal,
    price: str | Decimal,
    fee: str | Decimal = "0",
    fee_asset: str | None = None,
    fee_quote: str | Decimal | None = None,
    symbol: str = "ETH/USDT",
) -> Fill:
    side = Side(side)
    qty, price, fee = D(qty), D(price), D(fee)
    if fee_asset is None:  # the usual MEXC spot case: buys pay in base, sells in quote
        fee_asset = "ETH" if side is Side.BUY else "USDT"
    if fee_quote is None:
        fee_quote = fee * price if fee_asset == "ETH" else fee
    n = next(_ids)
    return Fill(symbol, side, qty, price, fee, fee_asset, D(fee_quote), f"t{n}", f"c{n}", T0)


# --- examples -------------------------------------------------------------------------


def test_empty_book():
    book = PositionBook()
    assert (book.qty, book.cost_basis, book.realized, book.fees) == (0, 0, 0, 0)
    assert book.avg_entry is None
    assert book.unrealized(D("100")) == 0
    assert book.unrealized(None) == 0
    assert fold_fills([]) == book


def test_average_cost_realized_and_unrealized():
    book = fold_fills([fill("buy", "1", "100"), fill("buy", "1", "200")])
    assert book.qty == 2
    assert book.avg_entry == 150
    assert book.unrealized(D("175")) == 50
    book = apply_fill(book, fill("sell", "1", "300"))
    assert book.realized == 150  # (300 - 150) * 1
    assert book.qty == 1
    assert book.cost_basis == 150
    assert book.avg_entry == 150  # a sell does not move the average entry
    assert book.unrealized(D("250")) == 100
    assert book.unrealized(None) == 0  # no mark, no unrealized figure
    book = apply_fill(book, fill("sell", "1", "120"))
    assert book.realized == 120  # 150 - 30
    assert (book.qty, book.cost_basis, book.avg_entry) == (0, 0, None)
    assert book.unrealized(D("999")) == 0


def test_fee_paid_in_base_on_a_buy_reduces_the_delivered_quantity():
    book = apply_fill(PositionBook(), fill("buy", "1", "2000", fee="0.001"))
    assert book.qty == D("0.999")
    assert book.cost_basis == D("1998.000")  # basis excludes the fee
    assert book.fees == D("2.000")  # counted once, valued in quote
    assert book.avg_entry == 2000


def test_fee_paid_in_quote_on_a_sell():
    book = fold_fills([fill("buy", "2", "100"), fill("sell", "2", "110", fee="0.22")])
    assert book.qty == 0
    assert book.realized == 20
    assert book.fees == D("0.22")


def test_fee_in_a_third_asset_counts_in_fees_only():
    f = fill("buy", "1", "100", fee="0.5", fee_asset="MX", fee_quote="0.05")
    book = apply_fill(PositionBook(), f)
    assert book.qty == 1
    assert book.cost_basis == 100
    assert book.fees == D("0.05")


def test_selling_coins_the_app_never_saw_bought_realizes_only_what_it_holds():
    book = fold_fills([fill("buy", "1", "100"), fill("sell", "3", "150")])
    assert book.qty == 0
    assert book.realized == 50  # only the 1 known coin has a cost
    book = apply_fill(PositionBook(), fill("sell", "1", "100", fee="0.1"))
    assert (book.qty, book.cost_basis, book.realized) == (0, 0, 0)
    assert book.fees == D("0.1")  # the fee was still paid


def test_fold_fills_continues_from_a_start_book():
    first = [fill("buy", "1", "100"), fill("buy", "3", "120")]
    rest = [fill("sell", "2", "130"), fill("buy", "1", "90")]
    assert fold_fills(rest, start=fold_fills(first)) == fold_fills(first + rest)


# --- strategies -----------------------------------------------------------------------

prices = st.decimals(
    min_value=D("0.01"), max_value=100_000, places=2, allow_nan=False, allow_infinity=False
)
quantities = st.decimals(
    min_value=D("0.0001"), max_value=1000, places=4, allow_nan=False, allow_infinity=False
)
fee_rates = st.sampled_from([D(0), D("0.0005"), D("0.001"), D("0.002")])


@st.composite
def trades(draw, max_size=12, with_fees=True):
    """A fill sequence that never sells more than held; fees in base on buys, quote on
    sells. Returns (fills, quote_delta, base_held)."""
    fills: list[Fill] = []
    base = ZERO
    quote = ZERO
    for _ in range(draw(st.integers(1, max_size))):
        price = draw(prices)
        rate = draw(fee_rates) if with_fees else ZERO
        if base > 0 and draw(st.booleans()):
            # sell part or all of what is held
            share = draw(st.sampled_from([D(1), D("0.5"), D("0.25"), D("0.1"), D("0.3333")]))
            # exchanges fill in amount steps: quantities have few places
            qty = base if share == 1 else (base * share).quantize(STEP, rounding=ROUND_FLOOR)
            if qty <= 0:
                qty = base
            fee = qty * price * rate
            fills.append(fill("sell", qty, price, fee))
            base -= qty
            quote += qty * price - fee
        else:
            qty = draw(quantities)
            fee = qty * rate
            fills.append(fill("buy", qty, price, fee))
            base += qty - fee
            quote -= qty * price
    return fills, quote, base


def precision(fills: list[Fill], held: Decimal, mark: Decimal) -> Decimal:
    """What Decimal's 28-digit context can lose: the average cost of mixed prices has no
    finite expansion, so the invariant holds to ~1e-27 of the money moved (measured worst
    case 9e-28 over 2000 sequences); 1e-24 of it is far below any displayed cent."""
    moved = sum((f.qty * f.price for f in fills), ZERO) + held * mark
    return (moved + 1) * D("1e-24")


def test_invariant_is_exact_when_the_average_is_exact():
    fills = [fill("buy", "1", "100", "0.001"), fill("buy", "3", "200", "0.003")]
    fills += [fill("sell", "2", "250", "0.5"), fill("sell", "1.996", "90", "0.1796")]
    book = fold_fills(fills)
    quote = -100 - 600 + (500 - D("0.5")) + (D("179.64") - D("0.1796"))
    assert book.qty == 0
    assert book.realized + book.unrealized(D("123")) - book.fees == quote


def test_closing_a_mixed_price_position_realizes_the_difference_to_cent_precision():
    book = fold_fills(
        [
            fill("buy", "1", "1"),
            fill("buy", "2", "2"),
            fill("sell", "1", "5"),
            fill("sell", "2", "5"),
        ]
    )
    assert book.qty == 0
    assert book.cost_basis == 0
    assert abs(book.realized - 10) < D("1e-20")  # 15 received - 5 paid


# --- properties -----------------------------------------------------------------------


@PROPS
@given(data=trades(), mark=prices)
def test_realized_plus_unrealized_minus_fees_is_the_change_in_account_value(data, mark):
    fills, quote_delta, base_held = data
    book = fold_fills(fills)
    assert book.qty == base_held
    value_change = quote_delta + base_held * mark
    total = book.realized + book.unrealized(mark) - book.fees
    assert abs(total - value_change) <= precision(fills, base_held, mark)


@PROPS
@given(data=trades())
def test_quantity_never_negative_and_matches_holdings(data):
    fills, _, _ = data
    book = PositionBook()
    held = ZERO
    for f in fills:
        book = apply_fill(book, f)
        held += f.net_base
        assert book.qty >= 0
        assert book.cost_basis >= 0
        assert book.qty == held


@PROPS
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["buy", "sell"]), quantities, prices, fee_rates), max_size=15
    )
)
def test_quantity_never_negative_even_when_selling_unseen_coins(steps):
    book = PositionBook()
    for side, qty, price, rate in steps:
        fee = qty * rate if side == "buy" else qty * price * rate
        book = apply_fill(book, fill(side, qty, price, fee))
        assert book.qty >= 0
        assert book.cost_basis >= 0
        if book.qty == 0:
            assert book.cost_basis == 0
            assert book.avg_entry is None


@PROPS
@given(data=trades())
def test_average_entry_lies_within_the_buy_prices(data):
    fills, _, _ = data
    book = PositionBook()
    bought: list[Decimal] = []
    for f in fills:
        book = apply_fill(book, f)
        if f.side is Side.BUY:
            bought.append(f.price)
        if book.qty > 0:
            assert min(bought) <= book.avg_entry <= max(bought)
        else:
            assert book.avg_entry is None


@PROPS
@given(
    price=prices,
    buys=st.lists(quantities, min_size=1, max_size=8),
    sell_parts=st.integers(1, 4),
)
def test_round_trip_at_one_price_without_fees_realizes_nothing(price, buys, sell_parts):
    fills = [fill("buy", q, price) for q in buys]
    total = sum(buys, ZERO)
    part = (total / sell_parts).quantize(STEP, rounding=ROUND_FLOOR)
    sold = ZERO
    for i in range(sell_parts):
        qty = total - sold if i == sell_parts - 1 else part
        fills.append(fill("sell", qty, price))
        sold += qty
    book = fold_fills(fills)
    assert book.realized == 0
    assert book.qty == 0
    assert book.cost_basis == 0
    assert book.fees == 0


@PROPS
@given(
    buys=st.lists(st.tuples(quantities, prices, fee_rates), min_size=1, max_size=8), data=st.data()
)
def test_order_of_buys_does_not_matter(buys, data):
    fills = [fill("buy", q, p, q * r) for q, p, r in buys]
    shuffled = data.draw(st.permutations(fills))
    a, b = fold_fills(fills), fold_fills(shuffled)
    assert (a.qty, a.cost_basis, a.fees, a.realized) == (b.qty, b.cost_basis, b.fees, b.realized)
    assert a.avg_entry == b.avg_entry


@PROPS
@given(data=trades(), symbol_b=st.sampled_from(["BTC/USDT", "SOL/USDT"]))
def test_fees_are_the_sum_of_fee_quote(data, symbol_b):
    fills, _, _ = data
    book = fold_fills(fills)
    assert book.fees == sum((f.fee_quote for f in fills), ZERO)


@PROPS
@given(q1=quantities, q2=quantities, price=prices, rate=fee_rates, mark=prices)
def test_splitting_a_buy_does_not_change_the_book(q1, q2, price, rate, mark):
    whole = apply_fill(PositionBook(), fill("buy", q1 + q2, price, (q1 + q2) * rate))
    split = fold_fills([fill("buy", q1, price, q1 * rate), fill("buy", q2, price, q2 * rate)])
    assert (whole.qty, whole.cost_basis, whole.fees) == (split.qty, split.cost_basis, split.fees)
    assert whole.unrealized(mark) == split.unrealized(mark)


@PROPS
@given(data=trades(with_fees=False), mark=prices)
def test_without_fees_total_pnl_is_value_change_and_fees_zero(data, mark):
    fills, quote_delta, base_held = data
    book = fold_fills(fills)
    assert book.fees == 0
    total = book.realized + book.unrealized(mark)
    assert abs(total - (quote_delta + base_held * mark)) <= precision(fills, base_held, mark)


@PROPS
@given(data=trades(), mark=prices)
def test_apply_fill_is_pure(data, mark):
    fills, _, _ = data
    first = fold_fills(fills)
    again = fold_fills(fills)
    assert first == again
    book = PositionBook(D(1), D(100), D(5), D(1))
    apply_fill(book, fills[0])
    assert book == PositionBook(D(1), D(100), D(5), D(1))  # frozen, never mutated


def test_a_short_is_bought_back_with_its_profit_realized():
    """An adopted short of 0.5 at 60,000 bought back at 58,000: +1,000 realized, flat."""
    short = PositionBook(qty=D("-0.5"), cost_basis=D("-30000"), realized=D(0), fees=D(0))
    fill = Fill(
        "BTC/USDT:USDT", Side.BUY, D("0.5"), D("58000"), D("11.6"), "USDT", D("11.6"),
        "t1", "c1", T0,
    )  # fmt: skip
    after = apply_fill(short, fill)
    assert (after.qty, after.cost_basis, after.realized, after.fees) == (
        D(0),
        D(0),
        D(1000),
        D("11.6"),
    )


def test_half_a_short_bought_back_keeps_its_entry():
    short = PositionBook(qty=D("-1"), cost_basis=D("-60000"), realized=D(0), fees=D(0))
    fill = Fill("BTC/USDT:USDT", Side.BUY, D("0.4"), D("61000"), D(0), "USDT", D(0), "t1", "c1", T0)
    after = apply_fill(short, fill)
    assert after.qty == D("-0.6") and after.cost_basis / after.qty == D(60000)
    assert after.realized == D(-400)
