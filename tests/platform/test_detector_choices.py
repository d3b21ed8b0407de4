"""The detectors a job may name, with what each looks for and its model card, for the upload form's checklist
(issue 27, point 9): recorded by workers, who have the weights and cards the web process lacks."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import detectors, lease, results
from detector.contract import DEFAULT_DETECTORS
from tests.factories import fake_result

pytestmark = pytest.mark.django_db

MADE_UP_CARD = {"video_auc": 0.71, "video_auc_ci95": [0.52, 0.88], "video_fpr": 0.05, "video_tpr": 0.6}


def test_every_detector_a_job_may_name_is_listed_with_what_a_worker_recorded_about_it(alice_client, settings):
    default = DEFAULT_DETECTORS[0]
    settings.ANALYSIS_DETECTORS = (default, "genface_spectral", "custom_cnn")
    detectors.record_catalogue(
        [
            {
                "name": "genface_spectral",
                "kind": "fully_generated",
                "kind_name": "fully generated face",
                "default_for": ["image"],
                "sha256": "ef" * 32,
                "card": MADE_UP_CARD,
            },
            {"name": "not_choosable", "kind": "face_swap", "kind_name": "face swap / re-enactment", "card": {}},
        ]
    )
    listed = alice_client.get("/api/v1/detectors/").json()
    assert [d["name"] for d in listed] == [default, "genface_spectral", "custom_cnn"]
    generated = listed[1]
    assert generated["recorded"] and generated["kind_name"] == "fully generated face"
    assert generated["card"] == MADE_UP_CARD and generated["default_for"] == ["image"]
    assert listed[0] == {**listed[0], "recorded": False, "default_for": ["video", "image"], "card": {}}


def test_a_result_records_the_cards_of_the_detectors_that_ran(alice_client, case, sample_clip_path):
    upload = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    job_id = alice_client.post("/api/v1/jobs/", {"file": upload, "case": case.pk}, format="multipart").json()["id"]
    lease.claim_job(job_id, "w")
    result = fake_result()
    results.record_results(job_id, "w", result)
    (b0,) = [d for d in alice_client.get("/api/v1/detectors/").json() if d["name"] == "efficientnet_b0"]
    assert b0["recorded"] and b0["card"] == result.detectors[0].card and b0["kind_name"] == "face swap / re-enactment"


def test_the_detector_list_needs_a_signed_in_user(anon_client):
    assert anon_client.get("/api/v1/detectors/").status_code in (401, 403)
