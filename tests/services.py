"""The real servers the scale-out tests need, and the app as separate processes.

PostgreSQL (`TEST_POSTGRES_URL`, by default postgres on 127.0.0.1:5432, trust auth) gives
each test a fresh database of its own, dropped afterwards; Redis (`TEST_REDIS_URL`, by
default 127.0.0.1:6379) gives each test one of the databases 10-15, emptied before and
after. A test that needs a server which does not answer is skipped, and the reason names
the setting and the address. `RedisServer` is a redis-server of the test's own, on a free
port, that the test may stop and start again (Redis lost while the app runs).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_TEST_DBS = range(10, 16)
CLAIM_KEY = "__scale_out_test_claim__"
CLAIM_SECONDS = 900
# Every setting the app reads: a child process gets only the ones its test sets.
APP_SETTING = re.compile(
    r"^(TRADING_|EXCHANGE|DATABASE_|SYMBOLS$|SYNC_|HOST$|PORT$|DASHBOARD_|SIM_|MAX_|STALE_"
    r"|ACCOUNTS_FILE$|REDIS_URL$|STOP_WATCH|ALERT_|REQUIRE_STOP|LOG_|RECV_WINDOW|WEB_CONCURRENCY$"
    r"|PROMETHEUS_MULTIPROC_DIR$)"
)


# --- PostgreSQL ------------------------------------------------------------------------


@functools.cache
def postgres_missing(url: str = PG_URL, setting: str = "TEST_POSTGRES_URL") -> str | None:
    """Why the PostgreSQL at `url` (named by the environment `setting`) cannot be used, or
    None."""
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any failure to connect means: skip, and say why
        where = sa.make_url(url).render_as_string(hide_password=True)
        return f"PostgreSQL not reachable at {where} ({setting}; {type(exc).__name__})"
    return None


def _admin() -> sa.Engine:
    return sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@contextlib.contextmanager
def fresh_postgres_database(prefix: str = "scale"):
    """A new, empty PostgreSQL database: yields its SQLAlchemy URL; dropped afterwards
    (with every connection to it still open)."""
    if postgres_missing():
        pytest.skip(postgres_missing())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _admin()
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def database_of_kind(kind: str, folder: Path, name: str):
    """A real, empty database of the kind ("sqlite": a file in `folder`; "postgresql": a fresh
    database, skipped where none runs), opened as the app opens it; disposed afterwards."""
    from core.store.db import Database

    if kind == "sqlite":
        database = Database.open(f"sqlite:///{folder}/{name}.db")
        yield database
        database.dispose()
        return
    with fresh_postgres_database(name) as url:
        database = Database.open(url)
        yield database
        database.dispose()


@pytest.fixture
def postgres_url():
    """The SQLAlchemy URL of a fresh PostgreSQL database of this test's own."""
    with fresh_postgres_database() as url:
        yield url


def pg_query(url: str, sql: str, **params) -> list[tuple]:
    """Rows of one statement, on a connection of the test's own (not the app's)."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            result = connection.execute(sa.text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def advisory_holders(url: str, name: str) -> list[int]:
    """Backend pids holding the session advisory lock `name` (keyed as core.store.advisory
    keys it: hashtextextended(name, 0)) in the database of `url`."""
    return [
        pid
        for (pid,) in pg_query(
            url,
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database,"
            " hashtextextended(:name, 0) AS k"
            " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
            " AND l.objsubid = 1 AND l.classid::bigint = (k >> 32) & 4294967295"
            " AND l.objid::bigint = k & 4294967295",
            name=name,
        )
    ]


# --- Redis -----------------------------------------------------------------------------


@functools.cache
def redis_missing() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL} (TEST_REDIS_URL; {type(exc).__name__})"
    return None


@contextlib.contextmanager
def claimed_redis_database():
    """One of Redis databases 10-15 that no other test run holds (a claim key, set only if
    absent), emptied before and after use: yields its redis:// URL."""
    if redis_missing():
        pytest.skip(redis_missing())
    token = uuid.uuid4().hex
    for number in REDIS_TEST_DBS:
        client = redis.Redis.from_url(f"{REDIS_URL}/{number}")
        if client.set(CLAIM_KEY, token, nx=True, ex=CLAIM_SECONDS):
            break
        client.close()
    else:
        pytest.skip("every Redis test database (10-15) is claimed by another test run")
    try:
        for key in client.scan_iter(count=1000):
            if key != CLAIM_KEY.encode():
                client.delete(key)
        yield f"{REDIS_URL}/{number}"
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def redis_url():
    """A redis:// URL of an emptied Redis database (10-15) this test alone uses."""
    with claimed_redis_database() as url:
        yield url


class RedisServer:
    """A redis-server of the test's own on a free port, without persistence; `stop()` kills
    it (Redis lost), `start()` brings it back on the same port."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server not installed: apt-get install redis-server")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise AssertionError(
                        f"redis-server did not start on port {self.port}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed: apt-get install redis-server")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# --- processes -------------------------------------------------------------------------


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def app_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any app setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not APP_SETTING.match(k)}
    env.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **settings})
    return env


class AppProcess:
    """One app process (python app.py ..., gunicorn, celery) in a session of its own, its
    stdout and stderr in one log file."""

    def __init__(self, args: list[str], env: dict, log: Path, cwd: Path | None = None):
        self.args = args
        self.log_path = log
        self._log = log.open("w")
        self.process = subprocess.Popen(
            args,
            cwd=cwd or ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, words: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while words not in self.text():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.args} exited before {words!r}:\n{self.text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {words!r} within {seconds} s:\n{self.text()}")
            time.sleep(0.05)

    def wait_until_serving(self, url: str, seconds: float = 30) -> None:
        """Until `url` answers with success (2xx); AssertionError when the process exits
        first or the time runs out."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"{self.args} exited:\n{self.text()[-2000:]}"
            try:
                with urllib.request.urlopen(url, timeout=10):
                    return
            except OSError:  # refused, reset, or an HTTP error status: not serving yet
                time.sleep(0.1)
        raise AssertionError(f"{self.args} did not answer {url} within {seconds} s")

    def kill(self) -> None:
        """kill -9 of the whole session (the process and any child it started)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, seconds: float = 20) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.kill()
        elif not _pid_in_use(self.process.pid):
            # the leader ended already; its session may still hold children. A pid taken by
            # a new process means the group is gone (Linux reuses no pid a group still holds)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self._log.close()


def _pid_in_use(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def python_app(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "app.py"), *args]
