"""The record of exchange calls the control API exposes (control calls are not logged)."""

from collections import deque
from dataclasses import asdict, dataclass

MAX_ENTRIES = 10_000


@dataclass
class LoggedRequest:
    ts_ms: int
    duration_ms: float
    method: str
    path: str
    status: int | None  # None when the connection was dropped without a response
    signed: bool
    symbol: str | None = None  # the `symbol` parameter: a read of one market, not of all
    response_bytes: int = 0  # the answer's body


class RequestLog:
    def __init__(self) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=MAX_ENTRIES)

    def add(self, entry: LoggedRequest) -> None:
        self._entries.append(entry)

    def clear(self) -> None:
        self._entries.clear()

    def as_json(self) -> list[dict]:
        return [asdict(entry) for entry in self._entries]


def round_trips(entries: list[dict]) -> int:
    """Sequential round trips in a request log: calls served at overlapping times (sent in
    parallel) count once."""
    spans = sorted((entry["ts_ms"] - entry["duration_ms"], entry["ts_ms"]) for entry in entries)
    trips, end = 0, float("-inf")
    for start, finish in spans:
        if start > end:
            trips += 1
            end = finish
        else:
            end = max(end, finish)
    return trips
