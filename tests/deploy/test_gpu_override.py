"""deploy/scripts/gpu-override.py: one GPU worker service per GPU, each pinned to its own device."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.deploy.conftest import COMPOSE_FILE, GPU_OVERRIDE_SCRIPT, compose_model, run_compose


def generate(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GPU_OVERRIDE_SCRIPT), *args], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )


def override_file(tmp_path, *args: str):
    result = generate(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "compose.gpus.yml"
    path.write_text(result.stdout)
    return path


def gpu_workers(model: dict) -> dict:
    return {name: s for name, s in model["services"].items() if name.startswith("worker-gpu")}


def test_four_gpus_get_four_workers_each_reserving_only_its_own_device(tmp_path, stack):
    override = override_file(tmp_path, "4")
    run_compose("config", "--quiet", files=(COMPOSE_FILE, override))  # the merged project is valid
    merged = compose_model(files=(COMPOSE_FILE, override))
    workers = gpu_workers(merged)
    # The unpinned single-GPU service is parked in a profile: compose does not start it.
    assert sorted(workers) == ["worker-gpu-0", "worker-gpu-1", "worker-gpu-2", "worker-gpu-3"]
    base = stack["services"]["worker-gpu"]
    for gpu_id in range(4):
        name = f"worker-gpu-{gpu_id}"
        worker = workers[name]
        assert worker["deploy"]["resources"]["reservations"]["devices"] == [
            {"driver": "nvidia", "device_ids": [str(gpu_id)], "capabilities": ["gpu"]}
        ]
        command = worker["command"]
        assert command[command.index("-n") + 1] == f"{name}@%h"
        assert f'-d "{name}@$$HOSTNAME"' in worker["healthcheck"]["test"][1]
        # Everything else is the base service's: same image, queue, pool, env, volumes, dependencies.
        assert [c for c in command if "@%h" not in c] == [c for c in base["command"] if "@%h" not in c]
        for key in ("image", "environment", "volumes", "depends_on", "restart", "stop_grace_period"):
            assert worker[key] == base[key], (name, key)
    # Everything that is not a GPU worker is untouched.
    others = {name: s for name, s in merged["services"].items() if not name.startswith("worker-gpu")}
    assert others == {name: s for name, s in stack["services"].items() if not name.startswith("worker-gpu")}


def test_the_parked_single_gpu_worker_comes_back_with_its_profile(tmp_path):
    override = override_file(tmp_path, "2")
    services = run_compose("--profile", "single-gpu", "config", "--services", files=(COMPOSE_FILE, override)).stdout
    assert {"worker-gpu", "worker-gpu-0", "worker-gpu-1"} <= set(services.split())


def test_a_subset_of_gpus_can_be_named(tmp_path):
    override = override_file(tmp_path, "--gpus", "1,3")
    workers = gpu_workers(compose_model(files=(COMPOSE_FILE, override)))
    pinned = {name: w["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"] for name, w in workers.items()}
    assert pinned == {"worker-gpu-1": ["1"], "worker-gpu-3": ["3"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0"], "must be at least 1"),
        (["--gpus", "1,1"], "each GPU may be pinned once"),
        (["--gpus", "0,gpu1"], "non-negative integers"),
        ([], "give either the number of GPUs"),
        (["2", "--gpus", "0,1"], "give either the number of GPUs"),
    ],
)
def test_bad_gpu_lists_are_refused_with_a_reason(tmp_path, args, message):
    result = generate(tmp_path, *args)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr


def test_a_compose_file_without_a_gpu_worker_is_refused(tmp_path):
    other = tmp_path / "compose.yml"
    other.write_text("services:\n  api:\n    image: x\n")
    result = generate(tmp_path, "2", "--compose", str(other))
    assert result.returncode == 2 and "no worker-gpu service" in result.stderr
