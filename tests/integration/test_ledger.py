"""The ledger against the emulator, over real HTTP with the real ccxt client and SQLite: ETH
bought from the page's path, part of it taken out on the exchange behind the app's back (the
emulator's control API), then the periodic check. The change is one transfer in the ledger
and one external change on the check, however often the check runs; Results' open round trip
holds what the account holds; the Trading page's realized PnL equals Results' before and
after the rest is sold; the ledger's CSV lists every entry. And a deposit, a buy, its stop
and a withdrawal worked step by step: equity, realized PnL, changes outside the app and
every CSV add up to what the account holds."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from decimal import Decimal

import requests

from core.domain import Mode, Origin, Policy, PositionState, TradeSize
from core.monitoring.monitor import AccountLink
from core.store import ledger
from core.store import repository as repo
from emulator.accounts import DEMO_API_KEY

ETH = "ETH/USDT"
BOOK = repo.BookKey(Mode.LIVE.value, "default")
D1000 = Decimal(1000)
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


def test_deposit_buy_stop_and_withdrawal_add_up_on_every_page_and_csv(
    make_engine, control, exchange
):
    """Worked step by step against the emulator: 0.5 ETH deposited outside the app, 1,000
    USDT of BTC bought, its stop fired (it sells the BTC, one part of the book's holdings),
    0.2 ETH withdrawn in the exchange's app. After each step the check's equity point is the
    account's cash plus its holdings at the exchange's marks (last prices); at the end the
    Trading page's realized PnL is Results', the changes outside the app are worth 0.5 x
    mark - 0.2 x mark and are neither PnL nor drawdown, and the ledger's CSV adds up to
    what the account holds, symbol by symbol, as every position row does."""
    engine = make_engine(live=True, **FAST)
    service = engine.service
    assert service.modes.request(Mode.LIVE).ok

    def held(asset: str) -> Decimal:
        free, locked = control.balance(DEMO_API_KEY, asset)
        return free + locked

    def mark(asset: str) -> Decimal:
        """The exchange's own last price, as any client reads it."""
        answer = requests.get(f"{exchange.url}/api/v3/ticker/price?symbol={asset}USDT", timeout=5)
        return Decimal(answer.json()["price"])

    def worth() -> Decimal:
        """Cash plus every holding at its mark, from the exchange's own balances."""
        return held("USDT") + sum(held(asset) * mark(asset) for asset in ("ETH", "BTC"))

    def checked() -> Decimal:
        """The periodic check's equity point, once it has read the account."""
        view = service.monitoring.periodic_check()
        assert view is not None and view.ok, view and view.error
        return service.insights.results(mode=Mode.LIVE).equity[-1][1]

    assert checked() == worth() == Decimal(10000)
    control.set_balances({"ETH": "0.5"})  # the deposit
    eth = mark("ETH")
    assert checked() == worth() == Decimal(10000) + Decimal("0.5") * eth

    bought = service.trading.trade("BTC/USDT", PositionState.LONG, TradeSize(quote_amount=D1000))
    assert bought.ok, bought.message
    assert checked() == worth()
    bid = service.reads.market("BTC/USDT").bid
    assert service.protection.protect("BTC/USDT", mode=Mode.LIVE, stop_loss=bid - 500).ok
    control.set_price("BTCUSDT", str(bid - 600))
    assert service.protection.watch_once() == 1
    assert checked() == worth()  # BTC left at dust (the buy's fee was taken in BTC)

    control.set_balances({"ETH": "0.3"})  # the withdrawal
    assert mark("ETH") == eth  # nobody traded ETH: its mark stood still
    assert checked() == worth()

    results = service.insights.results(mode=Mode.LIVE)
    page = service.reads.dashboard()
    assert (page.pnl.realized, page.pnl.fees) == (results.realized, results.fees)
    assert results.realized < 0  # the stop sold below the entry
    assert results.outside == Decimal("0.3") * eth  # +0.5 x mark in, -0.2 x mark out
    final, traded = results.equity[-1][1], results.traded[-1][1]
    assert final - traded == results.outside  # the withdrawal is in equity, not in trading
    assert results.drawdown.max_abs < Decimal("0.2") * eth  # the BTC's fall, not the ETH out
    [trip] = results.closed
    assert trip.symbol == "BTC/USDT" and results.open[0].qty == Decimal("0.3")

    out = io.StringIO()
    service.insights.export("ledger", out, mode=Mode.LIVE)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    by_symbol: dict[str, Decimal] = {}
    for row in rows:
        by_symbol[row["symbol"]] = by_symbol.get(row["symbol"], Decimal(0)) + Decimal(row["change"])
    assert by_symbol == {"ETH/USDT": held("ETH"), "BTC/USDT": held("BTC")}
    assert [(r["symbol"], r["kind"], r["side"], r["origin"]) for r in rows] == [
        ("ETH/USDT", "transfer", "in", "monitor"),
        ("BTC/USDT", "fill", "buy", "manual"),
        ("BTC/USDT", "fill", "sell", "stop"),
        ("ETH/USDT", "transfer", "out", "monitor"),
    ]
    with engine.db.session() as session:
        positions = {p.symbol: p.qty for p in repo.positions(session, BOOK)}
    assert positions == by_symbol
    fills = io.StringIO()
    service.insights.export("fills", fills, mode=Mode.LIVE)
    fill_rows = list(csv.DictReader(io.StringIO(fills.getvalue())))
    assert [(r["side"], r["qty"], r["price"]) for r in fill_rows] == [
        (r["side"], r["qty"], r["price"]) for r in rows if r["kind"] == "fill"
    ]
