"""Bybit v5 signing: X-BAPI-SIGN = HMAC-SHA256(timestamp + key + recvWindow + payload), where
the payload is the raw query string of a GET or the raw JSON body of a POST."""

import hashlib
import hmac

from emulator import bybit_errors
from emulator.dialect import SignedRequest
from emulator.numbers import parse_decimal
from emulator.perp_orders import PerpAccount

DEFAULT_RECV_WINDOW_MS = 5000
FUTURE_TOLERANCE_MS = 1000


def authenticate(accounts: dict[str, PerpAccount], request: SignedRequest) -> PerpAccount:
    api_key = request.headers.get("X-BAPI-API-KEY")
    account = accounts.get(api_key or "")
    if account is None:
        raise bybit_errors.invalid_api_key()
    timestamp = request.headers.get("X-BAPI-TIMESTAMP", "")
    recv_window = request.headers.get("X-BAPI-RECV-WINDOW", str(DEFAULT_RECV_WINDOW_MS))
    payload = request.raw_body if request.raw_body else request.raw_query
    origin = timestamp + account.api_key + recv_window + payload
    expected = hmac.new(account.api_secret.encode(), origin.encode(), hashlib.sha256).hexdigest()
    signature = request.headers.get("X-BAPI-SIGN", "")
    if not hmac.compare_digest(signature.lower().encode(), expected.encode()):
        raise bybit_errors.invalid_signature(origin)
    sent, window = parse_decimal(timestamp), parse_decimal(recv_window)
    if sent is None or window is None or window <= 0:
        raise bybit_errors.outside_recv_window(timestamp, request.now_ms, recv_window)
    if not request.now_ms - window <= sent < request.now_ms + FUTURE_TOLERANCE_MS:
        raise bybit_errors.outside_recv_window(timestamp, request.now_ms, recv_window)
    return account
