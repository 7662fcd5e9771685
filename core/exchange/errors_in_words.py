"""An exchange's error, as a sentence a trader reads: "MEXC answered: internal error (500)".

Never the raw JSON, never the request URL (a signed URL carries the signature)."""

from __future__ import annotations

import json
import re

import ccxt

HTTP_WORDS = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    418: "IP banned",
    429: "too many requests",
    500: "internal error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}
_JSON = re.compile(r"\{.*\}", re.DOTALL)
_STATUS = re.compile(r"\b([45]\d\d)\b")
MESSAGE_KEYS = ("msg", "retMsg", "message", "error")
CODE_KEYS = ("code", "retCode")
LONGEST = 160


def exchange_said(exc: Exception, label: str) -> str:
    """`label answered: <its message> (<its code>)`, or what the HTTP status means."""
    answer = _answer(str(exc))
    if answer is not None:
        message, code = answer
        return f"{label} answered: {message}" + (f" ({code})" if code is not None else "")
    if isinstance(exc, ccxt.RateLimitExceeded):  # a NetworkError in ccxt 4.5: busy, not down
        return f"{label} answered: {HTTP_WORDS[429]} (429)"
    status = _STATUS.search(_without_urls(str(exc)))
    if status:
        code = int(status.group(1))
        return f"{label} answered: {HTTP_WORDS.get(code, 'HTTP error')} ({code})"
    return f"{label} answered with an error it did not explain ({type(exc).__name__})"


def exchange_code(exc: Exception) -> str | None:
    """The code in the exchange's answer ("-2011", "110001"), or None when it gave none."""
    answer = _answer(str(exc))
    return None if answer is None or answer[1] is None else str(answer[1])


def _answer(text: str) -> tuple[str, object] | None:
    found = _JSON.search(text)
    if not found:
        return None
    try:
        payload = json.loads(found.group(0))
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    code = next((payload[k] for k in CODE_KEYS if payload.get(k) not in (None, "")), None)
    message = next((payload[k] for k in MESSAGE_KEYS if isinstance(payload.get(k), str)), None)
    if message is None and code is None:
        return None
    if isinstance(code, int) and code in HTTP_WORDS and (not message or message.istitle()):
        message = HTTP_WORDS[code]
    message = " ".join((message or "an error").split())[:LONGEST]
    return (message[0].lower() + message[1:] if message[:2].istitle() else message), code


def _without_urls(text: str) -> str:
    return re.sub(r"https?://\S+", "", text)
