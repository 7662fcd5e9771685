"""Request parameters: query string merged over the body, typed reads that raise MEXC errors."""

import json
from decimal import Decimal
from urllib.parse import parse_qsl

from emulator import errors
from emulator.markets import Market
from emulator.numbers import parse_decimal

MAX_FIELDS = 200
MAX_INT = 10**15


def parse_query(raw: str) -> dict[str, str]:
    """First value wins for repeated names, as in the raw query string order."""
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        raise errors.invalid_parameter("too many parameters") from exc
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values


def as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def parse_body(raw: str, content_type: str) -> dict[str, str]:
    """Form or JSON body parameters (an empty body is fine)."""
    if not raw.strip():
        return {}
    if "json" in content_type or raw.lstrip().startswith("{"):
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise errors.invalid_parameter("request body is not valid JSON") from exc
        if not isinstance(data, dict):
            raise errors.invalid_parameter("request body must be a JSON object")
        return {str(name): as_text(value) for name, value in data.items()}
    return parse_query(raw)


class Params:
    def __init__(self, values: dict[str, str]):
        self.values = values

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value else None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise errors.missing_parameter(name)
        return value

    def symbol(self, markets: dict[str, Market]) -> str:
        symbol = self.required("symbol")
        if symbol not in markets:
            raise errors.invalid_symbol()
        return symbol

    def optional_symbol(self, markets: dict[str, Market]) -> str | None:
        return self.symbol(markets) if self.get("symbol") is not None else None

    def positive_decimal(self, name: str) -> Decimal | None:
        text = self.get(name)
        if text is None:
            return None
        value = parse_decimal(text)
        if value is None or value <= 0:
            raise errors.invalid_parameter(name)
        return value

    def integer(self, name: str, default: int | None, minimum: int, maximum: int) -> int | None:
        text = self.get(name)
        if text is None:
            return default
        value = parse_decimal(text)
        if value is None or value != int(value) or not minimum <= value <= maximum:
            raise errors.invalid_parameter(name)
        return int(value)

    def limit(self, default: int, maximum: int) -> int:
        """A public list endpoint's `limit`: at least 1; above `maximum` it answers `maximum`
        rows instead of refusing, as Binance-style APIs do."""
        return min(self.integer("limit", default, 1, MAX_INT), maximum)

    def time_ms(self, name: str) -> int | None:
        return self.integer(name, None, 0, MAX_INT)

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        value = self.required(name)
        if value not in options:
            raise errors.invalid_parameter(name)
        return value
