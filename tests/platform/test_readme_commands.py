"""The REST commands README.md shows work as written (issue 27, point 10): choosing a case, the absolute Location
of a submitted job, recording a review. Each curl line of its "Using it" block is replayed through the API."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[2] / "README.md"
BASE = "http://127.0.0.1:8000"


def curl_lines(containing: str) -> list[list[str]]:
    """README's curl commands whose URL contains ``containing``, split as a shell splits them."""
    lines = [line for line in README.read_text().splitlines() if line.startswith("curl ") and containing in line]
    assert lines, f"README shows no curl command for {containing}"
    return [shlex.split(line.split(" #", 1)[0]) for line in lines]


def option(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == flag]


def test_the_readme_opens_a_case_and_files_a_clip_under_it_and_the_location_is_the_absolute_url_it_shows(
    alice_client, sample_clip_path
):
    (opening,) = [args for args in curl_lines("/api/v1/cases/") if option(args, "-d")]
    created = alice_client.post(args_url(opening), json.loads(option(opening, "-d")[0]), format="json")
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]

    (submit,) = [args for args in curl_lines("/api/v1/jobs/") if option(args, "-F")]
    fields = dict(field.split("=", 1) for field in option(submit, "-F"))
    assert fields.pop("file").startswith("@") and fields.pop("case") == "3"
    upload = SimpleUploadedFile("clip.mp4", sample_clip_path.read_bytes(), content_type="video/mp4")
    response = alice_client.post(
        args_url(submit), {"file": upload, "case": case_id, **fields}, format="multipart", SERVER_NAME="127.0.0.1"
    )
    assert response.status_code == 202, response.content
    assert response.json()["case"] == case_id
    shown = re.search(r"Location: (\S+)", README.read_text()).group(1)
    assert response["Location"].startswith("http://") and re.sub(r"\d+/$", "", response["Location"]) == re.sub(
        r"\d+/$", "", shown.replace(":8000", "")
    )


def test_the_readme_review_command_records_a_review(team, finished_job):
    rita = UserFactory(username="rita", team=team, team__role=Role.REVIEWER)
    (review,) = curl_lines("/review/")
    body = json.loads(option(review, "-d")[0])
    url = args_url(review).replace("/jobs/7/", f"/jobs/{finished_job.pk}/")
    response = client_for(rita).post(url, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["override_label"] == body["override_label"]


def args_url(args: list[str]) -> str:
    url = next(arg for arg in args if arg.startswith(BASE))
    return url.removeprefix(BASE)
