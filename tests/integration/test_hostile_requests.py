"""The hostile corpora through real nginx, gunicorn, Postgres and a Celery worker (issue 12's report).

Hostile requests (hostile_requests.py), slow clients, and hostile media (hostile_corpus.py) go to the
stack as an outside client sends them. What must hold: no 5xx, every refusal a 4xx, every job of an
accepted file ends failed with a media error code or with a verdict, and no process dies or is
replaced. The suite sends a seeded share of every family (FORENSICS_HOSTILE_SHARE, 0.2);
``python bench/hostile.py`` sends all of it (over 1,000 inputs) and prints the same report.
"""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import api_token_for
from tests.integration import hostile_run
from tests.integration.hostile_corpus import FAIL, build_corpus, build_generated_media
from tests.integration.hostile_requests import build_requests

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SHARE = float(os.environ.get("FORENSICS_HOSTILE_SHARE", "0.2"))
SEED = int(os.environ.get("FORENSICS_HOSTILE_SEED", "12"))
FULL_CORPUS_MIN = 1_000


def media_inputs(share: float):
    media = build_corpus() + build_generated_media(SEED)
    if share >= 1:
        return media
    # The suite: the named worst cases, then an even spread (every one of these runs on the worker).
    named = [m for m in media if m.name.startswith(("ten-hours", "huge100000", "onebyone", "mp4-hls", "empty"))]
    keep = max(8, round(len(media) * share / 5))
    spread = [media[int(i * len(media) / keep)] for i in range(keep)]
    return named + [m for m in spread if m not in named]


def test_hostile_requests_slow_clients_and_media_end_in_4xx_or_clean_jobs_with_no_5xx_and_no_crash(
    api_behind_nginx, celery_worker_process, team, case
):
    from accounts.models import Role
    from tests.factories import JobFactory, MediaFactory, UserFactory

    # A reviewer: every route of the corpus, reviews included, gets as far as parsing the body.
    rita = UserFactory(username="rita", team=team, team__role=Role.REVIEWER)
    url, token = api_behind_nginx["url"], api_token_for(rita)
    ids = {"case": case.pk, "job": JobFactory(media=MediaFactory(case=case, uploaded_by=rita)).pk}
    processes = hostile_run.Processes.of(api_behind_nginx["gunicorn"].pid, celery_worker_process.pid)
    assert processes.gunicorn_workers and processes.celery_pool
    report = hostile_run.Report()
    started = time.monotonic()

    hostile_run.send_requests(report, url, build_requests(SEED, SHARE), token, ids)
    connections = 40 if SHARE >= 1 else 16
    hostile_run.slow_loris(report, url, token, connections=connections, probes=connections // 2)
    media = media_inputs(SHARE)
    hostile_run.send_media(report, url, media, token, case.pk, wait_s=900 if SHARE >= 1 else 300)

    report.seconds = time.monotonic() - started
    report.crashes = processes.crashes()
    report.peak_rss = processes.peak_rss()
    print("\n" + report.table())
    assert report.server_errors == []
    assert report.crashes == []
    assert report.bad_jobs == []
    # Only HTTP that is not HTTP may go unanswered (nginx closes the connection).
    assert [n for n in report.no_answer if not n.startswith("malformed-http")] == []
    served, probes = report.slow_loris["ordinary requests served meanwhile"].split("/")
    assert served == probes
    assert any(m.expect == FAIL for m in media)
    if SHARE >= 1:
        assert sum(report.sent.values()) >= FULL_CORPUS_MIN
