"""What every grant shares: typed errors to oauthlib's triple, effects after a refusal, one outcome signal.

A grant's `issue(request)` validates in its own order and returns the response body; anything it
raises as an OAuth2Error becomes the error response. A grant's writes are all or nothing: one statement,
or a transaction around several (and only around its writes: a password check must not hold the
database's write lock for the length of an Argon2 hash), so a refusal or a failure halfway writes
nothing; a refused refresh token is not consumed.
"""

import json

from django.utils import timezone
from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from identity.oauth import errors
from identity.oauth.context import context_of
from identity.oauth.signals import TokenOutcome, token_request_finished


class B2CGrantMixin:
    grant_type = ""

    def issue(self, request) -> dict:
        raise NotImplementedError

    def create_token_response(self, request, token_handler):
        headers = self._get_default_headers()
        request.now = timezone.now()
        try:
            body = self.issue(request)
        except OAuth2Error as exc:
            for effect in getattr(exc, "effects", ()):
                effect()  # after the rollback, so reuse detection and lockout counting stick
            self._finished(request, exc)
            headers.update(exc.headers)
            return headers, exc.json, exc.status_code
        self._finished(request, None)
        return headers, json.dumps(body), 200

    def authenticate_client(self, request) -> None:
        """RFC 6749 §3.2.1 through the validator: confidential clients authenticate, public ones identify."""
        validator = self.request_validator
        if validator.client_authentication_required(request):
            validator.authenticate_client(request)
        elif not validator.authenticate_client_id(request.client_id, request):
            raise errors.InvalidClient()

    def check_grant_type(self, request) -> None:
        self.request_validator.validate_grant_type(request.client_id, self.grant_type, request.client, request)

    def _finished(self, request, exc: OAuth2Error | None) -> None:
        if isinstance(exc, errors.RateLimited):
            return  # as the view's 429s: a flood must not become a flood of sign-in records
        context = context_of(request)
        user = getattr(request, "user", None) or getattr(exc, "user", None)
        token = getattr(request, "refresh_token_instance", None)
        if user is None and token is not None:
            user = token.user  # refused after the refresh token was read (e.g. its scope): it names the user
        token_request_finished.send(sender=type(self), outcome=TokenOutcome(
            grant_type=self.grant_type or (getattr(request, "grant_type", None) or "")[:64],
            client_id=(request.client.client_id if getattr(request, "client", None) else request.client_id or "")[:64],
            policy_id=context.policy.policy_id,
            user_id=user.pk if user is not None else None,
            sign_in_name=(getattr(request, "username", None) or "")[:256] if self.grant_type == "password" else "",
            client_ip=context.client_ip,
            error=exc.error if exc else "",
            b2c_code=getattr(exc, "b2c_code", "") if exc else "",
            detail=failure_reason(exc) if exc else "",
        ))


def failure_reason(exc: OAuth2Error) -> str:
    """Why a request was refused, for the sign-in event: the private detail where the public text is
    deliberately vague (or there is one), else the public description without its B2C code (which the
    event keeps apart), else the RFC 6749 code. Never a secret: descriptions echo only names and ids."""
    detail = getattr(exc, "detail", "")
    if detail:
        return detail
    description = exc.description or ""
    code = getattr(exc, "b2c_code", "")
    if code and description.startswith(f"{code}: "):
        description = description[len(code) + 2:]
    return description or exc.error


def require(request, *names: str) -> None:
    for name in names:
        if not getattr(request, name, None):  # oauthlib's Request raises AttributeError for absent ones
            raise errors.MissingParameter(name)


class UnsupportedGrant(B2CGrantMixin):
    """The handler for any grant_type we do not serve (B2C: AADB2C90086)."""

    def __init__(self, request_validator=None) -> None:
        self.request_validator = request_validator

    def _get_default_headers(self) -> dict:
        return {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}

    def issue(self, request) -> dict:
        require(request, "grant_type")
        raise errors.UnsupportedGrantType(f"The supplied grant_type [{request.grant_type[:64]}] is not supported.")
