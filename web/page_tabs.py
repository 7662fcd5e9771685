"""The page tabs of ids.PAGE_TABS (their tab_id): callbacks of one page refresh only while
it shows. Such a page's callbacks take its own tick (page_tick), which the browser sets from
the page's refresh tick only while that page shows: a hidden page costs no request (each
tab's tick sent one per page, to be refused by the server)."""

from __future__ import annotations

import json

from dash import Input, Output, State, dcc

from web import ids
from web.insights_ids import HEALTH_TAB, RESULTS_TAB

TRADING_TAB, MONITOR_TAB = "trading", "monitor"
TICKED_PAGES = (MONITOR_TAB, HEALTH_TAB, RESULTS_TAB)


def page_tick(tab: str) -> str:
    """The id of the store holding the refresh tick of `tab`'s page while it shows."""
    return f"{tab}-tick"


def page_tick_stores() -> list[dcc.Store]:
    return [dcc.Store(id=page_tick(tab)) for tab in TICKED_PAGES]


def register_page_ticks(app) -> None:
    app.clientside_callback(
        f"""function (tick, page) {{
            const skip = window.dash_clientside.no_update;
            return {json.dumps(TICKED_PAGES)}.map((tab) => (tab === page ? tick : skip));
        }}""",
        *(Output(page_tick(tab), "data") for tab in TICKED_PAGES),
        Input(ids.REFRESH, "n_intervals"),
        State(ids.PAGE_TABS, "active_tab"),
    )
