"""REST API v1: a user's own API tokens (create, list, revoke)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.api.serializers import ApiTokenCreatedSerializer, ApiTokenCreateSerializer, ApiTokenSerializer
from accounts.models import ApiToken
from audit.services import client_ip


@extend_schema_view(
    list=extend_schema(summary="Your API tokens (active and revoked; never their keys)", tags=["auth"]),
    retrieve=extend_schema(summary="One of your API tokens", tags=["auth"]),
    create=extend_schema(
        summary="Create an API token; its key is in this response only",
        tags=["auth"],
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer},
    ),
    destroy=extend_schema(summary="Revoke one of your API tokens", tags=["auth"], responses={204: None}),
)
class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ApiTokenSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    def create(self, request: Request, *args, **kwargs) -> Response:
        form = ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, key = services.issue_token(request.user, form.validated_data.get("name", ""), ip=client_ip(request))
        body = ApiTokenCreatedSerializer(token).data
        body["key"] = key
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.revoke_token(instance, self.request.user, ip=client_ip(self.request))
