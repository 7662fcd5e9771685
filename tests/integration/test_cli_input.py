"""The command line as a person calls it: a number that is not plain ASCII digits is refused
with exit 2, a message on stderr and nothing written or sent; `flatten --account` of a
monitored (real) account asks first, like `flatten --live`."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys

import pytest

import app
from core.config import Settings
from tests.services import app_environment, python_app

HOW = "digits 0-9 with a dot for decimals"
TRADE = ("trade", "ETH/USDT", "--target", "LONG")
SENDS = ("POST", "DELETE")


@pytest.fixture
def settings(tmp_path, exchange, control) -> dict[str, str]:
    """A SIM/LIVE desk on the emulator and `main`, a monitored account, in ACCOUNTS_FILE."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[accounts]]\nname = "main"\nurl = "{exchange.url}"\n'
        'api_key = "demo-key"\napi_secret = "demo-secret"\n'
    )
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path}/trading.db",
        "EXCHANGE_URL": exchange.url,
        "EXCHANGE_API_KEY": "demo-key",
        "EXCHANGE_API_SECRET": "demo-secret",
        "ACCOUNTS_FILE": str(accounts),
    }


def command(args: tuple[str, ...], settings: dict) -> tuple[int, str, str]:
    """The real command line: `python app.py ARGS` in a process of its own."""
    done = subprocess.run(
        python_app(*args),
        env=app_environment(**settings),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """`app.main([...])` in this process (much faster than a subprocess), `typed` on its
    standard input; returns the exit code and what it printed."""

    def run(*args: str, typed: str = "") -> tuple[int, str, str]:
        for name in Settings.model_fields:
            monkeypatch.delenv(name, raising=False)
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
        code = app.main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def rows(tmp_path) -> dict[str, int]:
    """Every table's row count."""
    with sqlite3.connect(tmp_path / "trading.db") as db:
        tables = [t for (t,) in db.execute("select name from sqlite_master where type='table'")]
        return {t: db.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}


BAD = [
    ((*TRADE, "--size-quote", "1_000"), "Order size", HOW),
    ((*TRADE, "--size-quote", "1e999999999", "--live", "--yes"), "Order size", HOW),
    ((*TRADE, "--size-quote", "Infinity"), "Order size", "finite number"),
    ((*TRADE, "--size-pct", "\uff11\uff10\uff10"), "Order size", HOW),  # full-width 100
    ((*TRADE, "--size-pct", "\u0661\u0660\u0660", "--live", "--yes"), "Order size", HOW),
    ((*TRADE, "--size-quote", "+5"), "Order size", HOW),
    ((*TRADE, "--size-quote", ".5"), "Order size", HOW),
    ((*TRADE, "--size-quote", "1,5"), "Order size", "use a dot for decimals"),
    ((*TRADE, "--size-quote", "1" * 19), "Order size", "too large"),
    ((*TRADE, "--size-quote", "100", "--stop-loss", "1e3"), "Stop-loss", HOW),
    ((*TRADE, "--size-quote", "100", "--stop-loss", "1", "--take-profit", "NaN"), "Take", "finite"),
    (("protect", "ETH/USDT", "--stop-loss-pct", "5."), "Stop-loss %", HOW),
    (("protect", "ETH/USDT", "--stop-loss-pct", "-5", "--live"), "Stop-loss %", "above zero"),
    (("serve", "--port", "8_050"), "--port", "digits 0-9"),
    ((*TRADE, "--size-quote", "100", "--limit-price", "1e3"), "Limit price", HOW),
    (("trade", "ETH/USDT", "--target", "NO_POSITION", "--close-pct", "\uff150"), "The part", HOW),
    (("amend", "some-order", "--price", "1_000"), "Price", HOW),
    (("amend", "some-order", "--price", "NaN", "--live", "--yes"), "Price", "finite"),
]


def test_the_real_command_line_refuses_them_and_writes_nothing(tmp_path, settings, control):
    made = command((*TRADE, "--size-quote", "100"), settings)
    assert made[0] == 0, made
    before = rows(tmp_path)
    assert before["trade_jobs"] == 1 and before["account_snapshots"] >= 1
    control.clear_requests()

    for args, what, why in (
        ((*TRADE, "--size-quote", "1_000"), "Order size", HOW),
        ((*TRADE, "--size-pct", "\uff11\uff10\uff10", "--live", "--yes"), "Order size", HOW),
        (("protect", "ETH/USDT", "--stop-loss", "1e999999999", "--live"), "Stop-loss", HOW),
    ):
        code, out, err = command(args, settings)
        assert code == 2, (args, out, err)
        assert err.startswith(f"error: {what}") and why in err, (args, err)
        assert out == "", (args, out)
    assert rows(tmp_path) == before, "a refused number wrote to the database"
    assert not [r for r in control.requests_log() if r["method"] in SENDS]


@pytest.mark.parametrize(("args", "what", "why"), BAD)
def test_every_numeric_option_takes_only_ascii_decimals(tmp_path, cli, control, args, what, why):
    code, out, err = cli(*args)
    assert code == 2, (out, err)
    assert err.startswith(f"error: {what}") and why in err, err
    assert out == ""
    assert not (tmp_path / "trading.db").exists(), "refused before the database is opened"
    assert not [r for r in control.requests_log() if r["method"] in SENDS]


def test_flatten_of_a_monitored_account_asks_first(tmp_path, cli, control):
    unasked = cli("flatten", "--account", "main")
    assert unasked[0] == 2 and "not confirmed; nothing was sent" in unasked[2], unasked
    assert "Flatten main (LIVE, monitored)?" in unasked[1]
    assert rows(tmp_path)["halts"] == 0
    assert not [r for r in control.requests_log() if r["method"] in SENDS]

    declined = cli("flatten", "--account", "main", typed="n\n")
    assert declined[0] == 2 and rows(tmp_path)["halts"] == 0

    answered = cli("flatten", "--account", "main", typed="y\n")
    assert answered[0] == 0, answered
    assert "Flatten main (LIVE, monitored)?" in answered[1]
    assert rows(tmp_path)["halts"] == 1

    assert cli("resume", "--account", "main", "--yes")[0] == 0
    assert rows(tmp_path)["halts"] == 0
    skipped = cli("flatten", "--account", "main", "--yes", "--json")
    assert skipped[0] == 0, skipped
    assert "Flatten main" not in skipped[1]
    assert rows(tmp_path)["halts"] == 1


def test_yes_is_refused_where_flatten_asks_nothing(cli):
    code, _, err = cli("flatten", "--yes")
    assert code == 2 and "--yes only applies to --live, --all or a monitored --account" in err


def test_an_accounts_file_naming_the_traded_account_stops_the_command(tmp_path, cli):
    (tmp_path / "accounts.toml").write_text(
        '[[accounts]]\nname = "default"\napi_key = "k"\napi_secret = "s"\n'
    )
    code, out, err = cli("diagnose")
    assert code == 2 and out == ""
    assert err.startswith("error: ACCOUNTS_FILE") and "'default' is the traded account's" in err
