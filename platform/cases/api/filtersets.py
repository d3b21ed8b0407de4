"""Filters for list endpoints (django-filter)."""

import django_filters

from cases.models import AnalysisJob, Case, JobState, VerdictLabel


class CaseFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=JobState.choices, method="filter_state", label="has a job in this state"
    )
    verdict = django_filters.ChoiceFilter(
        choices=VerdictLabel.choices, method="filter_verdict", label="has a job with this verdict"
    )
    tag = django_filters.CharFilter(method="filter_tag")

    class Meta:
        model = Case
        fields = ["team", "is_inbox"]

    def filter_state(self, queryset, name, value):
        return queryset.filter(media__jobs__state=value).distinct()

    def filter_verdict(self, queryset, name, value):
        return queryset.filter(media__jobs__verdict__label=value).distinct()

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__icontains=value)


class JobFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="media__case")
    media = django_filters.NumberFilter(field_name="media")
    sha256 = django_filters.CharFilter(field_name="media__sha256")
    verdict = django_filters.ChoiceFilter(field_name="verdict__label", choices=VerdictLabel.choices)

    class Meta:
        model = AnalysisJob
        fields = ["state", "stage"]
