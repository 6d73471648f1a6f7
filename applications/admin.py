"""Admin for app registrations (SPEC §6): register, secrets shown once, app roles, permissions, consent.

Every write goes through `applications.services` with the signed-in admin as actor, so each change
leaves an AuditEvent.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

import applications.admin_assignments  # noqa: F401  (registers the "Users and groups" admin)
from applications import selectors, services
from applications.admin_overview import EXPIRES_SOON, OverviewPagesMixin
from applications.admin_permissions import PermissionPagesMixin
from applications.admin_secrets import SecretPagesMixin
from applications.forms import (
    ApplicationForm,
    AppRoleInlineForm,
    AppRolesManifestForm,
    DelegatedScopeInlineForm,
    RedirectUriInlineForm,
    UniqueValueFormSet,
)
from applications.models import (
    AccessToken,
    Application,
    AppRole,
    ClientCertificate,
    ClientSecret,
    DelegatedScope,
    Grant,
    IDToken,
    RedirectUri,
    RefreshToken,
)
from identity.admin import ServiceErrorsMixin, is_confirmed, reposted_fields
from identity.admin_display import header, moment_html, propagation

# DOT registers admin classes for the swapped models that edit columns we removed; ours replace them.
for _model in (Application, AccessToken, RefreshToken, IDToken, Grant):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class RedirectUriInline(admin.TabularInline):
    model = RedirectUri
    form = RedirectUriInlineForm
    extra = 0
    fields = ["uri"]
    verbose_name_plural = "redirect URIs"


def expiry_status(expires_at):
    """Active, Expired, or "Expires soon" within 30 days: a credential to replace before it stops working."""
    left = expires_at - timezone.now()
    if left.total_seconds() <= 0:
        return format_html('<span class="tf-not-granted">Expired</span>')
    if left <= EXPIRES_SOON:
        return format_html('<span class="tf-warning-text" title="Add a new credential and move services to it '
                           'before this one expires">Expires soon (in {} days)</span>', max(left.days, 0))
    return "Active"


class ClientSecretInline(admin.TabularInline):
    """Secrets are listed by hint only; values exist only on the page that created them."""

    model = ClientSecret
    extra = 0
    can_delete = False  # "Delete" asks first, on a page of its own
    fields = ["hint", "description", "created", "expires", "status", "delete"]
    readonly_fields = fields
    verbose_name_plural = "client secrets"

    @admin.display(description="created")
    def created(self, obj: ClientSecret):
        return moment_html(obj.created_at)

    @admin.display(description="expires")
    def expires(self, obj: ClientSecret):
        return moment_html(obj.expires_at)

    @admin.display(description="status")
    def status(self, obj: ClientSecret):
        return expiry_status(obj.expires_at)

    @admin.display(description="")
    def delete(self, obj: ClientSecret):
        url = reverse("admin:applications_application_secret_delete", args=[obj.application_id, obj.key_id])
        return format_html('<a href="{}" class="deletelink">Delete…</a>', url)

    def has_add_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return False  # "New client secret" creates them, so the value can be shown once


class ClientCertificateInline(admin.TabularInline):
    """Certificates by thumbprint; "Upload certificate" adds them, "Delete…" asks first."""

    model = ClientCertificate
    extra = 0
    can_delete = False
    fields = ["thumbprint_sha1", "description", "valid_from", "expires", "status", "delete"]
    readonly_fields = fields
    verbose_name_plural = "certificates (private_key_jwt)"

    @admin.display(description="valid from")
    def valid_from(self, obj: ClientCertificate):
        return moment_html(obj.not_before)

    @admin.display(description="expires")
    def expires(self, obj: ClientCertificate):
        return moment_html(obj.not_after)

    @admin.display(description="status")
    def status(self, obj: ClientCertificate):
        return expiry_status(obj.not_after)

    @admin.display(description="")
    def delete(self, obj: ClientCertificate):
        url = reverse("admin:applications_application_certificate_delete", args=[obj.application_id, obj.key_id])
        return format_html('<a href="{}" class="deletelink">Delete…</a>', url)

    def has_add_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return False


class ShortIdMixin:
    """The role's or scope's GUID as its first 8 characters, the whole on hover: a full GUID wraps over
    four lines and pushes the table past 1366 px."""

    @admin.display(description="id")
    def short_id(self, obj) -> str:
        full = getattr(obj, "role_id", None) or getattr(obj, "scope_id", None)
        return format_html('<code title="{}">{}…</code>', full, str(full)[:8]) if obj.pk and full else "—"


class AppRoleInline(ShortIdMixin, admin.TabularInline):
    model = AppRole
    form = AppRoleInlineForm
    formset = UniqueValueFormSet
    extra = 0
    fields = ["short_id", "value", "display_name", "description", "allow_application", "allow_user", "is_enabled"]
    readonly_fields = ["short_id"]
    verbose_name_plural = "app roles (appRoles)"


class DelegatedScopeInline(ShortIdMixin, admin.TabularInline):
    model = DelegatedScope
    form = DelegatedScopeInlineForm
    formset = UniqueValueFormSet
    extra = 0
    fields = ["short_id", "value", "display_name", "description", "is_enabled"]
    readonly_fields = ["short_id"]
    verbose_name_plural = "delegated scopes (Expose an API)"


@admin.register(Application)
class ApplicationAdmin(SecretPagesMixin, PermissionPagesMixin, OverviewPagesMixin, ServiceErrorsMixin,
                       admin.ModelAdmin):
    form = ApplicationForm
    change_form_template = "admin/applications/application/change_form.html"
    view_on_site = False  # DOT's get_absolute_url points at its own management views, not mounted here
    list_display = ["name", "client_id", "client_type_label", "ropc", "app_id_uri", "enabled"]
    list_display_links = ["name", "client_id"]
    list_filter = ["client_type", "ropc_enabled", "enabled"]
    search_fields = ["name", "client_id", "app_id_uri"]
    ordering = ["name"]

    @admin.display(description="type", ordering="client_type")
    def client_type_label(self, obj: Application) -> str:
        return "Public" if obj.is_public else "Confidential"

    @admin.display(boolean=True, ordering="ropc_enabled", description=header(
        "ROPC", "Resource owner password credentials: the app may exchange a user's name and password for tokens"))
    def ropc(self, obj: Application) -> bool:
        return obj.ropc_enabled

    # ---- Confidential -> Public deletes the credentials: ask first ----------------------------------

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict | None = None) -> HttpResponse:
        app = self.get_object(request, unquote(object_id)) if object_id and request.method == "POST" else None
        if (app is not None and not app.is_public and request.POST.get("client_type") == Application.CLIENT_PUBLIC
                and (app.secrets.exists() or app.certificates.exists()) and not is_confirmed(request)
                and self.has_change_permission(request, app)):
            return self._confirm_going_public(request, app)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _confirm_going_public(self, request: HttpRequest, app: Application) -> HttpResponse:
        secrets = [f"Secret {s.hint}… {s.description or '(no description)'}, expires {s.expires_at:%Y-%m-%d}"
                   for s in app.secrets.order_by("expires_at")]
        certificates = [f"Certificate {c.thumbprint_sha1} {c.description or c.subject}, expires {c.not_after:%Y-%m-%d}"
                        for c in app.certificates.order_by("not_after")]
        return self.confirmation_page(
            request, app, title="Make the app a public client",
            question=f"Make {app.name} a public client and delete its {len(secrets)} client secret(s) and "
                     f"{len(certificates)} certificate(s)?",
            objects=[*secrets, *certificates], objects_label="Credentials that will be deleted:",
            consequences=[
                "Public clients (native apps) cannot keep a secret, so every client secret and certificate of this "
                "app is deleted.",
                f"Services that authenticate with them get invalid_client within {propagation()}.",
                "The app can no longer use client credentials; ROPC stays possible if enabled, without a secret.",
                "Switching back to Confidential later does not bring them back: new ones must be added.",
            ],
            confirm_label="Yes, make it public and delete the credentials", cancel_url=request.get_full_path(),
            hidden=reposted_fields(request), action_url=request.get_full_path(),
        )

    # ---- the form -------------------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Application | None = None) -> list:
        if obj is None:
            return [
                (None, {"fields": ["name", "client_type", "ropc_enabled", "app_id_uri"]}),
                ("Client id", {"fields": ["client_id"], "description": (
                    "A new UUID is proposed. Replace it only to keep the client id of an app migrated from B2C."
                )}),
            ]
        return [
            (None, {"fields": ["name", "client_id", "object_id", "service_principal_id", "client_type",
                               "ropc_enabled", "app_id_uri", "enabled"]}),
            ("API permissions", {"fields": ["permissions_status"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Application | None = None) -> list[str]:
        if obj is None:
            return []
        return ["client_id", "object_id", "service_principal_id", "permissions_status"]

    def get_inlines(self, request: HttpRequest, obj: Application | None) -> list:
        inlines = [RedirectUriInline, AppRoleInline, DelegatedScopeInline]
        if obj is not None and not obj.is_public:
            return [*inlines, ClientSecretInline, ClientCertificateInline]
        return inlines

    @admin.display(description="requested permissions")
    def permissions_status(self, obj: Application) -> str:
        rows = selectors.permissions_with_status(obj)
        link = reverse("admin:applications_application_permissions", args=[obj.pk])
        if not rows:
            return format_html('None requested. <a href="{}">Request API permissions</a>', link)
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>", (
            (r.permission.api.name, r.permission.target.value, r.permission.kind,
             "tf-granted" if r.granted else "tf-not-granted", r.status) for r in rows
        ))
        return format_html(
            "<table><thead><tr><th>API</th><th>Permission</th><th>Type</th><th>Status</th></tr></thead>"
            '<tbody>{}</tbody></table><p><a href="{}">Manage permissions and admin consent</a></p>', body, link,
        )

    # ---- writes through the services ------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Application, form: ApplicationForm, change: bool) -> None:
        if change:
            if form.changed_data:
                secrets, certs = (obj.secrets.count(), obj.certificates.count()) if obj.is_public else (0, 0)
                services.application_update(application=obj, changed=form.changed_data, actor=request.user)
                if secrets or certs:
                    self.message_user(request, f"Deleted {secrets} client secret(s) and {certs} certificate(s): "
                                               f"{obj.name} is now a public client, and public clients have no "
                                               "credentials.", messages.WARNING)
            return
        app = services.application_register(
            actor=request.user, name=obj.name, public=obj.is_public, ropc=obj.ropc_enabled,
            client_id=obj.client_id, app_id_uri=obj.app_id_uri,
        )
        # The admin keeps using the object its form built (the inlines point at it): make it the saved row.
        obj.__dict__.update(app.__dict__)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        app = form.instance
        instances = formset.save(commit=False)
        if formset.model is ClientSecret:
            for secret in formset.deleted_objects:
                services.client_secret_remove(secret=secret, actor=request.user)
            return
        label = formset.model._meta.verbose_name
        changes = []
        for obj in formset.deleted_objects:
            changes.append(f"{label} removed: {obj}")
            obj.delete()
        changed_fields = {obj.pk: fields for obj, fields in formset.changed_objects}
        for obj in instances:
            if obj.pk is not None:
                obj.save()
                changes.append(f"{label} changed: {obj} ({', '.join(changed_fields.get(obj.pk, []))})")
            elif formset.model is AppRole:
                services.app_role_add(
                    application=app, actor=request.user, value=obj.value, display_name=obj.display_name,
                    description=obj.description, member_types=obj.member_types, role_id=obj.role_id,
                    enabled=obj.is_enabled,
                )
            elif formset.model is DelegatedScope:
                services.delegated_scope_add(
                    application=app, actor=request.user, value=obj.value, display_name=obj.display_name,
                    description=obj.description, enabled=obj.is_enabled,
                )
            else:
                obj.save()
                changes.append(f"{label} added: {obj}")
        if changes:
            services.application_record_edit(application=app, changed=changes, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Application) -> None:
        services.application_delete(application=obj, actor=request.user)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for app in queryset:
            services.application_delete(application=app, actor=request.user)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            term = uuid.UUID(search_term.strip())
        except ValueError:
            return queryset, may_have_duplicates
        ids = Q(object_id=term) | Q(service_principal_id=term)
        return queryset | self.model.objects.filter(ids), may_have_duplicates

    # ---- pages of their own: secrets, manifest import, permissions -------------------------------

    def get_urls(self) -> list:
        def view(func, name: str):
            return path(f"<path:object_id>/{name}/", self.admin_site.admin_view(func),
                        name=f"applications_application_{name.replace('-', '_')}")

        return [
            *self.secret_urls(),
            *self.permission_urls(),
            *self.overview_urls(),
            view(self.manifest_view, "app-roles-json"),
            *super().get_urls(),
        ]

    def manifest_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Paste the `appRoles` JSON of an Azure manifest; all roles are validated before any is written."""
        app = self.get_object_or_denied(request, object_id)
        form = AppRolesManifestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                roles = services.app_roles_import_manifest(
                    application=app, actor=request.user, manifest=form.cleaned_data["manifest"]
                )
            except ValidationError as exc:
                form.add_error("manifest", exc)
            else:
                self.message_user(request, f"Imported {len(roles)} app role(s): "
                                           f"{', '.join(r.value for r in roles) or 'none'}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:applications_application_change", args=[app.pk]))
        context = self.page_context(request, app, "Paste appRoles JSON", form=form, submit_label="Import app roles",
                                    roles=app.app_roles.all())
        return TemplateResponse(request, "admin/applications/application/manifest.html", context)
