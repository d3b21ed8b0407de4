"""What an analyst reads and does on the dashboard's pages (issue 27), in a real Chromium against the live server.

The jobs are recorded through the worker's own service (``record_scored_job``), so no worker process is needed:
the verdict's words against the model card, review from the page, custody reads, progress, wrong moves.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import fixture_scores, record_scored_job
from tests.browser.test_dashboard import (
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    DESKTOP,
    IN_CI,
    UI_TIMEOUT_MS,
    Page,
    expect,
    screenshot,
    sign_in,
    sync_playwright,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAVEAT = (
    "effnet_b4_msfa caught 0 of 10 test fakes at the threshold: absence of a finding is not evidence of authenticity."
)


@pytest.fixture(scope="module")
def browser():
    from pathlib import Path

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
def page(browser, live_server):
    context = browser.new_context(
        viewport=DESKTOP, base_url=live_server.url.rstrip("/"), color_scheme="light", accept_downloads=True
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield page
    # Requests still in flight (crops, the video) would meet the test database being flushed under them.
    page.wait_for_load_state("networkidle")
    context.close()
    assert not errors, f"the page raised errors: {errors}"


def recorded_job(analyst, clip, **verdict):
    return record_scored_job(
        analyst,
        clip,
        frames=16,
        frame_step=2,
        seconds_apart=2 / 15,
        scores=fixture_scores,
        heatmaps_from=8,
        verdict=verdict,
    )


AUTHENTIC_UNSUPPORTED = {
    "label": "authentic",
    "score": 0.46,
    "confidence": 0.12,
    "thresholds": {"threshold": 0.676, "manipulated": 0.833, "authentic": 0.519, "strategy": "confident"},
    "authentic_supported": False,
    "caveat": CAVEAT,
}


def test_a_verdict_of_a_detector_that_caught_no_test_fakes_reads_no_manipulation_found_in_one_unit(
    analyst, analyst_credentials, playable_clip_path, page: Page
):
    job = recorded_job(analyst, playable_clip_path, **AUTHENTIC_UNSUPPORTED)
    sign_in(page, analyst_credentials)
    page.goto(f"/jobs/{job.pk}")

    expect(page.get_by_test_id("verdict-label")).to_have_text("No manipulation found")
    expect(page.get_by_test_id("verdict-caveat")).to_have_text(CAVEAT)
    expect(page.get_by_test_id("verdict-score")).to_have_text("P(manipulated) 0.46")
    expect(page.get_by_test_id("verdict-band")).to_contain_text(
        "Manipulated at P(manipulated) ≥ 0.83, no manipulation found at ≤ 0.52, inconclusive between."
    )
    # Never a bare percentage beside the label, and never "Authentic" on this detector's word.
    verdict_text = page.get_by_test_id("verdict").inner_text()
    assert "%" not in verdict_text and "Authentic" not in verdict_text, verdict_text
    expect(page.get_by_test_id("model-card").first).to_contain_text("and 0 of 10 manipulated videos caught (TPR 0.000)")
    screenshot(page, "27-1-no-manipulation-found")

    # The case page's badge and the job card say the same, in the same unit.
    page.goto(f"/cases/{job.media.case_id}")
    expect(page.get_by_test_id("job-verdict")).to_have_text("No manipulation found · P(manipulated) 0.46")
    expect(page.get_by_test_id("case-verdict")).to_have_text("No manipulation found · P(manipulated) 0.46")
    page.goto("/")
    expect(page.get_by_test_id("case-row").filter(has_text="Scored interview")).to_contain_text(
        re.compile(r"No manipulation found · P\(manipulated\) 0\.46")
    )


def test_an_image_job_reads_as_an_image_and_names_the_detector_that_did_not_vote_on_images(
    analyst, analyst_credentials, portrait_png_path, page: Page
):
    from tests.browser.conftest import record_image_job

    job = record_image_job(analyst, portrait_png_path)
    sign_in(page, analyst_credentials)
    page.goto(f"/jobs/{job.pk}")

    expect(page.get_by_test_id("image-viewer")).to_be_visible()
    expect(page.get_by_test_id("video-player")).to_have_count(0)
    expect(page.get_by_test_id("verdict-label")).to_have_text("No manipulation found")
    expect(page.get_by_test_id("verdict-abstained")).to_contain_text("effnet_b4_msfa did not vote")
    expect(page.get_by_test_id("comparison-media-score")).to_have_text("Image P(manipulated)")
    body = page.locator("main").inner_text()
    for video_words in ("Video score", "VIDEO SCORE", "0:00.00", "Frames combined", "(1 faces)", "Track 0"):
        assert video_words not in body, f"an image page says {video_words!r}"
    expect(page.get_by_test_id("face-track")).to_contain_text("Face 1")
    screenshot(page, "27-7-image-job")


def test_a_reviewer_overrides_the_verdict_from_the_job_page_and_every_list_shows_it(
    analyst, playable_clip_path, page: Page
):
    from accounts.models import Role
    from tests.conftest import PASSWORD
    from tests.factories import UserFactory

    team = analyst.memberships.get().team
    reviewer = UserFactory(username=f"rita-{analyst.username[-8:]}", team=team, team__role=Role.REVIEWER)
    job = recorded_job(analyst, playable_clip_path)
    updated_before = job.media.case.updated_at
    sign_in(page, {"username": reviewer.username, "password": PASSWORD})
    page.goto(f"/jobs/{job.pk}")

    form = page.get_by_test_id("review-form")
    expect(form).to_contain_text("Agree with the machine verdict (Manipulated)")
    form.get_by_test_id("review-override").check()
    form.get_by_test_id("review-label").select_option("authentic")
    form.get_by_test_id("review-submit").click()
    expect(form.get_by_test_id("review-problem")).to_have_text("An override needs a reason.")
    form.get_by_test_id("review-reason-input").fill("The original camera file was obtained from the source.")
    form.get_by_test_id("review-submit").dblclick()
    expect(page.get_by_test_id("review-conclusion-text")).to_have_text("Authentic (overrides the machine verdict)")
    expect(page.get_by_test_id("review-machine")).to_have_text("Manipulated")
    screenshot(page, "27-2-review-from-the-page")
    assert job.reviews.count() == 1, "a double click recorded the review twice"

    page.goto(f"/cases/{job.media.case_id}")
    expect(page.get_by_test_id("job-review")).to_have_text("Reviewed: Authentic")
    expect(page.get_by_test_id("case-review")).to_have_text("Reviewed: Authentic")
    job.media.case.refresh_from_db()
    assert job.media.case.updated_at > updated_before
    page.goto("/")
    expect(page.get_by_test_id("case-row").filter(has_text="Scored interview")).to_contain_text("Reviewed: Authentic")


def test_an_analyst_sees_who_may_review_instead_of_a_form(analyst, analyst_credentials, playable_clip_path, page: Page):
    job = recorded_job(analyst, playable_clip_path)
    sign_in(page, analyst_credentials)
    page.goto(f"/jobs/{job.pk}")
    expect(page.get_by_test_id("review-not-allowed")).to_be_visible()
    expect(page.get_by_test_id("review-form")).to_have_count(0)


def test_progress_moves_nothing_is_claimed_before_it_is_measured_and_the_upload_line_follows_the_job_to_its_end(
    analyst, analyst_credentials, playable_clip_path, page: Page
):
    from cases import lease, results
    from cases.models import AnalysisJob, JobStage
    from tests.browser.test_dashboard import drop_files
    from tests.factories import CaseFactory, fake_result

    case = CaseFactory(team=analyst.memberships.get().team, created_by=analyst, title="Harbour clips")
    sign_in(page, analyst_credentials)
    page.goto(f"/cases/{case.pk}")
    expect(page.get_by_test_id("upload-dropzone")).to_be_visible()
    drop_files(page, [("harbour.webm", playable_clip_path.read_bytes(), "video/webm")])
    line = page.get_by_test_id("upload-job-status")
    expect(line).to_have_text("Uploaded, analysis queued")

    job = AnalysisJob.objects.get(media__case=case)
    assert lease.claim_job(job.pk, "w") is not None
    lease.report_progress(job.pk, "w", JobStage.FACES, 40)
    expect(line).to_have_text("Finding faces · 40%")
    expect(page.get_by_test_id("job-card").first).to_have_attribute("data-state", "running")

    # The job page of a running job: the stage's progress, and no claim about what is not measured yet.
    page.goto(f"/jobs/{job.pk}")
    expect(page.get_by_test_id("job-stage")).to_have_text("Finding faces · 40%")
    expect(page.get_by_test_id("media-facts")).to_have_text(re.compile(r"^not probed yet"))
    expect(page.get_by_test_id("analysed-facts")).to_contain_text("32 frames requested")
    expect(page.get_by_test_id("quality-pending")).to_have_text("Input quality is assessed when the analysis ends.")
    body = page.locator("main").inner_text()
    for claim in ("could not read it", "frames sampled", "No input-quality concerns"):
        assert claim not in body, f"a running job's page claims {claim!r}"
    screenshot(page, "27-4-running-job")

    # Back on the case: the upload's line ends with the job's end state.
    page.goto(f"/cases/{case.pk}")
    expect(page.get_by_test_id("upload-dropzone")).to_be_visible()
    drop_files(page, [("harbour-2.webm", playable_clip_path.read_bytes()[:-1] + b"\0", "video/webm")])
    second = page.get_by_test_id("upload-job-status")
    expect(second).to_have_text("Uploaded, analysis queued")
    other = AnalysisJob.objects.filter(media__case=case).exclude(pk=job.pk).get()
    assert lease.claim_job(other.pk, "w") is not None
    assert results.record_results(other.pk, "w", fake_result())
    expect(second).to_have_text("Done: Manipulated")
    # Running analyses come first in the case's list.
    expect(page.get_by_test_id("job-card").first).to_have_attribute("data-job-id", str(job.pk))


def test_opening_a_job_and_scrolling_through_every_crop_and_heatmap_adds_at_most_two_custody_events(
    analyst, analyst_credentials, playable_clip_path, page: Page
):
    from audit.models import AuditEvent
    from cases import services

    job = recorded_job(analyst, playable_clip_path)
    services.original_downloaded(job.media, analyst)  # a substantive event, which the panel lists
    sign_in(page, analyst_credentials)
    before = AuditEvent.objects.count()
    page.goto(f"/jobs/{job.pk}")
    expect(page.get_by_test_id("face-crop")).to_have_count(16)
    page.get_by_test_id("heatmap-toggle").click()
    for crop in page.get_by_test_id("face-crop").all():
        crop.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
    page.get_by_test_id("video-player").evaluate("video => video.play().catch(() => null)")
    page.reload()
    expect(page.get_by_test_id("face-crop")).to_have_count(16)
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
    added = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)[before:])
    assert len(added) <= 2 and set(added) <= {"media.viewed", "artifact.viewed"}, added

    # The panel shows what was done to the evidence by default, and says how many reads it leaves out.
    panel = page.get_by_test_id("custody-panel")
    expect(panel.get_by_test_id("custody-event")).to_have_count(1)
    expect(panel.get_by_test_id("custody-table")).to_contain_text("Media downloaded")
    expect(panel.get_by_test_id("custody-table")).not_to_contain_text("viewed")
    expect(panel.get_by_test_id("custody-reads-hidden")).to_contain_text("of evidence")
    panel.get_by_test_id("custody-action").select_option("reads")
    expect(panel.get_by_test_id("custody-table")).to_contain_text("Artifact viewed")


def test_wrong_moves_are_caught_a_double_click_an_over_long_title_the_same_file_twice_an_unreadable_file(
    analyst, analyst_credentials, playable_clip_path, page: Page
):
    from cases import lease
    from cases.models import AnalysisJob, Case
    from tests.browser.test_dashboard import drop_files

    sign_in(page, analyst_credentials)
    # An over-long title is counted, not cut: the analyst sees by how much, and cannot submit it.
    page.get_by_test_id("new-case-open").click()
    page.get_by_test_id("new-case-title").fill("Harbour " * 91)  # 728 characters
    expect(page.get_by_test_id("new-case-title-count")).to_have_text("727 / 200: 527 characters too long")
    expect(page.get_by_test_id("new-case-submit")).to_be_disabled()
    assert page.get_by_test_id("new-case-title").input_value() == "Harbour " * 91
    # A double click on "Create case" opens one case.
    page.get_by_test_id("new-case-title").fill("Harbour footage")
    expect(page.get_by_test_id("new-case-title-count")).to_have_text("15 / 200")
    page.get_by_test_id("new-case-submit").dblclick()
    expect(page.get_by_test_id("case-title")).to_have_text("Harbour footage")
    assert Case.objects.filter(title="Harbour footage").count() == 1

    # The same file twice: the second is held with a link to the first analysis, and can still be run on purpose.
    expect(page.get_by_test_id("upload-dropzone")).to_be_visible()
    clip = ("harbour.webm", playable_clip_path.read_bytes(), "video/webm")
    drop_files(page, [clip])
    expect(page.get_by_test_id("upload-job-status")).to_have_text("Uploaded, analysis queued")
    first = AnalysisJob.objects.get(media__case__title="Harbour footage")
    drop_files(page, [("harbour-copy.webm", clip[1], clip[2])])
    duplicate = page.get_by_test_id("upload-duplicate")
    expect(duplicate).to_contain_text(f"harbour-copy.webm was already analysed as job #{first.pk}")
    expect(duplicate.get_by_test_id("upload-duplicate-link")).to_have_attribute("href", f"/jobs/{first.pk}")
    assert AnalysisJob.objects.filter(media__case__title="Harbour footage").count() == 1
    duplicate.get_by_test_id("upload-rerun").click()
    expect(page.get_by_test_id("upload-job-status")).to_have_count(2)
    assert AnalysisJob.objects.filter(media__case__title="Harbour footage").count() == 2

    # An unreadable file's failure leads with its name and offers no pointless retry.
    lease.claim_job(first.pk, "w")
    lease.fail_job(first.pk, "unreadable_media", "harbour.webm: no frame could be decoded", "w")
    card = page.locator(f"[data-testid=job-card][data-job-id='{first.pk}']")
    expect(card.get_by_test_id("job-error")).to_contain_text("harbour.webm: no frame could be decoded")
    expect(card.get_by_test_id("job-error")).to_contain_text("upload a readable copy")
    expect(card.get_by_test_id("job-retry")).to_have_count(0)
    screenshot(page, "27-8-wrong-moves")


def test_swagger_ui_renders_the_api_under_the_content_security_policy(analyst_credentials, page: Page):
    sign_in(page, analyst_credentials)
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Video forensics API")
    expect(page.locator(".swagger-ui .opblock-tag").first).to_be_visible()
    screenshot(page, "27-10-swagger-ui")


def test_detectors_are_picked_from_a_checklist_that_says_what_each_looks_for_and_its_card_auc(
    analyst, analyst_credentials, playable_clip_path, page: Page
):
    from cases import detectors
    from cases.models import AnalysisJob
    from tests.browser.test_dashboard import drop_files
    from tests.factories import CaseFactory

    detectors.record_catalogue(
        [
            {
                "name": "efficientnet_b0",
                "kind": "face_swap",
                "kind_name": "face swap / re-enactment",
                "default_for": ["video", "image"],
                "card": {"video_auc": 0.731, "video_auc_ci95": [0.561, 0.872]},
            },
            {
                "name": "custom_cnn",
                "kind": "face_swap",
                "kind_name": "face swap / re-enactment",
                "default_for": [],
                "card": {"video_auc": 0.536, "video_auc_ci95": [0.291, 0.782]},
            },
        ]
    )
    case = CaseFactory(team=analyst.memberships.get().team, created_by=analyst, title="Checklist")
    sign_in(page, analyst_credentials)
    page.goto(f"/cases/{case.pk}")
    page.get_by_text("Analysis settings").click()
    choices = page.get_by_test_id("detector-choice")
    b0 = choices.filter(has_text="efficientnet_b0")
    expect(b0).to_contain_text("default for videos and images")
    expect(b0).to_contain_text("face swap / re-enactment · video AUC 0.731 (95 % interval 0.561–0.872)")
    expect(choices.filter(has_text="custom_cnn")).to_contain_text("video AUC 0.536 (95 % interval 0.291–0.782)")
    expect(choices.filter(has_text="genface_spectral")).to_contain_text("card not yet recorded")
    screenshot(page, "27-9-detector-checklist")

    choices.filter(has_text="custom_cnn").locator("input").check()
    b0.locator("input").check()
    drop_files(page, [("checked.webm", playable_clip_path.read_bytes(), "video/webm")])
    expect(page.get_by_test_id("upload-job-status")).to_have_text("Uploaded, analysis queued")
    job = AnalysisJob.objects.get(media__case=case)
    assert job.settings["detectors"] == ["custom_cnn", "efficientnet_b0"]


def test_the_page_says_in_how_many_sampled_frames_a_face_was_found_and_marks_the_others_on_the_timeline(
    analyst, analyst_credentials, playable_clip_path, page: Page
):
    warning = (
        "faces in 9 of 16 sampled frames: a person in view where none was found is not scored there "
        "(the timeline marks those frames)"
    )
    job = record_scored_job(
        analyst,
        playable_clip_path,
        frames=16,
        frame_step=2,
        seconds_apart=2 / 15,
        scores=fixture_scores,
        heatmaps_from=8,
        faceless=frozenset(range(2, 9)),
        warnings=(warning,),
    )
    sign_in(page, analyst_credentials)
    page.goto(f"/jobs/{job.pk}")
    expect(page.get_by_test_id("verdict-coverage")).to_have_text("Faces in 9 of 16 sampled frames")
    expect(page.get_by_test_id("quality-warning")).to_contain_text("faces in 9 of 16 sampled frames")
    expect(page.get_by_test_id("timeline-no-face")).to_contain_text("7 of 16 sampled frames without a face")
    page.get_by_test_id("score-timeline").focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("timeline-readout")).to_contain_text("no face found on this frame")
    screenshot(page, "27-5-faces-missing")


def test_the_enlarged_crop_shows_its_heatmap_with_a_legend(
    analyst, analyst_credentials, playable_clip_path, page: Page
):
    job = recorded_job(analyst, playable_clip_path)
    sign_in(page, analyst_credentials)
    page.goto(f"/jobs/{job.pk}")
    page.get_by_test_id("face-crop").nth(12).click()  # one of the faces with a heatmap
    detail = page.get_by_test_id("face-detail")
    expect(detail.get_by_test_id("face-detail-heatmap").locator("img")).to_be_visible()
    expect(detail.get_by_test_id("heatmap-legend")).to_contain_text("effnet_b4_msfa's evidence for manipulation")
    expect(page.get_by_test_id("heatmaps-uninformative")).to_have_count(0)
    screenshot(page, "27-6-heatmap-legend")


def test_heatmaps_that_are_all_the_same_centred_blob_are_called_uninformative_not_shown_as_evidence(
    analyst, analyst_credentials, playable_clip_path, page: Page
):
    reason = (
        "all 8 heatmaps are the same blob near the centre of the face (each correlates at least 0.97 with their mean)"
    )
    job = record_scored_job(
        analyst,
        playable_clip_path,
        frames=16,
        frame_step=2,
        seconds_apart=2 / 15,
        scores=fixture_scores,
        heatmaps_from=8,
        heatmaps_uninformative=reason,
    )
    sign_in(page, analyst_credentials)
    page.goto(f"/jobs/{job.pk}")
    expect(page.get_by_test_id("heatmaps-uninformative")).to_contain_text(f"Heatmaps uninformative: {reason}")
    page.get_by_test_id("face-crop").nth(12).click()
    expect(page.get_by_test_id("face-detail-heatmap")).to_have_count(0)
    expect(page.get_by_test_id("heatmap-toggle")).to_have_text("Show heatmaps anyway")
    page.get_by_test_id("heatmap-toggle").click()
    expect(page.get_by_test_id("face-detail-heatmap")).to_be_visible()
