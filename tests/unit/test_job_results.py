"""A background job's result reaches the page however its end falls between the two reads
of Dash's poll (the result first, whether the job still runs second: a job found ended
with no result read is taken for cancelled, and the page stops polling)."""

from __future__ import annotations

import threading

import diskcache
import pytest

from web.threaded_jobs import ThreadedJobs

KEY = "the-trade's-result"


@pytest.fixture
def jobs(tmp_path):
    manager = ThreadedJobs(diskcache.Cache(str(tmp_path)), workers=1)
    yield manager
    manager.shutdown()


def started(jobs: ThreadedJobs, result: object) -> tuple[str, threading.Event]:
    """A job that stores `result` once released, as Dash's job function does, then ends;
    its id as the page sends it back (a string)."""
    release = threading.Event()

    def job_fn(key, _progress_key, _args, _context):
        assert release.wait(10)
        jobs.handle.set(key, result)

    return str(jobs.call_job_fn(KEY, job_fn, (), {})), release


def ended(jobs: ThreadedJobs) -> None:
    """Until the job has ended: its one worker thread takes the next task only then."""
    jobs._pool.submit(lambda: None).result(timeout=10)


def test_a_result_stored_between_the_polls_two_reads_is_read_by_the_next_poll(jobs):
    job, release = started(jobs, ("Failed: ETH/USDT → LONG", "why"))
    assert jobs.get_result(KEY, job) is jobs.UNDEFINED  # the poll reads: nothing yet
    release.set()
    ended(jobs)  # the job stores its result and ends before the poll asks on
    assert jobs.job_running(job)  # so Dash answers "still running" and the page polls again
    assert jobs.get_result(KEY, job) == ("Failed: ETH/USDT → LONG", "why")
    assert not jobs.job_running(job)


def test_a_job_that_ended_without_a_result_is_not_waited_for(jobs):
    release = threading.Event()

    def job_fn(*_args):
        assert release.wait(10)
        raise RuntimeError("the machinery failed before any result was stored")

    job = str(jobs.call_job_fn(KEY, job_fn, (), {}))
    assert jobs.get_result(KEY, job) is jobs.UNDEFINED
    release.set()
    ended(jobs)
    assert not jobs.job_running(job)


def test_a_running_job_is_running_and_a_finished_one_is_read_at_once(jobs):
    job, release = started(jobs, "done")
    assert jobs.get_result(KEY, job) is jobs.UNDEFINED
    assert jobs.job_running(job)
    release.set()
    ended(jobs)
    assert jobs.get_result(KEY, job) == "done"
    assert not jobs.job_running(job)
