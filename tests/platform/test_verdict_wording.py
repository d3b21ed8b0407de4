"""A verdict says what was found, in one unit: an authentic verdict from detectors that catch few test fakes
reads "No manipulation found" with how many they caught, everywhere the label is shown (job, status, case,
report); scores read "P(manipulated) 0.46"; a detector that did not vote is named with why (issue 27, 1 and 7)."""

from __future__ import annotations

from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import lease, results
from detector import contract
from tests.factories import fake_result

pytestmark = pytest.mark.django_db

CAVEAT = (
    "efficientnet_b0 caught 3 of 10 test fakes at the threshold: absence of a finding is not evidence of authenticity."
)


def authentic_result(supported: bool) -> contract.AnalysisResult:
    result = fake_result(score=0.46)
    result.verdict.label = contract.VerdictLabel.AUTHENTIC
    result.verdict.thresholds = {"manipulated": 0.83, "authentic": 0.52}
    result.verdict.authentic_supported = supported
    result.verdict.caveat = "" if supported else CAVEAT
    return result


def record(alice_client, case, clip: bytes, result: contract.AnalysisResult) -> int:
    upload = SimpleUploadedFile("clip.mp4", clip, content_type="video/mp4")
    job_id = alice_client.post("/api/v1/jobs/", {"file": upload, "case": case.pk}, format="multipart").json()["id"]
    lease.claim_job(job_id, "w")
    assert results.record_results(job_id, "w", result)
    return job_id


def test_an_authentic_verdict_of_detectors_that_catch_few_fakes_reads_no_manipulation_found_everywhere(
    alice_client, case, sample_clip_path
):
    job_id = record(alice_client, case, sample_clip_path.read_bytes(), authentic_result(supported=False))

    verdict = alice_client.get(f"/api/v1/jobs/{job_id}/").json()["verdict"]
    assert (verdict["label"], verdict["label_text"]) == ("authentic", "No manipulation found")
    assert verdict["authentic_supported"] is False and verdict["caveat"] == CAVEAT
    status = alice_client.get(f"/api/v1/jobs/{job_id}/status/").json()["verdict"]
    assert status["label_text"] == "No manipulation found"
    latest = alice_client.get(f"/api/v1/cases/{case.pk}/").json()["latest_verdict"]
    assert latest["label_text"] == "No manipulation found"

    report = unescape(alice_client.get(f"/api/v1/jobs/{job_id}/report/").content.decode())
    assert "NO MANIPULATION FOUND" in report and "AUTHENTIC" not in report
    assert CAVEAT in report
    assert "P(manipulated) 0.46" in report and "P(manipulated) ≤ 0.52" in report
    assert "46%" not in report


def test_an_authentic_verdict_of_detectors_that_catch_most_fakes_reads_authentic(alice_client, case, sample_clip_path):
    job_id = record(alice_client, case, sample_clip_path.read_bytes(), authentic_result(supported=True))
    verdict = alice_client.get(f"/api/v1/jobs/{job_id}/").json()["verdict"]
    assert verdict["label_text"] == "Authentic" and verdict["caveat"] == ""


def test_the_report_gives_both_rates_of_the_card_and_names_a_detector_that_did_not_vote(
    alice_client, case, sample_clip_path
):
    result = fake_result(score=0.46)
    result.verdict.label, result.verdict.score, result.verdict.confidence = "inconclusive", None, None
    why = "its model card's held-out video AUC 0.618 (95 % interval 0.355–0.855) is not above chance (0.5) on videos"
    result.verdict.abstained = {"efficientnet_b0": why}
    job_id = record(alice_client, case, sample_clip_path.read_bytes(), result)

    verdict = alice_client.get(f"/api/v1/jobs/{job_id}/").json()["verdict"]
    assert verdict["abstained"] == {"efficientnet_b0": why}
    report = unescape(alice_client.get(f"/api/v1/jobs/{job_id}/report/").content.decode())
    assert "No detector that ran is shown by its model card to do better than chance on videos" in report
    assert why in report
    assert (
        "1 of 11 real test videos flagged (FPR 0.091) and 3 of 10 manipulated test videos caught (TPR 0.300)" in report
    )


def test_the_report_says_in_how_many_sampled_frames_a_face_was_found(alice_client, case, sample_clip_path):
    result = fake_result(frames=3)
    result.diagnostics.faces_per_frame = [1, 0, 1]
    result.diagnostics.frames_with_faces = 2
    job_id = record(alice_client, case, sample_clip_path.read_bytes(), result)
    report = alice_client.get(f"/api/v1/jobs/{job_id}/report/").content.decode()
    assert 'data-testid="report-coverage">in 2 of 3 sampled frames' in report


def test_the_report_calls_heatmaps_that_are_all_the_same_centred_blob_uninformative(
    alice_client, case, sample_clip_path
):
    result = fake_result()
    reason = "all 6 heatmaps are the same blob near the centre of the face"
    result.explanations = contract.Explanations(
        detectors=["efficientnet_b0"], files=["heatmaps/a.png"], uninformative=reason
    )
    job_id = record(alice_client, case, sample_clip_path.read_bytes(), result)
    assert alice_client.get(f"/api/v1/jobs/{job_id}/").json()["explanations"]["uninformative"] == reason
    report = alice_client.get(f"/api/v1/jobs/{job_id}/report/").content.decode()
    assert f"Heatmaps uninformative: {reason}" in report
