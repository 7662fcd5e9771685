"""What the callbacks of both insights pages share: a CSV download of the export."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from dash import dcc


def csv_download(service, table: str, window: str, account: str | None) -> dict:
    """The export of `table` over the window as a file the browser saves."""
    out = io.StringIO()
    service.insights.export(table, out, window, account)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return dcc.send_string(out.getvalue(), f"{table}-{window}-{stamp}.csv", type="text/csv")
