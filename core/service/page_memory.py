"""What the pages were sent, kept for a minute by fingerprint and shared like the read
models (one copy for every worker with Redis): a tab that says which version of a part it
holds can then be sent only what changed since, by whichever worker answers its tick."""

from __future__ import annotations

from core.operations.caching import SharedCache

KEEP_SECONDS = 60  # a tab ticks every 2 s: a minute covers a tab hidden or slowed for a while


class PageMemory:
    def __init__(self, cache: SharedCache):
        self._cache = cache

    def remember(self, fingerprint: str, value) -> None:
        """Keep `value` (plain JSON data) under its fingerprint for KEEP_SECONDS more."""
        self._cache.put(f"sent:{fingerprint}", value, KEEP_SECONDS)

    def recall(self, fingerprint: str):
        """The value kept under `fingerprint`, or None once it expired (or was never kept)."""
        return self._cache.peek(f"sent:{fingerprint}")
