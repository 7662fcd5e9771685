"""Any market the exchange lists can be traded from the command line, not only SYMBOLS: a
LIVE holding of SOL (outside the configured ETH/USDT,BTC/USDT) is closed by
`trade SOL/USDT --target NO_POSITION`, and a market the exchange does not list is refused
with exit 2 before anything is sent."""

from __future__ import annotations

from decimal import Decimal as D

from core.service import Mode, PositionState, TradeSize
from tests.integration.test_cli_input import cli, settings  # noqa: F401 - fixtures

DEMO_KEY = "demo-key"


def test_the_cli_closes_a_held_market_outside_symbols(cli, control):  # noqa: F811
    control.set_balances({"USDT": "1000", "SOL": "2"})
    code, out, err = cli("trade", "sol/usdt", "--target", "NO_POSITION", "--live", "--yes")
    assert code == 0, err
    assert "sold 2 SOL" in out and "state NO_POSITION verified" in out
    assert control.balance(DEMO_KEY, "SOL") == (D(0), D(0))
    assert control.balance(DEMO_KEY, "USDT")[0] > D("1000")


def test_the_cli_buys_a_market_outside_symbols_in_sim(cli):  # noqa: F811
    code, out, err = cli("trade", "SOL/USDT", "--target", "LONG", "--size-quote", "50")
    assert code == 0, err
    assert "SOL" in out and "state LONG verified" in out


def test_a_market_the_exchange_does_not_list_is_refused(cli, control):  # noqa: F811
    code, _out, err = cli("trade", "NOPE/USDT", "--target", "LONG", "--live", "--yes")
    assert code == 2
    assert "NOPE/USDT is not a market on" in err
    assert not [r for r in control.requests_log() if r["method"] in ("POST", "DELETE")]


def test_the_picker_offers_every_holding_and_searches_every_market(make_engine):
    service = make_engine().service
    bought = service.trading.trade(
        "SOL/USDT", PositionState.LONG, TradeSize(quote_amount=D(50)), mode=Mode.SIM
    )
    assert bought.ok, bought.message
    assert service.markets.choices() == ["ETH/USDT", "BTC/USDT", "SOL/USDT"]
    found = service.markets.choices("pe")
    assert "PEPE/USDT" in found and all("PE" in symbol for symbol in found)
    assert found.index("PEPE/USDT") < len([s for s in found if s.startswith("PE")])
    assert service.markets.choices("nothing-like-it") == []
