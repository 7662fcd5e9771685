"""MEXC signing and timing checks, and how ccxt reports each failure."""

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import ccxt
import pytest
import requests

from emulator.tests.conftest import SignedHttp, mexc_client


def test_wrong_secret_is_a_bad_signature(emulator, markets):
    client = mexc_client(emulator.url, "demo-key", "not-the-secret")
    client.set_markets(markets)
    with pytest.raises(ccxt.AuthenticationError, match="700002"):
        client.fetch_balance()


def test_unknown_key_is_rejected(emulator, markets):
    client = mexc_client(emulator.url, "who-is-this", "demo-secret")
    client.set_markets(markets)
    with pytest.raises(ccxt.AuthenticationError, match="700001"):
        client.fetch_balance()


def test_stale_timestamp_is_an_invalid_nonce(emulator, markets):
    client = mexc_client(emulator.url, "demo-key", "demo-secret")
    client.set_markets(markets)
    client.options["timeDifference"] = 6000  # ccxt signs now - 6 s: outside the 5 s window
    with pytest.raises(ccxt.InvalidNonce, match="700003"):
        client.fetch_balance()
    client.options["recvWindow"] = 10000
    assert client.fetch_balance()["USDT"]["free"] == 10000


def test_timestamp_from_the_future_and_oversized_recv_window(emulator, markets):
    client = mexc_client(emulator.url, "demo-key", "demo-secret")
    client.set_markets(markets)
    client.options["timeDifference"] = -2000
    with pytest.raises(ccxt.InvalidNonce, match="700003"):
        client.fetch_balance()
    client.options["timeDifference"] = 0
    client.options["recvWindow"] = 60001
    with pytest.raises(ccxt.InvalidNonce, match="700005"):
        client.fetch_balance()


def test_missing_key_and_missing_signature(emulator):
    url = emulator.url + "/api/v3/account"
    no_key = requests.get(url, params={"timestamp": int(time.time() * 1000)}, timeout=5)
    assert no_key.status_code == 400 and no_key.json() == {"code": 400, "msg": "api key required"}
    unsigned = requests.get(
        url,
        params={"timestamp": int(time.time() * 1000)},
        headers={"X-MEXC-APIKEY": "demo-key"},
        timeout=5,
    )
    assert unsigned.status_code == 401 and unsigned.json()["code"] == 700002


def test_a_non_ascii_signature_is_a_bad_signature_not_a_crash(emulator):
    response = requests.get(
        emulator.url + "/api/v3/account",
        params={"timestamp": int(time.time() * 1000), "signature": "\x80é"},
        headers={"X-MEXC-APIKEY": "demo-key"},
        timeout=5,
    )
    assert response.status_code == 401 and response.json()["code"] == 700002


def test_signature_covers_the_raw_query_in_any_parameter_order(emulator):
    signed = SignedHttp(emulator.url, "demo-key", "demo-secret")
    query = urlencode({"recvWindow": 5000, "timestamp": int(time.time() * 1000)})
    signature = hmac.new(b"demo-secret", query.encode(), hashlib.sha256).hexdigest()
    response = signed.http.get(
        f"{emulator.url}/api/v3/account?{query}&signature={signature}",
        headers={"X-MEXC-APIKEY": "demo-key"},
        timeout=5,
    )
    assert response.status_code == 200
    tampered = f"{emulator.url}/api/v3/account?{query}0&signature={signature}"
    assert (
        signed.http.get(tampered, headers={"X-MEXC-APIKEY": "demo-key"}, timeout=5).json()["code"]
        == 700002
    )


def _signed_body_order(emulator, body: str, content_type: str, query: str = ""):
    payload = query + body
    signature = hmac.new(b"demo-secret", payload.encode(), hashlib.sha256).hexdigest()
    separator = "&" if query else ""
    return requests.post(
        f"{emulator.url}/api/v3/order?{query}{separator}signature={signature}",
        data=body,
        headers={"X-MEXC-APIKEY": "demo-key", "Content-Type": content_type},
        timeout=5,
    )


def test_parameters_in_a_form_or_json_body_are_signed_with_the_query(emulator, control):
    now = int(time.time() * 1000)
    form = f"symbol=ETHUSDT&side=BUY&type=LIMIT&quantity=0.1&price=3000&timestamp={now}"
    assert _signed_body_order(emulator, form, "application/x-www-form-urlencoded").ok
    body = json.dumps(
        {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.2", "price": "3000"}
    )
    response = _signed_body_order(emulator, body, "application/json", f"timestamp={now}")
    assert response.ok, response.text
    quantities = sorted(order["origQty"] for order in control.account("demo-key")["open_orders"])
    assert quantities == ["0.1", "0.2"]


def test_query_string_wins_over_the_body(emulator, control):
    now = int(time.time() * 1000)
    body = json.dumps({"quantity": "0.5", "side": "SELL"})
    query = f"symbol=ETHUSDT&side=BUY&type=LIMIT&quantity=0.1&price=3000&timestamp={now}"
    assert _signed_body_order(emulator, body, "application/json", query).ok
    [order] = control.account("demo-key")["open_orders"]
    assert (order["side"], order["origQty"]) == ("BUY", "0.1")
