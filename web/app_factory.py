"""The Dash app over a trading service: the one entry point app.py needs from web/."""

from __future__ import annotations

import hashlib
import re
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
# plotly.js's official finance bundle (web/vendor/README.md says where it comes from)
PLOTLY_BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-finance.min.js"
# where dcc.Graph fetches plotly.js from when the first chart mounts (dash-renderer's
# window._dashPlotlyJSURL with serve_locally), under the app's routes_pathname_prefix
PLOTLY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"


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
    _version_chunk_urls(app.server)
    _serve_partial_plotly(app)
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


# Dash's fingerprint of a component script (dash.fingerprint): its package's version and
# the file's modification time, as in dcc/dash_core_components.v4_4_1m1796304504.js
FINGERPRINT = r"v[\w-]+m[0-9a-fA-F]+"
# in the page: a script of _dash-component-suites whose file name carries its fingerprint
FINGERPRINTED_SRC = re.compile(
    rf'(src="[^"]*/_dash-component-suites/[^"?]*/)([^/"?.]+)\.({FINGERPRINT})\.([^/"?]+)"'
)
# asked for: the fingerprint as the file's folder
FINGERPRINT_FOLDER = re.compile(rf"^(.*/)?({FINGERPRINT})/([^/.]+)\.([^/]+)$")


def _version_chunk_urls(server: flask.Flask) -> None:
    """Dash fingerprints the component scripts it puts in the page, so they are kept a
    year, but dcc and dash_table fetch their lazy parts (async-table.js, async-graph.js...)
    from the folder of their own script, by bare name: a reload asked again for each, one
    revalidation after another, async-table.js among them before the table can show. The
    page's script URLs carry the fingerprint as a folder instead
    (dcc/v4_4_1m1796304504/dash_core_components.js), so those parts are fetched under it
    too, and each such URL is handed to Dash as the name it fingerprints
    (dcc/async-table.v4_4_1m1796304504.js), which it serves with its year's cache. A Dash
    upgrade or a reinstall changes the folder, so a page never meets an old part."""

    @server.after_request  # registered after Compress: runs before it
    def fingerprint_as_folder(response: flask.Response) -> flask.Response:
        if response.mimetype == "text/html" and response.status_code == 200:
            page = response.get_data(as_text=True)
            moved = FINGERPRINTED_SRC.sub(r'\1\3/\2.\4"', page)
            if moved != page:
                response.set_data(moved)
        return response

    @server.url_value_preprocessor
    def fingerprint_in_name(_endpoint, values) -> None:
        path = (values or {}).get("fingerprinted_path")
        found = FINGERPRINT_FOLDER.match(path) if path else None
        if found:
            folder, fingerprint, name, extension = found.groups()
            values["fingerprinted_path"] = f"{folder or ''}{name}.{fingerprint}.{extension}"


def bundle_version(path: Path) -> str | None:
    """The plotly.js version a bundle's banner names ("plotly.js (finance - minified)
    v4.1.1"), or None."""
    with path.open("rb") as file:
        found = re.search(rb"plotly\.js[^\n]* v(\d+\.\d+\.\d+)", file.read(300))
    return found[1].decode() if found else None


def _serve_partial_plotly(app: dash.Dash) -> None:
    """dcc.Graph loads plotly.js itself when the first chart mounts, after the table shows,
    from Dash's URL for the full bundle (4.8 MB): that URL answers with the finance bundle
    (1.3 MB), which draws every chart here, and loads it just as late. Only while both are
    the same plotly.js version: otherwise Dash's own bundle is served, as it would be without
    this. Behind the login as every route (a rule of its own: Werkzeug matches it before
    Dash's `<package_name>/<path>`)."""
    from plotly.offline import get_plotlyjs_version

    if bundle_version(PLOTLY_BUNDLE) != get_plotlyjs_version():
        app.logger.warning(
            "web/vendor/plotly-finance.min.js is plotly.js %s, not %s: serving the full bundle",
            bundle_version(PLOTLY_BUNDLE),
            get_plotlyjs_version(),
        )
        return
    body = PLOTLY_BUNDLE.read_bytes()
    etag = hashlib.sha256(body).hexdigest()[:32]  # once, not per request

    def partial_plotly() -> flask.Response:
        response = flask.Response(body, mimetype="application/javascript")
        response.set_etag(etag)
        return response.make_conditional(flask.request)

    app.server.add_url_rule(
        app.config.routes_pathname_prefix + PLOTLY_PATH, "partial_plotly", partial_plotly
    )


def _serve_metrics(app: dash.Dash) -> None:
    """Prometheus metrics at GET /metrics, behind the page's own login when it has one (the
    login guards every route of the server)."""

    @app.server.route("/metrics")
    def metrics():
        body, content_type = render_metrics()
        return flask.Response(body, content_type=content_type)
