"""Moving a working order's price (amend) beside every other actor, at every point where
either can be paused: the gate's matrix (test_gate_interleavings) with amend as one of the
two actions.

The account starts flat with the app's working BUY resting below the market. Amend, made on
the page (a click's origin, in the mode the tab showed), is paused at each point of its
path (before and inside its lock, `replacing` after its cancel and before the replacement
is sent, `placed` once the replacement is) while a
click, a CLI trade, the periodic check in adopt or enforce, the stop watcher, flatten, a
mode switch or protect runs; and each of those is paused at each point while amend runs.

After both end, the gate's invariants hold (nothing sent on a halted book but reducing
orders, nothing of a click's after a switch away from its mode, no stop on what is not held,
the database equals the exchange, the ledger adds up, no job running, no intent left), and
the symbol has at most one open order on the exchange: a replacement never stands beside
the order it replaced, nor beside the order a click or enforce sent meanwhile.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain import Mode, Origin, PositionState, TradeSize
from core.store import repository as repo
from core.trading import checkpoints
from tests.integration.test_gate_interleavings import (
    ACTORS,
    LIVE_BOOK,
    POINTS,
    SYMBOL,
    World,
    _act,
    _check_invariants,
    _run,
)

AMEND = "amend"
# the points amend passes: its lock, after its cancel, after its replacement is placed
AMEND_PATH = ("before-lock", "locked", *checkpoints.AMEND_POINTS, "placed")


def _world(make_engine, control) -> World:
    adopt = make_engine(live=True, SYNC_POLICY="adopt")
    assert adopt.service.modes.request(Mode.LIVE).ok
    enforce = make_engine(live=True, SYNC_POLICY="enforce")
    bid = adopt.service.reads.market(SYMBOL).bid
    rested = adopt.service.trading.trade(
        SYMBOL,
        PositionState.LONG,
        TradeSize(quote_amount=Decimal(500)),
        mode=Mode.LIVE,
        origin=Origin.CLI,
        limit_price=(bid * Decimal("0.95")).quantize(Decimal("0.01")),
    )
    assert rested.ok and rested.working, rested.message
    return World(adopt, enforce, control, bid - 50)


def _amend(world: World) -> None:
    service = world.adopt.service
    with world.adopt.db.session() as session:
        working = repo.working_orders(session, LIVE_BOOK, SYMBOL)
    if not working:  # the other actor ended it first: nothing to move
        world.results[AMEND] = None
        return
    order = working[0]
    world.results[AMEND] = service.orders.amend(
        order.client_order_id,
        order.price - 10,
        Mode.LIVE,
        origin=Origin.MANUAL,
        made_in=Mode.LIVE,
    )


def _act_or_amend(world: World, actor: str) -> None:
    if actor == AMEND:
        _amend(world)
    else:
        _act(world, actor)


SCENARIOS = [
    pytest.param(first, second, point, id=f"{first}-paused-{point}-then-{second}")
    for other in ACTORS
    for first, second in ((AMEND, other), (other, AMEND))
    for point in (AMEND_PATH if first == AMEND else POINTS)
]


@pytest.mark.parametrize(("first", "second", "point"), SCENARIOS)
def test_amend_beside_another_action(make_engine, control, first, second, point):
    world = _world(make_engine, control)
    _run(world, first, second, point, act=_act_or_amend)
    _check_invariants(world, first, second)
    open_orders = [o for o in control.account()["open_orders"] if o.get("symbol") == "ETHUSDT"]
    assert len(open_orders) <= 1, f"{len(open_orders)} open orders on {SYMBOL}: {open_orders}"
