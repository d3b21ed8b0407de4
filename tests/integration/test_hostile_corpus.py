"""Hostile uploads through the real API: each ends in a clear 4xx or a failed job with an error code.

All of the corpus (tests/integration/hostile_corpus.py) goes through the full Django stack; accepted
files are analysed by ``workers.analysis.run_job``, the function the Celery task calls, in this
process for speed. A sample of the accepted ones also goes over HTTP to a real `celery worker`.
"""

from __future__ import annotations

import collections
import time

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import AnalysisJob, JobState
from tests.conftest import api_token_for, client_for, post_job
from tests.integration.hostile_corpus import FAIL, REJECT, SURVIVE, build_corpus
from workers.analysis import run_job

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
# What a failed job may say: the media's own problem, never "internal_error" (a bug or a crash).
MEDIA_ERROR_CODES = {"unreadable_media", "media_too_large", "media_too_small", "media_too_long", "decode_timeout"}
CHEAP = {"frames": 2, "detectors": "spectral_lr"}
REAL_WORKER_SAMPLE = 12


@pytest.fixture(scope="module")
def corpus():
    items = build_corpus()
    assert len(items) >= 200
    return items


def test_every_hostile_upload_ends_in_a_4xx_or_a_failed_job_with_a_code(alice, case, corpus):
    client = client_for(alice)
    outcomes: dict[str, str] = {}
    started = time.monotonic()
    for item in corpus:
        upload = SimpleUploadedFile(item.name, item.data, "video/mp4")
        response = client.post("/api/v1/jobs/", {"file": upload, "case": case.pk, **CHEAP}, format="multipart")
        label = f"{item.name} ({item.what})"
        assert response.status_code < 500, f"{label}: {response.status_code} {response.content[:300]}"
        if response.status_code != 202:
            body = response.json()
            assert 400 <= response.status_code < 500 and body.get("code"), f"{label}: {body}"
            outcomes[item.name] = f"{response.status_code} {body['code']}"
            assert item.expect in (REJECT, SURVIVE), f"{label} was refused at upload: {body}"
            continue
        assert item.expect != REJECT, f"{label} passed sniffing as {response.json()['media']['mime_type']}"
        job_id = response.json()["id"]
        state = run_job(job_id, "corpus")
        job = AnalysisJob.objects.get(pk=job_id)
        assert job.state == state and job.state in (JobState.FAILED, JobState.SUCCEEDED), (label, state)
        if job.state == JobState.FAILED:
            assert job.error_code in MEDIA_ERROR_CODES and job.error_message, (label, job.error_code, job.error_message)
            outcomes[item.name] = f"failed {job.error_code}"
        else:
            assert item.expect == SURVIVE, f"{label} was analysed as if it were sound"
            outcomes[item.name] = "succeeded"
    elapsed = time.monotonic() - started
    summary = collections.Counter(outcomes.values())
    print(
        f"\n{len(corpus)} hostile inputs in {elapsed:.1f} s: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(summary.items()))
    )
    assert len(outcomes) == len(corpus)
    assert not any("internal_error" in o for o in outcomes.values())
    by_expectation = collections.Counter((item.expect, outcomes[item.name].split()[0]) for item in corpus)
    print("by expectation:", dict(by_expectation))


def test_a_sample_of_accepted_hostile_files_fails_cleanly_on_a_real_worker(
    live_server, celery_worker_process, alice, case, corpus
):
    from tests.chaos.conftest import children_of

    pool_before = children_of(celery_worker_process.pid)
    headers = {"Authorization": f"Token {api_token_for(alice)}"}
    accepted = [item for item in corpus if item.expect == FAIL]
    picks = ("ten-hours", "huge100000", "one-pixel", "onebyone", "mp4-hls")
    named = [item for item in accepted if item.name.startswith(picks)]
    strided = accepted[:: max(1, len(accepted) // REAL_WORKER_SAMPLE)]
    sample = named + [item for item in strided if item not in named]
    urls = {}
    for item in sample[:REAL_WORKER_SAMPLE]:
        response = post_job(live_server.url, headers, item.name, item.data, case=case.pk, **CHEAP)
        assert response.status_code == 202, (item.name, response.status_code, response.text[:300])
        urls[item.name] = response.headers["Location"]
    deadline = time.monotonic() + 180
    results = {}
    while len(results) < len(urls) and time.monotonic() < deadline:
        for name, url in urls.items():
            if name not in results:
                body = requests.get(url, headers=headers, timeout=30).json()
                if body["state"] not in ("queued", "running"):
                    results[name] = body
        time.sleep(0.5)
    assert len(results) == len(urls), f"unfinished: {set(urls) - set(results)}"
    for name, body in results.items():
        assert body["state"] == "failed" and body["error_code"] in MEDIA_ERROR_CODES, (name, body["error_code"])
    # 0 worker crashes: the same worker and the same pool process ran every one of them.
    assert celery_worker_process.poll() is None
    assert children_of(celery_worker_process.pid) == pool_before
    print(
        f"real worker: {len(results)}/{len(urls)} failed cleanly: {sorted({b['error_code'] for b in results.values()})}"
    )


@pytest.mark.parametrize(
    "playlist",
    [
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{clip}\n#EXT-X-ENDLIST\n",
        "#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/{clip}\n#EXT-X-ENDLIST\n",
        "ffconcat version 1.0\nfile '{clip}'\n",
    ],
    ids=["hls-local-file", "hls-network", "concat"],
)
def test_the_decoder_does_not_follow_a_playlist_even_past_sniffing(tmp_path, sample_clip_path, playlist):
    """Defence in depth: a playlist that reached the worker must not make FFmpeg open what it names."""
    from detector.media import MediaError, probe

    path = tmp_path / "evidence.mp4"
    path.write_text(playlist.format(clip=sample_clip_path))
    with pytest.raises(MediaError) as refused:
        probe(path, kind="video")
    assert refused.value.code == "unreadable_media"
