"""Headless Chromium (Debian's `chromium` + `chromium-driver`) driving the admin like a person, at
1366 x 900, with screenshots saved under var/screenshots/ for a person to look at (issue 17).

Without Chromium these tests skip, saying so; CI installs it and sets TRUSTFRAME_REQUIRE_BROWSER=1,
which turns the skip into a failure.
"""

import os
import shutil
from pathlib import Path

import pytest

from accounts import admin_accounts

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WIDTH, HEIGHT = 1366, 900
ADMIN_PASSWORD = "Admin-Pass-123!"


@pytest.fixture(scope="session")
def chromium(_live_server_keeps_the_shared_sqlite_connection, live_server):
    """The browser, started after the live server so that it quits first: its keep-alive connections
    close while the server and its shared connection are still up."""
    if not (CHROMIUM and CHROMEDRIVER):
        message = "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
        if os.environ.get("TRUSTFRAME_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--window-size={WIDTH},{HEIGHT}", "--lang=en-US"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(WIDTH, HEIGHT)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


class Browser:
    """The driver, pointed at the live server, with the few moves the tests make."""

    def __init__(self, driver, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def go(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, css: str, *, navigates: bool = True) -> None:
        self._click(self.find(css), navigates)

    def click_text(self, text: str, tag: str = "*", *, navigates: bool = True) -> None:
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.XPATH, f"//{tag}[normalize-space(.)={text!r} or @value={text!r}]")
        self._click(element, navigates)

    def _click(self, element, navigates: bool) -> None:
        """Click; when it loads a page, return only once the new page is there (so the server is done)."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.wait import WebDriverWait

        page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        if navigates:
            WebDriverWait(self.driver, 15).until(expected_conditions.staleness_of(page))
            WebDriverWait(self.driver, 15).until(
                lambda d: d.execute_script("return document.readyState") == "complete")

    @property
    def text(self) -> str:
        return self.find("body").text

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    def fits_width(self) -> bool:
        """Nothing overflows sideways at 1366 px: neither the page nor a table in its scrolling box."""
        return self.driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth && [...document.querySelectorAll("
            "'.results, .tabular, table')].every(e => e.scrollWidth <= e.clientWidth + 1)")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        # The whole page, not only the window: the screenshot a person looks at.
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(WIDTH, max(HEIGHT, min(height + 140, 4000)))
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(WIDTH, HEIGHT)
        return path

    def sign_in(self, username: str, password: str = ADMIN_PASSWORD) -> None:
        self.driver.delete_all_cookies()
        self.go("/admin/login/?next=/admin/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.click("input[type=submit]")


@pytest.fixture(scope="session")
def _live_server_keeps_the_shared_sqlite_connection():
    """On the in-memory SQLite test database the live server's threads share the test thread's connection
    and, after each request, "close" it: SQLite ignores that, but Django first checks the thread and raises
    in the server thread. Its hook for tests is `_close_connections`; PostgreSQL keeps the real one."""
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.db import connection

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ThreadedWSGIServer, "_close_connections", lambda self: None)
        yield


@pytest.fixture
def browser(chromium, live_server) -> Browser:
    return Browser(chromium, live_server.url)


@pytest.fixture
def signed_in(browser, transactional_db) -> Browser:
    """The browser signed in to the admin as a superuser through the login form."""
    admin_accounts.admin_account_create(actor="tests", username="admin", password=ADMIN_PASSWORD, superuser=True)
    browser.sign_in("admin")
    assert browser.path == "/admin/", (browser.path, browser.base_url)
    return browser
