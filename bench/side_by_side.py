"""Side by side, in one run: the simple approach such tools start from, and our pipeline, on the same labelled clips.

    python bench/side_by_side.py                  # every clip of ../shared/data/videos/{real,fake}
    python bench/side_by_side.py --device cuda    # both sides on the GPU (ours in bf16 autocast, the baseline fp32)
    python bench/side_by_side.py --no-baseline --detect-every 4 --paired-with k1.json   # a setting's quality cost
    flock /work/train.lock python bench/side_by_side.py

``--paired-with`` compares ours with an earlier run's ``--json`` on the same clips: how far each video's score
moved, which verdict labels changed, and the AUC's change with a paired bootstrap 95 % interval (the clips
resampled alike for both), on every clip and on the held-out ones: whether a faster setting costs detection.

Baseline, as such tools are commonly built: ResNeXt50 (timm ``resnext50_32x4d``) on 20 evenly spaced
full frames per video, each squashed to 224 x 224 and scored one frame at a time, no face detection;
the video's score is the mean of its frames' probabilities. No trained weights for it exist here and
none can be downloaded, so it runs with seeded random weights (``--baseline-checkpoint`` loads a
state_dict instead): its times are what such a model costs, and its AUC is measured with the
weights it has, which for random weights is chance.

Ours: ``detector.pipeline.analyze`` as a worker runs it (32 frames, face detection, the default
ensemble with its shipped weights, crops and Grad-CAM heatmaps written), the verdict's score as the
video's (a clip with no face scores 0.5: no evidence either way).

Both run on the same clips, interleaved clip by clip so that anything else on the machine slows
both alike; models are loaded and warmed up before timing. Prints each side's seconds, the ratio,
and each side's video AUC on every labelled clip and on the held-out clips the evaluation reports
(files and groups of the shipped detectors' training splits left out: the others trained them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import add_runtime_options, hardware, parse_on_device
from detector.ensemble import DEFAULT_ENSEMBLE, load_ensemble, weights_dir
from detector.faces import DETECT_EVERY, FaceFinder
from detector.media import DEFAULT_FRAMES, VIDEO_EXTENSIONS, sample_frames
from detector.pipeline import analyze

VIDEOS_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"
BASELINE_FRAMES = 20
BASELINE_INPUT_PX = 224
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class FullFrameResNeXt:
    """The baseline: a ResNeXt50 binary classifier on whole frames, one frame per forward pass."""

    def __init__(self, checkpoint: str | None = None, device: str = "cpu") -> None:
        import timm

        torch.manual_seed(0)
        self.model = timm.create_model("resnext50_32x4d", pretrained=False, num_classes=1).eval()
        self.weights = "random (seed 0)"
        if checkpoint:
            self.model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True))
            self.weights = checkpoint
        self.device = torch.device(device)
        self.model.to(self.device)

    @torch.inference_mode()
    def score_video(self, path: Path, frames: int = BASELINE_FRAMES) -> float:
        sampled, _ = sample_frames(path, samples=frames)
        probabilities = []
        for frame in sampled:
            if frame.rgb is None:
                continue
            image = cv2.resize(frame.rgb, (BASELINE_INPUT_PX, BASELINE_INPUT_PX), interpolation=cv2.INTER_AREA)
            image = (image.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
            batch = torch.from_numpy(image.transpose(2, 0, 1)).unsqueeze(0).to(self.device)
            probabilities.append(torch.sigmoid(self.model(batch)).item())
        return float(np.mean(probabilities)) if probabilities else 0.5


def labelled_clips(videos: Path) -> list[tuple[Path, int]]:
    clips = []
    for folder, label in (("real", 0), ("fake", 1)):
        clips += [(p, label) for p in sorted((videos / folder).iterdir()) if p.suffix.lower() in VIDEO_EXTENSIONS]
    return clips


def held_out(clips: list[tuple[Path, int]]) -> set[Path]:
    """The clips the evaluation reports: none of their files or groups is in a shipped detector's training split."""
    from detector.training.data import scan_labelled_dir
    from detector.training.evaluate import select_items

    splits = sorted(weights_dir().glob("*.split.json"))
    videos = clips[0][0].parent.parent
    items = select_items(scan_labelled_dir(videos), splits, log=lambda line: None)
    return {Path(i.path).resolve() for i in items}


def auc(labels: list[int], scores: list[float]) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if len(set(labels)) == 2 else None


def print_paired(then: list[dict], subsets: dict[str, list[dict]]) -> None:
    """Ours now against ours in an earlier run, on the clips both scored: score moves, label changes, AUC change."""
    from detector.training.metrics import auc_difference_interval

    earlier = {r["clip"]: r for r in then}
    print("\npaired with an earlier run (ours then -> ours now)")
    for name, subset in subsets.items():
        both = [(earlier[r["clip"]], r) for r in subset if r["clip"] in earlier]
        if not both:
            print(f"  {name}: no clip in both runs")
            continue
        moves = np.abs([now["ours_score"] - old["ours_score"] for old, now in both])
        changed = [now["clip"] for old, now in both if old["ours_label"] != now["ours_label"]]
        labels = [now["label"] for _, now in both]
        old_scores, new_scores = [o["ours_score"] for o, _ in both], [n["ours_score"] for _, n in both]
        before, after = auc(labels, old_scores), auc(labels, new_scores)
        interval = auc_difference_interval(np.array(labels), np.array(old_scores), np.array(new_scores))
        change = (
            "n/a"
            if interval is None
            else f"{after:.3f} - {before:.3f} = {after - before:+.3f} [{interval[0]:+.3f}, {interval[1]:+.3f}]"
        )
        print(
            f"  {name} ({len(both)}): score moves mean {moves.mean():.4f}, max {moves.max():.4f}; "
            f"verdict labels changed: {len(changed)}{' (' + ', '.join(changed) + ')' if changed else ''}; "
            f"AUC now - then {change}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", default=str(VIDEOS_DIR), help="folder with real/ and fake/")
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips of each label")
    parser.add_argument("--baseline-checkpoint", help="a ResNeXt50 state_dict for the baseline (default: random)")
    parser.add_argument(
        "--detect-every",
        type=int,
        default=DETECT_EVERY,
        help=f"ours: MTCNN in full on every k-th sampled frame (default {DETECT_EVERY})",
    )
    parser.add_argument("--no-baseline", action="store_true", help="ours only (e.g. to compare face-stage settings)")
    parser.add_argument("--json", help="write the per-clip numbers to this file")
    parser.add_argument("--paired-with", help="an earlier run's --json: ours now against ours then, clip by clip")
    add_runtime_options(parser)
    args, device = parse_on_device(parser, argv)
    if device is None:
        return 2

    videos = Path(args.videos)
    clips = labelled_clips(videos)
    if args.limit:
        clips = [c for label in (0, 1) for c in [c for c in clips if c[1] == label][: args.limit]]
    baseline = FullFrameResNeXt(args.baseline_checkpoint, device=device)
    ensemble = load_ensemble(list(DEFAULT_ENSEMBLE), device=device)
    compiled = [d.name for d in ensemble.detectors if args.compile and d.compile()]
    finder = FaceFinder(device=device, detect_every=args.detect_every)
    print(
        f"{len(clips)} labelled clips ({sum(1 for _, y in clips if y == 0)} real, {sum(y for _, y in clips)} fake); "
        f"{device} ({hardware(device)}); torch {torch.__version__}, {os.cpu_count()} cores; load average "
        + " ".join(f"{v:.1f}" for v in os.getloadavg())
    )
    print(f"baseline: ResNeXt50 on {BASELINE_FRAMES} full frames, one at a time; weights: {baseline.weights}")
    print("ours compiled (torch.compile):", ", ".join(compiled) or "none", "(the baseline runs eagerly)")
    print(
        f"ours: {DEFAULT_FRAMES} frames, faces (MTCNN in full every {args.detect_every}), "
        f"ensemble {'+'.join(ensemble.names)} (trained: {', '.join(d.name for d in ensemble.trained) or 'none'}), "
        "crops and heatmaps written"
    )
    if not args.no_baseline:
        baseline.score_video(clips[0][0], frames=2)  # warm-up
    rows = []
    with tempfile.TemporaryDirectory(prefix="forensics-side-by-side-") as tmp:
        analyze(clips[0][0], frames=4, ensemble=ensemble, face_finder=finder)  # warm-up
        for n, (path, label) in enumerate(clips):
            wall, cpu = time.perf_counter(), time.process_time()
            base_score = 0.5 if args.no_baseline else baseline.score_video(path)
            base_wall, base_cpu = time.perf_counter() - wall, time.process_time() - cpu
            wall, cpu = time.perf_counter(), time.process_time()
            result = analyze(path, ensemble=ensemble, face_finder=finder, artifacts_dir=Path(tmp) / str(n))
            ours_wall, ours_cpu = time.perf_counter() - wall, time.process_time() - cpu
            score = result.verdict.score
            rows.append(
                {
                    "clip": str(path.relative_to(videos)),
                    "label": label,
                    "baseline_s": base_wall,
                    "baseline_cpu_s": base_cpu,
                    "baseline_score": base_score,
                    "ours_s": ours_wall,
                    "ours_cpu_s": ours_cpu,
                    "ours_score": 0.5 if score is None else float(score),
                    "ours_label": str(result.verdict.label),
                }
            )
            print(
                f"  {rows[-1]['clip']:<48} baseline {base_wall:6.2f} s   ours {ours_wall:6.2f} s",
                file=sys.stderr,
                flush=True,
            )
    kept = held_out(clips)
    subsets = {
        "every labelled clip": rows,
        "held-out clips": [r for r in rows if (videos / r["clip"]).resolve() in kept],
    }
    base_total = sum(r["baseline_s"] for r in rows)
    ours_total = sum(r["ours_s"] for r in rows)
    print(f"\n{'':<22}{'baseline':>12}{'ours':>12}")
    print(f"{'wall s, all clips':<22}{base_total:>12.1f}{ours_total:>12.1f}")
    base_cpu = sum(r["baseline_cpu_s"] for r in rows)
    ours_cpu = sum(r["ours_cpu_s"] for r in rows)
    print(f"{'CPU s, all clips':<22}{base_cpu:>12.1f}{ours_cpu:>12.1f}")
    print(f"{'wall s per clip':<22}{base_total / len(rows):>12.2f}{ours_total / len(rows):>12.2f}")
    for name, subset in subsets.items():
        labels = [r["label"] for r in subset]
        b, o = auc(labels, [r["baseline_score"] for r in subset]), auc(labels, [r["ours_score"] for r in subset])
        line = f"video AUC, {name} ({len(subset)})"
        print(f"{line:<22}{'n/a' if b is None else f'{b:.3f}':>12}{'n/a' if o is None else f'{o:.3f}':>12}")
    if not args.no_baseline:
        ratio, cpu_ratio = base_total / ours_total, base_cpu / ours_cpu
        print(f"\nours is {ratio:.2f}x faster than the baseline (wall; {cpu_ratio:.2f}x in CPU seconds)")
    if args.paired_with:
        print_paired(json.loads(Path(args.paired_with).read_text()), subsets)
    print("load average at end: " + " ".join(f"{v:.1f}" for v in os.getloadavg()))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
