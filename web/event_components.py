"""The event feed's pieces: its table, the toast that tells a tab about events it did not
make, the incidents waiting for an acknowledgement, and the trade panel's last word on a
symbol. Pure builders (views in, components or properties out) and the layout pieces."""

from __future__ import annotations

import uuid

import dash_bootstrap_components as dbc
from dash import dash_table, dcc, html

from core.views import BookEvent, DashboardView
from web import formatting as fmt
from web import ids

FEED_COLUMNS = (("time", "Time"), ("who", "Who"), ("symbol", "Symbol"), ("text", "What happened"))
KIND_WORDS = {
    "trade": "Trade",
    "trade_failed": "Trade failed",
    "stop_fired": "Stop fired",
    "external_change": "Account change",
    "drift": "Drift",
    "in_sync": "Back in sync",
    "repaired": "Repaired",
    "flatten": "Flatten",
    "resume": "Resumed",
    "alert": "Alert",
    "order_filled": "Working order filled",
    "order_ended": "Working order ended",
    "order_cancelled": "Order cancelled",
    "order_amended": "Order moved",
}
# how each kind reads: news that needs the trader's eye is amber or red
KIND_TONES = {
    "trade": "success",
    "in_sync": "success",
    "repaired": "info",
    "resume": "info",
    "order_filled": "success",
    "order_ended": "info",
    "order_cancelled": "info",
    "order_amended": "info",
    "stop_fired": "warning",
    "external_change": "warning",
    "drift": "warning",
    "flatten": "warning",
    "trade_failed": "danger",
    "alert": "danger",
}
TONE_ORDER = ("danger", "warning", "success", "info")
TRADE_OUTCOMES = {"trade": "Done", "trade_failed": "Failed"}
EVENT_TOAST_MS = 15_000


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind, kind.replace("_", " ").capitalize())


def tone(event: BookEvent) -> str:
    return KIND_TONES.get(event.kind, "info")


def feed_rows(events: list[BookEvent]) -> list[dict]:
    """The feed's data, newest first: when, who made it happen, and what happened."""
    rows = [
        {
            "time": fmt.timestamp(e.time),
            "who": e.who,
            "symbol": e.symbol or "all",
            "text": f"{kind_words(e.kind)}: {e.text}",
            "tone": tone(e),
            "waiting": "yes" if e.waiting else "",
        }
        for e in events
    ]
    return rows or [{"time": "No events yet."}]


def event_toast(news: list[BookEvent]) -> tuple[bool, str, str, list]:
    """The toast's is_open, header, icon and body for the events a tab had not seen
    (newest first), each on its own line."""
    worst = min((tone(e) for e in news), key=TONE_ORDER.index)
    if len(news) == 1:
        header = f"{kind_words(news[0].kind)} · {news[0].who}"
    else:
        header = f"{len(news)} events"
    lines = [html.Div(f"{e.time:%H:%M:%S} {e.who}: {e.text}", className="event-line") for e in news]
    return True, header, worst, lines


def news_for_tab(
    events: list[BookEvent], seen: int | None, tab: str | None
) -> tuple[list[BookEvent], int]:
    """The events newer than `seen` that another tab or the background made (this tab's
    own clicks have their own toast), and the newest id seen now. A tab that has seen
    nothing yet takes what is there as known."""
    newest = max([seen or 0, *(e.id for e in events)])
    if seen is None:
        return [], newest
    return [e for e in events if e.id > seen and (tab is None or e.requester != tab)], newest


def acknowledged_lines(lines: list[str]) -> list:
    """The toast's body after the Acknowledge button: what the service said it did
    (`Acknowledged.lines`: how many and the first few when there are many), one line under
    the other."""
    return [html.Div(line, className="event-line") for line in lines]


def waiting_text(view: DashboardView) -> list:
    """What the trader is asked to acknowledge: each incident with its time."""
    return [html.Div(f"{fmt.timestamp(e.time)}: {e.text}", className="small") for e in view.waiting]


def last_event_line(event: BookEvent | None) -> list:
    """The trade panel's word on a symbol when no trade is running: its newest event (a
    trade, a stop, a flatten, a drift...), so it never repeats a trade that has since been
    undone."""
    if event is None:
        return []
    when = fmt.timestamp(event.time)
    if event.kind in TRADE_OUTCOMES:
        words = f"Last trade, {when}: {TRADE_OUTCOMES[event.kind]}: {event.text} (by {event.who})"
    else:
        words = f"Last event, {when}: {kind_words(event.kind)}: {event.text} (by {event.who})"
    return [html.Span(words, className=f"text-{tone(event)}")]


def feed_card() -> dbc.Card:
    table = dash_table.DataTable(
        id=ids.EVENT_FEED,
        columns=[{"id": key, "name": name} for key, name in FEED_COLUMNS],
        data=[],
        page_size=10,
        style_as_list_view=True,
        style_table={"overflowX": "auto"},
        style_header={"backgroundColor": "transparent", "fontWeight": "600"},
        style_cell={
            "backgroundColor": "transparent",
            "color": "inherit",
            "textAlign": "left",
            "whiteSpace": "normal",
            "fontSize": "0.8rem",
        },
        style_data_conditional=[
            {"if": {"filter_query": f'{{tone}} = "{t}"', "column_id": "text"}, "color": colour}
            for t, colour in (("warning", "#f0ad4e"), ("danger", "#d9534f"))
        ],
    )
    return dbc.Card([dbc.CardHeader("Events"), dbc.CardBody(table)], className="mb-3 events-feed")


def ack_alert() -> dbc.Alert:
    """Incidents waiting for the trader, with the one button that acknowledges them: the
    button is never re-rendered, only the text beside it."""
    return dbc.Alert(
        [
            html.Div(id=ids.ACK_TEXT),
            dbc.Button(
                "Acknowledge",
                id=ids.ACK_BUTTON,
                color="warning",
                size="sm",
                className="mt-2",
                title="I have seen it: take it off the badge",
            ),
        ],
        id=ids.ACK_ALERT,
        color="warning",
        is_open=False,
        className="mb-3",
    )


def toast_box() -> dbc.Toast:
    """The toast of events this tab did not make, in the ticket's flow under the trade's
    own: it never covers a table or the kill switch's answer."""
    return dbc.Toast(
        id=ids.EVENT_TOAST,
        header="",
        is_open=False,
        dismissable=True,
        duration=EVENT_TOAST_MS,
        className="event-toast",
    )


def page_parts(view: DashboardView) -> list:
    """The stores each tab keeps: its own name, and the newest event it has seen (the
    events before it opened are no news)."""
    newest = max((e.id for e in view.events), default=0)
    return [
        dcc.Store(id=ids.TAB_ID, data=uuid.uuid4().hex),
        dcc.Store(id=ids.EVENTS_SEEN, data=newest),
        dcc.Store(id=ids.EVENT_PARTS_SEEN),
    ]
