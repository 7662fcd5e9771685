"""What the first page costs on the wire, through the real Flask app: responses are
compressed, what carries its version in its URL is cached a year, charts get the finance
bundle of plotly.js, and the layout (asked for
on every reload) stays small however many positions the book holds: their rows come with
the first refresh. Sizes only: bench/bench_first_page.py gives the times."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import plotly
import pytest
from plotly.offline import get_plotlyjs_version

import runtime
from bench.bench_dashboard import populate
from core.config import load_settings
from core.domain import Mode
from tests.page_requests import refresh_payload
from web import ids
from web.app_factory import PLOTLY_BUNDLE, PLOTLY_PATH, bundle_version

GZIP = {"Accept-Encoding": "gzip"}
POSITIONS = 500  # the figure (and past SQLite's 500 terms of one compound SELECT)
LAYOUT_LIMIT = 40 * 1024


@pytest.fixture(scope="module")
def client(tmp_path_factory, exchange):
    folder = tmp_path_factory.mktemp("page")
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{folder}/t.db", EXCHANGE_URL=exchange.url, TRADING_MODE="sim"
    )
    running = runtime.build_runtime(settings)
    populate(running.engine.db, POSITIONS, 100)
    wiring = running.service.wiring
    wiring.book_changed(wiring.book(Mode.SIM))  # written behind the service's back
    yield running.dash_app.server.test_client()
    running.close()


def page_links(client) -> list[str]:
    html = client.get("/").get_data(as_text=True)
    return re.findall(r'(?:src|href)="(/[^"]+)"', html)


def test_scripts_and_answers_are_compressed(client):
    scripts = [u for u in page_links(client) if "/_dash-component-suites/" in u]
    assert scripts
    for url in scripts:
        plain = client.get(url)
        packed = client.get(url, headers=GZIP)
        if len(plain.data) < 500:  # below flask-compress's minimum: not worth it
            continue
        assert packed.headers["Content-Encoding"] == "gzip", url
        assert gzip.decompress(packed.data) == plain.data, url
        assert len(packed.data) < len(plain.data) / 2, url

    dependencies = client.get("/_dash-dependencies").get_json()
    answer = client.post(
        "/_dash-update-component", json=refresh_payload(dependencies), headers=GZIP
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Encoding"] == "gzip"
    assert ids.POSITIONS_TABLE in json.loads(gzip.decompress(answer.data))["response"]


def test_versioned_files_are_cached_a_year(client):
    links = page_links(client)
    assets = [u for u in links if u.startswith("/assets/") and "?m=" in u]
    suites = [u for u in links if "/_dash-component-suites/" in u]
    assert assets and suites
    for url in assets + suites:
        cache = client.get(url).headers.get("Cache-Control", "")
        assert "max-age=31536000" in cache, (url, cache)


def test_lazy_parts_are_fetched_under_the_fingerprint_and_cached_a_year(client):
    """dcc and dash_table fetch their lazy parts from their own script's folder: the page
    names that folder by Dash's fingerprint, so those parts are versioned and kept a year
    too (a reload does not ask for them again)."""
    links = page_links(client)
    for package, script, part in (
        ("dcc", "dash_core_components.js", "async-graph.js"),
        ("dash_table", "bundle.js", "async-table.js"),
    ):
        versioned_script = re.compile(rf"/{package}/v[\w-]+m[0-9a-f]+/{re.escape(script)}$")
        [url] = [u for u in links if versioned_script.search(u)]
        folder = url.rsplit("/", 1)[0]
        versioned = client.get(f"{folder}/{part}")
        assert "max-age=31536000" in versioned.headers.get("Cache-Control", ""), part
        bare = client.get(f"{folder.rsplit('/', 1)[0]}/{part}")  # as Dash alone asks
        assert versioned.data == bare.data and "max-age" not in bare.headers.get(
            "Cache-Control", ""
        )


def test_charts_get_the_finance_bundle_of_dashs_plotly_version(client):
    """Where dcc.Graph fetches plotly.js, the page answers with web/vendor's finance bundle:
    the installed plotly's version (an upgrade of plotly fails here until the file is
    refreshed), compressed, and not sent again to a browser that holds it."""
    url = "/" + PLOTLY_PATH
    sent = client.get(url, headers=GZIP)
    assert sent.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(sent.data)
    assert body == PLOTLY_BUNDLE.read_bytes()
    assert bundle_version(PLOTLY_BUNDLE) == get_plotlyjs_version()
    assert b"finance" in body[:100]
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert len(body) < full.stat().st_size / 3  # 1.3 MB, not 4.8 MB
    again = client.get(url, headers={**GZIP, "If-None-Match": sent.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_the_layout_carries_no_rows_and_stays_small(client):
    layout = client.get("/_dash-layout", headers=GZIP)
    assert layout.headers["Content-Encoding"] == "gzip"
    assert len(layout.data) < LAYOUT_LIMIT
    assert "X0001/USDT" not in gzip.decompress(layout.data).decode()  # no position row

    dependencies = client.get("/_dash-dependencies").get_json()
    first = client.post("/_dash-update-component", json=refresh_payload(dependencies)).get_json()
    assert len(first["response"][ids.POSITIONS_TABLE]["data"]) == POSITIONS
