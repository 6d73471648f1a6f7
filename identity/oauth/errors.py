"""Typed token-endpoint errors (SPEC §2): RFC 6749 §5.2 code and status, B2C code, public text.

They subclass oauthlib's OAuth2Error, so a raise from any validator hook or grant flows through
oauthlib unchanged; `identity.views.token` turns every one into the JSON response. `detail` is for
the log and the sign-in event only, never for the client.
"""

from collections.abc import Callable

from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors


class TokenError(oauthlib_errors.OAuth2Error):
    error = "invalid_request"
    status_code = 400
    b2c_code = ""
    message = "The request is invalid."

    def __init__(self, message: str | None = None, *, detail: str = "", request=None, b2c_code: str | None = None):
        self.b2c_code = self.b2c_code if b2c_code is None else b2c_code
        self.detail = detail
        # Writes the refusal itself must cause (family revocation, lockout counting). The request's
        # transaction rolls back with the refusal, so the grant runs these after it (grants/base.py).
        self.effects: list[Callable[[], object]] = []
        text = message or self.message
        super().__init__(description=f"{self.b2c_code}: {text}" if self.b2c_code else text, request=request)


class InvalidRequest(TokenError):
    pass


class MissingParameter(InvalidRequest):
    b2c_code = "AADB2C90083"

    def __init__(self, name: str, **kwargs):
        super().__init__(f"The request is missing required parameter: {name}.", **kwargs)


class InvalidClient(TokenError):
    error = "invalid_client"
    status_code = 401
    message = "Client authentication failed."


class UnauthorizedClient(TokenError):
    error = "unauthorized_client"
    message = "The client is not authorized to use this grant type."


class UnsupportedGrantType(TokenError):
    error = "unsupported_grant_type"
    b2c_code = "AADB2C90086"


class InvalidScope(TokenError):
    error = "invalid_scope"
    message = "The requested scope is invalid."


class InvalidGrant(TokenError):
    error = "invalid_grant"
    message = "The provided grant is invalid."


class InteractionRequired(TokenError):
    error = "interaction_required"


class RetryLater(TokenError):
    """A refusal that tells the client when to come back (`Retry-After`)."""

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))

    @property
    def headers(self) -> dict:
        return {**super().headers, "Retry-After": str(self.retry_after)}


class RateLimited(RetryLater):
    error = "slow_down"
    status_code = 429
    b2c_code = "AADB2C90244"
    message = "There are too many requests at this moment. Please wait for some time and try again."


class TemporarilyUnavailable(RetryLater):
    error = "temporarily_unavailable"
    status_code = 503
    message = "The service is temporarily unavailable. Please try again shortly."


# The refusals of SPEC §4, each with its own description. Factories keep the wording in one place.

def bad_credentials(
    text: str = "The username or password provided in the request are invalid.", detail: str = ""
) -> InvalidGrant:
    return InvalidGrant(text, b2c_code="AADB2C90225", detail=detail)


def ropc_not_enabled() -> UnauthorizedClient:
    return UnauthorizedClient("Resource owner flow has not been enabled for the application.", b2c_code="AADB2C90224")


def public_client_sent_secret() -> InvalidRequest:
    return InvalidRequest(
        "Public clients should not send a client_secret when redeeming a publicly acquired grant.",
        b2c_code="AADB2C90084",
    )


def grant_revoked(detail: str = "") -> InvalidGrant:
    return InvalidGrant("The provided grant has been revoked. Please reauthenticate and try again.",
                        b2c_code="AADB2C90129", detail=detail)


def grant_expired(detail: str = "") -> InvalidGrant:
    return InvalidGrant(f"The provided grant has expired. Please re-authenticate and try again.{detail}",
                        b2c_code="AADB2C90080")


def account_deleted() -> InvalidGrant:
    return InvalidGrant(
        "The account associated with this grant no longer exists. Please reauthenticate and try again.",
        b2c_code="AADB2C90128",
    )


class UnsupportedTokenType(TokenError):
    """RFC 7009 §2.2.1: access tokens are self-contained JWTs; they cannot be revoked, only expire."""

    error = "unsupported_token_type"
    message = ("Access tokens cannot be revoked; they expire on their own. Revoke the refresh token, or the "
               "user's sessions, instead.")


def account_disabled() -> InvalidGrant:
    """B2C's code for a disabled account (its UserMessageIfUserAccountDisabled). B2C's own text says "Your
    account has been locked", which reads like smart lockout (AADB2C90114); SPEC §4.1 gives each refusal
    its own description, so ours says "disabled"."""
    return InvalidGrant("The user account is disabled. Contact your support person to enable it, then try again.",
                        b2c_code="AADB2C90111", detail="Account disabled.")


def account_locked() -> InvalidGrant:
    return InvalidGrant("Your account is temporarily locked to prevent unauthorized use. Try again later.",
                        b2c_code="AADB2C90114")


# Client assertions (private_key_jwt: RFC 7523 §2.2, OIDC Core §9). B2C has no codes of its own for
# them; these are Entra's, with its wording, so that a developer's search for the code finds the cause.


def assertion_malformed(text: str) -> InvalidClient:
    return InvalidClient(f"Invalid JWT token. {text}", b2c_code="AADSTS50027")


def assertion_key_not_found(thumbprint: str) -> InvalidClient:
    return InvalidClient("The certificate with identifier used to sign the client assertion is not registered on "
                         f"application. [Reason - The key was not found., Thumbprint of key used by client: "
                         f"'{thumbprint}']", b2c_code="AADSTS700027")


def assertion_invalid_signature(reason: str) -> InvalidClient:
    return InvalidClient(f"Client assertion contains an invalid signature. [Reason - {reason}]",
                         b2c_code="AADSTS700027")


def assertion_time_range(text: str) -> InvalidClient:
    return InvalidClient(f"Client assertion is not within its valid time range. {text}", b2c_code="AADSTS700024")


def assertion_wrong_client() -> InvalidClient:
    return InvalidClient("Client assertion application identifier doesn't match 'client_id' parameter: iss and sub "
                         "must both be the client id.", b2c_code="AADSTS700021")


def assertion_wrong_audience(expected: str) -> InvalidClient:
    return InvalidClient(f"Client assertion audience claim does not match Realm issuer. Use this policy's token "
                         f"endpoint URL as aud: '{expected}'.", b2c_code="AADSTS700023")


def assertion_replayed() -> InvalidClient:
    return InvalidClient("The client assertion has been used already; sign a new one, with a new jti, for each "
                         "request.")


def assertion_with_secret() -> InvalidClient:
    """RFC 7521 §4.2.1: more than one client authentication method is invalid_client."""
    return InvalidClient("Use one client authentication method: a client_secret (or HTTP Basic) or a "
                         "client_assertion, not both.")


def public_client_sent_assertion() -> InvalidClient:
    return InvalidClient("Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
                         b2c_code="AADSTS700025")
