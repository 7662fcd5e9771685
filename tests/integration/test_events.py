"""The event feed against the emulator over HTTP and a real SQLite file: every trade, stop,
flatten and resume is one event of its book with who made it; the trade panel's newest event
of a symbol is never a trade since undone; `events` and `ack` on the command line (the real
entry point), with clear refusals and exit 2 on bad input; an acknowledged change outside
the app leaves the badge; `ack --all` of many is one write and one notification, and says
how many with the first five, as the page's button toasts them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine
from sqlalchemy import event as sqlalchemy_event

import app
import runtime
from core.config import Settings, load_settings
from core.domain import ExternalChange, Mode, Origin, PositionState, TradeSize
from core.operations.alerts import recent_alerts
from core.service.observers import external_change_incident
from core.views import AccountCheckView
from tests.conftest import DEMO
from tests.page_requests import callback_request
from tests.services import app_environment, python_app
from web import ids

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


class Writes:
    """What this thread wrote to events and alerts, and its commits, in order, on every
    engine (the `ack` command builds its own)."""

    def __init__(self):
        self.seen: list[str] = []
        self._thread = threading.get_ident()
        sqlalchemy_event.listen(Engine, "before_cursor_execute", self._statement)
        sqlalchemy_event.listen(Engine, "commit", self._commit)

    def close(self) -> None:
        sqlalchemy_event.remove(Engine, "before_cursor_execute", self._statement)
        sqlalchemy_event.remove(Engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        said = statement.lstrip().upper()
        if threading.get_ident() == self._thread:
            for what in ("UPDATE EVENTS", "INSERT INTO ALERTS"):
                if said.startswith(what):
                    self.seen.append(what)

    def _commit(self, conn):
        if threading.get_ident() == self._thread:
            self.seen.append("commit")

    def transactions(self, what: str) -> int:
        """How many transactions made the statement `what`."""
        after = ["commit", *self.seen]
        return sum(1 for n, said in enumerate(self.seen) if said == what and after[n] != what)


def test_ack_all_of_many_changes_is_one_write_and_one_notification(live, cli, delivered_alerts):
    """A check finds 41 holdings changed outside the app: `ack ID` of one clears its alert
    alone; `ack --all` then acknowledges the other 40 in one transaction and clears their
    alerts in one more, each incident its own cleared row and counted, sent as one
    "Resolved" message."""
    sent = delivered_alerts("state", "title")
    now = datetime.now(UTC)
    changes = tuple(
        ExternalChange("default", f"C{n:02d}/USDT", D(n + 1), D(n + 2), D(2), now)
        for n in range(41)
    )
    service = live.service
    service.wiring.observers.check_done(AccountCheckView("default", external_changes=changes), [])
    assert service.wiring.alerts.flush()
    waiting = service.events.waiting()
    assert len(waiting) == 41
    incidents = {e.id: external_change_incident("default", e.symbol, e.id) for e in waiting}
    labels = {"kind": "external_change", "state": "cleared", "delivery": "no urls"}
    counted = REGISTRY.get_sample_value("trading_alerts_total", labels) or 0.0

    sent.clear()
    one = waiting[3]
    code, out, err = cli("ack", str(one.id))
    assert code == 0, err
    assert sent == [("cleared", f"Resolved: default: {one.text}")]
    assert cleared_incidents(service) == [incidents[one.id]]

    sent.clear()
    written = Writes()
    try:
        code, out, err = cli("ack", "--all")
    finally:
        written.close()
    assert code == 0, err
    others = [e for e in waiting if e.id != one.id]
    assert out.splitlines() == [
        "acknowledged 40 events, the first 5:",
        *(f"event {e.id}: {e.text}" for e in others[:5]),
        "and 35 more",
    ]
    assert written.transactions("UPDATE EVENTS") == 1
    assert written.seen.count("UPDATE EVENTS") == 1
    assert written.transactions("INSERT INTO ALERTS") == 1
    assert sent == [("cleared", "Resolved: default: 40 changes outside the app acknowledged")]
    cleared = cleared_incidents(service)
    assert len(cleared) == 41 and set(cleared) == set(incidents.values())
    assert REGISTRY.get_sample_value("trading_alerts_total", labels) - counted == 41
    assert service.events.waiting() == []


def cleared_incidents(service) -> list[str]:
    """The incidents of the cleared alerts stored, one entry per cleared row."""
    alerts = recent_alerts(service.wiring.db, limit=500)
    return sorted(a.incident for a in alerts if a.state == "cleared")


def changes_found(service, count: int) -> list:
    """A check of the LIVE account that found `count` holdings changed outside the app:
    the incidents now waiting, oldest first."""
    now = datetime.now(UTC)
    changes = tuple(
        ExternalChange("default", f"C{n:04d}/USDT", D(n + 1), D(n + 2), D(2), now)
        for n in range(count)
    )
    service.wiring.observers.check_done(AccountCheckView("default", external_changes=changes), [])
    waiting = service.events.waiting()
    assert len(waiting) == count
    return waiting


def test_ack_all_of_thousands_says_how_many_and_lists_the_first_five(live, cli):
    """7,500 changes outside the app acknowledged with `ack --all`: seven lines, not 7,500
    (how many, the first five, how many more), exit 0 as before, and every one of them
    acknowledged; a few are each told on a line of their own, as `ack` of one is."""
    service = live.service
    waiting = changes_found(service, 7500)
    code, out, err = cli("ack", "--all")
    assert code == 0, err
    assert out.splitlines() == [
        "acknowledged 7,500 events, the first 5:",
        *(f"event {e.id}: {e.text}" for e in waiting[:5]),
        "and 7,495 more",
    ]
    assert service.events.waiting() == []

    few = changes_found(service, 5)
    code, out, err = cli("ack", "--all")
    assert code == 0, err
    assert out.splitlines() == [f"acknowledged event {e.id}: {e.text}" for e in few]


@pytest.fixture
def dashboard(tmp_path, exchange, control):
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/trading.db",
        EXCHANGE_URL=exchange.url,
        RECV_WINDOW_MS="1000",
        **DEMO,
    )
    running = runtime.build_runtime(settings)
    yield running
    running.close()


def test_the_pages_acknowledge_button_toasts_how_many_and_the_first_five(dashboard):
    """The page's button, asked over HTTP as a tab asks: five changes are a toast line
    each; six are how many, the first five and one more, as `ack --all` prints them."""
    service = dashboard.service
    client = dashboard.dash_app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    spec = next(
        d for d in dependencies if {"id": ids.ACK_BUTTON, "property": "n_clicks"} in d["inputs"]
    )

    def click() -> tuple[str, list[str]]:
        payload = callback_request(
            spec,
            {(ids.ACK_BUTTON, "n_clicks"): 1},
            {(ids.KNOWN_MODE, "data"): "live"},
            f"{ids.ACK_BUTTON}.n_clicks",
        )
        answer = client.post("/_dash-update-component", json=payload)
        assert answer.status_code == 200, answer.data[:300]
        toast = answer.get_json()["response"][ids.EVENT_TOAST]
        return toast["header"], [line["props"]["children"] for line in toast["children"]]

    few = changes_found(service, 5)
    assert click() == ("Acknowledged", [f"acknowledged event {e.id}: {e.text}" for e in few])
    six = changes_found(service, 6)
    assert click() == (
        "Acknowledged",
        [
            "acknowledged 6 events, the first 5:",
            *(f"event {e.id}: {e.text}" for e in six[:5]),
            "and 1 more",
        ],
    )
    assert service.events.waiting() == []
