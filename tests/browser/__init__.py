"""A headless Chromium for browser tests (Debian's chromium + chromedriver), plus helpers.

The fixtures are registered in conftest.py; use ``browser`` from a test module with the
``live_server`` fixture; mark the tests ``@pytest.mark.browser``.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1400, 1000)
CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
]
TIMEOUT = 10


class Chromium:
    """One headless Chromium for the whole test process, handed from test to test.

    Starting Chromium costs seconds; a test only needs one that shows nothing of the tests
    before it. After each test the window goes back to a blank page at ``WINDOW`` size with
    no cookies, cache, device emulation or held keys; if that fails, Chromium is closed and
    the next test gets a new one.
    """

    def __init__(self) -> None:
        self.driver: Any = None
        self.profile = ""

    def get(self) -> Any:
        if self.driver is None:
            self.driver = self._start()
        return self.driver

    def reset(self) -> None:
        """Forget everything the last test did; close Chromium where that fails."""
        driver = self.driver
        if driver is None:
            return
        try:
            handles = driver.window_handles
            for handle in handles[1:]:
                driver.switch_to.window(handle)
                driver.close()
            driver.switch_to.window(handles[0])
            ActionChains(driver).reset_actions()  # keys and buttons still held
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            # ChromeDriver accepts a beforeunload prompt by itself (as WebDriver prescribes).
            driver.get("about:blank")
            driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
            driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.set_window_size(*WINDOW)
            driver.implicitly_wait(0)
        except WebDriverException:
            self.quit()

    def quit(self) -> None:
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None
                shutil.rmtree(self.profile, ignore_errors=True)

    def _start(self) -> Any:
        if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
            pytest.fail(
                "chromium and chromedriver are missing: run scripts/setup.sh (make test does)"
            )
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.set_window_size(*WINDOW)
        driver.implicitly_wait(0)
        return driver


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """The test process's Chromium, started by the first browser test that needs it."""
    holder = Chromium()
    yield holder
    holder.quit()


@pytest.fixture
def browser(chromium: Chromium) -> Iterator[Any]:
    """A headless Chromium on a blank page with nothing left from the tests before."""
    yield chromium.get()
    chromium.reset()


def wait_for(driver: Any, condition: Callable[[Any], Any], timeout: float = TIMEOUT) -> Any:
    """Wait until ``condition(driver)`` is truthy and return its value.

    An element replaced while the condition reads it (a section renewed in place) is read
    again on the next try rather than failing the wait.
    """
    return WebDriverWait(
        driver, timeout, ignored_exceptions=(StaleElementReferenceException,)
    ).until(condition)


def click(driver: Any, element: Any) -> None:
    """Scroll an element to the middle of the window (clear of sticky bars) and click it."""
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    element.click()


def sign_in(driver: Any, live_server_url: str, username: str, password: str) -> None:
    """Sign in through the login form and wait for the list page."""
    driver.get(f"{live_server_url}/accounts/login/")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, lambda d: "/accounts/login/" not in d.current_url)


def full_page_screenshot(driver: Any, path: Path, width: int = WINDOW[0]) -> Path:
    """Save a screenshot of the whole page (the window is resized to the page height)."""
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
    )
    original = driver.get_window_size()
    driver.set_window_size(width, min(int(height) + 140, 8000))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(original["width"], original["height"])
    return path
