"""The benchmark script runs every stage and prints every number it promises (on a tiny clip, CPU)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
def test_bench_on_cuda_without_a_gpu_says_so(bench, capsys):
    assert bench.main(["--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
