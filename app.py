"""The command line and the entry points (building the app lives in runtime.py).

    python app.py [serve] [--host H] [--port P]   the dashboard (the default command)
    python app.py trade SYMBOL --target T ...      one synchronized trade (SIM unless --live)
    python app.py diagnose [--account A] [--json]  database against exchanges
    python app.py sync [--execute] [--policy P]    repair the database in one pass
    python app.py worker                           the periodic check and stop watcher, no page
    python app.py protect SYMBOL ... | flatten | resume   stops and the kill switch
    python app.py health|results [--account A] [--since 24h] [--json]   figures
    python app.py export fills|orders|syncs|alerts --csv FILE [--since W]
    python app.py alert-test                      a test message to every ALERT_URLS
    python app.py emulator --port P ...           the local MEXC-compatible exchange

`app:server` serves the dashboard under gunicorn.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from typing import TYPE_CHECKING

from cli import parser as command_line
from core.errors import AppError

if TYPE_CHECKING:
    from core.config import Settings

# What a command needs is imported once the arguments say which command runs: `--help`,
# `diagnose` and `trade` never load Dash, plotly or pandas (tests/unit/test_command_imports.py).
log = logging.getLogger("app")


def serve(settings: Settings) -> int:
    from runtime import build_runtime, check_bind

    check_bind(settings.HOST, settings)
    # SIGTERM ends the page as Ctrl-C does: background work stopped, files cleaned up
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    runtime = build_runtime(settings)
    runtime.start_background()
    _long_lived_built()
    print(
        f"Dashboard on http://{settings.HOST}:{settings.PORT} ({runtime.service.exchange_label})",
        flush=True,
    )
    try:
        runtime.dash_app.run(host=settings.HOST, port=settings.PORT, debug=False)
    finally:
        runtime.close()
    return 0


def worker(settings: Settings) -> int:
    """The background work without the page, until SIGTERM or Ctrl-C."""
    from runtime import background, build_engine

    engine = build_engine(settings, page=True)
    scheduler = background(engine)
    _long_lived_built()
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    scheduler.start()
    log.info("worker running", extra={"exchange": engine.service.exchange_label})
    print(f"Worker running ({engine.service.exchange_label}); Ctrl-C stops it", flush=True)
    try:
        stopped.wait()
    finally:
        scheduler.stop()
        engine.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    # Start-up creates hundreds of thousands of objects that live as long as the process
    # (modules, classes, the app): the collector would walk them again and again for
    # nothing. It is off until they are built (the serving processes then freeze them out
    # of its sight, _long_lived_built).
    gc.disable()
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    finally:
        gc.enable()


def _long_lived_built() -> None:
    gc.freeze()
    gc.enable()


def _main(argv: list[str]) -> int:
    if argv[:1] == ["emulator"]:  # the emulator reads its own flags
        from emulator import cli as emulator_cli

        gc.enable()
        return emulator_cli.main(argv[1:], prog="app.py emulator")
    args = command_line.parser().parse_args(argv)
    try:
        from cli.commands import setting_overrides
        from core.config import load_settings

        # settings first: a bad one stops here, before serve starts itself again
        settings = load_settings(**setting_overrides(args))
        long_running = args.command in (None, "serve", "worker")
        if long_running:
            _metrics_across_processes()
        _configure_logging(settings, long_running)
        if args.command == "worker":
            return worker(settings)
        if long_running:
            return serve(settings)
        from runtime import build_engine

        run = command_line.handler(args.command)
        # the command's own work may make garbage worth collecting; what start-up loaded
        # is frozen first, or the first collections walk every module (70-100 ms)
        _long_lived_built()
        try:
            return run(args, settings, build_engine)
        finally:
            gc.unfreeze()  # a caller in its own process (the tests) gets its objects collected
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


CREATED_METRICS_DIR = "TRADING_CREATED_METRICS_DIR"


def _metrics_across_processes() -> None:
    """Background trades run in processes of their own, so the metrics they count must
    reach /metrics: prometheus_client's multiprocess mode, whose directory must be set
    before prometheus_client is first imported. When it is not set, this process sets a
    fresh one and starts itself again, which removes it at exit (gunicorn.conf.py does the
    same for gunicorn)."""
    created = os.environ.pop(CREATED_METRICS_DIR, None)
    if created:  # this is the process started again: the directory is its to remove
        atexit.register(shutil.rmtree, created, ignore_errors=True)
        return
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    directory = tempfile.mkdtemp(prefix="trading-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[CREATED_METRICS_DIR] = directory
    os.execv(sys.executable, [sys.executable, *sys.argv])


def _configure_logging(settings: Settings, long_running: bool) -> None:
    """The dashboard and the worker log at LOG_LEVEL (INFO by default); a one-shot command
    prints its own answer and logs only warnings unless LOG_LEVEL is set."""
    from core.operations import logs

    explicit = "LOG_LEVEL" in settings.model_fields_set
    level = settings.LOG_LEVEL if long_running or explicit else "WARNING"
    logs.configure(level, settings.LOG_FORMAT, settings.secrets)


def _celery_logs_masked(settings: Settings) -> None:
    """The Celery worker logs through the app's one masked handler at its --loglevel: its
    own set-up (which gives the task loggers handlers of their own, unmasked) is skipped.
    Its lines can carry the page's request headers, the login among them."""
    from celery import signals

    from core.operations import logs

    def configure(loglevel=None, **_):
        logs.configure(loglevel or settings.LOG_LEVEL, settings.LOG_FORMAT, settings.secrets)

    signals.setup_logging.connect(configure, weak=False)


def __getattr__(name: str):
    """`app:server` for gunicorn and `app:celery_app` for the Celery worker: the runtime is
    built on first use, not at import."""
    if name not in ("celery_app", "server"):
        raise AttributeError(name)
    from core.config import SettingsError, load_settings
    from runtime import build_runtime, check_bind

    if name == "celery_app":
        settings = load_settings()
        _configure_logging(settings, long_running=True)
        _celery_logs_masked(settings)
        if not settings.REDIS_URL.get_secret_value():
            raise SettingsError("Setting REDIS_URL is empty: the Celery worker needs Redis")
        runtime = build_runtime(settings)  # registers the page's background callbacks
        globals()["runtime"] = runtime
        globals()["celery_app"] = runtime.background.celery
        return runtime.background.celery
    settings = load_settings()  # the server
    _configure_logging(settings, long_running=True)
    check_bind(settings.HOST, settings)
    runtime = build_runtime(settings)
    runtime.start_background()
    globals()["runtime"] = runtime
    globals()["server"] = runtime.dash_app.server
    return runtime.dash_app.server


def exit_without_teardown(code: int) -> None:
    """Leave once the command has closed what it owns (its engine, the background work and
    jobs, the database; serve does on SIGTERM too): atexit handlers and buffered output
    still run, the interpreter's teardown of every module loaded does not. That teardown
    takes seconds on a busy machine after Dash, plotly and pandas, and frees nothing the
    operating system does not."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    try:
        status = main()
    except SystemExit as stop:  # --help, an argparse error, serve's SIGTERM
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
        status = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    exit_without_teardown(status)
