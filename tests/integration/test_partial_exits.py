"""Partial exits end to end through the command line (`app.main`), against the emulator's
real (frozen) order book over HTTP: `--close-pct` and `--close-qty` sell a part of the
holding in SIM and in LIVE, the rest stays LONG under the same stop (which then sells the
rest when it fires), the ledger holds one partial sell that realized PnL on the part sold
only, and input that cannot be meant exits 2 with a message, sending and writing nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from core.domain import Mode
from core.store import ledger, runs
from core.store import protection as stops
from core.store import repository as repo
from core.store.books import BookKey

D = Decimal
SENDS = ("POST", "DELETE")
SIM_BOOK, LIVE_BOOK = BookKey("sim", "default"), BookKey("live", "default")
BUY_HALF = ("trade", "ETH/USDT", "--target", "LONG", "--qty", "0.5")
CLOSE = ("trade", "ETH/USDT", "--target", "NO_POSITION")
# 0.5 ETH bought, less the 0.02 % taker fee paid in ETH; 40 % of it is 0.19996 (step 0.00001)
HELD, PART = D("0.4999"), D("0.19996")


def ran(cli, *args: str) -> dict:
    code, out, err = cli(*args, "--json")
    assert code == 0, (out, err)
    return json.loads(out)


def sent_orders(control) -> list[dict]:
    return [r for r in control.requests_log() if r["method"] == "POST" and "order" in r["path"]]


def test_close_pct_in_sim_keeps_the_rest_long_under_its_stop(cli, make_engine, control):
    ran(cli, *BUY_HALF)
    code, out, err = cli("protect", "ETH/USDT", "--stop-loss", "3300", "--json")
    assert code == 0, (out, err)

    done = ran(cli, *CLOSE, "--close-pct", "40")
    assert done["ok"] and (done["before"], done["after"]) == ("LONG", "LONG"), done
    [order] = done["orders"]
    assert order["side"] == "sell" and D(order["amount"]) == PART, order
    assert "the stop-loss at 3,300.00 now guards the rest" in done["message"], done["message"]

    engine = make_engine()
    with engine.db.session() as session:
        eth = repo.find_position(session, SIM_BOOK, "ETH/USDT")
        assert (eth.state, eth.target_state, eth.is_open) == ("LONG", "LONG", True)
        assert eth.target_quote is None  # enforce never buys back what the trader sold
        [stop] = stops.live_stops(session, SIM_BOOK)
        assert (stop.symbol, stop.stop_loss, stop.status) == ("ETH/USDT", D(3300), "active")
        bought, sold = ledger.entries(session, SIM_BOOK, "ETH/USDT")
        assert (sold.kind, sold.origin, sold.side) == ("fill", "cli", "sell")
        assert bought.change == HELD
        assert sold.qty == PART and sold.change == -PART
        # realized by average cost on the part sold only; the rest keeps its basis
        assert sold.realized == PART * (sold.price - bought.price)
        assert eth.qty == HELD - PART and eth.cost_basis == (HELD - PART) * bought.price

    [row] = [p for p in engine.service.reads.dashboard().positions if p.symbol == "ETH/USDT"]
    assert row.qty == HELD - PART and row.stop.stop_loss == D(3300)

    # the same stop sells the rest, whatever is left, when the price crosses it
    control.set_price("ETHUSDT", "3200")
    assert engine.service.protection.watch_once() == 1
    with engine.db.session() as session:
        eth = repo.find_position(session, SIM_BOOK, "ETH/USDT")
        assert (eth.state, eth.is_open) == ("NO_POSITION", False)
        last = ledger.entries(session, SIM_BOOK, "ETH/USDT")[-1]
        assert (last.origin, last.side, last.qty) == ("stop", "sell", HELD - PART)


def test_close_qty_in_live_sells_that_part_on_the_exchange(cli, control):
    ran(cli, *BUY_HALF, "--live", "--yes")
    held_before, _ = control.balance("demo-key", "ETH")
    control.clear_requests()

    done = ran(cli, *CLOSE, "--close-qty", "0.2", "--live", "--yes")
    assert done["ok"] and done["after"] == "LONG", done
    assert len(sent_orders(control)) == 1
    [order] = done["orders"]
    assert order["side"] == "sell" and D(order["filled"]) == D("0.2"), order
    held_after, _ = control.balance("demo-key", "ETH")
    assert held_after == held_before - D("0.2")
    assert f"holds {held_after.normalize():f} ETH" in done["message"], done["message"]

    # a percentage of what is left, and 100 % is the full close
    done = ran(cli, *CLOSE, "--close-pct", "100", "--live", "--yes")
    assert done["ok"] and done["after"] == "NO_POSITION", done


def _written(make_engine) -> tuple[int, int, int]:
    """Ledger entries, orders and sync runs of the SIM book."""
    engine = make_engine()
    with engine.db.session() as session:
        return (
            len(ledger.entries(session, SIM_BOOK)),
            len(repo.recent_orders(session, SIM_BOOK, 1000)),
            len(runs.recent_sync_runs(session, SIM_BOOK, 1000)),
        )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--close-pct", "0"), "above zero"),
        (("--close-pct", "100.5"), "at most 100"),
        (("--close-pct", "0,5"), "use a dot for decimals"),
        (("--close-pct", "-10"), "must be above zero"),
        (("--close-pct", "1e1"), "digits 0-9"),
        (("--close-pct", " "), "--close-pct needs a value"),
        (("--close-qty", "5"), "is more than the"),
        (("--close-qty", "0.00001"), "below the market minimum"),
        (("--close-pct", "99.999"), "close it all instead"),
    ],
)
def test_a_part_that_cannot_be_meant_exits_2_sending_and_writing_nothing(
    cli, make_engine, control, args, words
):
    ran(cli, *BUY_HALF)
    before = _written(make_engine)
    control.clear_requests()
    code, out, err = cli(*CLOSE, *args)
    assert code == 2, (out, err)
    assert err.startswith("error: ") and words in err, err
    assert out == ""
    assert not [r for r in control.requests_log() if r["method"] in SENDS]
    assert _written(make_engine) == before


def test_a_part_of_nothing_or_with_a_buy_is_refused(cli, control):
    code, _, err = cli(*CLOSE, "--close-pct", "50")
    assert code == 2 and "nothing to close a part of" in err, err
    code, _, err = cli("trade", "ETH/USDT", "--target", "LONG", "--close-pct", "50")
    assert code == 2 and "--close-pct sells a part" in err, err
    with pytest.raises(SystemExit) as exited:
        cli(*CLOSE, "--close-pct", "50", "--close-qty", "0.1")
    assert exited.value.code == 2


def test_the_service_refuses_a_part_with_a_buy(make_engine):
    from core.domain import ExitPart, PositionState

    trading = make_engine().service.trading
    result = trading.trade("ETH/USDT", PositionState.LONG, mode=Mode.SIM, part=ExitPart(pct=D(50)))
    assert result.refused and "goes with SELL or CLOSE" in result.message


def test_a_part_of_a_derivatives_position_is_refused_by_the_gate(make_engine, venues, tmp_path):
    """Derivatives close whole (reduce-only, the exchange's stops go with them): a part
    asked of one is refused at the gate, not widened into a full close."""
    from core.domain import ExitPart, Origin, PositionState
    from core.trading.gate import OrderRequest
    from emulator.control_client import ControlClient

    server = venues["bybit"]
    control = ControlClient(server.url)
    control.reset()
    control.set_positions({"BTCUSDT": {"size": "0.5", "entry_price": "60000", "leverage": "5"}})
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[accounts]]\nname = "perps"\nexchange = "bybit"\nurl = "{server.url}"\n'
        'api_key = "demo-key"\napi_secret = "demo-secret"\n'
    )
    service = make_engine(ACCOUNTS_FILE=str(accounts)).service
    account = service.wiring.account("perps", Mode.LIVE)
    control.clear_requests()
    request = OrderRequest(
        "BTC/USDT:USDT", PositionState.NO_POSITION, Origin.CLI, part=ExitPart(pct=D(50))
    )
    result = service.trading.gate.trade(account, request)
    assert result.refused and "closed on spot only" in result.message, result.message
    assert not [r for r in control.requests_log() if r["method"] in SENDS]
    assert D(control.account()["positions"]["BTCUSDT"]["size"]) == D("0.5")
