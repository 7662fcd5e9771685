"""The health, results and export commands: read the arguments, ask the service's
insights, print, return the exit code.

Exit codes: 0 done; 2 bad input (a window that is not a duration, an unknown account, a
file that cannot be written or is anything but a regular file or nothing yet), in which
case nothing is written.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from cli import insights_render as render
from cli.parser import bad_input
from cli.render import to_json
from core.service import InputError, Mode, count, parse_since

ROW_WORDS = {"fills": "fill", "orders": "order", "syncs": "sync run", "alerts": "alert"}


def health(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 with the report; 2 on a window that is not a duration or an unknown account."""
    return _report(
        args,
        settings,
        build_engine,
        lambda insights: insights.health(args.since, args.account, _mode(args)),
        render.health_json,
        render.health_text,
    )


def results(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 with the report; 2 on a window that is not a duration or an unknown account."""
    return _report(
        args,
        settings,
        build_engine,
        lambda insights: insights.results(args.since, args.account, _mode(args)),
        render.results_json,
        render.results_text,
    )


def _report(args, settings, build_engine, read, as_json, as_text) -> int:
    try:
        parse_since(args.since)
    except InputError as exc:
        return bad_input(str(exc))
    engine = build_engine(settings)
    try:
        view = read(engine.service.insights)
    except InputError as exc:
        return bad_input(str(exc))
    finally:
        engine.close()
    print(to_json(as_json(view)) if args.json else as_text(view))
    return 0


def _mode(args: argparse.Namespace) -> Mode | None:
    return Mode(args.mode) if args.mode else None


def export(args: argparse.Namespace, settings, build_engine) -> int:
    """Exit 0 once the file is complete; 2 on bad input or a file that cannot be written
    (no file is left behind, not even part of one)."""
    try:
        parse_since(args.since)
    except InputError as exc:
        return bad_input(str(exc))
    engine = build_engine(settings)
    try:
        insights = engine.service.insights

        def write(out: TextIO) -> int:
            return insights.export(args.table, out, args.since, args.account, _mode(args))

        rows = write(sys.stdout) if args.csv == "-" else write_atomically(Path(args.csv), write)
    except InputError as exc:
        return bad_input(str(exc))
    except OSError as exc:
        return bad_input(f"cannot write {args.csv}: {exc.strerror or exc}")
    finally:
        engine.close()
    done = f"wrote {count(rows, ROW_WORDS[args.table])} to {args.csv}"
    print(done, file=sys.stderr if args.csv == "-" else sys.stdout)
    return 0


def write_atomically(path: Path, write: Callable[[TextIO], int]) -> int:
    """Write through a new temporary file in `path`'s folder, flushed to disk, then renamed
    over `path` once complete (os.replace: readers see the old file or the new one whole).
    Raises InputError, with nothing written, unless `path` is a regular file or nothing."""
    existing = regular_or_nothing(path)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        # mkstemp creates the file 0o600 whatever the umask: a new export is its owner's
        # only. A replaced file keeps its own permission bits.
        if existing is not None:
            os.fchmod(descriptor, stat.S_IMODE(existing.st_mode) & 0o777)
        with open(descriptor, "w", newline="", encoding="utf-8") as out:
            written = write(out)
            out.flush()
            os.fsync(out.fileno())
        regular_or_nothing(path)  # nothing else took its place meanwhile
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return written


def regular_or_nothing(path: Path) -> os.stat_result | None:
    """`path`'s own status (a symlink is not followed) when it is a regular file, None when
    nothing is there; InputError for anything else or a folder that does not exist."""
    if not path.parent.is_dir():
        raise InputError(f"cannot write {path}: its folder {path.parent} does not exist")
    try:
        found = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(found.st_mode):
        raise InputError(
            f"cannot write {path}: it is {_kind(found.st_mode)}, and export only creates or "
            "replaces a regular file"
        )
    return found


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symbolic link (not followed)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry of the renamed file to disk too."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


HANDLERS = {"health": health, "results": results, "export": export}
