"""Throughput of every pipeline stage on generated 10-second clips (15 fps, 640x480).

    python bench/run.py --quick                 # CPU, a couple of minutes
    python bench/run.py --device cuda --clips 8 # GPU: detectors in bf16

Prints decode frames/s, MTCNN frames/s and faces/s, crops/s for every registered detector
and, end to end for the default ensemble, seconds per clip per stage and videos/s. Weights do
not change speed, so detectors without shipped weights are timed with random ones saved as
temporary checkpoints (the pipeline only runs trained detectors); the table says which.
"""

from __future__ import annotations

import argparse
import os
import platform as host_platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import detector
from bench.options import add_device_option, chosen_device
from detector.checkpoints import save
from detector.ensemble import DEFAULT_ENSEMBLE, load_ensemble, shipped_checkpoint
from detector.faces import FaceFinder
from detector.media import probe, sample_frames
from detector.pipeline import DEFAULT_FRAMES, analyze
from detector.synthetic import write_moving_face_clip

CLIP_SECONDS = 10.0
CLIP_FPS = 15
CLIP_SIZE = (640, 480)


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


def bench_decode(clips: list[Path], frames: int) -> list[str]:
    import cv2

    decoded, started = 0, time.perf_counter()
    for clip in clips:
        capture = cv2.VideoCapture(str(clip))
        while capture.read()[0]:
            decoded += 1
        capture.release()
    full = decoded / (time.perf_counter() - started)
    started = time.perf_counter()
    for clip in clips:
        sample_frames(clip, samples=frames, media=probe(clip))
    sampled = len(clips) / (time.perf_counter() - started)
    return [f"{full:.0f} frames/s (every frame)", f"{sampled:.2f} clips/s ({frames} sampled frames each)"]


def bench_faces(clips: list[Path], frames: int, device: str, face_batch: int) -> tuple[float, float]:
    finder = FaceFinder(device=device, batch_size=face_batch)
    sampled = [sample_frames(clip, samples=frames)[0] for clip in clips]
    finder.find([(f.index, f.rgb) for f in sampled[0][:2]])  # warm-up
    n_frames = n_faces = 0
    started = time.perf_counter()
    for frames_of_clip in sampled:
        faces = finder.find([(f.index, f.rgb) for f in frames_of_clip if f.rgb is not None])
        n_frames += len(faces)
        n_faces += sum(len(per) for per in faces)
    elapsed = time.perf_counter() - started
    return n_frames / elapsed, n_faces / elapsed


def bench_detector(name: str, device: str, batch: int, reps: int) -> tuple[float, str]:
    torch.manual_seed(0)
    det = detector.create(name, device=device)
    size = det.config.input_size
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(batch)]
    if det.config.input_kind == "track":
        steps = det.sequence_length
        tracks = max(1, batch // steps)
        sequences = [[crops[(t * steps + i) % batch] for i in range(steps)] for t in range(tracks)]
        det.score_tracks(sequences)  # warm-up
        _sync(device)
        started = time.perf_counter()
        for _ in range(reps):
            det.score_tracks(sequences)
        _sync(device)
        elapsed = time.perf_counter() - started
        return tracks * steps * reps / elapsed, f"{tracks} track(s) x {steps} crops"
    det.score_crops(crops, batch_size=batch)  # warm-up
    _sync(device)
    started = time.perf_counter()
    for _ in range(reps):
        det.score_crops(crops, batch_size=batch)
    _sync(device)
    return batch * reps / (time.perf_counter() - started), f"batch {batch}"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench_end_to_end(
    clips: list[Path], names: list[str], device: str, frames: int, face_batch: int, workdir: Path
) -> tuple[dict[str, float], float, float, list[str], str]:
    checkpoints, random_weights = {}, []
    for name in names:
        if shipped_checkpoint(name) is None:
            torch.manual_seed(0)
            det = detector.create(name, device="cpu")
            path = workdir / f"{name}.pt"
            save(path, config=det.config.to_dict(), state_dict=det.model.state_dict())
            checkpoints[name] = path
            random_weights.append(name)
    ensemble = load_ensemble(names, device=device, checkpoints=checkpoints)
    finder = FaceFinder(device=ensemble.detectors[0].device, batch_size=face_batch)
    analyze(clips[0], frames=4, ensemble=ensemble, face_finder=finder)  # warm-up
    totals: dict[str, float] = {}
    label = ""
    started, cpu_started = time.perf_counter(), time.process_time()
    for i, clip in enumerate(clips):
        result = analyze(
            clip, frames=frames, ensemble=ensemble, face_finder=finder, artifacts_dir=workdir / f"artifacts{i}"
        )
        for stage, seconds in result.timings.items():
            totals[stage] = totals.get(stage, 0.0) + seconds
        label = f"{result.verdict.label}, {result.tracks} track(s), {result.diagnostics.faces_total} faces"
    videos_per_s = len(clips) / (time.perf_counter() - started)
    # CPU seconds this process used per clip (all its threads): unlike wall time, barely moved by
    # other processes competing for the cores, so it is the number to compare on a shared machine.
    cpu_s_per_clip = (time.process_time() - cpu_started) / len(clips)
    return {k: v / len(clips) for k, v in totals.items()}, videos_per_s, cpu_s_per_clip, random_weights, label


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return host_platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_option(parser)
    parser.add_argument("--detectors", help="comma-separated detectors to time (default: every registered one)")
    parser.add_argument("--ensemble", help="comma-separated end-to-end ensemble (default: the shipped default)")
    parser.add_argument("--clips", type=int, default=None, help="generated clips (default 3; 1 with --quick)")
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES, help="frames sampled per clip")
    parser.add_argument("--quick", action="store_true", help="small batches, one clip: minutes on a CPU")
    parser.add_argument("--face-batch", type=int, default=None, help="frames per MTCNN batch (default 16; 128 on GPU)")
    parser.add_argument("--clip-seconds", type=float, default=CLIP_SECONDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    device = chosen_device(args)
    if device is None:
        return 2
    n_clips = args.clips or (1 if args.quick else 3)
    on_gpu = device.startswith("cuda")
    batch = 64 if on_gpu else (8 if args.quick else 32)
    # Batched MTCNN on a GPU peaks near 128 frames (DESIGN.md); on a CPU batching only saves overhead.
    face_batch = args.face_batch or (128 if on_gpu else 16)
    reps = 5 if on_gpu else (1 if args.quick else 3)
    names = args.detectors.split(",") if args.detectors else detector.list_detectors()
    ensemble_names = args.ensemble.split(",") if args.ensemble else list(DEFAULT_ENSEMBLE)

    hardware = torch.cuda.get_device_name(0) if on_gpu else f"{cpu_model()}, {os.cpu_count()} cores visible"
    print(
        f"device: {device} ({hardware}); torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"python {host_platform.python_version()}; precision: {'bf16 autocast' if on_gpu else 'float32'}; "
        f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    with tempfile.TemporaryDirectory(prefix="forensics-bench-") as tmp:
        workdir = Path(tmp)
        clips = [
            write_moving_face_clip(workdir / f"clip{i}.mp4", seconds=args.clip_seconds, fps=CLIP_FPS, size=CLIP_SIZE)
            for i in range(n_clips)
        ]
        print(f"{n_clips} generated clip(s): {args.clip_seconds:.0f} s, {CLIP_FPS} fps, {CLIP_SIZE[0]}x{CLIP_SIZE[1]}")

        full, sampled = bench_decode(clips, args.frames)
        face_fps, faces_ps = bench_faces(clips, args.frames, device, face_batch)
        table(
            "stages",
            ["stage", "throughput"],
            [
                ["decode", full],
                ["decode + sample", sampled],
                [f"MTCNN (batch {face_batch})", f"{face_fps:.1f} frames/s, {faces_ps:.1f} faces/s"],
            ],
        )

        rows = []
        for name in names:
            per_s, shape = bench_detector(name, device, batch, reps)
            config = detector.get_config(name)
            rows.append([name, f"{config.input_size}px", config.input_kind, shape, f"{per_s:.1f}"])
            print(f"  timed {name}", file=sys.stderr, flush=True)
        table(
            f"detectors ({'bf16' if on_gpu else 'float32'}, {device})",
            ["detector", "input", "kind", "run", "crops/s"],
            rows,
        )

        stages, videos_per_s, cpu_s_per_clip, random_weights, label = bench_end_to_end(
            clips, ensemble_names, device, args.frames, face_batch, workdir
        )
        rows = [[stage.removesuffix("_s"), f"{seconds:.2f}"] for stage, seconds in stages.items()]
        note = f"; random weights for timing: {', '.join(random_weights)}" if random_weights else ""
        table(
            f"end to end, ensemble {'+'.join(ensemble_names)}, {args.frames} frames/clip ({label}{note})",
            ["stage", "s per clip"],
            rows,
        )
        print(
            f"\nvideos/s: {videos_per_s:.3f}   (s per {args.clip_seconds:.0f}-second clip: "
            f"{1 / videos_per_s:.2f} wall, {cpu_s_per_clip:.2f} CPU s)"
        )
        print(f"load average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
