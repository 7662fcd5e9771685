"""A background callback's result is always handed to the page that waits for it.

Dash polls a background job by reading its result first and asking whether the job still
runs second (dash._callback._handle_rest_background_callback); a job that ends between the
two reads (its result stored, then its thread, process or Celery task done) is taken for
a cancelled one: the poll answers "no update", the page stops polling and the stored
result is never read. For a trade that is a click with no toast, whatever it did (the
buttons come back as if nothing had happened). The window is a few milliseconds on an
idle machine and grows with the load.

`LateResults` closes it for any of Dash's managers: a job whose result was not there when
this request read it is still reported running if its result is there now, so the page
polls once more and reads it."""

from __future__ import annotations

import threading


class LateResults:
    """Mixed in before a Dash background callback manager (DiskcacheManager and its
    ThreadedJobs, CeleryManager)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the result key of each job whose result a poll has just found missing
        self._missed: dict[str, str] = {}
        self._missed_guard = threading.Lock()

    def get_result(self, key, job):
        result = super().get_result(key, job)
        if result is self.UNDEFINED and job is not None:
            with self._missed_guard:
                self._missed[str(job)] = key
        return result

    def job_running(self, job) -> bool:
        with self._missed_guard:
            missed = self._missed.pop(str(job), None) if job is not None else None
        if super().job_running(job):
            return True
        # ended: if its result arrived after this poll read it, the next poll takes it
        return missed is not None and self.result_ready(missed)


def celery_jobs(celery_app):
    """Dash's CeleryManager on `celery_app`, its results never dropped (LateResults)."""
    from dash import CeleryManager

    class CeleryJobs(LateResults, CeleryManager):
        pass

    return CeleryJobs(celery_app)
