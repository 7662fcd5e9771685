"""gunicorn settings: `gunicorn -c gunicorn.conf.py 'app:server'`.

prometheus_client picks its multiprocess mode when it is first imported, so the metrics
directory is chosen here, in the master, before any worker imports the app. It is emptied of
metric files once at start so counts from an earlier run never add up with this one's.
"""

import os
import shutil
import tempfile
from pathlib import Path

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

created_metrics_dir = None
if not os.environ.get(METRICS_DIR_VARIABLE):
    created_metrics_dir = tempfile.mkdtemp(prefix="trading-metrics-")
    os.environ[METRICS_DIR_VARIABLE] = created_metrics_dir

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 4
graceful_timeout = 30
# gunicorn 27's control socket is one path per user (~/.gunicorn): a second instance on the
# host would take it over, and nothing here uses it
control_socket_disable = True


def on_starting(server):
    directory = Path(os.environ[METRICS_DIR_VARIABLE])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if created_metrics_dir:
        shutil.rmtree(created_metrics_dir, ignore_errors=True)
