"""One shared demo exchange (MEXC dialect) per data folder, started on demand in the
background so that the dashboard and every command-line run trade on the same exchange.

The folder keeps:
  state.json       the exchange, resumed on every start and saved as it changes
  state.json.lock  held by the emulator that owns state.json while it runs
  url              its base URL, written once it listens and removed when it stops
  launch.lock      serializes starts, so two callers at once get one emulator
  emulator.log     its output

The emulator stops by itself after `idle_exit` seconds without a request; the next call to
`ensure_demo_exchange` starts it again from state.json.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import filelock

from emulator.state_file import lock_path

STATE_FILE = "state.json"
URL_FILE = "url"
LAUNCH_LOCK = "launch.lock"
LOG_FILE = "emulator.log"
DEFAULT_IDLE_EXIT_S = 1800.0
START_TIMEOUT_S = 30.0
PROBE_TIMEOUT_S = 2.0
POLL_S = 0.05
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
_local = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy


class DemoExchangeError(RuntimeError):
    """The demo exchange could not be started or stopped; the text says why."""


def ensure_demo_exchange(
    folder: Path,
    seed: int | None = None,
    idle_exit: float | None = DEFAULT_IDLE_EXIT_S,
    freeze: bool = False,
) -> str:
    """The base URL of `folder`'s demo exchange, started first if none answers.

    `seed`, `idle_exit` (seconds, None for never) and `freeze` (prices held still until the
    control API moves them) apply only when it has to start one; a resumed exchange keeps
    the seed in its state file."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    running = _running_url(folder)
    if running is not None:
        return running
    try:
        with filelock.FileLock(folder / LAUNCH_LOCK, timeout=2 * START_TIMEOUT_S):
            return _running_url(folder) or _start(folder, seed, idle_exit, freeze)
    except filelock.Timeout:
        raise DemoExchangeError(
            f"another process is still starting the demo exchange in {folder}"
        ) from None


def stop_demo_exchange(folder: Path, timeout: float = 10.0) -> bool:
    """Terminate `folder`'s demo exchange and wait until it has saved and let go of its state
    file (which stays); False when none was running."""
    folder = Path(folder).resolve()
    info = _info(folder)
    if info is None:
        return False
    os.kill(info["pid"], signal.SIGTERM)
    try:
        with filelock.FileLock(lock_path(folder / STATE_FILE), timeout=timeout):
            pass
    except filelock.Timeout:
        raise DemoExchangeError(
            f"the demo exchange in {folder} did not stop in {timeout} s"
        ) from None
    return True


def _info(folder: Path) -> dict | None:
    """What the emulator named in `folder`'s url file says of itself, if it answers and owns
    this folder's state file (a stale file may name a port some other program now uses)."""
    try:
        url = (folder / URL_FILE).read_text(encoding="utf-8").strip()
        with _local.open(url + "/_emulator/info", timeout=PROBE_TIMEOUT_S) as response:
            info = json.load(response)
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("state_file") != str(folder / STATE_FILE):
        return None
    return {**info, "url": url}


def _running_url(folder: Path) -> str | None:
    info = _info(folder)
    return None if info is None else info["url"]


def _start(folder: Path, seed: int | None, idle_exit: float | None, freeze: bool = False) -> str:
    (folder / URL_FILE).unlink(missing_ok=True)
    command = [sys.executable, "-m", "emulator", "--port", "0"]
    command += ["--state-file", str(folder / STATE_FILE), "--url-file", str(folder / URL_FILE)]
    if seed is not None:
        command += ["--seed", str(seed)]
    if idle_exit is not None:
        command += ["--idle-exit", str(idle_exit)]
    if freeze:
        command.append("--freeze")
    paths = [str(PACKAGE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    log_path = folder / LOG_FILE
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,  # outlives this process and its terminal
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        url = _running_url(folder)
        if url is not None:
            threading.Thread(target=process.wait, daemon=True).start()  # reaps it when it exits
            return url
        if process.poll() is not None:
            raise DemoExchangeError(f"the demo exchange did not start: {_last_line(log_path)}")
        time.sleep(POLL_S)
    process.terminate()
    process.wait()
    raise DemoExchangeError(f"the demo exchange did not answer within {START_TIMEOUT_S:g} s")


def _last_line(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1] if lines else f"no output (see {path})"
