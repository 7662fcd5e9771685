"""What every reader shares for a moment: market data (one fetch per time-to-live) and the
read models a refresh needs (one database read per book per second), however many tabs,
threads, web workers or hosts ask.

The store is one of flask-caching's backends (cachelib's interface: get, set, delete),
handed in by the composition root: its RedisCache with REDIS_URL, so every worker and host
shares one copy, an in-process SimpleCache otherwise. Filling an empty entry is single
flight: one reader loads it while the others wait and then read it, under a lock of the
same reach (a Redis lock, or a thread lock)."""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)
LOAD_TIMEOUT = 30  # seconds a loader may hold its key before another may try


class Store(Protocol):
    def get(self, key: str): ...
    def set(self, key: str, value, timeout: int | None = None) -> bool: ...
    def delete(self, key: str) -> bool: ...


class ThreadLocks:
    """Single flight within one process (a forked child starts with none held)."""

    def __init__(self):
        self.forget_held()
        _THREAD_LOCKS.add(self)

    def forget_held(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def claim(self, key: str, seconds: float) -> bool:
        """One process keeps its own cache: its work is always its own to do."""
        return True


_THREAD_LOCKS: weakref.WeakSet[ThreadLocks] = weakref.WeakSet()
os.register_at_fork(after_in_child=lambda: [locks.forget_held() for locks in _THREAD_LOCKS])


class RedisLocks:
    """Single flight across processes and hosts, with redis-py's own lock (it expires if
    its holder dies, so a crashed loader never blocks the others for long)."""

    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        lock = self.client.lock(
            f"{self.prefix}lock:{key}", timeout=LOAD_TIMEOUT, blocking_timeout=LOAD_TIMEOUT
        )
        acquired = lock.acquire()
        try:
            yield
        finally:
            if acquired:
                lock.release()

    def claim(self, key: str, seconds: float) -> bool:
        """Whether this process is the first to ask for `key` in the next `seconds`: a
        redis-py lock taken without waiting and left to expire (SET NX PX, one command)."""
        lock = self.client.lock(f"{self.prefix}claim:{key}", timeout=seconds)
        return bool(lock.acquire(blocking=False))


class SharedCache:
    """A cache the page may lose without breaking: when the store (Redis) cannot be reached,
    every reader loads for itself, as if nothing were cached, and says so in the log.
    `down` are the errors that mean the store stopped answering (with Redis: redis-py's,
    a lock that could not be taken or kept among them)."""

    def __init__(
        self,
        store: Store,
        locks: ThreadLocks | RedisLocks,
        down: tuple[type[Exception], ...] = (OSError,),
    ):
        self.store = store
        self.locks = locks
        self.down = down

    def get_or_load(self, key: str, ttl: float, load: Callable[[], T]) -> T:
        """The cached value, or `load()`'s, stored for `ttl` seconds; one loader at a time."""
        try:
            value = self.store.get(key)
            if value is None:
                with self.locks.hold(key):
                    value = self.store.get(key)
                    if value is None:
                        value = load()
                        self.store.set(key, value, timeout=max(1, round(ttl)))
            return value
        except self.down as exc:
            log.warning(
                "the shared cache is unreachable; reading directly",
                extra={"reason": type(exc).__name__},
            )
            return load()

    def claim(self, key: str, seconds: float) -> bool:
        """Whether `key`'s periodic work is this process's for the next `seconds`: where
        processes share the store (Redis), one of them per period; in one process, always;
        and when the store is unreachable (each then works for itself)."""
        try:
            return self.locks.claim(key, seconds)
        except self.down:
            return True

    def put(self, key: str, value, ttl: float) -> None:
        """Store `value` for `ttl` seconds, replacing what was there; nothing if the store
        is unreachable (a reader then loads for itself)."""
        try:
            self.store.set(key, value, timeout=max(1, round(ttl)))
        except self.down:
            log.warning("the shared cache is unreachable; %s is not stored", key)

    def peek(self, key: str):
        """The cached value if a reader loaded it within its time-to-live, else None."""
        try:
            return self.store.get(key)
        except self.down:
            return None

    def forget(self, key: str) -> None:
        try:
            self.store.delete(key)
        except self.down:
            log.warning("the shared cache is unreachable; %s is not forgotten", key)
