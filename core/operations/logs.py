"""Logging, set up once at start: one line per trade, sync, check and monitor run, as text
or (LOG_FORMAT=json) one JSON object per line, with every known secret masked.

The engine logs with `extra={...}` fields (account, symbol, outcome, api_calls,
duration_ms); the text form appends them as key=value, the JSON form as keys."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

from pythonjsonlogger.json import JsonFormatter

MASK = "***"
# every attribute a LogRecord has of its own; the rest came from `extra`
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
# any Basic credential, the right one or a mistyped one (close to the right one), whole or
# cut short (Celery shortens the arguments it logs)
_BASIC_CREDENTIAL = re.compile(r"(\bBasic\s+)(?!realm\b)[A-Za-z0-9+/]{4,}=*")


class MaskSecrets(logging.Filter):
    """Replaces every known secret (API keys and secrets, alert URLs, passwords) and any
    Basic credential wherever it appears in a record: its message, its arguments and its
    extra fields. ccxt's own debug lines carry request headers, and Celery's the page's
    request headers of a background callback, so this guards the handler, not just our own
    calls."""

    def __init__(self, secrets: Iterable[str]):
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._mask(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD:
                setattr(record, key, self._mask(value))
        if record.exc_info:
            record.exc_text = self._mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def _mask(self, value):
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, MASK)
            return _BASIC_CREDENTIAL.sub(rf"\g<1>{MASK}", value)
        if isinstance(value, list | tuple):
            return type(value)(self._mask(v) for v in value)
        if isinstance(value, dict):
            return {k: self._mask(v) for k, v in value.items()}
        return value


class TextWithFields(logging.Formatter):
    """`time LEVEL logger: message key=value ...`"""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = [f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD]
        return " ".join([line, *fields])


def configure(level: str | int, form: str, secrets: Iterable[str] = ()) -> None:
    """Replace the root logger's handlers with one stderr handler in `form` (text or json)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskSecrets(secrets))
    if form == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, json_default=str))
    else:
        handler.setFormatter(TextWithFields(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("urllib3", "werkzeug", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
