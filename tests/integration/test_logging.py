"""Logging: one line per trade and check with what, where, the outcome, calls and duration;
one JSON object per line with LOG_FORMAT=json; and never a secret, even from ccxt's own
debug lines (they carry the API key header)."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest

from core.domain import Mode, PositionState, TradeSize
from core.operations import logs

KEY, SECRET = "log-test-api-key-7f3a", "log-test-api-secret-91bc"


@pytest.fixture
def account(control):
    control.create_account(KEY, SECRET, {"USDT": "5000"})
    return {"EXCHANGE_API_KEY": KEY, "EXCHANGE_API_SECRET": SECRET}


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def trade_and_check(make_engine, account, form: str, capsys) -> str:
    engine = make_engine(live=True, **account)
    logs.configure("DEBUG", form, engine.settings.secrets)
    service = engine.service
    assert service.modes.request(Mode.LIVE).ok
    bought = service.trading.trade(
        "ETH/USDT", PositionState.LONG, TradeSize(quote_amount=Decimal(300))
    )
    assert bought.ok, bought.message
    service.monitoring.periodic_check()
    return capsys.readouterr().err


def test_no_secret_reaches_a_log_line_even_at_debug(make_engine, account, capsys):
    text = trade_and_check(make_engine, account, "text", capsys)
    assert "Request:" in text  # ccxt's own debug lines were there, headers and all
    assert KEY not in text and SECRET not in text
    assert logs.MASK in text


def test_json_lines_carry_the_trade_and_the_check(make_engine, account, capsys):
    lines = trade_and_check(make_engine, account, "json", capsys).splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    [trade] = [r for r in records if r["message"] == "trade verified"]
    assert (trade["account"], trade["symbol"], trade["target"]) == ("default", "ETH/USDT", "LONG")
    assert trade["api_calls"] > 0 and trade["duration_ms"] >= 0 and "bought" in trade["outcome"]
    checks = [r for r in records if r["message"] == "monitor check done"]
    assert checks and checks[-1]["account"] == "default"
    assert not [line for line in lines if KEY in line or SECRET in line]
