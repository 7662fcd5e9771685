"""MEXC's per-endpoint request weights: 500 per 10 s for each IP (public) or UID (signed)."""

import math

WINDOW_MS = 10_000
LIMIT_PER_WINDOW = 500

# (method, path) -> weight; ticker endpoints weigh more without a symbol.
WEIGHTS = {
    ("GET", "/api/v3/exchangeInfo"): 10,
    ("GET", "/api/v3/depth"): 1,
    ("GET", "/api/v3/trades"): 5,
    ("GET", "/api/v3/historicalTrades"): 1,
    ("GET", "/api/v3/aggTrades"): 1,
    ("GET", "/api/v3/klines"): 1,
    ("GET", "/api/v3/ticker/bookTicker"): 1,
    ("POST", "/api/v3/order"): 1,
    ("POST", "/api/v3/order/test"): 1,
    ("DELETE", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 2,
    ("GET", "/api/v3/openOrders"): 3,
    ("DELETE", "/api/v3/openOrders"): 1,
    ("DELETE", "/api/v3/order/all"): 1,
    ("GET", "/api/v3/allOrders"): 10,
    ("GET", "/api/v3/account"): 10,
    ("GET", "/api/v3/myTrades"): 10,
    ("POST", "/api/v3/batchOrders"): 20,
    ("GET", "/api/v3/capital/config/getall"): 10,
}
WITHOUT_SYMBOL_WEIGHTS = {
    ("GET", "/api/v3/ticker/24hr"): (1, 40),
    ("GET", "/api/v3/ticker/price"): (1, 2),
}


def weight(method: str, path: str, has_symbol: bool) -> int:
    if (method, path) in WITHOUT_SYMBOL_WEIGHTS:
        with_symbol, without = WITHOUT_SYMBOL_WEIGHTS[(method, path)]
        return with_symbol if has_symbol else without
    return WEIGHTS.get((method, path), 1)


class RateLimiter:
    """Fixed 10 s windows per (endpoint, caller); `admit` says how long to wait if over."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, str], tuple[int, int]] = {}

    def clear(self) -> None:
        self._windows.clear()

    def admit(self, method: str, path: str, caller: str, cost: int, now_ms: int) -> int | None:
        """None if admitted, else the Retry-After seconds."""
        window_start = now_ms - now_ms % WINDOW_MS
        key = (method, path, caller)
        start, used = self._windows.get(key, (window_start, 0))
        if start != window_start:
            used = 0
        if used + cost > LIMIT_PER_WINDOW:
            return max(1, math.ceil((window_start + WINDOW_MS - now_ms) / 1000))
        self._windows[key] = (window_start, used + cost)
        return None
