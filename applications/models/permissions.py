"""What APIs expose (app roles, delegated scopes), what clients ask for, and what was consented."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from applications.models.application import Application

NO_WHITESPACE = r"^\S+$"


class AppRole(models.Model):
    """An `appRoles` entry of an API's manifest; its value appears in `scp` and `roles`."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="app_roles")
    role_id = models.UUIDField("id", default=uuid.uuid4)
    value = models.CharField(max_length=120, help_text="Appears in tokens; no spaces (e.g. app.read).")
    display_name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    allow_application = models.BooleanField("member type Application", default=True)
    allow_user = models.BooleanField("member type User", default=False)
    is_enabled = models.BooleanField("enabled", default=True)

    class Meta:
        verbose_name = "app role"
        ordering = ["application_id", "value"]
        constraints = [
            models.UniqueConstraint(fields=["application", "value"], name="app_role_value_unique_per_app"),
            models.UniqueConstraint(fields=["application", "role_id"], name="app_role_id_unique_per_app"),
            models.CheckConstraint(condition=Q(value__regex=NO_WHITESPACE), name="app_role_value_no_spaces"),
            models.CheckConstraint(
                condition=Q(allow_application=True) | Q(allow_user=True), name="app_role_has_member_type"
            ),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def member_types(self) -> list[str]:
        return [t for t, on in (("Application", self.allow_application), ("User", self.allow_user)) if on]


class DelegatedScope(models.Model):
    """A scope an API exposes to delegated (user) access, e.g. `tasks.read`."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="scopes")
    scope_id = models.UUIDField("id", default=uuid.uuid4)
    value = models.CharField(max_length=120, help_text="No spaces (e.g. tasks.read).")
    display_name = models.CharField("admin consent display name", max_length=120)
    description = models.TextField(blank=True)
    is_enabled = models.BooleanField("enabled", default=True)

    class Meta:
        verbose_name = "delegated scope"
        ordering = ["application_id", "value"]
        constraints = [
            models.UniqueConstraint(fields=["application", "value"], name="scope_value_unique_per_app"),
            models.UniqueConstraint(fields=["application", "scope_id"], name="scope_id_unique_per_app"),
            models.CheckConstraint(condition=Q(value__regex=NO_WHITESPACE), name="scope_value_no_spaces"),
        ]

    def __str__(self) -> str:
        return self.value


_EXACTLY_ONE_TARGET = (Q(app_role__isnull=False) & Q(scope__isnull=True)) | (
    Q(app_role__isnull=True) & Q(scope__isnull=False)
)


class RequiredPermission(models.Model):
    """A client's request for an app role (application permission) or a scope (delegated)."""

    client = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="required_permissions")
    app_role = models.ForeignKey(AppRole, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    scope = models.ForeignKey(DelegatedScope, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "API permission"
        constraints = [
            models.CheckConstraint(condition=_EXACTLY_ONE_TARGET, name="permission_one_target"),
            models.UniqueConstraint(
                fields=["client", "app_role"], condition=Q(app_role__isnull=False), name="permission_role_unique"
            ),
            models.UniqueConstraint(
                fields=["client", "scope"], condition=Q(scope__isnull=False), name="permission_scope_unique"
            ),
        ]

    @property
    def target(self) -> AppRole | DelegatedScope:
        return self.app_role or self.scope

    @property
    def api(self) -> Application:
        return self.target.application

    @property
    def kind(self) -> str:
        return "Application" if self.app_role_id else "Delegated"

    def __str__(self) -> str:
        return f"{self.api.name}: {self.target.value} ({self.kind})"


class ConsentGrant(models.Model):
    """Consent to one permission: tenant-wide by an admin (user empty), or by one user for a scope."""

    client = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="consent_grants")
    app_role = models.ForeignKey(AppRole, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    scope = models.ForeignKey(DelegatedScope, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="consents",
        help_text="Empty for admin consent on behalf of the whole tenant.",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_by_label = models.CharField(max_length=150, blank=True)
    granted_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=_EXACTLY_ONE_TARGET, name="consent_one_target"),
            # App roles (application permissions) can only be granted by an admin, tenant-wide.
            models.CheckConstraint(
                condition=Q(app_role__isnull=True) | Q(user__isnull=True), name="consent_role_is_admin_only"
            ),
            models.UniqueConstraint(
                fields=["client", "app_role"], condition=Q(app_role__isnull=False), name="consent_role_unique"
            ),
            models.UniqueConstraint(
                fields=["client", "scope"], condition=Q(scope__isnull=False, user__isnull=True),
                name="consent_scope_tenant_unique",
            ),
            models.UniqueConstraint(
                fields=["client", "scope", "user"], condition=Q(scope__isnull=False, user__isnull=False),
                name="consent_scope_user_unique",
            ),
        ]

    @property
    def target(self) -> AppRole | DelegatedScope:
        return self.app_role or self.scope

    def __str__(self) -> str:
        who = "admin consent" if self.user_id is None else f"consent of {self.user}"
        return f"{self.target.value} for {self.client.name} ({who})"
