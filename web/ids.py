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
