"""What the main page sends a tab, through the real Flask app: the page's frame arrives
without rows, the first refresh (run as the page loads) sends the positions table, the next
one does not send it again, and once a price moves only the cells that changed go (a Dash
Patch), while a new tab, or a row added, gets the whole rows."""

from __future__ import annotations

import time

import pytest

import runtime
from core.config import load_settings
from core.domain import PositionState
from tests.page_requests import callback_request, received, refresh_payload
from web import ids
from web.page_tabs import TICKED_PAGES, page_tick

PATCH = "__dash_patch_update"


@pytest.fixture
def running(tmp_path, exchange, control):
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
        EXCHANGE_URL=exchange.url,
        TRADING_MODE="sim",
        SYMBOLS="ETH/USDT,BTC/USDT",
    )
    running = runtime.build_runtime(settings)
    yield running
    running.close()


@pytest.fixture
def client(running):
    return running.dash_app.server.test_client()


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


class Tab:
    """A browser tab's side of the refresh: what it holds of each property it was sent,
    with every Patch applied as the renderer applies it."""

    def __init__(self, client, page: str = "trading"):
        self.client = client
        self.page = page
        self.held: dict[tuple[str, str], object] = {}
        self.last: dict = {}

    def tick(self) -> dict:
        dependencies = self.client.get("/_dash-dependencies").get_json()
        seen = self.held.get((ids.REFRESH_SEEN, "data"))
        payload = refresh_payload(dependencies, seen=seen, page=self.page)
        answer = self.client.post("/_dash-update-component", json=payload)
        assert answer.status_code == 200, answer.data[:300]
        self.last = answer.get_json()["response"]
        for component, props in self.last.items():
            for prop, sent in props.items():
                self.held[(component, prop)] = received(self.held.get((component, prop)), sent)
        return self.last

    def rows(self) -> list[dict]:
        return self.held[(ids.POSITIONS_TABLE, "data")]

    def sent_rows(self):
        return self.last.get(ids.POSITIONS_TABLE, {}).get("data")


def until_rows_sent(tab: Tab, tries: int = 40):
    """Ticks until the positions table is sent (the page feed reads prices every second)."""
    for _ in range(tries):
        tab.tick()
        if tab.sent_rows() is not None:
            return tab.sent_rows()
        time.sleep(0.25)
    raise AssertionError("the positions table was never sent again")


def test_a_moved_price_is_sent_as_the_cells_of_its_row(running, client, control):
    running.start_feed()  # as serve and every gunicorn worker do
    tab = Tab(client)
    first = tab.tick()[ids.POSITIONS_TABLE]["data"]
    assert PATCH not in first and [row["symbol"] for row in first] == ["ETH/USDT", "BTC/USDT"]
    eth = first[0]["price"]

    control.trade_at("ETHUSDT", "2999.5")
    sent = until_rows_sent(tab)
    assert sent[PATCH] == PATCH, "the rows went whole"
    assert {tuple(op["location"]) for op in sent["operations"]} == {(0, "price")}
    assert tab.rows()[0]["price"] == "2,999.50" != eth
    assert tab.rows()[1] == first[1]

    newcomer = Tab(client)  # a new tab (or a reload) holds nothing: it gets everything
    assert newcomer.tick()[ids.POSITIONS_TABLE]["data"] == tab.rows()


def test_a_row_added_sends_the_whole_rows(running, client):
    running.start_feed()
    tab = Tab(client)
    tab.tick()
    bought = running.service.trading.trade("SOL/USDT", PositionState.LONG)
    assert bought.ok, bought.message
    sent = until_rows_sent(tab)
    assert isinstance(sent, list), "a row added went as a patch"
    assert "SOL/USDT" in [row["symbol"] for row in sent]


def test_another_page_tab_refreshes_the_header_only(running, client, control):
    running.start_feed()
    trading = Tab(client)
    trading.tick()
    results = Tab(client, page="results")
    results.held = dict(trading.held)
    control.trade_at("ETHUSDT", "3111.5")
    until_rows_sent(trading)
    sent = results.tick()
    assert ids.POSITIONS_TABLE not in sent and ids.MARKET_STRIP not in sent
    assert "heartbeat" in sent  # the page still hears its server
    results.page = "trading"  # back on Trading, the rows follow at once, as a patch
    rows = results.tick()[ids.POSITIONS_TABLE]["data"]
    assert rows[PATCH] == PATCH and results.rows() == trading.rows()


def test_a_trading_tick_is_three_requests_and_its_refresh_follows_the_stored_mode(client):
    """Each server callback the page's tick sets off is one more request from every tab
    every 2 s: the refresh (which also moves the mode switch and sends the event feed), the
    ticket's preview and the working orders. The Monitor, Health and Results pages take a
    tick the browser sets only while they show."""
    dependencies = client.get("/_dash-dependencies").get_json()
    ticked = [
        d["output"]
        for d in dependencies
        if not d.get("clientside_function") and any(i["id"] == ids.REFRESH for i in d["inputs"])
    ]
    assert len(ticked) == 3, ticked
    paged = [d for d in dependencies if d.get("clientside_function")]
    assert any(
        {o.split("@")[0] for o in d["output"].strip(".").split("...")}
        == {f"{page_tick(tab)}.data" for tab in TICKED_PAGES}
        for d in paged
    )

    spec = next(d for d in dependencies if "positions-table.data" in d["output"])
    shown = {
        (ids.REFRESH, "n_intervals"): 1,
        (ids.SYMBOL_SELECT, "value"): "ETH/USDT",
        (ids.PAGE_TABS, "active_tab"): "trading",
        (ids.KNOWN_MODE, "data"): "live",  # the tab showed LIVE; the stored mode is SIM
    }

    def tick() -> dict:
        body = callback_request(spec, shown, shown, f"{ids.REFRESH}.n_intervals")
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code == 200, answer.data[:300]
        return answer.get_json()["response"]

    first = tick()
    assert first[ids.MODE_SWITCH]["value"] is True  # the switch shows SIM
    assert first[ids.KNOWN_MODE]["data"] == "sim"
    assert "data" in first[ids.EVENT_FEED]
    shown[(ids.KNOWN_MODE, "data")] = "sim"
    assert ids.MODE_SWITCH not in tick()
