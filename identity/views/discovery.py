"""OIDC discovery at both URL shapes of SPEC §2; the document itself is identity.discovery's."""

from django.http import HttpRequest, HttpResponse

from identity.discovery import discovery_document
from identity.views.common import JsonGetView, cacheable_json, policy_or_error

# The document changes only when configuration or the policy's claims change; five minutes of
# caching spares the database without leaving clients on a stale endpoint list for long.
DISCOVERY_MAX_AGE = 300


class OpenIdConfigurationView(JsonGetView):
    """GET `/{tenant}/{policy}/v2.0/.well-known/openid-configuration` and `/{tenant}/v2.0/…?p={policy}`."""

    def get(self, request: HttpRequest, tenant: str, policy: str | None = None) -> HttpResponse:
        found, error = policy_or_error(tenant, policy or request.GET.get("p"))
        if error:
            return error
        return cacheable_json(request, discovery_document(found), max_age=DISCOVERY_MAX_AGE)
