"""What the main page sends a tab, through the real Flask app: the page's frame arrives
without rows, the first refresh (run as the page loads) sends the positions table, and the
next one does not send it again."""

from __future__ import annotations

import pytest

import runtime
from core.config import load_settings
from tests.page_requests import refresh_payload
from web import ids


@pytest.fixture
def client(tmp_path, exchange):
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
        EXCHANGE_URL=exchange.url,
        TRADING_MODE="sim",
        SYMBOLS="ETH/USDT,BTC/USDT",
    )
    running = runtime.build_runtime(settings)
    yield running.dash_app.server.test_client()
    running.close()


def stored(layout: dict, component_id: str):
    """The data of the dcc.Store `component_id` in the page's layout."""
    nodes = [layout]
    while nodes:
        node = nodes.pop()
        if isinstance(node, list):
            nodes.extend(node)
        elif isinstance(node, dict):
            props = node.get("props", {})
            if props.get("id") == component_id:
                return props.get("data")
            nodes.append(props.get("children"))
    raise AssertionError(f"no {component_id} in the layout")


def refresh(client, seen: dict | None) -> dict:
    dependencies = client.get("/_dash-dependencies").get_json()
    answer = client.post("/_dash-update-component", json=refresh_payload(dependencies, seen=seen))
    assert answer.status_code == 200, answer.data[:300]
    return answer.get_json()["response"]


def test_the_first_refresh_sends_the_table_and_the_next_only_what_changed(client):
    layout = client.get("/_dash-layout").get_json()
    assert stored(layout, ids.REFRESH_SEEN) is None  # the tab has received no part yet

    first = refresh(client, None)
    rows = first[ids.POSITIONS_TABLE]["data"]
    assert [row["symbol"] for row in rows] == ["ETH/USDT", "BTC/USDT"]
    assert ids.MODE_BADGE in first

    seen = first[ids.REFRESH_SEEN]["data"]
    second = refresh(client, seen)
    assert "data" not in second.get(ids.POSITIONS_TABLE, {}), "the table was sent twice"
