"""Binance USD-M errors: {"code": <negative int>, "msg": <str>} with the HTTP status Binance
pairs with them. The shared pieces raise MEXC codes; they are renamed here on the way out."""

from emulator.errors import MexcError
from emulator.perp_orders import Rejection

REJECTIONS = {
    Rejection.INSUFFICIENT_MARGIN: (-2019, "Margin is insufficient."),
    Rejection.REDUCE_ONLY_INCREASE: (-2022, "ReduceOnly Order is rejected."),
    Rejection.ORDER_NOT_FOUND: (-2013, "Order does not exist."),
    Rejection.ORDER_FINISHED: (-2011, "Unknown order sent."),
    Rejection.QTY_STEP: (-1111, "Precision is over the maximum defined for this asset."),
    Rejection.QTY_ABOVE_MAX: (-4005, "Quantity greater than max quantity."),
    Rejection.PRICE_TICK: (-4014, "Price not increased by tick size."),
    Rejection.PRICE_RANGE: (-4016, "Limit price can't be higher than the maximum price."),
    Rejection.NOTIONAL_BELOW_MIN: (
        -4164,
        "Order's notional must be no smaller than the minimum (unless you choose reduce only).",
    ),
    Rejection.DUPLICATE_CLIENT_ID: (-4116, "ClientOrderId is duplicated."),
    Rejection.LEVERAGE_INVALID: (-4028, "Leverage is not valid"),
    Rejection.TOO_MANY_ORDERS: (-2025, "Reach max open order limit."),
    Rejection.RISE_REACHED: (-2021, "Order would immediately trigger."),
    Rejection.FALL_REACHED: (-2021, "Order would immediately trigger."),
}

# MEXC code -> (Binance code, message or None to keep the original, HTTP status)
SHARED = {
    400: (-2014, "API-key format invalid.", 401),
    700001: (-2015, "Invalid API-key, IP, or permissions for action.", 401),
    700002: (-1022, "Signature for this request is not valid.", 400),
    700003: (-1021, "Timestamp for this request is outside of the recvWindow.", 400),
    700005: (-1131, "recvWindow must be less than 60000.", 400),
    700004: (-1102, None, 400),
    730002: (-1130, None, 400),
    -2013: (-2013, "Order does not exist.", 400),
    429: (-1003, "Too many requests; current limit is 2400 requests per minute.", 429),
    500: (-1000, "An unknown error occured while processing the request.", 500),
    504: (-1007, "Timeout waiting for response from backend server.", 504),
}


def algo_order_type() -> MexcError:
    return MexcError(
        400,
        -4120,
        "Order type not supported for this endpoint. Please use the Algo Order API endpoints "
        "instead.",
    )


def invalid_order_type() -> MexcError:
    return MexcError(400, -1116, "Invalid orderType.")


def close_position_type(order_type: str) -> MexcError:
    return MexcError(
        400, -4136, f"Target strategy invalid for orderType {order_type},closePosition true"
    )


def close_position_quantity() -> MexcError:
    return MexcError(400, -4137, "Quantity must be zero with closePosition equals true")


def close_position_reduce_only() -> MexcError:
    return MexcError(400, -4138, "Reduce only must be true with closePosition equals true")


def translate(exc: Exception) -> MexcError:
    if isinstance(exc, Rejection):
        code, msg = REJECTIONS[exc.reason]
        return MexcError(400, code, msg)
    if exc.code in SHARED:
        code, msg, status = SHARED[exc.code]
        return MexcError(status, code, msg or exc.msg, exc.headers)
    return exc


def start_after_end() -> MexcError:
    return MexcError(400, -1023, "Start time is greater than end time.")


def interval_too_long(hours: int) -> MexcError:
    return MexcError(400, -1127, f"More than {hours} hours between startTime and endTime.")


def optional_params_combo() -> MexcError:
    return MexcError(400, -1128, "Combination of optional parameters invalid.")
