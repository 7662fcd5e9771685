"""What the callbacks of both insights pages share: sending only the parts that changed,
and a CSV download of the export."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime

from dash import dcc, no_update
from plotly.utils import PlotlyJSONEncoder


def digest(value) -> str:
    """A short fingerprint of a part of the page (components, figures, rows)."""
    text = json.dumps(value, cls=PlotlyJSONEncoder, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def changed_only(parts: dict[tuple[str, str], object], seen: dict | None) -> list:
    """The outputs of a refresh: each part that differs from what this tab last received
    (`seen` holds their fingerprints), no_update for the others, and then the new `seen`."""
    seen = dict(seen or {})
    outputs = []
    for (component, prop), value in parts.items():
        key, fingerprint = f"{component}.{prop}", digest(value)
        if seen.get(key) == fingerprint:
            outputs.append(no_update)
        else:
            seen[key] = fingerprint
            outputs.append(value)
    changed = any(output is not no_update for output in outputs)
    return [*outputs, seen if changed else no_update]


def csv_download(service, table: str, window: str, account: str | None) -> dict:
    """The export of `table` over the window as a file the browser saves."""
    out = io.StringIO()
    service.insights.export(table, out, window, account)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return dcc.send_string(out.getvalue(), f"{table}-{window}-{stamp}.csv", type="text/csv")
