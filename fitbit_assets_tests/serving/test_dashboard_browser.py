"""The coordinator dashboard in a real headless Chromium (Debian's package, installed by `make browser`).

The API runs under uvicorn on 127.0.0.1 over the cohort of api_fixtures; the browser loads `/`, checks the
cohort page says for each participant what is wrong, since when and what to do, most urgent first, clicks into a
participant and asserts the heart-rate chart drew (pixels on the canvas, imputed points marked), the calendar
shows dates and marks invalid days, the sleep bars carry their dates and the contact dialog belongs to its page.
The same pages are then laid out on a 420 px phone screen: no sideways scrolling, dates and the cohort's status,
evidence and action on screen. Layout is asserted, not pixels; screenshots at 1,600 and 420 px are saved as test
artifacts (FITBIT_TEST_ARTIFACTS_DIR, default .state/test-artifacts/). Without Chromium the test skips locally
and fails when CI is set.
"""

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from fitbit_assets.serving.api import ApiConfig, create_app
from fitbit_assets_tests.support.browser import Chromium, find_chromium

ARTIFACTS = Path(os.environ.get("FITBIT_TEST_ARTIFACTS_DIR") or Path(__file__).resolve().parents[2] / ".state" / "test-artifacts")
DESKTOP, PHONE = (1600, 1000), (420, 900)
URGENCY = ["reconsent_needed", "not_syncing", "not_wearing", "charging_pattern", "partial_wear", "ok"]

CANVAS_INK = """(() => {
  const canvas = document.querySelector('[data-testid=hr-chart] canvas');
  if (!canvas || !canvas.width) return 0;
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ink++;
  return ink;
})()"""
# How far the page reaches past the viewport's right edge (0: no sideways scrolling).
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
# The elements matching a selector that are not fully inside the viewport's width, or have no size.
OFF_SCREEN = """((selector) => [...document.querySelectorAll(selector)].filter((e) => {
  const r = e.getBoundingClientRect();
  return !(r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= window.innerWidth + 0.5);
}).map((e) => e.outerHTML.slice(0, 120)))(%r)"""


@pytest.fixture(scope="module")
def chromium_path():
    path = find_chromium()
    if path is None:
        message = "chromium not found: install it with `make browser` (Debian package chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def server_url(cohort):
    app = create_app(ApiConfig(dsn=cohort.dsn, auth="off"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def open_cohort(browser: Chromium, server_url: str) -> list[dict]:
    browser.goto(f"{server_url}/")
    browser.wait_for("document.body.dataset.ready === 'true' && document.querySelectorAll('[data-testid=cohort-row]').length")
    return browser.evaluate(
        "[...document.querySelectorAll('[data-testid=cohort-row]')].map(r => ({participant: r.dataset.participant, "
        "status: r.dataset.status, words: r.querySelector('[data-testid=status]').textContent, "
        "since: r.querySelector('[data-testid=since]')?.textContent ?? null, "
        "evidence: r.querySelector('[data-testid=evidence]').textContent, "
        "action: r.querySelector('[data-testid=action]').textContent, text: r.textContent}))"
    )


def open_participant(browser: Chromium, server_url: str, participant_id: str) -> None:
    browser.goto(f"{server_url}/#/p/{participant_id}")
    browser.wait_for(f"location.hash === '#/p/{participant_id}' && document.body.dataset.ready === 'true'")
    browser.wait_for("document.querySelector('[data-testid=hr-chart]')?.dataset.rendered === 'true'")


@pytest.mark.integration
def test_dashboard_cohort_participant_chart_and_calendar(chromium_path, server_url):
    with Chromium(chromium_path, *DESKTOP) as browser:
        rows = open_cohort(browser, server_url)
        assert {r["participant"] for r in rows} == {"api-typical", "api-lowwear", "api-landing", "api-new"}
        assert [URGENCY.index(r["status"]) for r in rows] == sorted(URGENCY.index(r["status"]) for r in rows)
        by_id = {r["participant"]: r for r in rows}
        # Loaded in June 2025 and seen now: the synthetic devices have not synced since, the landing one never did.
        assert by_id["api-typical"]["words"] == "not syncing" and by_id["api-typical"]["since"] == "since 2025-06-12"
        assert "open the Fitbit app and sync" in by_id["api-typical"]["action"]
        assert "EDT" in by_id["api-typical"]["evidence"] and "EDT" in by_id["api-typical"]["text"]  # local, labelled
        assert by_id["api-new"]["words"] == "not syncing" and "nothing received since enrolment" in by_id["api-new"]["evidence"]
        assert by_id["api-landing"]["words"] == "not wearing" and by_id["api-landing"]["since"] == "since 2025-06-12"
        assert all(r["since"] and r["action"] for r in rows)
        assert browser.evaluate(OVERFLOW) <= 0
        browser.screenshot(ARTIFACTS / "dashboard-cohort-1600.png")

        browser.click("[data-testid=cohort-row][data-participant=api-landing]")
        browser.wait_for("location.hash === '#/p/api-landing'")
        browser.wait_for("document.querySelector('[data-testid=hr-chart]')?.dataset.rendered === 'true'")
        assert browser.wait_for(CANVAS_INK) > 1000, "the chart canvas is blank"
        chart = browser.evaluate("({...document.querySelector('[data-testid=hr-chart]').dataset})")
        assert chart["resolution"] == "1h" and int(chart["points"]) > 10
        assert int(chart["imputedPoints"]) == 1  # the hour holding the 3-minute imputed gap
        assert "BST" in browser.evaluate("document.querySelector('[data-testid=chart-meta]').textContent")  # London
        cells = browser.wait_for(
            "[...document.querySelectorAll('[data-testid=heatmap-cell]')].map(c => [c.dataset.date, "
            "c.querySelector('.date').textContent, c.querySelector('.pct').textContent, c.className])")
        assert cells == [["2025-06-11", "Jun 11", "58 %", "cell valid"]]  # the date written on it
        # Nightly sleep: the hand-built night, 470 minutes asleep of 495 in bed, its date under the bar.
        nights = browser.wait_for("[...document.querySelectorAll('[data-testid=sleep-night]')].map(n => ({...n.dataset}))")
        assert nights == [{"testid": "sleep-night", "date": "2025-06-11", "minutesAsleep": "470"}]
        assert browser.evaluate("document.querySelector('[data-testid=night-date]').textContent") == "06-11"
        assert "470" in browser.evaluate("document.querySelector('[data-testid=sleep-night]').textContent")
        assert browser.evaluate("document.querySelector('[data-testid=sleep-night] .asleep').getBoundingClientRect().height") > 20
        assert "BST" in browser.evaluate("document.querySelector('[data-testid=sleep-meta]').textContent")  # main sleep, local

        # One day: minute resolution, every imputed minute marked.
        browser.click("button[data-days='1']")
        browser.wait_for("document.querySelector('[data-testid=hr-chart]').dataset.resolution === '1m'")
        assert browser.evaluate("document.querySelector('[data-testid=hr-chart]').dataset.imputedPoints") == "3"

        # A multi-day participant: one dated calendar cell per computed day, invalid days marked in words.
        open_participant(browser, server_url, "api-lowwear")
        cells = browser.wait_for(
            "[...document.querySelectorAll('[data-testid=heatmap-cell]')].map(c => ({date: c.dataset.date, "
            "label: c.querySelector('.date').textContent, pct: c.querySelector('.pct').textContent, "
            "mark: c.querySelector('.mark')?.textContent ?? null, cls: c.className}))")
        assert [(c["date"], c["label"], c["pct"], c["mark"]) for c in cells] == [
            ("2025-06-09", "Jun 9", "40 %", "invalid"), ("2025-06-10", "10", "58 %", None), ("2025-06-11", "11", "42 %", None)]
        assert ["invalid" in c["cls"].split() for c in cells] == [True, False, False]
        styles = browser.evaluate("[...document.querySelectorAll('[data-testid=heatmap-cell]')].map(c => getComputedStyle(c).borderColor)")
        assert styles[0] != styles[1]  # an invalid day is outlined, a valid one is not
        assert browser.evaluate("[...document.querySelectorAll('[data-testid=night-date]')].map(d => d.textContent)") == [
            "06-09", "06-10", "06-11"]
        assert "nights with sleep" in browser.evaluate("document.querySelector('[data-testid=sleep-meta]').textContent")
        assert browser.wait_for(CANVAS_INK) > 1000

        # Contact participant: the dialog previews the template; this participant has no address on file, so
        # sending is refused with the reason (nothing is ever reported as sent).
        browser.click("[data-testid=contact-button]")
        preview = browser.wait_for("document.querySelector('[data-testid=contact-to]')?.textContent")
        assert preview.startswith("To: no address on file")
        assert "wear it" in browser.evaluate("document.querySelector('[data-testid=contact-message]').value")
        assert browser.wait_for("document.querySelector('dialog[open]')?.dataset.participant") == "api-lowwear"
        browser.click("[data-testid=contact-send]")
        status = browser.wait_for("document.querySelector('[data-testid=contact-status]').textContent.startsWith('409') "
                                  "&& document.querySelector('[data-testid=contact-status]').textContent")
        assert "has no contact address" in status
        browser.screenshot(ARTIFACTS / "dashboard-participant-1600.png")
        # The dialog belongs to its participant: another page closes it, and that page's own dialog names its own.
        browser.evaluate("location.hash = '#/p/api-landing'")
        browser.wait_for("document.body.dataset.ready === 'true' && location.hash === '#/p/api-landing'")
        assert browser.evaluate("document.querySelectorAll('dialog').length") == 0
        browser.click("[data-testid=contact-button]")
        assert browser.wait_for("document.querySelector('dialog[open]')?.dataset.participant") == "api-landing"
        assert browser.evaluate("document.querySelector('dialog[open] h2').textContent") == "Contact api-landing"
        browser.click("[data-testid=contact-close]")
        assert browser.wait_for("document.querySelectorAll('dialog').length === 0")
        assert browser.exceptions == [], browser.exceptions

        # A phone: the cohort is one card per participant with its status, since, evidence and action on screen.
        browser.set_viewport(*PHONE)
        rows = open_cohort(browser, server_url)
        assert browser.evaluate(OVERFLOW) <= 0, "the cohort page scrolls sideways at 420 px"
        for selector in ("[data-testid=status]", "[data-testid=since]", "[data-testid=evidence]", "[data-testid=action]"):
            assert browser.evaluate(OFF_SCREEN % selector) == [], selector
        assert browser.evaluate("getComputedStyle(document.querySelector('thead')).display") == "none"
        shot = browser.screenshot(ARTIFACTS / "dashboard-cohort-420.png")
        open_participant(browser, server_url, "api-lowwear")
        assert browser.evaluate(OVERFLOW) <= 0, "the participant page scrolls sideways at 420 px"
        for selector in ("[data-testid=cell-date]", "[data-testid=night-date]", "[data-testid=contact-button]"):
            assert browser.evaluate(OFF_SCREEN % selector) == [], selector
        assert browser.wait_for(CANVAS_INK) > 1000
        browser.screenshot(ARTIFACTS / "dashboard-participant-420.png")
        assert browser.exceptions == [], browser.exceptions
    assert shot.stat().st_size > 10_000
