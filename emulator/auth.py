"""MEXC request signing: HMAC-SHA256 over the raw query string (up to `&signature=`) plus the body."""

import hashlib
import hmac

from emulator import errors
from emulator.accounts import Account
from emulator.numbers import parse_decimal

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
FUTURE_TOLERANCE_MS = 1000


def unsigned_part(raw: str) -> str:
    """`raw` without its `signature=` parameter: everything before `&signature=`."""
    if raw.startswith("signature="):
        return ""
    index = raw.find("&signature=")
    return raw if index < 0 else raw[:index]


def expected_signature(secret: str, raw_query: str, raw_body: str) -> str:
    payload = unsigned_part(raw_query) + unsigned_part(raw_body)
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def authenticate(
    accounts: dict[str, Account],
    api_key: str | None,
    params: dict[str, str],
    raw_query: str,
    raw_body: str,
    server_time_ms: int,
) -> Account:
    """The account a signed request acts for, or the MexcError MEXC would answer with."""
    if not api_key:
        raise errors.api_key_required()
    account = accounts.get(api_key)
    if account is None:
        raise errors.invalid_api_key()
    signature = params.get("signature")
    expected = expected_signature(account.api_secret, raw_query, raw_body)
    # As bytes: compare_digest refuses str with non-ASCII characters (a 500, not a 700002).
    if not signature or not hmac.compare_digest(signature.lower().encode(), expected.encode()):
        raise errors.invalid_signature()
    recv_window = parse_decimal(params.get("recvWindow", str(DEFAULT_RECV_WINDOW_MS)))
    if recv_window is None or recv_window <= 0 or recv_window != int(recv_window):
        raise errors.invalid_parameter("recvWindow")
    if recv_window > MAX_RECV_WINDOW_MS:
        raise errors.recv_window_too_large()
    if "timestamp" not in params:
        raise errors.missing_parameter("timestamp")
    timestamp = parse_decimal(params["timestamp"])
    if timestamp is None or timestamp != int(timestamp):
        raise errors.outside_recv_window()
    if not (timestamp < server_time_ms + FUTURE_TOLERANCE_MS):
        raise errors.outside_recv_window()
    if server_time_ms - timestamp > recv_window:
        raise errors.outside_recv_window()
    return account
