"""The token endpoint (SPEC §2, §4) and its siblings, revocation (RFC 7009) and introspection (RFC 7662).

Each is reachable as `/{tenant}/{policy}/oauth2/v2.0/{name}` and `/{tenant}/oauth2/v2.0/{name}?p={policy}`.

The one place that turns every outcome of these endpoints into a response (ARCHITECTURE rule 3): JSON,
`Cache-Control: no-store`, and for a 401 `WWW-Authenticate: Basic` when the client used Basic (oauthlib
would say Bearer). Before oauthlib sees the request, this view refuses what RFC 6749 forbids and
oauthlib lets through: other content types, repeated parameters, parameters in the query string.
"""

import codecs
import json
import logging
from dataclasses import dataclass
from functools import cache
from http.client import responses

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from identity import ratelimit
from identity.client_ip import client_ip
from identity.middleware import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from identity.oauth import errors
from identity.oauth.backend import IdentityOAuthLibCore
from identity.oauth.context import TokenContext
from identity.oauth.server import IdentityServer
from identity.oauth.signals import TokenOutcome, token_request_finished
from identity.oauth.validator import IdentityValidator
from identity.views.common import MissingPolicy, NotServed, UnknownPolicy, echo, find_policy

logger = logging.getLogger(__name__)
FORM = "application/x-www-form-urlencoded"


@cache
def oauthlib_core() -> IdentityOAuthLibCore:
    """One server and validator per process; they keep no per-request state."""
    return IdentityOAuthLibCore(IdentityServer(IdentityValidator()))


@dataclass(frozen=True, slots=True)
class Reply:
    """An endpoint's answer before it is a response: Django's (`as_response`) or the WSGI front's
    (identity.protocol_wsgi), with the same status, headers and body either way."""

    status: int
    body: str
    basic: bool = False  # the client authenticated with HTTP Basic: a 401 challenges Basic
    retry_after: str | None = None

    @property
    def status_line(self) -> str:
        return f"{self.status} {responses.get(self.status, 'Unknown Status Code')}"

    def headers(self) -> list[tuple[str, str]]:
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Pragma", "no-cache")]
        if self.status == 401:
            # oauthlib would say Bearer whatever the client used.
            challenge = 'Basic realm="token"' if self.basic else 'Bearer error="invalid_client"'
            headers.append(("WWW-Authenticate", challenge))
        if self.retry_after is not None:
            headers.append(("Retry-After", self.retry_after))
        return headers

    def as_response(self) -> HttpResponse:
        response = HttpResponse(self.body, status=self.status)
        for name, value in self.headers():
            response[name] = value
        return response


DATABASE_UNAVAILABLE_REPLY = Reply(503, json.dumps(DATABASE_UNAVAILABLE), retry_after=str(RETRY_AFTER_SECONDS))


def token_error(status: int, error: str, description: str, *, basic: bool = False,
                retry_after: str | None = None) -> Reply:
    return Reply(status, json.dumps({"error": error, "error_description": description}), basic, retry_after)


def policy_from_query(request: HttpRequest) -> str | None:
    """`?p=B2C_1_x`, or the bare `?B2C_1_x` of the B2C ROPC document's example request."""
    if "p" in request.GET:
        return request.GET["p"]
    query = request.META.get("QUERY_STRING", "")
    return query if query and "=" not in query and "&" not in query else None


def charset_refusal(request: HttpRequest) -> Reply | None:
    """A form body is UTF-8 (RFC 6749 Appendix B). Checked before anything reads the query or the body:
    Django decodes the query string in the declared charset, and reading the body of another charset
    raises BadRequest, which under DEBUG becomes a 500 (the debug page reads the body again)."""
    charset = request.encoding  # set by Django from the charset parameter, when Python knows that codec
    if charset is None or charset.lower() == "utf-8":
        return None
    if codecs.lookup(charset).name == "utf-8":
        request.encoding = "utf-8"  # "utf8", "UTF_8": the same codec under another name
        return None
    return token_error(400, "invalid_request", f"The request body must be UTF-8 {FORM}; charset={echo(charset)} "
                       "is not accepted.")


def refusal(request: HttpRequest, policy_in_query: bool) -> Reply | None:
    """RFC 6749 §3.2 / §3.1 rules that oauthlib does not enforce for us, and size limits."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.TOKEN_REQUEST_MAX_BYTES:
        return token_error(400, "invalid_request", f"The request body is larger than "
                           f"{settings.TOKEN_REQUEST_MAX_BYTES} bytes.")
    content_type = request.content_type or ""
    if content_type != FORM:
        return token_error(400, "invalid_request", f"The token endpoint takes {FORM} POST bodies only.")
    bare = policy_from_query(request) if policy_in_query and "p" not in request.GET else None
    allowed_query = ({"p"} | ({bare} if bare else set())) if policy_in_query else set()
    if set(request.GET) - allowed_query:
        return token_error(400, "invalid_request", "Parameters, and credentials above all, are not accepted in "
                           "the URL query string; send them in the request body.")
    longest = settings.TOKEN_PARAMETER_MAX_LENGTH
    repeated = []
    for key, values in request.POST.lists():
        # No parameter of ours can contain NUL, and PostgreSQL text cannot hold one.
        if "\x00" in key or any("\x00" in v for v in values):
            return token_error(400, "invalid_request", "Parameters must not contain NUL characters.")
        if any(len(v) > longest for v in values):
            return token_error(400, "invalid_request", f"A parameter is longer than {longest} characters.")
        if len(values) > 1:
            repeated.append(key)
    if repeated:
        return token_error(400, "invalid_request",
                           f"Parameters must not be repeated: {echo(', '.join(sorted(repeated)))}.")
    return None


@method_decorator(csrf_exempt, name="dispatch")
class OAuthEndpointView(View):
    """A POST endpoint of SPEC §2 answered by oauthlib: the token, revocation and introspection endpoints.

    Subclasses override `respond` and `refused_early`, never `post` or `dispatch`: under a WSGI server the
    front (identity.protocol_wsgi) calls `reply` itself.
    """

    http_method_names = ["post"]
    # Served ahead of the browser middleware (identity.middleware) and, for POSTs under a WSGI server,
    # ahead of Django's handler (identity.protocol_wsgi).
    protocol_endpoint = True

    def http_method_not_allowed(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = token_error(405, "invalid_request", "This endpoint accepts POST only.").as_response()
        response["Allow"] = "POST"
        return response

    def respond(self, request: HttpRequest) -> tuple[dict, str, int]:
        """(headers, body, status) from oauthlib."""
        raise NotImplementedError

    def refused_early(self, request: HttpRequest, policy_id: str, reply: Reply) -> Reply:
        """A refusal decided before oauthlib ran; the token endpoint records it as a sign-in event."""
        return reply

    def post(self, request: HttpRequest, tenant: str, policy: str | None = None) -> HttpResponse:
        return self.reply(request, tenant, policy).as_response()

    def reply(self, request: HttpRequest, tenant: str, policy: str | None = None) -> Reply:
        """The answer to a POST, for this view and for the WSGI front (identity.protocol_wsgi) alike."""
        try:
            return self.answer(request, tenant, policy)
        except DatabaseError:
            # Any database failure on this path (the policy lookup included) is "come back later".
            logger.exception("database error at %s", request.path)
            return DATABASE_UNAVAILABLE_REPLY

    def answer(self, request: HttpRequest, tenant: str, policy: str | None) -> Reply:
        error = charset_refusal(request)
        if error is not None:
            return self.refused_early(request, echo(policy or "")[:128], error)
        policy_id = policy or policy_from_query(request)
        try:
            found = find_policy(tenant, policy_id)
        except MissingPolicy:
            return self.refused_early(request, "", token_error(
                400, "invalid_request", "The request names no policy: use /{tenant}/{policy}/oauth2/v2.0/... "
                "or add ?p={policy}."))
        except UnknownPolicy as exc:
            return self.refused_early(request, echo(exc.policy_id), token_error(
                404, "not_found", f"The policy '{echo(exc.policy_id)}' does not exist in tenant '{echo(exc.tenant)}'."))
        except NotServed as exc:
            return self.refused_early(request, echo(policy_id or ""), token_error(404, "not_found", exc.description))
        error = refusal(request, policy_in_query=policy is None)
        if error is not None:
            return self.refused_early(request, found.policy_id, error)
        address = client_ip(request)
        basic = request.META.get("HTTP_AUTHORIZATION", "")[:6].lower() == "basic "
        # The IP's quota before anything else; the client's is counted once it has authenticated
        # (identity.oauth.validator), under its registered id.
        wait = ratelimit.retry_after(ip=address)
        if wait is not None:
            limited = errors.RateLimited(retry_after=wait)
            return token_error(429, limited.error, limited.description, retry_after=str(wait))
        request.token_context = TokenContext(policy=found, client_ip=address)
        try:
            headers, body, status = self.respond(request)
        except OAuth2Error as exc:
            headers, body, status = exc.headers, exc.json, exc.status_code
        if status >= 400 and not _is_json_object(body):
            return token_error(status, "invalid_request", "The request is invalid.", basic=basic)
        return Reply(status, body, basic, headers.get("Retry-After"))


class TokenView(OAuthEndpointView):
    """POST `/{tenant}/{policy}/oauth2/v2.0/token` (SPEC §4)."""

    def refused_early(self, request: HttpRequest, policy_id: str, reply: Reply) -> Reply:
        """Every token request outcome is a sign-in event (SPEC §5), these included. Throttled requests
        (429) are not recorded: a flood would otherwise become a flood of database writes."""
        body = json.loads(reply.body)
        try:
            token_request_finished.send(sender=type(self), outcome=TokenOutcome(
                grant_type=_form_value(request, "grant_type"), client_id=_form_value(request, "client_id"),
                policy_id=policy_id[:128], user_id=None, sign_in_name="", client_ip=client_ip(request),
                error=body["error"], detail=body["error_description"][:200],
            ))
        except DatabaseError:
            logger.exception("could not record a refused token request")
        return reply

    def respond(self, request: HttpRequest) -> tuple[str, int]:
        _, headers, body, status = oauthlib_core().create_token_response(request)
        return headers, body, status


class RevokeView(OAuthEndpointView):
    """POST `/{tenant}/{policy}/oauth2/v2.0/revoke` (RFC 7009): a client's own refresh tokens, public
    clients' included (IdentityValidator.revoke_token)."""

    def respond(self, request: HttpRequest) -> tuple[str, int]:
        _, headers, body, status = oauthlib_core().create_revocation_response(request)
        return headers, body or "{}", status


class IntrospectView(OAuthEndpointView):
    """POST `/{tenant}/{policy}/oauth2/v2.0/introspect` (RFC 7662), for confidential clients, about tokens
    of this policy (identity/oauth/introspection.py)."""

    def respond(self, request: HttpRequest) -> tuple[str, int]:
        _, headers, body, status = oauthlib_core().create_introspect_response(request)
        return headers, body, status


def _form_value(request: HttpRequest, name: str) -> str:
    """A form field for the record, if the body is a readable form at all."""
    if request.content_type != FORM:
        return ""
    try:
        return request.POST.get(name, "")[:64]
    except Exception:  # an unreadable body: nothing to record from it
        return ""


def _is_json_object(body: str) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except (TypeError, ValueError):
        return False
