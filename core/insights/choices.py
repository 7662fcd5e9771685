"""What the insights commands and pages accept: a window (`--since`) and an export table.
Plain parsing, apart from the pandas of health and results, so a command can check its
arguments before it loads them."""

from __future__ import annotations

import re
from datetime import timedelta

EXPORT_TABLES = ("fills", "ledger", "orders", "syncs", "alerts")
MAX_WINDOW = timedelta(days=3650)
_WINDOW = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_window(text: str) -> timedelta | None:
    """`1h`, `24h`, `7d`, `30m`, `2w`... as a timedelta; `all` as None (no lower bound)."""
    cleaned = text.strip().lower()
    if cleaned == "all":
        return None
    match = _WINDOW.fullmatch(cleaned)
    if match is None:
        raise ValueError(f"--since takes a duration such as 1h, 24h, 7d or all, not {text!r}")
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    if seconds == 0:
        raise ValueError(f"--since takes a duration longer than zero, not {text!r}")
    if seconds > MAX_WINDOW.total_seconds():
        raise ValueError(f"--since takes at most {MAX_WINDOW.days}d (or all), not {text!r}")
    return timedelta(seconds=seconds)
