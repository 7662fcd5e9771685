"""What the main page sends a tab, through the real Flask app: the page arrives with its
positions table filled, and the first refresh does not send that table again."""

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
                return props["data"]
            nodes.append(props.get("children"))
    raise AssertionError(f"no {component_id} in the layout")


def refresh(client, seen: dict | None) -> dict:
    dependencies = client.get("/_dash-dependencies").get_json()
    answer = client.post("/_dash-update-component", json=refresh_payload(dependencies, seen=seen))
    assert answer.status_code == 200, answer.data[:300]
    return answer.get_json()["response"]


def test_the_first_refresh_does_not_send_the_table_the_page_came_with(client):
    layout = client.get("/_dash-layout").get_json()
    seen = stored(layout, ids.REFRESH_SEEN)
    first = refresh(client, seen)
    assert "data" not in first.get(ids.POSITIONS_TABLE, {}), "the table was sent twice"
    assert ids.MODE_BADGE in first  # the parts the page did not come with are sent

    fresh_tab = refresh(client, None)
    rows = fresh_tab[ids.POSITIONS_TABLE]["data"]
    assert [row["symbol"] for row in rows] == ["ETH/USDT", "BTC/USDT"]
