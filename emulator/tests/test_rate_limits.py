"""MEXC's per-endpoint weights, enforced only when rate limits are switched on."""

import ccxt
import pytest
import requests

from emulator.server import EmulatorServer
from emulator.tests.conftest import mexc_client


@pytest.fixture(scope="module")
def limited():
    with EmulatorServer(seed=5, freeze=True, rate_limits=True) as server:
        yield server


def test_account_weight_10_allows_50_calls_per_window_then_429(limited):
    client = mexc_client(limited.url, "demo-key", "demo-secret")
    client.load_markets()
    calls = 0
    with pytest.raises(ccxt.RateLimitExceeded):
        for _ in range(110):
            client.fetch_balance()
            calls += 1
    # 500 per 10 s at weight 10; a window boundary in between can allow up to twice that.
    assert 50 <= calls <= 100
    retry_after = int(client.last_response_headers["Retry-After"])
    assert 1 <= retry_after <= 10
    assert client.fetch_time() > 0  # other endpoints keep their own budget


def test_public_limits_count_per_ip_and_weigh_all_symbol_tickers_more(limited):
    url = limited.url + "/api/v3/ticker/24hr"
    statuses = [requests.get(url, timeout=5).status_code for _ in range(30)]
    assert 429 in statuses
    assert 12 <= statuses.index(429) <= 24  # weight 40: 12 fit in a window, 24 across two
    refused = requests.get(url, timeout=5)
    assert refused.json() == {"code": 429, "msg": "Too Many Requests"}
    assert "Retry-After" in refused.headers


def test_rate_limits_are_off_by_default(emulator):
    url = emulator.url + "/api/v3/ticker/24hr"
    assert all(requests.get(url, timeout=5).ok for _ in range(20))
