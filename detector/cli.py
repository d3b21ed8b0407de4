"""Command line: ``python -m detector analyze FILE [--json]``, ``reproduce MANIFEST.json ORIGINAL``, ``list``,
``train CONFIG.yaml`` and ``evaluate``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from detector.contract import PIPELINE_STAGES, AnalysisResult
from detector.media import DEFAULT_FRAMES, MediaError
from detector.reproduce import DEFAULT_TOLERANCE


def _print_human(result: AnalysisResult) -> None:
    verdict = result.verdict
    score = "n/a" if verdict.score is None else f"{verdict.score:.3f}"
    print(f"verdict: {verdict.label}  score (probability manipulated): {score}")
    print(f"reason:  {verdict.reason}")
    if verdict.untrained:
        print(f"warning: without trained weights, not used: {', '.join(verdict.untrained_detectors)}")
    for track in verdict.per_track:
        print(f"  track {track.track_id}: {track.label} {track.score:.3f} over {track.faces} faces")
    for name, score in verdict.per_detector.items():
        print(f"  detector {name}: {'n/a' if score is None else f'{score:.3f}'}")
    for warning in result.diagnostics.warnings:
        print(f"  input warning: {warning}")
    print("timings: " + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items()))


def _progress_bar():
    from tqdm import tqdm

    bar = tqdm(total=100 * len(PIPELINE_STAGES), disable=not sys.stderr.isatty(), unit="%", leave=False)

    def update(stage: str, percent: int) -> None:
        bar.set_description(stage)
        bar.n = PIPELINE_STAGES.index(stage) * 100 + percent
        bar.refresh()

    return bar, update


def _load_models(args: argparse.Namespace):
    """The ensemble and face finder the arguments ask for; models are loaded once per command."""
    from detector.contract import default_detectors
    from detector.ensemble import load_ensemble
    from detector.faces import FaceFinder

    detectors = [d.strip() for d in args.detectors.split(",") if d.strip()] if args.detectors else None
    # With no --detectors, the image defaults (a superset of the video ones); each file then runs its kind's.
    ensemble = load_ensemble(detectors or list(default_detectors("image")), device=args.device)
    face_finder = FaceFinder(
        device=ensemble.detectors[0].device if ensemble.detectors else "cpu",
        thresholds=args.face_thresholds,
        detect_max_side_px=args.detect_max_side,
        search_min_face_px=args.min_face,
        detect_every=args.detect_every,
    )
    return ensemble, face_finder


def _for_media(args: argparse.Namespace, ensemble, path):
    """The detectors ``path`` runs: those named, or else the defaults of its media kind, as a job's
    (``contract.default_detectors``: the generated-face detector on images only)."""
    from detector.contract import default_detectors
    from detector.ensemble import Ensemble
    from detector.media import probe

    if args.detectors:
        return ensemble
    try:
        kind = probe(path).kind
    except MediaError:
        return ensemble  # analyze reports the error itself
    names = default_detectors(kind)
    return Ensemble([d for d in ensemble.detectors if d.name in names])


def _verdict_policy(args: argparse.Namespace, ensemble):
    return ensemble.verdict_policy(
        strategy=args.aggregation, uncertainty_band=args.uncertainty_band, min_faces=args.min_faces
    )


def _error(args: argparse.Namespace, code: str, message: str) -> int:
    error = {"error": {"code": code, "message": message}}
    print(json.dumps(error) if getattr(args, "json", False) else f"error ({code}): {message}", file=sys.stderr)
    return 2


def _model_error(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, KeyError):
        return "unknown_detector", str(exc.args[0])
    if isinstance(exc, ValueError):
        return "invalid_argument", str(exc)
    return "bad_checkpoint", str(exc)


def cmd_analyze(args: argparse.Namespace) -> int:
    from detector.checkpoints import CheckpointError
    from detector.pipeline import analyze

    try:
        ensemble, face_finder = _load_models(args)
        _verdict_policy(args, ensemble)  # an invalid band or aggregation is refused before any work
    except (KeyError, ValueError, CheckpointError) as exc:
        return _error(args, *_model_error(exc))
    bar, update = _progress_bar()
    try:
        chosen = _for_media(args, ensemble, args.file)
        result = analyze(
            args.file,
            frames=args.frames,
            ensemble=chosen,
            face_finder=face_finder,
            policy=_verdict_policy(args, chosen),
            progress=update,
        )
    except MediaError as exc:
        bar.close()
        return _error(args, exc.code, exc.message)
    bar.close()
    if args.json:
        print(json.dumps(result.to_dict(), indent=None if args.compact else 2))
    else:
        _print_human(result)
    return 0


CSV_COLUMNS = (
    "path",
    "kind",
    "label",
    "score",
    "confidence",
    "faces",
    "tracks",
    "untrained_detectors",
    "error_code",
    "error_message",
    "seconds",
)


def cmd_analyze_folder(args: argparse.Namespace) -> int:
    """Batch inference over a folder (seed 003): one CSV row per image or video, models loaded once."""
    import csv
    import time

    from tqdm import tqdm

    from detector.checkpoints import CheckpointError
    from detector.pipeline import analyze
    from detector.predict import media_files

    files = media_files(args.folder, recursive=args.recursive)
    if not files:
        return _error(args, "no_media", f"no image or video files in {args.folder}")
    try:
        ensemble, face_finder = _load_models(args)
        policy = _verdict_policy(args, ensemble)
    except (KeyError, ValueError, CheckpointError) as exc:
        return _error(args, *_model_error(exc))

    names = [d.name for d in ensemble.detectors]
    columns = [*CSV_COLUMNS, *(f"score_{name}" for name in names)]
    with open(args.csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for path in tqdm(files, unit="file", disable=not sys.stderr.isatty()):
            started = time.perf_counter()
            row: dict[str, Any] = {"path": str(path)}
            try:
                chosen = _for_media(args, ensemble, path)
                policy = _verdict_policy(args, chosen)
                result = analyze(path, frames=args.frames, ensemble=chosen, face_finder=face_finder, policy=policy)
            except MediaError as exc:
                row.update(error_code=exc.code, error_message=exc.message)
            else:
                verdict = result.verdict
                row.update(
                    kind=result.media.kind,
                    label=verdict.label,
                    score=verdict.score,
                    confidence=verdict.confidence,
                    faces=result.diagnostics.faces_total,
                    tracks=result.tracks,
                    untrained_detectors=";".join(verdict.untrained_detectors),
                )
                for name, score in verdict.per_detector.items():
                    row[f"score_{name}"] = score
            row["seconds"] = round(time.perf_counter() - started, 3)
            writer.writerow(row)
            fh.flush()
    print(f"{len(files)} files -> {args.csv}")
    return 0


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def stage_thresholds(text: str) -> tuple[float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected three numbers like 0.6,0.7,0.8, got {text!r}") from None
    if len(values) != 3 or not all(0.0 < v < 1.0 for v in values):
        raise argparse.ArgumentTypeError(f"expected three numbers in (0, 1) like 0.6,0.7,0.8, got {text!r}")
    return values


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by analyze and analyze-folder: detectors, device, sampling and face detection."""
    from detector.aggregate import STRATEGIES, VerdictPolicy
    from detector.faces import DEFAULT_THRESHOLDS, DETECT_EVERY, DETECT_MAX_SIDE_PX, SEARCH_MIN_FACE_PX

    parser.add_argument("--detectors", help="comma-separated detector names (default: the shipped ensemble)")
    parser.add_argument(
        "--frames",
        type=positive_int,
        default=DEFAULT_FRAMES,
        help=f"frames sampled evenly from a video (default {DEFAULT_FRAMES})",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cuda if available)")
    verdict = parser.add_argument_group("verdict")
    verdict.add_argument(
        "--aggregation",
        choices=sorted(STRATEGIES),
        default=VerdictPolicy.strategy,
        help=f"how a track's frame scores become its score (default {VerdictPolicy.strategy})",
    )
    verdict.add_argument(
        "--uncertainty-band",
        type=float,
        default=None,
        metavar="W",
        help="scores within W of the threshold are inconclusive (default: the band the shipped detectors chose "
        f"on dev, else {VerdictPolicy.uncertainty_band})",
    )
    verdict.add_argument(
        "--min-faces",
        type=positive_int,
        default=VerdictPolicy.min_faces,
        metavar="N",
        help="a video needs a track of at least N scored faces for a verdict (default %(default)s)",
    )
    faces = parser.add_argument_group("face detection (MTCNN)")
    faces.add_argument(
        "--face-thresholds",
        type=stage_thresholds,
        default=DEFAULT_THRESHOLDS,
        metavar="P,R,O",
        help=f"MTCNN stage thresholds (default {','.join(str(t) for t in DEFAULT_THRESHOLDS)})",
    )
    faces.add_argument(
        "--detect-max-side",
        type=positive_int,
        default=DETECT_MAX_SIDE_PX,
        metavar="PX",
        help=f"shrink frames to this longer side before detection (default {DETECT_MAX_SIDE_PX})",
    )
    faces.add_argument(
        "--min-face",
        type=positive_int,
        default=SEARCH_MIN_FACE_PX,
        metavar="PX",
        help=f"smallest face searched for, in frame pixels (default {SEARCH_MIN_FACE_PX})",
    )
    faces.add_argument(
        "--detect-every",
        type=positive_int,
        default=DETECT_EVERY,
        metavar="K",
        help="search every K-th sampled frame in full and the frames between for faces of the size found "
        f"there (1: search every frame in full; default {DETECT_EVERY})",
    )


def add_analyze_folder_parser(sub: argparse._SubParsersAction) -> None:
    folder = sub.add_parser("analyze-folder", help="analyse every image and video in a folder into a CSV")
    folder.add_argument("folder")
    folder.add_argument("--csv", required=True, help="output CSV path")
    folder.add_argument("--recursive", action="store_true", help="include sub-folders")
    add_model_arguments(folder)
    folder.set_defaults(func=cmd_analyze_folder)


def cmd_list(args: argparse.Namespace) -> int:
    from detector.ensemble import DEFAULT_ENSEMBLE, shipped_checkpoint
    from detector.registry import get_config, list_detectors

    rows = []
    for name in list_detectors():
        config = get_config(name)
        checkpoint = shipped_checkpoint(name)
        rows.append(
            {
                "name": name,
                "architecture": config.architecture,
                "input_size": config.input_size,
                "input_kind": config.input_kind,
                "default": name in DEFAULT_ENSEMBLE,
                "weights": checkpoint.name if checkpoint else None,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        mark = "*" if row["default"] else " "
        weights = row["weights"] or "untrained (no shipped weights)"
        print(f"{mark} {row['name']:<30} {row['architecture']:<32} {row['input_size']:>4}px  {weights}")
    print("* = in the default ensemble")
    return 0


def _load_training_config(path: str):
    """The training config at ``path``, or None after printing why it is unusable (exit status 2)."""
    from detector.training.config import ConfigError, load_config

    try:
        return load_config(path)
    except (ConfigError, KeyError, FileNotFoundError) as exc:
        print(f"error (bad_config): {exc}", file=sys.stderr)
        return None


def cmd_train(args: argparse.Namespace) -> int:
    from detector.training.train import train

    config = _load_training_config(args.config)
    if config is None:
        return 2
    path = train(config, resume=args.resume)
    print(f"checkpoint: {path}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from detector.training.calibrate import calibrate_checkpoint

    config = _load_training_config(args.config)
    if config is None:
        return 2
    run = config.resolve(config.output_dir)
    checkpoint = Path(args.checkpoint) if args.checkpoint else run / f"{config.detector}.pt"
    split = Path(args.split) if args.split else run / "split.json"
    report = calibrate_checkpoint(checkpoint, config, split)
    print(json.dumps(report, indent=1))
    return 0


def _checkpoint_overrides(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--checkpoint expects NAME=PATH, got {value!r}")
        out[name.strip()] = path.strip()
    return out


def cmd_evaluate(args: argparse.Namespace) -> int:
    from detector.training.evaluate import ENSEMBLE, evaluate

    detectors = [d.strip() for d in args.detectors.split(",") if d.strip()] if args.detectors else None
    try:
        report = evaluate(
            args.data_dir,
            detectors,
            args.out,
            checkpoints_by_name=_checkpoint_overrides(args.checkpoint),
            face_mode=args.face_mode,
            group_pattern=args.group_pattern,
            frames_per_video=args.frames,
            holdout_of=args.holdout_of,
            device=args.device,
            log=lambda line: print(line, file=sys.stderr),
        )
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for level in ("video", "frame"):
        m = report["metrics"][level][ENSEMBLE]
        auc = "n/a" if m["auc_roc"] is None else f"{m['auc_roc']:.3f}"
        print(
            f"{level}: n={m['n']} AUC {auc} log loss {m['log_loss']:.3f} ECE {m['ece']:.3f} "
            f"accuracy {m['accuracy']:.3f}"
        )
    print(f"report: {args.out}/report.md")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from detector.checkpoints import CheckpointError
    from detector.reproduce import ReproduceError, reproduce

    try:
        document = json.loads(Path(args.manifest).read_text(encoding="utf-8"))
        comparison = reproduce(
            document,
            args.original,
            device=args.device,
            checkpoints=_checkpoint_overrides(args.checkpoint),
            tolerance=args.tolerance,
        )
    except (OSError, ValueError, ReproduceError) as exc:
        return _error(args, "cannot_reproduce", str(exc))
    except (KeyError, CheckpointError) as exc:
        return _error(args, *_model_error(exc))
    except MediaError as exc:
        return _error(args, exc.code, exc.message)
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=2))
    else:
        print(
            f"{comparison.status}: {comparison.scores_compared} scores compared, "
            f"largest difference {comparison.max_score_diff:.6g} (tolerance {comparison.tolerance:g})"
        )
        for line in comparison.environment:
            print(f"  environment: {line}")
        for line in comparison.mismatches:
            print(f"  mismatch: {line}")
    return 0 if comparison.reproduced else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m detector", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    analyze = sub.add_parser("analyze", help="analyse a video or image for face manipulation")
    analyze.add_argument("file")
    add_model_arguments(analyze)
    analyze.add_argument("--json", action="store_true", help="print the full result as JSON")
    analyze.add_argument("--compact", action="store_true", help="with --json: one line")
    analyze.set_defaults(func=cmd_analyze)
    add_analyze_folder_parser(sub)
    again = sub.add_parser(
        "reproduce", help="re-run an analysis from its manifest and the original; compare every score"
    )
    again.add_argument("manifest", help="a result with its manifest (analyze --json, or a job's /manifest/)")
    again.add_argument("original", help="the analysed file (its sha256 must match the manifest's)")
    again.add_argument("--device", default=None, help="default: the recorded device")
    again.add_argument("--checkpoint", action="append", default=[], help="NAME=PATH, instead of shipped weights")
    again.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help=f"largest score difference still reproduced (default {DEFAULT_TOLERANCE:g})",
    )
    again.add_argument("--json", action="store_true")
    again.set_defaults(func=cmd_reproduce)
    listing = sub.add_parser("list", help="list registered detectors")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    training = sub.add_parser("train", help="train a detector from a YAML config (see detector/training/configs)")
    training.add_argument("config")
    training.add_argument("--resume", action="store_true", help="continue from the run's last.pt")
    training.set_defaults(func=cmd_train)
    calibration = sub.add_parser(
        "calibrate", help="refit a trained checkpoint's calibration, threshold and band on its run's dev part"
    )
    calibration.add_argument("config")
    calibration.add_argument("--checkpoint", help="default: the run folder's <detector>.pt")
    calibration.add_argument("--split", help="default: the run folder's split.json")
    calibration.set_defaults(func=cmd_calibrate)
    evaluation = sub.add_parser("evaluate", help="evaluate detectors on DATA_DIR/real and DATA_DIR/fake")
    evaluation.add_argument("data_dir")
    evaluation.add_argument("--detectors", help="comma-separated detector names (default: the shipped ensemble)")
    evaluation.add_argument("--checkpoint", action="append", default=[], help="NAME=PATH, instead of shipped weights")
    evaluation.add_argument("--out", required=True, help="folder for report.json, report.md and the plots")
    evaluation.add_argument(
        "--frames",
        type=positive_int,
        default=DEFAULT_FRAMES,
        help=f"frames sampled per video, as a job samples them (default {DEFAULT_FRAMES})",
    )
    evaluation.add_argument(
        "--face-mode", choices=["detect", "as_is"], default="detect", help="as_is: the images are face crops"
    )
    evaluation.add_argument("--group-pattern", help="regex on file stems naming the source video or identity")
    evaluation.add_argument(
        "--holdout-of", action="append", default=[], help="a training split.json whose files and groups are left out"
    )
    evaluation.add_argument("--device", default=None)
    evaluation.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
