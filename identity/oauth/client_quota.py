"""The client's quota and the budget of failed client authentications, at client authentication (issue 18).

The per-IP quota is counted by the view before anything else. The client's own per-second quota is
counted here, once the client has authenticated (a public client: once it is known to exist), under the
id its registration stores, so a stranger's wrong secrets cannot use it up and case or whitespace
variants of an id cannot multiply it. A refusal while the client is being identified or authenticated
counts against a budget per (client id, IP) instead (identity.ratelimit).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from oauthlib.oauth2.rfc6749.errors import OAuth2Error

from identity import ratelimit
from identity.oauth import errors
from identity.oauth.context import KEY


@contextmanager
def failures_counted(request) -> Iterator[None]:
    """A refusal raised inside is a failed client authentication: counted against the (client, IP) budget,
    and past it answered 429 (not recorded as a sign-in event) instead."""
    try:
        yield
    except OAuth2Error as exc:
        client = request.client
        client_id = client.client_id if client is not None else (request.client_id or "")
        wait = ratelimit.client_failure_retry_after(client_id=client_id, ip=_client_ip(request))
        if wait is None:
            raise
        raise errors.RateLimited(retry_after=wait, detail="Too many failed client authentications.") from exc


def client_admitted(request) -> None:
    """The client has authenticated, or is a public client that exists: count it against its quota."""
    wait = ratelimit.client_retry_after(request.client.client_id)
    if wait is not None:
        raise errors.RateLimited(retry_after=wait)


def _client_ip(request) -> str | None:
    # The view's TokenContext rides in the headers on every endpoint (identity/oauth/backend.py).
    context = request.headers.get(KEY)
    return context.client_ip if context is not None else None
