"""gunicorn settings: `gunicorn -c gunicorn.conf.py 'app:server'`.

prometheus_client picks its multiprocess mode when it is first imported, so the metrics
directory is chosen here, in the master, before any worker imports the app. It is emptied of
metric files once at start so counts from an earlier run never add up with this one's.

`-b` and GUNICORN_CMD_ARGS override `bind` below, so `when_ready` checks the addresses
actually bound: beyond loopback only with a DASHBOARD_PASSWORD.
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
# A tab refreshes every 2 s: gunicorn's default keep-alive of 2 s closed its connection just
# as the next refresh came (connection errors from 100 tabs). An idle kept-alive connection
# waits in the gthread worker's poller, not on a thread.
keepalive = 10
graceful_timeout = 30
# gunicorn 27's control socket is one path per user (~/.gunicorn): a second instance on the
# host would take it over, and nothing here uses it
control_socket_disable = True


def on_starting(server):
    directory = Path(os.environ[METRICS_DIR_VARIABLE])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def when_ready(server):
    # imported here: only the master needs them, once (web.login imports Flask, not Dash)
    from core.config import SettingsError, load_settings
    from web.login import is_loopback

    try:
        settings = load_settings()
    except SettingsError as exc:
        server.halt(str(exc), exit_status=1)
    if settings.DASHBOARD_PASSWORD.get_secret_value():
        return
    exposed = [
        str(listener)
        for listener in server.LISTENERS
        # a unix socket's address is a path: it is reached from this machine only
        if isinstance(address := listener.sock.getsockname(), tuple) and not is_loopback(address[0])
    ]
    if exposed:
        server.halt(
            f"refusing to serve {', '.join(exposed)} without a login: set DASHBOARD_PASSWORD,"
            " or bind 127.0.0.1",
            exit_status=1,
        )


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if created_metrics_dir:
        shutil.rmtree(created_metrics_dir, ignore_errors=True)
