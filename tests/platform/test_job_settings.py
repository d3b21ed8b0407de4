"""Job settings checked at submission: shipped, trained detectors only, each once, bounded count (issue 12, hole 2)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import AnalysisJob
from detector import contract


def submit(client, clip_path, case, detectors):
    upload = SimpleUploadedFile("clip.mp4", clip_path.read_bytes(), content_type="video/mp4")
    return client.post("/api/v1/jobs/", {"file": upload, "case": case.pk, "detectors": detectors}, format="multipart")


@pytest.mark.django_db
def test_repeated_detectors_are_stored_once_in_the_order_first_named(alice_client, case, sample_clip_path):
    response = submit(alice_client, sample_clip_path, case, "custom_cnn,efficientnet_b0,custom_cnn,efficientnet_b0")
    assert response.status_code == 202, response.content
    stored = AnalysisJob.objects.get(pk=response.json()["id"]).settings["detectors"]
    assert stored == ["custom_cnn", "efficientnet_b0"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "detectors",
    [
        "resnext_lstm",  # registered, but no trained weights ship: random weights are not evidence
        "convnext_spectral,efficientnet_b0",
        "no_such_detector",
        "efficientnet_b0," + "x" * 5000,
    ],
)
def test_a_detector_that_is_not_shipped_and_trained_is_refused_at_submission(
    alice_client, case, sample_clip_path, detectors
):
    response = submit(alice_client, sample_clip_path, case, detectors)
    assert response.status_code == 400, response.content
    assert "detectors" in response.json()
    assert len(response.content) < 2000, "the error must not echo an attacker's megabytes"
    assert not AnalysisJob.objects.exists()


@pytest.mark.django_db
def test_more_distinct_detectors_than_the_maximum_are_refused(alice_client, case, sample_clip_path, settings):
    settings.MAX_DETECTORS_PER_JOB = 2
    assert submit(alice_client, sample_clip_path, case, ",".join(contract.SHIPPED_DETECTORS[:2])).status_code == 202
    response = submit(alice_client, sample_clip_path, case, ",".join(contract.SHIPPED_DETECTORS[:3]))
    assert response.status_code == 400 and "at most 2" in str(response.json()["detectors"])


def test_every_detector_a_job_may_name_ships_a_checkpoint_and_the_default_is_among_them():
    from detector.ensemble import DEFAULT_ENSEMBLE, shipped_checkpoint

    assert set(DEFAULT_ENSEMBLE) <= set(contract.SHIPPED_DETECTORS)
    for name in contract.SHIPPED_DETECTORS:
        assert shipped_checkpoint(name) is not None, name


@pytest.mark.django_db
def test_an_upload_past_the_teams_storage_quota_is_refused_with_507(
    alice_client, bob_client, case, sample_clip_path, settings
):
    size = sample_clip_path.stat().st_size
    settings.TEAM_STORAGE_QUOTA_BYTES = size + size // 2  # room for one clip
    assert submit(alice_client, sample_clip_path, case, "").status_code == 202
    refused = submit(alice_client, sample_clip_path, case, "")
    assert refused.status_code == 507 and refused.json()["code"] == "quota_exceeded"
    assert "quota" in refused.json()["detail"] and AnalysisJob.objects.count() == 1
    # Another team's quota is its own.
    upload = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    assert bob_client.post("/api/v1/jobs/", {"file": upload}, format="multipart").status_code == 202
