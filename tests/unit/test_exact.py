"""The one reader of an exchange's numbers: exact Decimals, or an unreadable answer."""

from decimal import Decimal

import pytest

from core.exchange.ccxt_parse import LARGEST, BadValue, answer, exact, fill_of, optional, report_of
from core.exchange.gateway import GatewayError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3300.5", Decimal("3300.5")),
        (0.1, Decimal("0.1")),  # ccxt's floats print back as the strings they came from
        (2, Decimal(2)),
        ("1e-05", Decimal("0.00001")),
        (Decimal("0"), Decimal(0)),
    ],
)
def test_numbers_and_numeric_strings_are_read_exactly(value, expected):
    assert exact(value, "the price") == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("NaN", "is not a number"),
        (float("nan"), "is not finite"),
        (float("inf"), "is not finite"),
        ("Infinity", "is not a number"),
        ("1e400", "is absurdly large"),
        (LARGEST, "is absurdly large"),
        ("-1", "is negative"),
        (-0.5, "is negative"),
        (True, "is not a number (bool)"),
        ({"value": 1}, "is not a number (dict)"),
        ("<html>", "is not a number"),
        ("\uff11\uff10\uff10", "is not a number"),  # other scripts' digits
        ("1_000", "is not a number"),
        (None, "is missing"),
    ],
)
def test_anything_else_is_unreadable_and_says_which_field(value, why):
    with pytest.raises(BadValue) as raised:
        exact(value, "the free USDT balance")
    assert str(raised.value) == f"the free USDT balance {why}"
    assert isinstance(raised.value, GatewayError)


def test_signed_values_may_be_negative_and_optional_ones_missing():
    assert exact("-2.5", "the size of the position", signed=True) == Decimal("-2.5")
    assert optional(None, "the bid") is None
    with pytest.raises(BadValue, match="is not finite"):
        exact(float("-inf"), "the unrealized PnL", signed=True)


def test_an_answer_must_be_a_dict_read_from_json():
    assert answer({"info": {}}, "the ticker") == {"info": {}}
    for raw in ("<html>", None, {"info": "<html>"}):
        with pytest.raises(BadValue, match="the ticker is not an answer"):
            answer(raw, "the ticker")


ORDER = {"id": "1", "side": "buy", "price": "3300", "amount": "0.1", "filled": "0.1"}


@pytest.mark.parametrize("status", ["closed", "canceled", "expired", "open", None])
def test_known_statuses_are_read(status):
    report = report_of({**ORDER, "status": status}, "app-1", "ETH/USDT")
    assert report.filled == Decimal("0.1")


def test_an_unknown_status_is_unreadable_never_rejected():
    with pytest.raises(BadValue, match="the status of order app-1 is one the app does not"):
        report_of({**ORDER, "status": "PARTIALLY_FILLED_SOMEHOW"}, "app-1", "ETH/USDT")


def test_a_nan_fill_price_of_an_order_is_unreadable():
    with pytest.raises(BadValue, match="the average price of order app-1 is not a number"):
        report_of({**ORDER, "status": "closed", "average": "NaN"}, "app-1", "ETH/USDT")


def _trade(fee_asset: str, fee: str = "0.5") -> dict:
    return {
        "id": "t1",
        "order": "o1",
        "symbol": "ETH/USDT",
        "side": "buy",
        "price": "3000",
        "amount": "0.1",
        "fee": {"cost": fee, "currency": fee_asset},
        "timestamp": 1_796_000_000_000,
        "info": {},
    }


@pytest.mark.parametrize(
    ("asset", "fee_quote"),
    [("USDT", Decimal("0.5")), ("ETH", Decimal("1500")), ("MX", Decimal("1.5"))],
)
def test_a_fee_is_valued_at_the_price_of_the_asset_it_was_paid_in(asset, fee_quote):
    fill = fill_of(_trade(asset), "td1", {"MX": Decimal(3)})
    assert (fill.fee_asset, fill.fee_quote) == (asset, fee_quote)


def test_a_fee_in_a_third_asset_of_unknown_price_is_never_guessed():
    with pytest.raises(BadValue, match="in BNB, whose price is unknown"):
        fill_of(_trade("BNB"), "td1", {"MX": Decimal(3)})
