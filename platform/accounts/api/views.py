"""REST API v1: signing in and out, who the user is, and the user's own API tokens (create, list, revoke)."""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import login_guard, services
from accounts.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    LoginSerializer,
    UserSerializer,
)
from accounts.models import ApiToken, Membership
from audit.services import client_ip


@extend_schema_view(
    list=extend_schema(summary="Your API tokens (active and revoked; never their keys)", tags=["auth"]),
    retrieve=extend_schema(summary="One of your API tokens", tags=["auth"]),
    create=extend_schema(
        summary="Create an API token from a signed-in session (not with a token); its key is in this response only",
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
        # A token that could mint tokens would outlive its own revocation (its holder mints a spare first).
        if isinstance(request.auth, ApiToken):
            raise PermissionDenied("Tokens are created from a signed-in session (your password), not with a token.")
        form = ApiTokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, key = services.issue_token(
            request.user,
            form.validated_data.get("name", ""),
            ip=client_ip(request),
            expires_in_days=form.validated_data.get("expires_in_days"),
        )
        body = ApiTokenCreatedSerializer(token).data
        body["key"] = key
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        services.revoke_token(instance, self.request.user, ip=client_ip(self.request))


def user_payload(user) -> dict:
    memberships = Membership.objects.filter(user=user).select_related("team").order_by("created_at", "id")
    return {
        "id": user.pk,
        "username": user.get_username(),
        "teams": [{"id": m.team_id, "name": m.team.name, "role": m.role} for m in memberships],
    }


@extend_schema(tags=["auth"])
class CsrfView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(summary="Set the csrftoken cookie for a browser session", responses={204: None})
    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Request) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class LoginView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Sign in (session; send the csrftoken cookie's value as X-CSRFToken)",
        request=LoginSerializer,
        responses={200: UserSerializer},
    )
    def post(self, request: Request) -> Response:
        # DRF checks CSRF only for signed-in sessions; signing in is where a cross-site form would
        # put a victim into the attacker's account (login CSRF), so it is checked here too.
        SessionAuthentication().enforce_csrf(request)
        form = LoginSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # A slot of both failure limits is taken before the password is checked (given back on success).
        wait_s = login_guard.reserve_attempt(request._request, form.validated_data["username"])
        if wait_s is not None:
            raise Throttled(wait=wait_s, detail="Too many failed sign-ins; try again later.")
        user = authenticate(request._request, **form.validated_data)
        if user is None:
            raise ValidationError({"detail": ["Wrong username or password."]}, code="bad_credentials")
        login(request._request, user)
        return Response(user_payload(user))


@extend_schema(tags=["auth"])
class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Sign out", request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class MeView(APIView):
    @extend_schema(summary="Who am I, in which teams", responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(user_payload(request.user))


@extend_schema(tags=["auth"])
class UploadAuthView(APIView):
    """nginx's auth_request before it reads an upload's body (deploy/nginx, location /_upload-auth).

    Signed in (session or API token): 204; otherwise 401. nginx turns any other answer into a 500 for
    the uploader, so nothing here may throttle (the upload itself is, by the submit rate) or redirect.
    """

    throttle_classes: list = []

    @extend_schema(
        summary="May this client upload? (what nginx asks before it accepts an upload's body)",
        responses={204: None, 401: OpenApiResponse(description="Not signed in, or the token is not valid")},
    )
    def get(self, request: Request) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)
