"""Writes to app registrations (SPEC §5): one code path for admin, commands and API."""

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from applications import validators
from applications.manifest import AppRoleSpec, parse_app_roles, parse_member_types, validate_role_value
from applications.models import (
    Application,
    AppRole,
    ClientSecret,
    ConsentGrant,
    DelegatedScope,
    RedirectUri,
    RequiredPermission,
)
from applications.models.secrets import SECRET_MAX_DAYS
from audit.services import Actor, actor_label, audit_record

CLIENT_SECRET_HASHER = "client_secret_sha256"


def _validate_full(instance, **kwargs) -> None:
    """Model validation, so constraint violations become readable messages, not IntegrityErrors."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        messages = [f"{field}: {m}" if field != "__all__" else m for field, ms in exc.message_dict.items() for m in ms]
        raise ValidationError(" ".join(messages)) from None


@transaction.atomic
def application_register(
    *,
    actor: Actor,
    name: str,
    public: bool = False,
    ropc: bool = False,
    client_id: str | None = None,
    app_id_uri: str | None = None,
    redirect_uris: Iterable[str] = (),
) -> Application:
    """Register an app. A public (native) client has no secret; a confidential one gets them later."""
    client_id = validators.client_id_validate(client_id)
    app = Application(
        name=validators.name_validate(name),
        client_id=client_id,
        client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
        ropc_enabled=ropc,
        app_id_uri=validators.app_id_uri_validate(app_id_uri, client_id=client_id),
    )
    uris = list(dict.fromkeys(validators.redirect_uri_validate(uri) for uri in redirect_uris))
    _validate_full(app)
    app.save()
    for uri in uris:
        row = RedirectUri(application=app, uri=uri)
        _validate_full(row, exclude=["application"])
        row.save()
    audit_record(actor=actor, action="application.register", target=app, details={
        "client_id": app.client_id, "public": public, "ropc": ropc, "app_id_uri": app.app_id_uri,
    })
    return app


def validate_application(application: Application) -> None:
    """The rules of an app registration's own fields (applications/validators.py), as an edit sets them."""
    application.name = validators.name_validate(application.name)
    application.client_id = validators.client_id_validate(application.client_id, application=application)
    validators.client_type_validate(application.client_type)
    application.app_id_uri = validators.app_id_uri_validate(
        application.app_id_uri, client_id=application.client_id, application=application
    )


@transaction.atomic
def application_update(*, application: Application, changed: list[str], actor: Actor) -> Application:
    """Save an edited app registration (the admin's change form set the fields) with the rules of an edit.

    A public client has no secrets (SPEC §4.1, AADB2C90084): turning an app public removes them, so that
    turning it back cannot silently bring old secrets into use again.
    """
    validate_application(application)
    _validate_full(application)
    application.save()
    details: dict = {"changed": sorted(changed)}
    if application.is_public:
        removed = [str(k) for k in application.secrets.values_list("key_id", flat=True)]
        if removed:
            application.secrets.all().delete()
            details["secrets_removed"] = removed
        certificates = [str(k) for k in application.certificates.values_list("key_id", flat=True)]
        if certificates:  # likewise (applications/certificates.py)
            application.certificates.all().delete()
            details["certificates_removed"] = certificates
    audit_record(actor=actor, action="application.update", target=application, details=details)
    return application


@transaction.atomic
def application_set_app_id_uri(*, application: Application, app_id_uri: str, actor: Actor) -> Application:
    """Expose an API: give the app its App ID URI (clients then ask for `{App ID URI}/.default`)."""
    before = application.app_id_uri
    application.app_id_uri = validators.app_id_uri_validate(
        app_id_uri, client_id=application.client_id, application=application
    )
    _validate_full(application)
    application.save(update_fields=["app_id_uri"])
    audit_record(actor=actor, action="application.update", target=application, details={
        "changed": ["app_id_uri"], "app_id_uri": {"before": before, "after": application.app_id_uri},
    })
    return application


def application_record_edit(*, application: Application, changed: list[str], actor: Actor) -> None:
    """Audit an edit of rows that hang off the app (inline roles, scopes, redirect URIs)."""
    audit_record(actor=actor, action="application.update", target=application, details={"changed": sorted(changed)})


@transaction.atomic
def application_delete(*, application: Application, actor: Actor) -> None:
    audit_record(
        actor=actor, action="application.delete", target=application, details={"client_id": application.client_id}
    )
    application.delete()


def _new_secret_value() -> str:
    # 40 characters like Entra's secrets; token_urlsafe(30) carries 240 bits.
    return secrets.token_urlsafe(30)


@transaction.atomic
def client_secret_add(
    *, application: Application, actor: Actor, description: str = "", expires_days: int | None = None
) -> tuple[ClientSecret, str]:
    """Create a secret; the plaintext is returned once here and never stored (SPEC §5)."""
    if application.is_public:
        raise ValidationError(
            f"'{application.name}' is a public client; public clients do not use secrets (AADB2C90084)."
        )
    days = settings.CLIENT_SECRET_DEFAULT_DAYS if expires_days is None else expires_days
    if not 1 <= days <= SECRET_MAX_DAYS:
        raise ValidationError(f"A secret must expire in 1 to {SECRET_MAX_DAYS} days (got {days}).")
    value = _new_secret_value()
    now = timezone.now()
    secret = ClientSecret(
        application=application, description=description.strip()[:256], hint=value[:3],
        secret_hash=make_password(value, hasher=CLIENT_SECRET_HASHER),
        created_at=now, expires_at=now + timedelta(days=days),
    )
    secret.save()
    audit_record(actor=actor, action="client_secret.add", target=application, details={
        "secret_id": str(secret.key_id), "hint": secret.hint, "expires_at": secret.expires_at.isoformat(),
    })
    return secret, value


@transaction.atomic
def client_secret_remove(*, secret: ClientSecret, actor: Actor) -> None:
    audit_record(actor=actor, action="client_secret.remove", target=secret.application, details={
        "secret_id": str(secret.key_id), "hint": secret.hint,
    })
    secret.delete()


def _save_role(role: AppRole, spec: AppRoleSpec) -> AppRole:
    role.value, role.display_name, role.description = spec.value, spec.display_name, spec.description
    role.allow_application = "Application" in spec.member_types
    role.allow_user = "User" in spec.member_types
    role.is_enabled = spec.enabled
    _validate_full(role, exclude=["application"])
    role.save()
    return role


@transaction.atomic
def app_role_add(
    *,
    application: Application,
    actor: Actor,
    value: str,
    display_name: str = "",
    description: str = "",
    member_types: Iterable[str] | str = ("Application",),
    role_id: uuid.UUID | None = None,
    enabled: bool = True,
) -> AppRole:
    """Define an app role on an API (B2C: `appRoles`; the value appears in `scp` and `roles`)."""
    spec = AppRoleSpec(
        role_id=role_id or uuid.uuid4(), value=validate_role_value(value), display_name=display_name or value,
        description=description, member_types=parse_member_types(list(member_types) if not isinstance(
            member_types, str) else member_types), enabled=enabled,
    )
    if application.app_roles.filter(value=spec.value).exists():
        raise ValidationError(f"'{application.name}' already has an app role '{spec.value}'.", code="duplicate")
    # _save_role's full_clean excludes `application`, so it cannot see the per-app id constraint.
    if application.app_roles.filter(role_id=spec.role_id).exists():
        raise ValidationError(f"'{application.name}' already has an app role with id {spec.role_id}.", code="duplicate")
    role = _save_role(AppRole(application=application, role_id=spec.role_id), spec)
    audit_record(actor=actor, action="app_role.add", target=application, details={
        "role_id": str(role.role_id), "value": role.value, "member_types": role.member_types,
    })
    return role


@transaction.atomic
def app_roles_import_manifest(*, application: Application, actor: Actor, manifest: str) -> list[AppRole]:
    """Create or update app roles from pasted `appRoles` JSON, matched by id; all or nothing."""
    specs = parse_app_roles(manifest)
    existing = {r.role_id: r for r in application.app_roles.all()}
    imported_ids = {s.role_id for s in specs}
    kept = {r.value: r for r in existing.values() if r.role_id not in imported_ids}
    for index, spec in enumerate(specs):
        if spec.value in kept:
            raise ValidationError(
                f"appRoles[{index}] ('{spec.value}'): '{application.name}' already has an app role '{spec.value}' "
                f"with another id ({kept[spec.value].role_id}); give that id to update it, or choose another value."
            )
    # Park the values of the roles being updated first, so swapping two values cannot trip the
    # per-app uniqueness constraint halfway through.
    for role in existing.values():
        if role.role_id in imported_ids:
            role.value = f"__importing__{role.role_id}"
            role.save(update_fields=["value"])
    roles = [
        _save_role(existing.get(s.role_id) or AppRole(application=application, role_id=s.role_id), s) for s in specs
    ]
    audit_record(actor=actor, action="app_role.import", target=application, details={
        "values": [r.value for r in roles],
    })
    return roles


@transaction.atomic
def delegated_scope_add(
    *, application: Application, actor: Actor, value: str, display_name: str = "", description: str = "",
    enabled: bool = True,
) -> DelegatedScope:
    """Expose a delegated scope on an API (B2C: "Expose an API")."""
    validate_role_value(value)
    if application.scopes.filter(value=value).exists():
        raise ValidationError(f"'{application.name}' already exposes a scope '{value}'.", code="duplicate")
    scope = DelegatedScope(application=application, value=value, display_name=display_name or value,
                           description=description, is_enabled=enabled)
    _validate_full(scope, exclude=["application"])
    scope.save()
    audit_record(actor=actor, action="scope.add", target=application, details={"value": value})
    return scope


def _resolve_permission_target(api: Application, value: str) -> dict:
    role = api.app_roles.filter(value=value).first()
    if role is not None:
        if not role.allow_application:
            raise ValidationError(f"App role '{value}' on '{api.name}' does not allow member type Application.")
        return {"app_role": role}
    scope = api.scopes.filter(value=value).first()
    if scope is not None:
        return {"scope": scope}
    raise ValidationError(f"'{api.name}' has no app role or scope '{value}'.", code="unknown_permission")


@transaction.atomic
def permission_add(
    *, client: Application, api: Application, values: Iterable[str], actor: Actor
) -> list[RequiredPermission]:
    """The client requests app roles or scopes on an API; already-requested ones are left as they are."""
    values = list(dict.fromkeys(values))
    if not values:
        raise ValidationError("Name at least one app role or scope.")
    targets = [_resolve_permission_target(api, v) for v in values]  # validate all before writing any
    added = []
    for target in targets:
        permission, created = RequiredPermission.objects.get_or_create(client=client, **target)
        if created:
            added.append(permission)
    if added:
        audit_record(actor=actor, action="permission.add", target=client, details={
            "api": api.client_id, "values": [p.target.value for p in added],
        })
    return added


def permission_targets(*, api: Application, values: Iterable[str]) -> list[AppRole | DelegatedScope]:
    """The app roles or delegated scopes of `api` these values name (an app role first, as requests resolve
    them), for removal: whatever their member types now. ValidationError for a value `api` does not define."""
    targets: list[AppRole | DelegatedScope] = []
    for value in dict.fromkeys(values):
        target = api.app_roles.filter(value=value).first() or api.scopes.filter(value=value).first()
        if target is None:
            raise ValidationError(f"'{api.name}' has no app role or scope '{value}'.", code="unknown_permission")
        targets.append(target)
    if not targets:
        raise ValidationError("Name at least one app role or scope.")
    return targets


@dataclass(frozen=True)
class PermissionRemoval:
    """What `permission_remove` changed, by value: requests deleted, tenant-wide consents withdrawn, and
    values that were neither requested nor granted (nothing to do)."""

    removed: list[str]
    consent_revoked: list[str]
    unchanged: list[str]


@transaction.atomic
def permission_remove(
    *, client: Application, targets: Iterable[AppRole | DelegatedScope], actor: Actor
) -> PermissionRemoval:
    """Stop the client requesting these app roles or scopes, and withdraw the tenant-wide admin consent to
    them: a removed permission is never left granted (issue 18 item 5). The one rule of the admin's
    "Remove" and `manage.py removepermission`.

    Entra leaves such a grant in force and lists it under "Other permissions granted for {tenant}"; here
    removing is revoking, so tokens stop carrying the permission — within DIRECTORY_CACHE_SECONDS, since
    deleting a grant marks the directory changed (identity/directory_cache.py). A grant with no request
    (left by a build before this rule, and shown under "Other permissions granted") is revoked the same
    way. Users' own consents to a scope stay, as with "Revoke admin consent".
    """
    removed: list[str] = []
    revoked: list[str] = []
    unchanged: list[str] = []
    recorded = []
    for target in targets:
        field = {"app_role": target} if isinstance(target, AppRole) else {"scope": target}
        requested = RequiredPermission.objects.filter(client=client, **field).delete()[0] > 0
        granted = ConsentGrant.objects.filter(client=client, user__isnull=True, **field).delete()[0] > 0
        if requested:
            removed.append(target.value)
        if granted:
            revoked.append(target.value)
        if not (requested or granted):
            unchanged.append(target.value)
            continue
        recorded.append({
            "api": target.application.client_id, "value": target.value,
            "type": "Application" if isinstance(target, AppRole) else "Delegated",
            "request_removed": requested, "consent_revoked": granted,
        })
    if recorded:
        audit_record(actor=actor, action="permission.remove", target=client, details={"permissions": recorded})
    return PermissionRemoval(removed, revoked, unchanged)


@transaction.atomic
def admin_consent_grant(
    *, client: Application, actor: Actor, only: Iterable[int] | None = None
) -> list[ConsentGrant]:
    """"Grant admin consent for {tenant}": tenant-wide consent to every requested permission, or to the
    requested permissions with these ids (`only`: what a confirmation page showed)."""
    created = []
    permissions = client.required_permissions.select_related("app_role", "scope")
    if only is not None:
        permissions = permissions.filter(pk__in=list(only))
    for permission in permissions:
        target = {"app_role": permission.app_role} if permission.app_role_id else {"scope": permission.scope}
        try:
            with transaction.atomic():
                grant, was_created = ConsentGrant.objects.get_or_create(
                    client=client, user=None, **target,
                    defaults={"granted_by": actor if not isinstance(actor, str | None) else None,
                              "granted_by_label": actor_label(actor)},
                )
        except IntegrityError:  # a concurrent grant won; it is granted either way
            continue
        if was_created:
            created.append(grant)
    audit_record(actor=actor, action="consent.grant", target=client, details={
        "granted": [g.target.value for g in created],
    })
    return created


@transaction.atomic
def admin_consent_revoke(
    *, client: Application, actor: Actor, only: Iterable[int] | None = None, grants_only: Iterable[int] | None = None,
) -> int:
    """Withdraw the tenant-wide consent given to the client (per-user consents stay); with `only`, the
    consent to the requested permissions with these ids; with `grants_only`, these consent grants (the
    "Other permissions granted" the client does not request)."""
    grants = ConsentGrant.objects.filter(client=client, user__isnull=True)
    if only is not None:
        chosen = client.required_permissions.filter(pk__in=list(only))
        grants = grants.filter(Q(app_role__in=chosen.values("app_role")) | Q(scope__in=chosen.values("scope")))
    if grants_only is not None:
        grants = grants.filter(pk__in=list(grants_only))
    values = [g.target.value for g in grants.select_related("app_role", "scope")]
    grants.delete()
    audit_record(actor=actor, action="consent.revoke", target=client, details={"revoked": values})
    return len(values)

