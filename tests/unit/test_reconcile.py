"""The pure position monitor rules: diagnose the database against the exchange, plan the
repair, apply it. Property tests draw random books over several accounts and symbols and
check that one round of the adopt plan converges, that it is idempotent, and that the
tolerance and staleness boundaries sit exactly where the rules say."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.domain import (
    ActionKind,
    Discrepancy,
    DiscrepancyKind,
    ExchangePosition,
    Policy,
    RecordedPosition,
)
from core.monitoring.reconcile import apply, diagnose, plan

D = Decimal
NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
FIVE_MINUTES = timedelta(minutes=5)
PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None)

ACCOUNTS = ["default", "desk", "main"]
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "PEPE/USDT", "XRP/USDT", "ADA/USDT"]
ACTION_FOR = {
    DiscrepancyKind.ORPHAN_DB: ActionKind.CLOSE,
    DiscrepancyKind.ORPHAN_EXCHANGE: ActionKind.CREATE,
    DiscrepancyKind.QTY_MISMATCH: ActionKind.RESIZE,
    DiscrepancyKind.STALE_PRICE: ActionKind.REPRICE,
}


def scaled(places: int, low: int, high: int):
    """Decimals n * 10**-places, exactly as an exchange's steps produce them."""
    return st.integers(low, high).map(lambda n: D(n).scaleb(-places))


quantities = st.integers(0, 8).flatmap(lambda places: scaled(places, 1, 10**12))
prices = st.integers(0, 8).flatmap(lambda places: scaled(places, 1, 10**10))
amount_steps = st.sampled_from([D("1"), D("0.01"), D("0.0001"), D("0.000001"), D("0")])
stale_afters = st.integers(0, 3600).map(lambda s: timedelta(seconds=s))
price_ages = st.one_of(
    st.none(),
    st.integers(-60, 7200).map(lambda s: timedelta(seconds=s)),
    st.integers(0, 10**9).map(lambda us: timedelta(microseconds=us)),
)


@dataclass(frozen=True)
class Books:
    recorded: list[RecordedPosition]
    exchange: list[ExchangePosition]
    tolerances: dict[str, Decimal]
    stale_after: timedelta

    def diagnose(self, recorded=None) -> list[Discrepancy]:
        mine = self.recorded if recorded is None else recorded
        return diagnose(mine, self.exchange, self.tolerances, NOW, self.stale_after)


@st.composite
def books(draw) -> Books:
    """Random recorded and exchange books sharing a small key space, so every relation
    occurs: only in the database, only on the exchange, equal, within the tolerance, on its
    edge, just beyond it, anything at all; prices fresh, old, missing or from the future."""
    keys = draw(
        st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(SYMBOLS)), unique=True)
    )
    tolerances = draw(st.dictionaries(st.sampled_from(SYMBOLS), amount_steps))
    recorded, exchange = [], []
    for account, symbol in keys:
        where = draw(st.sampled_from(["db", "exchange", "both"]))
        held_qty = draw(quantities)
        if where != "db":
            mark = draw(st.one_of(st.none(), prices))
            exchange.append(ExchangePosition(account, symbol, held_qty, mark))
        if where == "exchange":
            continue
        tolerance = tolerances.get(symbol, D(0))
        relation = draw(st.sampled_from(["equal", "within", "edge", "beyond", "any"]))
        sign = draw(st.sampled_from([1, -1]))
        if relation == "equal":
            qty = held_qty
        elif relation == "within":
            qty = held_qty + sign * tolerance * draw(st.sampled_from([D(0), D("0.5"), D(1)]))
        elif relation == "edge":
            qty = held_qty + sign * tolerance
        elif relation == "beyond":
            qty = held_qty + sign * (tolerance + D("1e-12"))
        else:
            qty = draw(quantities)
        price = draw(st.one_of(st.none(), prices))
        age = draw(price_ages)
        price_time = None if age is None else NOW - age
        recorded.append(RecordedPosition(account, symbol, max(qty, D(0)), price, price_time))
    return Books(recorded, exchange, tolerances, draw(stale_afters))


def keyed(items) -> dict:
    return {(item.account, item.symbol): item for item in items}


# --- properties -----------------------------------------------------------------------


@PROPS
@given(books())
def test_one_round_of_the_adopt_plan_leaves_no_discrepancy(world):
    actions = plan(world.diagnose(), Policy.ADOPT)
    repaired = apply(world.recorded, actions, NOW)
    assert world.diagnose(repaired) == []


@PROPS
@given(books())
def test_after_adopt_the_database_holds_exactly_what_the_exchange_holds(world):
    repaired = keyed(apply(world.recorded, plan(world.diagnose(), Policy.ADOPT), NOW))
    held = keyed(world.exchange)
    assert repaired.keys() == held.keys()
    for key, position in repaired.items():
        tolerance = world.tolerances.get(key[1], D(0))
        assert abs(position.qty - held[key].qty) <= tolerance


@PROPS
@given(books())
def test_applying_the_plan_twice_equals_applying_it_once(world):
    actions = plan(world.diagnose(), Policy.ADOPT)
    once = apply(world.recorded, actions, NOW)
    assert apply(once, actions, NOW) == once


@PROPS
@given(books())
def test_a_second_round_plans_nothing(world):
    repaired = apply(world.recorded, plan(world.diagnose(), Policy.ADOPT), NOW)
    assert plan(world.diagnose(repaired), Policy.ADOPT) == []


@PROPS
@given(books())
def test_positions_without_a_discrepancy_are_left_exactly_as_they_were(world):
    touched = {(d.account, d.symbol) for d in world.diagnose()}
    repaired = keyed(apply(world.recorded, plan(world.diagnose(), Policy.ADOPT), NOW))
    for key, position in keyed(world.recorded).items():
        if key not in touched:
            assert repaired[key] is position


@PROPS
@given(books())
def test_the_report_policy_plans_nothing(world):
    assert plan(world.diagnose(), Policy.REPORT) == []
    assert apply(world.recorded, plan(world.diagnose(), Policy.REPORT), NOW) == sorted(
        keyed(world.recorded).values(), key=lambda p: (p.account, p.symbol)
    )


@PROPS
@given(books())
def test_each_discrepancy_kind_maps_to_its_action(world):
    found = world.diagnose()
    actions = plan(found, Policy.ADOPT)
    assert len(actions) == len(found)
    for discrepancy, action in zip(found, actions, strict=True):
        assert action.kind is ACTION_FOR[discrepancy.kind]
        assert action.reason is discrepancy.kind
        assert (action.account, action.symbol) == (discrepancy.account, discrepancy.symbol)
        if action.kind is ActionKind.CLOSE:
            assert (action.before_qty, action.after_qty) == (discrepancy.recorded_qty, D(0))
        elif action.kind is ActionKind.CREATE:
            assert action.before_qty is None
            assert action.after_qty == discrepancy.exchange_qty
        elif action.kind is ActionKind.RESIZE:
            assert (action.before_qty, action.after_qty) == (
                discrepancy.recorded_qty,
                discrepancy.exchange_qty,
            )
        else:
            assert action.before_qty == action.after_qty == discrepancy.recorded_qty
        if action.kind is not ActionKind.CLOSE:
            assert action.price == discrepancy.exchange_price


@PROPS
@given(books())
def test_every_key_is_classified_by_where_it_lives_and_how_far_apart(world):
    found = world.diagnose()
    keys = [(d.account, d.symbol) for d in found]
    assert keys == sorted(set(keys))
    mine, held = keyed(world.recorded), keyed(world.exchange)
    by_key = dict(zip(keys, found, strict=True))
    for key in mine.keys() | held.keys():
        kind = by_key[key].kind if key in by_key else None
        if key not in held:
            assert kind is DiscrepancyKind.ORPHAN_DB
        elif key not in mine:
            assert kind is DiscrepancyKind.ORPHAN_EXCHANGE
        else:
            beyond = abs(mine[key].qty - held[key].qty) > world.tolerances.get(key[1], D(0))
            assert (kind is DiscrepancyKind.QTY_MISMATCH) == beyond
            if not beyond:
                assert kind in (None, DiscrepancyKind.STALE_PRICE)


@PROPS
@given(books(), st.randoms(use_true_random=False))
def test_diagnosis_does_not_depend_on_the_order_rows_arrive_in(world, rng: random.Random):
    recorded, exchange = list(world.recorded), list(world.exchange)
    rng.shuffle(recorded)
    rng.shuffle(exchange)
    assert (
        diagnose(recorded, exchange, world.tolerances, NOW, world.stale_after) == world.diagnose()
    )


@PROPS
@given(
    held=quantities,
    tolerance=amount_steps.filter(lambda t: t > 0),
    sign=st.sampled_from([1, -1]),
    beyond=st.sampled_from([D("1e-12"), D("1e-8"), D("0.5")]),
)
def test_the_tolerance_is_inclusive_and_the_smallest_excess_is_a_mismatch(
    held, tolerance, sign, beyond
):
    exchange = [ExchangePosition("main", "ETH/USDT", held, D("3400"))]

    def kinds(recorded_qty: Decimal) -> list[DiscrepancyKind]:
        mine = [RecordedPosition("main", "ETH/USDT", recorded_qty, D("3400"), NOW)]
        return [
            d.kind for d in diagnose(mine, exchange, {"ETH/USDT": tolerance}, NOW, FIVE_MINUTES)
        ]

    assume(held + sign * (tolerance + beyond) > 0)  # through zero would be a side mismatch
    assert kinds(held + sign * tolerance) == []
    assert kinds(held + sign * (tolerance + beyond)) == [DiscrepancyKind.QTY_MISMATCH]


def test_a_long_recorded_where_the_exchange_holds_a_short_is_a_side_mismatch_resized_through_zero():
    mine = [RecordedPosition("bybit", "BTC/USDT:USDT", D("0.5"), D("60000"), NOW)]
    held = [
        ExchangePosition(
            "bybit",
            "BTC/USDT:USDT",
            D("-0.3"),
            D("61000"),
            entry_price=D("60500"),
            leverage=D(10),
            liquidation_price=D("66000"),
        )
    ]
    [found] = diagnose(mine, held, {"BTC/USDT:USDT": D("0.001")}, NOW, FIVE_MINUTES)
    assert found.kind is DiscrepancyKind.SIDE_MISMATCH
    assert (found.recorded_qty, found.exchange_qty) == (D("0.5"), D("-0.3"))
    [action] = plan([found], Policy.ADOPT)
    assert action.kind is ActionKind.RESIZE and action.after_qty == D("-0.3")
    assert (action.entry_price, action.leverage, action.liquidation_price) == (
        D("60500"),
        D(10),
        D("66000"),
    )
    assert (
        diagnose(apply(mine, [action], NOW), held, {"BTC/USDT:USDT": D("0.001")}, NOW, FIVE_MINUTES)
        == []
    )


@PROPS
@given(stale_after=stale_afters, age_beyond=st.integers(1, 10**6))
def test_a_price_exactly_stale_after_old_is_fresh_and_one_microsecond_more_is_stale(
    stale_after, age_beyond
):
    exchange = [ExchangePosition("main", "ETH/USDT", D("1"), D("3401"))]

    def kinds(age: timedelta) -> list[DiscrepancyKind]:
        mine = [RecordedPosition("main", "ETH/USDT", D("1"), D("3400"), NOW - age)]
        return [d.kind for d in diagnose(mine, exchange, {}, NOW, stale_after)]

    assert kinds(stale_after) == []
    assert kinds(stale_after + timedelta(microseconds=age_beyond)) == [DiscrepancyKind.STALE_PRICE]


# --- examples -------------------------------------------------------------------------


def test_the_desk_report_in_small_each_kind_once():
    recorded = [
        RecordedPosition("main", "ADA/USDT", D("100"), D("0.7"), NOW),  # gone from exchange
        RecordedPosition("main", "BTC/USDT", D("0.5"), D("97000"), NOW),  # wrong qty
        RecordedPosition("main", "ETH/USDT", D("2"), D("3000"), NOW - timedelta(hours=1)),
        RecordedPosition("main", "XRP/USDT", D("10"), D("2.2"), NOW),  # in sync
    ]
    exchange = [
        ExchangePosition("main", "BTC/USDT", D("0.25"), D("97100")),
        ExchangePosition("main", "ETH/USDT", D("2"), D("3400")),
        ExchangePosition("main", "SOL/USDT", D("3"), D("180")),  # unknown to the DB
        ExchangePosition("main", "XRP/USDT", D("10"), D("2.2")),
    ]
    found = diagnose(recorded, exchange, {"BTC/USDT": D("0.000001")}, NOW, FIVE_MINUTES)
    assert [(d.symbol, d.kind) for d in found] == [
        ("ADA/USDT", DiscrepancyKind.ORPHAN_DB),
        ("BTC/USDT", DiscrepancyKind.QTY_MISMATCH),
        ("ETH/USDT", DiscrepancyKind.STALE_PRICE),
        ("SOL/USDT", DiscrepancyKind.ORPHAN_EXCHANGE),
    ]
    repaired = apply(recorded, plan(found, Policy.ADOPT), NOW)
    assert repaired == [
        RecordedPosition("main", "BTC/USDT", D("0.25"), D("97100"), NOW),
        RecordedPosition("main", "ETH/USDT", D("2"), D("3400"), NOW),
        RecordedPosition("main", "SOL/USDT", D("3"), D("180"), NOW),
        RecordedPosition("main", "XRP/USDT", D("10"), D("2.2"), NOW),
    ]


def test_a_symbol_without_a_tolerance_must_match_exactly():
    recorded = [RecordedPosition("main", "ETH/USDT", D("1.00000001"), D("3400"), NOW)]
    exchange = [ExchangePosition("main", "ETH/USDT", D("1"), D("3400"))]
    [found] = diagnose(recorded, exchange, {}, NOW, FIVE_MINUTES)
    assert found.kind is DiscrepancyKind.QTY_MISMATCH
    assert diagnose(recorded, exchange, {"ETH/USDT": D("0.00001")}, NOW, FIVE_MINUTES) == []


def test_the_same_symbol_in_two_accounts_is_two_positions():
    recorded = [RecordedPosition("desk", "ETH/USDT", D("1"), D("3400"), NOW)]
    exchange = [ExchangePosition("main", "ETH/USDT", D("1"), D("3400"))]
    found = diagnose(recorded, exchange, {}, NOW, FIVE_MINUTES)
    assert [(d.account, d.kind) for d in found] == [
        ("desk", DiscrepancyKind.ORPHAN_DB),
        ("main", DiscrepancyKind.ORPHAN_EXCHANGE),
    ]


@pytest.mark.parametrize(
    ("price", "price_time", "mark", "stale"),
    [
        (None, None, D("3400"), True),  # never priced
        (D("3400"), None, D("3400"), True),  # price without a time
        (D("3400"), NOW - timedelta(hours=1), None, False),  # nothing fresher to take
        (D("3400"), NOW + timedelta(seconds=30), D("3400"), False),  # a clock ahead
    ],
)
def test_when_a_recorded_price_counts_as_stale(price, price_time, mark, stale):
    recorded = [RecordedPosition("main", "ETH/USDT", D("1"), price, price_time)]
    exchange = [ExchangePosition("main", "ETH/USDT", D("1"), mark)]
    found = diagnose(recorded, exchange, {}, NOW, FIVE_MINUTES)
    assert [d.kind for d in found] == ([DiscrepancyKind.STALE_PRICE] if stale else [])


def test_a_mismatch_with_a_stale_price_is_one_resize_that_also_reprices():
    recorded = [RecordedPosition("main", "ETH/USDT", D("1"), D("3000"), NOW - timedelta(days=1))]
    exchange = [ExchangePosition("main", "ETH/USDT", D("2"), D("3400"))]
    [action] = plan(diagnose(recorded, exchange, {}, NOW, FIVE_MINUTES), Policy.ADOPT)
    assert (action.kind, action.after_qty, action.price) == (ActionKind.RESIZE, D(2), D(3400))
    assert apply(recorded, [action], NOW) == [
        RecordedPosition("main", "ETH/USDT", D("2"), D("3400"), NOW)
    ]


def test_a_resize_without_a_mark_keeps_the_recorded_price_and_its_time():
    """Only a price the exchange gave is fresh: a quantity change alone does not make the
    recorded price new (as `--execute` writes it, see core.store.repairs.apply_actions)."""
    then = NOW - timedelta(hours=2)
    recorded = [RecordedPosition("main", "ETH/USDT", D("1"), D("3000"), then)]
    exchange = [ExchangePosition("main", "ETH/USDT", D("2"), None)]
    actions = plan(diagnose(recorded, exchange, {}, NOW, FIVE_MINUTES), Policy.ADOPT)
    assert apply(recorded, actions, NOW) == [replace(recorded[0], qty=D("2"))]


def test_nothing_recorded_and_nothing_held_is_in_sync():
    assert diagnose([], [], {}, NOW, FIVE_MINUTES) == []
    assert plan([], Policy.ADOPT) == []
    assert apply([], [], NOW) == []
