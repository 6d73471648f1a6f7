"""Reads of app registrations, permissions and consent."""

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from applications.models import Application, AppRole, ClientSecret, ConsentGrant, DelegatedScope, RequiredPermission
from identity.directory_cache import directory


def uuid_or_none(value: str) -> str | None:
    """The canonical form of a UUID, or None when `value` is not one."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def application_find(client_id: str) -> Application | None:
    """The app with this client id (any case), enabled or not; None if there is none."""
    return Application.objects.filter(client_id=client_id.strip().lower()).first() if client_id else None


def api_find(identifier: str) -> Application | None:
    """The enabled app a resource identifier names: its App ID URI (any case) or its client id.

    The one rule for `{resource}/.default`, `{resource}/{scope}` and the `resource` parameter.
    """
    identifier = identifier.strip()
    if not identifier:
        return None
    return Application.objects.filter(
        Q(app_id_uri__iexact=identifier) | Q(client_id=identifier.lower()), enabled=True
    ).first()


def application_get(identifier: str) -> Application:
    """An app by client id or App ID URI; ValidationError if there is none."""
    client_id = uuid_or_none(identifier)
    query = Q(client_id=client_id) if client_id else Q(app_id_uri__iexact=identifier.strip())
    app = Application.objects.filter(query).first()
    if app is None:
        raise ValidationError(f"Unknown application '{identifier}'.", code="unknown_application")
    return app


def roles_consented(*, client: Application, api: Application) -> list[str]:
    """Values of the enabled app roles on `api` that admin consent granted to `client` (SPEC §4.3)."""
    return list(
        AppRole.objects.filter(
            application=api, is_enabled=True, allow_application=True,
            pk__in=ConsentGrant.objects.filter(client=client, app_role__isnull=False).values("app_role"),
        ).order_by("value").values_list("value", flat=True)
    )


# The token endpoint's reads, from the per-process directory cache (identity/directory_cache.py): what
# they return is shared between requests and threads, so it is read-only, and at most
# DIRECTORY_CACHE_SECONDS stale in other processes. Admin screens and services use the uncached reads.


def application_find_cached(client_id: str) -> Application | None:
    key = client_id.strip().lower()
    return directory.get(("application", key), lambda: application_find(key)) if key else None


def api_find_cached(identifier: str) -> Application | None:
    key = identifier.strip().lower()
    # Loaded with the identifier as given: SQLite's case-insensitive match folds ASCII only.
    return directory.get(("api", key), lambda: api_find(identifier)) if key else None


def roles_consented_cached(*, client: Application, api: Application) -> list[str]:
    return directory.get(("roles", client.pk, api.pk), lambda: roles_consented(client=client, api=api))


def defines_user_roles_cached(application: Application) -> bool:
    """Whether the app defines an enabled app role of member type User: when it does not, no token for it
    carries a user's roles, and the token endpoint need not read the user's assignments."""
    return directory.get(("user_roles", application.pk), lambda: AppRole.objects.filter(
        application_id=application.pk, is_enabled=True, allow_user=True).exists())


def delegated_scope_find_cached(resource: str, value: str) -> DelegatedScope | None:
    """The enabled delegated scope `value` of the enabled API `resource` names (App ID URI or client id)."""
    resource = resource.strip()

    def load() -> DelegatedScope | None:
        return (
            DelegatedScope.objects.select_related("application")
            .filter(Q(application__app_id_uri__iexact=resource) | Q(application__client_id=resource.lower()))
            .filter(value=value, is_enabled=True, application__enabled=True).first()
        )

    return directory.get(("delegated_scope", resource.lower(), value), load) if resource and value else None


@dataclass(frozen=True)
class PermissionStatus:
    permission: RequiredPermission
    granted: bool

    @property
    def status(self) -> str:
        return "Granted" if self.granted else "Not granted"


def permissions_with_status(client: Application) -> list[PermissionStatus]:
    """Each permission the client requested, with whether admin consent covers it."""
    granted_roles = set(
        ConsentGrant.objects.filter(client=client, app_role__isnull=False).values_list("app_role_id", flat=True)
    )
    granted_scopes = set(
        ConsentGrant.objects.filter(client=client, scope__isnull=False, user__isnull=True)
        .values_list("scope_id", flat=True)
    )
    permissions = client.required_permissions.select_related("app_role__application", "scope__application")
    return [
        PermissionStatus(p, (p.app_role_id in granted_roles) if p.app_role_id else (p.scope_id in granted_scopes))
        for p in permissions.order_by("id")
    ]


def other_permissions_granted(client: Application) -> list[ConsentGrant]:
    """Tenant-wide admin consent the client holds for app roles or scopes it does not request: Entra's
    "Other permissions granted for {tenant}". Still in force (tokens carry them), so shown, to be revoked
    or requested again. Removing a permission revokes its grant (services.permission_remove); these are
    left by builds before that rule."""
    requested = client.required_permissions
    return list(
        ConsentGrant.objects.filter(client=client, user__isnull=True)
        .exclude(app_role__in=requested.filter(app_role__isnull=False).values("app_role"))
        .exclude(scope__in=requested.filter(scope__isnull=False).values("scope"))
        .select_related("app_role__application", "scope__application").order_by("id")
    )


def applications_list() -> QuerySet[Application]:
    """Every app registration, by name, with its redirect URIs."""
    return Application.objects.order_by(Lower("name"), "pk").prefetch_related("redirect_uri_rows")


def client_secrets(application: Application) -> QuerySet[ClientSecret]:
    """An app's client secrets, newest first (their hashes stay in the database; nothing here reveals a value)."""
    return application.secrets.order_by("-created_at", "-pk")


def client_secret_get(*, application: Application, secret_id: str) -> ClientSecret:
    """One of the app's secrets by its secret id (key id); ValidationError if the app has none such."""
    key_id = uuid_or_none(secret_id)
    if key_id is None:
        raise ValidationError(
            f"Secret id must be a UUID, the secret id addsecret and listsecrets print (got '{secret_id}')."
        )
    secret = application.secrets.filter(key_id=key_id).first()
    if secret is None:
        raise ValidationError(
            f"'{application.name}' has no client secret with id {key_id}; see manage.py listsecrets "
            f"{application.client_id}.", code="unknown_secret",
        )
    return secret
