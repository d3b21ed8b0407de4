"""Fixtures shared by the platform's API tests."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import lease, results, services
from tests.factories import fake_result


@pytest.fixture
def finished_job(alice, case, sample_clip_path):
    """Alice's clip, analysed: claimed by worker "w" and its (contract-built) result recorded."""
    job = services.submit_job(alice, SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes()), case=case)
    lease.claim_job(job.pk, "w")
    results.record_results(job.pk, "w", fake_result())
    return job
