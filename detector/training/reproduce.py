"""Rebuild the shipped weights end to end: ``python -m detector.training.reproduce`` (what ``make train`` runs).

1. trains every detector of :data:`SHIPPED` from ``detector/training/configs/<name>.yaml``;
2. copies each final checkpoint to ``detector/weights/<name>.pt`` (with its ``.sha256`` side file) and
   its train/dev split to ``detector/weights/<name>.split.json``;
3. evaluates the shipped ensemble on the held-out part of ``../shared/data`` (every file and group
   the training splits used is left out): videos, then the face crops, each its own report;
4. writes ``detector/weights/EVALUATION.md`` and a model card ``detector/weights/<name>.md`` each.

CPU: about 21 minutes on two shared cores once the face cache is warm (first run adds face detection).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from detector.checkpoints import LoadedCheckpoint, file_sha256, load
from detector.ensemble import DEFAULT_ENSEMBLE, MIN_DEFAULT_DEV_AUC, OPT_IN_SHIPPED, WEIGHTS_DIR
from detector.training.config import load_config
from detector.training.data import REPO_ROOT
from detector.training.evaluate import ENSEMBLE, evaluate
from detector.training.train import train

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
# One source of truth: this script trains and ships what the pipeline runs by default, and the
# opt-in detectors that ship weights but run only when a job names them.
SHIPPED = (*DEFAULT_ENSEMBLE, *OPT_IN_SHIPPED)
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
EVALUATION_DIR = REPO_ROOT / "var" / "runs" / "evaluation"
# faces/ file names: dfdc_<video>-<frame>-<face>.png, genconvit_<video>_<frame>.jpg and
# genconvit_<fake video>_<source video>_<frame>.jpg; the video id is the group.
FACES_GROUP_PATTERN = r"^((?:dfdc|genconvit)_[a-z]+)"

LICENCE_NOTE = """\
Trained on files from `../shared/data` (see its `MANIFEST.tsv` for each file's source repository and
licence): LivePortrait driving clips (MIT repository), deepface unit-test photographs (MIT
repository; the photographs show public figures and their own rights are not documented) and a
sample of FFHQ faces from the "140k Real and Fake Faces" set. FFHQ is published by NVIDIA under
CC BY-NC-SA 4.0 (the individual photographs under their Flickr licences): **these weights are for
research and non-commercial use**. {extra}The evaluation data includes DFDC samples (DFDC terms of use:
research only) and GPL-3.0 repository samples; they were not used for training."""


def ship(name: str, checkpoint: Path) -> None:
    """Copy a trained checkpoint into ``detector/weights`` and write its ``.sha256`` side file."""
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    target = WEIGHTS_DIR / f"{name}.pt"
    shutil.copyfile(checkpoint, target)
    sha = file_sha256(target)
    target.with_name(target.name + ".sha256").write_text(f"{sha}  {target.name}\n")


def ship_split(name: str, split: Path) -> Path:
    """Write the run's split down next to the weights: which files (by sha256) trained and tuned them.

    Paths are written relative to the repository root (``../shared/data/...``), not this machine's.
    """
    payload = json.loads(split.read_text())
    root = str(SHARED_DATA.resolve())
    for rows in payload["parts"].values():
        for row in rows:
            if row["path"].startswith(root + "/"):
                row["path"] = "../shared/data/" + row["path"][len(root) + 1 :]
    target = WEIGHTS_DIR / f"{name}.split.json"
    target.write_text(json.dumps(payload, indent=1) + "\n")
    return target


def run_evaluations(names: tuple[str, ...], splits: list[Path]) -> dict[str, dict[str, Any]]:
    reports = {}
    reports["videos"] = evaluate(
        SHARED_DATA / "videos",
        names,
        EVALUATION_DIR / "videos",
        holdout_of=splits,
        ensemble_of=DEFAULT_ENSEMBLE,
    )
    reports["faces"] = evaluate(
        SHARED_DATA / "faces",
        names,
        EVALUATION_DIR / "faces",
        face_mode="as_is",
        group_pattern=FACES_GROUP_PATTERN,
        holdout_of=splits,
        ensemble_of=DEFAULT_ENSEMBLE,
    )
    return reports


def _f(value: Any) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def evaluation_markdown(
    reports: dict[str, dict[str, Any]], train_seconds: dict[str, float], kept: list[str], total_seconds: float
) -> str:
    videos, faces = reports["videos"], reports["faces"]
    lines = [
        "# Evaluation of the shipped detectors",
        "",
        "Written by `python -m detector.training.reproduce`. Data: the part of `../shared/data` that no",
        "training split used (files and source groups of `var/runs/*/split.json` left out):",
        f"`videos/` ({videos['items_real']} real videos from other sources and identities than the training",
        f"clips, {videos['items_fake']} manipulated videos; {videos['frames_per_video']} frames each, as a job",
        f"samples them) and `faces/` ({faces['items_real']} real and {faces['items_fake']} fake DFDC face crops,",
        "frame level only). No detector saw a real",
        "manipulation in training: the fakes here are unseen kinds of manipulation.",
        "",
        f"`ensemble` is the default ensemble the pipeline runs, the mean of {' + '.join(videos['ensemble_of'])};",
        "detectors outside it ship weights but run only when a job names them.",
        "",
        "| detector | video AUC | video log loss | video ECE | video FPR on reals @ threshold | video TPR "
        "| threshold | frame AUC (videos) | frame AUC (faces/) | frame ECE (faces/) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in [*videos["detectors"], ENSEMBLE]:
        v = videos["metrics"]["video"][name]
        fv = videos["metrics"]["frame"][name]
        ff = faces["metrics"]["frame"][name]
        lines.append(
            f"| {name} | {_f(v['auc_roc'])} | {_f(v['log_loss'])} | {_f(v['ece'])} | {_f(v['fpr'])} "
            f"| {_f(v['tpr'])} | {_f(v['threshold'])} | {_f(fv['auc_roc'])} | {_f(ff['auc_roc'])} | {_f(ff['ece'])} |"
        )
    lines += [
        "",
        "Per video (ensemble score, calibrated P(manipulated)):",
        "",
        "| video | label | faces | median face px | " + " | ".join([*videos["detectors"], ENSEMBLE]) + " |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in [*videos["detectors"], ENSEMBLE]) + " |",
    ]
    for row in videos["per_item"]:
        scores = " | ".join(_f(row["video_scores"][n]) for n in [*videos["detectors"], ENSEMBLE])
        label = "fake" if row["label"] else "real"
        lines.append(
            f"| {Path(row['path']).name} | {label} | {row['faces']} | {row['median_face_px']:.0f} | {scores} |"
        )
    lines += [
        "",
        training_time_line(train_seconds, kept, total_seconds),
        "",
        "Splits: training and dev files of each detector, with their groups and sha256, are in",
        "`detector/weights/<name>.split.json`; the evaluation items are exactly the rows above (videos) and",
        "every file of `faces/` (no `faces/` file or group appears in a training split).",
        "",
        "Caveats: 13 videos is a tiny test set (one video moves the AUC by ~0.03); ECE on a dozen videos is",
        "noisy. Full reports with ROC/PR/reliability/confusion plots: `var/runs/evaluation/{videos,faces}/`.",
        "",
    ]
    return "\n".join(lines)


def training_time_line(train_seconds: dict[str, float], kept: list[str], total_seconds: float) -> str:
    """Each detector's training time as its checkpoint recorded it, and which ones this run did not retrain."""
    line = "Training wall time (CPU, two shared cores): " + ", ".join(
        f"{n} {s / 60:.1f} min" for n, s in train_seconds.items()
    )
    if kept:
        line += f" ({', '.join(kept)}: shipped weights kept, not retrained in this run)"
    return line + f". This run, face extraction and evaluation included, took {total_seconds / 60:.1f} min."


def model_card(name: str, loaded: LoadedCheckpoint, reports: dict[str, dict[str, Any]]) -> str:
    training = loaded.config.get("training", {})
    dev = loaded.metrics.get("dev", {})
    video = reports["videos"]["metrics"]["video"][name]
    frame_faces = reports["faces"]["metrics"]["frame"][name]
    sources = "\n".join(
        f"- `{s['path']}` ({s['label']}, faces {s['face_mode']}"
        + (f", only {', '.join(s['include'])}" if s["include"] else "")
        + (f", first {s['limit']} files" if s["limit"] else "")
        + ")"
        for s in training.get("data", {}).get("sources", [])
    )
    extra = (
        "StyleGAN faces of the same set were the labelled fakes (NVIDIA StyleGAN output, non-commercial). "
        if any(s["label"] == "fake" for s in training.get("data", {}).get("sources", []))
        else ""
    )
    config_keys = {k: v for k, v in loaded.config.items() if k not in ("training", "extra")}
    return f"""# Model card: `{name}`

| | |
| --- | --- |
| architecture | `{loaded.config.get("architecture")}` |
| input | {loaded.config.get("input_size")} px face crops, margin {loaded.config.get("crop_margin")} |
| file | `detector/weights/{name}.pt`, {loaded.path.stat().st_size / 1e6:.2f} MB |
| sha256 | `{loaded.sha256}` |
| calibration | {loaded.calibration} (fitted on the dev split) |
| threshold | {loaded.threshold:.3f} (calibrated probability) |
| training config | `detector/training/configs/{name}.yaml`, seed {training.get("seed")} |
| reproduce | `python -m detector.training.reproduce` |
| default ensemble | {default_membership(name, dev)} |

## Data
Real faces only, from these sources (face crops by the inference `FaceFinder`, split by source
video or identity with the seed above; the split, every file with its group and sha256, is
`detector/weights/{name}.split.json`):

{sources}

Fakes: self-blended pseudo-fakes (SBI; a real face blended into a warped, recoloured, re-sampled
copy of itself through a random deformed ellipse or polygon mask inside the face box)
{"plus the labelled fakes above" if extra else "only"}. The evaluation sources (video-retalking, SadTalker,
face_recognition and facenet-pytorch clips, all fakes, `faces/`) were never used in training.

## Metrics
Dev split (held-out groups of the training sources; reals and their pseudo-fakes):
AUC {_f(dev.get("auc_roc"))}, log loss {_f(dev.get("log_loss"))}, ECE {_f(dev.get("ece"))},
accuracy {_f(dev.get("accuracy"))} at the threshold ({dev.get("n_real")} real, {dev.get("n_fake")} fake crops).

Held-out evaluation (see `EVALUATION.md`): video AUC {_f(video["auc_roc"])}, log loss {_f(video["log_loss"])},
ECE {_f(video["ece"])}, FPR on real videos {_f(video["fpr"])} at the threshold; frame AUC on the DFDC
face crops of `faces/` {_f(frame_faces["auc_roc"])}.

Config saved in the checkpoint: `{json.dumps(config_keys)}`

## Licence of the training data
{LICENCE_NOTE.format(extra=extra)}

## Known limits
- Trained on CPU in minutes on a few hundred real faces of a handful of identities: a baseline,
  not a forensic instrument. Scores must be read with the other detectors and a human analyst.
- Pseudo-fakes teach blending traces; whole-face synthesis, re-enactment without blending and
  heavy compression can leave none of them.
- Staged, well-lit footage dominates training; beauty filters, low light and small faces raise
  false positives. The evaluation set is small (13 videos) and its numbers are uncertain.
{measured_limit(video)}"""


def default_membership(name: str, dev: dict[str, Any]) -> str:
    if name in DEFAULT_ENSEMBLE:
        return f"yes: runs on every job that names no detectors (dev AUC {_f(dev.get('auc_roc'))})"
    return (
        f"no: dev AUC {_f(dev.get('auc_roc'))} is below the bar of {MIN_DEFAULT_DEV_AUC:.2f}; "
        "runs only when a job names it"
    )


def measured_limit(video: dict[str, Any]) -> str:
    """A known limit read off the held-out numbers, so the card never claims more than was measured."""
    auc = video["auc_roc"]
    if auc is None:
        return ""
    if auc < 0.5:
        return (
            f"- On the held-out videos it ranks fakes *below* reals (video AUC {auc:.3f}): worse than chance there;\n"
            "  its training cue does not carry over to these compressed, unseen manipulations.\n"
        )
    if auc < 0.85:
        return (
            f"- Held-out video AUC {auc:.3f} is below the project's goal of 0.85, and FPR on real videos at the\n"
            f"  threshold is {_f(video['fpr'])}: treat a score as a weak hint, never as a finding.\n"
        )
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m detector.training.reproduce", description=__doc__)
    parser.add_argument("--skip-training", action="store_true", help="ship and evaluate the existing runs only")
    parser.add_argument("--resume", action="store_true", help="resume interrupted runs from their last.pt")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SHIPPED,
        metavar="NAME",
        help="train (or with --skip-training, ship from var/runs) only these; the others keep their shipped "
        "weights and split, and the evaluation still covers them all",
    )
    parser.add_argument(
        "--evaluate-only",
        action="store_true",
        help="train and ship nothing: evaluate the shipped weights and rewrite EVALUATION.md and the model cards",
    )
    args = parser.parse_args(argv)
    if args.evaluate_only and (args.only or args.skip_training or args.resume):
        parser.error("--evaluate-only trains and ships nothing: it takes no --only, --skip-training or --resume")
    if not SHARED_DATA.is_dir():
        parser.error(f"{SHARED_DATA} is missing: the shared real media is needed to train")
    run_started = time.perf_counter()
    kept = [name for name in SHIPPED if args.evaluate_only or (args.only and name not in args.only)]
    splits: dict[str, Path] = {}
    for name in SHIPPED:
        if name in kept:
            splits[name] = WEIGHTS_DIR / f"{name}.split.json"
            continue
        config = load_config(CONFIG_DIR / f"{name}.yaml")
        run_dir = config.resolve(config.output_dir)
        checkpoint = run_dir / f"{name}.pt" if args.skip_training else train(config, resume=args.resume)
        splits[name] = run_dir / "split.json"
        ship(name, checkpoint)
        ship_split(name, splits[name])
    shipped = {name: load(WEIGHTS_DIR / f"{name}.pt") for name in SHIPPED}
    train_seconds = {name: float(c.metrics.get("train_seconds", 0.0)) for name, c in shipped.items()}
    reports = run_evaluations(SHIPPED, list(splits.values()))
    total_seconds = time.perf_counter() - run_started
    markdown = evaluation_markdown(reports, train_seconds, kept, total_seconds)
    (WEIGHTS_DIR / "EVALUATION.md").write_text(markdown)
    for name, checkpoint in shipped.items():
        (WEIGHTS_DIR / f"{name}.md").write_text(model_card(name, checkpoint, reports))
        size_mb = checkpoint.path.stat().st_size / 1e6
        print(f"{checkpoint.path} ({size_mb:.2f} MB) sha256 {checkpoint.sha256}, model card {name}.md")
    print(f"evaluation: {WEIGHTS_DIR / 'EVALUATION.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
