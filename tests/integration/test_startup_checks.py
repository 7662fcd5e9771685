"""Start-up on several machines: a server the settings name but that does not answer stops
every long-running and one-shot command at once, with one line that names the setting and
the address (never a password) and nothing half-started; and two instances starting at the
same moment on a new PostgreSQL database both start."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.services import ROOT, app_environment, free_port, fresh_postgres_database, python_app

DB_PASSWORD = "pgpw-7x"
REDIS_PASSWORD = "pw"
UNREACHABLE = {
    "postgresql": {
        "DATABASE_URL": f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:5499/x",
        "expected": "Setting DATABASE_URL: cannot reach the database at 127.0.0.1:5499",
    },
    "redis": {
        "REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:6399/0",
        "expected": "Setting REDIS_URL: cannot reach Redis at 127.0.0.1:6399",
    },
}
# one worker runs these: they look for demo exchanges started on the project's own data/
pytestmark = pytest.mark.xdist_group("project-data-folder")
COMMANDS = {"serve": ["serve"], "worker": ["worker"], "diagnose": ["diagnose"]}


def demo_exchanges(folder: Path) -> set[int]:
    """Pids of the demo exchanges running on `folder` (emulator.daemon starts them as
    `python -m emulator --state-file FOLDER/state.json ...`)."""
    found = set()
    for process in psutil.process_iter(["pid", "cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if "-m emulator" in line and f"--state-file {folder}/" in line:
            found.add(process.info["pid"])
    return found


def demo_folder(server: str, home: Path) -> Path:
    """Where the app would start its demo exchange: beside an SQLite file, else data/."""
    return (ROOT / "data" if server == "postgresql" else home / "data") / "demo-exchange"


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def start(tmp_path: Path, server: str, command: str) -> tuple[subprocess.CompletedProcess, Path]:
    """One command against one unreachable server, as a fresh host would start it: its own
    working and temp folders, no exchange configured (so it would start the local demo
    exchange if it went that far), the other server left out or on an SQLite file."""
    home = tmp_path / "host"
    (home / "tmp").mkdir(parents=True)
    case = UNREACHABLE[server]
    settings = {key: value for key, value in case.items() if key != "expected"}
    settings.setdefault("DATABASE_URL", f"sqlite:///{home / 'data' / 'trading.db'}")
    env = app_environment(**settings, TMPDIR=str(home / "tmp"), PORT=str(free_port()))
    # the timeout only keeps a hang from stopping the suite; that start-up gave up by itself
    # is what the caller checks: an exit of its own with the one line naming the server
    done = subprocess.run(
        python_app(*COMMANDS[command]),
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, home


@pytest.mark.parametrize("server", sorted(UNREACHABLE))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_unreachable_server_stops_start_up_with_one_line(tmp_path, server, command):
    """serve, worker and diagnose with PostgreSQL or Redis unreachable: one stderr line naming
    the setting and the address without the password, a non-zero exit, nothing started."""
    folder = demo_folder(server, tmp_path / "host")
    before = demo_exchanges(folder)
    done, home = start(tmp_path, server, command)

    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert UNREACHABLE[server]["expected"] in lines[0], lines[0]
    for secret in (DB_PASSWORD, f":{REDIS_PASSWORD}@"):
        assert secret not in done.stderr + done.stdout
    assert not re.search(rf"\b{REDIS_PASSWORD}\b", done.stderr + done.stdout), done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == "", "nothing may claim to be running"

    assert demo_exchanges(folder) <= before, "a demo exchange was started"
    # the working folder holds nothing new: no database file, no demo exchange, no locks;
    # the temp folder holds at most the (empty) metrics folder of a long-running command
    assert files_under(home) == ["tmp", *(f"tmp/{n}" for n in _metrics_dirs(home))]
    for name in _metrics_dirs(home):
        assert files_under(home / "tmp" / name) == []


def _metrics_dirs(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "tmp").glob("trading-metrics-*"))


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_failed_start_leaves_no_temp_folder(tmp_path, command):
    """A serve or worker that could not start leaves nothing in the temp folder either."""
    done, home = start(tmp_path, "postgresql", command)
    assert done.returncode != 0
    assert _metrics_dirs(home) == []


OPEN_AT = """
    import sys, time
    from runtime import open_database
    from core.config import load_settings

    go = float(sys.argv[1])
    while time.time() < go:
        time.sleep(0.001)
    open_database(load_settings()).dispose()
    print("started", flush=True)
"""


@pytest.mark.postgres
def test_two_instances_starting_together_on_a_new_postgresql_database_both_start(tmp_path):
    """Two hosts opening (and so migrating) a new PostgreSQL database at the same moment
    both start; neither fails on the other's half-made schema."""
    with fresh_postgres_database() as url:
        go = time.time() + 3  # both have imported the app by then
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(OPEN_AT), str(go)],
                cwd=ROOT,
                env=app_environment(DATABASE_URL=url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outcomes = [(p.wait(timeout=60), *p.communicate()) for p in processes]
    for code, out, err in outcomes:
        assert code == 0 and out.strip() == "started", err[-2000:]
