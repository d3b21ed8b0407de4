"""Result persistence: what a worker's finished analysis writes (frames, faces, verdict) and the media's probe.

A result is written in one transaction under the job's row lock, and only by the worker that
holds the job, replacing any rows an earlier attempt left: a retry never duplicates results.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.models import AnalysisJob, FaceResult, FrameResult, JobStage, JobState, Media, Verdict


def record_probe(media_id: int, probe: dict[str, Any]) -> None:
    Media.objects.filter(pk=media_id).update(
        duration_s=probe.get("duration_s"),
        fps=probe.get("fps"),
        width=probe.get("width"),
        height=probe.get("height"),
        frame_count=probe.get("frame_count"),
        codec=(probe.get("codec") or "")[:32],
    )


def record_results(job_id: int, worker: str, result: dict[str, Any]) -> bool:
    """Write a finished analysis in one transaction, replacing any rows an earlier attempt left.

    Returns False (and writes nothing) if the job is no longer running on this worker.
    """
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.state != JobState.RUNNING or job.worker != worker[:200]:
            return False
        FaceResult.objects.filter(job=job).delete()
        FrameResult.objects.filter(job=job).delete()
        Verdict.objects.filter(job=job).delete()
        frames = FrameResult.objects.bulk_create(
            [
                FrameResult(
                    job=job,
                    frame_index=f["frame_index"],
                    timestamp_s=f["timestamp_s"],
                    readable=f["readable"],
                    error=(f.get("error") or "")[:200],
                    face_count=len(f["faces"]),
                    max_score=max((x["score"] for x in f["faces"] if x["score"] is not None), default=None),
                )
                for f in result["frames"]
            ]
        )
        faces = []
        for frame_row, frame in zip(frames, result["frames"], strict=True):
            for face in frame["faces"]:
                faces.append(
                    FaceResult(
                        job=job,
                        frame=frame_row,
                        track_id=face["track_id"],
                        box=face["box"],
                        det_prob=face["det_prob"],
                        flags=face.get("flags", []),
                        score=face["score"],
                        detector_scores=face["detector_scores"],
                        crop_path=face.get("crop_path") or "",
                        heatmap_path=face.get("heatmap_path") or "",
                    )
                )
        FaceResult.objects.bulk_create(faces, batch_size=500)
        v = result["verdict"]
        Verdict.objects.create(
            job=job,
            label=v["label"],
            score=v["score"],
            confidence=v.get("confidence"),
            aggregation=v.get("aggregation", ""),
            thresholds=v.get("thresholds", {}),
            reason=v.get("reason", ""),
            untrained=v.get("untrained", False),
            per_track=v.get("per_track", []),
            per_detector=v.get("per_detector", {}),
        )
        job.state = JobState.SUCCEEDED
        job.stage = JobStage.DONE
        job.progress = 100
        job.detector_set = result.get("detectors", [])
        job.diagnostics = result.get("diagnostics", {})
        job.timings = result.get("timings", {})
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "stage", "progress", "detector_set", "diagnostics", "timings", "finished_at"])
    return True
