"""The JWKS at `/{tenant}/{policy}/discovery/v2.0/keys` (SPEC §2, §3): every key that may have signed a live token.

Keys live in the database, so every worker and every instance serves the same set.
"""

import logging
import time

from django.db import IntegrityError, OperationalError
from django.http import HttpRequest, HttpResponse

from identity.keys.selectors import jwks
from identity.keys.services import signing_key_ensure
from identity.views.common import JsonGetView, cacheable_json, policy_or_error

logger = logging.getLogger(__name__)

# Short, because `rotatekeys` activates the new key at once: a resource server (or a shared cache in
# front of it) holding an older copy cannot verify new tokens until it refetches. Most JWT libraries
# refetch on an unknown kid; this bounds the wait for those that do not.
JWKS_MAX_AGE = 60
FIRST_KEY_ATTEMPTS = 3


def published_jwks() -> dict:
    """The JWKS, creating the first signing key if there is none yet.

    A fresh deployment then works without a manual `rotatekeys`. Two workers may race to create it:
    the one-active-key constraint makes the loser fail (IntegrityError, or "database is locked" on
    SQLite), and it retries, which finds the winner's key once committed.
    """
    document = jwks()
    if document["keys"]:
        return document
    for attempt in range(FIRST_KEY_ATTEMPTS):
        try:
            signing_key_ensure(actor="system (first JWKS request)")
            break
        except (IntegrityError, OperationalError) as exc:
            # The winner may not have committed yet: wait a little, then find its key (or try again).
            logger.info("another process is creating the first signing key (%s)", type(exc).__name__)
            time.sleep(0.05 * (attempt + 1))
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
