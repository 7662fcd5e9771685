"""What a tab already holds: each part of a page (a component's property) is sent again
only when its fingerprint differs from the one the tab last received, and then, when the
server still knows the version the tab holds, only as the cells that changed (a Dash
`Patch`). The main page and the insights pages keep those fingerprints in a dcc.Store per
tab; the versions themselves are kept by the service's PageMemory, shared by workers."""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from dash import Patch, no_update
from plotly.utils import PlotlyJSONEncoder

Part = tuple[str, str]  # (component id, property)
PATCHES_KEPT = 512  # (held, new) pairs whose patch this process has worked out
# a version still shown is stored again this often, so it outlives the memory's minute
STORE_AGAIN_SECONDS = 20


@dataclass(frozen=True)
class Built:
    """A part built once for every tab that asks: its JSON and fingerprint."""

    text: str
    fingerprint: str

    @functools.cached_property
    def plain(self):
        """The value as the plain JSON data it is sent as. Dash encodes plain data in one
        call (orjson); components it walks one by one: a first refresh of a 500-position
        book holds about 2,500 of them, and Dash's walk was 95 % of its 70 ms."""
        return json.loads(self.text)


def built(value) -> Built:
    text = json.dumps(value, default=_plain, sort_keys=True)
    return Built(text, hashlib.blake2b(text.encode(), digest_size=8).hexdigest())


def digest(value) -> str:
    """A short fingerprint of a part: components, figures, rows."""
    return built(value).fingerprint


def _plain(value):
    """A Dash component or figure as the dict it is sent as, so json's C encoder does the
    rest; plotly's encoder for the odd value inside a figure (dates, numpy)."""
    if hasattr(value, "to_plotly_json"):
        return value.to_plotly_json()
    return PlotlyJSONEncoder().default(value)


def seen_of(parts: dict[Part, object]) -> dict[str, str]:
    """The fingerprints of parts a page was built with, for its store."""
    return {_key(part): digest(value) for part, value in parts.items()}


class Patches:
    """Works out what to send a tab whose part changed: the Patch from the version it
    holds to the new one when the memory still has that version and the patch is the
    smaller, else the whole value. `keyed` names, per part holding rows, the column that
    identifies a row: when the rows are not the same ones in the same order, the whole
    rows go. One per app; the patches it works out are shared by all its tabs."""

    def __init__(self, memory, keyed: dict[Part, str] | None = None):
        self.memory = memory
        self.keyed = keyed or {}
        self._kept: OrderedDict[tuple[str, str], list | None] = OrderedDict()
        self._stored: OrderedDict[str, float] = OrderedDict()  # fingerprint -> when
        self._guard = threading.Lock()

    def send(self, part: Part, held: str | None, new: Built):
        """What goes to a tab holding version `held` (None: nothing yet) of `part`."""
        self.keep(new)
        if not held:
            return new.plain
        with self._guard:
            found = (held, new.fingerprint) in self._kept
            operations = self._kept.get((held, new.fingerprint))
        if not found:
            operations = self._operations(part, held, new)
            with self._guard:
                self._kept[(held, new.fingerprint)] = operations
                while len(self._kept) > PATCHES_KEPT:
                    self._kept.popitem(last=False)
        return new.plain if operations is None else _patch(operations)

    def keep(self, new: Built) -> None:
        """Store the version tabs hold (again, now and then, while they hold it)."""
        now = time.monotonic()
        with self._guard:
            if now - self._stored.get(new.fingerprint, -STORE_AGAIN_SECONDS) < STORE_AGAIN_SECONDS:
                return
            self._stored[new.fingerprint] = now
            self._stored.move_to_end(new.fingerprint)
            while len(self._stored) > PATCHES_KEPT:
                self._stored.popitem(last=False)
        self.memory.remember(new.fingerprint, new.plain)

    def _operations(self, part: Part, held: str, new: Built) -> list | None:
        """The assignments from the held version to the new one, or None: send it whole."""
        old = self.memory.recall(held)
        if old is None:
            return None
        value = new.plain
        key = self.keyed.get(part)
        if key is not None and not _same_rows(old, value, key):
            return None
        operations: list = []
        _differences(old, value, [], operations)
        if not operations or any(not path for path, _ in operations):
            return None
        size = len(json.dumps([[path, change] for path, change in operations]))
        return operations if 2 * size < len(new.text) else None


def _same_rows(old, new, key: str) -> bool:
    if not (isinstance(old, list) and isinstance(new, list)):
        return False
    return [row.get(key) for row in old] == [row.get(key) for row in new]


def _differences(old, new, path: list, operations: list) -> None:
    """The deepest places where `new` differs from `old`: a dict with other keys or a list
    of another length is assigned whole."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict) and old.keys() == new.keys():
        for name, value in new.items():
            _differences(old[name], value, [*path, name], operations)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (was, value) in enumerate(zip(old, new, strict=True)):
            _differences(was, value, [*path, index], operations)
    else:
        operations.append((path, new))


def _patch(operations: list) -> Patch:
    patch = Patch()
    for path, value in operations:
        target = patch
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return patch


def changed_only(
    parts: dict[Part, object], seen: dict | None, patches: Patches | None = None
) -> list:
    """The outputs of a refresh: each part that differs from what this tab last received
    (`seen` holds their fingerprints), as a patch of what it holds when `patches` can work
    one out, no_update for the others, and then the new `seen` (with `patches`, as a
    patch of the fingerprints that changed; no_update when nothing changed). A part may
    come `built` already (shared by the tabs of one version)."""
    held_before = bool(seen)
    seen = dict(seen or {})
    news = Patch()  # the fingerprints that changed, for a tab that holds the others
    outputs = []
    for part, value in parts.items():
        new = value if isinstance(value, Built) else built(value)
        key = _key(part)
        held = seen.get(key)
        if held == new.fingerprint:
            if patches is not None:
                patches.keep(new)
            outputs.append(no_update)
            continue
        seen[key] = news[key] = new.fingerprint
        outputs.append(new.plain if patches is None else patches.send(part, held, new))
    if not any(output is not no_update for output in outputs):
        return [*outputs, no_update]
    return [*outputs, news if patches is not None and held_before else seen]


def _key(part: Part) -> str:
    return ".".join(part)
