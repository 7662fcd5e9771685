"""The leadership across hosts (core.store.advisory.PgLeadership) on a real PostgreSQL
database: one leader, a follower that waits on one standing connection, a hand-over when
the leader steps down, and a follower that survives losing its connection."""

from __future__ import annotations

import pytest

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
