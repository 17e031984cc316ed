"""End to end: the real Streamlit server on 127.0.0.1, driven in headless Chromium through a who-can question."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboards" / "app.py"
DEMO = ROOT / "sample_policies" / "demo-cluster"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

# CI (.ci/run) installs chromium and sets RBAC_ANALYZER_REQUIRE_CHROMIUM=1, so there a missing browser fails
# instead of skipping; on a developer machine without chromium the test skips with this reason.
REQUIRED = os.environ.get("RBAC_ANALYZER_REQUIRE_CHROMIUM") == "1"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.path.exists(CHROMIUM) and not REQUIRED,
                       reason=f"{CHROMIUM} is missing (apt-get install chromium; .ci/run installs it in CI)"),
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    # through the CLI command, as a user starts it; no -f: it opens on the sample policies
    cmd = [sys.executable, "-m", "analyzer", "dashboard", "--headless", "--port", str(port)]
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text())
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_who_can_in_the_browser(server: str, tmp_path: Path) -> None:
    """Open on the demo cluster, ask who can get secrets in payments, see the same answer as the API."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from analyzer.api import Analysis

    expected = [s for s in Analysis.from_paths([str(DEMO)]).who_can("get", "secrets", namespace="payments")
                if not s.authorizer]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(20_000)
            page.goto(server)
            page.get_by_role("heading", name="Overview").wait_for()
            page.get_by_test_id("stSidebar").get_by_text("Who can", exact=True).click()
            page.get_by_role("heading", name="Who can", exact=True).wait_for()
            # pick the payments namespace in the namespace selectbox
            page.get_by_role("combobox", name="Namespace").click()
            page.get_by_role("option", name="payments", exact=True).click()
            heading = page.get_by_role("heading", name="Who can get secrets in namespace payments")
            heading.wait_for()
            page.get_by_text(f"{len(expected)} subject(s) through RBAC").wait_for()
            page.get_by_test_id("stDataFrame").first.wait_for()
            shot = tmp_path / "dashboard.png"
            page.wait_for_timeout(500)
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            target = os.environ.get("RBAC_DASHBOARD_SCREENSHOT")
            if target:  # docs/dashboard.png is regenerated with this
                Path(target).write_bytes(shot.read_bytes())
            assert page.get_by_text("Something went wrong").count() == 0
        finally:
            browser.close()
