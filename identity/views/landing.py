"""`/`: a small page naming the tenant and, per enabled policy, what a developer points a client at.

The admin's "View site" links here (issue 17, item 12). Plain server-rendered HTML (templates/landing.html),
no script and no external asset; every value goes through the template's autoescaping. Other unknown
paths stay JSON 404s (identity.views.errors).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from identity import discovery
from identity.tenant import tenant_id, tenant_name
from identity.views.common import JsonGetView
from policies.models import Policy
from policies.selectors import policies_enabled

# Nothing but the page's own inline style may load; no script, no frame, no form target.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def policy_links(policy: Policy) -> dict[str, str]:
    return {
        "policy_id": policy.policy_id,
        "authority": discovery.authority_url(policy),
        "discovery": discovery.discovery_url(policy),
        "jwks": discovery.jwks_uri(policy),
        "token": discovery.token_endpoint_url(policy),
    }


class LandingView(JsonGetView):
    """GET `/` (HEAD too); other methods get JsonGetView's JSON 405."""

    protocol_endpoint = False  # a browser page: the whole middleware chain (X-Frame-Options, sessions)

    def get(self, request: HttpRequest) -> HttpResponse:
        response = render(request, "landing.html", {
            "tenant_name": tenant_name(),
            "tenant_id": tenant_id(),
            "policies": [policy_links(policy) for policy in policies_enabled()],
            "admin_url": reverse("admin:index"),
            "origin_warning": discovery.origin_mismatch(request),
        })
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response["Cache-Control"] = "no-cache"
        return response
