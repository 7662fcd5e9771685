"""Stops the exchange keeps, through the app's own gateway: the real ccxt `bybit` (trading-stop
on the position) and `binanceusdm` (closePosition algo orders) against the emulator's
dialects over HTTP. The exchange fires them on its own; the app places, reads and removes
them, and a normal sync leaves them alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain import ExchangeStop, Side, StopKind
from core.exchange.gateway import GatewayError, OrderRejected
from core.exchange.venues import StopsAt, venue
from emulator.control_client import ControlClient

DIALECTS = ["bybit", "binanceusdm"]
BTC = "BTC/USDT:USDT"
SL, TP = StopKind.STOP_LOSS, StopKind.TAKE_PROFIT
WRONG_SIDE = {"bybit": "should lower than base_price", "binanceusdm": "would immediately trigger"}


def hold(venues, gateway, dialect: str, size: str) -> Decimal:
    """Open a BTC position of `size` (signed) on the exchange; returns the mark price."""
    ControlClient(venues[dialect].url).set_positions(
        {"BTCUSDT": {"size": size, "entry_price": "97000", "leverage": "5"}}
    )
    held = gateway.position(BTC, "acct")
    assert held.qty == Decimal(size)
    return held.mark_price


def bracket(mark: Decimal, qty: Decimal) -> tuple[Decimal, Decimal]:
    """A stop-loss and a take-profit 5% either side of the mark, off the price step."""
    lower, upper = (
        mark * Decimal("0.95") + Decimal("0.04"),
        mark * Decimal("1.05") + Decimal("0.04"),
    )
    return (lower, upper) if qty > 0 else (upper, lower)


def legs(stops) -> set[tuple[StopKind, Decimal]]:
    return {(s.kind, s.trigger_price) for s in stops}


def rest_a_plain_order(gateway, mark: Decimal) -> None:
    """A plain LIMIT buy far below the market: it rests."""
    gateway.place_limit_order(
        BTC, Side.BUY, Decimal("0.01"), (mark * Decimal("0.8")).quantize(1), "plain-1"
    )


@pytest.mark.parametrize("size", ["0.01", "-0.02"], ids=["long", "short"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_stops_are_placed_rounded_and_read_back(venues, gateways, dialect, size):
    gateway = gateways[dialect]
    mark = hold(venues, gateway, dialect, size)
    stop_loss, take_profit = bracket(mark, Decimal(size))

    placed = gateway.place_stops(BTC, Decimal(size), stop_loss, take_profit, "acct")

    rounded = {(SL, stop_loss.quantize(Decimal("0.1"))), (TP, take_profit.quantize(Decimal("0.1")))}
    assert legs(placed) == rounded  # to the market's 0.1 tick, through ccxt
    assert all(s.close_position and s.size is None and s.account == "acct" for s in placed)
    read = gateway.stops("acct", BTC)
    assert legs(read) == rounded
    assert {s.exchange_id for s in read} == {s.exchange_id for s in placed}
    if venue(dialect).stops is StopsAt.POSITION:
        assert {s.exchange_id for s in read} == {"position"}
    else:
        assert len({s.exchange_id for s in read}) == 2  # one algo order per leg
    snapshot = gateway.snapshot("acct")
    assert legs(snapshot.stops) == rounded
    assert snapshot.open_orders == {}  # stops are not plain open orders
    assert gateway.stops("acct", "ETH/USDT:USDT") == ()


@pytest.mark.parametrize(
    ("size", "crossed"),
    [("0.01", SL), ("0.01", TP), ("-0.02", SL), ("-0.02", TP)],
    ids=["long-stop-loss", "long-take-profit", "short-stop-loss", "short-take-profit"],
)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_exchange_closes_the_position_when_the_price_crosses_a_stop(
    venues, gateways, dialect, size, crossed
):
    gateway = gateways[dialect]
    mark = hold(venues, gateway, dialect, size)
    stop_loss, take_profit = bracket(mark, Decimal(size))
    placed = gateway.place_stops(BTC, Decimal(size), stop_loss, take_profit, "acct")
    trigger = next(s.trigger_price for s in placed if s.kind is crossed)
    beyond = trigger + (Decimal(50) if trigger > mark else Decimal(-50))

    ControlClient(venues[dialect].url).set_price("BTCUSDT", str(beyond))  # the app does nothing

    assert gateway.position(BTC, "acct").qty == 0
    assert gateway.snapshot("acct").positions == ()
    left = gateway.stops("acct", BTC)  # Bybit drops both; Binance's other leg stays, harmless
    assert all(s.kind is not crossed for s in left)
    assert gateway.cancel_stops(BTC) == len(left)
    assert gateway.stops("acct") == ()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cancel_stops_removes_every_stop_of_the_symbol_and_no_plain_order(
    venues, gateways, dialect
):
    gateway = gateways[dialect]
    mark = hold(venues, gateway, dialect, "0.01")
    gateway.place_stops(BTC, Decimal("0.01"), *bracket(mark, Decimal("0.01")), "acct")
    partial = gateway.client.create_order(
        BTC,
        "market",
        "sell",
        0.005,
        None,
        {"stopLossPrice": float(mark * Decimal("0.9")), "reduceOnly": True},
    )
    rest_a_plain_order(gateway, mark)
    read = gateway.stops("acct", BTC)
    assert len(read) == 3
    assert (
        ExchangeStop(
            "acct",
            BTC,
            SL,
            mark * Decimal("0.9"),
            str(partial["id"]),
            close_position=False,
            size=Decimal("0.005"),
        )
        in read
    )

    assert gateway.cancel_stops(BTC) == 3

    assert gateway.stops("acct") == ()
    assert gateway.snapshot("acct").open_orders == {BTC: 1}
    assert gateway.position(BTC, "acct").qty == Decimal("0.01")
    assert gateway.cancel_stops(BTC) == 0


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_normal_sync_cancels_plain_orders_and_leaves_the_stops(venues, gateways, dialect):
    gateway = gateways[dialect]
    mark = hold(venues, gateway, dialect, "-0.02")
    placed = gateway.place_stops(BTC, Decimal("-0.02"), *bracket(mark, Decimal("-0.02")), "acct")
    rest_a_plain_order(gateway, mark)

    assert gateway.snapshot("acct").open_orders == {BTC: 1}

    gateway.cancel_open_orders(BTC)

    assert legs(gateway.stops("acct", BTC)) == legs(placed)
    assert gateway.snapshot("acct").open_orders == {}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_stop_on_the_wrong_side_is_refused_in_words_and_nothing_stays(venues, gateways, dialect):
    gateway = gateways[dialect]
    mark = hold(venues, gateway, dialect, "0.01")
    above = mark * Decimal("1.01")

    with pytest.raises(OrderRejected, match=WRONG_SIDE[dialect]) as refused:
        gateway.place_stops(BTC, Decimal("0.01"), above, None, "acct")  # a long's stop above
    assert str(refused.value).startswith(f"placing stops on {BTC}: ")
    with pytest.raises(OrderRejected, match=WRONG_SIDE[dialect].replace("lower", "higher")):
        # the stop-loss is fine, the take-profit below the mark is not: neither stays
        gateway.place_stops(
            BTC, Decimal("0.01"), mark * Decimal("0.9"), mark * Decimal("0.99"), "acct"
        )

    assert gateway.stops("acct") == ()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_stops_need_a_position_and_a_price(venues, gateways, dialect):
    gateway = gateways[dialect]
    with pytest.raises(GatewayError, match="no position to protect"):
        gateway.place_stops(BTC, Decimal(0), Decimal(90000), None, "acct")
    with pytest.raises(GatewayError, match="neither a stop-loss nor a take-profit"):
        gateway.place_stops(BTC, Decimal("0.01"), None, None, "acct")


def test_spot_keeps_no_stops_on_the_exchange(gateways):
    spot = gateways["mexc"]
    assert spot.market.venue.stops is StopsAt.APP
    with pytest.raises(GatewayError, match="MEXC keeps no stops through its API"):
        spot.place_stops("ETH/USDT", Decimal("0.5"), Decimal(3000), None, "acct")
    assert spot.stops("acct") == ()
    assert spot.cancel_stops("ETH/USDT") == 0
    assert spot.snapshot("acct").stops is None
    with pytest.raises(GatewayError, match="spot exchange"):
        spot.position("ETH/USDT", "acct")
