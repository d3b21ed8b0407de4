"""The batched MTCNN finds what facenet-pytorch's MTCNN finds, with one crop call per cascade stage."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from detector.mtcnn import BatchedMTCNN, pyramid_scales
from detector.synthetic import astronaut_rgb
from detector.tracking import iou

THRESHOLDS = (0.6, 0.7, 0.8)


def scene(shift: int) -> np.ndarray:
    """The astronaut photograph shifted on a grey 320x480 canvas: one face of about 100 px."""
    canvas = np.full((320, 480, 3), 118, dtype=np.uint8)
    canvas[:, shift : shift + 300] = cv2.resize(astronaut_rgb(), (300, 320))[:, :300]
    return canvas


@pytest.fixture(scope="module")
def batched():
    return BatchedMTCNN("cpu")


def test_detections_agree_with_facenet_pytorch(batched):
    from facenet_pytorch import MTCNN

    reference = MTCNN(keep_all=True, thresholds=list(THRESHOLDS), min_face_size=20, post_process=False)
    frames = [scene(0), scene(90), scene(180)]
    with torch.inference_mode():
        boxes, probs, points = reference.detect(np.stack(frames), landmarks=True)
    ours = batched.detect(frames, 20, THRESHOLDS)
    for theirs_boxes, theirs_probs, theirs_points, mine in zip(boxes, probs, points, ours, strict=True):
        assert len(mine) == len(theirs_boxes) == 1
        assert iou(tuple(mine.boxes[0]), tuple(theirs_boxes[0])) > 0.9
        assert abs(mine.probs[0] - theirs_probs[0]) < 0.01
        assert np.abs(mine.landmarks[0] - theirs_points[0]).max() < 0.1 * (theirs_boxes[0][2] - theirs_boxes[0][0])


def test_each_frame_of_a_batch_gets_its_own_faces(batched):
    blank = np.full((320, 480, 3), 118, dtype=np.uint8)
    found = batched.detect([blank, scene(100), blank], 20, THRESHOLDS)
    assert [len(f) for f in found] == [0, 1, 0]
    assert found[1].boxes.shape == (1, 4) and found[1].landmarks.shape == (1, 5, 2)
    assert found[0].boxes.shape == (0, 4) and found[0].landmarks.shape == (0, 5, 2)


def test_the_pyramid_starts_at_the_smallest_face_and_stops_at_the_frame():
    scales = pyramid_scales(360, 640, min_face_px=24)
    assert scales[0] == pytest.approx(0.5)
    assert 360 * scales[-1] >= 12 > 360 * scales[-1] * 0.709
    assert len(pyramid_scales(360, 640, 120)) < len(scales)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_gpu_finds_what_the_cpu_finds(batched):
    frames = [scene(0), scene(150)]
    on_gpu = BatchedMTCNN("cuda").detect(frames, 20, THRESHOLDS)
    for cpu, gpu in zip(batched.detect(frames, 20, THRESHOLDS), on_gpu, strict=True):
        assert len(cpu) == len(gpu) == 1
        assert iou(tuple(cpu.boxes[0]), tuple(gpu.boxes[0])) > 0.95
