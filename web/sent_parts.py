"""What a tab already holds: each part of a page (a component's property) is sent again
only when its fingerprint differs from the one the tab last received. The main page and
the insights pages keep those fingerprints in a dcc.Store per tab."""

from __future__ import annotations

import hashlib
import json

from dash import no_update
from plotly.utils import PlotlyJSONEncoder

Part = tuple[str, str]  # (component id, property)


def digest(value) -> str:
    """A short fingerprint of a part: components, figures, rows."""
    text = json.dumps(value, default=_plain, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _plain(value):
    """A Dash component or figure as the dict it is sent as, so json's C encoder does the
    rest; plotly's encoder for the odd value inside a figure (dates, numpy)."""
    if hasattr(value, "to_plotly_json"):
        return value.to_plotly_json()
    return PlotlyJSONEncoder().default(value)


def seen_of(parts: dict[Part, object]) -> dict[str, str]:
    """The fingerprints of parts a page was built with, for its store."""
    return {_key(part): digest(value) for part, value in parts.items()}


def changed_only(parts: dict[Part, object], seen: dict | None) -> list:
    """The outputs of a refresh: each part that differs from what this tab last received
    (`seen` holds their fingerprints), no_update for the others, and then the new `seen`
    (no_update when nothing changed)."""
    seen = dict(seen or {})
    outputs = []
    for part, value in parts.items():
        key, fingerprint = _key(part), digest(value)
        if seen.get(key) == fingerprint:
            outputs.append(no_update)
        else:
            seen[key] = fingerprint
            outputs.append(value)
    changed = any(output is not no_update for output in outputs)
    return [*outputs, seen if changed else no_update]


def _key(part: Part) -> str:
    return ".".join(part)
