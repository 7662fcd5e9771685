"""Fixtures: one frozen emulator per session, reset before each test, and real ccxt clients."""

import hashlib
import hmac
import itertools
import time
from decimal import Decimal
from urllib.parse import urlencode

import ccxt
import pytest
import requests

from emulator.server import EmulatorServer

SEED = 20240611
_account_numbers = itertools.count(1)


def point_at(exchange: ccxt.mexc, base_url: str) -> ccxt.mexc:
    exchange.urls["api"]["spot"] = {"public": base_url, "private": base_url}
    exchange.urls["api"]["contract"] = {
        "public": base_url + "/api/v1/contract",
        "private": base_url + "/api/v1/private",
    }
    return exchange


def mexc_client(base_url: str, api_key: str | None = None, secret: str | None = None, **config):
    options = {"enableRateLimit": False, "timeout": 5000, **config}
    if api_key is not None:
        options.update(apiKey=api_key, secret=secret)
    return point_at(ccxt.mexc(options), base_url)


class Control:
    """The emulator's control API over HTTP."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.base_url + path, timeout=5, **kwargs)

    def create_account(self, balances: dict[str, str]) -> tuple[str, str]:
        number = next(_account_numbers)
        api_key, secret = f"key-{number}", f"secret-{number}"
        response = self.call(
            "POST",
            "/_emulator/accounts",
            json={"api_key": api_key, "api_secret": secret, "balances": balances},
        )
        assert response.status_code == 201, response.text
        return api_key, secret

    def account(self, api_key: str) -> dict:
        return self.call("GET", f"/_emulator/accounts/{api_key}").json()

    def balance(self, api_key: str, asset: str) -> tuple[Decimal, Decimal]:
        entry = self.account(api_key)["balances"].get(asset, {"free": "0", "locked": "0"})
        return Decimal(entry["free"]), Decimal(entry["locked"])

    def set_price(self, symbol: str, price: str) -> None:
        response = self.call("POST", f"/_emulator/markets/{symbol}/price", json={"price": price})
        assert response.status_code == 200, response.text

    def faults(self, spec: dict) -> dict:
        response = self.call("POST", "/_emulator/faults", json=spec)
        assert response.status_code == 200, response.text
        return response.json()

    def requests_log(self) -> list[dict]:
        return self.call("GET", "/_emulator/requests").json()


class SignedHttp:
    """Hand-signed MEXC requests, for what ccxt would never send."""

    def __init__(self, base_url: str, api_key: str, secret: str):
        self.base_url, self.api_key, self.secret = base_url, api_key, secret
        self.http = requests.Session()

    def signed_query(self, params: dict, timestamp: int | None = None) -> str:
        query = urlencode({**params, "timestamp": timestamp or int(time.time() * 1000)})
        signature = hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        return f"{query}&signature={signature}"

    def call(self, method: str, path: str, params: dict, **kwargs) -> requests.Response:
        url = f"{self.base_url}{path}?{self.signed_query(params)}"
        headers = {"X-MEXC-APIKEY": self.api_key, "Content-Type": "application/json"}
        return self.http.request(method, url, headers=headers, timeout=5, **kwargs)


@pytest.fixture(scope="session")
def emulator():
    with EmulatorServer(seed=SEED, freeze=True) as server:
        yield server


@pytest.fixture(scope="session")
def control(emulator) -> Control:
    return Control(emulator.url)


@pytest.fixture(autouse=True)
def fresh_state(request):
    """Each test starts from the seed's start state (only for tests that use the emulator)."""
    if "emulator" in request.fixturenames:
        control = request.getfixturevalue("control")
        assert control.call("POST", "/_emulator/reset").status_code == 200


@pytest.fixture(scope="session")
def markets(emulator) -> dict:
    """Markets loaded once by ccxt; clients below reuse them to save a round trip per test."""
    client = mexc_client(emulator.url)
    return client.load_markets()


@pytest.fixture
def public(emulator, markets) -> ccxt.mexc:
    client = mexc_client(emulator.url)
    client.set_markets(markets)
    return client


@pytest.fixture
def trader_factory(emulator, control, markets):
    """trader_factory({'USDT': '1000'}) -> (ccxt client, api key) for a fresh account."""

    def make(balances: dict[str, str]) -> tuple[ccxt.mexc, str]:
        api_key, secret = control.create_account(balances)
        client = mexc_client(emulator.url, api_key, secret)
        client.set_markets(markets)
        return client, api_key

    return make


@pytest.fixture
def trader(trader_factory) -> tuple[ccxt.mexc, str]:
    return trader_factory({"USDT": "10000", "ETH": "2", "BTC": "0.1"})
