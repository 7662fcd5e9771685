"""Fixtures: one frozen emulator per dialect and session, reset before each test, and real
ccxt clients pointed at them."""

import hashlib
import hmac
import itertools
import time
from urllib.parse import urlencode

import ccxt
import pytest
import requests

from emulator.control_client import ControlClient
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


class Control(ControlClient):
    """The control API, with accounts numbered per test session."""

    def create_account(self, balances: dict[str, str]) -> tuple[str, str]:
        number = next(_account_numbers)
        api_key, secret = f"key-{number}", f"secret-{number}"
        super().create_account(api_key, secret, balances)
        return api_key, secret


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


DIALECT_FIXTURES = [
    ("emulator", "control"),
    ("bybit_emulator", "bybit_control"),
    ("binance_emulator", "binance_control"),
]


@pytest.fixture(scope="session")
def emulator():
    with EmulatorServer(seed=SEED, freeze=True) as server:
        yield server


@pytest.fixture(scope="session")
def control(emulator) -> Control:
    return Control(emulator.url)


@pytest.fixture(autouse=True)
def fresh_state(request):
    """Each test starts from the seed's start state (only for tests that use an emulator)."""
    for server, control in DIALECT_FIXTURES:
        if server in request.fixturenames:
            client = request.getfixturevalue(control)
            assert client.call("POST", "/_emulator/reset").status_code == 200


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


# --- Bybit v5 linear ----------------------------------------------------------------------

BYBIT_OPTIONS = {"defaultType": "swap", "fetchMarkets": {"types": ["linear"]}}


def bybit_client(base_url: str, api_key: str | None = None, secret: str | None = None, **config):
    """ccxt.bybit with its five API URLs pointed at the emulator, linear markets only."""
    settings = {"enableRateLimit": False, "timeout": 5000, "options": dict(BYBIT_OPTIONS)}
    settings["has"] = {"fetchCurrencies": False}
    if api_key is not None:
        settings.update(apiKey=api_key, secret=secret)
    client = ccxt.bybit({**settings, **config})
    for name in ("spot", "futures", "v2", "public", "private"):
        client.urls["api"][name] = base_url
    return client


@pytest.fixture(scope="session")
def bybit_emulator():
    with EmulatorServer(seed=SEED, freeze=True, dialect="bybit") as server:
        yield server


@pytest.fixture(scope="session")
def bybit_control(bybit_emulator) -> Control:
    return Control(bybit_emulator.url)


@pytest.fixture(scope="session")
def bybit_markets(bybit_emulator) -> dict:
    return bybit_client(bybit_emulator.url).load_markets()


@pytest.fixture
def bybit_factory(bybit_emulator, bybit_control, bybit_markets):
    """bybit_factory({'USDT': '1000'}) -> (ccxt client, api key) for a fresh account."""

    def make(balances: dict[str, str]) -> tuple[ccxt.bybit, str]:
        api_key, secret = bybit_control.create_account(balances)
        client = bybit_client(bybit_emulator.url, api_key, secret)
        client.set_markets(bybit_markets)
        return client, api_key

    return make


@pytest.fixture
def bybit_trader(bybit_factory) -> tuple[ccxt.bybit, str]:
    return bybit_factory({"USDT": "10000"})


# --- Binance USD-M ------------------------------------------------------------------------


def binance_client(base_url: str, api_key: str | None = None, secret: str | None = None, **config):
    """ccxt.binanceusdm with its fapi URLs pointed at the emulator.

    ccxt picks its USD-M error table by the URL's host (https://fapi.binance.com/...); on any
    other host only the generic table applies, where -2019 and -2022 are unknown. Merging the
    linear table back gives the production exception classes."""
    settings = {"enableRateLimit": False, "timeout": 5000, "options": {"fetchCurrencies": False}}
    if api_key is not None:
        settings.update(apiKey=api_key, secret=secret)
    client = ccxt.binanceusdm({**settings, **config})
    for name, url in client.urls["api"].items():
        if isinstance(url, str) and url.startswith("https://fapi.binance.com"):
            client.urls["api"][name] = url.replace("https://fapi.binance.com", base_url)
    for kind, table in client.exceptions["linear"].items():
        client.exceptions[kind].update(table)
    return client


@pytest.fixture(scope="session")
def binance_emulator():
    with EmulatorServer(seed=SEED, freeze=True, dialect="binanceusdm") as server:
        yield server


@pytest.fixture(scope="session")
def binance_control(binance_emulator) -> Control:
    return Control(binance_emulator.url)


@pytest.fixture(scope="session")
def binance_markets(binance_emulator) -> dict:
    return binance_client(binance_emulator.url).load_markets()


@pytest.fixture
def binance_factory(binance_emulator, binance_control, binance_markets):
    """binance_factory({'USDT': '1000'}) -> (ccxt client, api key) for a fresh account."""

    def make(balances: dict[str, str]) -> tuple[ccxt.binanceusdm, str]:
        api_key, secret = binance_control.create_account(balances)
        client = binance_client(binance_emulator.url, api_key, secret)
        client.set_markets(binance_markets)
        return client, api_key

    return make


@pytest.fixture
def binance_trader(binance_factory) -> tuple[ccxt.binanceusdm, str]:
    return binance_factory({"USDT": "10000"})
