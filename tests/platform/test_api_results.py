"""What the detector library writes reaches the analyst through the API: a real pipeline result, recorded by the
service the worker calls, read back as JSON with its heatmaps, diagnostics, track verdicts and checkpoint hashes."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import lease, reports, results, storage
from detector.checkpoints import file_sha256
from detector.contract import AnalysisResult
from detector.ensemble import load_ensemble
from detector.faces import FaceFinder
from detector.pipeline import analyze
from tests.conftest import require_tool
from tests.detector.conftest import save_random_checkpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def custom_cnn_checkpoint(tmp_path_factory):
    path = save_random_checkpoint("custom_cnn", tmp_path_factory.mktemp("weights") / "custom_cnn.pt")
    # Its model card, as detector.training.reproduce writes one (the rows and lines the report quotes).
    path.with_suffix(".md").write_text(
        f"| sha256 | `{file_sha256(path)}` |\n\n"
        "Test videos (`EVALUATION.md`: 11 real and 10 manipulated videos no split\n"
        "used): video AUC 0.536, log loss 0.7, ECE 0.2,\nFPR on real videos 0.091 and TPR 0.000 at the threshold.\n\n"
        "## Known limits\n- Random weights: a test\n  checkpoint.\n"
    )
    return path


@pytest.fixture
def analysed_job(alice_client, case, sample_clip_path, custom_cnn_checkpoint) -> tuple[int, AnalysisResult]:
    """A job run through the real pipeline exactly as workers.analysis does, and its stored result."""
    upload = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    job_id = alice_client.post("/api/v1/jobs/", {"file": upload, "case": case.pk}, format="multipart").json()["id"]
    assert lease.claim_job(job_id, "w1") is not None
    ensemble = load_ensemble(["custom_cnn"], device="cpu", checkpoints={"custom_cnn": custom_cnn_checkpoint})
    result = analyze(
        sample_clip_path,
        frames=6,
        ensemble=ensemble,
        face_finder=FaceFinder(device="cpu"),
        artifacts_dir=storage.attempt_artifacts_dir(job_id, 1),
        heatmap_faces=2,
    )
    assert results.record_results(job_id, "w1", result)
    return job_id, result


def faces_of(client, job_id: int) -> list[dict]:
    frames = client.get(f"/api/v1/jobs/{job_id}/frames/").json()["results"]
    return [face for frame in frames for face in frame["faces"]]


def test_heatmaps_of_the_deciding_faces_are_linked_and_served_as_png(alice_client, analysed_job):
    job_id, result = analysed_job
    faces = faces_of(alice_client, job_id)
    linked = [face for face in faces if face["heatmap_url"]]
    assert len(linked) == len(result.explanations.files) == 2
    for face in linked:
        assert f"/api/v1/jobs/{job_id}/files/heatmaps/" in face["heatmap_url"]
        response = alice_client.get(face["heatmap_url"])
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
        png = cv2.imdecode(np.frombuffer(b"".join(response.streaming_content), np.uint8), cv2.IMREAD_COLOR)
        assert png.shape == (224, 224, 3)
    # The heatmaps illustrate the faces that drove the verdict: the top-scoring ones.
    assert min(f["score"] for f in linked) >= max(f["score"] for f in faces if not f["heatmap_url"])
    crop = alice_client.get(faces[0]["crop_url"])
    assert crop.status_code == 200 and crop["Content-Type"] == "image/jpeg"


def test_another_team_and_anonymous_callers_cannot_fetch_the_heatmaps(
    alice_client, bob_client, anon_client, analysed_job
):
    job_id, _ = analysed_job
    url = next(face["heatmap_url"] for face in faces_of(alice_client, job_id) if face["heatmap_url"])
    assert bob_client.get(url).status_code == 404
    assert anon_client.get(url).status_code in (401, 403)
    assert bob_client.get(f"/api/v1/jobs/{job_id}/frames/").status_code == 404


def test_the_job_shows_input_diagnostics_track_verdicts_detector_scores_and_checkpoint_hashes(
    alice_client, analysed_job, custom_cnn_checkpoint
):
    job_id, result = analysed_job
    body = alice_client.get(f"/api/v1/jobs/{job_id}/").json()
    diagnostics = body["diagnostics"]
    assert diagnostics == result.diagnostics.to_dict()
    assert (diagnostics["width"], diagnostics["height"]) == (480, 360)
    assert diagnostics["bitrate_kbps"] > 0
    assert diagnostics["faces_per_frame"] == [1] * 6 and diagnostics["frames_unreadable"] == 0
    assert diagnostics["face_size_px"]["median"] > 40 and diagnostics["blur_laplacian_var"]["median"] > 0
    verdict = body["verdict"]
    assert verdict["per_track"] == [t.to_dict() for t in result.verdict.per_track] and len(verdict["per_track"]) == 1
    assert set(verdict["per_detector"]) == {"custom_cnn"}
    (described,) = body["detector_set"]
    assert described["sha256"] == custom_cnn_checkpoint.with_name("custom_cnn.pt.sha256").read_text().split()[0]
    assert described["trained"] is True and described["precision"] == "float32"
    # The model card beside the checkpoint, as the report quotes it (FPR at the threshold, known limits).
    assert described["card"] == {
        "test_videos_real": 11,
        "test_videos_fake": 10,
        "video_auc": 0.536,
        "video_auc_ci95": None,  # a card without the interval (written before it was measured) still reads
        "video_fpr": 0.091,
        "video_tpr": 0.0,
        "test_images_real": None,  # an image detector's card measures held-apart images too
        "test_images_fake": None,
        "image_auc": None,
        "image_auc_ci95": None,
        "image_fpr": None,
        "image_tpr": None,
        "limits": ["Random weights: a test checkpoint."],
        "source": "model card custom_cnn.md",
    }
    face = faces_of(alice_client, job_id)[0]
    assert set(face["detector_scores"]) == {"custom_cnn"} and 0.0 <= face["score"] <= 1.0


def test_the_signed_pdf_of_a_real_analysis_embeds_its_top_face_crops_and_both_heatmaps(
    alice_client, analysed_job, tmp_path
):
    pdfimages = require_tool("pdfimages", "poppler-utils: make browser installs it")
    job_id, _ = analysed_job
    response = alice_client.get(f"/api/v1/jobs/{job_id}/report.pdf")
    assert response.status_code == 200
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    listing = subprocess.run([pdfimages, "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    images = [line.split() for line in listing.splitlines()[2:] if line.split()[2] == "image"]
    top = sorted(faces_of(alice_client, job_id), key=lambda face: -face["score"])[: reports.REPORT_TOP_FACES]
    heatmaps = sum(1 for face in top if face["heatmap_url"])
    assert heatmaps == 2 and len(images) == sum(1 for face in top if face["crop_url"]) + heatmaps


def test_an_image_job_reports_both_kinds_of_manipulation_with_both_scores(alice_client, case, tmp_path):
    """An image runs the face-swap detector and the fully-generated-face one; the API and the report name
    what each looks for and show both scores, each kind deciding on its own."""
    from detector.synthetic import astronaut_rgb

    weights = tmp_path / "weights"
    weights.mkdir()
    checkpoints = {
        "custom_cnn": save_random_checkpoint("custom_cnn", weights / "custom_cnn.pt"),
        "genface_spectral": save_random_checkpoint("genface_spectral", weights / "genface_spectral.pt", input_size=64),
    }
    photo = tmp_path / "portrait.png"
    cv2.imwrite(str(photo), cv2.cvtColor(astronaut_rgb(), cv2.COLOR_RGB2BGR))
    upload = SimpleUploadedFile("portrait.png", photo.read_bytes(), content_type="image/png")
    job_id = alice_client.post("/api/v1/jobs/", {"file": upload, "case": case.pk}, format="multipart").json()["id"]
    assert lease.claim_job(job_id, "w1") is not None
    ensemble = load_ensemble(list(checkpoints), device="cpu", checkpoints=checkpoints)
    result = analyze(photo, ensemble=ensemble, face_finder=FaceFinder(device="cpu"))
    assert results.record_results(job_id, "w1", result)

    body = alice_client.get(f"/api/v1/jobs/{job_id}/").json()
    kinds = {k["kind"]: k for k in body["verdict"]["per_kind"]}
    assert {k: v["name"] for k, v in kinds.items()} == {
        "face_swap": "face swap / re-enactment",
        "fully_generated": "fully generated face",
    }
    assert kinds["fully_generated"]["detectors"] == ["genface_spectral"]
    assert set(body["verdict"]["per_detector"]) == {"custom_cnn", "genface_spectral"}
    assert {d["name"]: d["kind"] for d in body["detector_set"]} == {
        "custom_cnn": "face_swap",
        "genface_spectral": "fully_generated",
    }
    assert body["verdict"]["label"] in {k["label"] for k in kinds.values()}
    (face,) = faces_of(alice_client, job_id)
    assert set(face["detector_scores"]) == {"custom_cnn", "genface_spectral"}

    report = alice_client.get(f"/api/v1/jobs/{job_id}/report/").content.decode()
    assert "face swap / re-enactment" in report and "fully generated face" in report
    for name in ("custom_cnn", "genface_spectral"):
        assert f"{body['verdict']['per_detector'][name]:.2f}" in report
