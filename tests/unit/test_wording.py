"""Amounts in sentences at the market's precision: the trade names its fee and the asset it
was paid in; a holding changed outside the app reads before → after and what it was worth."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from core import wording
from core.domain import Balance, ExternalChange, Fill, Holdings, MarketRules, Side

T0 = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
ETH = MarketRules(
    symbol="ETH/USDT",
    base="ETH",
    quote="USDT",
    amount_step=D("0.00001"),
    price_step=D("0.01"),
    min_amount=D("0.00001"),
    min_cost=D("1"),
    max_cost=None,
    taker_fee=D("0.0002"),
    maker_fee=D("0"),
)


def fill(side, qty, price, fee, fee_asset, n=1) -> Fill:
    return Fill("ETH/USDT", side, D(qty), D(price), D(fee), fee_asset, D(0), f"t{n}", "c1", T0)


def test_a_buy_names_its_fee_in_the_base_it_was_taken_from():
    """0.59339 bought less 0.000118678 taken = 0.593271322 held: the fee to the nearest
    step, so what the toast says adds up to the 0.59327 the table shows."""
    fills = [
        fill(Side.BUY, "0.3", "3400.10", "0.00006", "ETH", 1),
        fill(Side.BUY, "0.29339", "3400.5912", "0.000058678", "ETH", 2),
    ]
    assert wording.traded(fills, ETH) == ["bought 0.59339 ETH at 3,400.34 avg, fee 0.00012 ETH"]


@pytest.mark.parametrize(
    ("fee", "asset", "words"),
    [
        ("2.0134", "USDT", "fee 2.01 USDT"),
        ("0.5", "MX", "fee 0.5 MX"),
        ("0.000004", "USDT", "fee 0.000004 USDT"),
    ],
)
def test_a_sale_names_its_fee_in_whatever_asset_paid_it(fee, asset, words):
    [sold] = wording.traded([fill(Side.SELL, "0.59327", "3390", fee, asset)], ETH)
    assert sold == f"sold 0.59327 ETH at 3,390.00 avg, {words}"


def test_no_fee_no_words_about_it_and_fees_in_two_assets_are_both_named():
    assert wording.traded([fill(Side.BUY, "1", "3000", "0", "ETH")], ETH) == [
        "bought 1 ETH at 3,000.00 avg"
    ]
    two = [
        fill(Side.BUY, "1", "3000", "0.001", "ETH", 1),
        fill(Side.BUY, "1", "3000", "3", "MX", 2),
    ]
    assert wording.fee(two, ETH) == "0.001 ETH and 3 MX"


def test_what_is_held_after_a_trade_is_the_base_at_its_step():
    held = Holdings(Balance(D("0.593271234")), Balance(D("12.5")))
    assert wording.base_held(held, ETH) == "holds 0.59327 ETH"


def test_an_external_change_reads_before_after_and_its_value_at_the_mark():
    rules = MarketRules(**{**ETH.__dict__, "amount_step": D("0.001")})
    loss = ExternalChange("default", "ETH/USDT", D("0.882"), D("0.5"), D("3403.14"), T0)
    assert (
        wording.external_change(loss, rules)
        == "ETH holdings changed outside the app: 0.882 → 0.500, -1,300.00 USDT"
    )
    deposit = ExternalChange("default", "ETH/USDT", D("0"), D("1.25"), D("3000"), T0)
    assert wording.external_change(deposit, rules).endswith("0.000 → 1.250, +3,750.00 USDT")


def test_an_external_change_without_a_mark_or_rules_says_what_it_knows():
    change = ExternalChange("perps", "BTC/USDT:USDT", D("0.5"), D("0.25"), None, T0)
    assert wording.external_change(change, None) == (
        "BTC holdings changed outside the app: 0.5 → 0.25"
    )


@pytest.mark.parametrize(
    ("n", "words"),
    [(0, "0 events"), (1, "1 event"), (2, "2 events"), (7500, "7,500 events")],
)
def test_a_count_is_singular_for_one_and_grouped_in_thousands(n, words):
    assert wording.count(n, "event") == words
