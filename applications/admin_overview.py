"""An app's Overview page, as Azure's portal has (issue 17 item 15): the ids, and per policy the
authority, token, discovery and JWKS URLs with copy buttons — what a developer pastes into MSAL.
Also "Expose an API": set the App ID URI, proposing `api://{client id}` as Entra does."""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from applications import services
from applications.models import Application, ClientSecret
from applications.validators import app_id_uri_default
from identity.discovery import authority_url, discovery_url, jwks_uri, token_endpoint_url
from policies.models import Policy

EXPIRES_SOON = timedelta(days=30)


@dataclass(frozen=True)
class Endpoints:
    policy: Policy
    authority: str
    token: str
    discovery: str
    jwks: str


def endpoints_for(policy: Policy) -> Endpoints:
    return Endpoints(policy, authority_url(policy), token_endpoint_url(policy), discovery_url(policy),
                     jwks_uri(policy))


def secrets_expiring_soon(app: Application) -> list[ClientSecret]:
    now = timezone.now()
    return list(app.secrets.filter(expires_at__gt=now, expires_at__lte=now + EXPIRES_SOON).order_by("expires_at"))


def proposed_app_id_uri(app: Application) -> str:
    return app_id_uri_default(app.client_id)


class OverviewPagesMixin:
    """Views of ApplicationAdmin (a ServiceErrorsMixin ModelAdmin): Overview and Expose an API."""

    def overview_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/overview/", view(self.overview_view), name="applications_application_overview"),
            path("<path:object_id>/expose-api/", view(self.expose_api_view),
                 name="applications_application_expose_api"),
        ]

    def overview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        app = self.get_object_or_denied(request, object_id, change=False)
        policies = Policy.objects.filter(enabled=True).order_by("policy_id")
        now = timezone.now()
        context = self.page_context(
            request, app, "Overview", endpoints=[endpoints_for(p) for p in policies],
            expiring=secrets_expiring_soon(app), active_secrets=app.secrets.filter(expires_at__gt=now).count(),
            proposed_uri=proposed_app_id_uri(app), can_change=self.has_change_permission(request, app),
            consented_apis=self._consented_apis(app),
        )
        return TemplateResponse(request, "admin/applications/application/overview.html", context)

    @staticmethod
    def _consented_apis(app: Application) -> list[Application]:
        """APIs whose app roles admin consent granted to this client: its client-credentials scopes."""
        ids = app.consent_grants.filter(app_role__isnull=False, user__isnull=True).values("app_role__application")
        return list(Application.objects.filter(pk__in=ids).order_by("name"))

    def expose_api_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST `app_id_uri`: set the App ID URI (the "Set" button of Expose an API)."""
        app = self.get_object_or_denied(request, object_id)
        overview = reverse("admin:applications_application_overview", args=[app.pk])
        if request.method != "POST":
            return HttpResponseRedirect(overview)
        uri = request.POST.get("app_id_uri", "").strip() or proposed_app_id_uri(app)
        try:
            services.application_set_app_id_uri(application=app, app_id_uri=uri, actor=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, f"App ID URI of {app.name} set to {uri}. Clients ask for "
                                       f"“{uri}/.default” or its scopes.", messages.SUCCESS)
        return HttpResponseRedirect(overview)
