"""The state file on disk: read whole as one JSON object, written atomically; a lock file
beside it marks the one emulator that owns it."""

import json
from pathlib import Path

from emulator.atomic_file import write_atomic


class StateFileError(ValueError):
    """A state file the emulator cannot resume from: start-up stops rather than start afresh
    over it."""


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def read(path: Path) -> dict | None:
    """The saved document, or None when there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(f"unreadable ({exc})") from exc
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise StateFileError(f"not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise StateFileError("not a JSON object")
    return doc


def write(path: Path, doc: dict) -> None:
    write_atomic(path, json.dumps(doc, separators=(",", ":")) + "\n")
