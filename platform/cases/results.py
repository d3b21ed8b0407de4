"""Result persistence: what a worker's finished analysis writes (frames, faces, verdict) and the media's probe.

A result is written in one transaction under the job's row lock, and only by the worker that
holds the job, replacing any rows an earlier attempt left: a retry never duplicates results.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from cases import detectors, lease, storage
from cases.models import AnalysisJob, FaceResult, FrameResult, JobStage, JobState, Media, Verdict
from detector import contract
from webhooks import services as webhooks


def record_probe(media_id: int, probe: contract.MediaProbe) -> None:
    Media.objects.filter(pk=media_id).update(
        duration_s=probe.duration_s,
        fps=probe.fps,
        width=probe.width,
        height=probe.height,
        frame_count=probe.frame_count,
        codec=(probe.codec or "")[:32],
    )


def reproduction_record(job: AnalysisJob) -> dict[str, Any] | None:
    """A finished job as ``python -m detector reproduce`` reads it: its manifest, frames, faces and verdict.

    None when the job has no manifest (not finished, or analysed before manifests were recorded).
    """
    if not job.manifest:
        return None
    frames = FrameResult.objects.filter(job=job).prefetch_related("faces").order_by("frame_index")
    verdict = Verdict.objects.filter(job=job).first()
    return {
        "version": contract.CONTRACT_VERSION,
        "job": job.pk,
        "manifest": job.manifest,
        "frames": [
            {
                "frame_index": frame.frame_index,
                "timestamp_s": frame.timestamp_s,
                "readable": frame.readable,
                "error": frame.error or None,
                "faces": [
                    {
                        "frame_index": frame.frame_index,
                        "track_id": face.track_id,
                        "box": face.box,
                        "det_prob": face.det_prob,
                        "flags": face.flags,
                        "detector_scores": face.detector_scores,
                        "score": face.score,
                    }
                    for face in frame.faces.all()
                ],
            }
            for frame in frames
        ],
        "verdict": {
            "label": verdict.label,
            "score": verdict.score,
            "per_detector": verdict.per_detector,
            "per_kind": verdict.per_kind,
            "thresholds": verdict.thresholds,
        }
        if verdict is not None
        else None,
    }


def record_results(job_id: int, worker: str, result: contract.AnalysisResult) -> bool:
    """Write a finished analysis in one transaction, replacing any rows an earlier attempt left.

    Returns False (and writes nothing) if the job is no longer running on this worker. Raises
    JobCancelled (and writes nothing) if a cancel was accepted before the row lock was taken:
    an accepted cancel always ends the job cancelled (a later cancel waits for the lock and is refused).
    """
    with transaction.atomic():
        job = lease.held_by(job_id, worker).select_for_update().first()
        if job is None:
            return False
        if job.cancel_requested:
            raise lease.JobCancelled(f"job {job_id} was cancelled before its results were written")
        FaceResult.objects.filter(job=job).delete()
        FrameResult.objects.filter(job=job).delete()
        Verdict.objects.filter(job=job).delete()
        frames = FrameResult.objects.bulk_create(
            [
                FrameResult(
                    job=job,
                    frame_index=f.frame_index,
                    timestamp_s=f.timestamp_s,
                    readable=f.readable,
                    error=(f.error or "")[:200],
                    face_count=len(f.faces),
                    max_score=f.max_score,
                )
                for f in result.frames
            ]
        )
        faces = [
            FaceResult(
                job=job,
                frame=frame_row,
                track_id=face.track_id,
                box=face.box,
                det_prob=face.det_prob,
                flags=face.flags,
                score=face.score,
                detector_scores=face.detector_scores,
                crop_path=face.crop_path or "",
                heatmap_path=face.heatmap_path or "",
            )
            for frame_row, frame in zip(frames, result.frames, strict=True)
            for face in frame.faces
        ]
        FaceResult.objects.bulk_create(faces, batch_size=500)
        v = result.verdict
        Verdict.objects.create(
            job=job,
            label=v.label,
            score=v.score,
            confidence=v.confidence,
            aggregation=v.aggregation,
            thresholds=v.thresholds,
            reason=v.reason,
            untrained=v.untrained,
            per_track=[t.to_dict() for t in v.per_track],
            per_detector=v.per_detector,
            per_kind=[k.to_dict() for k in v.per_kind],
            abstained=v.abstained,
            authentic_supported=v.authentic_supported,
            caveat=v.caveat,
        )
        job.state = JobState.SUCCEEDED
        job.stage = JobStage.DONE
        job.progress = 100
        job.detector_set = [d.to_dict() for d in result.detectors]
        job.diagnostics = result.diagnostics.to_dict()
        job.explanations = result.explanations.to_dict()
        job.timings = result.timings
        job.manifest = result.manifest.to_dict() if result.manifest is not None else {}
        job.finished_at = timezone.now()
        job.save(
            update_fields=[
                "state",
                "stage",
                "progress",
                "detector_set",
                "diagnostics",
                "explanations",
                "timings",
                "manifest",
                "finished_at",
            ]
        )
        detectors.record_ran(result.detectors)
        # The crops and heatmaps the rows name are this attempt's: swapped in with them, under the row lock.
        storage.install_attempt_artifacts(job.pk, job.attempts)
        webhooks.job_finished(job.pk)
    return True
