"""Two actions at once, at every point where one can be paused: the gate keeps the account
safe whatever runs beside it.

Every pair of {click, CLI trade, periodic check in adopt, periodic check in enforce, stop
watcher, flatten, mode switch, protect}, each order of the two, with the first paused at each
named point of the order path (core.trading.checkpoints: before the lock, inside it before the first
send, after a placement, before and after recording) while the second runs. Real ccxt
against the emulator over HTTP, a real SQLite (and PostgreSQL) database, two engines on it
(one per policy, as two processes would be).

After both end, these hold:
- no order on a halted book except the reducing orders of the stop watcher and flatten, and
  after a flatten nothing is held;
- no order of a click or of enforce after the mode switched away from the mode it was made in;
- no stop is armed on a symbol the account no longer holds;
- the database equals the exchange (no orphan, quantity or side mismatch);
- the ledger adds up: the sum of the symbol's entries is the position's quantity;
- no job is left running and no order intent is left unresolved.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pytest

from core.domain import DiscrepancyKind, Mode, Origin, Policy, PositionState, TradeSize
from core.store import jobs, ledger
from core.store import protection as stops
from core.store import repository as repo
from core.store.models import Order, utcnow
from core.trading import checkpoints
from tests.services import fresh_postgres_database

D = Decimal
SYMBOL = "ETH/USDT"
LIVE_BOOK = repo.BookKey("live", "default")
ACTORS = ("click", "cli", "check-adopt", "check-enforce", "watcher", "flatten", "mode", "protect")
POINTS = checkpoints.POINTS
REAL_MISMATCHES = {
    DiscrepancyKind.ORPHAN_DB,
    DiscrepancyKind.ORPHAN_EXCHANGE,
    DiscrepancyKind.QTY_MISMATCH,
    DiscrepancyKind.SIDE_MISMATCH,
}


@dataclass
class World:
    """Two engines on one database and one exchange account, LIVE, holding ETH bought by a
    click with a stop-loss under it."""

    adopt: object
    enforce: object
    control: object
    stop_price: Decimal
    events: dict[str, datetime] = field(default_factory=dict)
    results: dict[str, object] = field(default_factory=dict)


def _world(make_engine, control, **db) -> World:
    adopt = make_engine(live=True, SYNC_POLICY="adopt", **db)
    assert adopt.service.modes.request(Mode.LIVE).ok
    enforce = make_engine(live=True, SYNC_POLICY="enforce", **db)
    bid = adopt.service.reads.market(SYMBOL).bid
    bought = adopt.service.trading.trade(
        SYMBOL,
        PositionState.LONG,
        TradeSize(quote_amount=D(1000)),
        shown_mode=Mode.LIVE,
        stop_loss=bid - 50,
    )
    assert bought.ok and "stop-loss" in bought.message, bought.message
    return World(adopt, enforce, control, bid - 50)


def _act(world: World, actor: str) -> None:
    service = world.adopt.service
    if actor == "click":
        world.results[actor] = service.trading.trade(
            SYMBOL, PositionState.LONG, TradeSize(quote_amount=D(300)), shown_mode=Mode.LIVE
        )
    elif actor == "cli":
        world.results[actor] = service.trading.trade(
            SYMBOL, PositionState.NO_POSITION, mode=Mode.LIVE, origin=Origin.CLI
        )
    elif actor == "check-adopt":
        world.results[actor] = service.monitoring.periodic_check()
    elif actor == "check-enforce":
        world.results[actor] = world.enforce.service.monitoring.periodic_check()
    elif actor == "watcher":
        world.control.set_price("ETHUSDT", str(world.stop_price - 30))
        world.results[actor] = service.protection.watch_once()
    elif actor == "flatten":
        world.events["flatten-started"] = utcnow()
        world.results[actor] = service.kill_switch.flatten(["default"], Mode.LIVE)
    elif actor == "mode":
        change = service.modes.request(Mode.SIM)
        if change.ok:
            world.events["switched"] = utcnow()
        world.results[actor] = change
    elif actor == "protect":
        try:
            world.results[actor] = service.protection.protect(
                SYMBOL, mode=Mode.LIVE, stop_loss=world.stop_price - 20
            )
        except Exception as exc:  # nothing held any more: a refusal in words
            world.results[actor] = exc


class Pause:
    """Holds the first actor's thread at one point until released, and notes the last
    point each thread reached."""

    def __init__(self, point: str, thread: str):
        self.point, self.thread = point, thread
        self.reached, self.release = threading.Event(), threading.Event()
        self.last: dict[str, str] = {}

    def waiting_for_a_lock(self, thread: str) -> bool:
        return self.last.get(thread) == "before-lock"

    def __call__(self, point: str, where: dict) -> None:
        self.last[threading.current_thread().name] = point
        if (
            point == self.point
            and threading.current_thread().name == self.thread
            and not self.reached.is_set()
        ):
            self.reached.set()
            self.release.wait(30)


def _run(world: World, first: str, second: str, point: str, act=None) -> None:
    """`first` paused at `point` while `second` runs; `act` runs an actor (`_act`)."""
    act = act or _act
    errors: list[BaseException] = []

    def actor(name: str):
        def run():
            try:
                act(world, name)
            except BaseException as exc:  # reported by the test, not lost in a thread
                errors.append(exc)

        return run

    pause = Pause(point, "first")
    a = threading.Thread(target=actor(first), name="first")
    b = threading.Thread(target=actor(second), name="second")
    with checkpoints.listening(pause):
        a.start()
        while not pause.reached.wait(0.05) and a.is_alive():
            pass
        b.start()
        waited = 0
        while b.is_alive() and waited < 100:  # done, or waiting for the paused actor's lock
            b.join(0.05)
            waited += 1
            if pause.waiting_for_a_lock("second") and waited > 6:
                break
        pause.release.set()
        a.join(90)
        b.join(90)
    assert not a.is_alive() and not b.is_alive(), "an actor hung"
    assert not errors, errors


def _check_invariants(world: World, first: str, second: str) -> None:
    engine = world.adopt
    with engine.db.session() as session:
        orders = list(session.query(Order).filter_by(mode="live", account="default"))
        halt = stops.halted(session, LIVE_BOOK)
        running = jobs.running_jobs(session)
        unresolved = repo.unresolved_orders(session, LIVE_BOOK)
        armed = [
            s
            for s in stops.live_stops(session, LIVE_BOOK)
            if s.symbol == SYMBOL and s.status == stops.ACTIVE
        ]
    assert running == [], f"jobs left running: {running}"
    assert unresolved == [], f"intents unresolved: {[o.client_order_id for o in unresolved]}"

    if halt is not None:
        halted_at = world.events["flatten-started"]
        late = [
            o
            for o in orders
            if o.created_at > halted_at
            and not (o.origin in ("stop", "flatten") and o.side == "sell")
        ]
        assert late == [], f"orders on a halted book: {[(o.origin, o.side) for o in late]}"

    switched = world.events.get("switched")
    if switched is not None:
        late = [o for o in orders if o.created_at > switched and o.origin in ("manual", "enforce")]
        assert late == [], f"orders after the switch to SIM: {[(o.origin, o.side) for o in late]}"

    held = D(world.control.account()["balances"].get("ETH", {}).get("free", "0"))
    dust = held * world.stop_price < 5
    if "flatten" in (first, second):
        assert dust, f"flatten left {held} ETH"
    if dust:
        assert armed == [], "a stop is armed on a symbol nothing of which is held"

    [check] = engine.service.monitoring.run(Policy.REPORT, execute=False)
    found = [d for d in check.discrepancies if d.kind in REAL_MISMATCHES]
    assert found == [], f"database differs from the exchange: {found}"

    with engine.db.session() as session:
        entries = ledger.entries(session, LIVE_BOOK, SYMBOL)
        position = repo.find_position(session, LIVE_BOOK, SYMBOL)
    added = sum((e.change for e in entries), D(0))
    recorded = position.qty if position is not None else D(0)
    assert added == recorded, (
        f"the ledger adds up to {added} {SYMBOL}, the position holds {recorded}"
    )


SCENARIOS = [
    pytest.param(first, second, point, id=f"{first}-paused-{point}-then-{second}")
    for first, second in itertools.permutations(ACTORS, 2)
    for point in POINTS
]


@pytest.mark.parametrize(("first", "second", "point"), SCENARIOS)
def test_two_actions_at_once_on_sqlite(make_engine, control, first, second, point):
    world = _world(make_engine, control)
    _run(world, first, second, point)
    _check_invariants(world, first, second)


PG_SCENARIOS = [
    pytest.param(first, second, point, id=f"{first}-paused-{point}-then-{second}")
    for first, second in itertools.permutations(ACTORS, 2)
    for point in ("placed",)
]


@pytest.mark.postgres
@pytest.mark.parametrize(("first", "second", "point"), PG_SCENARIOS)
def test_two_actions_at_once_on_postgres(make_engine, control, first, second, point):
    with fresh_postgres_database("gate") as url:  # skipped, with the reason, without PostgreSQL
        world = _world(make_engine, control, DATABASE_URL=url)
        _run(world, first, second, point)
        _check_invariants(world, first, second)
