"""Building the running app from its settings: the database, the exchange (or the local
demo one), the shared cache, the engine, the Dash app and where its background callbacks
run, and the background work (the periodic check and the stop watcher). app.py only
parses the command line and starts these."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy

from core.config import PROJECT_ROOT, Settings, SettingsError
from core.operations.caching import RedisLocks, SharedCache, ThreadLocks
from core.operations.locks import leadership, trade_locks
from core.operations.scheduler import Scheduler, Task
from core.service import ACCOUNT, ExchangeAccess, StartupError, TradingService
from core.service.page_feed import PageFeed
from core.service.read_models import FEED_SECONDS
from core.store.db import Database

# The page's parts (Dash, flask-caching's backends, Celery, Redis, diskcache) are imported
# by the functions that build them, so a one-shot command never loads them.

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


def open_database(settings: Settings) -> Database:
    """The database, migrated; one line naming the setting and the address when it cannot
    be reached (never its password)."""
    try:
        return Database.open(settings.DATABASE_URL)
    except sqlalchemy.exc.OperationalError as exc:
        url = sqlalchemy.engine.make_url(settings.DATABASE_URL)
        where = f"{url.host}:{url.port or 5432}" if url.host else url.database
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise StartupError(
            f"Setting DATABASE_URL: cannot reach the database at {where} ({reason})"
        ) from None


def shared_cache(settings: Settings, page: bool = True) -> SharedCache:
    """What every reader shares (core.operations.caching): flask-caching's RedisCache with
    REDIS_URL, so every worker and host reads one copy, else its in-process SimpleCache. A
    one-shot command (`page=False`) without Redis shares with nobody: the cachelib
    SimpleCache flask-caching's is built on serves it without loading Flask."""
    url = settings.REDIS_URL.get_secret_value()
    if not url:
        if page:
            from flask_caching.backends import SimpleCache
        else:
            from cachelib import SimpleCache
        return SharedCache(SimpleCache(threshold=2000), ThreadLocks())
    import redis
    from flask_caching.backends import RedisCache

    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        address = f"{client.connection_pool.connection_kwargs.get('host')}:" + str(
            client.connection_pool.connection_kwargs.get("port")
        )
        raise StartupError(
            f"Setting REDIS_URL: cannot reach Redis at {address} ({type(exc).__name__})"
        ) from None
    prefix = f"trading:{hashlib.sha1(settings.DATABASE_URL.encode()).hexdigest()[:10]}:"
    down = (redis.RedisError, redis.exceptions.LockError, OSError)
    return SharedCache(RedisCache(host=client, key_prefix=prefix), RedisLocks(client, prefix), down)


def build_engine(settings: Settings, page: bool = False) -> Engine:
    """The engine; `page` when it serves the dashboard or the background work (its cache)."""
    cache = shared_cache(settings, page)
    db = open_database(settings)
    try:
        access = exchange_access(settings)
        locks = trade_locks(db.engine, data_folder(settings) / "locks")
        service = TradingService(settings, db, access, locks, cache)
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
class Background:
    """Where the page's trades and monitor applies run (Dash background callbacks): Celery
    on Redis with REDIS_URL (`celery -A app:celery_app worker`), else threads of the
    serving process (web/threaded_jobs.py: never a fork of it) with their results in the
    data folder (shared by every web worker on the host)."""

    manager: object
    celery: object | None
    down: Callable[..., str | None]
    # at stop: jobs of this process in flight finish (a trade records what it sent)
    finish: Callable[[], None] = lambda: None


def background_jobs(settings: Settings) -> Background:
    url = settings.REDIS_URL.get_secret_value()
    if not url:
        import diskcache

        from web.threaded_jobs import ThreadedJobs

        folder = data_folder(settings) / "background-jobs"
        jobs = ThreadedJobs(diskcache.Cache(str(folder)))
        return Background(jobs, None, lambda **_: None, jobs.shutdown)
    from celery import Celery

    from web.job_results import celery_jobs

    celery = Celery("trading", broker=url, backend=url)
    celery.conf.update(
        broker_connection_retry_on_startup=True,
        # a click whose trade cannot be handed over now fails now: it is never sent later
        task_publish_retry=False,
        broker_connection_timeout=2,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 2},
        redis_socket_connect_timeout=2,
        redis_socket_timeout=5,
        result_expires=3600,
        worker_hijack_root_logger=False,
    )
    return Background(celery_jobs(celery), celery, RedisHealth(url).down)


class RedisHealth:
    """Whether Redis answers, asked at most every few seconds (the page asks every tick)."""

    def __init__(self, url: str, every: float = 3.0):
        import redis

        self._unreachable = redis.RedisError
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        kwargs = self.client.connection_pool.connection_kwargs
        self.address = f"{kwargs.get('host')}:{kwargs.get('port')}"
        self.every = every
        self._checked, self._answer = 0.0, None

    def down(self, fresh: bool = False) -> str | None:
        """Why trades cannot be handed over now, or None; `fresh` asks Redis now (a click)
        rather than trusting the last answer (a refresh tick)."""
        if fresh or time.monotonic() - self._checked > self.every:
            try:
                self.client.ping()
                self._answer = None
            except self._unreachable:
                self._answer = f"The background service (Redis at {self.address}) is down"
            self._checked = time.monotonic()
        return self._answer


@dataclass
class Runtime:
    """A running dashboard: the engine, the Dash app over it, where its trades run and,
    once started, its background work."""

    engine: Engine
    dash_app: object
    background: Background
    scheduler: Scheduler | None = None
    feed: PageFeed | None = None

    @property
    def service(self) -> TradingService:
        return self.engine.service

    def start_background(self) -> None:
        self.start_feed()
        self.scheduler = background(self.engine)
        self.scheduler.start()

    def start_feed(self) -> None:
        """The page's reads in the background (core.service.page_feed), in every serving
        process, leader or not."""
        self.feed = PageFeed(self.service.reads, FEED_SECONDS)
        self.feed.start()

    def close(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        self.background.finish()
        self.engine.close()


def build_runtime(settings: Settings) -> Runtime:
    from web.app_factory import create_dash_app

    engine = build_engine(settings, page=True)
    try:
        jobs = background_jobs(settings)
        dash_app = create_dash_app(engine.service, jobs, page_access(settings))
    except BaseException:
        engine.close()
        raise
    return Runtime(engine, dash_app, jobs)


def page_access(settings: Settings):
    from web.login import Access

    return Access(
        settings.DASHBOARD_USER,
        settings.DASHBOARD_PASSWORD.get_secret_value(),
        settings.allowed_hosts,
    )


def check_bind(host: str, settings: Settings) -> None:
    """Only loopback is served without a password (gunicorn checks the address it actually
    bound too: gunicorn.conf.py)."""
    from web.login import is_loopback

    if is_loopback(host) or settings.DASHBOARD_PASSWORD.get_secret_value():
        return
    raise SettingsError(
        f"Setting HOST={host} would expose the dashboard beyond this machine; "
        "set DASHBOARD_PASSWORD to require a login, or bind 127.0.0.1"
    )
