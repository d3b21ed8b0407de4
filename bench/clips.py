"""Seconds per clip per stage on real footage: the clips of ../shared/data/videos, 720p and 1080p, several codecs.

    python bench/clips.py                         # the default set below, default ensemble, CPU
    python bench/clips.py --set 1080p             # only the 10-second 1080p clips (the 2 s goal)
    python bench/clips.py --detect-every 1        # face-stage settings (FaceFinder's) for a comparison
    python bench/clips.py --device cuda --compile # GPU: detectors in bf16 autocast, compiled
    flock /work/train.lock python bench/clips.py  # on a shared machine: no training starts meanwhile

Each clip goes through ``detector.pipeline.analyze`` as a worker runs it (crops and heatmaps written),
models loaded once and warmed up; each stage's wall seconds come from the result's timings (a video is
decoded while the face stage starts on its first frames: "decode" runs until the last frame was decoded,
"faces" from then on), and the process's CPU seconds are measured around the call. Wall time is the
number the goal is about; CPU seconds move less when something else shares the cores.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.options import add_runtime_options, hardware, parse_on_device
from detector.ensemble import DEFAULT_ENSEMBLE, load_ensemble
from detector.faces import FaceFinder
from detector.media import DEFAULT_FRAMES, probe
from detector.pipeline import analyze

VIDEOS_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"
# Ten-second 1080p H.264 clips (DFDC, DeeperForensics): what the "2 s per clip" goal is measured on.
CLIPS_1080P = (
    "fake/dfdc_abofeumbvv.mp4",
    "fake/dfdc_abqwwspghj.mp4",
    "real/dfdc_aajsqyyjni.mp4",
    "real/dfdc_anndvqgoko.mp4",
    "real/dfdc_knqhpwoigk.mp4",
    "real/deeperforensics_challenge_000000.mp4",
)
# Other sizes and codecs: 720p H.264, 480p H.264, MPEG-4 Part 2 and MPEG-1.
CLIPS_OTHER = (
    "real/fsgan_shinzo_abe.mp4",
    "fake/deeperforensics_challenge_000001.mp4",
    "fake/deeperforensics_challenge_000002.mp4",
    "real/sadtalker_ref_WDA_AOC_000.mp4",
    "fake/genconvit_0017_fake.mp4",
    "real/lipnet_bbaf2n.mpg",
)
SETS = {"1080p": CLIPS_1080P, "default": CLIPS_1080P + CLIPS_OTHER}
STAGES = ("decode_s", "faces_s", "scoring_s", "aggregate_s", "heatmaps_s", "total_s")


def face_finder(args: argparse.Namespace, device: str) -> FaceFinder:
    """A FaceFinder with the settings given on the command line that this code knows (older code has fewer)."""
    known = inspect.signature(FaceFinder).parameters
    wanted = {
        "batch_size": args.face_batch,
        "detect_every": args.detect_every,
        "guided_min_face_ratio": args.guided_ratio,
    }
    given = {k: v for k, v in wanted.items() if v is not None}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise SystemExit(f"this code's FaceFinder has no {', '.join(unknown)}")
    return FaceFinder(device=device, **given)


def describe(path: Path) -> str:
    media = probe(path)
    return f"{media.width}x{media.height} {media.codec or '?'} {media.duration_s or 0:.1f}s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", default=str(VIDEOS_DIR), help="folder the clip paths are relative to")
    parser.add_argument("--set", choices=sorted(SETS), default="default")
    parser.add_argument("--clips", help="comma-separated clip paths instead of a set")
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES)
    parser.add_argument("--ensemble", help="comma-separated detectors (default: the shipped default ensemble)")
    parser.add_argument("--repeat", type=int, default=1, help="passes over the clips (the median is kept)")
    parser.add_argument("--detect-every", type=int, default=None)
    parser.add_argument("--guided-ratio", type=float, default=None)
    parser.add_argument("--face-batch", type=int, default=None, help="frames per MTCNN batch (a worker's default 16)")
    parser.add_argument("--json", help="write the per-clip numbers to this file")
    add_runtime_options(parser)
    args, device = parse_on_device(parser, argv)
    if device is None:
        return 2

    videos = Path(args.videos)
    names = args.clips.split(",") if args.clips else list(SETS[args.set])
    clips = [videos / name for name in names]
    missing = [str(c) for c in clips if not c.is_file()]
    if missing:
        print(f"error: missing clips: {', '.join(missing)}", file=sys.stderr)
        return 2
    ensemble_names = args.ensemble.split(",") if args.ensemble else list(DEFAULT_ENSEMBLE)
    ensemble = load_ensemble(ensemble_names, device=device)
    compiled = [d.name for d in ensemble.detectors if args.compile and d.compile()]
    finder = face_finder(args, device)
    import torch

    print(
        f"ensemble {'+'.join(ensemble.names)} (trained: {', '.join(d.name for d in ensemble.trained) or 'none'}); "
        f"{args.frames} frames per clip; {device} ({hardware(device)}), precision "
        f"{', '.join(sorted({d.precision for d in ensemble.detectors}))}; torch {torch.__version__}, "
        f"OpenCV {cv2.__version__}; {os.cpu_count()} cores; load average "
        + " ".join(f"{v:.1f}" for v in os.getloadavg())
    )
    print("face detection:", json.dumps(finder.settings()))
    print("compiled (torch.compile):", ", ".join(compiled) or "none")
    rows = []
    with tempfile.TemporaryDirectory(prefix="forensics-clips-") as tmp:
        analyze(clips[0], frames=4, ensemble=ensemble, face_finder=finder)  # warm-up
        passes: dict[str, list[dict]] = {str(c): [] for c in clips}
        for rep in range(args.repeat):
            for n, clip in enumerate(clips):
                cpu = time.process_time()
                result = analyze(
                    clip,
                    frames=args.frames,
                    ensemble=ensemble,
                    face_finder=finder,
                    artifacts_dir=Path(tmp) / f"{rep}-{n}",
                )
                timings = dict(result.timings)
                timings["cpu_s"] = time.process_time() - cpu
                timings["faces"] = result.diagnostics.faces_total
                timings["score"] = result.verdict.score
                passes[str(clip)].append(timings)
        for clip in clips:
            runs = sorted(passes[str(clip)], key=lambda t: t["total_s"])
            median = runs[len(runs) // 2]
            rows.append({"clip": str(clip.relative_to(videos)), "media": describe(clip), **median})

    header = ["clip", "media", "faces", *[s.removesuffix("_s") for s in STAGES], "CPU s"]
    table = [
        [r["clip"], r["media"], str(r["faces"]), *[f"{r[s]:.2f}" for s in STAGES], f"{r['cpu_s']:.2f}"] for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(header, *table, strict=True)]
    print("\nseconds per clip (wall) per stage")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for line in table:
        print("  ".join(x.ljust(w) for x, w in zip(line, widths, strict=True)))
    hd = [r for r in rows if r["clip"] in CLIPS_1080P]
    if hd:
        means = {s: sum(r[s] for r in hd) / len(hd) for s in (*STAGES, "cpu_s")}
        print(
            f"\nmean of the {len(hd)} ten-second 1080p clips: "
            + ", ".join(f"{s.removesuffix('_s')} {means[s]:.2f}" for s in STAGES)
            + f"; CPU {means['cpu_s']:.2f} s"
        )
    print("load average at end: " + " ".join(f"{v:.1f}" for v in os.getloadavg()))
    if args.json:
        Path(args.json).write_text(json.dumps({"settings": finder.settings(), "clips": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
