"""Every injected fault, shown through what ccxt raises and what the exchange really did."""

import time

import ccxt
import pytest

from emulator.tests.conftest import mexc_client

ETH = "ETH/USDT"


def arm(control, method: str, path: str, mode: str, count: int = 1, **extra) -> None:
    rule = {"method": method, "path": path, "mode": mode, "count": count, **extra}
    control.faults({"fail": rule})


def test_http_500_is_not_applied(trader, control):
    client, _ = trader
    arm(control, "POST", "/api/v3/order", "http_500")
    with pytest.raises(ccxt.ExchangeError, match="Internal error"):
        client.create_order(ETH, "limit", "buy", 0.1, 3300)
    assert client.fetch_open_orders(ETH) == []
    client.create_order(ETH, "limit", "buy", 0.1, 3300)  # the rule hit once, then disarmed
    assert len(client.fetch_open_orders(ETH)) == 1


def test_http_429_carries_retry_after_and_is_not_applied(trader, control, emulator):
    client, _ = trader
    arm(control, "POST", "/api/v3/order", "http_429")
    with pytest.raises(ccxt.RateLimitExceeded):
        client.create_order(ETH, "limit", "buy", 0.1, 3300)
    assert client.last_response_headers["Retry-After"] == "1"
    assert client.fetch_open_orders(ETH) == []


def test_timeout_hangs_until_the_client_gives_up_and_is_not_applied(emulator, control, trader):
    _, key = trader
    client = mexc_client(emulator.url, key, trader[0].secret, timeout=300)
    client.set_markets(trader[0].markets)
    arm(control, "POST", "/api/v3/order", "timeout", hang_ms=1000)
    # RequestTimeout is the client's own 300 ms running out before the 1000 ms hang ends
    with pytest.raises(ccxt.RequestTimeout):
        client.create_order(ETH, "limit", "buy", 0.1, 3300)
    assert client.fetch_open_orders(ETH) == []


def test_drop_response_applies_the_request_then_closes_the_connection(trader, control):
    client, _ = trader
    arm(control, "POST", "/api/v3/order", "drop_response")
    with pytest.raises(ccxt.NetworkError):
        client.create_order(ETH, "limit", "buy", 0.1, 3300, {"clientOrderId": "lost-reply"})
    order = client.fetch_order(None, ETH, {"clientOrderId": "lost-reply"})
    assert order["status"] == "open"
    assert control.requests_log()[-2]["status"] is None


def test_order_not_found_hides_an_existing_order_for_count_queries(trader, control):
    client, _ = trader
    order = client.create_order(ETH, "limit", "buy", 0.1, 3300)
    arm(control, "GET", "/api/v3/order", "order_not_found", count=2)
    for _ in range(2):
        with pytest.raises(ccxt.ExchangeError, match="-2013"):
            client.fetch_order(order["id"], ETH)
    assert client.fetch_order(order["id"], ETH)["status"] == "open"
    arm(control, "DELETE", "/api/v3/order", "order_not_found")
    with pytest.raises(ccxt.ExchangeError, match="Order does not exist"):
        client.cancel_order(order["id"], ETH)
    assert client.fetch_order(order["id"], ETH)["status"] == "open"


def test_several_rules_at_once_and_get_shows_them(trader, control):
    client, _ = trader
    arm(control, "POST", "/api/v3/order", "http_500")
    arm(control, "GET", "/api/v3/account", "http_429", count=3)
    config = control.call("GET", "/_emulator/faults").json()
    assert [(rule["path"], rule["count"]) for rule in config["fail"]] == [
        ("/api/v3/order", 1),
        ("/api/v3/account", 3),
    ]
    with pytest.raises(ccxt.RateLimitExceeded):
        client.fetch_balance()
    with pytest.raises(ccxt.ExchangeError):
        client.create_order(ETH, "limit", "buy", 0.1, 3300)
    assert control.call("GET", "/_emulator/faults").json()["fail"][0]["count"] == 2
    assert control.call("DELETE", "/_emulator/faults").json()["fail"] == []
    assert client.fetch_balance()["USDT"]["free"] == 10000


def test_latency_applies_to_exchange_calls_only(trader, control):
    """Only lower bounds on time (a slow machine cannot break them): an exchange call takes
    at least the latency; a control call never passes where the latency is slept (the
    request log, written there, does not hold it); clearing the faults sets it back to 0."""
    client, _ = trader
    control.faults({"latency_ms": 150})
    control.clear_requests()
    started = time.monotonic()
    client.fetch_time()
    assert time.monotonic() - started >= 0.15
    assert control.call("GET", "/_emulator/faults").json()["latency_ms"] == 150
    log = control.requests_log()
    assert "/api/v3/time" in [c["path"] for c in log], log
    assert not [c for c in log if c["path"].startswith("/_emulator/")], log
    assert all(c["duration_ms"] >= 150 for c in log), log
    control.call("DELETE", "/_emulator/faults")
    assert control.call("GET", "/_emulator/faults").json()["latency_ms"] == 0


def test_stall_fills_rests_every_order_until_cleared(trader, control):
    client, key = trader
    control.faults({"stall_fills": True})
    market = client.create_order(ETH, "market", "buy", 0.1)
    crossing = client.create_order(ETH, "limit", "buy", 0.1, 3500)
    resting = client.create_order(ETH, "limit", "buy", 0.1, 3300)
    control.set_price("ETHUSDT", "3200")
    assert {o["status"] for o in client.fetch_open_orders(ETH)} == {"open"}
    assert len(client.fetch_open_orders(ETH)) == 3
    control.faults({"stall_fills": False})
    assert client.fetch_order(market["id"], ETH)["status"] == "closed"
    assert client.fetch_order(crossing["id"], ETH)["status"] == "closed"
    assert client.fetch_order(resting["id"], ETH)["status"] == "closed"
    assert control.balance(key, "USDT")[1] == 0


def test_delete_faults_also_clears_stalled_fills(trader, control):
    client, _ = trader
    control.faults({"stall_fills": True})
    order = client.create_order(ETH, "market", "buy", 0.1)
    assert client.fetch_order(order["id"], ETH)["status"] == "open"
    control.call("DELETE", "/_emulator/faults")
    assert client.fetch_order(order["id"], ETH)["status"] == "closed"


@pytest.mark.parametrize(
    ("mode", "free"), [("nan_numbers", "NaN"), ("huge_numbers", "1e400"), ("negative_numbers", "-")]
)
def test_malformed_numbers_spoil_amounts_but_keep_the_rest(trader, control, mode, free):
    client, _ = trader
    arm(control, "GET", "/api/v3/account", mode)
    body = client.spotPrivateGetAccount()
    assert all(b["free"].startswith(free) for b in body["balances"])
    assert all(b["asset"].isalpha() for b in body["balances"])


def test_html_body_answers_a_page_with_status_200_after_applying_the_request(trader, control):
    client, _ = trader
    arm(control, "POST", "/api/v3/order", "html_body")
    client.create_order(ETH, "limit", "buy", 0.1, 3300, {"clientOrderId": "garbled"})
    assert client.last_http_response.startswith("<html>")
    assert client.fetch_order(None, ETH, {"clientOrderId": "garbled"})["status"] == "open"
