"""The analyst dashboard in a real Chromium, against the live server and a real worker.

An analyst signs in, opens a case, uploads a clip, watches the job finish, reads the verdict
and seeks the video from the score timeline; a file that is not media is refused with its
reason. Screenshots of each main screen go to artifacts/screenshots/ (CI keeps them).

Fixtures from the suite's conftest: ``live_server_url`` (web app with the built bundle and a
worker behind it), ``analyst_credentials`` (username and password of an analyst in a team),
``sample_clip_path`` (a generated clip with a face).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
if IN_CI:
    from playwright.sync_api import Page, expect, sync_playwright
else:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    Page, expect, sync_playwright = sync_api.Page, sync_api.expect, sync_api.sync_playwright

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}
# A CPU worker on a shared CI machine loads the detectors and scores every sampled face.
JOB_DONE_TIMEOUT_MS = int(os.environ.get("FORENSICS_E2E_JOB_TIMEOUT_S", "600")) * 1000
UI_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM_PATH).exists():
        message = f"no Chromium at {CHROMIUM_PATH} (make browser installs Debian's)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def dashboard(chromium, live_server_url):
    context = chromium.new_context(viewport=DESKTOP, base_url=live_server_url.rstrip("/"))
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    # Face crops load after the page settles; a screenshot of grey squares shows nothing.
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS_DIR / f"{name}.png"), full_page=True)


def username_and_password(credentials) -> tuple[str, str]:
    # Accept either a mapping or a (username, password) pair from the conftest.
    if isinstance(credentials, dict):
        return credentials["username"], credentials["password"]
    username, password = credentials
    return username, password


def sign_in(page: Page, credentials, shot: str | None = None) -> None:
    username, password = username_and_password(credentials)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    if shot:
        screenshot(page, shot)
    page.get_by_test_id("signin-username").fill(username)
    page.get_by_test_id("signin-password").fill(password)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()


def create_case(page: Page, title: str) -> None:
    page.get_by_test_id("new-case-open").click()
    page.get_by_test_id("new-case-title").fill(title)
    page.get_by_test_id("new-case-tags").fill("e2e")
    page.get_by_test_id("new-case-submit").click()
    expect(page.get_by_test_id("case-title")).to_have_text(title)


def video_time(page: Page) -> float:
    return page.get_by_test_id("video-player").evaluate("video => video.currentTime")


def test_analyst_uploads_a_clip_and_reads_its_verdict_next_to_the_video(
    dashboard: Page, analyst_credentials, sample_clip_path
):
    page = dashboard
    sign_in(page, analyst_credentials, shot="01-sign-in")
    screenshot(page, "02-case-list")

    create_case(page, f"E2E clip {uuid.uuid4().hex[:8]}")
    page.get_by_test_id("upload-input").set_input_files(str(sample_clip_path))
    expect(page.get_by_test_id("upload-item").first).to_be_visible()
    job = page.get_by_test_id("job-card").first
    expect(job).to_be_visible()
    screenshot(page, "03-case-job-in-progress")

    expect(job).not_to_have_attribute("data-state", re.compile(r"^(queued|running)$"), timeout=JOB_DONE_TIMEOUT_MS)
    state = job.get_attribute("data-state")
    reason = job.get_by_test_id("job-error").all_inner_texts()
    assert state == "succeeded", f"job ended {state}: {reason}"
    expect(job.get_by_test_id("job-state")).to_have_text("Succeeded")
    screenshot(page, "04-case-job-succeeded")

    job.get_by_test_id("job-open").click()
    expect(page.get_by_test_id("verdict-label")).to_be_visible()
    expect(page.get_by_test_id("media-sha256")).to_have_text(re.compile(r"^\s*[0-9a-f]{64}\s*$"))
    timeline = page.get_by_test_id("score-timeline")
    expect(timeline).to_be_visible()
    expect(page.get_by_test_id("face-gallery")).to_be_visible()
    expect(page.get_by_test_id("detector-comparison")).to_be_visible()
    screenshot(page, "05-verdict")

    before = video_time(page)
    box = timeline.bounding_box()
    assert box is not None
    # Three quarters of the way along the plot: a sampled frame well after the start.
    timeline.click(position={"x": box["width"] * 0.75, "y": 80})
    page.wait_for_function(
        "before => document.querySelector('[data-testid=video-player]').currentTime !== before", arg=before
    )
    assert video_time(page) > before

    page.get_by_test_id("theme-toggle").click()
    screenshot(page, "06-verdict-other-theme")
    page.set_viewport_size(NARROW)
    expect(page.get_by_test_id("verdict-label")).to_be_visible()
    screenshot(page, "07-verdict-narrow")


def test_a_file_that_is_not_media_is_refused_with_its_reason(dashboard: Page, analyst_credentials, tmp_path):
    page = dashboard
    sign_in(page, analyst_credentials)
    create_case(page, f"E2E rejection {uuid.uuid4().hex[:8]}")

    fake = tmp_path / "x.mp4"
    fake.write_text("this is plain text, not a video\n")
    page.get_by_test_id("upload-input").set_input_files(str(fake))

    error = page.get_by_test_id("upload-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("x.mp4 was rejected")
    assert len(error.inner_text().split("rejected:", 1)[1].strip()) > 10, "the reason is missing"
    expect(page.get_by_test_id("job-card")).to_have_count(0)
    screenshot(page, "08-upload-rejected")
