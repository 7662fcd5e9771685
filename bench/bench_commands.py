"""How long a trader waits for the command line: wall time of whole `python app.py ...`
processes, each started fresh as a person starts it.

    .venv/bin/python bench/bench_commands.py [--runs 7] [--root PATH]

Prints the median wall time, its range, and the median CPU time (user + system, of the
process and its children: what a loaded machine inflates least) over --runs of `--help`, `diagnose` on the local demo
exchange and a SIM `trade` (alternately LONG and NO_POSITION, so every run trades), all on
the embedded defaults in a fresh data folder. --root runs another checkout's app.py (say,
the main branch, to measure before a change); its files are only read: compiled modules
are cached in the temporary folder (PYTHONPYCACHEPREFIX), whatever PYTHONDONTWRITEBYTECODE
says, as a person's own checkout caches them.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator.daemon import stop_demo_exchange

SETTING = re.compile(r"^(TRADING_|EXCHANGE|DATABASE_|SYMBOLS$|REDIS_URL$|ACCOUNTS_FILE$|LOG_)")


def fresh_environment(app: Path, folder: str) -> dict[str, str]:
    """This environment without the app's settings, on the embedded defaults in `folder`,
    running `app`'s checkout, its compiled modules cached in `folder`."""
    env = {k: v for k, v in os.environ.items() if not SETTING.match(k)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        DATABASE_URL=f"sqlite:///{folder}/trading.db",
        PYTHONPATH=str(app.parent),
        PYTHONPYCACHEPREFIX=f"{folder}/pycache",
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    app = args.root.resolve() / "app.py"

    with tempfile.TemporaryDirectory() as folder:
        env = fresh_environment(app, folder)
        # the first runs create the database, start the folder's demo exchange and fill the
        # cache of compiled modules
        for warm_up in (["diagnose"], ["trade", "ETH/USDT", "--target", "NO_POSITION"]):
            run(app, env, folder, *warm_up)
        try:
            figures = {
                "--help": [run(app, env, folder, "--help") for _ in range(args.runs)],
                "diagnose (demo exchange)": [
                    run(app, env, folder, "diagnose") for _ in range(args.runs)
                ],
                "trade ETH/USDT (SIM)": [
                    run(app, env, folder, "trade", "ETH/USDT", "--target", target)
                    for target in (["LONG", "NO_POSITION"] * args.runs)[: args.runs]
                ],
            }
        finally:
            stop_demo_exchange(Path(folder) / "demo-exchange")
    print(f"{app} ({args.runs} runs each, fresh processes)")
    for name, runs in figures.items():
        wall = [w for w, _ in runs]
        cpu = [c for _, c in runs]
        print(
            f"  {name:<26} wall median {statistics.median(wall):.2f} s "
            f"(min {min(wall):.2f}, max {max(wall):.2f}), CPU median {statistics.median(cpu):.2f} s"
        )
    return 0


def run(app: Path, env: dict, folder: str, *command: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(app), *command],
        env=env,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


if __name__ == "__main__":
    sys.exit(main())
