"""factory_boy factories for the platform's records, and analysis results built from the contract."""

import factory
from django.contrib.auth import get_user_model

from accounts.models import Membership, Role, Team
from cases.models import AnalysisJob, Case, Media
from detector import contract


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def team(self, create, extracted, **kwargs):
        self.save()
        if extracted is not None:
            Membership.objects.create(user=self, team=extracted, role=kwargs.get("role", Role.ANALYST))


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    team = factory.SubFactory(TeamFactory)
    title = factory.Sequence(lambda n: f"Case {n}")
    created_by = factory.SubFactory(UserFactory)


class MediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Media

    case = factory.SubFactory(CaseFactory)
    original_name = "clip.mp4"
    storage_path = factory.LazyAttribute(lambda m: f"originals/{m.sha256[:2]}/{m.sha256[2:4]}/{m.sha256}")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size_bytes = 1000
    mime_type = "video/mp4"
    kind = "video"
    uploaded_by = factory.SelfAttribute("case.created_by")


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalysisJob

    media = factory.SubFactory(MediaFactory)
    created_by = factory.SelfAttribute("media.uploaded_by")
    settings = factory.LazyFunction(lambda: {"frames": 8, "detectors": []})


def fake_result(frames: int = 3, faces_per_frame: int = 1, score: float = 0.8) -> contract.AnalysisResult:
    """A finished analysis as detector.pipeline.analyze returns it, with fixed numbers."""
    detector = contract.DetectorInfo(
        name="efficientnet_b0",
        version="1",
        sha256="ab" * 32,
        trained=True,
        threshold=0.6,
        card={
            "test_videos_real": 11,
            "test_videos_fake": 10,
            "video_auc": 0.618,
            "video_auc_ci95": [0.355, 0.855],
            "video_fpr": 0.091,
            "video_tpr": 0.3,
            "limits": ["Beauty filters, low light and small faces raise false positives."],
            "source": "model card efficientnet_b0.md",
        },
    )
    return contract.AnalysisResult(
        media=contract.MediaProbe(
            kind="video", width=480, height=360, fps=15.0, frame_count=30, duration_s=2.0, codec="mp4v"
        ),
        settings=contract.AnalysisSettings(frames=frames, detectors=[detector.name]),
        detectors=[detector],
        frames=[
            contract.FrameResult(
                frame_index=i * 10,
                timestamp_s=i * 0.66,
                faces=[
                    contract.FaceResult(
                        frame_index=i * 10,
                        track_id=t,
                        box=[10, 10, 100, 100],
                        det_prob=0.99,
                        score=score,
                        detector_scores={detector.name: score},
                        crop_path=f"crops/f{i}_t{t}.jpg",
                    )
                    for t in range(faces_per_frame)
                ],
            )
            for i in range(frames)
        ],
        tracks=faces_per_frame,
        verdict=contract.Verdict(
            label=contract.VerdictLabel.MANIPULATED,
            score=score,
            confidence=0.6,
            reason="test",
            aggregation="confident",
            thresholds={"manipulated": 0.6, "authentic": 0.4},
            per_track=[
                contract.TrackScore(track_id=0, score=score, faces=frames, label=contract.VerdictLabel.MANIPULATED)
            ],
            per_detector={detector.name: score},
        ),
        diagnostics=contract.Diagnostics(width=480, height=360, frames_sampled=frames),
        timings={"total_s": 1.0},
        manifest=contract.Manifest(
            code_version="0.1.0+git.test",
            media_sha256="cd" * 32,
            frames_requested=frames,
            frame_indices=[i * 10 for i in range(frames)],
            timestamps_s=[i * 0.66 for i in range(frames)],
            detectors=[{"name": detector.name, "version": detector.version, "sha256": detector.sha256}],
            crop_margin=0.3,
            face_detection={"detector": "mtcnn", "thresholds": [0.6, 0.7, 0.7]},
            policy={"strategy": "confident", "threshold": 0.5, "uncertainty_band": 0.1, "min_faces": 3},
            device="cpu",
            device_description="cpu (x86_64, Linux)",
            libraries={"python": "3.11", "torch": "2.4.1"},
        ),
    )
