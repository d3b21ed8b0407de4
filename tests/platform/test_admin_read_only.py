"""Evidence cannot be edited in the Django admin, not even by a superuser (issue 12, hole 17)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from cases import lease, results
from cases.models import AnalysisJob, Case, Media, Verdict
from tests.factories import JobFactory, fake_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "x" * 20))
    return client


@pytest.fixture
def judged_job():
    job = JobFactory()
    lease.claim_job(job.pk, "w")
    results.record_results(job.pk, "w", fake_result(score=0.9))
    return AnalysisJob.objects.get(pk=job.pk)


def test_a_superuser_can_read_but_not_change_a_verdict_a_job_a_media_or_a_case(superuser_client, judged_job):
    verdict = judged_job.verdict
    label = verdict.label
    for model, pk, change in [
        (Verdict, verdict.pk, {"job": judged_job.pk, "label": "authentic", "aggregation": "x"}),
        (AnalysisJob, judged_job.pk, {"state": "failed"}),
        (Media, judged_job.media_id, {"original_name": "renamed.mp4"}),
        (Case, judged_job.media.case_id, {"title": "moved", "team": judged_job.media.case.team_id}),
    ]:
        url = f"/admin/cases/{model._meta.model_name}/{pk}/change/"
        assert superuser_client.get(url).status_code == 200, url  # read
        superuser_client.post(url, change)
        assert (
            superuser_client.post(f"/admin/cases/{model._meta.model_name}/{pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        assert superuser_client.get(f"/admin/cases/{model._meta.model_name}/add/").status_code == 403
    verdict.refresh_from_db()
    judged_job.refresh_from_db()
    assert verdict.label == label and judged_job.state == "succeeded"
    assert Media.objects.get(pk=judged_job.media_id).original_name == "clip.mp4"
    assert Case.objects.get(pk=judged_job.media.case_id).title != "moved"
