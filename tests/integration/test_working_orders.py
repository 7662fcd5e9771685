"""Priced orders that rest, and working orders with Cancel, through the real command line
(in this process), the real ccxt client and the emulator over HTTP, in LIVE and SIM.

Each test ends by checking the invariants the feature is for:
- a working order of the app's is never called drift, never cancelled by a check, in report,
  adopt or enforce, and enforce sends nothing for its symbol;
- a resting order that fills enters the ledger once, with the origin of who placed it, and
  the database then holds what the exchange holds (no transfer invented for it);
- a cancel, a new click on the symbol and the kill switch each leave no open order behind.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.domain import Mode, Origin, PositionState, TradeSize
from core.store import ledger
from core.store.books import BookKey
from core.store.models import LedgerEntry, Order, Position, utcnow
from core.trading import checkpoints
from tests.pausing import Paused, in_thread

LONG = PositionState.LONG
ETH = "ETH/USDT"


@pytest.fixture
def settings(demo_settings) -> dict[str, str]:
    return {**demo_settings, "RECV_WINDOW_MS": "1000"}


@pytest.fixture
def cli(cli, settings):
    """The shared command line with this module's receive window."""
    return lambda *args, **extra: cli(*args, **{**settings, **extra})


def mid(control) -> Decimal:
    book = control.call("GET", "/api/v3/ticker/bookTicker?symbol=ETHUSDT").json()
    return (Decimal(book["bidPrice"]) + Decimal(book["askPrice"])) / 2


def listed(cli, *flags: str) -> list[dict]:
    code, out, err = cli("orders", *flags, "--json")
    assert code == 0, err
    return json.loads(out)["orders"]


def eth_ledger(engine, mode: str = "live") -> list[LedgerEntry]:
    with engine.db.session() as session:
        rows = ledger.entries(session, BookKey(mode, "default"), ETH)
        session.expunge_all()
        return rows


def eth_position(engine, mode: str = "live") -> Position:
    with engine.db.session() as session:
        row = session.scalar(select(Position).where(Position.mode == mode, Position.symbol == ETH))
        session.expunge_all()
        return row


def rest_a_live_buy(cli, control) -> tuple[Decimal, dict]:
    price = (mid(control) * Decimal("0.95")).quantize(Decimal("0.01"))
    code, out, err = cli(
        "trade", ETH, "--target", "LONG", "--size-quote", "500", "--limit-price", str(price),
        "--live", "--yes", "--json",
    )  # fmt: skip
    assert code == 0, (out, err)
    return price, json.loads(out)


def test_live_limit_buy_rests_survives_every_policy_and_is_cancelled(cli, control, engine_of):
    price, result = rest_a_live_buy(cli, control)
    assert "LONG pending: BUY" in result["message"] and f"@ {price:,.2f}" in result["message"]
    assert len(result["working"]) == 1
    [open_order] = control.account()["open_orders"]
    assert Decimal(open_order["price"]) == price  # it rests at the trader's price
    [row] = listed(cli, "--live")
    assert row["id"] == result["working"][0] and row["placed_by"] == "app"
    assert Decimal(row["price"]) == price and Decimal(row["filled"]) == 0

    # Invariant: the check, whatever its policy, leaves a working order of the app's alone
    # (no drift, no cancel, no order sent by enforce).
    for policy in ("report", "adopt", "enforce"):
        engine = engine_of(SYNC_POLICY=policy)
        view = engine.service.monitoring.periodic_check()
        assert view is not None and ETH not in view.drift, (policy, view)
        assert len(control.account()["open_orders"]) == 1, policy
        with engine.db.session() as session:
            assert len(session.scalars(select(Order)).all()) == 1, policy
        assert eth_position(engine).sync_status == "in_sync", policy

    code, out, err = cli("cancel", row["id"], "--live", "--yes")
    assert code == 0, err
    assert "cancelled" in out
    kinds = [e.kind for e in engine_of().service.events.events(None, Mode.LIVE)]
    assert kinds.count("order_cancelled") == 1
    assert control.account()["open_orders"] == []
    assert listed(cli, "--live") == []
    # the cancelled target is no longer the trader's: enforce now buys nothing at the market
    engine = engine_of(SYNC_POLICY="enforce")
    view = engine.service.monitoring.periodic_check()
    assert ETH not in view.drift
    assert control.account()["open_orders"] == [] and eth_ledger(engine) == []


def test_live_cancel_refuses_unknown_ids_and_unconfirmed_cancels(cli, control):
    code, _, err = cli("cancel", "td-no-such-order", "--live", "--yes")
    assert code == 2 and "no open order 'td-no-such-order'" in err
    _, result = rest_a_live_buy(cli, control)
    code, _, err = cli("cancel", result["working"][0], "--live")
    assert code == 2 and "needs --yes" in err
    assert len(control.account()["open_orders"]) == 1  # nothing was sent


def test_live_resting_order_that_fills_is_in_the_ledger_once(cli, control, engine_of):
    price, result = rest_a_live_buy(cli, control)
    control.set_price("ETHUSDT", str(price - 20))  # the market falls through the order
    assert control.account()["open_orders"] == []
    engine = engine_of(SYNC_POLICY="adopt")
    for _ in range(3):  # settled by the first check; the others find it recorded
        view = engine.service.monitoring.periodic_check()
        assert ETH not in view.drift
    entries = eth_ledger(engine)
    # Invariant: one fill entry per exchange trade, with its origin, and no transfer.
    assert [e.kind for e in entries] == ["fill"] * len(entries) and entries
    assert {e.origin for e in entries} == {"cli"}
    assert len({e.entry_key for e in entries}) == len(entries)
    held = control.account()["balances"]["ETH"]
    position = eth_position(engine)
    assert position.qty == Decimal(held["free"]) + Decimal(held["locked"])
    assert position.state == "LONG" and position.target_state == "LONG"
    with engine.db.session() as session:
        order = session.scalar(select(Order).where(Order.client_order_id == result["working"][0]))
        assert order.status == "filled"


def test_a_new_click_replaces_the_working_order(cli, control, engine_of):
    _, first = rest_a_live_buy(cli, control)
    price = (mid(control) * Decimal("0.9")).quantize(Decimal("0.01"))
    code, out, err = cli(
        "trade", ETH, "--target", "LONG", "--size-quote", "300", "--limit-price", str(price),
        "--live", "--yes", "--json",
    )  # fmt: skip
    assert code == 0, err
    second = json.loads(out)
    assert second["replaced"] == first["working"]
    assert "replaced the working order BUY" in second["message"]
    [still] = control.account()["open_orders"]
    assert Decimal(still["price"]) == price
    assert [o["id"] for o in listed(cli, "--live")] == second["working"]
    engine = engine_of()
    with engine.db.session() as session:
        old = session.scalar(select(Order).where(Order.client_order_id == first["working"][0]))
        assert old.status == "canceled"


def test_flatten_cancels_working_orders(cli, control):
    rest_a_live_buy(cli, control)
    code, out, err = cli("flatten", "--live", "--yes")
    assert code == 0, (out, err)
    assert control.account()["open_orders"] == []
    assert listed(cli, "--live") == []
    cli("resume", "--live", "--yes")


def test_orders_placed_outside_the_app_are_listed_and_reported(cli, control, engine_of):
    engine = engine_of()
    client = engine.service.wiring.live_gateway().client
    price = (mid(control) * Decimal("0.9")).quantize(Decimal("0.01"))
    client.create_order(ETH, "limit", "buy", 0.05, float(price))
    [row] = listed(cli, "--live")
    assert row["placed_by"] == "outside"
    view = engine_of(SYNC_POLICY="report").service.monitoring.periodic_check()
    assert view is not None
    with engine.db.session() as session:
        from core.store import runs

        [run] = runs.monitor_runs(session, "live", 1)
    assert "1 order placed outside the app: ETH/USDT BUY 0.05" in run.message
    # the page lists it from what the check read (a database read), with the read's time
    read = engine.service.orders.outside(Mode.LIVE)
    [seen] = read.orders
    assert (seen.id, seen.placed_by.value, seen.price, seen.amount) == (
        row["id"], "outside", price, Decimal("0.05"),
    )  # fmt: skip
    assert read.read_at <= utcnow()
    assert engine.service.orders.outside(Mode.SIM) is None  # another book's read
    client.create_order(ETH, "limit", "buy", 0.06, float(price - 1))
    engine_of(SYNC_POLICY="report").service.monitoring.periodic_check()
    assert len(engine.service.orders.outside(Mode.LIVE).orders) == 2
    # a Cancel from the page's row goes through the gate and leaves the list at once
    engine.service.orders.cancel(seen.id, origin=Origin.MANUAL, made_in=Mode.LIVE)
    [left] = engine.service.orders.outside(Mode.LIVE).orders
    assert left.amount == Decimal("0.06")
    code, _, err = cli("cancel", "--symbol", "eth/usdt", "--live", "--yes")
    assert code == 0, err
    assert control.account()["open_orders"] == []
    assert engine.service.orders.outside(Mode.LIVE).orders == ()


def test_sim_limit_order_rests_then_fills_when_the_price_crosses(cli, control, engine_of):
    price = (mid(control) * Decimal("0.97")).quantize(Decimal("0.01"))
    code, out, err = cli(
        "trade", ETH, "--target", "LONG", "--size-quote", "400", "--limit-price", str(price),
        "--json",
    )  # fmt: skip
    assert code == 0, (out, err)
    result = json.loads(out)
    assert "LONG pending: BUY" in result["message"]
    [row] = listed(cli)
    assert row["placed_by"] == "app"
    engine = engine_of(sim=True)
    engine.service.trading.settle_working(Mode.SIM)
    assert eth_ledger(engine, "sim") == []  # not crossed yet: nothing filled
    control.set_price("ETHUSDT", str(price - 15))
    engine.service.monitoring.periodic_check()  # SIM: the paper account matches it
    assert listed(cli) == []
    entries = eth_ledger(engine, "sim")
    assert len(entries) == 1 and entries[0].origin == "cli" and entries[0].price == price
    told = [
        e.text for e in engine.service.events.events(None, Mode.SIM) if e.kind == "order_filled"
    ]
    assert len(told) == 1 and "working order ETH/USDT BUY" in told[0] and "filled" in told[0]
    engine.service.trading.settle_working(Mode.SIM)
    assert len(eth_ledger(engine, "sim")) == 1  # read again: recorded once
    position = eth_position(engine, "sim")
    assert position.qty == entries[0].change
    balances = engine.service.wiring.gateway(Mode.SIM).balances()
    assert balances["ETH"].total == entries[0].change
    assert balances["USDT"].locked == 0


def test_a_click_after_a_working_order_filled_records_its_fills_once(control, engine_of):
    """Invariant: a check paused after it read the account (it found the working order
    filled) and a click closing the symbol meanwhile record the order's fills once between
    them, with the order's own origin; the click's sale takes coins the ledger knows (no
    transfer is invented for them), and the database then holds what the exchange holds."""
    engine = engine_of(SYNC_POLICY="adopt")
    service = engine.service
    price = (mid(control) * Decimal("0.95")).quantize(Decimal("0.01"))
    rested = service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=Decimal(500)), mode=Mode.LIVE, origin=Origin.CLI,
        limit_price=price,
    )  # fmt: skip
    assert rested.ok and rested.working, rested.message
    control.set_price("ETHUSDT", str(price - 20))  # it fills on the exchange
    pause = Paused("before-lock")
    with checkpoints.listening(pause):
        check = in_thread(service.monitoring.periodic_check)
        assert pause.reached.wait(30), "the check never reached its lock"
        closed = service.trading.trade(ETH, PositionState.NO_POSITION, mode=Mode.LIVE)
        pause.release()
        check.join(30)
    assert closed.ok, closed.message
    service.monitoring.periodic_check()
    entries = eth_ledger(engine)
    assert {e.kind for e in entries} == {"fill"}
    assert len({e.entry_key for e in entries}) == len(entries)
    buys = [e for e in entries if e.side == "buy"]
    assert buys and {e.origin for e in buys} == {"cli"}
    assert {e.origin for e in entries if e.side == "sell"} == {"manual"}
    held = control.account()["balances"].get("ETH", {"free": "0", "locked": "0"})
    total = Decimal(held["free"]) + Decimal(held["locked"])
    assert sum(e.change for e in entries) == total == eth_position(engine).qty


def rest_an_order(cli, control, mode: tuple[str, ...], *args: str, factor: str) -> str:
    """The app's working order on ETH/USDT at `factor` times the mid; returns its id."""
    price = (mid(control) * Decimal(factor)).quantize(Decimal("0.01"))
    code, out, err = cli("trade", ETH, *args, "--limit-price", str(price), *mode, "--json")
    assert code == 0, (out, err)
    [working] = json.loads(out)["working"]
    return working


def intents_and_jobs(engine_of, sim: bool) -> tuple[list[tuple[str, str]], list]:
    from core.store import jobs

    with engine_of(sim=sim).db.session() as session:
        orders = [(o.client_order_id, o.status) for o in session.scalars(select(Order))]
        return sorted(orders), jobs.running_jobs(session)


@pytest.mark.parametrize("mode", [("--live", "--yes"), ()], ids=["live", "sim"])
def test_a_refused_trade_leaves_the_working_order_alone(cli, control, engine_of, mode):
    """Invariant: a trade that is refused (exit 2) sends nothing and cancels nothing: the
    app's working order on the symbol is still open on the exchange and still listed by
    `orders`, and no order intent, job or replaced order is left behind. A trade that is
    not refused still replaces it, and counts the funds it locks as the trader's."""
    sim = not mode
    working = rest_an_order(
        cli, control, mode, "--target", "LONG", "--size-quote", "500", factor="0.95"
    )
    before = intents_and_jobs(engine_of, sim)
    for args, words in [
        (("--target", "NO_POSITION", "--close-pct", "50"), "nothing to close a part of"),
        (("--target", "LONG", "--size-quote", "20000"), "above the free balance of"),
    ]:
        code, out, err = cli("trade", ETH, *args, *mode)
        assert code == 2 and words in err, (args, out, err)
        assert [o["id"] for o in listed(cli, *mode[:1])] == [working], args
        assert intents_and_jobs(engine_of, sim) == before, args
    if not sim:
        assert len(control.account()["open_orders"]) == 1
    # 9,800 is more than the free cash, not more than the cash once the order is cancelled
    code, out, err = cli("trade", ETH, "--target", "LONG", "--size-quote", "9800", *mode, "--json")
    assert code == 0, (out, err)
    assert json.loads(out)["replaced"] == [working]
    assert listed(cli, *mode[:1]) == []


@pytest.mark.parametrize("mode", [("--live", "--yes"), ()], ids=["live", "sim"])
def test_a_refused_part_leaves_a_working_sell_of_the_holding_alone(cli, control, engine_of, mode):
    """Invariant: with the holding locked in the app's working SELL, a part larger than the
    holding is refused without cancelling it; a part within the holding replaces it (the
    coins the SELL locks count as held, as after its cancel)."""
    sim = not mode
    code, out, err = cli("trade", ETH, "--target", "LONG", "--qty", "0.5", *mode)
    assert code == 0, (out, err)
    working = rest_an_order(cli, control, mode, "--target", "NO_POSITION", factor="1.05")
    before = intents_and_jobs(engine_of, sim)
    code, out, err = cli("trade", ETH, "--target", "NO_POSITION", "--close-qty", "5", *mode)
    assert code == 2 and "is more than the" in err, (out, err)
    assert [o["id"] for o in listed(cli, *mode[:1])] == [working]
    assert intents_and_jobs(engine_of, sim) == before
    code, out, err = cli(
        "trade", ETH, "--target", "NO_POSITION", "--close-qty", "0.1", *mode, "--json"
    )
    assert code == 0, (out, err)
    result = json.loads(out)
    assert result["replaced"] == [working] and result["after"] == "LONG"
    assert listed(cli, *mode[:1]) == []
