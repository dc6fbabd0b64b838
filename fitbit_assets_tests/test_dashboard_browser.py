"""The coordinator dashboard in a real headless Chromium (Debian's package, installed by `make browser`).

The API runs under uvicorn on 127.0.0.1 over the cohort of api_fixtures; the browser loads `/`, checks the
cohort table is sorted by risk, clicks into a participant and asserts the heart-rate chart drew (pixels on the
canvas, imputed points marked) and the adherence heatmap rendered. A screenshot is saved as a test artifact
(FITBIT_TEST_ARTIFACTS_DIR, default .state/test-artifacts/). Without Chromium the test skips locally and fails
when CI is set.
"""

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from fitbit_assets.serving.api import ApiConfig, create_app
from fitbit_assets_tests.browser import Chromium, find_chromium

ARTIFACTS = Path(os.environ.get("FITBIT_TEST_ARTIFACTS_DIR") or Path(__file__).resolve().parent.parent / ".state" / "test-artifacts")

CANVAS_INK = """(() => {
  const canvas = document.querySelector('[data-testid=hr-chart] canvas');
  if (!canvas || !canvas.width) return 0;
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) ink++;
  return ink;
})()"""


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


@pytest.mark.integration
def test_dashboard_cohort_participant_chart_and_heatmap(chromium_path, server_url):
    with Chromium(chromium_path) as browser:
        browser.goto(f"{server_url}/")
        browser.wait_for("document.body.dataset.ready === 'true' && document.querySelectorAll('[data-testid=cohort-row]').length")
        rows = browser.evaluate(
            "[...document.querySelectorAll('[data-testid=cohort-row]')].map(r => [r.dataset.participant, r.dataset.flag])"
        )
        assert {p for p, _ in rows} == {"api-typical", "api-lowwear", "api-landing", "api-new"}
        assert rows[0] == ["api-new", "no_data"]  # most urgent first
        rank = {"no_data": 0, "not_syncing": 1, "non_adherent": 2, "at_risk": 3, "ok": 4}
        assert [rank[f] for _, f in rows] == sorted(rank[f] for _, f in rows)
        browser.screenshot(ARTIFACTS / "dashboard-cohort.png")

        browser.click("[data-testid=cohort-row][data-participant=api-landing]")
        browser.wait_for("location.hash === '#/p/api-landing'")
        browser.wait_for("document.querySelector('[data-testid=hr-chart]')?.dataset.rendered === 'true'")
        assert browser.wait_for(CANVAS_INK) > 1000, "the chart canvas is blank"
        chart = browser.evaluate("({...document.querySelector('[data-testid=hr-chart]').dataset})")
        assert chart["resolution"] == "1h" and int(chart["points"]) > 10
        assert int(chart["imputedPoints"]) == 1  # the hour holding the 3-minute imputed gap
        cells = browser.wait_for("document.querySelectorAll('[data-testid=heatmap-cell]').length")
        assert cells == 1
        colored = browser.evaluate("document.querySelector('[data-testid=heatmap-cell]').style.background")
        assert colored.startswith("rgb"), colored
        # Nightly sleep: the hand-built night, 470 minutes asleep of 495 in bed.
        nights = browser.wait_for("[...document.querySelectorAll('[data-testid=sleep-night]')].map(n => ({...n.dataset}))")
        assert nights == [{"testid": "sleep-night", "date": "2025-06-11", "minutesAsleep": "470"}]
        assert "470" in browser.evaluate("document.querySelector('[data-testid=sleep-night]').textContent")
        assert browser.evaluate("document.querySelector('[data-testid=sleep-night] .asleep').getBoundingClientRect().height") > 20

        # One day: minute resolution, every imputed minute marked.
        browser.click("button[data-days='1']")
        browser.wait_for("document.querySelector('[data-testid=hr-chart]').dataset.resolution === '1m'")
        assert browser.evaluate("document.querySelector('[data-testid=hr-chart]').dataset.imputedPoints") == "3"

        # A multi-day participant: one heatmap cell per computed day, invalid days outlined.
        browser.goto(f"{server_url}/#/p/api-lowwear")
        browser.wait_for("document.querySelector('[data-testid=hr-chart]')?.dataset.rendered === 'true'")
        assert browser.wait_for("document.querySelectorAll('[data-testid=heatmap-cell]').length") == 3
        assert browser.evaluate("document.querySelectorAll('[data-testid=heatmap-cell].invalid').length") >= 1
        assert browser.wait_for("document.querySelectorAll('[data-testid=sleep-night]').length") == 3
        assert "nights with sleep" in browser.evaluate("document.querySelector('[data-testid=sleep-meta]').textContent")
        assert browser.wait_for(CANVAS_INK) > 1000

        # Contact participant: the dialog previews the template; this participant has no address on file, so
        # sending is refused with the reason (nothing is ever reported as sent).
        browser.click("[data-testid=contact-button]")
        preview = browser.wait_for("document.querySelector('[data-testid=contact-to]')?.textContent")
        assert preview.startswith("To: no address on file")
        assert "wear it" in browser.evaluate("document.querySelector('[data-testid=contact-message]').value")
        browser.click("[data-testid=contact-send]")
        status = browser.wait_for("document.querySelector('[data-testid=contact-status]').textContent.startsWith('409') "
                                  "&& document.querySelector('[data-testid=contact-status]').textContent")
        assert "has no contact address" in status
        browser.evaluate("document.querySelector('[data-testid=contact-dialog]').close()")
        shot = browser.screenshot(ARTIFACTS / "dashboard-participant.png")
        assert browser.exceptions == [], browser.exceptions
    assert shot.stat().st_size > 10_000
