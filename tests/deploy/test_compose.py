"""docker-compose.yml is a valid compose project and has the properties production relies on."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.deploy.conftest import REPO_DIR, REQUIRED_SECRETS, compose_model, run_compose, write_env_file

SERVICES = {"postgres", "redis", "migrate", "api", "worker-gpu", "worker-cpu", "beat", "flower", "web"}
APP_SERVICES = ("migrate", "api", "worker-gpu", "worker-cpu", "beat")


def named_volume_at(service: dict, target: str) -> str:
    mounts = [v for v in service.get("volumes", []) if v["target"] == target]
    assert len(mounts) == 1, f"nothing (or several) mounted at {target}: {service.get('volumes')}"
    assert mounts[0]["type"] == "volume", mounts[0]
    return mounts[0]["source"]


def option_after(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_the_compose_file_validates_against_the_compose_specification():
    result = run_compose("config", "--quiet")
    assert result.returncode == 0 and result.stderr == ""


def test_the_validator_rejects_a_file_that_breaks_the_specification(tmp_path):
    broken = tmp_path / "compose.yml"
    broken.write_text(
        "services:\n  api:\n    image: x\n    deploy:\n      resources:\n        reservations:\n"
        "          devices:\n            - capabilities: gpu\n"
    )
    result = run_compose("config", "--quiet", files=(broken,), env_file=None, check=False)
    assert result.returncode != 0
    assert "capabilities must be a array" in result.stderr


SECRETS = list(REQUIRED_SECRETS)


@pytest.mark.parametrize("secret", SECRETS)
def test_a_missing_secret_stops_compose_with_its_name(tmp_path, secret):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "".join(
            line + "\n"
            for line in (REPO_DIR / ".env.example").read_text().splitlines()
            if not line.startswith(f"{secret}=")
        )
    )
    result = run_compose("config", "--quiet", env_file=env_file, check=False)
    assert result.returncode != 0
    assert f"required variable {secret} is missing a value" in result.stderr


def test_every_service_of_the_stack_is_there(stack):
    assert set(stack["services"]) == SERVICES


def test_postgres_keeps_its_data_on_a_named_volume_and_has_a_healthcheck(stack):
    postgres = stack["services"]["postgres"]
    assert named_volume_at(postgres, "/var/lib/postgresql/data") in stack["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_redis_persists_with_aof_and_never_evicts_queued_jobs(stack):
    redis = stack["services"]["redis"]
    command = redis["command"]
    assert option_after(command, "--appendonly") == "yes"
    assert option_after(command, "--maxmemory-policy") == "noeviction"
    assert named_volume_at(redis, "/data") in stack["volumes"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_migrate_runs_once_and_everything_that_uses_the_schema_waits_for_it(stack):
    services = stack["services"]
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert "manage.py migrate --noinput" in " ".join(migrate["command"])
    assert "collectstatic --noinput" in " ".join(migrate["command"])
    for name in ("api", "worker-gpu", "worker-cpu", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_only_migrate_connects_as_the_owner_everything_else_as_the_restricted_app_role(stack):
    from urllib.parse import urlsplit

    services = stack["services"]
    owner = urlsplit(services["migrate"]["environment"]["DATABASE_URL"])
    assert owner.username == "forensics" == services["postgres"]["environment"]["POSTGRES_USER"]
    # migrate creates the app role (with its own password) and grants it rows only, after the migrations.
    command = " ".join(services["migrate"]["command"])
    assert command.index("manage.py migrate") < command.index("manage.py grant_app_role forensics_app")
    assert services["migrate"]["environment"]["POSTGRES_APP_PASSWORD"]
    for name in ("api", "worker-gpu", "worker-cpu", "beat", "flower"):
        url = urlsplit(services[name]["environment"]["DATABASE_URL"])
        assert (url.username, url.hostname, url.path) == ("forensics_app", "postgres", owner.path), name
        assert url.password, name
        assert "POSTGRES_APP_PASSWORD" not in services[name]["environment"], name


def test_only_the_api_holds_the_report_signing_key(stack):
    services = stack["services"]
    assert services["api"]["environment"]["FORENSICS_REPORT_SIGNING_KEY"]
    for name in ("migrate", "worker-gpu", "worker-cpu", "beat", "flower"):
        assert "FORENSICS_REPORT_SIGNING_KEY" not in services[name]["environment"], name


def test_the_api_runs_gunicorn_and_its_healthcheck_asks_healthz(stack):
    api = stack["services"]["api"]
    assert api["command"][:2] == ["gunicorn", "config.wsgi:application"]
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    # nginx waits for a healthy api, not just a started one.
    assert stack["services"]["web"]["depends_on"]["api"]["condition"] == "service_healthy"


def test_production_settings_load_from_the_api_services_environment_and_serve_static_through_whitenoise(tmp_path):
    # .env.example's placeholder secrets are refused (tests/deploy/test_secrets.py): fresh ones, as an operator would.
    made = subprocess.run(
        [sys.executable, str(REPO_DIR / "deploy/scripts/make-env.py"), "forensics.example.org"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / ".env").write_text(made.stdout)
    api = compose_model(env_file=tmp_path / ".env")["services"]["api"]
    env = {**api["environment"], "FORENSICS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    probe = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'mw': s.MIDDLEWARE, 'static': s.STORAGES['staticfiles']['BACKEND'], "
        "'vt': s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], 'limit': s.JOB_TIME_LIMIT_S, "
        "'debug': s.DEBUG, 'media': str(s.MEDIA_ROOT)}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in loaded["mw"]
    assert loaded["static"].startswith("whitenoise.storage.")
    assert loaded["debug"] is False and loaded["media"] == "/media"
    from workers.tasks import HARD_LIMIT_GRACE_S

    # Redis must not hand a job that is still running to a second worker.
    assert loaded["vt"] > loaded["limit"] + HARD_LIMIT_GRACE_S


def test_the_gpu_worker_reserves_a_gpu_and_never_forks_cuda(stack):
    worker = stack["services"]["worker-gpu"]
    assert worker["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    ]
    command = worker["command"]
    assert command[:4] == ["celery", "-A", "workers.app", "worker"]
    assert option_after(command, "-Q") == "gpu"
    assert option_after(command, "--pool") == "solo"
    assert worker["environment"]["FORENSICS_DEVICE"] == "cuda"
    assert named_volume_at(worker, "/media") == "media"


def test_gpu_worker_concurrency_pool_and_batch_size_come_from_the_env_file(tmp_path):
    overrides = {"FORENSICS_GPU_POOL": "threads", "FORENSICS_GPU_CONCURRENCY": "3", "FORENSICS_FACE_BATCH": "128"}
    env_file = write_env_file(tmp_path / ".env", overrides)
    worker = compose_model(env_file=env_file)["services"]["worker-gpu"]
    assert option_after(worker["command"], "--pool") == "threads"
    assert option_after(worker["command"], "-c") == "3"
    assert worker["environment"]["FORENSICS_FACE_BATCH"] == "128"


def test_the_face_batch_setting_reaches_the_face_finder(monkeypatch):
    from workers import model_cache

    monkeypatch.setenv("FORENSICS_FACE_BATCH", "48")
    model_cache.face_finder.cache_clear()
    try:
        assert model_cache.face_finder("cpu").batch_size == 48
    finally:
        model_cache.face_finder.cache_clear()


def test_cpu_workers_take_the_housekeeping_queue_and_can_be_scaled(stack):
    worker = stack["services"]["worker-cpu"]
    assert "cpu" in option_after(worker["command"], "-Q").split(",")
    assert "deploy" not in worker or "reservations" not in worker["deploy"].get("resources", {})
    assert worker["environment"]["FORENSICS_DEVICE"] == "cpu"
    # --scale needs services without a fixed container name or host port.
    assert "container_name" not in worker and "ports" not in worker
    assert named_volume_at(worker, "/media") == "media"


def test_beat_runs_the_reaper_and_the_storage_clean_up_on_the_cpu_queue(stack):
    beat = stack["services"]["beat"]
    assert beat["command"][:4] == ["celery", "-A", "workers.app", "beat"]
    from config.celery_app import app

    schedule = {entry["task"]: entry["options"]["queue"] for entry in app.conf.beat_schedule.values()}
    assert schedule == {"forensics.reap_stale_jobs": "cpu", "forensics.clean_up_storage": "cpu"}


def test_flower_is_published_on_the_hosts_loopback_only_and_only_with_basic_auth(stack):
    flower = stack["services"]["flower"]
    assert [(p["host_ip"], p["target"]) for p in flower["ports"]] == [("127.0.0.1", 5555)]
    assert "depends_on" not in stack["services"]["web"] or "flower" not in stack["services"]["web"]["depends_on"]
    assert re.fullmatch(r"[^:]+:.+", flower["environment"]["FLOWER_BASIC_AUTH"])
    variables = json.loads(run_compose("config", "--variables", "--format", "json").stdout)
    assert variables["FLOWER_BASIC_AUTH"]["Required"] is True


def test_nginx_is_the_only_port_published_beyond_the_host(stack):
    published = {
        name
        for name, service in stack["services"].items()
        for port in service.get("ports", [])
        if port.get("host_ip") not in ("127.0.0.1", "::1")
    }
    assert published == {"web"}
    assert stack["services"]["web"]["ports"][0]["target"] == 8080


def test_the_app_believes_x_forwarded_for_from_nginxs_pinned_address_alone(stack):
    """Not a private range: a lab network in that range would have its clients trusted as proxies (issue 28)."""
    import ipaddress

    nginx = stack["services"]["web"]["networks"]["default"]["ipv4_address"]
    (subnet,) = [c["subnet"] for c in stack["networks"]["default"]["ipam"]["config"]]
    assert ipaddress.ip_address(nginx) in ipaddress.ip_network(subnet)
    for name in APP_SERVICES:
        assert stack["services"][name]["environment"]["FORENSICS_TRUSTED_PROXIES"] == nginx, name
    # Every service is on that one network, so nginx reaches the api from its pinned address.
    assert all(set(service.get("networks", {"default": None})) == {"default"} for service in stack["services"].values())


def test_nginx_caps_uploads_sets_timeouts_serves_static_and_sends_security_headers(tmp_path):
    template = (REPO_DIR / "deploy/nginx/templates/default.conf.template").read_text()
    assert "proxy_read_timeout ${NGINX_PROXY_TIMEOUT_S}s;" in template
    assert "client_body_timeout" in template
    assert re.search(r"location /static/ \{\s*alias /srv/static/;", template)
    snippet = (REPO_DIR / "deploy/nginx/snippets/security-headers.conf").read_text()
    for header in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
        assert f"add_header {header}" in snippet
    # Every location nginx answers itself includes the headers (Django sets them on what it serves).
    for location in ("= /nginx-health", "/static/", "/media/", "/flower/"):
        body = template.split(f"location {location} {{", 1)[1].split("}", 1)[0]
        assert "include /etc/nginx/snippets/security-headers.conf;" in body, location
    # The upload cap script turns the API's cap into client_max_body_size (with multipart slack).
    script = REPO_DIR / "deploy/nginx/docker-entrypoint.d/40-upload-cap.sh"
    env = {"PATH": "/usr/bin:/bin", "FORENSICS_MAX_UPLOAD_BYTES": "1000", "NGINX_CONF_DIR": str(tmp_path)}
    subprocess.run(["sh", str(script)], env=env, check=True, timeout=10)
    assert (tmp_path / "upload-cap.inc").read_text() == "client_max_body_size 1049576;\n"
    bad = subprocess.run(["sh", str(script)], env={**env, "FORENSICS_MAX_UPLOAD_BYTES": "2G"}, capture_output=True)
    assert bad.returncode != 0 and b"must be a number of bytes" in bad.stderr


def test_the_web_and_app_services_share_static_and_media_volumes(stack):
    services = stack["services"]
    assert named_volume_at(services["migrate"], "/app/var/static") == "static"
    assert named_volume_at(services["web"], "/srv/static") == "static"
    for name in ("api", "worker-gpu", "worker-cpu"):
        assert services[name]["environment"]["FORENSICS_MEDIA_ROOT"] == "/media"
        assert named_volume_at(services[name], "/media") == "media"


def test_every_long_running_service_restarts_and_has_a_healthcheck(stack):
    for name, service in stack["services"].items():
        if name == "migrate":
            continue
        assert service["restart"] == "unless-stopped", name
        if name != "beat":  # beat answers no probe; it only publishes
            assert service["healthcheck"]["test"], name


def test_every_service_has_a_memory_limit(stack):
    limits = {name: int(service.get("mem_limit") or 0) for name, service in stack["services"].items()}
    assert all(limits.values()), {name: limit for name, limit in limits.items() if not limit}
    assert limits["redis"] > 1024**3  # above its maxmemory (1gb): Redis refuses writes before it is killed


def test_third_party_images_are_pinned_to_a_release(stack):
    ours = {service["image"] for service in stack["services"].values() if "build" in service}
    for name, service in stack["services"].items():
        if service["image"] not in ours:
            assert re.fullmatch(r"[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.]+)?", service["image"]), (name, service["image"])


def test_jobs_are_routed_to_the_gpu_queue_and_housekeeping_to_cpu_one_message_at_a_time():
    from config.celery_app import app

    conf = app.conf
    assert {q.name for q in conf.task_queues} == {"gpu", "cpu"}
    assert conf.task_routes["forensics.analyze_job"] == {"queue": "gpu"}
    assert conf.task_routes["forensics.reap_stale_jobs"] == {"queue": "cpu"}
    assert conf.task_routes["forensics.clean_up_storage"] == {"queue": "cpu"}
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1


def test_every_housekeeping_task_has_a_time_limit():
    from workers import tasks

    for task in (tasks.reap_stale_jobs, tasks.clean_up_storage):
        assert 0 < task.soft_time_limit < task.time_limit, task.name
    # The analysis runs in the solo pool, where Celery's own limits do nothing: it sets its own
    # (tests/platform/test_time_limits.py runs a job past it).
    assert tasks.analyze_job.acks_late is True


def test_the_readme_documents_running_in_production_with_commands_that_exist():
    readme = (REPO_DIR / "README.md").read_text()
    section = readme.split("## Run in production", 1)[1].split("\n## ", 1)[0]
    for command in (
        "python3 deploy/scripts/make-env.py forensics.example.org > .env",
        "docker compose up -d",
        "docker compose run --rm migrate",
        "python manage.py createsuperuser",
        "python manage.py create_api_token",
        "--scale worker-cpu=4",
        "python3 deploy/scripts/gpu-override.py 4 > compose.gpus.yml",
        "docker compose -f docker-compose.yml -f compose.gpus.yml up -d",
        "/readyz",
        "FLOWER_BASIC_AUTH",
        "forensics_media",
    ):
        assert command in section, command
    assert (REPO_DIR / "platform/accounts/management/commands/create_api_token.py").is_file()
    assert (REPO_DIR / "deploy/scripts/make-env.py").is_file()
    # The services the section names are the compose file's.
    services = set(re.findall(r"`(worker-gpu|worker-cpu|postgres|redis|migrate|api|beat|flower|web)`", section))
    assert services == SERVICES


def test_the_demo_and_test_launchers_run_the_same_commands_as_the_compose_services(stack):
    from workers import processes

    services = stack["services"]
    web = processes.web_command(8000, workers=3, threads=4)
    assert web[1:] == option_after_replaced(services["api"]["command"], "--bind", "127.0.0.1:8000")[1:]
    gpu = processes.worker_command(queues="gpu", concurrency=1, pool="solo", name="worker-gpu")
    assert gpu[1:] == services["worker-gpu"]["command"][1:]
    cpu = processes.worker_command(queues="cpu,gpu", concurrency=2, pool="prefork", name="worker-cpu")
    assert cpu[1:] == services["worker-cpu"]["command"][1:]


def option_after_replaced(command: list[str], flag: str, value: str) -> list[str]:
    command = list(command)
    command[command.index(flag) + 1] = value
    return command
