"""`export --csv FILE` on a real database: it creates or replaces only a regular file
(anything else at FILE is refused and left as it was), keeps the SIM and LIVE books apart,
writes money digit for digit; and the page's CSV download of a LIVE page holds LIVE rows
only, asked over HTTP as a browser tab asks."""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

import runtime
from cli import insights_commands
from cli import parser as command_line
from core.config import load_settings
from core.domain import Mode, PositionState, TradeSize
from core.store.models import FillRecord, LedgerEntry, Order, SyncRun, utcnow
from tests.conftest import DEMO
from tests.page_requests import callback_request
from web import ids
from web import insights_ids as iids

LONG, FLAT = PositionState.LONG, PositionState.NO_POSITION
ETH = "ETH/USDT"
FAST = {"RECV_WINDOW_MS": "1000", "EXCHANGE_TIMEOUT_MS": "1000"}
TINY = Decimal("0.000000012")  # str() would write 1.2E-8
REFUSED = ", and export only creates or replaces a regular file"


@pytest.fixture
def cli(capsys):
    """Runs one command against `settings`: (exit code, stdout, stderr)."""

    def run(settings, *argv: str) -> tuple[int, str, str]:
        code = command_line.run(
            command_line.parser().parse_args(argv), settings, runtime.build_engine
        )
        out, err = capsys.readouterr()
        return code, out, err

    return run


def trade_both_books(service) -> None:
    """One round trip in each book, a fill of many decimals in each, and the dashboard left
    in LIVE."""
    for mode in (Mode.SIM, Mode.LIVE):
        assert service.modes.request(mode).ok
        assert service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(1000))).ok
        assert service.trading.trade(ETH, FLAT).ok
        with service.wiring.db.session() as session:
            session.add(
                FillRecord(
                    mode=mode.value,
                    account="default",
                    symbol=ETH,
                    trade_id=f"tiny-{mode.value}",
                    client_order_id=f"tiny-{mode.value}",
                    side="buy",
                    qty=Decimal("0.123456789012345678"),
                    price=Decimal("1234.50"),
                    fee=TINY,
                    fee_asset="USDT",
                    fee_quote=TINY,
                    time=utcnow(),
                )
            )


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def ids_of(db, model, mode: str) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(model.id).where(model.mode == mode)))


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# --- only regular files -----------------------------------------------------------------


def a_directory(tmp_path: Path) -> Path:
    target = tmp_path / "exports" / "fills.csv"
    target.mkdir(parents=True)
    (target / "inside.txt").write_text("kept")
    return target


def a_fifo(tmp_path: Path) -> Path:
    target = tmp_path / "exports" / "fills.csv"
    target.parent.mkdir()
    os.mkfifo(target)
    return target


def a_symlink(tmp_path: Path) -> Path:
    outside = tmp_path / "elsewhere" / "notes.txt"
    outside.parent.mkdir()
    outside.write_text("not an export")
    target = tmp_path / "exports" / "fills.csv"
    target.parent.mkdir()
    target.symlink_to(outside)
    return target


def a_dangling_symlink(tmp_path: Path) -> Path:
    target = tmp_path / "exports" / "fills.csv"
    target.parent.mkdir()
    target.symlink_to(tmp_path / "elsewhere" / "new.csv")
    return target


def dev_null(_tmp_path: Path) -> Path:
    return Path(os.devnull)


def a_missing_folder(tmp_path: Path) -> Path:
    return tmp_path / "no-such-folder" / "fills.csv"


def what_is_at(target: Path) -> tuple:
    """The target's own status (not followed) and its folder's names; None where nothing is."""
    status = os.lstat(target) if os.path.lexists(target) else None
    seen = None if status is None else (status.st_mode, status.st_ino, status.st_rdev)
    folder = target.parent
    return seen, listing(folder) if folder.is_dir() else None


@pytest.mark.parametrize(
    ("make_target", "said"),
    [
        (a_directory, "it is a directory" + REFUSED),
        (dev_null, "it is a device" + REFUSED),
        (a_fifo, "it is a FIFO" + REFUSED),
        (a_symlink, "it is a symbolic link (not followed)" + REFUSED),
        (a_dangling_symlink, "it is a symbolic link (not followed)" + REFUSED),
        (a_missing_folder, "its folder {folder} does not exist"),
    ],
)
def test_anything_but_a_regular_file_is_refused_and_left_as_it_was(
    make_engine, cli, tmp_path, make_target, said
):
    engine = make_engine()
    assert engine.service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(100))).ok
    target = make_target(tmp_path)
    before = what_is_at(target)
    texts = {path: path.read_text() for path in tmp_path.rglob("*.txt")}

    code, out, err = cli(engine.settings, "export", "fills", "--csv", str(target))

    assert (code, out) == (2, "")
    assert err == f"error: cannot write {target}: {said.format(folder=target.parent)}\n"
    assert what_is_at(target) == before  # the same node, and no temporary file beside it
    assert {path: path.read_text() for path in tmp_path.rglob("*.txt")} == texts
    assert not (tmp_path / "elsewhere" / "new.csv").exists()


def test_a_regular_file_is_replaced_whole_and_a_new_one_is_the_owners_only(
    make_engine, cli, tmp_path
):
    engine = make_engine()
    assert engine.service.trading.trade(ETH, LONG, TradeSize(quote_amount=Decimal(100))).ok
    folder = tmp_path / "exports"
    folder.mkdir()
    old = folder / "orders.csv"
    old.write_text("an older export\n")
    old.chmod(0o640)
    first = old.stat()

    code, out, err = cli(engine.settings, "export", "orders", "--csv", str(old))

    assert (code, err) == (0, "") and out == f"wrote 1 order to {old}\n"
    replaced = old.stat()
    assert replaced.st_ino != first.st_ino  # a new file renamed over it, not rewritten in place
    assert stat.S_IMODE(replaced.st_mode) == 0o640  # the replaced file's permissions stay
    assert [row["side"] for row in rows_of(old.read_text())] == ["buy"]

    new = folder / "fills.csv"
    assert cli(engine.settings, "export", "fills", "--csv", str(new))[0] == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert listing(folder) == ["fills.csv", "orders.csv"]


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary_one(
    make_engine, cli, tmp_path, monkeypatch
):
    engine = make_engine()
    folder = tmp_path / "exports"
    folder.mkdir()
    old = folder / "orders.csv"
    old.write_text("an older export\n")

    def disk_error(_descriptor):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(insights_commands.os, "fsync", disk_error)
    code, out, err = cli(engine.settings, "export", "orders", "--csv", str(old))

    assert (code, out) == (2, "") and err == f"error: cannot write {old}: Input/output error\n"
    assert old.read_text() == "an older export\n"
    assert listing(folder) == ["orders.csv"]


# --- one book at a time, money to the digit ---------------------------------------------


def test_mode_keeps_the_sim_and_live_books_apart(make_engine, cli, tmp_path):
    engine = make_engine(live=True, **FAST)
    trade_both_books(engine.service)
    settings = engine.settings
    for table, model in (("fills", FillRecord), ("orders", Order), ("syncs", SyncRun)):
        for mode in ("sim", "live"):
            path = tmp_path / f"{table}-{mode}.csv"
            code, _, err = cli(settings, "export", table, "--csv", str(path), "--mode", mode)
            assert (code, err) == (0, "")
            exported = rows_of(path.read_text())
            assert {row["mode"] for row in exported} == {mode}
            assert sorted(int(row["id"]) for row in exported) == ids_of(engine.db, model, mode)
        # without --mode: the book the dashboard is in, LIVE
        path = tmp_path / f"{table}-default.csv"
        assert cli(settings, "export", table, "--csv", str(path))[0] == 0
        assert path.read_text() == (tmp_path / f"{table}-live.csv").read_text()


def test_money_is_written_as_exact_decimals(make_engine, cli, tmp_path):
    engine = make_engine(live=True, **FAST)
    trade_both_books(engine.service)
    path = tmp_path / "fills.csv"
    assert cli(engine.settings, "export", "fills", "--csv", str(path), "--mode", "sim")[0] == 0
    rows = {row["trade_id"]: row for row in rows_of(path.read_text())}
    assert rows["tiny-sim"]["qty"] == "0.123456789012345678"
    assert rows["tiny-sim"]["price"] == "1234.50"
    assert rows["tiny-sim"]["fee"] == rows["tiny-sim"]["fee_quote"] == "0.000000012"
    with engine.db.session() as session:
        for fill in session.scalars(select(FillRecord).where(FillRecord.mode == "sim")):
            row = rows[fill.trade_id]
            for column in ("qty", "price", "fee", "fee_quote"):
                assert row[column] == format(getattr(fill, column), "f")
                assert Decimal(row[column]) == getattr(fill, column)


# --- the page's download ----------------------------------------------------------------


@pytest.fixture
def dashboard(tmp_path, exchange, control):
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/trading.db",
        EXCHANGE_URL=exchange.url,
        TRADING_MODE="sim",
        **DEMO,
        **FAST,
    )
    running = runtime.build_runtime(settings)
    yield running
    running.close()


def post(client, spec: dict, values: dict, state: dict, changed: str) -> dict:
    answer = client.post(
        "/_dash-update-component", json=callback_request(spec, values, state, changed)
    )
    assert answer.status_code == 200, answer.data[:300]
    return answer.get_json()["response"]


def test_the_csv_a_live_page_downloads_holds_live_rows_only(dashboard):
    service = dashboard.engine.service
    trade_both_books(service)
    client = dashboard.dash_app.server.test_client()
    dependencies = client.get("/_dash-dependencies").get_json()
    refresh = next(d for d in dependencies if f"{iids.RESULTS_SEEN}.data" in d["output"])
    download = next(d for d in dependencies if f"{iids.RESULTS_DOWNLOAD}.data" in d["output"])
    window = (iids.RESULTS_WINDOW, "value")

    shown = post(
        client,
        refresh,
        {
            (ids.PAGE_TABS, "active_tab"): iids.RESULTS_TAB,
            (ids.REFRESH, "n_intervals"): 1,
            window: "24h",
        },
        {},
        f"{ids.REFRESH}.n_intervals",
    )
    assert shown[iids.RESULTS_BOOK]["data"] == "live"
    state = {(iids.RESULTS_BOOK, "data"): "live", window: "24h"}
    for button, table, model in (
        (iids.RESULTS_EXPORT_LEDGER, "ledger", LedgerEntry),
        (iids.RESULTS_EXPORT_FILLS, "fills", FillRecord),
        (iids.RESULTS_EXPORT_ORDERS, "orders", Order),
    ):
        sent = post(client, download, {(button, "n_clicks"): 1}, state, f"{button}.n_clicks")
        data = sent[iids.RESULTS_DOWNLOAD]["data"]
        assert data["filename"].startswith(f"{table}-live-24h-")
        rows = rows_of(data["content"])
        assert rows and {row["mode"] for row in rows} == {"live"}
        assert sorted(int(row["id"]) for row in rows) == ids_of(service.wiring.db, model, "live")
