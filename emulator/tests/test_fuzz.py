"""Garbage in: random paths, queries, bodies and methods never crash the server or change state."""

from decimal import Decimal

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.tests.conftest import SignedHttp

PATHS = [
    "/api/v3/order",
    "/api/v3/order/test",
    "/api/v3/batchOrders",
    "/api/v3/openOrders",
    "/api/v3/account",
    "/api/v3/depth",
    "/api/v3/klines",
    "/api/v3/ticker/24hr",
    "/api/v3/exchangeInfo",
    "/_emulator/accounts",
    "/_emulator/faults",
    "/_emulator/markets/ETHUSDT/price",
]
PARAM_NAMES = ["symbol", "side", "type", "quantity", "price", "quoteOrderQty", "limit"]
PARAM_NAMES += ["interval", "orderId", "timestamp", "recvWindow", "signature", "batchOrders"]
VALUES = st.one_of(
    st.sampled_from(["ETHUSDT", "BUY", "LIMIT", "MARKET", "NaN", "-1", "0", "1e999", "Infinity"]),
    st.sampled_from(["0.1", "3000", "1m", "[{}]", '[{"symbol":"ETHUSDT"}]', "", "%zz", "\x00"]),
    st.text(max_size=30),
)
query = st.lists(st.tuples(st.sampled_from(PARAM_NAMES) | st.text(max_size=8), VALUES), max_size=8)
bodies = st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode))
paths = st.one_of(st.sampled_from(PATHS), st.text(max_size=40).map(lambda p: "/" + p))


@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    path=paths,
    params=query,
    body=bodies,
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]),
    api_key=st.sampled_from([None, "demo-key", "nobody", ""]),
)
def test_garbage_never_crashes_or_changes_state(
    emulator, control, method, path, params, body, content_type, api_key
):
    headers = {"Content-Type": content_type}
    if api_key is not None:
        headers["X-MEXC-APIKEY"] = api_key
    url = emulator.url + requests.utils.quote(path, safe="/%")
    if path.startswith("/_emulator/") and method in ("POST", "PUT", "DELETE"):
        return  # valid control calls change state by design; their bad input has its own test
    try:
        response = requests.request(
            method, url, params=params, data=body, headers=headers, timeout=5
        )
    except requests.exceptions.InvalidURL:
        return
    assert response.status_code < 500, response.text
    if method != "HEAD" and response.status_code >= 400:
        assert {"code", "msg"} <= set(response.json())
    assert control.account("demo-key")["balances"] == {"USDT": {"free": "10000", "locked": "0"}}


def test_oversize_body_is_refused_with_413(emulator, control):
    response = requests.post(
        emulator.url + "/api/v3/order", data=b"x" * (1024 * 1024 + 1), timeout=5
    )
    assert response.status_code == 413 and response.json()["code"] == 413
    assert requests.get(emulator.url + "/api/v3/ping", timeout=5).json() == {}


def test_unknown_paths_get_a_mexc_404_body(emulator):
    response = requests.get(emulator.url + "/api/v3/nothing-here", timeout=5)
    assert response.status_code == 404 and response.json() == {"code": 404, "msg": "Not Found"}
    wrong_method = requests.put(emulator.url + "/api/v3/order", timeout=5)
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == 405


def test_server_still_answers_after_the_fuzzing(emulator):
    assert requests.get(emulator.url + "/api/v3/ping", timeout=5).json() == {}


SIGNED_ENDPOINTS = [
    ("POST", "/api/v3/order"),
    ("POST", "/api/v3/order/test"),
    ("POST", "/api/v3/batchOrders"),
    ("GET", "/api/v3/order"),
    ("DELETE", "/api/v3/order"),
    ("DELETE", "/api/v3/openOrders"),
    ("GET", "/api/v3/allOrders"),
    ("GET", "/api/v3/myTrades"),
]
ORDER_VALUES = {
    "symbol": st.sampled_from(["ETHUSDT", "BTCUSDT", "ETHUSDT,BTCUSDT", "NOPE", ""]),
    "side": st.sampled_from(["BUY", "SELL", "buy", ""]),
    "type": st.sampled_from(["LIMIT", "MARKET", "LIMIT_MAKER", "IMMEDIATE_OR_CANCEL", "X"]),
    "quantity": st.sampled_from(["0.1", "5", "-1", "NaN", "0", "0.000001", "1e3", "1e30", "abc"]),
    "price": st.sampled_from(
        ["3400", "3300.5", "0", "-5", "Infinity", "3400.001", "1e-30", "9" * 30]
    ),
    "quoteOrderQty": st.sampled_from(["10", "100000", "-1", "nan"]),
    "newClientOrderId": st.text(max_size=70),
    "orderId": st.sampled_from(["C02__545584045430000001029", "x", ""]),
    "limit": st.sampled_from(["1", "0", "5000", "-3", "x"]),
    "batchOrders": st.sampled_from(['[{"symbol":"ETHUSDT","side":"BUY"}]', "[]", "{", "[1]"]),
}


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    endpoint=st.sampled_from(SIGNED_ENDPOINTS),
    params=st.fixed_dictionaries({}, optional=ORDER_VALUES),
)
def test_signed_garbage_never_crashes_or_overdraws(emulator, control, endpoint, params):
    signer = SignedHttp(emulator.url, "demo-key", "demo-secret")
    method, path = endpoint
    response = signer.call(method, path, params)
    assert response.status_code < 500, response.text
    for entry in control.account("demo-key")["balances"].values():
        assert Decimal(entry["free"]) >= 0 and Decimal(entry["locked"]) >= 0
