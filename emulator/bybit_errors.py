"""Bybit v5 errors: HTTP 200 (mostly) with {"retCode","retMsg","result","retExtInfo","time"}."""

from emulator.errors import MexcError
from emulator.perp_orders import Rejection

PARAMS_ERROR = 10001


def bybit_error(code: int, msg: str, http_status: int = 200) -> MexcError:
    return MexcError(http_status, code, msg)


def invalid_api_key() -> MexcError:
    return bybit_error(10003, "API key is invalid.", 401)


def invalid_signature(origin: str) -> MexcError:
    return bybit_error(10004, f"error sign! origin_string[{origin}]", 401)


def outside_recv_window(timestamp: str, now_ms: int, recv_window: str) -> MexcError:
    return bybit_error(
        10002,
        "invalid request, please check your server timestamp or recv_window param. "
        f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{recv_window}]",
    )


def params_error(msg: str) -> MexcError:
    return bybit_error(PARAMS_ERROR, msg)


def leverage_not_modified() -> MexcError:
    return bybit_error(110043, "leverage not modified")


REJECTIONS = {
    Rejection.INSUFFICIENT_MARGIN: (110007, "ab not enough for new order"),
    Rejection.REDUCE_ONLY_INCREASE: (
        110017,
        "Reduce-only rule not satisfied: current position is zero or on the same side",
    ),
    Rejection.ORDER_NOT_FOUND: (110001, "order not exists or too late to cancel"),
    Rejection.ORDER_FINISHED: (110001, "order not exists or too late to cancel"),
    Rejection.QTY_STEP: (PARAMS_ERROR, "Qty invalid"),
    Rejection.QTY_ABOVE_MAX: (
        PARAMS_ERROR,
        "The number of contracts exceeds maximum limit allowed",
    ),
    Rejection.PRICE_TICK: (PARAMS_ERROR, "price invalid"),
    Rejection.PRICE_RANGE: (110003, "Order price is out of permissible range"),
    Rejection.NOTIONAL_BELOW_MIN: (110094, "Order does not meet minimum order value"),
    Rejection.DUPLICATE_CLIENT_ID: (110072, "OrderLinkedID is duplicate"),
    Rejection.LEVERAGE_INVALID: (PARAMS_ERROR, "leverage invalid"),
    Rejection.TOO_MANY_ORDERS: (110020, "not allowed to have more than 500 active orders"),
    Rejection.RISE_REACHED: (110092, "expect Rising, but trigger_price <= current"),
    Rejection.FALL_REACHED: (110093, "expect Falling, but trigger_price >= current"),
}

# The shared pieces (parameter parsing, faults, HTTP failures) raise MEXC codes.
SHARED = {
    400: (10003, "API key is invalid.", 401),
    700004: (PARAMS_ERROR, None, 200),
    730002: (PARAMS_ERROR, None, 200),
    -1121: (PARAMS_ERROR, "Not supported symbols", 200),
    -2013: (110001, "order not exists or too late to cancel", 200),
    429: (10006, "Too many visits!", 429),
    500: (10016, "Internal System Error.", 500),
    504: (10000, "Server Timeout", 504),
}


def translate(exc: Exception) -> MexcError:
    if isinstance(exc, Rejection):
        code, msg = REJECTIONS[exc.reason]
        return bybit_error(code, msg)
    if exc.code in SHARED:  # no native Bybit code collides with these
        code, msg, status = SHARED[exc.code]
        return MexcError(status, code, msg or exc.msg, exc.headers)
    return exc


def error_body(exc: MexcError, now_ms: int) -> dict:
    return {"retCode": exc.code, "retMsg": exc.msg, "result": {}, "retExtInfo": {}, "time": now_ms}
