"""A case stays in the team that opened it, and every change to it is a custody event (issue 12, hole 4)."""

import pytest

from accounts.models import Membership, Role
from audit.models import AuditEvent
from cases.models import Case
from tests.conftest import client_for
from tests.factories import MediaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(team, other_team):
    """Carol: an analyst in both Alpha and Bravo."""
    from tests.factories import UserFactory

    carol = UserFactory(username="carol", team=team)
    Membership.objects.create(user=carol, team=other_team, role=Role.ANALYST)
    return carol


def test_an_analyst_in_two_teams_cannot_move_a_case_and_its_evidence_to_the_other_team(case, other_team, carol):
    MediaFactory(case=case)
    response = client_for(carol).patch(f"/api/v1/cases/{case.pk}/", {"team": other_team.pk}, format="json")
    assert response.status_code == 400 and "team" in response.json()
    case.refresh_from_db()
    assert case.team.name == "Alpha" and case.media.get().case.team.name == "Alpha"
    assert not AuditEvent.objects.filter(object_type="case").exists()


def test_a_case_edit_records_who_changed_what_from_what_in_the_custody_log(alice_client, alice, case):
    before = case.title
    response = alice_client.patch(
        f"/api/v1/cases/{case.pk}/", {"title": "Escalated interview", "tags": ["urgent"]}, format="json"
    )
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(action="case.updated")
    assert (event.actor, event.team_id, event.object_type, event.object_id) == (
        alice,
        case.team_id,
        "case",
        str(case.pk),
    )
    assert event.detail == {
        "title": {"from": before, "to": "Escalated interview"},
        "tags": {"from": [], "to": ["urgent"]},
    }
    assert event.ip == "127.0.0.1"


def test_an_edit_that_changes_nothing_records_nothing(alice_client, case):
    assert alice_client.patch(f"/api/v1/cases/{case.pk}/", {"title": case.title}, format="json").status_code == 200
    assert not AuditEvent.objects.filter(action="case.updated").exists()


def test_opening_a_case_is_a_custody_event(alice_client, alice):
    response = alice_client.post("/api/v1/cases/", {"title": "Leaked call"}, format="json")
    event = AuditEvent.objects.get(action="case.created")
    assert event.actor == alice and event.object_id == str(response.json()["id"])
    assert event.team_id == Case.objects.get(pk=response.json()["id"]).team_id
    assert event.detail == {"title": "Leaked call", "notes": "", "tags": []}
