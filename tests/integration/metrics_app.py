"""A small WSGI app for the gunicorn metrics test: every request counts one check through
core.operations.metrics and answers with the serving worker's pid; /metrics serves the exposition."""

from __future__ import annotations

import os
import time

from core.operations import metrics

ACCOUNT = "gunicorn-test"


def app(environ, start_response):
    if environ["PATH_INFO"] == "/metrics":
        body, content_type = metrics.render()
    else:
        time.sleep(0.02)  # long enough that concurrent requests spread over the workers
        metrics.observe_sync_run(ACCOUNT, "check", True, 0.02, exchange_calls=3)
        body, content_type = str(os.getpid()).encode(), "text/plain"
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
