"""Browser tests drive the real app in headless Chromium through dash's `dash_duo` fixture.

Run: .venv/bin/pytest tests/browser -p no:cacheprovider --headless
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from tests.browser.pages import CHROME_ARGUMENTS

HERE = Path(__file__).resolve().parent
MISSING_BROWSER = "Chromium not installed: apt-get install chromium chromium-driver"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_setup_options():
    """One Options object: dash's browser takes the first of the hook's results."""
    options = Options()
    for argument in CHROME_ARGUMENTS:
        options.add_argument(argument)
    options.binary_location = _chromium() or "/usr/bin/chromium"
    return options


def pytest_configure(config):
    """Point selenium at the system chromedriver, so it does not go looking online for one,
    and give each pytest-xdist worker its own range of ports for dash's test servers (dash
    numbers them from 58050 in every process, so two workers would collide)."""
    driver = shutil.which("chromedriver")
    if driver:
        os.environ.setdefault("SE_CHROMEDRIVER", driver)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    from dash.testing.application_runners import BaseDashRunner

    BaseDashRunner._next_port = 58050 + 200 * int(worker.removeprefix("gw"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests run one after another on one pytest-xdist worker (`--dist loadgroup`):
    two Chromiums at once on a two-core machine starve each other's pages past the tests'
    waits. Without Chromium they are skipped, with the reason."""
    browser_tests = [i for i in items if HERE in Path(str(i.path)).resolve().parents]
    for item in browser_tests:
        item.add_marker(pytest.mark.xdist_group("browser"))
    if _chromium() and shutil.which("chromedriver"):
        return
    print(f"\nskipping browser tests: {MISSING_BROWSER}")
    skip = pytest.mark.skip(reason=MISSING_BROWSER)
    for item in browser_tests:
        item.add_marker(skip)


@pytest.fixture
def runtime(request, tmp_path):
    """The real app as app.py composes it: no exchange URL or keys, so it starts the local
    demo exchange in-process; its own SQLite database; no login. Marked `still_market`, the
    demo exchange's prices stay still (its random walk moves them once a second)."""
    from core.config import load_settings
    from emulator.daemon import ensure_demo_exchange, stop_demo_exchange
    from runtime import build_runtime

    if request.node.get_closest_marker("still_market"):
        ensure_demo_exchange(tmp_path / "demo-exchange", freeze=True)

    settings = load_settings(
        DATABASE_URL=f"sqlite:///{tmp_path}/t.db",
        TRADING_MODE="sim",
        EXCHANGE_URL="",
        EXCHANGE_API_KEY="",
        EXCHANGE_API_SECRET="",
        DASHBOARD_PASSWORD="",
        SYMBOLS="ETH/USDT,BTC/USDT",
    )
    running = build_runtime(settings)
    yield running
    running.close()
    stop_demo_exchange(tmp_path / "demo-exchange")


@pytest.fixture
def demo_exchange(runtime):
    """The control API of the runtime's own demo exchange (faults, latency, prices)."""
    from emulator.control_client import ControlClient

    client = ControlClient(runtime.engine.exchange_url)
    yield client
    client.clear_faults()
