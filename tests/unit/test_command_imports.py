"""Each command imports only what it uses: the command line answers in under a second when
it does not load the page (Dash, plotly, Flask), pandas, Celery or the emulator's server it
never touches (bench/bench_commands.py gives the times; this test names the modules).

Every command runs for real, as a person runs it (`python app.py ...` in a process of its
own, on an SQLite database already at the newest schema, SIM on the session's emulator), and
reports the modules it had loaded when it exited. Trades stay SIM (no --live)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.services import ROOT, app_environment

# what no one-shot command uses: the page and its background machinery, the emulator's HTTP
# server, PostgreSQL's and Redis' clients on SQLite without Redis, alembic on a schema at the
# head, apprise without ALERT_URLS
NEVER = {
    "dash",
    "plotly",
    "flask",
    "flask_caching",
    "dash_bootstrap_components",
    "celery",
    "kombu",
    "diskcache",
    "multiprocess",
    "gunicorn",
    "web",
    "aiohttp",
    "emulator.server",
    "psycopg",
    "redis",
    "alembic",
    "apprise",
}
PANDAS = {"pandas", "numpy"}
# in the order they run: each works on what the ones before left (a LONG to protect, a
# position to flatten, events to acknowledge)
COMMANDS = {
    "--help": ["--help"],
    "trade": ["trade", "ETH/USDT", "--target", "LONG"],
    "diagnose": ["diagnose"],
    "sync": ["sync", "--execute"],
    "protect": ["protect", "ETH/USDT", "--stop-loss", "1"],
    "orders": ["orders"],
    "cancel": ["cancel", "--symbol", "ETH/USDT"],  # nothing open: cancels nothing, exit 0
    "events": ["events"],
    "ack": ["ack", "--all"],
    "flatten": ["flatten"],
    "resume": ["resume", "--yes"],
    "health": ["health"],
    "results": ["results"],
    "export": ["export", "fills", "--csv", "-"],
    "alert-test": ["alert-test"],  # to ALERT_URLS: nothing listens there (exit 1)
}
USES_PANDAS = {"health", "results", "export"}
# on one pytest-xdist worker: the module's fixture runs all fifteen commands, once per worker
# that takes one of its tests (25 s each under CI's load)
pytestmark = pytest.mark.xdist_group("command-imports")
USES_APPRISE = {"alert-test"}
ALERTING = {"ALERT_URLS": "json://127.0.0.1:1/hook", "ALERT_TIMEOUT_SECONDS": "1"}

RUN_AND_REPORT = """
import atexit, json, runpy, sys
sys.argv = sys.argv[1:]
atexit.register(lambda: print("MODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr))
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, exchange) -> dict[str, tuple[int, set[str], str]]:
    """command -> (exit code, the modules it had loaded, what it wrote to stderr)."""
    folder = tmp_path_factory.mktemp("commands")
    env = app_environment(
        DATABASE_URL=f"sqlite:///{folder}/trading.db",
        EXCHANGE_URL=exchange.url,
        EXCHANGE_API_KEY="demo-key",  # diagnose and sync read the LIVE account
        EXCHANGE_API_SECRET="demo-secret",
    )
    run(env, folder, ["diagnose"])  # creates the database: its first run migrates it
    return {
        name: run({**env, **(ALERTING if name in USES_APPRISE else {})}, folder, argv)
        for name, argv in COMMANDS.items()
    }


def run(env: dict, folder, argv: list[str]) -> tuple[int, set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, str(ROOT / "app.py"), *argv],
        env=env,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = [line for line in done.stderr.splitlines() if line.startswith("MODULES ")]
    assert report, done.stderr
    modules = set(json.loads(report[-1].removeprefix("MODULES ")))
    return done.returncode, modules, done.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_loads_nothing_it_does_not_use(loaded, command):
    code, modules, stderr = loaded[command]
    assert code in (0, 1), f"{command} exited {code}: {stderr[-2000:]}"
    forbidden = NEVER if command in USES_PANDAS else NEVER | PANDAS
    if command in USES_APPRISE:
        forbidden = forbidden - {"apprise"}
    assert {name for name in forbidden if name in modules} == set()


def test_help_loads_no_engine(loaded):
    _, modules, _ = loaded["--help"]
    assert {"ccxt", "sqlalchemy", "pydantic", "runtime"} & modules == set()


def test_the_reports_do_load_pandas(loaded):
    """The check above would pass vacuously if nothing ran: the reports do use pandas."""
    for command in USES_PANDAS:
        assert "pandas" in loaded[command][1], command
