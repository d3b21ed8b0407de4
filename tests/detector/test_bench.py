"""The benchmark script runs every stage and prints every number it promises (on a tiny clip, CPU)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load_script("run")


@pytest.mark.slow
def test_quick_bench_prints_decode_faces_detector_and_end_to_end_numbers(bench, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("FORENSICS_WEIGHTS_DIR", str(tmp_path))  # no shipped weights: timed with random ones
    args = ["--quick", "--detectors", "custom_cnn,resnext_lstm", "--ensemble", "custom_cnn", "--frames", "2"]
    assert bench.main([*args, "--clip-seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"decode\s+\d+ frames/s", out)
    assert re.search(r"MTCNN \(batch 16\)\s+[\d.]+ frames/s, [\d.]+ faces/s", out)
    assert re.search(r"custom_cnn\s+\d+px\s+frame\s+batch 8\s+[\d.]+", out)
    assert re.search(r"resnext_lstm\s+224px\s+track\s+1 track\(s\) x 8 crops\s+[\d.]+", out)
    assert "random weights for timing: custom_cnn" in out
    for stage in ("decode", "faces", "scoring", "aggregate", "heatmaps", "total"):
        assert re.search(rf"^{stage}\s+\d+\.\d\d\s*$", out, re.MULTILINE), stage
    assert re.search(r"videos/s: [\d.]+ .*wall, [\d.]+ CPU s", out)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
@pytest.mark.parametrize("script", ["run", "clips", "side_by_side"])
def test_bench_on_cuda_without_a_gpu_says_so(script, capsys):
    assert load_script(script).main(["--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_side_by_side_pairs_ours_with_an_earlier_run_clip_by_clip(capsys):
    side_by_side = load_script("side_by_side")

    def run(scores: list[float]) -> list[dict]:
        return [
            {
                "clip": f"{n}.mp4",
                "label": n % 2,
                "ours_score": s,
                "ours_label": "manipulated" if s >= 0.5 else "authentic",
            }
            for n, s in enumerate(scores)
        ]

    then = run([0.1, 0.6, 0.3, 0.8, 0.45, 0.7])
    now = run([0.1, 0.6, 0.3, 0.8, 0.65, 0.7])  # one real clip crosses the threshold
    side_by_side.print_paired(then, {"every labelled clip": now, "held-out clips": now[:2]})
    out = capsys.readouterr().out
    assert "every labelled clip (6): score moves mean 0.0333, max 0.2000; verdict labels changed: 1 (4.mp4)" in out
    assert "AUC now - then 0.889 - 1.000 = -0.111 [" in out
    assert "held-out clips (2): score moves mean 0.0000, max 0.0000; verdict labels changed: 0;" in out
