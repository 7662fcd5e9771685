"""The event feed against the emulator over HTTP and a real SQLite file: every trade, stop,
flatten and resume is one event of its book with who made it; the trade panel's newest event
of a symbol is never a trade since undone; `events` and `ack` on the command line (the real
entry point), with clear refusals and exit 2 on bad input; an acknowledged change outside
the app leaves the badge."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

import app
from core.config import Settings
from core.domain import ExternalChange, Mode, Origin, PositionState, TradeSize
from tests.services import app_environment, python_app

D = Decimal
LONG, FLAT = PositionState.LONG, PositionState.NO_POSITION


@pytest.fixture
def settings(tmp_path, exchange, control) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
        "EXCHANGE_URL": exchange.url,
        "EXCHANGE_API_KEY": "demo-key",
        "EXCHANGE_API_SECRET": "demo-secret",
        "RECV_WINDOW_MS": "1000",
    }


@pytest.fixture
def live(make_engine, settings):
    engine = make_engine(live=True, RECV_WINDOW_MS="1000")
    assert engine.service.modes.request(Mode.LIVE).ok
    return engine


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """`app.main([...])` in this process (much faster than a subprocess); returns the exit
    code and what it printed."""

    def run(*args: str) -> tuple[int, str, str]:
        for name in Settings.model_fields:
            monkeypatch.delenv(name, raising=False)
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        try:
            code = app.main(list(args))
        except SystemExit as exc:  # argparse refusing the arguments
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def command(settings: dict, *args: str) -> subprocess.CompletedProcess:
    """The real command line: `python app.py ARGS` in a process of its own."""
    return subprocess.run(
        python_app(*args),
        env=app_environment(**settings),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def feed(cli, *args: str) -> list[dict]:
    code, out, err = cli("events", "--json", *args)
    assert code == 0, err
    return json.loads(out)["events"]


def test_a_stop_a_flatten_and_a_resume_each_tell_the_feed_and_the_panel_follows(live, control):
    service = live.service
    bought = service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=D(1000)))
    assert bought.ok, bought.message
    assert ", fee " in bought.message and ": holds " in bought.message  # the emulator's fee
    bid = service.reads.market("ETH/USDT").bid
    assert service.protection.protect("ETH/USDT", mode=Mode.LIVE, stop_loss=bid - 50).ok
    control.set_price("ETHUSDT", str(bid - 80))
    assert service.protection.watch_once() == 1
    view = service.reads.dashboard()
    assert [(e.kind, e.who, e.symbol) for e in view.events] == [
        ("stop_fired", "stop", "ETH/USDT"),
        ("trade", "manual", "ETH/USDT"),
    ]
    assert "stop-loss at" in view.events[0].text and "fired at bid" in view.events[0].text
    assert view.symbol_events["ETH/USDT"].kind == "stop_fired"  # not "LONG verified"

    [outcome] = service.kill_switch.flatten(["default"], Mode.LIVE)
    service.kill_switch.resume("default", Mode.LIVE)
    view = service.reads.dashboard()
    assert [(e.kind, e.who) for e in view.events[:2]] == [("resume", "cli"), ("flatten", "flatten")]
    assert view.events[1].text == outcome.message
    assert view.symbol_events["ETH/USDT"].kind == "resume"  # the account's newest word


def test_events_on_the_command_line_newest_first_of_the_book_asked(live, cli):
    sim = live.service.trading.trade(
        "ETH/USDT", LONG, TradeSize(quote_amount=D(200)), mode=Mode.SIM, origin=Origin.CLI
    )
    assert sim.ok, sim.message
    code, out, err = cli("trade", "BTC/USDT", "--target", "LONG", "--size-quote", "100")
    assert code == 0, err
    shown = feed(cli, "--mode", "sim")
    assert [(e["kind"], e["who"], e["symbol"], e["mode"]) for e in shown] == [
        ("trade", "cli", "BTC/USDT", "sim"),
        ("trade", "cli", "ETH/USDT", "sim"),
    ]
    assert shown[0]["id"] > shown[1]["id"] and not shown[0]["needs_ack"]
    assert feed(cli, "--mode", "live") == []
    assert feed(cli, "--mode", "sim", "--since", "2999-01-01T00:00:00Z") == []
    assert len(feed(cli, "--mode", "sim", "--since", shown[0]["time"])) == 1
    assert len(feed(cli, "--mode", "sim", "--since", "1h")) == 2
    code, out, _ = cli("events", "--mode", "sim")
    assert code == 0 and out.splitlines()[0].split()[0] == str(shown[0]["id"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("events", "--since", "yesterday"), "--since takes an ISO time"),
        (("events", "--since", "2026-13-45T00:00:00Z"), "is not a date and time that exists"),
        (("events", "--since", "\uff12\uff10\uff12\uff16-12-02"), "--since takes an ISO time"),
        (("events", "--mode", "paper"), "invalid choice"),
        (("ack",), "one of the arguments EVENT_ID --all is required"),
        (("ack", "-1"), "EVENT_ID"),
        (("ack", "abc"), "EVENT_ID must be a number"),
        (("ack", "12345"), "there is no event 12345"),
        (("ack", "3", "--all"), "not allowed with argument"),
    ],
)
def test_bad_input_is_refused_with_exit_2_and_says_why(cli, args, words):
    code, out, err = cli(*args)
    assert code == 2, (out, err)
    assert words in err, err


def test_a_change_outside_the_app_stays_on_the_badge_until_acknowledged(live, cli, settings):
    service = live.service
    trade = service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=D(500)))
    assert trade.ok, trade.message
    change = ExternalChange(
        "default", "ETH/USDT", D("0.147"), D("0.1"), D("3400"), datetime.now(UTC)
    )
    service.wiring.observers.external_change(change)  # what a check finding it reports
    view = service.reads.dashboard()
    assert (view.badge.tone, view.badge.detail) == (
        "warning",
        "ETH changed outside the app \N{EN DASH} acknowledge",
    )
    [waiting] = view.waiting
    assert waiting.text == "ETH holdings changed outside the app: 0.14700 → 0.10000, -159.80 USDT"

    code, _, err = cli("ack", str(view.events[-1].id))  # the trade: not an incident
    assert code == 2 and "is not an incident" in err
    listed = command(settings, "events")
    assert listed.returncode == 0 and f"[acknowledge: ack {waiting.id}]" in listed.stdout

    done = command(settings, "ack", str(waiting.id))  # the real entry, its own process
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"acknowledged event {waiting.id}: {waiting.text}"
    again = command(settings, "ack", str(waiting.id))
    assert again.returncode == 0 and "acknowledged already" in again.stdout
    code, out, _ = cli("ack", "--all")
    assert code == 0 and out.strip() == "nothing to acknowledge: no incident is waiting"
    deadline = time.monotonic() + 30  # the page's view of the book is kept a second
    while service.reads.dashboard().waiting and time.monotonic() < deadline:
        time.sleep(0.2)
    view = service.reads.dashboard()
    assert view.waiting == [] and "changed outside" not in view.badge.detail


def test_a_sync_execute_repair_is_told_in_the_feed_a_dry_run_is_not(live, cli, control):
    """ETH withdrawn in the exchange's own app, then `sync` and `sync --execute` on the
    command line: the plan tells nothing; the repair is the change outside the app, one
    incident of the LIVE book, waiting for an acknowledgement."""
    service = live.service
    bought = service.trading.trade("ETH/USDT", LONG, TradeSize(quote_amount=D(500)))
    assert bought.ok, bought.message
    held = control.balance("demo-key", "ETH")[0]
    control.set_balances({"ETH": str(held / 2)})
    code, _, err = cli("sync", "--json")
    assert code == 0, err
    assert [e["kind"] for e in feed(cli, "--mode", "live")] == ["trade"]
    code, _, err = cli("sync", "--execute", "--json")
    assert code == 0, err
    told = feed(cli, "--mode", "live")
    assert [(e["kind"], e["who"], e["symbol"], e["needs_ack"]) for e in told[:1]] == [
        ("external_change", "monitor", "ETH/USDT", True)
    ]
    assert "ETH holdings changed outside the app" in told[0]["text"]
    assert [e["kind"] for e in told[1:]] == ["trade"]
    assert feed(cli, "--mode", "sim") == []
