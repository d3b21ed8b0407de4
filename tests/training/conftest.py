"""Generated face data for training tests: the astronaut photograph, varied, as face crops and a clip."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.synthetic import astronaut_rgb


def face_crop_variant(seed: int, size: int = 96) -> np.ndarray:
    """The astronaut's head, shifted, rescaled and recoloured by ``seed``: one "identity" per seed."""
    rng = np.random.default_rng(seed)
    head = astronaut_rgb()[20:260, 120:360]
    dx, dy = rng.integers(-12, 13, size=2)
    head = np.roll(head, (int(dy), int(dx)), axis=(0, 1))
    out = cv2.resize(head, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    out = out * rng.uniform(0.8, 1.2, size=3) + rng.uniform(-15, 15)
    return np.clip(out, 0, 255).astype(np.uint8)


def write_face_folder(root: Path, reals: int = 8, fakes: int = 4) -> Path:
    """``root/real`` with ``reals`` crops (two per group) and ``root/fake`` with blurred-centre fakes."""
    for label in ("real", "fake"):
        (root / label).mkdir(parents=True, exist_ok=True)
    for i in range(reals):
        crop = face_crop_variant(i)
        cv2.imwrite(str(root / "real" / f"id{i // 2}_{i % 2}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    for i in range(fakes):
        crop = face_crop_variant(100 + i)
        centre = crop[30:66, 30:66]
        crop[30:66, 30:66] = cv2.GaussianBlur(cv2.resize(cv2.resize(centre, (12, 12)), (36, 36)), (5, 5), 0)
        cv2.imwrite(str(root / "fake" / f"fk{i // 2}_{i % 2}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
    return root


@pytest.fixture(scope="session")
def face_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_face_folder(tmp_path_factory.mktemp("faces"))


@pytest.fixture(autouse=True)
def isolated_face_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test writes into the repository's var/cache: every FaceCache defaults to a temp folder."""
    cache = tmp_path / "face-cache"
    monkeypatch.setenv("FORENSICS_FACE_CACHE", str(cache))
    return cache
