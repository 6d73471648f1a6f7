"""What the protocol views share: JSON errors, JSON 405s, cacheable JSON, and finding {tenant}/{policy}.

SPEC §2: `{tenant}` is the tenant name or id and `{policy}` a policy id, both case-insensitive;
anything else is a JSON error, never an HTML page and never a 500.
"""

import hashlib
import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from identity.tenant import tenant_matches
from identity.text import echo
from policies.models import POLICY_ID_REGEX, Policy
from policies.selectors import policy_find_cached


def json_error(status: int, error: str, description: str) -> JsonResponse:
    """`{"error", "error_description"}` as every Trustframe endpoint reports a failure (SPEC §2)."""
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def cacheable_json(request: HttpRequest, data: dict, *, max_age: int) -> HttpResponse:
    """A JSON response that shared caches may keep for `max_age` seconds, with an ETag for revalidation."""
    response = JsonResponse(data)
    response["ETag"] = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    response["Cache-Control"] = f"public, max-age={max_age}"
    return get_conditional_response(request, etag=response["ETag"], response=response)


class NotServed(Exception):
    """The URL names a tenant or a policy this deployment does not serve."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class UnknownTenant(NotServed):
    pass


class UnknownPolicy(NotServed):
    """Unknown, malformed or disabled policy: callers are told the same thing in every case."""

    def __init__(self, tenant: str, policy_id: str) -> None:
        super().__init__(f"The policy '{echo(policy_id)}' does not exist in tenant '{echo(tenant)}'.")
        self.tenant, self.policy_id = tenant, policy_id


class MissingPolicy(Exception):
    """The tenant-only URL shape was used without `?p={policy}`."""


def find_policy(tenant: str, policy_id: str | None) -> Policy:
    """The enabled policy a `/{tenant}/{policy}/…` or `/{tenant}/…?p={policy}` URL names (SPEC §2)."""
    if not tenant_matches(tenant):
        raise UnknownTenant(f"The tenant '{echo(tenant)}' is not served here.")
    if not policy_id:
        raise MissingPolicy
    # Checked before the query: a NUL byte or an absurd value never reaches the database.
    policy = policy_find_cached(policy_id) if re.fullmatch(POLICY_ID_REGEX, policy_id) else None
    if policy is None or not policy.enabled:
        raise UnknownPolicy(tenant, policy_id)
    return policy


def policy_or_error(tenant: str, policy_id: str | None) -> tuple[Policy | None, JsonResponse | None]:
    """(policy, None) or (None, the JSON error response) for the metadata endpoints."""
    try:
        return find_policy(tenant, policy_id), None
    except MissingPolicy:
        return None, json_error(400, "invalid_request", "The request names no policy: use "
                                "/{tenant}/{policy}/… or add ?p={policy}.")
    except UnknownPolicy as exc:
        # B2C's own code and wording for metadata it cannot return (B2C error codes: AADB2C90022).
        return None, json_error(404, "not_found", f"AADB2C90022: Unable to return metadata for the policy "
                                f"'{echo(exc.policy_id)}' in tenant '{echo(exc.tenant)}'.")
    except NotServed as exc:
        return None, json_error(404, "not_found", exc.description)


@method_decorator(csrf_exempt, name="dispatch")
class JsonGetView(View):
    """A read-only endpoint: other methods get a JSON 405 (not Django's empty one, nor a CSRF 403)."""

    http_method_names = ["get", "head", "options"]
    protocol_endpoint = True  # served ahead of the browser middleware (identity.middleware)

    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        allowed = ", ".join(self._allowed_methods())
        response = json_error(405, "method_not_allowed", f"The method {echo(request.method or '')} is not "
                              f"allowed here; use {allowed}.")
        response["Allow"] = allowed
        return response
