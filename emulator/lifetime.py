"""What a long-running emulator process does besides serving: tell a launcher its URL through
a file, and stop by itself once nobody has called for a while."""

import asyncio
import contextlib
import time
from pathlib import Path

from emulator.atomic_file import write_atomic
from emulator.state import EmulatorState


def announce_url(path: Path, url: str) -> None:
    write_atomic(path, url + "\n")


def withdraw_url(path: Path, url: str) -> None:
    """Remove the URL file on the way out, unless a newer emulator has written its own."""
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8").strip() == url:
            path.unlink()


async def stop_when_idle(state: EmulatorState, seconds: float, stop: asyncio.Event) -> None:
    """Set `stop` once no request has arrived for `seconds`."""
    while True:
        idle = time.monotonic() - state.last_request
        if idle >= seconds:
            stop.set()
            return
        await asyncio.sleep(seconds - idle)
