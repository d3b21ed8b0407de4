"""Fixtures for the dashboard tests: the live server with a real worker behind it, an analyst, clips."""

import os
import uuid

import pytest

# Playwright's sync API keeps an asyncio loop running in this thread; Django then refuses ORM
# calls from fixtures as "async unsafe". The ORM calls here are plain synchronous test set-up.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from accounts.models import Role
from tests.conftest import PASSWORD
from tests.factories import TeamFactory, UserFactory


@pytest.fixture
def live_server_url(live_server, celery_worker_process):
    return live_server.url


@pytest.fixture
def analyst(transactional_db):
    username = f"analyst-{uuid.uuid4().hex[:8]}"
    return UserFactory(username=username, team=TeamFactory(), team__role=Role.ANALYST)


@pytest.fixture
def analyst_credentials(analyst):
    return {"username": analyst.username, "password": PASSWORD}


@pytest.fixture(scope="session")
def playable_clip_path(media_dir):
    """The moving-face clip as VP8 WebM: Chromium plays it, so seeking moves a real video.

    The suite's MP4 clip is MPEG-4 Part 2, which no browser decodes: the player would stay empty.
    """
    from detector.synthetic import write_moving_face_clip

    return write_moving_face_clip(media_dir / "astronaut.webm", seconds=2, fps=15, fourcc="VP80")


@pytest.fixture(scope="session")
def broken_clip_path(playable_clip_path, media_dir):
    """The WebM cut after 4 kB: its header passes the upload's type check, no frame decodes."""
    path = media_dir / "cut-short.webm"
    path.write_bytes(playable_clip_path.read_bytes()[:4000])
    return path


# --- a scored analysis ------------------------------------------------------------------------
# The shipped detectors have no trained weights yet, so the real worker answers "not scored".
# This fixture writes what it will write once weights land, through the same service the worker
# calls (claim_job, then record_results), so the dashboard's scored views are exercised too.
# The scores are test data, chosen so the two detectors disagree on the second half of the clip.

SCORED_DETECTORS = [
    {
        "name": "effnet_b4_msfa",
        "architecture": "efficientnet_b4/multiscale-freq-edge",
        "version": "1.2.0",
        "sha256": "4f1c" + "0" * 56 + "b4b4",
        "checkpoint": "detector/weights/effnet_b4_msfa.pt",
        "trained": True,
        "threshold": 0.5,
        # Its model card's held-out figures, as the worker records them (detector.cards.parse_model_card).
        "card": {
            "test_videos_real": 11,
            "test_videos_fake": 10,
            "video_auc": 0.618,
            "video_auc_ci95": [0.355, 0.855],
            "video_fpr": 0.0,
            "video_tpr": 0.0,
            "limits": ["Held-out video AUC 0.618 is below the project's goal of 0.85."],
            "source": "model card effnet_b4_msfa.md",
        },
    },
    {
        "name": "spectral_lr",
        "architecture": "spectral_lr/azimuthal-power-64",
        "version": "1.0.1",
        "sha256": "9e2d" + "1" * 56 + "5151",
        "checkpoint": "detector/weights/spectral_lr.pt",
        "trained": True,
        "threshold": 0.5,
    },
]


def _scored_face_images(artifacts_dir, frames: int):
    """Face crops cut from the clip's source photo and a Grad-CAM-like overlay for each."""
    import cv2
    import numpy as np

    from detector.synthetic import astronaut_rgb

    crop = cv2.resize(astronaut_rgb()[0:300, 100:400], (160, 160), interpolation=cv2.INTER_AREA)
    (artifacts_dir / "crops").mkdir(parents=True, exist_ok=True)
    (artifacts_dir / "heatmaps").mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:160, 0:160]
    paths = []
    for i in range(frames):
        name = f"f{i:03d}_t0.jpg"
        cv2.imwrite(str(artifacts_dir / "crops" / name), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
        # The blob drifts from the eyes to the mouth: each overlay differs, as Grad-CAM maps do.
        cy, cx = 60 + 3 * i, 80
        cam = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 28.0**2))
        heat = cv2.applyColorMap(np.uint8(cam * 255), cv2.COLORMAP_JET)
        overlay = cv2.addWeighted(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), 0.6, heat, 0.4, 0.0)
        heat_name = f"f{i:03d}_t0.png"
        cv2.imwrite(str(artifacts_dir / "heatmaps" / heat_name), overlay)
        paths.append((f"crops/{name}", f"heatmaps/{heat_name}"))
    return paths


def fixture_scores(i: int) -> tuple[float, float]:
    """The two detectors' scores on the ``i``-th sampled frame: they part in the second second."""
    effnet = round(0.55 + 0.025 * i, 3)  # rises from 0.55 to 0.93
    spectral = round(0.6 if i < 8 else 0.2, 3)  # drops in the second second: disagreement
    return effnet, spectral


@pytest.fixture
def scored_job(analyst, playable_clip_path):
    """A succeeded job on the playable clip with per-frame, per-detector scores and heatmaps."""
    return record_scored_job(
        analyst,
        playable_clip_path,
        frames=16,
        frame_step=2,
        seconds_apart=2 / 15,
        scores=fixture_scores,
        heatmaps_from=8,
    )


def record_scored_job(
    analyst,
    playable_clip_path,
    *,
    frames,
    frame_step,
    seconds_apart,
    scores,
    heatmaps_from,
    verdict: dict | None = None,
    case_title: str = "Scored interview",
    faceless: frozenset[int] = frozenset(),
    warnings: tuple[str, ...] = ("faces are small (median 74 px)",),
    heatmaps_uninformative: str = "",
):
    """A scored job of ``frames`` sampled frames, ``frame_step`` indexes and ``seconds_apart`` apart on the
    2 s clip, the ``i``-th scored ``scores(i)`` = (effnet, spectral), heatmaps from the ``heatmaps_from``-th;
    ``verdict``: fields of the verdict that differ from the fixture's manipulated one; the ``faceless``-th sampled
    frames have no face (as when MTCNN misses a person)."""
    frames_sampled = frames
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import lease, results, storage
    from cases.models import JobState
    from detector.contract import AnalysisResult, MediaProbe
    from tests.factories import CaseFactory, JobFactory, MediaFactory

    team = analyst.memberships.get().team
    case = CaseFactory(team=team, created_by=analyst, title=case_title, tags=["fixture"])
    stored = storage.store_original(
        SimpleUploadedFile("interview.webm", playable_clip_path.read_bytes(), content_type="video/webm")
    )
    media = MediaFactory(case=case, original_name="interview.webm", uploaded_by=analyst, **stored)
    probe = MediaProbe(kind="video", width=480, height=360, fps=15.0, frame_count=30, duration_s=2.0, codec="VP80")
    results.record_probe(media.pk, probe)
    job = JobFactory(media=media, state=JobState.QUEUED, settings={"frames": 16, "detectors": []})
    worker = "fixture-scorer"
    assert lease.claim_job(job.pk, worker) is not None

    # Written where the worker's first attempt writes; the results write swaps the folder in.
    images = _scored_face_images(storage.attempt_artifacts_dir(job.pk, 1), frames_sampled)
    frames = []
    for i in range(frames_sampled):
        frame_index = i * frame_step
        effnet, spectral = scores(i)
        ensemble = round((effnet + spectral) / 2, 3)
        crop_path, heatmap_path = images[i]
        frames.append(
            {
                "frame_index": frame_index,
                "timestamp_s": round(i * seconds_apart, 4),
                "readable": True,
                "faces": []
                if i in faceless
                else [
                    {
                        "frame_index": frame_index,
                        "track_id": 0,
                        "box": [140 + 4 * i, 80, 340 + 4 * i, 280],
                        "det_prob": 0.999,
                        "score": ensemble,
                        "detector_scores": {"effnet_b4_msfa": effnet, "spectral_lr": spectral},
                        "crop_path": crop_path,
                        # Like the worker: heatmaps for the top-scoring faces of the deciding track only.
                        "heatmap_path": heatmap_path if i >= heatmaps_from else None,
                    }
                ],
            }
        )
    result = {
        "media": probe.to_dict(),
        "settings": {"frames": frames_sampled, "detectors": [d["name"] for d in SCORED_DETECTORS]},
        "frames": frames,
        "detectors": SCORED_DETECTORS,
        "verdict": {
            "label": "manipulated",
            "score": 0.71,
            "confidence": 0.42,
            "aggregation": "confident",
            "thresholds": {"threshold": 0.5, "manipulated": 0.6, "authentic": 0.4, "strategy": "confident"},
            "reason": "",
            "untrained": False,
            "per_track": [
                {"track_id": 0, "score": 0.71, "faces": frames_sampled, "label": "manipulated", "frames": []}
            ],
            "per_detector": {"effnet_b4_msfa": 0.86, "spectral_lr": 0.41},
            **(verdict or {}),
        },
        "diagnostics": {
            "width": 480,
            "height": 360,
            "frames_sampled": frames_sampled,
            "warnings": list(warnings),
            "faces_per_frame": [0 if i in faceless else 1 for i in range(frames_sampled)],
            "frames_with_faces": frames_sampled - len(faceless),
        },
        "timings": {"total_s": 1.0},
        "explanations": {
            "track_id": 0,
            "detectors": ["effnet_b4_msfa"],
            "files": [heatmap for _, heatmap in images[heatmaps_from:]],
            "uninformative": heatmaps_uninformative,
        },
    }
    assert results.record_results(job.pk, worker, AnalysisResult.from_dict(result))
    return job


@pytest.fixture(scope="session")
def portrait_png_path(media_dir):
    """A photograph with one face (the clip's source photo) as PNG: what an image job analyses."""
    import cv2

    from detector.synthetic import astronaut_rgb

    path = media_dir / "portrait.png"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut_rgb(), cv2.COLOR_RGB2BGR))
    return path


def record_image_job(analyst, png_path, *, case_title: str = "Profile photo"):
    """A succeeded image job: one frame, one face scored by a face-swap and a generated-face detector, each kind
    deciding on its own (the face-swap detector's card shows it no better than chance on images: it did not vote)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases import lease, results, storage
    from cases.models import JobState
    from detector.contract import AnalysisResult, MediaProbe
    from tests.factories import CaseFactory, JobFactory, MediaFactory

    team = analyst.memberships.get().team
    case = CaseFactory(team=team, created_by=analyst, title=case_title)
    stored = storage.store_original(SimpleUploadedFile(png_path.name, png_path.read_bytes(), content_type="image/png"))
    media = MediaFactory(case=case, original_name=png_path.name, uploaded_by=analyst, **stored)
    probe = MediaProbe(kind="image", width=512, height=512)
    results.record_probe(media.pk, probe)
    job = JobFactory(media=media, state=JobState.QUEUED, settings={"frames": 1, "detectors": []})
    assert lease.claim_job(job.pk, "fixture-scorer") is not None
    (crop, heatmap) = _scored_face_images(storage.attempt_artifacts_dir(job.pk, 1), 1)[0]
    face = {
        "frame_index": 0,
        "track_id": 0,
        "box": [140, 80, 340, 280],
        "det_prob": 0.999,
        "score": 0.31,
        "detector_scores": {"effnet_b4_msfa": 0.52, "genface_spectral": 0.31},
        "crop_path": crop,
        "heatmap_path": heatmap,
    }
    generated = {**SCORED_DETECTORS[1], "name": "genface_spectral", "kind": "fully_generated"}
    result = {
        "media": probe.to_dict(),
        "settings": {"frames": 1, "detectors": ["effnet_b4_msfa", "genface_spectral"]},
        "frames": [{"frame_index": 0, "timestamp_s": 0.0, "readable": True, "faces": [face]}],
        "detectors": [SCORED_DETECTORS[0], generated],
        "verdict": {
            "label": "authentic",
            "score": 0.31,
            "confidence": 0.4,
            "aggregation": "confident",
            "thresholds": {"threshold": 0.736, "manipulated": 0.836, "authentic": 0.636, "strategy": "confident"},
            "reason": "fully generated face: the face decides: P(manipulated) 0.31",
            "per_track": [{"track_id": 0, "score": 0.31, "faces": 1, "label": "authentic", "frames": [0]}],
            "per_detector": {"effnet_b4_msfa": 0.52, "genface_spectral": 0.31},
            "per_kind": [
                {
                    "kind": "fully_generated",
                    "name": "fully generated face",
                    "label": "authentic",
                    "score": 0.31,
                    "detectors": ["genface_spectral"],
                    "threshold": 0.736,
                }
            ],
            "abstained": {
                "effnet_b4_msfa": "its model card's held-out image AUC 0.502 (95 % interval 0.450–0.560) is not "
                "above chance (0.5) on images"
            },
            "caveat": "genface_spectral caught 34 of 220 test fakes at the threshold: absence of a finding is not "
            "evidence of authenticity.",
        },
        "diagnostics": {
            "width": 512,
            "height": 512,
            "frames_sampled": 1,
            "faces_per_frame": [1],
            "frames_with_faces": 1,
        },
        "timings": {"total_s": 0.5},
    }
    assert results.record_results(job.pk, "fixture-scorer", AnalysisResult.from_dict(result))
    return job
