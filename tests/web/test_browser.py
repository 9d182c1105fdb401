"""The review page in real headless Chromium: queue → filter → candidate → chart → sign in → accept.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them where it can).
Without them the test skips, except under CI, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import ANA, Built, small_config, web_config

pytestmark = pytest.mark.slow
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "test-screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(built_store: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from s3text.web import create_app

    folder = tmp_path_factory.mktemp("browser-site")
    shutil.copy(built_store.path, folder / "s3text.duckdb")
    os.environ.setdefault("S3TEXT_TEST_TOKEN_BEN", "token-ben-9876543210")
    port = _free_port()
    app = create_app(folder / "s3text.duckdb", web_config(port=port), small_config(folder))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI (make browser installs them)")
        pytest.skip("chromium/chromedriver not installed (Debian: apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1300,1600"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_analyst_reviews_a_candidate_in_chromium(server: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    wait = WebDriverWait(d, 20)  # type: ignore[arg-type]
    d.get(server + "/")  # type: ignore[attr-defined]
    rows = d.find_elements(By.CSS_SELECTOR, "#queue tbody tr a[href^='/candidates/']")  # type: ignore[attr-defined]
    assert rows, "the queue lists candidates"

    region_select = Select(d.find_element(By.NAME, "region"))  # type: ignore[attr-defined]
    region = next(o.get_attribute("value") for o in region_select.options if o.get_attribute("value"))
    region_select.select_by_value(region)
    d.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()  # type: ignore[attr-defined]
    wait.until(ec.url_contains(f"region={region}"))
    regions = {a.text for a in d.find_elements(By.CSS_SELECTOR, "#queue tbody td:first-child a")}  # type: ignore[attr-defined]
    assert regions == {region}, "the filter keeps only that region"

    d.find_element(By.CSS_SELECTOR, "#queue tbody a[href^='/candidates/']").click()  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#trend .main-svg")))  # plotly drew the chart
    candidate_url = d.current_url  # type: ignore[attr-defined]

    d.find_element(By.LINK_TEXT, "Sign in").click()  # type: ignore[attr-defined]
    d.find_element(By.NAME, "name").send_keys("ana")  # type: ignore[attr-defined]
    d.find_element(By.NAME, "token").send_keys(ANA)  # type: ignore[attr-defined]
    d.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "form.decide")))

    d.find_element(By.CSS_SELECTOR, "form.decide input[name=status][value=accepted]").click()  # type: ignore[attr-defined]
    d.find_element(By.CSS_SELECTOR, "form.decide textarea[name=note]").send_keys(  # type: ignore[attr-defined]
        "Strong fit with the regional priority <b>energy</b>")
    d.find_element(By.CSS_SELECTOR, "form.decide button[type=submit]").click()  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".status-line .status-accepted")))

    d.get(candidate_url)  # type: ignore[attr-defined]  # reload: the decision comes from the store
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#trend .main-svg")))
    assert d.find_element(By.CSS_SELECTOR, ".status-line .status-accepted").text == "accepted"  # type: ignore[attr-defined]
    body = d.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    assert "Strong fit with the regional priority <b>energy</b>" in body, "the note shows as typed, as text"
    assert not d.find_elements(By.XPATH, "//b[text()='energy']"), "and never as markup"  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "candidate_accepted.png"
    assert d.save_screenshot(str(shot)) and shot.stat().st_size > 20_000  # type: ignore[attr-defined]
