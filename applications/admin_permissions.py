"""The app admin's "API permissions" page (SPEC §6; issue 17 items 2, 17; issue 18 item 5).

Request permissions with a searchable picker grouped by API (already requested ones are not offered
again); remove one (a granted one after a page that says its admin consent goes too); grant or revoke
admin consent for the tenant, each after a page that says which permissions it covers and what tokens
will carry. "Other permissions granted for {tenant}" lists admin consent the app holds for permissions it
does not request, as Entra does, each with "Revoke admin consent".
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path

from applications import selectors, services
from applications.forms import PermissionAddForm
from applications.models import Application
from identity.admin import is_confirmed
from identity.admin_display import propagation
from identity.tenant import tenant_name


def _consent_consequences(app: Application, action: str, rows: list) -> list[str]:
    """What granting or revoking does to tokens; `rows` are PermissionStatus rows or ConsentGrants."""
    window = propagation()
    roles = [r for r in rows if getattr(r, "permission", r).app_role_id]
    scopes = [r for r in rows if getattr(r, "permission", r).scope_id]
    if action == "grant":
        said = [f"Admin consent is recorded for the whole tenant {tenant_name()}, by you, now."]
        if roles:
            said.append(f"Client-credentials tokens of {app.name} carry these app roles in `roles` and `scp` "
                        f"(on every instance within {window}).")
        if scopes:
            said.append(f"Users of {app.name} may get tokens for these delegated scopes without consenting "
                        "themselves.")
        return said
    said = ["The tenant-wide admin consent for these permissions is withdrawn (per-user consents stay)."]
    if roles:
        said.append(f"New client-credentials tokens of {app.name} lose these app roles within {window}; "
                    "a request for an API with no consented role left gets invalid_scope.")
    if scopes:
        said.append("Sign-ins asking for these delegated scopes get consent_required, and refresh tokens that "
                    "carry them are refused.")
    said.append("Tokens already issued stay valid until they expire.")
    return said


class PermissionPagesMixin:
    """The permissions view of ApplicationAdmin (a ServiceErrorsMixin ModelAdmin)."""

    def permission_urls(self) -> list:
        return [path("<path:object_id>/permissions/", self.admin_site.admin_view(self.permissions_view),
                     name="applications_application_permissions")]

    def permissions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """API permissions with their consent status; request, remove, grant and revoke admin consent."""
        # Readers (Security reader) see the permissions and their status; changing them needs change rights.
        app = self.get_object_or_denied(request, object_id, change=request.method == "POST")
        action = request.POST.get("action") if request.method == "POST" else None
        form = PermissionAddForm(request.POST if action == "add" else None, client=app)
        if action in ("grant", "revoke"):
            return self._consent(request, app, action)
        if action == "remove":
            return self._remove(request, app)
        if action == "revoke_other":
            return self._revoke_other(request, app)
        if action == "add" and form.is_valid():
            try:
                with transaction.atomic():  # one API's bad value leaves the others unrequested too
                    added = [p for api, values in form.by_api().items()
                             for p in services.permission_add(client=app, api=api, values=values, actor=request.user)]
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, f"Requested {len(added)} permission(s). They are not granted "
                                           "until an admin grants consent.", messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        context = self.page_context(
            request, app, "API permissions", form=form, rows=selectors.permissions_with_status(app),
            other_grants=selectors.other_permissions_granted(app), tenant=tenant_name(),
            submit_label="Add permissions", can_change=self.has_change_permission(request, app),
        )
        return TemplateResponse(request, "admin/applications/application/permissions.html", context)

    def _consent(self, request: HttpRequest, app: Application, action: str) -> HttpResponse:
        rows = selectors.permissions_with_status(app)
        affected = [r for r in rows if (not r.granted if action == "grant" else r.granted)]
        if not affected:
            self.message_user(request, "Every requested permission is granted already." if action == "grant"
                              else "No permission of this app has admin consent to revoke.", messages.INFO)
            return HttpResponseRedirect(request.path)
        if not is_confirmed(request):
            verb = "Grant" if action == "grant" else "Revoke"
            return self.confirmation_page(
                request, app, title=f"{verb} admin consent",
                question=f"{verb} admin consent for {tenant_name()} to {len(affected)} permission(s) of {app.name}?",
                objects=[f"{r.permission.api.name}: {r.permission.target.value} ({r.permission.kind})"
                         for r in affected],
                objects_label="Permissions:", consequences=_consent_consequences(app, action, affected),
                confirm_label=f"Yes, {verb.lower()} admin consent", cancel_url=request.path,
                hidden=[("action", action), *(("permission", str(r.permission.pk)) for r in affected)],
                danger=action == "revoke",
            )
        # Exactly what the confirmation page listed, even if permissions were requested since.
        shown = [int(pk) for pk in request.POST.getlist("permission") if pk.isdecimal()]
        if action == "grant":
            granted = services.admin_consent_grant(client=app, actor=request.user, only=shown)
            self.message_user(request, f"Admin consent granted for {tenant_name()} "
                                       f"({len(granted)} newly granted permission(s)).", messages.SUCCESS)
        else:
            count = services.admin_consent_revoke(client=app, actor=request.user, only=shown)
            self.message_user(request, f"Admin consent revoked ({count} permission(s)).", messages.SUCCESS)
        return HttpResponseRedirect(request.path)

    def _remove(self, request: HttpRequest, app: Application) -> HttpResponse:
        """Remove a requested permission; a granted one asks first, since its admin consent goes too
        (services.permission_remove: one rule with `manage.py removepermission`)."""
        pk = request.POST.get("permission", "")
        row = next((r for r in selectors.permissions_with_status(app) if str(r.permission.pk) == pk), None)
        if row is None:
            self.message_user(request, "That permission is no longer requested.", messages.WARNING)
            return HttpResponseRedirect(request.path)
        target = row.permission.target
        if row.granted and not is_confirmed(request):
            said = [f"{app.name} no longer requests {target.value}, and the tenant-wide admin consent to it is "
                    "revoked with it: a removed permission is never left granted.",
                    *_consent_consequences(app, "revoke", [row])[1:]]
            return self.confirmation_page(
                request, app, title="Remove a granted permission",
                question=f"Remove {target.value} and revoke its admin consent for {tenant_name()}?",
                objects=[f"{row.permission.api.name}: {target.value} ({row.permission.kind})"],
                objects_label="Permission:", consequences=said,
                confirm_label="Yes, remove and revoke admin consent", cancel_url=request.path,
                hidden=[("action", "remove"), ("permission", pk)],
            )
        done = services.permission_remove(client=app, targets=[target], actor=request.user)
        revoked = " and revoked its admin consent" if done.consent_revoked else ""
        self.message_user(request, f"Removed {target.value}{revoked}.", messages.SUCCESS)
        return HttpResponseRedirect(request.path)

    def _revoke_other(self, request: HttpRequest, app: Application) -> HttpResponse:
        """"Revoke admin consent" on one of the "Other permissions granted" (consent without a request)."""
        pk = request.POST.get("grant", "")
        grant = next((g for g in selectors.other_permissions_granted(app) if str(g.pk) == pk), None)
        if grant is None:
            self.message_user(request, "That permission is no longer among the other permissions granted.",
                              messages.WARNING)
            return HttpResponseRedirect(request.path)
        kind = "Application" if grant.app_role_id else "Delegated"
        if not is_confirmed(request):
            return self.confirmation_page(
                request, app, title="Revoke admin consent",
                question=f"Revoke admin consent for {tenant_name()} to {grant.target.value} of {app.name}?",
                objects=[f"{grant.target.application.name}: {grant.target.value} ({kind})"],
                objects_label="Permission:", consequences=_consent_consequences(app, "revoke", [grant]),
                confirm_label="Yes, revoke admin consent", cancel_url=request.path,
                hidden=[("action", "revoke_other"), ("grant", pk)],
            )
        count = services.admin_consent_revoke(client=app, actor=request.user, grants_only=[grant.pk])
        self.message_user(request, f"Admin consent revoked ({count} permission(s)).", messages.SUCCESS)
        return HttpResponseRedirect(request.path)
