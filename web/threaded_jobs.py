"""Where the page's background callbacks (trades, monitor applies) run without Redis: in
threads of the serving process, with their progress and results in a diskcache folder that
every process on the host shares.

Dash's DiskcacheManager forks the serving process for every job. Forking a multi-threaded
server copies into the child every lock another thread held at that instant (SQLite's own
mutexes among them): under 50 tabs and two traders such children hung in a futex for
minutes, holding their symbol's trade lock, and their pipes were never closed
(bench/bench_load.py). A thread needs no fork. It is also never killed half-way: Dash
terminates jobs it thinks abandoned, and a trade must finish and record what it sent.
A job that ends while the page polls it still has its result read (web.job_results).
"""

from __future__ import annotations

import itertools
import logging
import os
from concurrent.futures import ThreadPoolExecutor

import psutil
from dash import DiskcacheManager

from web.job_results import LateResults

log = logging.getLogger(__name__)
JOB_SPAN = 1_000_000  # job ids are pid * JOB_SPAN + n: unique across the host's processes
WORKERS = 8  # jobs running at once per process; more wait their turn in the pool


def _running_key(job: int) -> str:
    return f"threaded-job-running:{job}"


class ThreadPoolJobs(DiskcacheManager):
    """Jobs in threads of this process (ThreadedJobs is what the app uses)."""

    def __init__(self, cache, workers: int = WORKERS):
        super().__init__(cache)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="background-job")
        self._serial = itertools.count(1)

    def call_job_fn(self, key, job_fn, args, context):
        """Start the job in a thread; its id names this process, so any process can tell
        whether it still runs (`job_running`)."""
        job = os.getpid() * JOB_SPAN + next(self._serial)
        self.handle.set(_running_key(job), os.getpid())
        self._pool.submit(self._run, job, job_fn, key, args, context)
        return job

    def _run(self, job: int, job_fn, key, args, context) -> None:
        try:
            job_fn(key, self._make_progress_key(key), args, context)
        except Exception:  # Dash stores the callback's own errors; this is its machinery's
            log.exception("a background callback failed outside its own error handling")
        finally:
            self.handle.delete(_running_key(job))

    def job_running(self, job) -> bool:
        """Running while its thread has not ended and the process that runs it is alive."""
        if job is None:
            return False
        owner = self.handle.get(_running_key(int(job)))
        return owner is not None and psutil.pid_exists(owner)

    def terminate_job(self, job) -> None:
        """A job is never killed: it ends by itself (a trade records what it sent)."""

    def terminate_unhealthy_job(self, job) -> bool:
        return False

    def shutdown(self, wait: bool = True) -> None:
        """Let running jobs finish (the server stops accepting clicks first)."""
        self._pool.shutdown(wait=wait)


class ThreadedJobs(LateResults, ThreadPoolJobs):
    """Jobs in threads, their results always read by the page that waits for them."""
