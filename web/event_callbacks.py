"""The event feed: on each refresh tick, the feed and the incidents waiting (sent only when
they changed) and a toast for the events this tab did not make, in the page's refresh
(web.callbacks) from the view it read; the button that acknowledges the incidents."""

from __future__ import annotations

import dash
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from core.service import Mode
from web import event_components as events
from web import ids, sent_parts

PARTS = (
    (ids.EVENT_FEED, "data"),
    (ids.ACK_ALERT, "is_open"),
    (ids.ACK_TEXT, "children"),
)
TOAST = (
    Output(ids.EVENT_TOAST, "is_open"),
    Output(ids.EVENT_TOAST, "header"),
    Output(ids.EVENT_TOAST, "icon"),
    Output(ids.EVENT_TOAST, "children"),
)


# what the page's refresh (web.callbacks) sends and reads of the feed: one request per tick
OUTPUTS = (
    *(Output(component, prop, allow_duplicate=True) for component, prop in PARTS),
    Output(ids.EVENT_PARTS_SEEN, "data"),
    *TOAST,
    Output(ids.EVENTS_SEEN, "data"),
)
STATES = (
    State(ids.EVENT_PARTS_SEEN, "data"),
    State(ids.EVENTS_SEEN, "data"),
    State(ids.TAB_ID, "data"),
)


def shown_events(view, parts_seen, events_seen, tab) -> tuple:
    """OUTPUTS from the dashboard view the refresh read: every open tab hears of a stop, a
    flatten, an external change or another tab's trade once; its own clicks it already
    told in their own toast."""
    parts = {
        (ids.EVENT_FEED, "data"): events.feed_rows(view.events),
        (ids.ACK_ALERT, "is_open"): bool(view.waiting),
        (ids.ACK_TEXT, "children"): events.waiting_text(view),
    }
    news, newest = events.news_for_tab(view.events, events_seen, tab)
    toast = events.event_toast(news) if news else (no_update,) * len(TOAST)
    seen = newest if newest != events_seen else no_update
    return (*sent_parts.changed_only(parts, parts_seen), *toast, seen)


def register_event_callbacks(app: dash.Dash, service) -> None:
    @app.callback(
        Output(ids.ACK_ALERT, "is_open"),
        *(Output(o.component_id, o.component_property, allow_duplicate=True) for o in TOAST),
        Input(ids.ACK_BUTTON, "n_clicks"),
        State(ids.KNOWN_MODE, "data"),
        prevent_initial_call=True,
    )
    def acknowledge(clicks, shown):
        """Acknowledge every incident waiting in the book this tab shows."""
        if not ctx.triggered or not clicks or shown not in {m.value for m in Mode}:
            raise PreventUpdate
        outcome = service.events.acknowledge_all(Mode(shown))
        return False, True, "Acknowledged", "info", events.acknowledged_lines(outcome.lines)
