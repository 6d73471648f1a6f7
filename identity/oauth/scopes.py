"""Scopes of user grants (SPEC §4.1): OIDC scopes, the client's own id, and APIs' delegated scopes.

`openid` asks for an ID token, `offline_access` for a refresh token, the client id for an access
token to the client itself, `{App ID URI or API client id}/{scope}` for one of an API's delegated
scopes. One access token serves one resource (B2C: AADB2C90146). MSAL adds `profile`; it and `email`
are accepted and change nothing.
"""

from dataclasses import dataclass

from applications.models import Application, DelegatedScope
from applications.selectors import api_find_cached, delegated_scope_find_cached
from identity.oauth import errors
from identity.text import echo

OIDC_SCOPES = {"openid", "offline_access", "profile", "email"}


@dataclass(frozen=True)
class UserScopes:
    openid: bool
    offline_access: bool
    resource: Application | None
    delegated: tuple[DelegatedScope, ...]
    granted: tuple[str, ...]

    @property
    def scope_string(self) -> str:
        return " ".join(self.granted)


def parse_user_scopes(scopes: list[str], client: Application, resource_param: str = "") -> UserScopes:
    resources: dict[int, Application] = {}
    delegated: list[DelegatedScope] = []
    granted: list[str] = []
    for scope in dict.fromkeys(scopes):
        if scope in OIDC_SCOPES:
            granted.append(scope)
        elif scope.lower() == client.client_id:
            resources[client.pk] = client
            granted.append(client.client_id)
        else:
            api_scope = _delegated_scope(scope)
            resources[api_scope.application_id] = api_scope.application
            delegated.append(api_scope)
            granted.append(scope)
    if resource_param:
        resource = _resource(resource_param, client)
        resources.setdefault(resource.pk, resource)
    if len(resources) > 1:
        raise errors.InvalidScope("More than one resource was requested for one access token; ask for the "
                                  "scopes of one API at a time.", b2c_code="AADB2C90146")
    resource = next(iter(resources.values()), None)
    return UserScopes("openid" in granted, "offline_access" in granted, resource, tuple(delegated), tuple(granted))


def _delegated_scope(scope: str) -> DelegatedScope:
    prefix, _, value = scope.rpartition("/")
    found = delegated_scope_find_cached(prefix, value)
    if found is None:
        raise errors.InvalidScope(f"The scope '{echo(scope)}' provided in the request is not supported.",
                                  b2c_code="AADB2C90012")
    return found


def _resource(value: str, client: Application) -> Application:
    if value.strip().lower() == client.client_id:
        return client
    api = api_find_cached(value)
    if api is None:
        raise errors.InvalidScope(f"The resource '{echo(value)}' is not known in this tenant.")
    return api


def refresh_scopes(
    *, original_scope: str, requested: list[str], resource_param: str, client: Application
) -> UserScopes:
    """RFC 6749 §6: a refresh may narrow the original scope, never widen it — `resource` included.

    `resource` (the B2C refresh example sends the client id) may only name the resource the original
    grant already covered; any other API would be an access token nobody consented to.
    """
    original = parse_user_scopes(original_scope.split(), client)
    if not set(requested) <= set(original.granted):
        raise errors.InvalidScope("The requested scope exceeds the scope originally granted.")
    if resource_param:
        named = _resource(resource_param, client)
        if original.resource is None or named.pk != original.resource.pk:
            raise errors.InvalidScope(
                f"The resource '{echo(resource_param)}' was not part of the original grant.")
    scopes = parse_user_scopes(requested, client)
    if resource_param and scopes.resource is None:
        # `resource` without a resource scope (B2C's example): the original resource, original scopes on it.
        return UserScopes(scopes.openid, scopes.offline_access, original.resource, original.delegated,
                          scopes.granted)
    return scopes
