"""The analyst dashboard in a real Chromium, against the live server and a real Celery worker.

An analyst signs in, creates a case, drops a clip and a file that is not media on it (the clip
uploads with visible progress, the other is refused with its reason), watches the job move
through its stages to done, reads the verdict next to the playing video, seeks it from the
score timeline (mouse and keyboard) and back, downloads the original and checks its sha256,
and exports the report. A clip that cannot be decoded fails with its reason and can be retried;
a file over the size limit is refused. A scored analysis (fixture written through the worker's
own service) shows probabilities, disagreements and heatmaps. Screenshots of every main screen
go to artifacts/screenshots/ (CI keeps them).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
if IN_CI:
    from playwright.sync_api import Page, expect, sync_playwright
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
else:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    Page, expect, sync_playwright = sync_api.Page, sync_api.expect, sync_api.sync_playwright
    PlaywrightTimeoutError = sync_api.TimeoutError

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
    "--autoplay-policy=no-user-gesture-required",
]
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}
# A CPU worker on a shared CI machine loads the detectors and scores every sampled face.
JOB_DONE_TIMEOUT_MS = int(os.environ.get("FORENSICS_E2E_JOB_TIMEOUT_S", "600")) * 1000
UI_TIMEOUT_MS = 15_000
# Slow enough that a 600 kB upload takes a few seconds, so its progress bar is seen moving.
THROTTLED_UPLOAD_BYTES_PER_S = 200 * 1024
VIDEO = "document.querySelector('[data-testid=video-player]')"
STAGE_ORDER = ["Queued", "Decoding frames", "Finding faces", "Scoring faces", "Aggregating", "Done"]


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM_PATH).exists():
        message = f"no Chromium at {CHROMIUM_PATH} (make browser installs Debian's)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # Screenshots from an earlier run would pass for this one's: start from an empty folder.
    for stale in SCREENSHOTS_DIR.glob("*.png"):
        stale.unlink()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def dashboard(chromium, live_server_url):
    context = chromium.new_context(
        viewport=DESKTOP, base_url=live_server_url.rstrip("/"), color_scheme="light", accept_downloads=True
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert not errors, f"the page raised errors: {errors}"


def screenshot(page: Page, name: str) -> None:
    # Face crops load after the page settles; a screenshot of grey squares shows nothing.
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS_DIR / f"{name}.png"), full_page=True)


# The outermost elements reaching past the viewport's right edge: what a sideways scroll comes from.
OVERFLOWING_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.body.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > width + 1);
  return wide.filter(e => !wide.includes(e.parentElement)).slice(0, 5).map(e =>
    `${e.parentElement.closest("[data-testid]")?.dataset.testid ?? "body"} > ` +
    `${e.tagName.toLowerCase()}${e.dataset.testid ? "[" + e.dataset.testid + "]" : ""}.${e.className} ` +
    `right=${Math.round(e.getBoundingClientRect().right)}`);
}"""


def assert_no_sideways_scroll(page: Page, width: int) -> None:
    """The page fits `width` once charts have followed the resize (uPlot resizes on a ResizeObserver tick)."""
    try:
        page.wait_for_function(f"() => document.documentElement.scrollWidth <= {width}", timeout=5_000)
    except PlaywrightTimeoutError:
        wide = page.evaluate(OVERFLOWING_JS)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        raise AssertionError(f"the page scrolls sideways: {scroll_width} px wide; {wide}") from None


def sign_in(page: Page, credentials, shot: str | None = None) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    if shot:
        screenshot(page, shot)
    page.get_by_test_id("signin-username").fill(credentials["username"])
    page.get_by_test_id("signin-password").fill(credentials["password"])
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible()


def create_case(page: Page, title: str) -> None:
    page.get_by_test_id("new-case-open").click()
    page.get_by_test_id("new-case-title").fill(title)
    page.get_by_test_id("new-case-tags").fill("e2e")
    page.get_by_test_id("new-case-submit").click()
    expect(page.get_by_test_id("case-title")).to_have_text(title)


def drop_files(page: Page, files: list[tuple[str, bytes, str]]) -> None:
    """Drop files on the case's drop zone as a browser does: one DataTransfer, dragenter/over/drop."""
    payload = [{"name": n, "type": t, "b64": base64.b64encode(data).decode()} for n, data, t in files]
    page.evaluate(
        """files => {
          const transfer = new DataTransfer();
          for (const f of files) {
            const bytes = Uint8Array.from(atob(f.b64), c => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name, { type: f.type }));
          }
          const zone = document.querySelector('[data-testid=upload-dropzone]');
          for (const type of ['dragenter', 'dragover', 'drop']) {
            zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
          }
        }""",
        payload,
    )


def record_values(page: Page, name: str, selector: str, read: str) -> None:
    """Collect every value ``read`` takes on elements matching ``selector`` into window[name]."""
    page.evaluate(
        """([name, selector, read]) => {
          const values = (window[name] = []);
          const readValue = new Function('el', 'return ' + read);
          const sample = () => document.querySelectorAll(selector).forEach(el => {
            const v = readValue(el);
            if (v !== null && values[values.length - 1] !== v) values.push(v);
          });
          new MutationObserver(sample).observe(document.body, {
            subtree: true, childList: true, attributes: true, characterData: true,
          });
          sample();
        }""",
        [name, selector, read],
    )


def video_time(page: Page) -> float:
    return page.get_by_test_id("video-player").evaluate("video => video.currentTime")


def readout_frame(page: Page) -> int:
    return int(page.get_by_test_id("timeline-readout").get_attribute("data-frame-index"))


def test_analyst_uploads_a_clip_watches_it_finish_and_reads_the_verdict_next_to_the_video(
    dashboard: Page, analyst_credentials, playable_clip_path, tmp_path
):
    page = dashboard
    sign_in(page, analyst_credentials, shot="01-sign-in")

    title = f"E2E clip {uuid.uuid4().hex[:8]}"
    create_case(page, title)

    # Drop the clip and a text file together; the upload is throttled so its progress is seen.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": THROTTLED_UPLOAD_BYTES_PER_S},
    )
    record_values(page, "uploadProgress", "[data-testid=upload-progress]", "Number(el.getAttribute('aria-valuenow'))")
    drop_files(
        page,
        [
            ("interview.webm", playable_clip_path.read_bytes(), "video/webm"),
            ("notes.mp4", b"minutes of the meeting, not a video\n", "video/mp4"),
        ],
    )
    expect(page.get_by_test_id("upload-item")).to_have_count(2)
    page.wait_for_function("() => window.uploadProgress.some(v => v > 0 && v < 100)")
    screenshot(page, "03-case-uploading")
    rejected = page.locator("[data-testid=upload-item][data-status=rejected]")
    expect(rejected.get_by_test_id("upload-error")).to_contain_text("notes.mp4 was rejected: Not a supported video")
    expect(page.locator("[data-testid=upload-item][data-status=done]")).to_have_count(1, timeout=60_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    progress = page.evaluate("window.uploadProgress")
    assert any(0 < v < 100 for v in progress), f"no intermediate upload progress was shown: {progress}"

    # The job card follows the worker live, stage by stage, without a reload.
    job = page.get_by_test_id("job-card")
    expect(job).to_have_count(1)
    record_values(page, "stages", "[data-testid=job-card] [aria-current=step]", "el.textContent")
    expect(job).to_have_attribute("data-state", re.compile(r"^(running|succeeded)$"), timeout=60_000)
    if job.get_attribute("data-state") == "running":
        screenshot(page, "04-case-job-running")
    expect(job).not_to_have_attribute("data-state", re.compile(r"^(queued|running)$"), timeout=JOB_DONE_TIMEOUT_MS)
    assert job.get_attribute("data-state") == "succeeded", job.get_by_test_id("job-error").all_inner_texts()
    stages = page.evaluate("window.stages")
    assert any(s in STAGE_ORDER[1:5] for s in stages), f"no working stage was shown: {stages}"
    assert [STAGE_ORDER.index(s) for s in stages] == sorted(STAGE_ORDER.index(s) for s in stages), stages
    expect(job.get_by_test_id("job-state")).to_have_text("Succeeded")
    screenshot(page, "05-case-job-done")

    # The verdict page: label, score or "not scored", models with versions, the evidence's hash.
    job.get_by_test_id("job-open").click()
    verdict = page.get_by_test_id("verdict")
    expect(page.get_by_test_id("verdict-label")).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text(title)
    if verdict.get_attribute("data-status") == "untrained":
        expect(page.get_by_test_id("untrained-warning")).to_contain_text("Not scored")
        expect(page.get_by_test_id("verdict-score")).to_contain_text("no probability of manipulation")
        expect(page.get_by_test_id("verdict-confidence")).to_have_count(0)
    elif verdict.get_attribute("data-status") == "abstained":
        # No shipped detector's card shows it better than chance on videos: none votes, each is named with why.
        expect(page.get_by_test_id("verdict-score")).to_contain_text("Not decided")
        expect(page.get_by_test_id("verdict-abstained")).to_contain_text("not above chance")
    else:
        expect(page.get_by_test_id("verdict-score")).to_have_text(re.compile(r"^P\(manipulated\) [01]\.\d\d$"))
    expect(page.get_by_test_id("model-row").first).to_contain_text(re.compile(r"\d+\.\d+"))
    sha = page.get_by_test_id("media-sha256").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", sha)
    assert sha == hashlib.sha256(playable_clip_path.read_bytes()).hexdigest()
    expect(page.get_by_test_id("face-gallery")).to_be_visible()
    expect(page.get_by_test_id("detector-comparison")).to_be_visible()
    expect(page.get_by_test_id("quality-warnings")).to_be_visible()

    # The custody log: upload and submission, by the analyst, with their hashes and the chain head (and,
    # as the page plays the original and shows crops, a read event per request: not counted here).
    custody = page.get_by_test_id("custody-panel")
    expect(custody.get_by_test_id("custody-head")).to_contain_text(re.compile(r"team:\d+ · seq \d+ · [0-9a-f]{64}"))
    expect(custody.get_by_test_id("custody-table")).to_contain_text(analyst_credentials["username"])
    for action in ("media.uploaded", "job.submitted"):
        custody.get_by_test_id("custody-action").select_option(action)
        expect(custody.get_by_test_id("custody-event")).to_have_count(1)
    custody.get_by_test_id("custody-action").select_option("")

    # The browser plays the original, so seeking moves a real video.
    player = page.get_by_test_id("video-player")
    page.wait_for_function(f"() => {VIDEO}.readyState >= 1")
    expect(page.get_by_test_id("video-unplayable")).to_have_count(0)
    timeline = page.get_by_test_id("score-timeline")
    expect(timeline).to_be_visible()
    screenshot(page, "06-verdict")

    # Chart → video: a click three quarters along the plot seeks the video there.
    before = video_time(page)
    chart = timeline.locator(".u-over")
    box = chart.bounding_box()
    assert box is not None
    chart.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    page.wait_for_function(f"() => {VIDEO}.currentTime > {before + 0.5}")
    expect(page.get_by_test_id("timeline-readout")).not_to_have_attribute("data-frame-index", "0")

    # Video → chart: moving the video moves the readout and marks that frame's face crop.
    player.evaluate("video => { video.currentTime = 0.4; }")
    expect(page.get_by_test_id("timeline-readout")).to_contain_text("at 0:00.4")
    frame = readout_frame(page)
    assert frame in (5, 6, 7), frame  # the sampled frame nearest 0.4 s at 15 fps
    expect(page.locator("[data-testid=face-crop][data-current]").first).to_be_visible()

    # Keyboard: the timeline takes focus and steps through sampled frames.
    timeline.focus()
    page.keyboard.press("End")
    page.wait_for_function(f"() => {VIDEO}.currentTime > 1.5")
    page.keyboard.press("Home")
    page.wait_for_function(f"() => {VIDEO}.currentTime === 0")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => {VIDEO}.currentTime > 0")
    for mode in ("detector", "track"):
        page.get_by_test_id(f"timeline-mode-{mode}").press("Enter")
        expect(page.get_by_test_id(f"timeline-mode-{mode}")).to_have_attribute("aria-pressed", "true")

    # Download the original: the bytes hash to the sha256 on screen.
    with page.expect_download() as download_info:
        page.get_by_test_id("download-original").click()
    downloaded = tmp_path / "original"
    download_info.value.save_as(downloaded)
    assert hashlib.sha256(downloaded.read_bytes()).hexdigest() == sha

    # Export the report: a standalone HTML page with the verdict and the hash.
    with page.context.expect_page() as report_info:
        page.get_by_test_id("export-report").click()
    report = report_info.value
    report.wait_for_load_state()
    expect(report.locator("body")).to_contain_text(sha)
    screenshot(report, "07-report")
    report.close()
    with page.expect_download() as report_download:
        page.get_by_test_id("download-report").click()
    assert report_download.value.suggested_filename.endswith("-report.html")
    # The signed PDF, then its signature: a recipient's check of the pair passes.
    with page.expect_download() as pdf_download:
        page.get_by_test_id("download-report-pdf").click()
    pdf_path = tmp_path / pdf_download.value.suggested_filename
    pdf_download.value.save_as(pdf_path)
    assert pdf_path.name.endswith(".pdf") and pdf_path.read_bytes().startswith(b"%PDF-")
    with page.expect_download() as signature_download:
        page.get_by_test_id("download-report-signature").click()
    signature_path = tmp_path / f"{pdf_path.name}.sig"
    signature_download.value.save_as(signature_path)
    from audit.report_signing import signing_key_id

    verified = subprocess.run(
        [sys.executable, "-m", "audit.verify_pdf", str(pdf_path), str(signature_path), "--key-id", signing_key_id()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # Themes: the choice survives a reload (the theme script runs under the CSP).
    page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.reload()
    expect(page.get_by_test_id("verdict-label")).to_be_visible()
    expect(page.get_by_test_id("score-timeline")).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text(title)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    # The downloads are custody events, shown once the page is read again.
    expect(page.get_by_test_id("custody-table")).to_contain_text("Media downloaded")
    expect(page.get_by_test_id("custody-table")).to_contain_text("Report downloaded")
    screenshot(page, "08-verdict-dark")
    page.set_viewport_size(NARROW)
    expect(page.get_by_test_id("verdict-label")).to_be_visible()
    assert_no_sideways_scroll(page, NARROW["width"])
    screenshot(page, "09-verdict-narrow")

    # Back to the list: the case shows its latest verdict and filters find it.
    page.set_viewport_size(DESKTOP)
    page.get_by_role("link", name="Cases", exact=True).first.click()
    row = page.get_by_test_id("case-row").filter(has_text=title)
    expect(row).to_be_visible()
    page.get_by_test_id("case-filter-state").select_option("succeeded")
    expect(row).to_be_visible()
    page.get_by_test_id("case-filter-state").select_option("failed")
    expect(page.get_by_test_id("case-list-empty")).to_be_visible()
    page.get_by_test_id("case-filter-state").select_option("")
    page.get_by_test_id("theme-toggle").click()
    screenshot(page, "02-case-list")


def test_a_clip_that_cannot_be_decoded_fails_with_its_reason_and_offers_no_pointless_retry(
    dashboard: Page, analyst_credentials, broken_clip_path, settings
):
    page = dashboard
    sign_in(page, analyst_credentials)
    create_case(page, f"E2E failure {uuid.uuid4().hex[:8]}")

    page.get_by_test_id("upload-input").set_input_files(str(broken_clip_path))
    job = page.get_by_test_id("job-card").first
    expect(job).to_have_attribute("data-state", "failed", timeout=JOB_DONE_TIMEOUT_MS)
    error = job.get_by_test_id("job-error")
    expect(error).to_contain_text("unreadable_media")
    assert len(error.inner_text().split(":", 1)[1].strip()) > 10, "the reason is missing"

    # Over the size limit: refused before it is stored, with the limit named.
    settings.MAX_UPLOAD_BYTES = 2048
    # (Other bytes than the failed clip's: the same content would be held as already analysed.)
    drop_files(page, [("long-interview.webm", broken_clip_path.read_bytes() + b"\0", "video/webm")])
    size_error = page.locator("[data-testid=upload-item][data-status=rejected]").get_by_test_id("upload-error")
    expect(size_error).to_contain_text("long-interview.webm was rejected: The file is over the upload limit of 2.0")
    screenshot(page, "10-case-job-failed-and-rejected")

    # The file itself cannot be read: the reason leads with its name, and analysing it again is not offered.
    expect(error).to_contain_text("cut-short.webm")
    expect(job.get_by_test_id("job-retry")).to_have_count(0)
    job_id = job.get_attribute("data-job-id")
    job.get_by_role("link", name="Details").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{job_id}$"))
    # The URL changes before the job page replaces the case page (whose card also shows its error).
    expect(page.get_by_role("heading", name="Analysis failed")).to_be_visible()
    expect(page.get_by_test_id("job-error")).to_contain_text("unreadable_media")
    expect(page.get_by_test_id("job-not-retryable")).to_be_visible()
    expect(page.get_by_test_id("job-retry")).to_have_count(0)
    screenshot(page, "11-job-failed")


def test_a_scored_analysis_shows_probabilities_disagreements_and_heatmaps(
    dashboard: Page, analyst_credentials, scored_job
):
    page = dashboard
    sign_in(page, analyst_credentials)
    page.goto(f"/jobs/{scored_job.pk}")

    expect(page.get_by_test_id("verdict-label")).to_have_text("Manipulated")
    expect(page.get_by_test_id("verdict-score")).to_have_text("P(manipulated) 0.71")
    expect(page.get_by_test_id("verdict-confidence")).to_have_text("Low confidence (0.42)")
    expect(page.get_by_test_id("untrained-warning")).to_have_count(0)
    models = page.get_by_test_id("model-row")
    expect(models).to_have_count(2)
    expect(models.first).to_contain_text("1.2.0")
    expect(models.first).to_contain_text("4f1c00000000")
    # How far each score can be trusted: the card's held-out AUC with its interval and both of its rates at the
    # threshold (real videos flagged, manipulated ones caught); no card, no line.
    expect(models.first.get_by_test_id("model-card")).to_have_text(
        "Tested: held-out video AUC 0.618 (95 % interval 0.355–0.855); at its threshold 0 of 11 real videos "
        "flagged (FPR 0.000) and 0 of 10 manipulated videos caught (TPR 0.000)"
    )
    expect(models.nth(1).get_by_test_id("model-card")).to_have_count(0)
    expect(page.get_by_test_id("quality-warning")).to_contain_text("faces are small")

    # Per-detector series; the disagreement table lists the second second, where they part.
    page.get_by_test_id("timeline-mode-detector").click()
    expect(page.get_by_test_id("timeline-readout")).to_contain_text("effnet_b4_msfa: 0.55")
    expect(page.get_by_test_id("timeline-readout")).to_contain_text("spectral_lr: 0.60")
    disagreements = page.get_by_test_id("disagreements").locator("tbody tr")
    expect(disagreements).to_have_count(8)  # gaps over 0.3: the fixture's last 8 sampled frames
    disagreements.first.get_by_role("button").click()
    page.wait_for_function(f"() => {VIDEO}.currentTime > 1")

    # A face crop: its scores per detector, and its heatmap overlay on demand.
    crops = page.get_by_test_id("face-crop")
    crops.nth(12).click()
    detail = page.get_by_test_id("face-detail")
    expect(detail).to_contain_text("effnet_b4_msfa")
    expect(detail).to_contain_text("0.85")
    # The enlarged crop has its heatmap beside it; the toggle lays each crop's heatmap over it in the gallery.
    expect(detail.get_by_test_id("face-detail-heatmap").locator("img")).to_be_visible()
    page.get_by_test_id("heatmap-toggle").click()
    expect(crops.nth(12).locator("img.heatmap")).to_be_visible()
    screenshot(page, "12-verdict-scored-heatmaps")


def test_a_job_with_more_frames_than_one_page_shows_every_frame_on_its_timeline(
    analyst, analyst_credentials, playable_clip_path, dashboard: Page
):
    # analyst (the database) first: it is then torn down after the page closes, not under its requests.
    from cases.api.pagination import FRAMES_PAGE_SIZE
    from tests.browser.conftest import record_scored_job

    frames = FRAMES_PAGE_SIZE * 2 + 30  # three pages of GET /jobs/{id}/frames/
    last_page = FRAMES_PAGE_SIZE * 2
    # The detectors part only on the last page's frames: the dashboard counts them only if it read every page.
    job = record_scored_job(
        analyst,
        playable_clip_path,
        frames=frames,
        frame_step=1,
        seconds_apart=1.9 / frames,
        scores=lambda i: (0.9, 0.2 if i >= last_page else 0.85),
        heatmaps_from=frames,
    )
    page = dashboard
    sign_in(page, analyst_credentials)
    page.goto(f"/jobs/{job.pk}")
    expect(page.get_by_test_id("score-timeline")).to_be_visible()
    page.get_by_role("button", name=f"Show all {frames - last_page}").click()
    rows = page.get_by_test_id("disagreements").locator("tbody tr")
    expect(rows).to_have_count(frames - last_page)
    # The timeline's last point is the job's last sampled frame, on the third page.
    page.get_by_test_id("score-timeline").focus()
    page.keyboard.press("End")
    expect(page.get_by_test_id("timeline-readout")).to_have_attribute("data-frame-index", str(frames - 1))
    expect(page.get_by_test_id("face-track")).to_contain_text(f"{frames} faces")
    screenshot(page, "13-timeline-of-three-pages")  # waits for the face crops too


def test_the_case_list_pages_searches_and_sorts_the_teams_cases(dashboard: Page, analyst, analyst_credentials):
    from tests.factories import CaseFactory

    team = analyst.memberships.get().team
    for i in range(27):
        CaseFactory(team=team, created_by=analyst, title=f"Harbour footage {i:02d}")
    CaseFactory(team=team, created_by=analyst, title="Zeppelin rally")
    CaseFactory(title="Another team's case")  # must never show

    page = dashboard
    sign_in(page, analyst_credentials)
    rows = page.get_by_test_id("case-row")
    expect(rows).to_have_count(25)
    page.get_by_test_id("case-page-next").click()
    expect(rows).to_have_count(3)
    expect(page.get_by_text("Page 2 · 28 cases")).to_be_visible()
    page.get_by_test_id("case-page-prev").click()
    expect(rows).to_have_count(25)

    page.get_by_test_id("case-ordering").select_option("title")
    expect(rows.first).to_contain_text("Harbour footage 00")
    page.get_by_test_id("case-search").fill("zeppelin")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Zeppelin rally")
    page.get_by_test_id("case-search").fill("another team")
    expect(page.get_by_test_id("case-list-empty")).to_have_text("No case matches these filters.")
