"""The ledger against the emulator, over real HTTP with the real ccxt client and SQLite: ETH
bought from the page's path, part of it taken out on the exchange behind the app's back (the
emulator's control API), then the periodic check. The change is one transfer in the ledger
and one external change on the check, however often the check runs; Results' open round trip
holds what the account holds; the Trading page's realized PnL equals Results' before and
after the rest is sold; the ledger's CSV lists every entry."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from decimal import Decimal

from core.domain import Mode, Origin, Policy, PositionState, TradeSize
from core.monitoring.monitor import AccountLink
from core.store import ledger
from core.store import repository as repo
from emulator.accounts import DEMO_API_KEY

ETH = "ETH/USDT"
BOOK = repo.BookKey(Mode.LIVE.value, "default")
FAST = {"EXCHANGE_TIMEOUT_MS": "2000", "RECV_WINDOW_MS": "2000"}


def held_eth(control) -> Decimal:
    free, locked = control.balance(DEMO_API_KEY, "ETH")
    return free + locked


def test_eth_lost_outside_the_app_is_one_transfer_and_every_figure_follows(make_engine, control):
    engine = make_engine(live=True, **FAST)
    service = engine.service
    assert service.modes.request(Mode.LIVE).ok
    bought = service.trading.trade(ETH, PositionState.LONG, TradeSize(quote_amount=Decimal(1000)))
    assert bought.ok, bought.message
    before = held_eth(control)
    left = (before * Decimal("0.6")).quantize(Decimal("0.0001"))
    control.set_balances({"ETH": str(left)})  # a withdrawal the app never made

    view = service.monitoring.periodic_check()
    assert view is not None and view.ok, view and view.error
    [change] = view.external_changes
    assert (change.account, change.symbol) == ("default", ETH)
    assert (change.before, change.after) == (before, left)
    assert change.mark is not None and change.value == (left - before) * change.mark

    again = service.monitoring.periodic_check()  # the same holdings: nothing new
    assert again.external_changes == ()
    with engine.db.session() as session:
        entries = ledger.entries(session, BOOK, ETH)
        row = repo.find_position(session, BOOK, ETH)
    fills = [e for e in entries if e.kind == ledger.FILL]
    [transfer] = [e for e in entries if e.kind == ledger.TRANSFER]
    assert fills and {e.origin for e in fills} == {Origin.MANUAL.value}
    assert (transfer.side, transfer.change, transfer.price) == ("out", left - before, change.mark)
    assert sum(e.change for e in entries) == left == row.qty

    results = service.insights.results(account="default", mode=Mode.LIVE)
    [trip] = results.open
    assert trip.qty == left == held_eth(control)  # never more than the account holds
    page = service.reads.dashboard()
    assert page.pnl.realized == results.realized == 0  # a withdrawal is not trading PnL

    sold = service.trading.trade(ETH, PositionState.NO_POSITION)
    assert sold.ok, sold.message
    results = service.insights.results(account="default", mode=Mode.LIVE)
    page = service.reads.dashboard()
    [closed] = results.closed
    assert results.open == () and closed.qty_sold == left
    assert page.pnl.realized == results.realized and page.pnl.fees == results.fees
    with engine.db.session() as session:
        entries = ledger.entries(session, BOOK, ETH)
    assert sum(e.change for e in entries) == held_eth(control)

    out = io.StringIO()
    assert service.insights.export("ledger", out, mode=Mode.LIVE) == len(entries)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [(r["kind"], r["origin"], r["change"]) for r in rows] == [
        (e.kind, e.origin, format(e.change, "f")) for e in entries
    ]


def test_a_close_waits_for_a_fresh_read_that_still_finds_the_symbol_flat(make_engine, control):
    """The check read ETH gone; before its repair, ETH is back on the account (a fill the
    snapshot predates). The fresh read finds it held: nothing is closed, no transfer
    recorded, the symbol is left to the next round, which records what really changed."""
    engine = make_engine(live=True, **FAST)
    service = engine.service
    with engine.db.session() as session:
        row = repo.position_row(session, BOOK, ETH)
        row.qty, row.cost_basis, row.is_open, row.state = Decimal(1), Decimal(3000), True, "LONG"
    link = AccountLink("default", service.wiring.live_gateway())

    @contextmanager
    def eth_comes_back(_link, symbols, _read_at):
        control.set_balances({"ETH": "0.5"})
        yield frozenset(symbols)

    [check] = service.wiring.monitor.check([link], Policy.ADOPT, True, guard=eth_comes_back)
    assert [a.kind for a in check.actions] == [] and check.busy == (ETH,)
    assert check.external_changes == []
    with engine.db.session() as session:
        assert repo.find_position(session, BOOK, ETH).qty == 1
        assert ledger.entries(session, BOOK, ETH) == []

    [check] = service.wiring.monitor.check([link], Policy.ADOPT, True)
    [change] = check.external_changes
    assert (change.before, change.after) == (Decimal(1), Decimal("0.5"))
