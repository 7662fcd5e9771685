"""MEXC error bodies: `{"code": <int>, "msg": <str>}` with the HTTP status MEXC pairs with them."""

from decimal import Decimal

from emulator.numbers import fmt


class MexcError(Exception):
    """Raised anywhere while serving an exchange call; the server turns it into MEXC's error body."""

    def __init__(
        self, http_status: int, code: int, msg: str, headers: dict[str, str] | None = None
    ):
        super().__init__(msg)
        self.http_status = http_status
        self.code = code
        self.msg = msg
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg}


def api_key_required() -> MexcError:
    return MexcError(400, 400, "api key required")


def invalid_api_key() -> MexcError:
    return MexcError(401, 700001, "API-key format invalid.")


def invalid_signature() -> MexcError:
    return MexcError(401, 700002, "Signature for this request is not valid.")


def outside_recv_window() -> MexcError:
    return MexcError(400, 700003, "Timestamp for this request is outside of the recvWindow.")


def recv_window_too_large() -> MexcError:
    return MexcError(400, 700005, "recvWindow must less than 60000")


def missing_parameter(name: str) -> MexcError:
    return MexcError(
        400, 700004, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def missing_order_reference() -> MexcError:
    return MexcError(
        400,
        700004,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
    )


def invalid_parameter(name: str) -> MexcError:
    return MexcError(400, 730002, f"Your input param is invalid: {name}")


def invalid_symbol() -> MexcError:
    return MexcError(400, -1121, "Invalid symbol.")


def order_does_not_exist() -> MexcError:
    return MexcError(400, -2013, "Order does not exist.")


def unknown_order_sent() -> MexcError:
    return MexcError(400, -2011, "Unknown order sent.")


def duplicate_client_order_id() -> MexcError:
    return MexcError(400, -2010, "Duplicate order sent.")


def below_minimum(amount: Decimal, asset: str) -> MexcError:
    return MexcError(
        400, 30002, f"The minimum transaction volume cannot be less than :{fmt(amount)}{asset}"
    )


def above_maximum(amount: Decimal, asset: str) -> MexcError:
    return MexcError(
        400, 30003, f"The maximum transaction volume cannot be greater than :{fmt(amount)}{asset}"
    )


def too_many_decimals(name: str) -> MexcError:
    return MexcError(400, 10096, f"{name} decimal places is too long")


def insufficient_position() -> MexcError:
    return MexcError(400, 30004, "Insufficient position")


def oversold() -> MexcError:
    return MexcError(400, 30005, "Oversold")


def insufficient_balance() -> MexcError:
    return MexcError(400, 10101, "Insufficient balance")


def no_valid_trade_price() -> MexcError:
    return MexcError(400, 30010, "no valid trade price")


def post_only_would_take() -> MexcError:
    return MexcError(400, 30041, "current order type can not place order: LIMIT_MAKER would take")


def max_open_orders() -> MexcError:
    return MexcError(400, 30029, "Cannot exceed the maximum order limit")


def too_many_requests(retry_after_s: int) -> MexcError:
    return MexcError(429, 429, "Too Many Requests", {"Retry-After": str(retry_after_s)})


def internal_error() -> MexcError:
    return MexcError(500, 500, "Internal error")


def not_found() -> MexcError:
    return MexcError(404, 404, "Not Found")


def method_not_allowed() -> MexcError:
    return MexcError(405, 405, "Method Not Allowed")


def payload_too_large() -> MexcError:
    return MexcError(413, 413, "Request Entity Too Large")
