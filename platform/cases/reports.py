"""The analysis report: one template (cases/report.html) rendered as the HTML page and as the signed PDF.

Everything the report shows is put together here, so both forms say the same: the verdict in plain
words with each detector's false-positive rate at its threshold and its model card's limits, the
reviewer's conclusion, the score timeline (an SVG drawn here, no browser needed), the most suspicious
face crops and heatmaps (embedded, so the file stands alone), the manifest, the custody excerpt and head.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

from django.http import Http404
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from audit.models import EVIDENCE_READ_ACTIONS
from cases import storage
from cases.api.files import safe_child
from cases.models import AnalysisJob, FaceResult, FrameResult
from detector import contract

TEMPLATE = "cases/report.html"
# The most suspicious faces shown with their crop and heatmap; each crop is a few kilobytes of JPEG.
REPORT_TOP_FACES = 6
# A crop or heatmap larger than this is not embedded (workers write 224 px images, far smaller).
MAX_EMBEDDED_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}

# The timeline's drawing area, in SVG user units (the image scales to the page's width).
TIMELINE_W, TIMELINE_H = 720, 200
TIMELINE_MARGIN = {"left": 44, "right": 12, "top": 12, "bottom": 34}


def report_context(job: AnalysisJob, data: dict[str, Any], custody_head: dict, custody_events, medium: str) -> dict:
    """What cases/report.html renders; ``data`` is the job's API JSON, ``medium`` "html" or "pdf"."""
    frames = list(FrameResult.objects.filter(job=job).order_by("frame_index"))
    verdict = data.get("verdict") or {}
    return {
        "job": job,
        "data": data,
        "frames": frames,
        "medium": medium,
        "verdict_in_words": verdict_in_words(verdict, job.media.kind) if verdict else "",
        "verdict_label_text": verdict.get("label_text", ""),
        "verdict_score_text": contract.p_manipulated_text(verdict.get("score")) if verdict else "",
        "detector_cards": detector_cards(job.detector_set, job.media.kind),
        "timeline_svg": timeline_svg(frames, verdict.get("thresholds") or {}) if frames else "",
        "top_faces": top_faces(job),
        "custody_head": custody_head,
        **custody_summary(custody_events),
    }


def custody_summary(events) -> dict[str, Any]:
    """The custody events a report lists (the substantive ones: upload, submission, review, download, deletion,
    retention...) and the reads of evidence it only counts, per reader; every one of them is in the export."""
    listed, reads = [], {}
    for event in events:
        if event.action in EVIDENCE_READ_ACTIONS:
            reader = event.actor_name or "system"
            reads[reader] = reads.get(reader, 0) + 1
        else:
            listed.append(event)
    return {
        "custody_events": listed,
        "custody_reads": sum(reads.values()),
        "custody_readers": ", ".join(f"{name} ({count})" for name, count in sorted(reads.items())),
    }


def render_html(context: dict) -> str:
    return render_to_string(TEMPLATE, context)


def render_pdf(html: str) -> bytes:
    """The HTML report as a PDF (WeasyPrint, the template's print stylesheet); imported on first use.

    Everything the report shows is embedded (data: URIs): the render fetches no other URL, so neither the
    network nor the server's files can be reached through a report.
    """
    from weasyprint import HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def verdict_in_words(verdict: dict[str, Any], kind: str) -> str:
    """One or two sentences a reader who is not an analyst understands, in the one unit every score has."""
    what = "image" if kind == "image" else "video"
    label, score = verdict.get("label"), verdict.get("score")
    thresholds = verdict.get("thresholds") or {}
    high, low = thresholds.get("manipulated"), thresholds.get("authentic")
    if label != contract.VerdictLabel.NO_FACES and score is None and verdict.get("abstained"):
        return (
            f"No detector that ran is shown by its model card to do better than chance on {what}s, so none of them "
            f"decided: {'; '.join(f'{name}: {why}' for name, why in verdict['abstained'].items())}. Their scores "
            "below are evidence for an analyst to weigh, not a finding."
        )
    if label == contract.VerdictLabel.NO_FACES or score is None:
        return f"No face in this {what} could be scored, so the detectors say nothing about whether it was manipulated."
    p_score = contract.p_manipulated_text(score)
    if label == contract.VerdictLabel.MANIPULATED:
        sentence = (
            f"The detectors judge the faces in this {what} to be manipulated: {p_score}, at or above "
            f"{contract.p_manipulated_text(high)}, from which a {what} is called manipulated."
        )
    elif label == contract.VerdictLabel.AUTHENTIC:
        sentence = (
            f"The detectors found no sign that the faces in this {what} were manipulated: {p_score}, at or below "
            f"{contract.p_manipulated_text(low)}."
        )
        if verdict.get("caveat"):
            sentence += f" {verdict['caveat'][:1].upper()}{verdict['caveat'][1:]}"
    else:
        sentence = (
            f"The detectors cannot decide: {p_score} lies between {contract.p_manipulated_text(low)} "
            f"(no finding) and {contract.p_manipulated_text(high)} (manipulated)."
        )
    return sentence + " A score is evidence for an analyst to weigh, not a finding on its own."


def card_rates(card: dict[str, Any], media_kind: str) -> str:
    """Both rates of a model card at the detector's threshold, in words: real test items flagged and
    manipulated ones caught, with the AUC and its interval ("" when the card measured nothing there)."""
    figures = contract.card_figures(card, media_kind)
    if figures is None:
        return ""
    items = f"{media_kind}s"
    parts = []
    if figures["fpr"] is not None:
        counted = f"{round(figures['fpr'] * figures['real'])} of {figures['real']} " if figures["real"] else ""
        parts.append(f"{counted}real test {items} flagged (FPR {figures['fpr']:.3f})")
    if figures["tpr"] is not None:
        counted = f"{round(figures['tpr'] * figures['fake'])} of {figures['fake']} " if figures["fake"] else ""
        parts.append(f"{counted}manipulated test {items} caught (TPR {figures['tpr']:.3f})")
    text = " and ".join(parts) + " at its threshold" if parts else "rates not measured"
    auc = f"held-out {media_kind} AUC {figures['auc']:.3f}"
    if figures["auc_ci95"]:
        auc += f" (95 % interval {figures['auc_ci95'][0]:.3f}–{figures['auc_ci95'][1]:.3f})"
    return f"{text}; {auc}"


def detector_cards(detector_set: list[dict[str, Any]], media_kind: str = "video") -> list[dict[str, Any]]:
    """Each detector that ran with what its model card measured (recorded by the worker with the job): its
    rates on ``media_kind`` where the card has them, else on videos."""
    out = []
    for detector in detector_set:
        card = detector.get("card") or {}
        shown_kind = media_kind if contract.card_figures(card, media_kind) else "video"
        out.append(
            {
                "name": detector.get("name"),
                "version": detector.get("version"),
                "threshold": detector.get("threshold"),
                "recorded": bool(card),
                "rates": card_rates(card, shown_kind),
                "limits": card.get("limits") or [],
                "source": card.get("source", ""),
            }
        )
    return out


def top_faces(job: AnalysisJob, limit: int = REPORT_TOP_FACES) -> list[dict[str, Any]]:
    """The most suspicious scored faces with their crop and heatmap as data: URIs (None where missing)."""
    root = storage.job_artifacts_dir(job.pk)
    faces = (
        FaceResult.objects.filter(job=job, score__isnull=False)
        .exclude(crop_path="")
        .select_related("frame")
        .order_by("-score", "frame__frame_index", "track_id")[:limit]
    )
    return [
        {
            "frame_index": face.frame.frame_index,
            "timestamp_s": face.frame.timestamp_s,
            "track_id": face.track_id,
            "score": face.score,
            "detector_scores": face.detector_scores,
            "crop": _data_uri(root, face.crop_path),
            "heatmap": _data_uri(root, face.heatmap_path),
        }
        for face in faces
    ]


def _data_uri(root: Path, relative: str) -> str | None:
    if not relative:
        return None
    try:
        path = safe_child(root, relative)
    except Http404:
        return None
    media_type = IMAGE_TYPES.get(path.suffix.lower())
    if media_type is None or not path.is_file() or path.stat().st_size > MAX_EMBEDDED_IMAGE_BYTES:
        return None
    return f"data:{media_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def timeline_svg(frames: list[FrameResult], thresholds: dict[str, Any]) -> SafeString:
    """The highest face score per sampled frame over time, with the verdict thresholds, as inline SVG.

    Only numbers the code computes go into the markup (and the escaped axis text), so it is safe to embed.
    """
    m = TIMELINE_MARGIN
    plot_w = TIMELINE_W - m["left"] - m["right"]
    plot_h = TIMELINE_H - m["top"] - m["bottom"]
    end = max((f.timestamp_s for f in frames), default=0.0) or 1.0

    def x(t: float) -> float:
        return m["left"] + plot_w * (t / end)

    def y(score: float) -> float:
        return m["top"] + plot_h * (1.0 - score)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {TIMELINE_W} {TIMELINE_H}" width="100%" '
        'role="img" aria-label="Highest face score per sampled frame over time" class="timeline">',
        f'<rect x="{m["left"]}" y="{m["top"]}" width="{plot_w}" height="{plot_h}" fill="#fafafa" stroke="#999"/>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<text x="{m["left"] - 6}" y="{y(tick) + 4:.1f}" font-size="11" text-anchor="end">{tick:.2f}</text>'
        )
    for name, shown, colour in (("manipulated", "manipulated", "#b00020"), ("authentic", "no finding", "#1b5e20")):
        value = thresholds.get(name)
        if isinstance(value, int | float) and 0.0 <= value <= 1.0:
            parts.append(
                f'<line x1="{m["left"]}" x2="{m["left"] + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
                f'stroke="{colour}" stroke-dasharray="5 4"/>'
                f'<text x="{m["left"] + plot_w - 4}" y="{y(value) - 4:.1f}" font-size="10" text-anchor="end" '
                f'fill="{colour}">{escape(shown)} {value:.2f}</text>'
            )
    scored = [(f.timestamp_s, f.max_score) for f in frames if f.max_score is not None]
    if len(scored) > 1:
        points = " ".join(f"{x(t):.1f},{y(s):.1f}" for t, s in scored)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1565c0" stroke-width="1.5"/>')
    for t, s in scored:
        parts.append(f'<circle cx="{x(t):.1f}" cy="{y(s):.1f}" r="3" fill="#1565c0"/>')
    for f in frames:
        if not f.readable:
            parts.append(
                f'<rect x="{x(f.timestamp_s) - 2:.1f}" y="{m["top"] + plot_h - 8}" width="4" height="8" fill="#888"/>'
            )
    axis_y = TIMELINE_H - m["bottom"] + 16
    parts.append(f'<text x="{m["left"]}" y="{axis_y}" font-size="11">0 s</text>')
    parts.append(f'<text x="{m["left"] + plot_w}" y="{axis_y}" font-size="11" text-anchor="end">{end:.2f} s</text>')
    parts.append(
        f'<text x="{m["left"] + plot_w / 2:.1f}" y="{axis_y + 12}" font-size="11" text-anchor="middle">'
        "time in the video; dots: the highest face P(manipulated) of each sampled frame</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and fixed text only (see the docstring)
