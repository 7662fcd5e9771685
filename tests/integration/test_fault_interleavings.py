"""The fault paths of the order path, paused while another actor acts: real ccxt against
the emulator over HTTP, a real SQLite database, a BUY held at one of the points only a
fault reaches (core.trading.checkpoints.FAULT_POINTS) while flatten, a click or the periodic
check runs beside it.

- `reading-again`: the BUY filled and the read of its fills failed; it is about to read
  them again.
- `confirming-absent`: the BUY's answer was lost and the exchange denies the order past the
  receive window (it filled); the app is about to read the open orders, fills and balance
  before it would ever send another.

After both actors end (and, where the BUY was left unknown, the next trade settled it),
these hold:
- no order is sent twice and exactly one BUY of the paused trade reached the exchange: a
  denied order is never re-sent while its fill is on the account;
- every order the exchange holds is recorded with its fills, none is left unknown, no job is
  left running;
- the database, the ledger and the account agree: the position is what the account holds,
  the ledger's entries add up to it, and the BUY's coins are fills, never a change found
  outside the app (the check that ran beside the BUY left the symbol to the next round);
- flatten waited for the BUY and closed what it bought; a click on the busy symbol was
  refused in words.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from core.domain import Mode, OrderStatus, PositionState, TradeSize
from core.store import jobs, ledger
from core.store import repository as repo
from core.trading import checkpoints
from tests.integration.test_gate_regressions import LIVE_BOOK, held, in_thread
from tests.integration.test_live_sync import (
    assert_database_matches_exchange,
    assert_never_twice,
    exchange_orders,
    live,  # noqa: F401 - the LIVE service fixture with short timeouts
)

D = Decimal
ETH = "ETH/USDT"
LONG = PositionState.LONG
SIZE = TradeSize(quote_amount=D(1000))
FAULTS = {
    "reading-again": [
        {"method": "GET", "path": "/api/v3/myTrades", "mode": "http_500", "count": 1},
    ],
    "confirming-absent": [
        {"method": "POST", "path": "/api/v3/order", "mode": "drop_response"},
        {"method": "GET", "path": "/api/v3/order", "mode": "order_not_found", "count": 999},
    ],
}
ACTORS = {
    "flatten": lambda engine: engine.service.kill_switch.flatten(["default"], Mode.LIVE),
    "click": lambda engine: engine.service.trading.trade(
        ETH, LONG, TradeSize(quote_amount=D(300)), shown_mode=Mode.LIVE
    ),
    "check": lambda engine: engine.service.monitoring.periodic_check(),
}


class Held:
    """Hold whichever thread first reaches `point` (the BUY's reads may run in a pool of
    its own; nothing else reaches a fault's point once the faults are lifted) until
    `release()`."""

    def __init__(self, point: str):
        self.point = point
        self.reached, self._go = threading.Event(), threading.Event()
        self._first = threading.Lock()

    def __call__(self, point, where):
        if point == self.point and self._first.acquire(blocking=False):
            self.reached.set()
            self._go.wait(30)

    def release(self):
        self._go.set()


def buy_paused_while(engine, control, point: str, actor: str) -> dict:
    """The BUY, with the fault that leads to `point`, held there while `actor` runs (up to
    two seconds: an actor that waits for the BUY's lock is still waiting when the BUY is let
    go); both run to their end. The faults are lifted once the BUY is held, so that what
    follows reads the exchange as it is."""
    out: dict = {}
    control.faults({"fail": FAULTS[point]})
    pause = Held(point)
    with checkpoints.listening(pause):
        buy = in_thread(
            lambda: out.setdefault("buy", engine.service.trading.trade(ETH, LONG, SIZE))
        )
        assert pause.reached.wait(30), f"the BUY never reached {point}"
        control.clear_faults()
        second = in_thread(lambda: out.setdefault(actor, ACTORS[actor](engine)), name=actor)
        second.join(2)
        out["waited"] = second.is_alive()
        pause.release()
        buy.join(60)
        second.join(60)
    assert not buy.is_alive() and not second.is_alive(), "an actor hung"
    return out


def buys_on_exchange(engine) -> list[dict]:
    return [o for o in exchange_orders(engine) if o["side"] == "buy" and o["filled"]]


def assert_the_books_add_up(engine, control) -> None:
    with engine.db.session() as session:
        running = jobs.running_jobs(session)
        unresolved = repo.unresolved_orders(session, LIVE_BOOK)
        entries = ledger.entries(session, LIVE_BOOK, ETH)
    assert running == [], f"jobs left running: {running}"
    assert unresolved == [], [o.client_order_id for o in unresolved]
    assert_never_twice(engine)
    assert_database_matches_exchange(engine, control)
    assert sum(e.change for e in entries) == held(control)
    assert [e.kind for e in entries if e.kind != ledger.FILL] == []  # the app's own coins


@pytest.mark.parametrize("actor", list(ACTORS))
def test_a_read_retried_after_the_fill_while_another_acts(live, control, actor):  # noqa: F811
    out = buy_paused_while(live, control, "reading-again", actor)
    assert out["buy"].ok, out["buy"].message  # the read was tried again, not the trade failed
    assert len(buys_on_exchange(live)) == 1
    if actor == "flatten":
        assert out["waited"], "flatten waits for the BUY whose fills are being read"
        [closed] = out["flatten"]
        assert closed.ok, closed.message
        assert held(control) * 3000 < 5, "flatten closed what the BUY bought"
    elif actor == "click":
        assert out["click"].refused and not out["waited"], out["click"].message
    else:
        assert ETH not in out["check"].drift and not out["check"].actions
    assert_the_books_add_up(live, control)


@pytest.mark.parametrize("actor", list(ACTORS))
def test_an_order_denied_past_the_window_while_another_acts(live, control, actor):  # noqa: F811
    out = buy_paused_while(live, control, "confirming-absent", actor)
    bought = out["buy"]
    assert not bought.ok and "paused until it is reconciled" in bought.message, bought.message
    assert len(buys_on_exchange(live)) == 1, "a denied order is never sent again"
    if actor == "flatten":
        assert out["waited"], "flatten waits for the BUY it cannot know the outcome of yet"
        [closed] = out["flatten"]  # it settled the BUY by its fills, then sold what it bought
        assert closed.ok, closed.message
        assert held(control) * 3000 < 5, "flatten closed what the denied BUY bought"
    else:
        if actor == "click":
            assert out["click"].refused and not out["waited"], out["click"].message
        else:
            assert ETH not in out["check"].drift and not out["check"].actions
        after = live.service.trading.trade(ETH, LONG, SIZE)  # settles the unknown order first
        assert after.ok, after.message
    assert len(buys_on_exchange(live)) == 1, "the settled BUY already held the LONG"
    assert {o["status"] for o in exchange_orders(live)} <= {"closed", "canceled"}
    assert_the_books_add_up(live, control)
    with live.db.session() as session:
        statuses = {o.status for o in repo.recent_orders(session, LIVE_BOOK)}
    assert OrderStatus.REJECTED.value not in statuses
