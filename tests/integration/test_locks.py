"""The trade locks (core.operations.locks.FileTradeLocks beside SQLite, core.store.advisory.PgTradeLocks
on a real PostgreSQL database): refused at once or after a bounded wait, several symbols at
once, a lease that says when its lock is gone, and a release that fails without raising."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import text

from core.errors import LockLost, TradeBusy
from core.operations.locks import FileTradeLocks
from core.store.advisory import PgTradeLocks
from core.store.db import Database
from tests.services import (
    advisory_holders,
    pg_query,
    postgres_url,  # noqa: F401 - a fixture
)

ACCOUNT = "default"


def in_thread(target) -> tuple[threading.Thread, dict]:
    """`target()` run in a thread of its own; its result or error lands in the dict."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = target()
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def took(locks, symbol: str, wait: float) -> str:
    with locks.hold(ACCOUNT, symbol, wait=wait) as lease:
        lease.verify()
        return "took"


# --- file locks ---------------------------------------------------------------------------


@pytest.fixture
def file_locks(tmp_path) -> FileTradeLocks:
    return FileTradeLocks(tmp_path / "locks")


def test_a_file_lock_refuses_at_once_or_after_the_wait_and_is_taken_once_free(file_locks):
    release = threading.Event()
    holding = threading.Event()

    def holder():
        with file_locks.hold(ACCOUNT, "ETH/USDT"):
            holding.set()
            release.wait(60)

    holder_thread, _ = in_thread(holder)
    assert holding.wait(30)
    with pytest.raises(TradeBusy, match="a trade for ETH/USDT is already running"):
        took(file_locks, "ETH/USDT", wait=0)
    with pytest.raises(TradeBusy):
        took(file_locks, "ETH/USDT", wait=0.2)
    assert took(file_locks, "BTC/USDT", wait=0) == "took"

    waiter, outcome = in_thread(lambda: took(file_locks, "ETH/USDT", wait=60))
    release.set()
    holder_thread.join(30)
    waiter.join(60)
    assert outcome == {"result": "took"}


def test_file_hold_many_takes_the_free_symbols_and_releases_them_all(file_locks):
    with file_locks.hold(ACCOUNT, "BTC/USDT"):
        with file_locks.hold_many(ACCOUNT, ["ETH/USDT", "BTC/USDT", "SOL/USDT"]) as taken:
            assert taken == {"ETH/USDT", "SOL/USDT"}
            with pytest.raises(TradeBusy):
                took(file_locks, "SOL/USDT", wait=0)
        assert took(file_locks, "ETH/USDT", wait=0) == "took"
        assert took(file_locks, "SOL/USDT", wait=0) == "took"
        with pytest.raises(TradeBusy):
            took(file_locks, "BTC/USDT", wait=0)


def test_a_file_lease_whose_lock_file_is_gone_is_lost(file_locks):
    with file_locks.hold(ACCOUNT, "ETH/USDT") as lease:
        lease.verify()
        [lock_file] = file_locks.directory.glob("*.lock")
        lock_file.unlink()  # another process could now lock a new file of that name
        with pytest.raises(LockLost, match="ETH/USDT"):
            lease.verify()
    with pytest.raises(LockLost):
        lease.verify()


# --- PostgreSQL advisory locks -----------------------------------------------------------


@pytest.fixture
def database(postgres_url):  # noqa: F811
    database = Database.open(postgres_url)
    yield database
    database.dispose()


@pytest.fixture
def trade_locks(database) -> PgTradeLocks:
    return PgTradeLocks(database.engine)


def lock_name(symbol: str) -> str:
    return f"trade:{ACCOUNT}:{symbol}"


@pytest.mark.postgres
def test_a_pg_lock_refuses_at_once_or_after_the_wait_and_is_granted_by_postgresql(
    trade_locks,
    postgres_url,  # noqa: F811
):
    with trade_locks.hold(ACCOUNT, "ETH/USDT") as lease:
        lease.verify()
        [holder] = advisory_holders(postgres_url, lock_name("ETH/USDT"))
        with pytest.raises(TradeBusy, match="a trade for ETH/USDT is already running"):
            took(trade_locks, "ETH/USDT", wait=0)
        with pytest.raises(TradeBusy):
            took(trade_locks, "ETH/USDT", wait=0.2)
        assert took(trade_locks, "BTC/USDT", wait=0) == "took"

        waiter, outcome = in_thread(lambda: took(trade_locks, "ETH/USDT", wait=60))
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        for _ in range(600):  # PostgreSQL queues the waiter itself
            if pg_query(postgres_url, waiting) == [(1,)]:
                break
            waiter.join(0.05)
        assert pg_query(postgres_url, waiting) == [(1,)]
        assert advisory_holders(postgres_url, lock_name("ETH/USDT")) == [holder]
    waiter.join(60)
    assert outcome == {"result": "took"}
    assert advisory_holders(postgres_url, lock_name("ETH/USDT")) == []


@pytest.mark.postgres
def test_pg_hold_many_takes_the_free_symbols_on_one_connection_and_releases_them_all(
    trade_locks,
    postgres_url,  # noqa: F811
):
    with trade_locks.hold(ACCOUNT, "BTC/USDT"):
        [busy] = advisory_holders(postgres_url, lock_name("BTC/USDT"))
        with trade_locks.hold_many(
            ACCOUNT, ["ETH/USDT", "BTC/USDT", "SOL/USDT", "ETH/USDT"]
        ) as taken:
            assert taken == {"ETH/USDT", "SOL/USDT"}
            [eth] = advisory_holders(postgres_url, lock_name("ETH/USDT"))
            [sol] = advisory_holders(postgres_url, lock_name("SOL/USDT"))
            assert eth == sol != busy
        assert advisory_holders(postgres_url, lock_name("ETH/USDT")) == []
        assert advisory_holders(postgres_url, lock_name("SOL/USDT")) == []
        assert advisory_holders(postgres_url, lock_name("BTC/USDT")) == [busy]


@pytest.mark.postgres
def test_a_pg_lease_whose_backend_is_terminated_is_lost_and_its_release_only_logged(
    trade_locks,
    postgres_url,  # noqa: F811
    caplog,
):
    caplog.set_level(logging.WARNING, logger="core.operations.locks")
    with trade_locks.hold(ACCOUNT, "ETH/USDT") as lease:
        lease.verify()
        [holder] = advisory_holders(postgres_url, lock_name("ETH/USDT"))
        pg_query(postgres_url, "SELECT pg_terminate_backend(:pid)", pid=holder)
        with pytest.raises(LockLost, match="ETH/USDT"):
            lease.verify()
    # the context ended without raising; the failed release is in the log
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert (warning.account, warning.symbol) == (ACCOUNT, "ETH/USDT")
    with pytest.raises(LockLost):
        lease.verify()
    assert took(trade_locks, "ETH/USDT", wait=0) == "took"  # the pool serves a sound connection


@pytest.mark.postgres
def test_a_pg_lock_that_cannot_be_released_is_logged_not_raised(
    trade_locks,
    postgres_url,  # noqa: F811
    caplog,
):
    caplog.set_level(logging.WARNING, logger="core.operations.locks")
    with trade_locks.hold_many(ACCOUNT, ["ETH/USDT", "SOL/USDT"]) as taken:
        assert taken == {"ETH/USDT", "SOL/USDT"}
        [holder] = advisory_holders(postgres_url, lock_name("SOL/USDT"))
        pg_query(postgres_url, "SELECT pg_terminate_backend(:pid)", pid=holder)
    warned = {(r.account, r.symbol) for r in caplog.records if r.levelno == logging.WARNING}
    assert warned == {(ACCOUNT, "ETH/USDT"), (ACCOUNT, "SOL/USDT")}
    assert advisory_holders(postgres_url, lock_name("ETH/USDT")) == []


@pytest.mark.postgres
def test_the_app_engine_connections_carry_keepalives_and_a_statement_timeout(database):
    with database.engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "30s"
        assert connection.execute(text("SHOW tcp_keepalives_idle")).scalar() == "10"
        parameters = connection.connection.dbapi_connection.info.get_parameters()
    assert parameters["keepalives"] == "1"
    assert parameters["connect_timeout"] == "10"
