"""Every component id on the page, in one place: layout, callbacks and browser tests share them."""

MODE_BADGE = "mode-badge"
MODE_DETAIL = "mode-detail"
EXCHANGE_LABEL = "exchange-label"
LAST_SYNC = "last-sync"

SYMBOL_SELECT = "symbol-select"
MARKET_STRIP = "market-strip"
EXCHANGE_ALERT = "exchange-alert"

POSITIONS_TABLE = "positions-table"
PNL_CARDS = "pnl-cards"

ORDER_SIZE = "order-size"
ORDER_SIZE_UNIT = "order-size-unit"
ORDER_SIZE_FEEDBACK = "order-size-feedback"
TICKET_PREVIEW = "ticket-preview"
TRADE_BUY = "trade-buy"
TRADE_SELL = "trade-sell"
TRADE_CLOSE = "trade-close"
TRADE_TOAST = "trade-toast"
TRADE_DONE = "trade-done"

MODE_SWITCH = "mode-switch"
LIVE_CONFIRM = "live-confirm"
MODE_MESSAGE = "mode-message"
MODE_CHANGED = "mode-changed"
KNOWN_MODE = "known-mode"

PAGE_TABS = "page-tabs"

PRICE_CHART = "price-chart"
EQUITY_CHART = "equity-chart"
FILLS_TABLE = "fills-table"
ORDERS_TABLE = "orders-table"
SYNC_LOG = "sync-log"

MONITOR_DIAGNOSE = "monitor-diagnose"
MONITOR_PREVIEW = "monitor-preview"
MONITOR_APPLY = "monitor-apply"
MONITOR_CONFIRM = "monitor-confirm"
MONITOR_STATUS = "monitor-status"
MONITOR_DISCREPANCIES = "monitor-discrepancies"
MONITOR_PLAN = "monitor-plan"
MONITOR_HISTORY = "monitor-history"
MONITOR_APPLIED = "monitor-applied"

REFRESH = "refresh"
CHART_REFRESH = "chart-refresh"

DERIVATIVES_CARD = "derivatives-card"
DERIVATIVES_TABLE = "derivatives-table"
BALANCES_TABLE = "balances-table"
BALANCES_TIME = "balances-time"
TRADE_STATUS = "trade-status"
REFRESH_SEEN = "refresh-seen"
HEARTBEAT = "heartbeat"
HEARTBEAT_SEEN = "heartbeat-seen"
CONNECTION_TICK = "connection-tick"
CONNECTION = "connection"
DISCONNECTED_BADGE = "disconnected-badge"
PRICE_CHART_BOX = "price-chart-box"
EQUITY_CHART_BOX = "equity-chart-box"
CHARTS_MOUNT = "charts-mount"

STOP_LOSS = "stop-loss"
TAKE_PROFIT = "take-profit"
STOP_FEEDBACK = "stop-feedback"
STOP_SET = "stop-set"
STOP_CLEAR = "stop-clear"
PROTECTION_MESSAGE = "protection-message"
FLATTEN = "flatten"
FLATTEN_CONFIRM = "flatten-confirm"
KILL_SWITCH_ASKED = "kill-switch-asked"  # the mode its last question named
RESUME = "resume"
RESUME_CONFIRM = "resume-confirm"
TRADE_REQUEST = "trade-request"
BACKGROUND_ALERT = "background-alert"

EVENT_FEED = "event-feed"
EVENT_TOAST = "event-toast"
EVENTS_SEEN = "events-seen"  # the newest event id this tab has shown or passed over
EVENT_PARTS_SEEN = "event-parts-seen"
TAB_ID = "tab-id"  # this tab's own name: events its clicks made are no news to it
ACK_ALERT = "ack-alert"
ACK_TEXT = "ack-text"
ACK_BUTTON = "ack-button"

# partial exits: the part of the holding a SELL or CLOSE sells
EXIT_PART = "exit-part"
EXIT_PART_UNIT = "exit-part-unit"
EXIT_PART_FEEDBACK = "exit-part-feedback"
TRADE_BLOCKED = "trade-blocked"  # why BUY / SELL / CLOSE are disabled, under them

# the keyboard: B, S, C open a confirmation; only its button sends
KEY_CHOICE = "key-choice"
KEY_CONFIRM = "key-confirm"
KEY_CONFIRM_TITLE = "key-confirm-title"
KEY_CONFIRM_BODY = "key-confirm-body"
KEY_SEND = "key-send"
KEY_CANCEL = "key-cancel"
KEY_LEGEND = "key-legend"
LIMIT_PRICE = "limit-price"  # the ticket's price: empty takes the market, a price rests
ORDERS_PANEL = "orders-panel"
ORDERS_MESSAGE = "orders-message"
ORDERS_SHOWN = "orders-shown"  # what the panel shows now: re-rendered only when it changes
ORDERS_CHANGED = "orders-changed"
