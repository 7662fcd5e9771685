"""The Dash app over a trading service: the one entry point app.py needs from web/."""

from __future__ import annotations

from pathlib import Path

import dash

from web.callbacks import register_callbacks
from web.layout import build_layout

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def create_dash_app(service, *, title: str = "Trading Dashboard") -> dash.Dash:
    """The dark theme (Bootswatch Cyborg) is served from assets/, so the page needs no CDN."""
    app = dash.Dash(
        __name__,
        title=title,
        update_title=None,
        assets_folder=str(ASSETS),
        serve_locally=True,
    )

    def layout():
        view = service.dashboard(service.symbols[0])
        return build_layout(
            title=title,
            exchange_label=service.exchange_label,
            symbols=service.symbols,
            mode=view.mode,
        )

    app.layout = layout
    register_callbacks(app, service)
    return app
