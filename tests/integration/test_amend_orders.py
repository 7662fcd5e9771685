"""Moving a working order's price (`amend`, cancel and replace through the gate), through
the real command line (in this process), the real ccxt client and the emulator over HTTP,
in LIVE and SIM.

Each test ends by checking the invariants the feature is for:
- never two working orders of the app's on the symbol: the replacement is sent only once
  the exchange says the old order is no longer open;
- a refusal (unknown id, bad price, LIVE not confirmed, a halted book, the cap) sends and
  cancels nothing: the old order still rests at its old price;
- what the old order filled before its cancel enters the ledger once, and only its rest is
  replaced;
- the replacement's intent is committed before anything is sent, and one that is not sent
  is recorded so (no intent is left unresolved).
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.domain import Mode, Origin, PositionState, TradeSize
from core.store import protection
from core.store.books import BookKey
from core.store.models import Order
from core.trading import checkpoints
from tests.integration.test_working_orders import eth_ledger, listed, mid, rest_a_live_buy
from tests.pausing import Paused, in_thread

ETH = "ETH/USDT"
LIVE = BookKey("live", "default")


def amend(cli, order_id: str, price, *flags: str, **extra: str) -> tuple[int, dict | str, str]:
    code, out, err = cli("amend", order_id, "--price", str(price), *flags, "--json", **extra)
    return code, (json.loads(out) if code in (0, 1) and out else out), err


def orders_by_status(engine) -> dict[str, str]:
    with engine.db.session() as session:
        return {o.client_order_id: o.status for o in session.scalars(select(Order))}


def open_prices(control) -> list[Decimal]:
    return [Decimal(o["price"]) for o in control.account()["open_orders"]]


def test_live_amend_moves_the_working_order(cli, control, engine_of):
    price, result = rest_a_live_buy(cli, control)
    [old] = result["working"]
    new_price = price - 25
    code, moved, err = amend(cli, old, new_price, "--live", "--yes")
    assert code == 0, (moved, err)
    assert moved["ok"] and moved["old"] == old and moved["new"] != old
    assert f"from {price:,.2f} to {new_price:,.2f}" in moved["message"]
    # Invariant: one working order of ours, at the new price, with the same rest.
    assert open_prices(control) == [new_price]
    [row] = listed(cli, "--live")
    assert row["id"] == moved["new"] and Decimal(row["price"]) == new_price
    engine = engine_of()
    statuses = orders_by_status(engine)
    assert statuses == {old: "canceled", moved["new"]: "open"}
    with engine.db.session() as session:
        amounts = {o.client_order_id: o.amount for o in session.scalars(select(Order))}
    assert amounts[old] == amounts[moved["new"]]
    kinds = [e.kind for e in engine.service.events.events(None, Mode.LIVE)]
    assert kinds.count("order_amended") == 1
    # the moved order is the trader's working order like any: the check leaves it alone
    view = engine_of(SYNC_POLICY="enforce").service.monitoring.periodic_check()
    assert ETH not in view.drift and open_prices(control) == [new_price]


def test_amend_refusals_send_and_cancel_nothing(cli, control, engine_of):
    price, result = rest_a_live_buy(cli, control)
    [old] = result["working"]
    engine = engine_of()
    before = orders_by_status(engine)
    refusals = [
        (("td-no-such-order", "3000", "--live", "--yes"), {}, "no open order 'td-no-such-order'"),
        ((old, "3,000", "--live", "--yes"), {}, "has a comma"),
        ((old, "-5", "--live", "--yes"), {}, "above zero"),
        ((old, "3000", "--live"), {}, "needs --yes"),
        ((old, str(price), "--live", "--yes"), {}, "is already at"),
        ((old, str(price - 10), "--live", "--yes"), {"MAX_ORDER_NOTIONAL": "100"}, "above MAX_"),
        ((old, str(price * 40), "--live", "--yes"), {}, "more than the"),
        (("stop:ETH/USDT", "3000", "--live", "--yes"), {}, "is a stop"),
    ]
    for (order_id, new_price, *flags), extra, words in refusals:
        code, out, err = amend(cli, order_id, new_price, *flags, **extra)
        assert code == 2 and words in err, (order_id, new_price, out, err)
        # Invariant: nothing sent, nothing cancelled, nothing recorded.
        assert open_prices(control) == [price], words
        assert orders_by_status(engine) == before, words
    with engine.db.session() as session:
        protection.halt(session, LIVE, "trading halted by flatten at 10:00:00 UTC; resume")
    code, _, err = amend(cli, old, price - 10, "--live", "--yes")
    assert code == 2 and "trading halted by flatten" in err
    assert open_prices(control) == [price] and orders_by_status(engine) == before
    with engine.db.session() as session:
        protection.resume(session, LIVE)
    # a page that showed LIVE, after the dashboard switched to SIM, moves nothing
    assert engine.service.modes.request(Mode.SIM).ok
    refused = engine.service.orders.amend(old, price - 10, origin=Origin.MANUAL, made_in=Mode.LIVE)
    assert refused.refused and "the dashboard is in SIM now" in refused.message
    assert open_prices(control) == [price] and orders_by_status(engine) == before


def test_an_order_partly_filled_before_the_amend_is_replaced_for_its_rest(cli, control, engine_of):
    price = (mid(control) * Decimal("0.98")).quantize(Decimal("0.01"))
    code, out, err = cli(
        "trade", ETH, "--target", "LONG", "--qty", "2", "--limit-price", str(price),
        "--live", "--yes", "--json",
    )  # fmt: skip
    assert code == 0, (out, err)
    [old] = json.loads(out)["working"]
    # the best ask comes down to the order's price; the next level is above it: part fills
    control.set_price("ETHUSDT", str(price - Decimal("0.5")))
    [still] = control.account()["open_orders"]
    filled = Decimal(still["executedQty"] if "executedQty" in still else still["filled"])
    assert 0 < filled < 2, still
    control.set_price("ETHUSDT", str(price + 40))  # away again: nothing more fills
    code, moved, err = amend(cli, old, price - 30, "--live", "--yes")
    assert code == 0, (moved, err)
    assert Decimal(moved["filled_before_cancel"]) == filled
    assert "before its cancel" in moved["message"]
    [rest] = control.account()["open_orders"]
    assert Decimal(rest["price"]) == price - 30
    engine = engine_of()
    with engine.db.session() as session:
        new = session.scalar(select(Order).where(Order.client_order_id == moved["new"]))
        assert new.amount == 2 - filled and new.status == "open"
    # Invariant: the fill before the cancel is in the ledger once, with its own origin.
    entries = eth_ledger(engine)
    assert sum(e.change for e in entries) == filled and {e.origin for e in entries} == {"cli"}


def test_an_order_filled_before_the_amend_is_not_replaced(cli, control, engine_of):
    price, result = rest_a_live_buy(cli, control)
    [old] = result["working"]
    engine = engine_of()
    pause = Paused("locked")
    # the amend holds the lock, the market falls through the order before its cancel
    with checkpoints.listening(pause):
        outcome: dict = {}
        thread = in_thread(
            lambda: outcome.setdefault(
                "amended", engine.service.orders.amend(old, price - 25, Mode.LIVE)
            )
        )
        assert pause.reached.wait(30)
        control.set_price("ETHUSDT", str(price - 20))
        assert control.account()["open_orders"] == []
        pause.release()
        thread.join(30)
    amended = outcome["amended"]
    assert amended.ok and amended.new is None and "nothing is left" in amended.message
    assert control.account()["open_orders"] == []  # no replacement for the filled part
    statuses = orders_by_status(engine)
    assert statuses[old] == "filled"
    assert sorted(statuses.values()) == ["filled", "rejected"]  # the intent, never sent
    assert len(eth_ledger(engine)) >= 1


def test_sim_amend_moves_the_paper_order(cli, control, engine_of):
    price = (mid(control) * Decimal("0.97")).quantize(Decimal("0.01"))
    code, out, err = cli(
        "trade", ETH, "--target", "LONG", "--size-quote", "400", "--limit-price", str(price),
        "--json",
    )  # fmt: skip
    assert code == 0, (out, err)
    [old] = json.loads(out)["working"]
    code, moved, err = amend(cli, old, price + 5)
    assert code == 0, (moved, err)
    [row] = listed(cli)
    assert row["id"] == moved["new"] and Decimal(row["price"]) == price + 5
    assert orders_by_status(engine_of(sim=True)) == {old: "canceled", moved["new"]: "open"}


@pytest.mark.parametrize("other", ["flatten", "click"])
def test_amend_paused_while_another_actor_runs(cli, control, engine_of, other):
    """Invariant: whatever runs beside an amend, the symbol ends with at most one working
    order of the app's, and nothing is sent after a halt. Flatten (halting the book) runs
    while the amend is paused after its cancel, before its replacement: the replacement is
    not sent (its intent recorded as not sent) and flatten leaves no open order. A click on
    the symbol (a new priced BUY) runs while the amend waits before the lock: the click
    replaces the order, and the amend finds it no longer working and sends nothing."""
    price, result = rest_a_live_buy(cli, control)
    [old] = result["working"]
    engine = engine_of()
    service = engine.service
    point = "replacing" if other == "flatten" else "before-lock"
    paused, go, other_waits = threading.Event(), threading.Event(), threading.Event()

    def listen(at: str, where: dict) -> None:
        if at == point and where.get("origin") == "cli" and not go.is_set():
            paused.set()
            go.wait(30)
        if at == "before-lock" and where.get("origin") == "flatten":
            other_waits.set()  # the book is halted; flatten waits for the amend's lock

    outcome: dict = {}
    with checkpoints.listening(listen):
        amending = threading.Thread(
            target=lambda: outcome.setdefault(
                "amended", service.orders.amend(old, price - 25, Mode.LIVE)
            )
        )
        amending.start()
        assert paused.wait(30), "the amend never reached its checkpoint"
        if other == "flatten":
            flattening = threading.Thread(
                target=lambda: outcome.setdefault(
                    "flatten", service.kill_switch.flatten(["default"], Mode.LIVE)
                )
            )
            flattening.start()
            assert other_waits.wait(30)
            go.set()
            amending.join(30)
            flattening.join(90)
        else:
            click_price = price - 40
            outcome["click"] = service.trading.trade(
                ETH, PositionState.LONG, TradeSize(quote_amount=Decimal(300)),
                shown_mode=Mode.LIVE, limit_price=click_price,
            )  # fmt: skip
            go.set()
            amending.join(30)
    amended = outcome["amended"]
    assert not amended.ok and amended.new is None, amended
    statuses = orders_by_status(engine)
    assert "intent" not in statuses.values() and "unknown" not in statuses.values()
    working = [o for o in control.account()["open_orders"]]
    if other == "flatten":
        assert "halted" in amended.message
        assert working == []
        assert sorted(statuses.values()) == ["canceled", "rejected"]
        service.kill_switch.resume("default", Mode.LIVE)
    else:
        assert outcome["click"].ok and amended.refused and "no longer working" in amended.message
        assert [Decimal(o["price"]) for o in working] == [price - 40]
        assert statuses[old] == "canceled" and "rejected" not in statuses.values()
    assert len(working) <= 1
