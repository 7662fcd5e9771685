"""Replacing a stop the exchange keeps (Bybit trading-stop, Binance USD-M algo orders), through
the service against the emulator over HTTP: the new stop is placed before the old one goes, so
a placement the exchange refuses leaves the old stop, and whatever fails, the record says what
the exchange keeps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain import StopKind
from core.store import protection as stops
from core.store import repository as repo
from emulator.control_client import ControlClient

D = Decimal
BTC = "BTC/USDT:USDT"
DIALECTS = ["bybit", "binanceusdm"]
SL, TP = StopKind.STOP_LOSS, StopKind.TAKE_PROFIT
PLACE = {"bybit": "/v5/position/trading-stop", "binanceusdm": "/fapi/v1/algoOrder"}
CANCEL_ONE = {
    "bybit": ("POST", "/v5/order/cancel"),
    "binanceusdm": ("DELETE", "/fapi/v1/algoOrder"),
}
CANCEL_ALL = {
    "bybit": ("POST", "/v5/position/trading-stop"),
    "binanceusdm": ("DELETE", "/fapi/v1/algoOpenOrders"),
}


@pytest.fixture
def protected(venues, tmp_path, make_engine):
    """(service, gateway, control, price) for a dialect's account holding 0.5 BTC long."""

    def make(dialect: str):
        control = ControlClient(venues[dialect].url)
        control.reset()
        control.set_positions({"BTCUSDT": {"size": "0.5", "entry_price": "60000", "leverage": "5"}})
        path = tmp_path / "accounts.toml"
        path.write_text(
            f'[[accounts]]\nname = "{dialect}"\nexchange = "{dialect}"\n'
            f'url = "{venues[dialect].url}"\napi_key = "demo-key"\napi_secret = "demo-secret"\n'
        )
        engine = make_engine(ACCOUNTS_FILE=str(path))
        price = D(control.account()["positions"]["BTCUSDT"]["mark_price"]).quantize(D(1))
        return engine, engine.service.wiring.link(dialect).gateway, control, price

    return make


def legs(held) -> set[tuple[StopKind, Decimal]]:
    return {(s.kind, s.trigger_price) for s in held}


def recorded(engine, dialect: str) -> stops.StoredStop:
    with engine.db.session() as session:
        [stop] = stops.live_stops(session, repo.BookKey("live", dialect))
    return stop


def fail(control: ControlClient, method: str, path: str, mode: str = "http_500") -> None:
    control.faults({"fail": {"method": method, "path": path, "mode": mode}})


@pytest.mark.parametrize("both_legs", [False, True], ids=["stop-loss", "stop-loss-and-take-profit"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_replace_leaves_exactly_the_new_stop(protected, dialect, both_legs):
    engine, gateway, _, price = protected(dialect)
    protection = engine.service.protection
    assert protection.protect(
        BTC, account=dialect, stop_loss=price - 1000, take_profit=price + 1000
    ).ok
    asked = {"stop_loss": price - 2000, "take_profit": price + 2000 if both_legs else None}

    outcome = protection.protect(BTC, account=dialect, **asked)

    assert outcome.ok, outcome.message
    held = gateway.stops(dialect, BTC)
    assert legs(held) == {(SL, price - 2000)} | ({(TP, price + 2000)} if both_legs else set())
    stop = recorded(engine, dialect)
    assert (stop.status, stop.stop_loss, stop.take_profit) == (
        stops.ACTIVE,
        price - 2000,
        asked["take_profit"],
    )
    assert sorted(stop.exchange_ids) == sorted(s.exchange_id for s in held)


@pytest.mark.parametrize("fault", ["http_429", "http_500"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_refused_replacement_leaves_the_old_stop_and_records_it(protected, dialect, fault):
    engine, gateway, control, price = protected(dialect)
    protection = engine.service.protection
    assert protection.protect(BTC, account=dialect, stop_loss=price - 1000).ok
    before = gateway.stops(dialect, BTC)
    fail(control, "POST", PLACE[dialect], fault)

    outcome = protection.protect(BTC, account=dialect, stop_loss=price - 2000)

    assert not outcome.ok
    assert "replacing the stop failed" in outcome.message
    assert f"the exchange keeps stop-loss {price - 1000:,}" in outcome.message
    if fault == "http_429":  # the exchange is busy, not down
        assert "too many" in outcome.message and "unreachable" not in outcome.message
    assert gateway.stops(dialect, BTC) == before
    stop = recorded(engine, dialect)
    assert (stop.status, stop.stop_loss) == (stops.ACTIVE, price - 1000)
    assert stop.exchange_ids == tuple(s.exchange_id for s in before)
    assert "replacing the stop failed" in stop.message


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_refused_first_stop_is_recorded_as_refused(protected, dialect):
    engine, gateway, control, price = protected(dialect)
    fail(control, "POST", PLACE[dialect])

    outcome = engine.service.protection.protect(BTC, account=dialect, stop_loss=price - 1000)

    assert not outcome.ok and "the exchange keeps no stop" in outcome.message
    assert gateway.stops(dialect, BTC) == ()
    stop = recorded(engine, dialect)
    assert (stop.status, stop.stop_loss, stop.exchange_ids) == (stops.REFUSED, price - 1000, ())


@pytest.mark.parametrize("dialect", DIALECTS)
def test_an_old_stop_that_cannot_be_removed_is_recorded_beside_the_new_one(protected, dialect):
    engine, gateway, control, price = protected(dialect)
    protection = engine.service.protection
    assert protection.protect(BTC, account=dialect, stop_loss=price - 1000).ok
    partial = gateway.client.create_order(  # a stop for part of the position, set elsewhere
        BTC, "market", "sell", 0.1, None, {"stopLossPrice": float(price - 1500), "reduceOnly": True}
    )
    fail(control, *CANCEL_ONE[dialect])

    outcome = protection.protect(BTC, account=dialect, stop_loss=price - 2000)

    assert not outcome.ok and "removing stops" in outcome.message
    held = gateway.stops(dialect, BTC)
    assert (SL, price - 2000) in legs(held)  # the new stop is in place
    assert str(partial["id"]) in {s.exchange_id for s in held}  # the old one stayed
    stop = recorded(engine, dialect)
    assert (stop.status, stop.stop_loss) == (stops.ACTIVE, price - 2000)
    assert sorted(stop.exchange_ids) == sorted(s.exchange_id for s in held)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_removal_that_fails_keeps_the_record_of_the_stop_still_held(protected, dialect):
    engine, gateway, control, price = protected(dialect)
    protection = engine.service.protection
    assert protection.protect(BTC, account=dialect, stop_loss=price - 1000).ok
    fail(control, *CANCEL_ALL[dialect])

    outcome = protection.clear(BTC, account=dialect)

    assert not outcome.ok and "removing the stop failed" in outcome.message
    held = gateway.stops(dialect, BTC)
    assert legs(held) == {(SL, price - 1000)}
    stop = recorded(engine, dialect)
    assert (stop.status, stop.stop_loss) == (stops.ACTIVE, price - 1000)
    assert stop.exchange_ids == tuple(s.exchange_id for s in held)

    assert protection.clear(BTC, account=dialect).ok  # without the fault it goes
    assert gateway.stops(dialect, BTC) == ()
