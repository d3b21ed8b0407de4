"""List endpoints load what they show with the rows: as many queries for many rows as for one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from cases.models import JobReview, JobState, ReviewStatus, Verdict, VerdictLabel
from tests.factories import CaseFactory, JobFactory, MediaFactory

pytestmark = pytest.mark.django_db


def a_reviewed_job_with_a_verdict(case, user):
    job = JobFactory(media=MediaFactory(case=case, uploaded_by=user), state=JobState.SUCCEEDED)
    Verdict.objects.create(job=job, label=VerdictLabel.MANIPULATED, score=0.9, aggregation="mean")
    JobReview.objects.create(job=job, reviewer=user, status=ReviewStatus.CONFIRMED)


def another_case_and_job(team, case, user):
    a_reviewed_job_with_a_verdict(CaseFactory(team=team, created_by=user), user)
    a_reviewed_job_with_a_verdict(case, user)


@pytest.mark.parametrize("url", ["/api/v1/jobs/", "/api/v1/cases/", "/api/v1/cases/{case}/"])
def test_a_list_takes_as_many_queries_for_four_rows_as_for_one(url, alice, team, case, django_assert_num_queries):
    client = APIClient()
    client.force_authenticate(alice)  # a token's last-use write would differ between the two requests
    url = url.format(case=case.pk)
    another_case_and_job(team, case, alice)
    with CaptureQueriesContext(connection) as one_row:
        assert client.get(url).status_code == 200
    for _ in range(3):
        another_case_and_job(team, case, alice)

    with django_assert_num_queries(len(one_row)):
        body = client.get(url).json()
    rows = body["results"] if "results" in body else body["jobs"]
    assert len(rows) >= 4
    assert all(row.get("review") or row.get("latest_verdict") for row in rows)


def test_a_case_with_many_jobs_lists_its_newest_and_links_to_all_of_them_paginated(alice, team, case):
    from cases.api.serializers import CASE_DETAIL_JOBS
    from tests.factories import JobFactory, MediaFactory

    media = MediaFactory(case=case)
    jobs = [JobFactory(media=media) for _ in range(CASE_DETAIL_JOBS + 5)]
    client = APIClient()
    client.force_authenticate(alice)
    detail = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert len(detail["jobs"]) == CASE_DETAIL_JOBS and detail["job_count"] == len(jobs)
    listed = [j["created_at"] for j in detail["jobs"]]
    assert listed == sorted(listed, reverse=True) and len({j["id"] for j in detail["jobs"]}) == CASE_DETAIL_JOBS
    page = client.get(detail["jobs_url"]).json()
    assert page["count"] == len(jobs) and page["next"]


def test_a_page_of_frames_takes_as_many_queries_for_many_frames_and_faces_as_for_one(alice, case):
    from cases import lease, results
    from tests.factories import fake_result

    client = APIClient()
    client.force_authenticate(alice)
    urls = []
    for frames, faces in ((1, 1), (60, 3)):
        job = JobFactory(media=MediaFactory(case=case, uploaded_by=alice))
        assert lease.claim_job(job.pk, "w1") is not None
        assert results.record_results(job.pk, "w1", fake_result(frames=frames, faces_per_frame=faces))
        urls.append(f"/api/v1/jobs/{job.pk}/frames/")
    with CaptureQueriesContext(connection) as one_frame:
        assert len(client.get(urls[0]).json()["results"]) == 1
    with CaptureQueriesContext(connection) as sixty_frames:
        assert len(client.get(urls[1]).json()["results"]) == 60
    assert len(sixty_frames) == len(one_frame), [q["sql"] for q in sixty_frames.captured_queries]
