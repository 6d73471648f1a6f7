"""Who the client is and how it authenticated (RFC 6749 §2.3.1; SPEC §2).

`client_secret_basic` (HTTP Basic with form-encoded id and secret), `client_secret_post` (body) or
`private_key_jwt` (a signed client assertion: identity/oauth/client_assertion.py), one at a time. The
method is remembered on the oauthlib request so a failure answers with `WWW-Authenticate: Basic` when
Basic was used.
"""

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_plus

from applications.client_auth import client_secret_matches
from applications.models import Application
from applications.selectors import application_find_cached
from identity.oauth import errors
from identity.oauth.client_assertion import JWT_BEARER, assertion_client_id, client_assertion_verify
from identity.oauth.context import KEY
from identity.text import echo

BASIC = "client_secret_basic"
POST = "client_secret_post"
ASSERTION = "private_key_jwt"
NONE = "none"


@dataclass(frozen=True)
class PresentedClient:
    client_id: str
    secret: str | None
    method: str
    assertion: str | None = None


def presented_client(request) -> PresentedClient:
    """The client id and secret the oauthlib request carries, and the method used."""
    header = request.headers.get("Authorization", "")
    body_secret = request.client_secret or None
    assertion = _client_assertion(request)
    if assertion is not None:
        if body_secret is not None or header:
            raise errors.assertion_with_secret()
        request.client_id = request.client_id or assertion_client_id(assertion)
        return PresentedClient(request.client_id, None, ASSERTION, assertion)
    if header[:6].lower() == "basic ":
        if body_secret is not None:
            raise errors.InvalidRequest("Use one client authentication method: HTTP Basic or the request body.")
        client_id, secret = _parse_basic(header[6:])
        if request.client_id and request.client_id != client_id:
            raise errors.InvalidRequest("The client_id in the body differs from the one in the Authorization header.")
        request.client_id = client_id
        return PresentedClient(client_id, secret, BASIC)
    if header:
        raise errors.InvalidClient("Unsupported Authorization scheme; use HTTP Basic.")
    client_id = request.client_id or ""
    return PresentedClient(client_id, body_secret, POST if body_secret is not None else NONE)


def _client_assertion(request) -> str | None:
    """RFC 7521 §4.2: `client_assertion` with its type, both or neither."""
    kind = getattr(request, "client_assertion_type", None)
    assertion = getattr(request, "client_assertion", None)
    if not kind and not assertion:
        return None
    if not assertion:
        raise errors.MissingParameter("client_assertion")
    if kind != JWT_BEARER:
        raise errors.InvalidClient(f"Unsupported client_assertion_type '{echo(kind or '')}'; use '{JWT_BEARER}'.")
    return assertion


def _parse_basic(encoded: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.InvalidClient("The Authorization header is not valid HTTP Basic credentials.") from None
    client_id, sep, secret = decoded.partition(":")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if not sep or "\x00" in client_id or "\x00" in secret:
        raise errors.InvalidClient("The Authorization header is not valid HTTP Basic credentials.")
    return client_id, secret


def load_client(client_id: str) -> Application:
    """The enabled app with this client id, or 401 invalid_client."""
    if not client_id:
        raise errors.MissingParameter("client_id")
    app = application_find_cached(client_id)
    if app is None:
        raise errors.InvalidClient(f"Client '{echo(client_id)}' is not registered in this tenant.",
                                   b2c_code="AADB2C90018")
    if not app.enabled:
        raise errors.InvalidClient(f"The provided application with ID '{echo(client_id)}' is disabled for the tenant.",
                                   b2c_code="AADB2C90092")
    return app


def authenticate_confidential(app: Application, presented: PresentedClient, request) -> None:
    if presented.method == ASSERTION:
        # The policy rides in the oauthlib request's headers on every endpoint (identity/oauth/backend.py).
        client_assertion_verify(application=app, assertion=presented.assertion, policy=request.headers[KEY].policy)
        return
    if presented.secret is None:
        raise errors.InvalidClient("Clients must send a client_secret when redeeming a confidential grant.",
                                   b2c_code="AADB2C90079")
    if not client_secret_matches(application=app, secret=presented.secret):
        raise errors.InvalidClient("The specified client_secret does not match the expected value for this "
                                   "client, or it has expired.", b2c_code="AADB2C90081")

