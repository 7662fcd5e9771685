"""The page tabs of ids.PAGE_TABS (their tab_id): callbacks of one page refresh only while
it shows."""

TRADING_TAB, MONITOR_TAB = "trading", "monitor"
