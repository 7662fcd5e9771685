"""Injected faults for exchange calls: latency, failing rules and stalled fills."""

from dataclasses import asdict, dataclass

# The malformed modes apply the request and spoil its answer (emulator/malformed.py);
# empty_list answers a list that has not caught up yet: [].
MALFORMED_MODES = (
    "nan_numbers",
    "huge_numbers",
    "negative_numbers",
    "html_body",
    "unknown_status",
    "empty_list",
)
FAIL_MODES = (
    "http_500",
    "http_429",
    "timeout",
    "drop_response",
    "order_not_found",
    *MALFORMED_MODES,
)
DEFAULT_HANG_MS = 15000
MAX_DELAY_MS = 600_000


class FaultSpecError(ValueError):
    """A fault request that does not parse; nothing was changed."""


@dataclass
class FailRule:
    method: str
    path: str
    mode: str
    count: int
    hang_ms: int = DEFAULT_HANG_MS

    def matches(self, method: str, path: str) -> bool:
        return self.count > 0 and self.method == method and self.path == path


def _int_field(spec: dict, name: str, default: int, minimum: int, maximum: int) -> int:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise FaultSpecError(f"{name} must be an integer in [{minimum}, {maximum}]")
    return value


def parse_fail_rule(spec: object) -> FailRule:
    if not isinstance(spec, dict):
        raise FaultSpecError("fail must be an object")
    method, path, mode = spec.get("method"), spec.get("path"), spec.get("mode")
    if not isinstance(method, str) or not method.isalpha():
        raise FaultSpecError("fail.method must be an HTTP method such as POST")
    if not isinstance(path, str) or not path.startswith("/"):
        raise FaultSpecError("fail.path must be a path such as /api/v3/order")
    if mode not in FAIL_MODES:
        raise FaultSpecError(f"fail.mode must be one of {', '.join(FAIL_MODES)}")
    count = _int_field(spec, "count", 1, 1, 1_000_000)
    hang_ms = _int_field(spec, "hang_ms", DEFAULT_HANG_MS, 0, MAX_DELAY_MS)
    return FailRule(method.upper(), path, mode, count, hang_ms)


class Faults:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.latency_ms = 0
        self.rules: list[FailRule] = []

    def apply(self, spec: object) -> bool | None:
        """Validate the whole spec first, then apply it; returns the stall_fills value if given."""
        if not isinstance(spec, dict):
            raise FaultSpecError("body must be a JSON object")
        unknown = set(spec) - {"latency_ms", "fail", "stall_fills"}
        if unknown:
            raise FaultSpecError(f"unknown fields: {', '.join(sorted(unknown))}")
        latency = _int_field(spec, "latency_ms", self.latency_ms, 0, MAX_DELAY_MS)
        fail = spec.get("fail")
        specs = fail if isinstance(fail, list) else [] if fail is None else [fail]
        rules = [parse_fail_rule(rule) for rule in specs]
        stall = spec.get("stall_fills")
        if stall is not None and not isinstance(stall, bool):
            raise FaultSpecError("stall_fills must be true or false")
        self.latency_ms = latency
        self.rules.extend(rules)
        return stall

    def take(self, method: str, path: str) -> FailRule | None:
        """The first armed rule for this call, with one of its hits used up."""
        for rule in self.rules:
            if rule.matches(method, path):
                rule.count -= 1
                if rule.count == 0:
                    self.rules.remove(rule)
                return rule
        return None

    def describe(self, stall_fills: bool) -> dict:
        return {
            "latency_ms": self.latency_ms,
            "fail": [asdict(rule) for rule in self.rules],
            "stall_fills": stall_fills,
        }
