"""The dark theme's colours, and the look every DataTable of the dashboard shares."""

from __future__ import annotations

GAIN, LOSS, MUTED, WARN = "#2fb380", "#e0474c", "#8a8f95", "#f0ad4e"
BACKGROUND, TEXT, RULE = "#15191e", "#e8e8e8", "#262c33"

HEADER = {"backgroundColor": BACKGROUND, "color": MUTED, "fontWeight": 600, "border": "none"}
CELL = {
    "backgroundColor": BACKGROUND,
    "color": TEXT,
    "border": "none",
    "borderBottom": f"1px solid {RULE}",
    "fontFamily": "var(--bs-body-font-family)",
    "fontSize": "0.82rem",
    "textAlign": "left",
    "padding": "0.3rem 0.45rem",
    "whiteSpace": "nowrap",
}
