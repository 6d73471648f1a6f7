"""Scopes of user grants (SPEC §4.1): OIDC scopes, the client's own id, and APIs' delegated scopes.

`openid` asks for an ID token, `offline_access` for a refresh token, the client id for an access
token to the client itself, `{App ID URI or API client id}/{scope}` for one of an API's delegated
scopes. One access token serves one resource (B2C: AADB2C90146). MSAL adds `profile`; it and `email`
are accepted and change nothing.
"""

from dataclasses import dataclass

from django.db.models import Q

from applications.models import Application, DelegatedScope
from identity.oauth import errors

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
    found = prefix and value and (
        DelegatedScope.objects.select_related("application")
        .filter(Q(application__app_id_uri=prefix) | Q(application__client_id=prefix.lower()))
        .filter(value=value, is_enabled=True, application__enabled=True).first()
    )
    if not found:
        raise errors.InvalidScope(f"The scope '{scope}' provided in the request is not supported.",
                                  b2c_code="AADB2C90012")
    return found


def _resource(value: str, client: Application) -> Application:
    if value.strip().lower() == client.client_id:
        return client
    api = Application.objects.filter(
        Q(client_id=value.strip().lower()) | Q(app_id_uri=value.strip()), enabled=True
    ).first()
    if api is None:
        raise errors.InvalidScope(f"The resource '{value}' is not known in this tenant.")
    return api
