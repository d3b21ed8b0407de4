"""The embedded default (SQLite + filesystem broker + a real worker) run exactly as `make demo` runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workers import processes

pytestmark = pytest.mark.integration


def test_make_demo_analyses_the_sample_clip_end_to_end(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(FORENSICS_DATA_DIR=str(tmp_path / "var"), FORENSICS_MEDIA_ROOT=str(tmp_path / "var" / "media"))
    port = processes.free_port()
    result = subprocess.run(
        [sys.executable, "-m", "workers.demo", "--exit", "--port", str(port), "--timeout", "400"],
        cwd=processes.REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "var" / "db.sqlite3").exists(), "the embedded default uses SQLite"
    assert list((tmp_path / "var" / "broker").iterdir()), "and the filesystem broker"
    start = result.stdout.index("{\n")
    summary = json.loads(result.stdout[start : result.stdout.index("\n}\n", start) + 2])
    assert summary["state"] == "succeeded"
    assert summary["verdict"]["label"] in ("manipulated", "authentic", "inconclusive")
    assert f"open http://127.0.0.1:{port}/" in result.stdout
