"""The health, results, export and alert-test commands against a real database and the
emulator over HTTP: exit codes, the JSON's shape and figures, CSV files that say what the
database holds (money digit for digit, no secret), and bad input refused with nothing
written."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import runtime
from cli import parser as command_line
from core.domain import Mode, PositionState, TradeSize
from core.service.insights import Insights
from core.service.stored_mode import StoredMode
from core.store import runs
from core.store.books import BookKey
from core.store.models import Alert, FillRecord, Order, SyncRun, utcnow

LONG, FLAT = PositionState.LONG, PositionState.NO_POSITION
ETH = "ETH/USDT"
FAST = {"RECV_WINDOW_MS": "1000", "EXCHANGE_TIMEOUT_MS": "1000"}
USER, PASSWORD = "alice", "pa55-w0rd-xyz"


def build_engine(settings):
    """runtime.build_engine, with the service's insights until facade.py builds them itself."""
    engine = runtime.build_engine(settings)
    if not hasattr(engine.service, "insights"):
        engine.service.insights = Insights(engine.service.wiring, StoredMode(engine.service.wiring))
    return engine


@pytest.fixture
def cli(capsys):
    """Runs one command against `settings`: (exit code, stdout, stderr)."""

    def run(settings, *argv: str) -> tuple[int, str, str]:
        code = command_line.run(command_line.parser().parse_args(argv), settings, build_engine)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def round_trips(service, count: int, mode: Mode = Mode.SIM) -> None:
    for _ in range(count):
        assert service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(1000)), mode=mode).ok
        assert service.trading.trade(ETH, FLAT, None, mode=mode).ok


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


# --- health and results -----------------------------------------------------------------


def test_health_json_counts_the_live_books_runs_and_its_drift_and_repair(make_engine, control, cli):
    engine = make_engine(live=True, SYNC_POLICY="report", **FAST)
    service = engine.service
    assert service.modes.request(Mode.LIVE).ok
    assert service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(1000))).ok
    control.set_balances({"ETH": "0"})
    assert service.monitoring.periodic_check().drift == {ETH: LONG}
    assert service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(1000))).ok
    assert not service.monitoring.periodic_check().drift

    code, out, err = cli(engine.settings, "health", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    with engine.db.session() as session:
        recorded = session.scalar(
            select(func.count()).select_from(SyncRun).where(SyncRun.mode == "live")
        )
    assert data["mode"] == "live" and data["window"] == "24h"
    assert data["runs"]["runs"] == recorded and data["runs"]["failed"] == 0
    assert data["runs"]["success_pct"] == "100"
    assert set(data["by_kind"]) == {"trade", "monitor"}
    assert data["drift"]["events"] == 1 and data["drift"]["repaired"] == 1
    assert data["drift"]["repair_median_s"] > 0
    assert data["open_drift"] == [] and data["unresolved_orders"] == 0
    [account] = data["accounts"]
    assert account["account"] == "default" and account["last_good_sync_at"]
    eth = next(s for s in data["symbols"] if s["symbol"] == ETH)
    assert eth["drift"]["events"] == 1 and eth["runs"]["runs"] == 2  # the two trades

    code, out, _ = cli(engine.settings, "health", "--since", "1h", "--mode", "sim")
    assert code == 0
    assert "Sync health: SIM book, all accounts, last 1h" in out
    assert "No sync runs or orders recorded in this book yet." in out


def test_results_json_is_the_round_trips_of_the_fills_to_the_digit(make_engine, cli):
    engine = make_engine()
    round_trips(engine.service, 2)
    assert engine.service.trading.trade("BTC/USDT", LONG, TradeSize(quote_amount=Decimal(500))).ok

    code, out, err = cli(engine.settings, "results", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    with engine.db.session() as session:
        fills = session.scalars(select(FillRecord).order_by(FillRecord.id)).all()
    eth = [f for f in fills if f.symbol == ETH]
    expected = []
    for buy, sell in zip(eth[::2], eth[1::2], strict=True):
        fee_in_quote = sell.fee_quote if sell.fee_asset == "USDT" else Decimal(0)
        expected.append(sell.qty * sell.price - buy.qty * buy.price - fee_in_quote)
    assert [Decimal(t["profit"]) for t in data["closed_trips"]] == expected
    assert Decimal(data["summary"]["profit"]) == sum(expected)
    assert data["summary"]["trips"] == 2
    assert [t["symbol"] for t in data["open_trips"]] == ["BTC/USDT"]
    assert set(data["by_symbol"]) == {ETH}
    assert data["mode"] == "sim" and data["quote"] == "USDT"
    assert [p["trips"] for p in data["summary"]["daily"]] == [2]

    code, out, _ = cli(engine.settings, "results")
    assert code == 0
    assert "closed trips  2 (0 won, 2 lost)" in out
    assert "open trips:" in out and "BTC/USDT" in out


def test_an_empty_database_reports_in_sentences(make_engine, cli):
    settings = make_engine().settings
    code, out, _ = cli(settings, "health")
    assert code == 0 and "No sync runs or orders recorded in this book yet." in out
    code, out, _ = cli(settings, "results")
    assert code == 0 and "No round trips recorded in this window yet." in out
    code, out, _ = cli(settings, "results", "--json")
    assert code == 0 and json.loads(out)["summary"]["trips"] == 0


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("health", "--since", "2days"), "--since takes a duration such as 1h, 24h, 7d or all"),
        (("results", "--since", "0h"), "--since takes a duration longer than zero"),
        (("health", "--account", "nobody"), "unknown account 'nobody' (accounts: default)"),
        (("results", "--account", "nobody", "--json"), "unknown account 'nobody'"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_prints_nothing(make_engine, cli, argv, said):
    code, out, err = cli(make_engine().settings, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and said in err


# --- export -----------------------------------------------------------------------------


def test_the_csv_exports_say_what_the_database_holds(make_engine, control, cli, tmp_path):
    engine = make_engine(live=True, **FAST)
    service = engine.service
    round_trips(service, 2)
    with engine.db.session() as session:  # an old fill, outside a 24h window
        session.add(
            FillRecord(
                mode="sim",
                account="default",
                symbol=ETH,
                trade_id="old-1",
                client_order_id="old-order",
                side="buy",
                qty=Decimal("0.123456789012345678"),
                price=Decimal("1234.5"),
                fee=Decimal("0"),
                fee_asset="USDT",
                fee_quote=Decimal("0"),
                time=utcnow() - timedelta(days=3),
            )
        )
    settings = engine.settings
    analytics_time = {"fills": "time", "orders": "created_at", "syncs": "started_at"}
    for table, model in (("fills", FillRecord), ("orders", Order), ("syncs", SyncRun)):
        path = tmp_path / f"{table}.csv"
        code, out, err = cli(settings, "export", table, "--csv", str(path))
        assert (code, err) == (0, "")
        with engine.db.session() as session:
            stored = session.scalars(select(model).order_by(model.id)).all()
        exported = rows_of(path.read_text(encoding="utf-8"))
        assert sorted(int(row["id"]) for row in exported) == [r.id for r in stored]
        times = [row[analytics_time[table]] for row in exported]
        assert times == sorted(times)  # oldest first
        assert out.strip().startswith(f"wrote {len(stored)} ")

    fills = {row["trade_id"]: row for row in rows_of((tmp_path / "fills.csv").read_text())}
    assert fills["old-1"]["qty"] == "0.123456789012345678"  # every digit, never a float
    with engine.db.session() as session:
        for fill in session.scalars(select(FillRecord)):
            row = fills[fill.trade_id]
            assert (row["qty"], row["price"], row["fee_quote"]) == (
                format(fill.qty, "f"),
                format(fill.price, "f"),
                format(fill.fee_quote, "f"),
            )
            assert row["time"] == fill.time.isoformat()

    recent = tmp_path / "recent.csv"
    assert cli(settings, "export", "fills", "--csv", str(recent), "--since", "24h")[0] == 0
    assert "old-1" not in {row["trade_id"] for row in rows_of(recent.read_text())}
    assert len(rows_of(recent.read_text())) == 4


def test_a_csv_export_never_contains_a_secret(make_engine, listener, cli, tmp_path):
    url = f"json://{USER}:{PASSWORD}@127.0.0.1:{listener.port}/hook"
    engine = make_engine(live=True, ALERT_URLS=url, **FAST)
    secret = engine.settings.EXCHANGE_API_SECRET.get_secret_value()
    with engine.db.session() as session:  # text that should never hold one, but does
        runs.record_sync_run(
            session,
            BookKey("live", "default"),
            kind="monitor",
            ok=False,
            message=f"signed with {secret} for {url}",
            started_at=utcnow(),
        )
        session.add(
            Alert(
                incident="sync_failed:default",
                kind="sync_failed",
                state="raised",
                title="default: the check failed",
                body=f"password {PASSWORD} refused",
                delivery="failed",
            )
        )
    for table in ("syncs", "alerts"):
        path = tmp_path / f"{table}.csv"
        argv = ("export", table, "--csv", str(path), "--mode", "live")
        assert cli(engine.settings, *argv)[0] == 0
        text = path.read_text(encoding="utf-8")
        assert "****" in text
        for value in (secret, PASSWORD, url, "demo-key"):
            assert value not in text


def test_bad_export_input_writes_nothing(make_engine, cli, tmp_path):
    settings = make_engine().settings
    target = tmp_path / "out" / "fills.csv"
    target.parent.mkdir()
    for argv, said in (
        (("--since", "yesterday"), "--since takes a duration"),
        (("--account", "nobody"), "unknown account 'nobody'"),
    ):
        code, out, err = cli(settings, "export", "fills", "--csv", str(target), *argv)
        assert code == 2 and out == "" and said in err
        assert list(target.parent.iterdir()) == []
    code, _, err = cli(settings, "export", "orders", "--csv", str(tmp_path / "no" / "x.csv"))
    assert code == 2 and "cannot write" in err and "does not exist" in err
    with pytest.raises(SystemExit) as refused:  # argparse names the tables it takes
        command_line.parser().parse_args(["export", "positions", "--csv", str(target)])
    assert refused.value.code == 2


def test_export_to_standard_output(make_engine, cli):
    engine = make_engine()
    round_trips(engine.service, 1)
    code, out, err = cli(engine.settings, "export", "orders", "--csv", "-")
    assert code == 0 and err == "wrote 2 orders to -\n"
    assert [row["side"] for row in rows_of(out)] == ["buy", "sell"]


# --- alert-test -------------------------------------------------------------------------


def test_alert_test_reaches_every_address_and_is_listed(make_engine, listener, cli):
    engine = make_engine(ALERT_URLS=f"json://127.0.0.1:{listener.port}/hooks/test")
    code, out, err = cli(engine.settings, "alert-test", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "ok": True,
        "results": [
            {
                "target": f"json://127.0.0.1:{listener.port}/hooks/test",
                "delivered": True,
                "detail": "delivered",
            }
        ],
    }
    ((path, body),) = listener.posts
    assert path == "/hooks/test" and body["title"] == "Trading dashboard: test alert"
    insights = Insights(engine.service.wiring, StoredMode(engine.service.wiring))
    [stored] = insights.alerts()
    assert (stored.kind, stored.state, stored.delivery) == ("test", "raised", "sent")


def test_alert_test_says_which_address_failed_without_its_password(make_engine, listener, cli):
    refused = f"json://{USER}:{PASSWORD}@127.0.0.1:1/hook"
    urls = f"json://127.0.0.1:{listener.port}/ok, {refused}"
    engine = make_engine(ALERT_URLS=urls, ALERT_TIMEOUT_SECONDS="2")
    code, out, err = cli(engine.settings, "alert-test")
    assert code == 1 and err == ""
    assert f"delivered  json://127.0.0.1:{listener.port}/ok" in out
    assert "FAILED     json://alice:****@127.0.0.1:1/hook: " in out
    assert "test alert delivered to 1 of 2 addresses" in out
    assert PASSWORD not in out
    with engine.db.session() as session:
        [alert] = session.scalars(select(Alert)).all()
    assert alert.delivery == "failed" and alert.delivered_at is not None
    assert alert.delivery_detail.startswith("json://127.0.0.1:1: ")
    assert USER not in alert.delivery_detail and PASSWORD not in alert.delivery_detail


def test_alert_test_without_addresses_exits_2(make_engine, cli):
    code, out, err = cli(make_engine().settings, "alert-test")
    assert code == 2 and out == "" and "ALERT_URLS is empty" in err
