"""The console in a real headless Chromium, with the network limited to loopback.

Sign in, make a version from an existing one with a changed parameter, watch it
complete without reloading, follow its log, read its charts' data, compare two
versions, stop a running one, sign out; another project sees none of it.
Screenshots of the main pages go to ``test-artifacts/console/``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, Server
from iam_helpers import make_user
from webconsole.conftest import add_project_token, make_job

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_CHROMIUM = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()

if not HAVE_CHROMIUM and not os.environ.get("TRAINJOBS_REQUIRE_ALL"):
    pytest.skip(
        "the browser tests need Debian's chromium and chromium-driver", allow_module_level=True
    )

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts" / "console"
DESKTOP = (1280, 800)
PHONE = (390, 844)


def chromium(profile: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        # Loopback only: every other name fails to resolve, and anything that
        # still tries goes to a proxy port nothing listens on.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(flag)
    # An explicit driver: Selenium Manager never looks for (or downloads) one.
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("console")
    srv = Server(root / "data", env={"TRAINJOBS_METRICS_PERIOD_S": "0.25"}).start()
    yield srv
    srv.stop()
    srv.drop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def wait(driver: WebDriver, what: Callable[[WebDriver], Any], timeout: float = 60) -> Any:
    # Live parts of a page are replaced as they update: an element found a moment
    # ago may be gone, which only means looking again.
    return WebDriverWait(
        driver, timeout, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
    ).until(what)


def shot(driver: WebDriver, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 5000, "the screenshot shows something"
    return path


def only_loopback_loaded(driver: WebDriver, base: str) -> None:
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"
    )
    assert names and all(n.startswith(base) for n in names), names


def sign_in(driver: WebDriver, user: str, password: str) -> None:
    wait(driver, lambda d: d.find_element(By.ID, "user"))
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def is_gone(element: Any) -> bool:
    try:
        _ = element.tag_name  # any read of a replaced element fails
    except WebDriverException:
        return True
    return False


def status_of(driver: WebDriver) -> str:
    try:
        return str(driver.find_element(By.ID, "version-status").text)
    except WebDriverException as error:
        # Read while a form's post replaces the page, the element found belongs
        # to the old document: Chromium says so in a general error, which is
        # the stale case that waiting already looks past.
        if "does not belong to the document" in str(error):
            raise StaleElementReferenceException(str(error)) from error
        raise


def test_a_session_in_the_browser(site: Server, browser: WebDriver) -> None:
    base = site.base
    first = make_job(site, lr="0.1", seconds=1.5)
    job_id = first["job_id"]
    site.wait_status(job_id, first["version_id"])
    user = make_user(site, password="browser-pass-1")

    # A link to a page while signed out: sign-in, then that very page.
    browser.get(f"{base}/console/jobs/{job_id}")
    assert "/console/sign-in" in browser.current_url
    sign_in(browser, user["name"], "browser-pass-1")
    wait(browser, lambda d: d.current_url == f"{base}/console/jobs/{job_id}")
    assert "V0001" in browser.find_element(By.ID, "versions").text

    browser.get(f"{base}/console/jobs")
    assert first["job_name"] in browser.find_element(By.ID, "jobs").text
    only_loopback_loaded(browser, base)
    shot(browser, "jobs")

    # A new version from V0001 with a changed parameter, through the form.
    browser.get(f"{base}/console/jobs/{job_id}/versions/{first['version_id']}")
    browser.find_element(By.ID, "new-version").click()
    lr = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, 'input[data-label="lr"]'))
    lr.clear()
    lr.send_keys("0.35")
    seconds = browser.find_element(By.CSS_SELECTOR, 'input[data-label="seconds"]')
    seconds.clear()
    seconds.send_keys("4")
    browser.find_element(By.ID, "create-version").click()
    wait(browser, lambda d: d.find_elements(By.ID, "version-status"))
    assert "V0002" in browser.find_element(By.TAG_NAME, "h1").text

    # Its status turns Completed without a reload: a marker set now survives.
    browser.execute_script("window.tjNoReload = 'still here'")
    assert status_of(browser) in ("Init", "Waiting", "Running")
    wait(browser, lambda d: status_of(d) == "Running", 30)
    log = browser.find_element(By.ID, "log")
    assert browser.find_element(By.ID, "follow").is_selected()
    wait(browser, lambda d: "step 1 " in log.text, 30)
    lines_while_running = log.text.count("step ")
    wait(browser, lambda d: status_of(d) == "Completed", 60)
    assert browser.execute_script("return window.tjNoReload") == "still here"
    # Following the log brought in the lines written after the page loaded.
    wait(browser, lambda d: "done" in log.text, 15)
    assert log.text.count("step ") > lines_while_running
    assert "training with lr 0.35" in log.text

    # The resource charts drew real points.
    charts = browser.execute_script(
        "return (window.tjCharts || []).map(c => ({title: c.tjTitle, "
        "points: c.data[1].filter(v => v !== null && !Number.isNaN(v)).length, "
        "max: Math.max(...c.data[1].filter(v => v !== null))}))"
    )
    by_title = {c["title"]: c for c in charts}
    assert by_title["CPU (%)"]["points"] >= 3, charts
    assert by_title["CPU (%)"]["max"] > 0, charts
    assert by_title["Memory (GiB)"]["max"] > 0, charts
    assert browser.find_element(By.ID, "class-metrics").text.count("cat") == 1
    browser.find_element(By.CSS_SELECTOR, "#params-table tr.changed")  # lr differs from V0001
    assert browser.find_element(By.ID, "t-ended").text != "—"  # the timeline followed too
    only_loopback_loaded(browser, base)
    shot(browser, "version")
    browser.execute_script("document.getElementById('usage').scrollIntoView()")
    shot(browser, "version-charts")

    # Compare V0001 and V0002: the changed parameter is highlighted.
    browser.get(f"{base}/console/jobs/{job_id}")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#versions tbody tr"))
    assert browser.find_element(By.CSS_SELECTOR, "#versions tbody tr .status").text == "Completed"
    shot(browser, "versions")
    for box in browser.find_elements(By.CSS_SELECTOR, 'input[name="v"]'):
        box.click()
    browser.find_element(By.ID, "compare").click()
    wait(browser, lambda d: d.find_elements(By.ID, "compare-table"))
    lr_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-kind="parameter"][data-label="lr"]')
    assert "differs" in lr_row.get_attribute("class")
    assert "0.35" in lr_row.text and "0.1" in lr_row.text
    acc_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-kind="metric"][data-label="accuracy"]')
    assert "differs" in acc_row.get_attribute("class")
    engine = browser.find_element(By.CSS_SELECTOR, 'tr[data-kind="config"][data-label="Engine"]')
    assert "differs" not in (engine.get_attribute("class") or "")
    overlaid = browser.execute_script(
        "const c = window.tjCharts[0]; return {lines: c.data.length - 1, "
        "points: c.data.slice(1).map(s => s.filter(v => v !== null).length)}"
    )
    assert overlaid["lines"] == 2 and min(overlaid["points"]) >= 1, overlaid
    Select(browser.find_element(By.ID, "series-pick")).select_by_value("memUsage")
    assert browser.execute_script("return window.tjCharts[0].tjSeries") == "memUsage"
    Select(browser.find_element(By.ID, "series-pick")).select_by_value("cpuUsage")
    only_loopback_loaded(browser, base)
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "compare")

    # Stop a running version from its page.
    long = site.client.post(
        f"{site.v1}/training-jobs/{job_id}/versions",
        json={"config": {"parameter": [{"label": "lr", "value": "0.2"},
                                       {"label": "seconds", "value": "120"}]}},
    ).json()  # fmt: skip
    site.wait_status(job_id, long["version_id"], {8})
    browser.get(f"{base}/console/jobs/{job_id}/versions/{long['version_id']}")
    wait(browser, lambda d: status_of(d) == "Running")
    badge = browser.find_element(By.ID, "version-status")
    browser.find_element(By.ID, "stop").click()
    # The stop is a form's post, answered with the version's page anew.
    wait(browser, lambda d: is_gone(badge), 30)
    wait(browser, lambda d: status_of(d) in ("Killing", "Killed"), 30)
    wait(browser, lambda d: status_of(d) == "Killed", 30)
    assert site.version(job_id, long["version_id"])["status"] == 12

    # The versions page at a phone's width.
    browser.set_window_size(*PHONE)
    browser.get(f"{base}/console/jobs/{job_id}")
    wait(browser, lambda d: d.find_elements(By.ID, "versions"))
    shot(browser, "versions-phone")
    browser.set_window_size(*DESKTOP)

    # Sign out: the console is closed until signing in again.
    browser.get(f"{base}/console/jobs")
    browser.find_element(By.ID, "sign-out").click()
    wait(browser, lambda d: "/console/sign-in" in d.current_url)
    browser.get(f"{base}/console/jobs/{job_id}")
    assert "/console/sign-in" in browser.current_url


def test_another_project_never_sees_the_first_ones_jobs(site: Server, browser: WebDriver) -> None:
    job = make_job(site)
    site.wait_status(job["job_id"], job["version_id"])
    base = site.base
    browser.delete_all_cookies()
    browser.get(f"{base}/console/sign-in")
    browser.find_element(By.TAG_NAME, "summary").click()
    browser.find_element(By.ID, "token").send_keys(add_project_token(site))
    browser.find_element(By.ID, "sign-in").click()
    wait(browser, lambda d: d.current_url.startswith(f"{base}/console/jobs"))
    assert job["job_name"] not in browser.page_source
    assert "No training jobs yet" in browser.page_source
    shot(browser, "jobs-empty")
    # Typing the first project's URLs finds nothing either.
    for path in (
        f"/console/jobs/{job['job_id']}",
        f"/console/jobs/{job['job_id']}/versions/{job['version_id']}",
        f"/console/jobs/{job['job_id']}/compare?v={job['version_id']}",
        f"/console/jobs/{job['job_id']}/versions/{job['version_id']}/log/{job['job_name']}-V0001.0",
    ):
        browser.get(base + path)
        assert browser.find_element(By.TAG_NAME, "h1").text == "Not found", path
        assert job["job_name"] not in browser.page_source, path
    shot(browser, "not-found")


def test_the_api_docs_render_offline(site: Server, browser: WebDriver) -> None:
    browser.get(f"{site.base}/docs")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"), 30)
    assert "training jobs" in browser.page_source
    only_loopback_loaded(browser, site.base)
    time.sleep(0.2)
    shot(browser, "api-docs")


def test_configurations_algorithms_and_tensorboard(site: Server, browser: WebDriver) -> None:
    """Save a version as a configuration, start a job from it, and open the version's
    TensorBoard through the console session."""
    base = site.base
    job = make_job(site, lr="0.2")
    site.wait_status(job["job_id"], job["version_id"])
    browser.delete_all_cookies()
    browser.get(f"{base}/console/sign-in")
    browser.find_element(By.TAG_NAME, "summary").click()
    browser.find_element(By.ID, "token").send_keys(site.token)
    browser.find_element(By.ID, "sign-in").click()
    wait(browser, lambda d: d.current_url.startswith(f"{base}/console/jobs"))

    # Save as configuration, then a new job from it with a changed parameter.
    browser.get(f"{base}/console/jobs/{job['job_id']}/versions/{job['version_id']}")
    browser.find_element(By.ID, "save-config-toggle").click()
    name_box = browser.find_element(By.ID, "config-name")
    name_box.clear()
    name_box.send_keys(f"cfg-{job['job_id']}")
    browser.find_element(By.ID, "save-config").click()
    wait(browser, lambda d: d.find_elements(By.ID, "saved"))
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-config="cfg-{job["job_id"]}"]')
    assert "lr=0.2" in row.text
    shot(browser, "configs")
    row.find_element(By.LINK_TEXT, "Create job").click()
    wait(browser, lambda d: d.find_elements(By.ID, "job-name"))
    browser.find_element(By.ID, "job-name").send_keys(f"from-cfg-{job['job_id']}")
    lr = browser.find_element(By.CSS_SELECTOR, 'input[data-label="lr"]')
    lr.clear()
    lr.send_keys("0.3")
    browser.find_element(By.ID, "create-job").click()
    wait(browser, lambda d: d.find_elements(By.ID, "versions"))
    assert f"from-cfg-{job['job_id']}" in browser.find_element(By.TAG_NAME, "h1").text
    assert "0.3" in browser.find_element(By.ID, "versions").text

    browser.get(f"{base}/console/algorithms")
    assert browser.find_elements(By.CSS_SELECTOR, "#algorithms tbody tr")
    shot(browser, "algorithms")

    # Open in TensorBoard: a visualization job on the version's output, viewed through
    # the server's proxy with the console's session (no token in the page).
    browser.get(f"{base}/console/jobs/{job['job_id']}/versions/{job['version_id']}")
    browser.find_element(By.ID, "open-tensorboard").click()
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#viz tr.focus"))
    focus = browser.find_element(By.CSS_SELECTOR, "#viz tr.focus")
    opened = wait(
        browser,
        lambda d: [a for a in focus.find_elements(By.CSS_SELECTOR, "a.open") if a.is_displayed()],
        120,
    )
    shot(browser, "visualization")
    href = opened[0].get_attribute("href")
    assert href.startswith(f"{base}/tensorboard/")
    browser.get(href)
    wait(browser, lambda d: "TensorBoard" in d.title, 60)
    only_loopback_loaded(browser, base)
    # The same address without the console's cookie is refused.
    browser.delete_all_cookies()
    browser.get(href)
    assert "TensorBoard" not in browser.title


def test_the_console_works_from_the_keyboard(site: Server, browser: WebDriver) -> None:
    from selenium.webdriver.common.keys import Keys

    job = make_job(site)
    site.wait_status(job["job_id"], job["version_id"])
    base = site.base
    browser.delete_all_cookies()
    browser.get(f"{base}/console/sign-in?next=/console/jobs")
    # The token field is behind a disclosure: open it with the keyboard too.
    summary = browser.find_element(By.TAG_NAME, "summary")
    summary.send_keys(Keys.ENTER)
    token = browser.find_element(By.ID, "token")
    token.send_keys(site.token, Keys.ENTER)
    wait(browser, lambda d: d.current_url.startswith(f"{base}/console/jobs"))
    # The first Tab reaches the skip link; following it lands in the content.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = browser.switch_to.active_element
    assert active.text == "Skip to content"
    active.send_keys(Keys.ENTER)
    # Search by typing and Enter: the state goes into the URL.
    search = browser.find_element(By.ID, "search")
    search.send_keys(job["job_name"], Keys.ENTER)
    wait(browser, lambda d: f"search={job['job_name']}" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")
    assert len(rows) == 1 and job["job_name"] in rows[0].text
    # Tab to the job's link and open it with Enter.
    link = rows[0].find_element(By.TAG_NAME, "a")
    for _ in range(40):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element == link:
            break
    assert browser.switch_to.active_element == link
    link.send_keys(Keys.ENTER)
    wait(browser, lambda d: d.current_url.endswith(f"/console/jobs/{job['job_id']}"))
