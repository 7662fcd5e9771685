"""A client of the emulator's control API, for tests, benchmarks and scripts.

Each call asserts nothing about the answer except where a method promises a value; `call`
returns the raw response for callers that check status codes themselves."""

from __future__ import annotations

from decimal import Decimal

import requests

DEMO_KEY = "demo-key"


class ControlError(RuntimeError):
    pass


class ControlClient:
    def __init__(self, base_url: str, timeout: float = 10):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)

    def _ok(self, method: str, path: str, expect: int = 200, **kwargs):
        response = self.call(method, path, **kwargs)
        if response.status_code != expect:
            raise ControlError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def reset(self) -> None:
        self._ok("POST", "/_emulator/reset")

    def restart(self) -> None:
        """What a restart of the exchange's servers forgets (Bybit: closed orders drop out
        of the realtime list)."""
        self._ok("POST", "/_emulator/restart")

    def create_account(self, api_key: str, api_secret: str, balances: dict[str, str]) -> None:
        body = {"api_key": api_key, "api_secret": api_secret, "balances": balances}
        self._ok("POST", "/_emulator/accounts", expect=201, json=body)

    def account(self, api_key: str = DEMO_KEY) -> dict:
        return self._ok("GET", f"/_emulator/accounts/{api_key}")

    def balance(self, api_key: str, asset: str) -> tuple[Decimal, Decimal]:
        entry = self.account(api_key)["balances"].get(asset, {"free": "0", "locked": "0"})
        return Decimal(entry["free"]), Decimal(entry["locked"])

    def set_balances(self, balances: dict[str, str], api_key: str = DEMO_KEY) -> None:
        self._ok("PUT", f"/_emulator/accounts/{api_key}/balances", json=balances)

    def transfer(
        self, kind: str, amount: str, asset: str = "USDT", api_key: str = DEMO_KEY, **extra: str
    ) -> dict:
        """MEXC: a deposit or withdrawal (`kind`) made outside any client; `extra` takes a
        withdrawal's `fee` and a `status` (success, pending, failed). Returns how the
        wallet's history lists it."""
        body = {"kind": kind, "asset": asset, "amount": amount, **extra}
        return self._ok("POST", f"/_emulator/accounts/{api_key}/transfers", expect=201, json=body)

    def set_positions(self, positions: dict[str, dict], api_key: str = DEMO_KEY) -> dict:
        """Perpetual dialects: {"BTCUSDT": {"size": "-0.5", "entry_price": "60000",
        "leverage": "10"}}; a negative size is short, size "0" removes the position."""
        return self._ok("PUT", f"/_emulator/accounts/{api_key}/positions", json=positions)

    def set_price(self, symbol: str, price: str) -> None:
        self._ok("POST", f"/_emulator/markets/{symbol}/price", json={"price": price})

    def trade_at(self, symbol: str, price: str) -> None:
        """The market trades at `price`: its ticker's last price moves (set_price moves the
        book only)."""
        self._ok("POST", f"/_emulator/markets/{symbol}/trade", json={"price": price})

    def faults(self, spec: dict) -> dict:
        return self._ok("POST", "/_emulator/faults", json=spec)

    def clear_faults(self) -> None:
        self._ok("DELETE", "/_emulator/faults")

    def requests_log(self) -> list[dict]:
        return self._ok("GET", "/_emulator/requests")

    def clear_requests(self) -> None:
        self._ok("DELETE", "/_emulator/requests")
