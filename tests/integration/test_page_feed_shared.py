"""The page feed where processes share Redis (gunicorn's workers, several hosts): one of
them per period reads the book's view, the others prepare the view it stored. Invariant:
within one period the view is read once however many processes feed, every process hands
that same view (its version) to its page, and when the reader's claim runs out another
process reads the next one. Two engines over one database and one Redis stand for two
processes (each its own ReadModels, cache client and claim)."""

from __future__ import annotations

import time

from tests.services import redis_url  # noqa: F401 - a fixture

PERIOD = 0.5


def fed(engine, name: str, reads_of: dict, prepared: dict) -> None:
    """Count the engine's view reads (its own method, called through) and keep the views
    handed to its page."""
    reads = engine.service.reads
    read_view = reads._dashboard

    def counted(mode):
        reads_of[name] = reads_of.get(name, 0) + 1
        return read_view(mode)

    reads._dashboard = counted
    prepared[name] = []
    reads.on_new_view.append(prepared[name].append)


def test_processes_sharing_redis_read_the_view_once_per_period(make_engine, redis_url):  # noqa: F811
    first = make_engine(REDIS_URL=redis_url)
    second = make_engine(REDIS_URL=redis_url)
    reads_of, prepared = {}, {}
    fed(first, "first", reads_of, prepared)
    fed(second, "second", reads_of, prepared)

    first.service.reads.feed_dashboard(PERIOD)
    second.service.reads.feed_dashboard(PERIOD)
    assert reads_of == {"first": 1}
    [view] = prepared["first"]
    assert [v.version for v in prepared["second"]] == [view.version]

    second.service.reads.feed_dashboard(PERIOD)  # the same view: nothing new to prepare
    assert len(prepared["second"]) == 1

    deadline = time.monotonic() + 10
    while "second" not in reads_of and time.monotonic() < deadline:
        time.sleep(PERIOD / 5)  # until the first's claim runs out
        second.service.reads.feed_dashboard(PERIOD)
    assert reads_of.get("second") == 1, "the claim never ran out"


def test_one_process_without_redis_reads_the_view_every_round(make_engine):
    engine = make_engine()
    reads_of, prepared = {}, {}
    fed(engine, "alone", reads_of, prepared)
    engine.service.reads.feed_dashboard(PERIOD)
    engine.service.reads.feed_dashboard(PERIOD)
    assert reads_of == {"alone": 2} and len(prepared["alone"]) == 1  # unchanged: kept
