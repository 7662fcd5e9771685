"""The Dash app over a trading service: the one entry point app.py needs from web/."""

from __future__ import annotations

from pathlib import Path

import dash
import flask

# Imported here, once, before any request: plotly's JSON encoder imports numpy and pandas
# lazily, and two callbacks answering at once right after a start would each import them
# and one would see a half-loaded module ("partially initialized module 'numpy'").
import numpy  # noqa: F401
import pandas  # noqa: F401
from flask_compress import Compress

from core.service import render_metrics
from web.callbacks import register_callbacks
from web.layout import build_layout
from web.login import Access, protect

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def create_dash_app(
    service, background, access: Access, *, title: str = "Trading Dashboard"
) -> dash.Dash:
    """`background` runs the trades and monitor applies (Dash background callbacks): its
    `manager` and `down()`, which says why it cannot now, or None. `access` is the login and
    the Host names served (web.login). The dark theme (Bootswatch Cyborg) is served from
    assets/, so the page needs no CDN."""
    app = dash.Dash(
        __name__,
        title=title,
        update_title=None,
        assets_folder=str(ASSETS),
        serve_locally=True,
        background_callback_manager=background.manager,
        # the charts join the layout after the page shows (web.layout._chart_box)
        suppress_callback_exceptions=True,
    )

    def layout():
        return build_layout(
            title=title,
            exchange_label=service.exchange_label,
            symbols=service.symbols,
            view=service.reads.dashboard(),
        )

    app.layout = layout
    register_callbacks(app, service, background.down)
    _serve_metrics(app)
    _compress_and_cache(app.server)
    protect(app.server, access)  # Flask takes no before_request after the warm-up request
    _set_up_before_serving(app)
    return app


def _set_up_before_serving(app: dash.Dash) -> None:
    """Dash registers the page's scripts on the first request a server answers. Under a
    threaded server (gunicorn's gthread) a second request arriving meanwhile finds none
    registered and fails ("dash is not a registered library"), so one request is answered
    here, before any browser's. Dash's own setup hook runs before the login, so the answer
    may be a 401: the scripts are registered all the same."""
    app.server.test_client().get("/")


# what is worth compressing: the page, its scripts and styles, the callbacks' JSON
COMPRESSED = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
]
YEAR = 365 * 24 * 3600


def _compress_and_cache(server: flask.Flask) -> None:
    """Responses go compressed (zstd, brotli or gzip, as the browser accepts: 2.1 MB of
    scripts before the table become about 0.5 MB), and what carries its version in its
    URL is kept a year: Dash's fingerprinted component scripts already are, and assets/
    files, which Dash links with `?m=<modification time>`, are made so here (a changed file
    gets a new URL)."""
    server.config.update(COMPRESS_MIMETYPES=COMPRESSED)
    Compress(server)

    @server.after_request
    def cache_versioned_assets(response: flask.Response) -> flask.Response:
        request = flask.request
        if (
            request.path.startswith("/assets/")
            and "m" in request.args
            and response.status_code == 200
        ):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.no_cache = None
        return response


def _serve_metrics(app: dash.Dash) -> None:
    """Prometheus metrics at GET /metrics, behind the page's own login when it has one (the
    login guards every route of the server)."""

    @app.server.route("/metrics")
    def metrics():
        body, content_type = render_metrics()
        return flask.Response(body, content_type=content_type)
