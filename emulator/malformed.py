"""Malformed answers, for the fault modes that test how a client reads a garbled body: the
request is applied, and what comes back is the real answer with its numbers spoiled, its
orders' statuses replaced by one no client knows, an empty list (a list that lags behind
what the exchange did), or an HTML error page with status 200 (a proxy's page served as if
it were the answer)."""

from __future__ import annotations

import json
import re

from aiohttp import web

HTML_PAGE = "<html><head><title>Error</title></head><body><h1>Service error</h1></body></html>"
NUMERIC = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
# Times and identifiers keep their values: the faults spoil amounts, prices and balances.
KEPT = re.compile(r"(time|timestamp|id|code)$", re.IGNORECASE)
STATUS_KEYS = ("status", "orderStatus")
UNKNOWN_STATUS = "PENDING_REVIEW"


def _spoil(value: str, mode: str) -> str:
    if mode == "nan_numbers":
        return "NaN"
    if mode == "huge_numbers":
        return "1e400"
    return value[1:] if value.startswith("-") else f"-{value}"


def _walk(data: object, mode: str, key: str = "") -> object:
    if mode == "unknown_status":
        return _unknown_status(data)
    if isinstance(data, dict):
        return {k: _walk(v, mode, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_walk(v, mode, key) for v in data]
    if KEPT.search(key) or isinstance(data, bool):
        return data
    if isinstance(data, int | float):
        return _spoil(json.dumps(data), mode)
    if isinstance(data, str) and NUMERIC.fullmatch(data):
        return _spoil(data, mode)
    return data


def _unknown_status(data: object) -> object:
    if isinstance(data, dict):
        return {
            k: UNKNOWN_STATUS if k in STATUS_KEYS and isinstance(v, str) else _unknown_status(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_unknown_status(v) for v in data]
    return data


def malformed(response: web.Response, mode: str) -> web.Response:
    """`response` as the mode spoils it: every number but times and ids (JSON numbers and
    numeric strings alike) as "NaN", as "1e400" or negated; every order status as one no
    exchange has; an empty list; or an HTML page."""
    if mode == "html_body":
        return web.Response(text=HTML_PAGE, status=200, content_type="text/html")
    if mode == "empty_list":  # well-formed, but behind: what it lists has not arrived yet
        return web.Response(text="[]", status=response.status, content_type="application/json")
    body = _walk(json.loads(response.text), mode)
    return web.Response(
        text=json.dumps(body, separators=(",", ":")),
        status=response.status,
        headers={k: v for k, v in response.headers.items() if k.lower() != "content-length"},
    )
