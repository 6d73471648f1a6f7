"""OIDC discovery at both URL shapes of SPEC §2; the document itself is identity.discovery's."""

from django.http import HttpRequest, HttpResponse

from identity.discovery import discovery_document, origin_mismatch
from identity.views.common import JsonGetView, cacheable_json, json_error, policy_or_error

# The document changes only when configuration or the policy's claims change; five minutes of
# caching spares the database without leaving clients on a stale endpoint list for long.
DISCOVERY_MAX_AGE = 300


class OpenIdConfigurationView(JsonGetView):
    """GET `/{tenant}/{policy}/v2.0/.well-known/openid-configuration` and `/{tenant}/v2.0/…?p={policy}`."""

    def get(self, request: HttpRequest, tenant: str, policy: str | None = None) -> HttpResponse:
        found, error = policy_or_error(tenant, policy or request.GET.get("p"))
        if error:
            return error
        mismatch = origin_mismatch(request)
        if mismatch:
            # Never advertise http endpoints to a client that came over https (issue 17, item 5).
            return json_error(421, "misdirected_request", mismatch)
        return cacheable_json(request, discovery_document(found), max_age=DISCOVERY_MAX_AGE)
