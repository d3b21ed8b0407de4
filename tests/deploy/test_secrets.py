"""No usable default secrets, and no production process that falls back to development settings
(issue 12, holes 10 and 17). Each check starts a real Python process with the stack's environment."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.deploy.conftest import ENV_EXAMPLE, REPO_DIR, compose_model

MAKE_ENV = REPO_DIR / "deploy" / "scripts" / "make-env.py"
LOAD_SETTINGS = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def generated_env_file(tmp_path):
    result = subprocess.run(
        [sys.executable, str(MAKE_ENV), "forensics.example.org"], capture_output=True, text=True, check=True
    )
    path = tmp_path / ".env"
    path.write_text(result.stdout)
    return path, result.stdout


def service_env(env_file, service: str = "api") -> dict[str, str]:
    return {**compose_model(env_file=env_file)["services"][service]["environment"], "PATH": "/usr/bin:/bin"}


def start(env: dict[str, str], code: str = LOAD_SETTINGS) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO_DIR, capture_output=True, text=True, timeout=120
    )


def test_the_stack_started_with_env_example_as_is_refuses_its_placeholder_secrets():
    for service in ("api", "flower"):
        result = start(service_env(ENV_EXAMPLE, service))
        assert result.returncode != 0, service
        assert "DJANGO_SECRET_KEY" in result.stderr and "make-env.py" in result.stderr


def test_make_env_writes_fresh_secrets_that_production_starts_with(tmp_path):
    env_file, text = generated_env_file(tmp_path)
    _, again = generated_env_file(tmp_path / "..")
    values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert values["FORENSICS_HOSTNAME"] == "forensics.example.org"
    assert "change-me" not in text and len(values["DJANGO_SECRET_KEY"]) >= 50
    assert values["DJANGO_SECRET_KEY"] not in again  # fresh every time
    assert values["POSTGRES_APP_PASSWORD"] != values["POSTGRES_PASSWORD"]
    for service in ("migrate", "api", "flower"):
        result = start(service_env(env_file, service))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("name", "value", "service"),
    [
        ("DJANGO_SECRET_KEY", "embedded-development-key-not-for-production", "flower"),
        ("DJANGO_SECRET_KEY", "too-short", "flower"),
        # The owner's password is in migrate's DATABASE_URL only; everything else connects as the app role.
        ("POSTGRES_PASSWORD", "change-me", "migrate"),
        ("POSTGRES_APP_PASSWORD", "change-me", "api"),
        ("POSTGRES_APP_PASSWORD", "change-me", "flower"),
        ("FLOWER_BASIC_AUTH", "admin:change-me", "flower"),
        ("FORENSICS_REPORT_SIGNING_KEY", "change-me", "api"),
        ("FORENSICS_REPORT_SIGNING_KEY", "c2hvcnQ=", "api"),
    ],
)
def test_a_known_placeholder_or_weak_secret_is_refused_by_name(tmp_path, name, value, service):
    env_file, text = generated_env_file(tmp_path)
    env_file.write_text(text + f"\n{name}={value}\n")
    result = start(service_env(env_file, service))
    assert result.returncode != 0 and name in result.stderr, result.stderr


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi", "config.celery_app", "workers.app"])
def test_a_production_entry_point_without_a_settings_module_refuses_to_start(entry_point):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://x@127.0.0.1:1/x"}
    result = start(env, f"import {entry_point}")
    assert result.returncode != 0 and "DJANGO_SETTINGS_MODULE" in result.stderr, result.stderr
