"""The data layer: scanning labelled folders, groups, the face cache and the split by group."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from detector.synthetic import write_moving_face_clip
from detector.training.data import (
    FaceCache,
    MediaItem,
    group_of,
    link_groups,
    read_split,
    scan_folder,
    scan_labelled_dir,
    split_by_group,
    split_hashes_and_groups,
    split_train_dev_test,
    write_split,
)


def test_labelled_folder_gives_real_and_fake_items_with_groups(face_folder: Path) -> None:
    items = scan_labelled_dir(face_folder, face_mode="as_is", group_pattern=r"^([a-z]+\d+)_")
    assert {i.label for i in items} == {0, 1}
    assert {i.group for i in items if i.label == 0} == {"id0", "id1", "id2", "id3"}
    assert all(i.kind == "image" for i in items)


def test_include_and_exclude_patterns_filter_by_file_name(face_folder: Path) -> None:
    only_first = scan_folder(face_folder / "real", "real", include=["id0_*"], exclude=["*_1.png"])
    assert [i.path.name for i in only_first] == ["id0_0.png"]


def test_split_keeps_every_group_on_one_side_and_is_seeded() -> None:
    items = [MediaItem(Path(f"v{g}_{f}.mp4"), g % 2, f"v{g}", "video") for g in range(10) for f in range(3)]
    train, dev = split_by_group(items, dev_share=0.3, seed=5)
    assert {i.group for i in train}.isdisjoint({i.group for i in dev})
    assert len(train) + len(dev) == len(items)
    assert {i.label for i in dev} == {0, 1}, "each label keeps a share in dev"
    assert split_by_group(items, dev_share=0.3, seed=5) == (train, dev)
    assert split_by_group(items, dev_share=0.3, seed=6) != (train, dev)


def test_split_file_records_each_files_group_and_sha256(face_folder: Path, tmp_path: Path) -> None:
    items = scan_labelled_dir(face_folder, face_mode="as_is", group_pattern=r"^([a-z]+\d+)_")
    train, dev = split_by_group(items, 0.25, seed=0)
    write_split(tmp_path / "split.json", {"train": train, "dev": dev}, seed=0)
    parts = read_split(tmp_path / "split.json")
    assert len(parts["train"]) == len(train) and len(parts["dev"]) == len(dev)
    hashes, groups = split_hashes_and_groups(tmp_path / "split.json")
    assert len(hashes) == len(items) and groups == {i.group for i in items}
    assert json.loads((tmp_path / "split.json").read_text())["seed"] == 0


def test_ready_crops_are_cached_and_read_back(face_folder: Path, tmp_path: Path) -> None:
    cache = FaceCache(tmp_path / "cache", crop_px=64)
    item = scan_folder(face_folder / "real", "real", face_mode="as_is")[0]
    first = cache.faces(item)
    assert first.crops.shape == (1, 64, 64, 3)
    x1, y1, x2, y2 = first.face_boxes[0]
    assert 0 < x1 < x2 < 64 and 0 < y1 < y2 < 64
    assert len(list((tmp_path / "cache").glob("*/faces.npz"))) == 1
    again = cache.faces(item)
    assert np.array_equal(first.crops, again.crops)


@pytest.mark.slow
def test_video_faces_come_from_the_inference_face_finder(tmp_path: Path) -> None:
    clip = write_moving_face_clip(tmp_path / "real" / "clip.mp4", seconds=1.0, fps=6)
    cache = FaceCache(tmp_path / "cache", frames_per_video=3, crop_px=96)
    faces = cache.faces(scan_folder(clip.parent, "real")[0])
    assert len(faces) >= 2, "MTCNN finds the astronaut in most frames"
    assert faces.crops.shape[1:] == (96, 96, 3)
    for x1, y1, x2, y2 in faces.face_boxes:
        # A margin of 0.3 puts the face box in the middle ~60 % of the crop.
        assert 10 < x1 < x2 < 86 and 10 < y1 < y2 < 86
    assert len(set(faces.frame_indices.tolist())) == len(faces)


def test_a_face_swap_joins_the_group_of_both_people_it_shows() -> None:
    real_pattern = r"^(?:ffpp_c23_(\d{3})|([a-z]+))"
    fake_pattern = r"^ffpp_c23_(?:df|f2f|fs)_(\d{3})_(\d{3})"
    reals = [
        MediaItem(Path(f"ffpp_c23_{i}.mp4"), 0, group_of(Path(f"ffpp_c23_{i}"), real_pattern), "video")
        for i in ("035", "036", "044", "183")
    ]
    swap = Path("ffpp_c23_df_035_036")
    assert group_of(swap, fake_pattern) == "035+036" and group_of(Path("lipnet_x"), real_pattern) == "lipnet"
    fakes = [
        MediaItem(swap.with_suffix(".mp4"), 1, group_of(swap, fake_pattern), "video"),
        MediaItem(Path("ffpp_c23_f2f_044_945.mp4"), 1, "044+945", "video"),
    ]
    linked = {i.path.stem: i.group for i in link_groups(reals + fakes)}
    assert linked["ffpp_c23_035"] == linked["ffpp_c23_036"] == linked["ffpp_c23_df_035_036"] == "035+036"
    assert linked["ffpp_c23_044"] == linked["ffpp_c23_f2f_044_945"] == "044+945"
    assert linked["ffpp_c23_183"] == "183", "an original with no swap keeps its own group"
    _, _, test = split_train_dev_test(link_groups(reals + fakes), 0.0, 0.0, 0, test_groups=["035+036"])
    assert {i.path.stem for i in test} == {"ffpp_c23_035", "ffpp_c23_036", "ffpp_c23_df_035_036"}
    with pytest.raises(ValueError, match="both dev and test"):
        split_train_dev_test(link_groups(reals), 0.0, 0.0, 0, dev_groups=["183"], test_groups=["183"])
    with pytest.raises(ValueError, match="match no item"):
        split_train_dev_test(link_groups(reals), 0.0, 0.0, 0, test_groups=["999"])


def test_the_test_part_of_a_split_is_not_what_an_evaluation_leaves_out(tmp_path: Path) -> None:
    train = [MediaItem(Path(__file__), 0, "a", "image")]
    test = [MediaItem(Path(__file__).with_name("conftest.py"), 1, "b", "image")]
    write_split(tmp_path / "split.json", {"train": train, "test": test}, seed=0)
    hashes, groups = split_hashes_and_groups(tmp_path / "split.json")
    assert groups == {"a"} and len(hashes) == 1
