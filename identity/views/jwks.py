"""The JWKS at `/{tenant}/{policy}/discovery/v2.0/keys` (SPEC §2, §3): every key that may have signed a live token.

Keys live in the database, so every worker and every instance serves the same set.
"""


from django.http import HttpRequest, HttpResponse

from identity.keys.selectors import jwks
from identity.keys.services import signing_key_ensure_once
from identity.views.common import JsonGetView, cacheable_json, policy_or_error

# Short, because `rotatekeys` activates the new key at once: a resource server (or a shared cache in
# front of it) holding an older copy cannot verify new tokens until it refetches. Most JWT libraries
# refetch on an unknown kid; this bounds the wait for those that do not.
JWKS_MAX_AGE = 60


def published_jwks() -> dict:
    """The JWKS, creating the first signing key if there is none yet (a fresh deployment just works)."""
    document = jwks()
    if document["keys"]:
        return document
    signing_key_ensure_once(actor="system (first JWKS request)")
    return jwks()


class JwksView(JsonGetView):
    """GET `/{tenant}/{policy}/discovery/v2.0/keys`, and `/{tenant}/discovery/v2.0/keys?p={policy}` as B2C has."""

    def get(self, request: HttpRequest, tenant: str, policy: str | None = None) -> HttpResponse:
        _, error = policy_or_error(tenant, policy or request.GET.get("p"))
        if error:
            return error
        document = published_jwks()
        response = cacheable_json(request, document, max_age=JWKS_MAX_AGE)
        if not document["keys"]:
            response["Cache-Control"] = "no-store"  # never let a cache keep an empty key set
        return response
