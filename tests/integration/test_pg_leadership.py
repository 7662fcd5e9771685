"""The leadership across hosts (core.store.advisory.PgLeadership) on a real PostgreSQL
database: one leader, a follower that waits on one standing connection, a hand-over when
the leader steps down, a follower that survives losing its connection, connections that
find a lost peer and bound their statements, and a question stuck on the network that
keeps no other thread waiting."""

from __future__ import annotations

import socket
import threading

import pytest
from sqlalchemy import make_url, text

from core.store.advisory import PgLeadership
from tests.services import (
    advisory_holders,
    pg_query,
    postgres_url,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.postgres

NAME = "leader:default"


def backends(url: str) -> list[int]:
    """Backend pids connected to the test's database, the asking one excepted."""
    return [
        pid
        for (pid,) in pg_query(
            url,
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
    ]


@pytest.fixture
def two_hosts(postgres_url):  # noqa: F811
    first, second = PgLeadership(postgres_url, "default"), PgLeadership(postgres_url, "default")
    yield first, second
    first.step_down()
    second.step_down()


def test_one_leads_and_the_follower_waits_on_one_standing_connection(two_hosts, postgres_url):  # noqa: F811
    leader, follower = two_hosts
    assert leader.lead() is True
    assert follower.lead() is False
    connected = sorted(backends(postgres_url))
    assert len(connected) == 2

    for _ in range(20):
        assert leader.lead() is True
        assert follower.lead() is False

    assert sorted(backends(postgres_url)) == connected, "a follower opened new connections"
    assert len(advisory_holders(postgres_url, NAME)) == 1


def test_the_follower_takes_over_when_the_leader_steps_down(two_hosts, postgres_url):  # noqa: F811
    leader, follower = two_hosts
    assert leader.lead() is True
    assert follower.lead() is False
    [holder] = advisory_holders(postgres_url, NAME)

    leader.step_down()

    assert follower.lead() is True
    [new_holder] = advisory_holders(postgres_url, NAME)
    assert new_holder != holder
    assert leader.lead() is False


def test_a_follower_whose_connection_is_killed_connects_again(two_hosts, postgres_url):  # noqa: F811
    leader, follower = two_hosts
    assert leader.lead() is True
    assert follower.lead() is False
    [holder] = advisory_holders(postgres_url, NAME)
    [waiting] = [pid for pid in backends(postgres_url) if pid != holder]
    pg_query(postgres_url, "SELECT pg_terminate_backend(:pid)", pid=waiting)

    assert follower.lead() is False  # the broken connection is dropped, not a crash
    leader.step_down()
    assert follower.lead() is True
    assert len(advisory_holders(postgres_url, NAME)) == 1


def test_a_leader_whose_lock_is_taken_away_steps_down(two_hosts, postgres_url):  # noqa: F811
    leader, follower = two_hosts
    assert leader.lead() is True
    [holder] = advisory_holders(postgres_url, NAME)
    pg_query(postgres_url, "SELECT pg_terminate_backend(:pid)", pid=holder)

    assert leader.lead() is False
    assert follower.lead() is True
    assert leader.lead() is False


def test_the_leadership_connection_carries_keepalives_and_a_statement_timeout(two_hosts):
    leader, _ = two_hosts
    assert leader.lead() is True
    connection = leader._connection  # the dedicated connection the lock lives on
    assert connection.execute(text("SHOW statement_timeout")).scalar() == "5s"
    assert connection.execute(text("SHOW tcp_keepalives_idle")).scalar() == "10"
    connection.commit()
    dbapi = connection.connection.dbapi_connection
    parameters = dbapi.info.get_parameters()
    assert (parameters["keepalives"], parameters["connect_timeout"]) == ("1", "5")
    with socket.socket(fileno=socket.dup(dbapi.pgconn.socket)) as client:
        assert client.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


class FreezingProxy:
    """A TCP relay to PostgreSQL that can stop relaying: a network that swallows a query
    without a word (`frozen` set), and tells (`swallowed`) once it has held some back."""

    def __init__(self, url: str):
        target = make_url(url)
        self.target = (target.host, target.port or 5432)
        self.frozen = threading.Event()
        self.thawed = threading.Event()
        self.swallowed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = target.set(port=self.listener.getsockname()[1]).render_as_string(
            hide_password=False
        )
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._relay, args=(source, sink), daemon=True).start()

    def _relay(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.frozen.is_set():
                    self.swallowed.set()
                    self.thawed.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()

    def thaw(self) -> None:
        self.frozen.clear()
        self.thawed.set()

    def close(self) -> None:
        self.thaw()
        self.listener.close()


def test_a_question_stuck_on_the_network_keeps_no_other_thread_waiting(postgres_url):  # noqa: F811
    proxy = FreezingProxy(postgres_url)
    leader = PgLeadership(proxy.url, "default")
    try:
        assert leader.lead() is True
        proxy.frozen.set()
        stuck = threading.Thread(target=leader.lead, daemon=True)
        stuck.start()
        assert proxy.swallowed.wait(30), "the stuck thread's question never left"

        answers = []
        for _ in range(600):  # the stop watcher's thread asking while the other is stuck
            answers.append(leader.lead())
            if not answers[-1]:
                break
            stuck.join(0.05)
        assert answers[-1] is False, "a stale leadership was still trusted"
        assert stuck.is_alive(), "the answers came only once the stuck question ended"
    finally:
        proxy.close()
        leader.step_down()
