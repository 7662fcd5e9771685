"""Trades as Dash background callbacks on Celery, in headless Chromium: the page (served
from this process) hands the trade to a real `celery worker` process over Redis, reads its
progress from the database while it runs, and shows the result; and when Redis is lost the
page says so and refuses a click without sending anything, then trades again once Redis is
back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from core.config import load_settings
from core.domain import Mode
from runtime import build_runtime
from tests.browser.pages import (
    LOAD_SECONDS,
    TRADE_SECONDS,
    click,
    close_toast,
    css,
    enter_size,
    shown_text,
)
from tests.services import (
    ROOT,
    AppProcess,
    app_environment,
    own_redis,  # noqa: F401 - a fixture
    redis_url,  # noqa: F401 - a fixture
)
from web import ids
from web.callbacks import OLDEST_CLICK_SECONDS

pytestmark = pytest.mark.browser

DEMO = {"EXCHANGE_API_KEY": "demo-key", "EXCHANGE_API_SECRET": "demo-secret"}
# A trade makes four sequential round trips: at 1 s each it runs for more than two refresh
# ticks (2 s), so the page reads it running at least once (at 400 ms a tick can miss it).
LATENCY_MS = 1000
HEALTH_SECONDS = 3.5  # runtime.RedisHealth asks at most every 3 s
ALERT_SHOWN = f"{css(ids.BACKGROUND_ALERT)}.show"
# the steps core.trading.executor and core.trading.orders report while a trade runs
STEPS = ("starting", "cancelling open orders", "placing BUY", "order placed", "verifying")


def live_settings(tmp_path: Path, exchange_url: str, redis: str) -> dict[str, str]:
    """LIVE on the demo account of the test's emulator, trades on Celery over `redis`."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'trading.db'}",
        "EXCHANGE_URL": exchange_url,
        **DEMO,
        "TRADING_MODE": "live",
        "REDIS_URL": redis,
        "SYMBOLS": "ETH/USDT,BTC/USDT",
        "DASHBOARD_PASSWORD": "",
    }


def start_celery_worker(tmp_path: Path, settings: dict[str, str]) -> AppProcess:
    """`celery -A app:celery_app worker` with the page's own settings: it builds the same
    Dash app, so the page's background callbacks are its tasks."""
    (tmp_path / "celery-tmp").mkdir(exist_ok=True)
    worker = AppProcess(
        [
            str(ROOT / ".venv" / "bin" / "celery"),
            "-A",
            "app:celery_app",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        app_environment(**settings, TMPDIR=str(tmp_path / "celery-tmp")),
        tmp_path / "celery.log",
    )
    try:
        worker.wait_for("ready.", seconds=60)
    except BaseException:
        worker.stop()
        raise
    return worker


@pytest.fixture
def celery_page(tmp_path, exchange, control, redis_url, dash_duo):  # noqa: F811
    settings = live_settings(tmp_path, exchange.url, redis_url)
    runtime = build_runtime(load_settings(**settings))
    assert runtime.service.modes.current() is Mode.LIVE
    worker = start_celery_worker(tmp_path, settings)
    try:
        open_live_page(dash_duo, runtime)
        yield runtime, worker
    finally:
        worker.stop()
        runtime.close()


def open_live_page(dash_duo, runtime) -> None:
    dash_duo.start_server(runtime.dash_app)
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "LIVE+SYNC", timeout=LOAD_SECONDS)
    dash_duo.wait_for_contains_text(css(ids.POSITIONS_TABLE), "ETH/USDT", timeout=LOAD_SECONDS)


def orders_sent(control) -> list[dict]:
    return [
        c for c in control.requests_log() if c["method"] == "POST" and c["path"] == "/api/v3/order"
    ]


def watch_status(dash_duo, until: str, seconds: float = TRADE_SECONDS) -> list[str]:
    """Every text the trade status line of the current tab showed until it shows `until`."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while not seen or until not in seen[-1]:
        assert time.monotonic() < deadline, (f"the status line never showed {until!r}", seen)
        status = dash_duo.find_element(css(ids.TRADE_STATUS)).get_attribute("textContent")
        if status and (not seen or seen[-1] != status):
            seen.append(status)
        time.sleep(0.05)
    return seen


def assert_running_with_a_step(statuses: list[str]) -> None:
    running = [s for s in statuses if "ETH/USDT → LONG running" in s]
    assert running, statuses
    assert any(step in s for s in running for step in STEPS), running


def test_a_trade_runs_in_a_celery_worker_and_the_page_shows_its_steps(
    dash_duo, celery_page, control
):
    """BUY runs in the Celery worker process: a tab of the page shows it running with its
    step (the worker writes it to the database, the page reads it), the clicking tab then
    gets the result toast, and the order was the worker's."""
    _runtime, worker = celery_page
    driver = dash_duo.driver
    clicking = driver.current_window_handle
    driver.switch_to.new_window("tab")
    driver.get(dash_duo.server_url)
    dash_duo.wait_for_text_to_equal(css(ids.MODE_BADGE), "LIVE+SYNC", timeout=LOAD_SECONDS)
    watching = driver.current_window_handle
    driver.switch_to.window(clicking)
    enter_size(dash_duo, "10")
    control.faults({"latency_ms": LATENCY_MS})
    control.clear_requests()

    click(dash_duo, ids.TRADE_BUY)
    driver.switch_to.window(watching)
    statuses = watch_status(dash_duo, "Done")
    assert_running_with_a_step(statuses)
    driver.switch_to.window(clicking)
    dash_duo.wait_for_contains_text(
        css(ids.TRADE_TOAST), "state LONG verified", timeout=TRADE_SECONDS
    )
    control.clear_faults()

    assert len(orders_sent(control)) == 1
    # the worker process ran it: the trade's one log line is in the worker's log
    worker_log = worker.text()
    assert "trade verified" in worker_log and "symbol=ETH/USDT" in worker_log, worker_log
    assert "succeeded" in worker_log
    assert dash_duo.get_logs() == []


def test_the_tab_that_clicked_shows_the_trade_running_with_its_step(dash_duo, celery_page, control):
    """The tab where BUY was clicked shows the trade running with its step while the Celery
    worker runs it, then its result."""
    enter_size(dash_duo, "10")
    control.faults({"latency_ms": LATENCY_MS})
    click(dash_duo, ids.TRADE_BUY)
    try:
        statuses = watch_status(dash_duo, "Done")
    finally:
        control.clear_faults()
    assert_running_with_a_step(statuses)


def test_a_click_the_workers_take_too_late_is_not_traded(
    tmp_path,
    dash_duo,
    celery_page,
    control,
    exchange,
    redis_url,  # noqa: F811
):
    """A click queued while no worker runs is not traded when a worker takes it later than
    OLDEST_CLICK_SECONDS: the price it was made at is gone. The page says so."""
    _runtime, worker = celery_page
    worker.stop()
    enter_size(dash_duo, "10")
    control.clear_requests()
    click(dash_duo, ids.TRADE_BUY)
    time.sleep(OLDEST_CLICK_SECONDS + 1)

    late = start_celery_worker(tmp_path, live_settings(tmp_path, exchange.url, redis_url))
    try:
        dash_duo.wait_for_contains_text(css(ids.TRADE_TOAST), "slow to take it", TRADE_SECONDS)
    finally:
        late.stop()
    assert orders_sent(control) == []


@pytest.fixture
def page_on_own_redis(tmp_path, exchange, control, own_redis, dash_duo):  # noqa: F811
    """The page and a Celery worker on a redis-server of the test's own, which the test
    stops (Redis lost) and starts again on the same port."""
    settings = live_settings(tmp_path, exchange.url, own_redis.url)
    runtime = build_runtime(load_settings(**settings))
    worker = start_celery_worker(tmp_path, settings)
    try:
        open_live_page(dash_duo, runtime)
        enter_size(dash_duo, "10")
        yield runtime, worker
    finally:
        worker.stop()
        runtime.close()


def assert_refused_for_redis(dash_duo, port: int, seconds: float = LOAD_SECONDS) -> None:
    WebDriverWait(dash_duo.driver, seconds).until(
        lambda _d: f"Redis at 127.0.0.1:{port}" in shown_text(dash_duo),
        message="no refusal naming Redis and its address",
    )
    words = shown_text(dash_duo)
    assert "background service" in words and "is down" in words, words
    assert "nothing was sent" in words, words


def test_a_click_while_redis_is_down_is_refused_and_trading_resumes_when_it_is_back(
    dash_duo,
    page_on_own_redis,
    control,
    own_redis,  # noqa: F811
):
    """Redis lost while the page runs: BUY is refused with a clear message and nothing
    reaches the exchange; with Redis back, BUY trades again (on the Celery worker)."""
    runtime, worker = page_on_own_redis
    own_redis.stop()
    control.clear_requests()
    time.sleep(HEALTH_SECONDS)  # the page asks whether Redis answers at most every 3 s
    click(dash_duo, ids.TRADE_BUY)
    assert_refused_for_redis(dash_duo, own_redis.port)
    time.sleep(2)  # and nothing is sent later either
    assert not [c for c in control.requests_log() if c["signed"]]
    assert runtime.service.modes.current() is Mode.LIVE

    own_redis.start()  # the same port: the page and the worker reconnect
    close_toast(dash_duo)
    deadline = time.monotonic() + TRADE_SECONDS
    while "state LONG verified" not in shown_text(dash_duo):
        assert time.monotonic() < deadline, (shown_text(dash_duo), worker.text()[-3000:])
        if "is down" in shown_text(dash_duo):  # not noticed yet: asked every 3 s
            close_toast(dash_duo)
            time.sleep(1)
        if not shown_text(dash_duo):
            click(dash_duo, ids.TRADE_BUY)
            WebDriverWait(dash_duo.driver, TRADE_SECONDS).until(
                lambda _d: shown_text(dash_duo), message="no toast after BUY"
            )
    assert len(orders_sent(control)) == 1
    assert "trade verified" in worker.text()


def test_a_click_just_after_redis_is_lost_is_refused_and_never_runs_later(
    dash_duo,
    page_on_own_redis,
    control,
    own_redis,  # noqa: F811
):
    """A BUY clicked the moment Redis goes away is refused with the same message at once,
    and is not sent when Redis comes back."""
    runtime, _worker = page_on_own_redis
    health = runtime.background.down.__self__  # runtime.RedisHealth, asked by every refresh
    WebDriverWait(dash_duo.driver, LOAD_SECONDS, poll_frequency=0.02).until(
        lambda _d: time.monotonic() - health._checked < 0.3,
        message="the page never asked whether Redis answers",
    )  # it just asked: the next question is 3 s away, so the click below meets the cache
    own_redis.stop()
    control.clear_requests()
    click(dash_duo, ids.TRADE_BUY)
    try:
        assert_refused_for_redis(dash_duo, own_redis.port, seconds=HEALTH_SECONDS + 2)
    finally:
        own_redis.start()
        time.sleep(15)  # long enough for a held request to be published and run
        assert orders_sent(control) == [], "a click made while Redis was down ran later"


def test_the_page_shows_the_background_alert_while_redis_is_down(
    tmp_path,
    dash_duo,
    exchange,
    control,
    own_redis,  # noqa: F811
):
    """Redis lost while the page runs: the background-service alert shows, naming Redis, and
    goes away once Redis is back."""
    settings = live_settings(tmp_path, exchange.url, own_redis.url)
    runtime = build_runtime(load_settings(**settings))
    try:
        open_live_page(dash_duo, runtime)
        assert not dash_duo.find_elements(ALERT_SHOWN)
        own_redis.stop()
        WebDriverWait(dash_duo.driver, 15).until(
            lambda _d: "is down" in shown_text(dash_duo, ids.BACKGROUND_ALERT),
            message="no background-service alert within 15 s of Redis going down",
        )
        alert = shown_text(dash_duo, ids.BACKGROUND_ALERT)
        assert f"Redis at 127.0.0.1:{own_redis.port}" in alert, alert
        own_redis.start()
        WebDriverWait(dash_duo.driver, 15).until_not(
            lambda _d: dash_duo.find_elements(ALERT_SHOWN),
            message="the alert stayed after Redis came back",
        )
    finally:
        runtime.close()
