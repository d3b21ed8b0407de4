"""Labelled media folders → face crops (the inference face pipeline, cached on disk) → a split by source.

A data source is a folder of images or videos with one label (``real/`` and ``fake/`` under a
data directory are two sources). Every item carries a *group*, the source video or identity it
comes from; splits keep whole groups together so no identity is on both sides.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detector.checkpoints import file_sha256
from detector.faces import FaceFinder, square_crop
from detector.media import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, MediaError, probe, sample_frames

LABELS = {"real": 0, "fake": 1}
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE_DIR = REPO_ROOT / "var" / "cache" / "faces"
# How faces are found in a source: "detect" runs the inference FaceFinder; "as_is" takes each
# image as an already cut face crop (face data sets such as FFHQ or DFDC crops).
FACE_MODES = ("detect", "as_is")
# 2: face landmarks are kept (in crop pixels) for landmark-shaped self-blend masks.
CACHE_FORMAT = 2


@dataclass(frozen=True)
class MediaItem:
    path: Path
    label: int  # 0 real, 1 manipulated
    group: str  # source video or identity: a split never separates one group
    kind: str  # "video" | "image"
    face_mode: str = "detect"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def media_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    return None


# Joins the ids of an item that belongs to several identities ("035+036": a face swap of two people).
GROUP_ID_SEPARATOR = "+"


def group_of(path: Path, group_pattern: str | None) -> str:
    """The item's group: the capture groups of ``group_pattern`` on the file stem, else the stem.

    A pattern with several capture groups names every identity the file shows, joined by ``+`` (a
    FaceForensics++ swap ``ffpp_c23_df_035_036`` → ``035+036``); :func:`link_groups` then joins every
    item that shares one of them. Optional groups that did not match are left out.
    """
    stem = path.stem
    if group_pattern:
        match = re.search(group_pattern, stem)
        if match:
            ids = [g for g in match.groups() if g] if match.groups() else [match.group(0)]
            return GROUP_ID_SEPARATOR.join(ids) if ids else match.group(0)
    return stem


def link_groups(items: Sequence[MediaItem]) -> list[MediaItem]:
    """Items whose groups share an identity joined into one group (union-find over the ``+``-separated ids).

    ``ffpp_c23_df_035_036`` (``035+036``) joins ``ffpp_c23_035`` (``035``) and ``ffpp_c23_036`` (``036``)
    and ``ffpp_c23_df_036_035``: the new group is their ids, sorted and joined (``035+036``), so a split keeps
    a manipulated video with both people's originals. Items with one id and no shared one keep their group.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for item in items:
        ids = item.group.split(GROUP_ID_SEPARATOR)
        for other in ids[1:]:
            a, b = find(ids[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
        find(ids[0])
    members: dict[str, set[str]] = {}
    for node in parent:
        members.setdefault(find(node), set()).add(node)
    names = {root: GROUP_ID_SEPARATOR.join(sorted(ids)) for root, ids in members.items()}
    return [dataclasses.replace(item, group=names[find(item.group.split(GROUP_ID_SEPARATOR)[0])]) for item in items]


def scan_folder(
    folder: str | Path,
    label: int | str,
    *,
    group_pattern: str | None = None,
    face_mode: str = "detect",
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    limit: int | None = None,
) -> list[MediaItem]:
    """Every image or video directly in ``folder`` (sorted by name), filtered by glob patterns."""
    folder = Path(folder)
    if face_mode not in FACE_MODES:
        raise ValueError(f"face_mode must be one of {FACE_MODES}, not {face_mode!r}")
    if isinstance(label, str):
        label = LABELS[label]
    items = []
    for path in sorted(folder.iterdir()):
        kind = media_kind(path)
        if kind is None or not path.is_file():
            continue
        if include and not any(fnmatch.fnmatch(path.name, p) for p in include):
            continue
        if any(fnmatch.fnmatch(path.name, p) for p in exclude):
            continue
        items.append(MediaItem(path, int(label), group_of(path, group_pattern), kind, face_mode))
    return items[:limit] if limit else items


def scan_source(source: Any, resolve: Callable[[str], Path]) -> list[MediaItem]:
    """A config's source (``detector.training.config.SourceConfig``) scanned, its path resolved by ``resolve``."""
    return scan_folder(
        resolve(source.path),
        source.label,
        group_pattern=source.group_pattern,
        face_mode=source.face_mode,
        include=source.include,
        exclude=source.exclude,
        limit=source.limit,
    )


def scan_labelled_dir(data_dir: str | Path, **kwargs: Any) -> list[MediaItem]:
    """``data_dir/real`` and ``data_dir/fake`` (either may be missing, not both)."""
    data_dir = Path(data_dir)
    items: list[MediaItem] = []
    for name, label in LABELS.items():
        if (data_dir / name).is_dir():
            items.extend(scan_folder(data_dir / name, label, **kwargs))
    if not items:
        raise FileNotFoundError(f"{data_dir}: no media under real/ or fake/")
    return items


@dataclass
class FaceCrops:
    """The face crops of one media item, all resized to one square size."""

    item: MediaItem
    crops: np.ndarray  # (N, S, S, 3) uint8 RGB
    face_boxes: np.ndarray  # (N, 4) x1, y1, x2, y2 of the detected face inside each crop, crop pixels
    frame_boxes: np.ndarray  # (N, 4) the face box in frame pixels (tracking needs it)
    # (N, 5, 2) MTCNN's five landmarks inside each crop, crop pixels; NaN where none were found (as_is)
    landmarks: np.ndarray
    frame_indices: np.ndarray  # (N,) int
    probabilities: np.ndarray  # (N,) face detection probability

    def __len__(self) -> int:
        return len(self.crops)


def _crop_transform(box: Sequence[float], margin: float, crop_px: int) -> tuple[float, float, float]:
    """(left, top, scale): frame pixel (x, y) lands at ((x - left) * scale, (y - top) * scale) in the crop
    that ``square_crop(rgb, box, margin)`` cuts, once resized to ``crop_px``."""
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * (1.0 + 2.0 * margin)
    left = round((x1 + x2) / 2.0 - side / 2)
    top = round((y1 + y2) / 2.0 - side / 2)
    return left, top, crop_px / max(1, round(side))


def _box_in_crop(box: Sequence[float], margin: float, crop_px: int) -> np.ndarray:
    """Where ``box`` lands inside ``square_crop(rgb, box, margin)`` once resized to ``crop_px``."""
    left, top, scale = _crop_transform(box, margin, crop_px)
    x1, y1, x2, y2 = box
    return np.array([(x1 - left) * scale, (y1 - top) * scale, (x2 - left) * scale, (y2 - top) * scale])


def _points_in_crop(points: np.ndarray, box: Sequence[float], margin: float, crop_px: int) -> np.ndarray:
    left, top, scale = _crop_transform(box, margin, crop_px)
    return (np.asarray(points, dtype=np.float64) - np.array([left, top])) * scale


class FaceCache:
    """Face crops per media file, computed once with :class:`FaceFinder` and kept under ``root``.

    The key is the file's sha256 plus every setting that changes the crops, so a renamed file
    hits the cache and a changed setting never returns stale crops.
    """

    def __init__(
        self,
        root: str | Path | None = None,
        *,
        frames_per_video: int = 16,
        crop_px: int = 256,
        margin: float = 0.3,
        max_faces_per_frame: int = 2,
        face_finder: FaceFinder | None = None,
        device: str = "cpu",
    ) -> None:
        self.root = Path(root or os.environ.get("FORENSICS_FACE_CACHE") or DEFAULT_CACHE_DIR)
        self.frames_per_video = frames_per_video
        self.crop_px = crop_px
        self.margin = margin
        self.max_faces_per_frame = max_faces_per_frame
        self._face_finder = face_finder
        self.device = device

    @property
    def face_finder(self) -> FaceFinder:
        if self._face_finder is None:
            self._face_finder = FaceFinder(device=self.device)
        return self._face_finder

    def key(self, item: MediaItem, sha256: str) -> str:
        settings = {
            "format": CACHE_FORMAT,
            "sha256": sha256,
            "face_mode": item.face_mode,
            "frames": self.frames_per_video if item.kind == "video" else 1,
            "crop_px": self.crop_px,
            "margin": self.margin,
            "max_faces": self.max_faces_per_frame,
        }
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:24]

    def faces(self, item: MediaItem) -> FaceCrops:
        sha = file_sha256(item.path)
        folder = self.root / self.key(item, sha)
        cached = folder / "faces.npz"
        if cached.is_file():
            with np.load(cached) as data:
                arrays = {k: data[k] for k in data.files}
        else:
            arrays = self._extract(item)
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / "faces.tmp.npz"
            np.savez(tmp, **arrays)
            tmp.replace(cached)
            (folder / "source.json").write_text(json.dumps({"path": str(item.path), "sha256": sha}) + "\n")
        return FaceCrops(item=item, **arrays)

    def _resize(self, crop: np.ndarray) -> np.ndarray:
        size = self.crop_px
        interpolation = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
        return cv2.resize(crop, (size, size), interpolation=interpolation)

    def _extract(self, item: MediaItem) -> dict[str, np.ndarray]:
        crops, face_boxes, frame_boxes, landmarks, indices, probs = [], [], [], [], [], []
        if item.face_mode == "as_is":
            frames, _ = sample_frames(item.path, samples=1, media=probe(item.path, kind="image"))
            rgb = frames[0].rgb
            height, width = rgb.shape[:2]
            side = max(height, width)
            # A ready crop: pad it square and take its centre as the face, with the same margin.
            crop = square_crop(rgb, (0.0, 0.0, float(width), float(height)), 0.0) if height != width else rgb
            inner = self.crop_px / (1.0 + 2.0 * self.margin)
            offset = (self.crop_px - inner) / 2.0
            crops.append(self._resize(crop))
            face_boxes.append([offset, offset, offset + inner, offset + inner])
            frame_boxes.append([0.0, 0.0, float(side), float(side)])
            landmarks.append(np.full((5, 2), np.nan))
            indices.append(0)
            probs.append(1.0)
        else:
            samples = self.frames_per_video if item.kind == "video" else 1
            try:
                frames, _ = sample_frames(item.path, samples=samples)
            except MediaError:
                frames = []
            readable = [(f.index, f.rgb) for f in frames if f.rgb is not None]
            found = self.face_finder.find(readable, margin=self.margin) if readable else []
            for per_frame in found:
                best = sorted(per_frame, key=lambda f: f.probability * f.size_px, reverse=True)
                for face in best[: self.max_faces_per_frame]:
                    crops.append(self._resize(face.crop))
                    face_boxes.append(_box_in_crop(face.box, self.margin, self.crop_px))
                    frame_boxes.append(list(face.box))
                    marks = face.landmarks
                    landmarks.append(
                        np.full((5, 2), np.nan)
                        if marks is None
                        else _points_in_crop(marks, face.box, self.margin, self.crop_px)
                    )
                    indices.append(face.frame_index)
                    probs.append(face.probability)
        size = self.crop_px
        return {
            "crops": np.asarray(crops, dtype=np.uint8).reshape(-1, size, size, 3),
            "face_boxes": np.asarray(face_boxes, dtype=np.float64).reshape(-1, 4),
            "frame_boxes": np.asarray(frame_boxes, dtype=np.float64).reshape(-1, 4),
            "landmarks": np.asarray(landmarks, dtype=np.float64).reshape(-1, 5, 2),
            "frame_indices": np.asarray(indices, dtype=np.int64),
            "probabilities": np.asarray(probs, dtype=np.float64),
        }


def split_by_group(
    items: Sequence[MediaItem], dev_share: float, seed: int, dev_groups: Sequence[str] = ()
) -> tuple[list[MediaItem], list[MediaItem]]:
    """Seeded train/dev split of whole groups; at least one group goes to dev when there are two.

    ``dev_groups``, when given, is the dev part (by group name) and ``dev_share`` is not used.
    """
    if dev_groups:
        unknown = sorted(set(dev_groups) - {i.group for i in items})
        if unknown:
            raise ValueError(f"dev_groups {', '.join(unknown)} match no item's group")
        chosen = set(dev_groups)
        return [i for i in items if i.group not in chosen], [i for i in items if i.group in chosen]
    groups = sorted({(i.label, i.group) for i in items})
    rng = np.random.default_rng(seed)
    dev_groups: set[tuple[int, str]] = set()
    for label in sorted({g[0] for g in groups}):
        of_label = [g for g in groups if g[0] == label]
        order = rng.permutation(len(of_label))
        n_dev = round(len(of_label) * dev_share)
        if dev_share > 0 and len(of_label) >= 2:
            n_dev = min(max(1, n_dev), len(of_label) - 1)
        dev_groups.update(of_label[i] for i in order[:n_dev])
    dev_group_names = {g for _, g in dev_groups}
    train = [i for i in items if i.group not in dev_group_names]
    dev = [i for i in items if i.group in dev_group_names]
    return train, dev


def split_train_dev_test(
    items: Sequence[MediaItem],
    test_share: float,
    dev_share: float,
    seed: int,
    dev_groups: Sequence[str] = (),
    test_groups: Sequence[str] = (),
) -> tuple[list[MediaItem], list[MediaItem], list[MediaItem]]:
    """Seeded three-way split by group: ``test_share`` of each label's groups (or exactly ``test_groups``, a
    test part written down before training) held apart first, never trained or tuned on; then ``dev_share``
    of the rest (or ``dev_groups``) as dev."""
    if test_groups and set(test_groups) & set(dev_groups):
        raise ValueError(f"groups both dev and test: {', '.join(sorted(set(test_groups) & set(dev_groups)))}")
    rest, test = split_by_group(items, test_share, seed, test_groups)
    train, dev = split_by_group(rest, dev_share, seed, dev_groups)
    return train, dev, test


def _split_rows(items: Iterable[MediaItem]) -> list[dict[str, Any]]:
    return [
        {"path": str(i.path), "label": i.label, "group": i.group, "kind": i.kind, "sha256": file_sha256(i.path)}
        for i in items
    ]


def write_split(path: str | Path, parts: dict[str, Iterable[MediaItem]], seed: int) -> None:
    """Write the split down: every file with its label, group and sha256, per part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: dict[str, Any] = {"seed": seed, "parts": {part: _split_rows(items) for part, items in parts.items()}}
    path.write_text(json.dumps(payload, indent=1) + "\n")


def add_split_part(path: str | Path, part: str, items: Iterable[MediaItem]) -> None:
    """Add (or replace) one part of a written split, e.g. the media calibration was fitted on."""
    path = Path(path)
    payload = json.loads(path.read_text())
    payload["parts"][part] = _split_rows(items)
    path.write_text(json.dumps(payload, indent=1) + "\n")


def read_split(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    return json.loads(Path(path).read_text())["parts"]


def split_hashes_and_groups(path: str | Path) -> tuple[set[str], set[str]]:
    """The sha256s and groups of every file a split trained or tuned on: what an evaluation must leave out.

    The ``test`` part is the opposite (held apart for the evaluation), so it is not counted.
    """
    hashes, groups = set(), set()
    for part, rows in read_split(path).items():
        if part == "test":
            continue
        for row in rows:
            hashes.add(row["sha256"])
            groups.add(row["group"])
    return hashes, groups
