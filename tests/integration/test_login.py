"""The page behind its login, only where asked, with the real processes: `python app.py
serve`, gunicorn and the Celery worker start with a DASHBOARD_PASSWORD and ask for it (a
malformed `Authorization` too); gunicorn bound beyond loopback without one refuses to
start; a password-less page answers loopback Host names and ALLOWED_HOSTS only; and no log
line shows the password or the Basic credential, even at DEBUG, even from Celery."""

from __future__ import annotations

import base64
import contextlib
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.page_requests import callback_request
from tests.services import (
    ROOT,
    AppProcess,
    RedisServer,
    app_environment,
    free_port,
    python_app,
)

USER, PASSWORD = "trader", "login-test-pw-5d2e"
CREDENTIAL = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
DEMO = {"EXCHANGE_API_KEY": "demo-key", "EXCHANGE_API_SECRET": "demo-secret"}
JOB_SECONDS = 60


def settings_for(folder: Path, exchange_url: str, port: int, **extra: str) -> dict[str, str]:
    (folder / "tmp").mkdir(parents=True, exist_ok=True)
    return app_environment(
        DATABASE_URL=f"sqlite:///{folder / 'trading.db'}",
        EXCHANGE_URL=exchange_url,
        **DEMO,
        TRADING_MODE="sim",
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL="DEBUG",
        TMPDIR=str(folder / "tmp"),
        **extra,
    )


def wait_for_answer(url: str, server: AppProcess, seconds: float = 60) -> None:
    """Until `url` answers at all (any status)."""
    deadline = time.monotonic() + seconds
    while True:
        assert server.process.poll() is None, f"{server.args} exited:\n{server.text()}"
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer at {url}:\n{server.text()}") from None
            time.sleep(0.1)


@contextlib.contextmanager
def started(args: list[str], env: dict[str, str], log: Path, url: str):
    server = AppProcess(args, env, log)
    try:
        wait_for_answer(url, server)
        yield server
    finally:
        server.stop()


def logged_in() -> requests.Session:
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    return session


def assert_asks_for_the_login(answer: requests.Response) -> None:
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")


def assert_the_page_answers(base: str) -> None:
    """401 without the login; with it the page, and the scripts it names (registered by the
    warm-up request made before any browser's, behind the login)."""
    plotly_js = "/_dash-component-suites/plotly/package_data/plotly.min.js"  # web/vendor's
    for path in ("/", "/metrics", "/_dash-dependencies", plotly_js):
        assert_asks_for_the_login(requests.get(f"{base}{path}", timeout=10))
    session = logged_in()
    page = session.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and "Trading Dashboard" in page.text
    script = next(
        part.split('"')[0]
        for part in page.text.split('src="')[1:]
        if "_dash-component-suites/dash/" in part
    )
    assert session.get(f"{base}{script}", timeout=10).status_code == 200
    assert session.get(f"{base}/metrics", timeout=10).status_code == 200
    assert session.get(f"{base}{plotly_js}", timeout=10).status_code == 200


def assert_no_login_in(text: str) -> None:
    assert PASSWORD not in text
    assert CREDENTIAL not in text


# --- python app.py serve, with a password ---------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory, exchange):
    folder = tmp_path_factory.mktemp("serve-login")
    port = free_port()
    env = settings_for(folder, exchange.url, port, DASHBOARD_PASSWORD=PASSWORD)
    base = f"http://127.0.0.1:{port}"
    with started(python_app("serve"), env, folder / "serve.log", base) as server:
        yield base, server


def test_serve_with_a_password_starts_and_asks_for_the_login(served):
    base, server = served
    assert_the_page_answers(base)
    assert "Dashboard on http://127.0.0.1" in server.text()


MALFORMED = {
    "another scheme": "Bearer abc.def",
    "no credential": "Basic",
    "bad base64": "Basic !!not-base64!!",
    "no colon": "Basic " + base64.b64encode(b"traderonly").decode(),
    "not UTF-8": "Basic " + base64.b64encode(b"trader:\xff\xfe").decode(),
    "not ASCII": "Basic d\u00e9j\u00e0".encode("latin-1"),
    "wrong password": "Basic " + base64.b64encode(b"trader:login-test-pw-5d2f").decode(),
    "wrong user": "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode(),
}


@pytest.mark.parametrize("header", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_wrong_or_malformed_authorization_is_asked_to_log_in(served, header):
    base, _ = served
    assert_asks_for_the_login(requests.get(f"{base}/", headers={"Authorization": header}))


def test_a_callback_without_the_login_is_asked_for_it_whatever_its_body(served):
    base, _ = served
    for body in ({}, [], {"output": "x"}):
        assert_asks_for_the_login(requests.post(f"{base}/_dash-update-component", json=body))


def test_no_log_line_of_serve_shows_the_login(served):
    base, server = served
    logged_in().get(f"{base}/", timeout=10)
    requests.get(f"{base}/", headers={"Authorization": MALFORMED["wrong password"]}, timeout=10)
    assert "DEBUG" in server.text()  # the app logged at DEBUG
    assert_no_login_in(server.text())


# --- gunicorn and the Celery worker, with a password -----------------------------------


def gunicorn(*args: str) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", *args]


def celery_worker() -> list[str]:
    return [
        *(str(ROOT / ".venv" / "bin" / "celery"), "-A", "app:celery_app", "worker"),
        *("--pool", "solo", "--loglevel", "DEBUG"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]


@pytest.fixture(scope="module")
def scaled_out(tmp_path_factory, exchange):
    """gunicorn (one worker) and a Celery worker, both with the password, on a redis-server
    of their own: a worker left running by another test run takes no task of theirs."""
    folder = tmp_path_factory.mktemp("gunicorn-login")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    redis_server = RedisServer(folder)
    redis_server.start()
    env = settings_for(
        folder,
        exchange.url,
        port,
        DASHBOARD_PASSWORD=PASSWORD,
        REDIS_URL=redis_server.url,
        WEB_CONCURRENCY="1",
        PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"),
    )
    try:
        with started(gunicorn("app:server"), env, folder / "gunicorn.log", base) as web:
            worker = AppProcess(celery_worker(), env, folder / "celery.log")
            try:
                worker.wait_for("ready.", seconds=60)
                yield base, web, worker
            finally:
                worker.stop()
    finally:
        redis_server.stop()


def click_buy(base: str) -> str:
    """BUY on the page, as a logged-in tab sends it; its job polled until the Celery worker
    answers. The toast's header."""
    session = logged_in()
    specs = session.get(f"{base}/_dash-dependencies", timeout=10).json()

    def spec(trigger: str, output: str) -> dict:
        return next(
            s
            for s in specs
            if output in s["output"] and any(i["id"] == trigger for i in s["inputs"])
        )

    values = {
        ("trade-buy", "n_clicks"): 1,
        ("symbol-select", "value"): "ETH/USDT",
        ("order-size", "value"): "10",
        ("order-size-unit", "value"): "pct",
        ("known-mode", "data"): "sim",  # the mode the tab showed
    }
    clicked = callback_request(
        spec("trade-buy", "trade-request.data"), values, values, "trade-buy.n_clicks"
    )
    update = f"{base}/_dash-update-component"
    asked = session.post(update, json=clicked, timeout=30).json()["response"]
    run = callback_request(
        spec("trade-request", "trade-done.data"),
        {("trade-request", "data"): asked["trade-request"]["data"]},
        {},
        "trade-request.data",
    )
    job = session.post(update, json=run, timeout=30).json()
    handles = urllib.parse.urlencode({"cacheKey": job["cacheKey"], "job": job["job"]})
    deadline = time.monotonic() + JOB_SECONDS
    while time.monotonic() < deadline:
        answer = session.post(f"{update}?{handles}", json=run, timeout=30)
        if answer.content and "response" in answer.json():
            return answer.json()["response"]["trade-toast"]["header"]
        time.sleep(0.05)
    raise AssertionError(f"the BUY job did not answer within {JOB_SECONDS} s")


def test_gunicorn_and_the_celery_worker_start_with_a_password(scaled_out):
    base, _, _ = scaled_out
    assert_the_page_answers(base)
    assert_asks_for_the_login(
        requests.get(f"{base}/", headers={"Authorization": MALFORMED["bad base64"]})
    )
    assert click_buy(base) == "Done: ETH/USDT → LONG"


def test_no_log_line_of_gunicorn_or_celery_shows_the_login(scaled_out):
    base, web, worker = scaled_out
    assert click_buy(base).endswith("ETH/USDT → LONG")  # whatever it did, it ran there
    celery_log = worker.text()
    assert "DEBUG" in celery_log and "Basic ***" in celery_log  # the header was there, masked
    assert_no_login_in(celery_log)
    assert_no_login_in(web.text())


def test_gunicorn_bound_beyond_loopback_without_a_password_refuses_to_start(tmp_path, exchange):
    env = settings_for(tmp_path, exchange.url, free_port(), DASHBOARD_PASSWORD="")
    done = subprocess.run(
        gunicorn("-b", f"0.0.0.0:{free_port()}", "app:server"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "refusing to serve http://0.0.0.0:" in done.stderr
    assert "without a login: set DASHBOARD_PASSWORD" in done.stderr
    assert "Booting worker" not in done.stderr


# --- a password-less page on loopback: Host names ---------------------------------------


@pytest.fixture(scope="module")
def open_page(tmp_path_factory, exchange):
    folder = tmp_path_factory.mktemp("serve-open")
    port = free_port()
    env = settings_for(folder, exchange.url, port, ALLOWED_HOSTS="dash.example")
    base = f"http://127.0.0.1:{port}"
    with started(python_app("serve"), env, folder / "serve.log", base):
        yield base, port


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost:{port}",
        "127.0.0.1",
        "127.8.9.10:{port}",
        "[::1]:{port}",
        "dash.example:{port}",
        "DASH.EXAMPLE",
    ],
)
def test_a_password_less_page_answers_loopback_names_and_allowed_hosts(open_page, host):
    base, port = open_page
    answer = requests.get(f"{base}/", headers={"Host": host.format(port=port)}, timeout=10)
    assert answer.status_code == 200


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example", "localhost@evil.example", ""],
)
def test_a_password_less_page_refuses_any_other_host(open_page, host):
    base, port = open_page
    for path in ("/", "/metrics", "/_dash-layout"):
        answer = requests.get(f"{base}{path}", headers={"Host": host.format(port=port)}, timeout=10)
        assert answer.status_code == 400
        assert answer.headers["Content-Type"].startswith("text/plain")
        assert "ALLOWED_HOSTS" in answer.text
