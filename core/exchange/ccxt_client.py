"""The ccxt client the gateways talk through: made for one venue and one address (the
emulator's, or the exchange's own), counting its requests, and its errors turned into the
gateway's, in words."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import ccxt
import requests

from core.errors import AppError
from core.exchange.ccxt_parse import BadValue
from core.exchange.errors_in_words import exchange_code, exchange_said
from core.exchange.gateway import (
    AuthenticationFailed,
    ExchangeUnavailable,
    GatewayError,
    OrderRejected,
    RateLimited,
    UnknownSymbol,
    Unreadable,
)
from core.exchange.venues import Venue, venue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connection:
    """Where an exchange is and how patiently to talk to it. `recv_window_ms` is how long a
    signed request stays valid: after it, a delayed request can no longer take effect."""

    exchange: str = "mexc"
    url: str = ""
    timeout_ms: int = 10000
    recv_window_ms: int = 5000


# Every client this process made: a forked child (a background trade, a Celery worker)
# must not read answers on connections its parent still uses.
_CLIENTS: weakref.WeakSet = weakref.WeakSet()


def _own_connections_after_fork() -> None:
    """In a forked child, every client gets an HTTP session of its own. The parent's
    pooled sockets are inherited; two processes sending and reading on one socket would
    each read the other's answers (a book read as another request's reply). The old
    sessions are dropped, not closed: closing would shut the parent's connections."""
    for client in list(_CLIENTS):
        client.session = requests.Session()
        client.session.trust_env = client.requests_trust_env


os.register_at_fork(after_in_child=_own_connections_after_fork)


def make_client(connection: Connection, api_key: str = "", secret: str = ""):
    """A ccxt client, pointed at `connection.url` when one is given (the emulator): every
    API address keeps its path and takes that host.

    ccxt's own throttle is off: it spaces calls by endpoint weight (500 ms before every
    balance read on MEXC), which would make each trade seconds long. The app's call volume
    is far below the exchanges' limits (a trade is about six calls, the periodic check
    three or four, and market data is cached); a 429 is waited out once (translate_errors)."""
    row = venue(connection.exchange)
    options = {"recvWindow": connection.recv_window_ms, **row.ccxt_options}
    config: dict[str, Any] = {
        "enableRateLimit": False,
        "timeout": connection.timeout_ms,
        "options": options,
    }
    if api_key:
        config.update(apiKey=api_key, secret=secret, has={"fetchCurrencies": False})
    client = getattr(ccxt, connection.exchange)(config)
    _json_only(client)
    _retry_after_kept(client)
    _CLIENTS.add(client)
    if connection.url:
        client.urls["api"] = _rehost(client.urls["api"], connection.url)
        if row.local_error_tables:
            # ccxt picks some venues' error tables by host name (Binance USD-M's -2019 margin
            # and -2022 reduce-only); on any other host they would lose their classes
            for kind, table in client.exceptions[row.local_error_tables].items():
                client.exceptions[kind].update(table)
    return client


def _json_only(client) -> None:
    """Every venue answers JSON: ccxt hands any other body (a proxy's HTML page with status
    200) to its parsers as text, which read it as an empty account or book. Refused here."""
    original = client.fetch

    @wraps(original)
    def fetch_json(*args, **kwargs):
        body = original(*args, **kwargs)
        if isinstance(body, str | bytes):
            raise ccxt.BadResponse(NOT_JSON)
        return body

    client.fetch = fetch_json


_ANSWER = threading.local()  # the Retry-After of the answer this thread read last


def _retry_after_kept(client) -> None:
    """ccxt drops an error answer's headers: a refusal's Retry-After (whole seconds) is kept
    on the exception it raises, as `retry_after`, so the wait the exchange asked for is the
    one used. Noted per thread: the snapshot reads in parallel on one client."""
    on_rest_response = client.on_rest_response

    def noting(code, reason, url, method, headers, body, *rest):
        _ANSWER.retry_after = headers.get("Retry-After") if headers else None
        return on_rest_response(code, reason, url, method, headers, body, *rest)

    fetch = client.fetch

    @wraps(fetch)
    def fetch_keeping_retry_after(*args, **kwargs):
        _ANSWER.retry_after = None
        try:
            return fetch(*args, **kwargs)
        except ccxt.BaseError as exc:
            text = str(getattr(_ANSWER, "retry_after", None) or "").strip()
            exc.retry_after = int(text) if text.isascii() and text.isdigit() else None
            raise

    client.on_rest_response = noting
    client.fetch = fetch_keeping_retry_after


NOT_JSON = "the answer is not JSON"
# What ccxt's own parsers raise on a garbled answer ("NaN" where it expects an integer).
PARSE_FAILURES = (ValueError, TypeError, KeyError, IndexError, ArithmeticError)
UNREADABLE = (BadValue, ccxt.BadResponse, *PARSE_FAILURES)


def unreadable(exc: Exception, label: str) -> str:
    """`label answered something unreadable (<which field of what>)`."""
    if isinstance(exc, BadValue):
        which = str(exc)
    elif isinstance(exc, ccxt.BadResponse):
        which = NOT_JSON
    else:
        which = f"ccxt could not read it: {type(exc).__name__}"
    return f"{label} answered something unreadable ({which})"


def _rehost(urls, base: str):
    if isinstance(urls, dict):
        return {key: _rehost(value, base) for key, value in urls.items()}
    return re.sub(r"^https?://[^/]+", base, urls) if isinstance(urls, str) else urls


class Counted:
    """Counts every HTTP request a ccxt client sends, for the figures of a trade."""

    def __init__(self, client):
        self.calls = 0
        self._lock = threading.Lock()
        original = client.fetch

        @wraps(original)
        def counted_fetch(*args, **kwargs):
            with self._lock:
                self.calls += 1
            return original(*args, **kwargs)

        client.fetch = counted_fetch


UNUSED = "nothing of it was recorded"
RATE_LIMIT_WAIT_S = 1  # the wait after a rate-limit refusal that names none
LONGEST_RATE_LIMIT_WAIT_S = 5  # a longer wait asked for is reported, not slept in a trade


def translate_errors(what: str, *, idempotent: bool = False) -> Callable:
    """Turn ccxt's exceptions into the gateway's, with a message that says what failed and
    what the exchange answered, in words; an answer that cannot be read becomes Unreadable.
    The decorated method's object names the exchange (`label`) and its row (`venue`).

    An `idempotent` call (a read, a cancel) whose connection dropped under it (a kept-alive
    socket closed as it was reused), or that arrived after its receive window, is sent once
    more, as freqtrade's retrier does; one refused as too frequent (a 429, or the venue's
    rate-limit code) once more after the wait the exchange asked for (Retry-After) when it
    is short; never after a timeout (a slow exchange is not asked twice at once), and never
    an order's placement, whose unknown outcome the order desk resolves by asking."""

    def decorator(method):
        @wraps(method)
        def wrapper(self, *args, **kwargs):
            waited = None
            try:
                try:
                    return method(self, *args, **kwargs)
                except ccxt.BaseError as exc:
                    if not idempotent:
                        raise
                    wait = rate_limit_wait(exc, self.venue)
                    if wait is not None and wait <= LONGEST_RATE_LIMIT_WAIT_S:
                        log.warning("%s: %s rate-limited, retried in %s s", what, self.label, wait)
                        time.sleep(wait)
                        waited = wait
                    elif not _worth_one_more_try(exc):
                        raise
                return method(self, *args, **kwargs)
            except BadValue as exc:
                raise Unreadable(f"{what}: {unreadable(exc, self.label)}; {UNUSED}") from None
            except AppError:
                raise
            except (ccxt.BadResponse, *PARSE_FAILURES) as exc:
                raise Unreadable(f"{what}: {unreadable(exc, self.label)}; {UNUSED}") from None
            except ccxt.BaseError as exc:
                raise gateway_error(what, exc, self.label, self.venue, waited) from None

        return wrapper

    return decorator


def rate_limit_wait(exc: ccxt.BaseError, row: Venue | None) -> int | None:
    """The seconds to wait when `exc` refused a request as too frequent (the exchange's
    Retry-After, else RATE_LIMIT_WAIT_S); None for any other error. ccxt raises
    RateLimitExceeded as a NetworkError: it is asked about before any network error."""
    limited = isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection) or (
        row is not None and exchange_code(exc) in row.rate_limited
    )
    if not limited:
        return None
    return getattr(exc, "retry_after", None) or RATE_LIMIT_WAIT_S


def _worth_one_more_try(exc: ccxt.BaseError) -> bool:
    """A connection that failed, or a request that reached the exchange after its receive
    window (refused unread; sent again it is signed anew), as opposed to an exchange that
    answered, timed out or is busy."""
    return type(exc) in (ccxt.NetworkError, ccxt.InvalidNonce)


def gateway_error(
    what: str,
    exc: ccxt.BaseError,
    label: str,
    row: Venue | None = None,
    waited: int | None = None,
) -> GatewayError:
    """The gateway's error for `exc`, in words; `waited` is the wait before the one retry
    of a rate-limited call (None when it was not retried)."""
    said = exchange_said(exc, label)
    wait = rate_limit_wait(exc, row)  # before NetworkError: busy, not down
    if wait is not None:
        done = (
            f"retried in {waited} s and refused again"
            if waited is not None
            else f"not retried (asked to wait {wait} s)"
        )
        return RateLimited(f"{what}: rate-limited, {done} ({said})", wait)
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied):
        return AuthenticationFailed(f"{what}: {label} refused the API key ({said})")
    if isinstance(exc, ccxt.BadSymbol):
        return UnknownSymbol(f"{what}: unknown symbol ({said})")
    if isinstance(exc, ccxt.InsufficientFunds | ccxt.InvalidOrder):
        return OrderRejected(f"{what}: {said}")
    if isinstance(exc, ccxt.InvalidNonce):  # a NetworkError in ccxt: answered, not unreachable
        return ExchangeUnavailable(
            f"{what}: {label} refused the request as too old (it arrived after RECV_WINDOW_MS:"
            " a slow link or machine, or a clock that is off)"
        )
    if isinstance(exc, ccxt.RequestTimeout):
        return ExchangeUnavailable(f"{what}: {label} is unreachable (timed out)")
    if isinstance(exc, ccxt.ExchangeNotAvailable | ccxt.DDoSProtection):
        return ExchangeUnavailable(f"{what}: {said}")
    if isinstance(exc, ccxt.NetworkError):
        return ExchangeUnavailable(f"{what}: {label} is unreachable (connection failed)")
    return GatewayError(f"{what}: {said}")
