"""Values worked out from the database, kept until the records they came from change.

The insights pages refresh every few seconds while they show; reloading and recomputing
100,000 fills on every tick would keep a core busy for nothing. A cheap version query (the
newest id and the count of the records read) says whether the kept value still holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class VersionedCache:
    """One kept value per key, replaced when the key's version changes. Two threads asking
    for a changed key at once may both load it; the value is the same either way."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, tuple[Hashable, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable, load: Callable[[], T]) -> T:
        """The value kept for `key` at `version`, or `load()` (read after the version, so
        it is never older than the version says) kept in its place."""
        with self._lock:
            kept = self._entries.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        value = load()
        with self._lock:
            self._entries[key] = (version, value)
        return value
