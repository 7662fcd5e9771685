"""Composition root and command line.

    python app.py [serve] [--host H] [--port P]   the dashboard (the default command)
    python app.py trade SYMBOL --target T ...      one synchronized trade (SIM unless --live)
    python app.py diagnose [--account A] [--json]  database against exchanges
    python app.py sync [--execute] [--policy P]    repair the database in one pass
    python app.py worker                           the periodic check and stop watcher, no page
    python app.py protect SYMBOL ... | flatten | resume   stops and the kill switch
    python app.py emulator --port P ...           the local MEXC-compatible exchange

`app:server` serves the dashboard under gunicorn.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from cli import commands
from cli.parser import parser
from core import logs
from core.config import PROJECT_ROOT, Settings, SettingsError, load_settings
from core.errors import AppError
from core.locks import leadership, trade_locks
from core.scheduler import Scheduler, Task
from core.service import ACCOUNT, ExchangeAccess, StartupError, TradingService
from core.store.db import Database

log = logging.getLogger("app")
DEMO_KEY, DEMO_SECRET = "demo-key", "demo-secret"
DEMO_LABEL = "local demo exchange"


def data_folder(settings: Settings) -> Path:
    """Where this installation keeps its files: beside an SQLite database (so tests with
    their own database stay apart), otherwise data/."""
    database = settings.DATABASE_URL.partition("sqlite:///")[2]
    if database and database != ":memory:":
        return Path(database).resolve().parent
    return PROJECT_ROOT / "data"


def exchange_access(settings: Settings) -> ExchangeAccess:
    """The exchange the app talks to. With no URL and no keys that is the local demo
    exchange: one per data folder, shared by the dashboard and every command-line run, its
    accounts and orders kept in that folder across restarts."""
    if settings.uses_demo_exchange:
        from emulator.daemon import DemoExchangeError, ensure_demo_exchange

        try:
            url = ensure_demo_exchange(data_folder(settings) / "demo-exchange")
        except DemoExchangeError as exc:
            raise StartupError(f"the local demo exchange did not start: {exc}") from None
        return ExchangeAccess("mexc", url, DEMO_LABEL, DEMO_KEY, DEMO_SECRET)
    label = (
        f"{settings.EXCHANGE.upper()} at {settings.EXCHANGE_URL}"
        if settings.EXCHANGE_URL
        else settings.EXCHANGE.upper()
    )
    return ExchangeAccess(
        settings.EXCHANGE,
        settings.EXCHANGE_URL,
        label,
        settings.EXCHANGE_API_KEY.get_secret_value(),
        settings.EXCHANGE_API_SECRET.get_secret_value(),
    )


@dataclass
class Engine:
    """The trading engine without a web page: what the command line needs."""

    settings: Settings
    db: Database
    service: TradingService

    @property
    def exchange_url(self) -> str:
        return self.service.wiring.access.url

    def close(self) -> None:
        self.service.wiring.close()
        self.db.dispose()


def build_engine(settings: Settings) -> Engine:
    access = exchange_access(settings)
    db = Database.open(settings.DATABASE_URL)
    try:
        locks = trade_locks(db.engine, data_folder(settings) / "locks")
        service = TradingService(settings, db, access, locks)
        for warning in service.start():
            log.warning(warning)
    except BaseException:
        db.dispose()
        raise
    return Engine(settings, db, service)


def background(engine: Engine) -> Scheduler:
    """The account's background work: the periodic check and the app-side stop watcher,
    run by one leader among every dashboard worker and `worker` process."""
    settings = engine.settings
    service = engine.service
    return Scheduler(
        leadership(engine.db.engine, data_folder(settings) / "locks", ACCOUNT),
        [
            Task(
                "periodic-check", settings.SYNC_INTERVAL_SECONDS, service.monitoring.periodic_check
            ),
            Task("stop-watcher", settings.STOP_WATCH_SECONDS, service.protection.watch_once),
        ],
    )


@dataclass
class Runtime:
    """A running dashboard: the engine, the Dash app over it and, once started, its
    background work."""

    engine: Engine
    dash_app: object
    scheduler: Scheduler | None = None

    @property
    def service(self) -> TradingService:
        return self.engine.service

    def start_background(self) -> None:
        self.scheduler = background(self.engine)
        self.scheduler.start()

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.engine.close()


def build_runtime(settings: Settings) -> Runtime:
    from web.app_factory import create_dash_app

    engine = build_engine(settings)
    try:
        dash_app = create_dash_app(engine.service)
        _protect(dash_app, settings)
    except BaseException:
        engine.close()
        raise
    return Runtime(engine, dash_app)


def _protect(dash_app, settings: Settings) -> None:
    password = settings.DASHBOARD_PASSWORD.get_secret_value()
    if password:
        import dash_auth

        dash_auth.BasicAuth(dash_app, {settings.DASHBOARD_USER: password})


def check_bind(host: str, settings: Settings) -> None:
    """Only loopback is served without a password."""
    if _is_loopback(host) or settings.DASHBOARD_PASSWORD.get_secret_value():
        return
    raise SettingsError(
        f"Setting HOST={host} would expose the dashboard beyond this machine; "
        "set DASHBOARD_PASSWORD to require a login, or bind 127.0.0.1"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(settings: Settings) -> int:
    check_bind(settings.HOST, settings)
    runtime = build_runtime(settings)
    runtime.start_background()
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
    engine = build_engine(settings)
    scheduler = background(engine)
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
    args = parser().parse_args(argv)
    try:
        if args.command == "emulator":
            from emulator import cli as emulator_cli

            return emulator_cli.run(args)
        overrides = commands.setting_overrides(args)
        settings = load_settings(**overrides)
        long_running = args.command in (None, "serve", "worker")
        _configure_logging(settings, long_running)
        if args.command == "worker":
            return worker(settings)
        if long_running:
            return serve(settings)
        return commands.run(args, settings, build_engine)
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _configure_logging(settings: Settings, long_running: bool) -> None:
    """The dashboard and the worker log at LOG_LEVEL (INFO by default); a one-shot command
    prints its own answer and logs only warnings unless LOG_LEVEL is set."""
    explicit = "LOG_LEVEL" in settings.model_fields_set
    level = settings.LOG_LEVEL if long_running or explicit else "WARNING"
    logs.configure(level, settings.LOG_FORMAT, settings.secrets)


def __getattr__(name: str):
    """`app:server` for gunicorn: the runtime is built on first use, not at import."""
    if name == "server":
        settings = load_settings()
        _configure_logging(settings, long_running=True)
        check_bind(settings.HOST, settings)
        runtime = build_runtime(settings)
        runtime.start_background()
        globals()["runtime"] = runtime
        globals()["server"] = runtime.dash_app.server
        return runtime.dash_app.server
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())
