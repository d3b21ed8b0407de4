"""factory_boy factories for the platform's records."""

import factory
from django.contrib.auth import get_user_model

from accounts.models import Membership, Role, Team
from cases.models import AnalysisJob, Case, Media


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def team(self, create, extracted, **kwargs):
        self.save()
        if extracted is not None:
            Membership.objects.create(user=self, team=extracted, role=kwargs.get("role", Role.ANALYST))


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    team = factory.SubFactory(TeamFactory)
    title = factory.Sequence(lambda n: f"Case {n}")
    created_by = factory.SubFactory(UserFactory)


class MediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Media

    case = factory.SubFactory(CaseFactory)
    original_name = "clip.mp4"
    storage_path = factory.LazyAttribute(lambda m: f"originals/{m.sha256[:2]}/{m.sha256[2:4]}/{m.sha256}")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size_bytes = 1000
    mime_type = "video/mp4"
    kind = "video"
    uploaded_by = factory.SelfAttribute("case.created_by")


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AnalysisJob

    media = factory.SubFactory(MediaFactory)
    created_by = factory.SelfAttribute("media.uploaded_by")
    settings = factory.LazyFunction(lambda: {"frames": 8, "detectors": []})
