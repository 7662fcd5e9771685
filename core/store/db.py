"""Engine, sessions and migrations. `Database.open` brings any database up to the newest
schema before the app touches it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Engine,
    any_,
    bindparam,
    create_engine,
    event,
    exc,
    inspect,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core.store.models import AppState

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Each revision is named by its number, and its file begins with it (0006_events.py is
# revision "0006"): the newest file is the head, known without loading alembic
# (tests/unit/test_migration_head.py holds alembic to the same answer).
HEAD = max(path.name.partition("_")[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))

# The app's longest statements are far shorter than this: the insights frames (one read of
# a book's records each) and the CSV export, which streams in batches of 1000 (each fetch is
# a statement of its own). A statement stuck behind a lock
# or a lost peer ends instead of holding a web worker. Migrations run under it too, and so
# does a worker's wait at start for another's migration (the migrate lock): a schema change
# that may run longer must raise it for itself (SET LOCAL statement_timeout).
APP_STATEMENT_TIMEOUT = 30
# A peer gone without a word (a host powered off, a network split) is found within
# idle + interval * count = 25 s instead of the operating system's two hours: by libpq here,
# and by the server (tcp_keepalives_*) so PostgreSQL ends the session, and releases its
# advisory locks, when the client's host vanishes. Keepalives probe only an idle link;
# tcp_user_timeout bounds the same wait while sent data is unacknowledged.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 10, 5, 3
PEER_GONE_MS = (KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT) * 1000


def postgres_connect_args(statement_timeout: int, connect_timeout: int, url: str) -> dict:
    """libpq settings of a PostgreSQL connection: keepalives both ways, a connect timeout
    and a statement timeout (seconds). The URL's own `options` (a search_path, say) come
    first and are kept."""
    server = {
        "statement_timeout": f"{statement_timeout}s",
        "tcp_keepalives_idle": KEEPALIVE_IDLE,
        "tcp_keepalives_interval": KEEPALIVE_INTERVAL,
        "tcp_keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": PEER_GONE_MS,
    }
    return {
        "connect_timeout": connect_timeout,
        "keepalives": 1,
        "keepalives_idle": KEEPALIVE_IDLE,
        "keepalives_interval": KEEPALIVE_INTERVAL,
        "keepalives_count": KEEPALIVE_COUNT,
        "tcp_user_timeout": PEER_GONE_MS,
        "options": " ".join(
            [*_url_options(url), *(f"-c {name}={value}" for name, value in server.items())]
        ),
    }


def _url_options(url: str) -> list[str]:
    given = make_url(url).query.get("options", ())
    return [given] if isinstance(given, str) else list(given)


class Database:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Database:
        """Connect and migrate. SQLite files get their folder created, WAL and a busy
        timeout so web workers, the scheduler and the command line can share them."""
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options = {"pool_pre_ping": True}
        if parsed.get_backend_name() == "postgresql":
            options["connect_args"] = postgres_connect_args(
                APP_STATEMENT_TIMEOUT, connect_timeout=10, url=url
            )
        engine = create_engine(url, **options)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _remember_process)
        event.listen(engine, "checkout", _only_in_its_process)
        database = cls(engine)
        database.migrate()
        return database

    def migrate(self) -> None:
        """Bring the schema up to date, one process at a time: several workers starting on
        a new database must not each create its tables (an advisory lock for the migration's
        transaction on PostgreSQL; a file lock beside an SQLite file). A schema already at
        the head costs one query, and alembic is not even loaded."""
        if self.schema_version() == HEAD:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._migration_lock(), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(hashtextextended('migrate', 0))")
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def schema_version(self) -> str | None:
        """The revision the database is at (alembic's version table), None when it has none."""
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def _migration_lock(self):
        database = self.engine.url.database
        if self.engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
            return contextlib.nullcontext()
        return FileLock(f"{database}.migrate.lock")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back whole if it raises."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def insert_unless_present(session: Session, model, **values) -> bool:
    """INSERT the row unless its key exists (another process's insert won); True when this
    one inserted it."""
    # the dialect's own INSERT, imported for the one in use (PostgreSQL's brings asyncpg's
    # and more: a command on SQLite never loads it)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    key = model.__table__.primary_key.columns.values()[0]
    statement = insert(model).values(**values).on_conflict_do_nothing().returning(key)
    return session.execute(statement).first() is not None


# values per IN (...) list on SQLite: far under its 32,766 host parameters
PER_STATEMENT = 1000


def in_values(session: Session, column, values: Sequence) -> Iterator[ColumnElement[bool]]:
    """`column IN values`, one condition a statement: on PostgreSQL one over an array
    parameter (psycopg parses a statement of a placeholder a value at about 40 µs each: 0.3 s
    for 7,500), on SQLite one for each PER_STATEMENT values."""
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for start in range(0, len(values), PER_STATEMENT):
        yield column.in_(values[start : start + PER_STATEMENT])


def serialize(session: Session, key: str) -> None:
    """Hold `key` until the session's transaction ends, across threads and processes, so a
    read-then-write under it cannot interleave with another: a transaction-scoped advisory
    lock on PostgreSQL; SQLite's one write lock there (any write statement takes it, even one
    that changes no row; the next writer waits on the busy timeout)."""
    serialize_all(session, [key])


def serialize_all(session: Session, keys: Collection[str]) -> None:
    """`serialize` for many keys in one statement: PostgreSQL takes their advisory locks in
    sorted order (so two callers whose keys overlap never wait on each other in a cycle);
    SQLite's one write lock covers them all."""
    if not keys:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) "
                "FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS k(key, n) ORDER BY n"
            ),
            {"keys": sorted(set(keys))},
        )
    elif dialect == "sqlite":
        session.execute(update(AppState).where(AppState.key == "").values(value=AppState.value))


def _remember_process(_dbapi_connection, record) -> None:
    record.info["pid"] = os.getpid()


def _only_in_its_process(_dbapi_connection, record, proxy) -> None:
    """A pooled connection is never used by a forked child (a background job): the child
    opens its own (SQLAlchemy's recipe for pools across os.fork)."""
    if record.info.get("pid") != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise exc.DisconnectionError("connection opened by another process")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
