"""Admin for directory users and admin accounts (SPEC §5, §6; issue 17 items 1, 2, 4).

Directory users (the tenant's consumers) and admin accounts (who run the tenant) are two lists:
"Users" never shows an admin account and "Administrators" never a directory user. Every write goes
through `accounts.services` / `accounts.admin_accounts` with the signed-in admin as actor, so each
change leaves an AuditEvent. Disabling and revoking sessions ask first, on a page that says what will
happen. Password hashes (current or previous) are never displayed.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts import admin_accounts, services
from accounts.forms import (
    AdminAccountAddForm,
    AdminAccountChangeForm,
    AdminSetPasswordForm,
    SetPasswordForm,
    UserAddForm,
    UserChangeForm,
)
from accounts.models import AdminAccount, AdminRole, FederatedIdentity, User
from accounts.roles import role_named
from identity.admin import ReadOnlyAdmin, ServiceErrorsMixin, is_confirmed
from identity.admin_display import header, moment_html


class FederatedIdentityInline(admin.TabularInline):
    model = FederatedIdentity
    extra = 0
    fields = ["issuer", "issuer_subject", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name_plural = "federated identities (sign-ins at other identity providers)"


# What each confirmed operation does, said before it is done.
USER_OPERATIONS = {
    "disable": {
        "question": "Disable {what}?",
        "consequences": [
            "The user can no longer sign in: password sign-ins (ROPC) are refused.",
            "Their sessions are revoked: refreshTokensValidFromDateTime is set to now, so every refresh token "
            "issued until now stops working.",
            "Access tokens already issued stay valid until they expire (at most the policy's access-token "
            "lifetime).",
            "Nothing is deleted: enabling the user again lets them sign in, but revoked refresh tokens stay revoked.",
        ],
        "confirm": "Yes, disable",
        "done": "Disabled {n} user(s); their refresh tokens stop working.",
    },
    "revoke": {
        "question": "Revoke the sessions of {what}?",
        "consequences": [
            "refreshTokensValidFromDateTime is set to now: every refresh token issued until now stops working, "
            "on every device.",
            "Access tokens already issued stay valid until they expire (at most the policy's access-token "
            "lifetime).",
            "The user can still sign in again with their password.",
        ],
        "confirm": "Yes, revoke sessions",
        "done": "Revoked the sessions of {n} user(s): refresh tokens issued until now stop working.",
    },
}


@admin.register(User)
class UserAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """The directory's users (B2C: Users). Admin accounts are under Administrators."""

    form = UserChangeForm
    add_form = UserAddForm
    change_form_template = "admin/accounts/user/change_form.html"
    list_display = ["__str__", "display_name", "email", "enabled", "mfa", "expired", "valid_from"]
    list_filter = ["is_active", "mfa_required", "password_expired"]
    search_fields = ["username", "email", "display_name", "given_name", "surname"]
    ordering = ["username", "email"]
    actions = ["disable_users", "enable_users", "revoke_sessions"]

    add_fieldsets = [
        ("Sign-in names", {"fields": ["username", "email"]}),
        ("Profile", {"fields": ["display_name", "given_name", "surname"]}),
        ("Password", {"fields": ["password1", "password2", "password_expired"]}),
        ("Account", {"fields": ["is_active", "mfa_required"]}),
    ]
    change_fieldsets = [
        ("Sign-in names", {"fields": ["username", "email", "object_id"]}),
        ("Profile", {"fields": ["display_name", "given_name", "surname"]}),
        ("Sign-in", {"fields": ["is_active", "password_status", "password_expired", "mfa_required",
                                "refresh_tokens_valid_from_display", "created_display"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(is_staff=False)

    @admin.display(boolean=True, description="enabled", ordering="is_active")
    def enabled(self, obj: User) -> bool:
        return obj.is_active

    @admin.display(boolean=True, description=header("MFA", "MFA required: password sign-in (ROPC) is refused"),
                   ordering="mfa_required")
    def mfa(self, obj: User) -> bool:
        return obj.mfa_required

    @admin.display(boolean=True, description=header("pwd expired", "The password has expired: the user must "
                                                    "change it before signing in"), ordering="password_expired")
    def expired(self, obj: User) -> bool:
        return obj.password_expired

    @admin.display(description=header("sessions valid from", "refreshTokensValidFromDateTime: refresh tokens "
                                      "issued at or before this instant are refused"),
                   ordering="refresh_tokens_valid_from")
    def valid_from(self, obj: User):
        return moment_html(obj.refresh_tokens_valid_from)

    @admin.display(description=header(
        "refreshTokensValidFromDateTime", "Refresh tokens issued at or before this instant are refused. "
        "“Revoke sessions”, a password change and disabling the user set it to now."))
    def refresh_tokens_valid_from_display(self, obj: User):
        return moment_html(obj.refresh_tokens_valid_from)

    @admin.display(description="created")
    def created_display(self, obj: User):
        return moment_html(obj.created_at)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> list:
        return self.add_fieldsets if obj is None else self.change_fieldsets

    def get_form(self, request: HttpRequest, obj: User | None = None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        if obj is None:
            return []
        return ["object_id", "password_status", "refresh_tokens_valid_from_display", "created_display"]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        return [FederatedIdentityInline] if obj is not None else []

    @admin.display(description="password")
    def password_status(self, obj: User):
        if not obj.has_usable_password():
            return "Not set: the user cannot sign in with a password. Use “Set password”."
        if obj.password_changed_at is None:
            return "Set. Use “Set password” to reset it."
        changed = moment_html(obj.password_changed_at)
        return format_html("Set, last changed {}. Use “Set password” to reset it.", changed)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            object_id = uuid.UUID(search_term.strip())
        except ValueError:
            return queryset, may_have_duplicates
        return queryset | self.get_queryset(request).filter(object_id=object_id), may_have_duplicates

    # ---- writes through the services ------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: User, form, change: bool) -> None:
        if change:
            was_active = User.objects.filter(pk=obj.pk).values_list("is_active", flat=True).first()
            obj.save()
            if form.changed_data:
                services.user_record_edit(user=obj, changed=form.changed_data, actor=request.user,
                                          was_active=bool(was_active))
            return
        data = form.cleaned_data
        user = services.user_create(
            actor=request.user, username=data.get("username"), email=data.get("email"),
            password=data.get("password1") or None, display_name=data.get("display_name", ""),
            given_name=data.get("given_name", ""), surname=data.get("surname", ""),
            enabled=data.get("is_active", True), mfa_required=data.get("mfa_required", False),
            password_expired=data.get("password_expired", False),
        )
        obj.__dict__.update(user.__dict__)  # the admin goes on with the object its form built

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        user = form.instance
        instances = formset.save(commit=False)
        changes = []
        for identity in formset.deleted_objects:
            changes.append(f"federated identity removed: {identity}")
            identity.delete()
        for identity in instances:
            changes.append(f"federated identity {'changed' if identity.pk else 'added'}: {identity}")
            identity.save()
        if changes:
            services.user_record_edit(user=user, changed=changes, actor=request.user, was_active=user.is_active)

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.user_delete(user=obj, actor=request.user)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for user in queryset:
            self.delete_model(request, user)

    # ---- disable, enable, revoke sessions: list actions and buttons -----------------------------

    def _apply(self, request: HttpRequest, users, operation: str) -> int:
        for user in users:
            if operation == "revoke":
                services.user_revoke_sessions(user=user, actor=request.user)
            else:
                services.user_set_enabled(user=user, enabled=operation == "enable", actor=request.user)
        return len(users)

    def _confirm_users(self, request: HttpRequest, users: list[User], operation: str, *, obj: User | None,
                       cancel_url: str, hidden: list) -> TemplateResponse:
        text = USER_OPERATIONS[operation]
        what = str(users[0]) if len(users) == 1 else f"{len(users)} users"
        return self.confirmation_page(
            request, obj, title=text["question"].format(what=what).rstrip("?"),
            question=text["question"].format(what=what), consequences=text["consequences"],
            confirm_label=text["confirm"], cancel_url=cancel_url, objects=users, hidden=hidden,
        )

    def _list_action(self, request: HttpRequest, queryset: QuerySet, operation: str) -> TemplateResponse | None:
        users = list(queryset)
        if not is_confirmed(request):
            hidden = [("action", request.POST["action"]),
                      *((admin.helpers.ACTION_CHECKBOX_NAME, str(u.pk)) for u in users)]
            return self._confirm_users(request, users, operation, obj=None, hidden=hidden,
                                       cancel_url=request.get_full_path())
        count = self._apply(request, users, operation)
        self.message_user(request, USER_OPERATIONS[operation]["done"].format(n=count), messages.SUCCESS)
        return None

    @admin.action(description="Disable selected users (also revokes their sessions)…", permissions=["change"])
    def disable_users(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        return self._list_action(request, queryset, "disable")

    @admin.action(description="Enable selected users", permissions=["change"])
    def enable_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = self._apply(request, list(queryset), "enable")
        self.message_user(request, f"Enabled {count} user(s).", messages.SUCCESS)

    @admin.action(description="Revoke sessions of selected users (refresh tokens stop working)…",
                  permissions=["change"])
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        return self._list_action(request, queryset, "revoke")

    def get_urls(self) -> list:
        def view(func, name: str):
            return path(f"<path:object_id>/{name}/", self.admin_site.admin_view(func),
                        name=f"accounts_user_{name.replace('-', '_')}")

        return [
            view(self.set_password_view, "set-password"),
            view(self.disable_view, "disable"),
            view(self.enable_view, "enable"),
            view(self.revoke_sessions_view, "revoke-sessions"),
            *super().get_urls(),
        ]

    def _button(self, request: HttpRequest, object_id: str, operation: str) -> HttpResponse:
        user = self.get_object_or_denied(request, object_id)
        change_url = reverse("admin:accounts_user_change", args=[user.pk])
        if operation != "enable" and not is_confirmed(request):
            return self._confirm_users(request, [user], operation, obj=user, cancel_url=change_url, hidden=[])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        self._apply(request, [user], operation)
        done = {"enable": "Enabled {user}.",
                "disable": "Disabled {user}; their refresh tokens stop working.",
                "revoke": "Revoked the sessions of {user}: refresh tokens issued until now stop working."}
        self.message_user(request, done[operation].format(user=user), messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def disable_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._button(request, object_id, "disable")

    def enable_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._button(request, object_id, "enable")

    def revoke_sessions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._button(request, object_id, "revoke")

    def set_password_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self.get_object_or_denied(request, object_id)
        form = SetPasswordForm(request.POST or None, user=user)
        if request.method == "POST" and form.is_valid():
            try:
                services.user_set_password(user=user, password=form.cleaned_data["password1"], actor=request.user,
                                           force_change=form.cleaned_data["force_change"])
            except ValidationError as exc:
                form.add_error("password1", exc)
                return self._password_page(request, user, form)
            self.message_user(request, f"Password of {user} set; their sessions were revoked.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        return self._password_page(request, user, form)

    def _password_page(self, request: HttpRequest, user: User, form) -> HttpResponse:
        context = self.page_context(request, user, "Set password", form=form, submit_label="Set password")
        return TemplateResponse(request, "admin/accounts/user/set_password.html", context)


@admin.register(AdminAccount)
class AdminAccountAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """Who runs the tenant (Entra: users with directory roles). They get no tokens from any policy."""

    form = AdminAccountChangeForm
    add_form = AdminAccountAddForm
    change_form_template = "admin/accounts/adminaccount/change_form.html"
    list_display = ["username", "display_name", "email", "role_list", "superuser", "enabled", "last_sign_in"]
    list_filter = ["is_active", "is_superuser", ("groups", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["username", "email", "display_name"]
    ordering = ["username"]

    @admin.display(description="roles")
    def role_list(self, obj: AdminAccount) -> str:
        names = sorted(g.name for g in obj.groups.all())
        return "Superuser" if obj.is_superuser and not names else ", ".join(names) or "—"

    @admin.display(boolean=True, description="superuser", ordering="is_superuser")
    def superuser(self, obj: AdminAccount) -> bool:
        return obj.is_superuser

    @admin.display(boolean=True, description="enabled", ordering="is_active")
    def enabled(self, obj: AdminAccount) -> bool:
        return obj.is_active

    @admin.display(description="last sign-in", ordering="last_login")
    def last_sign_in(self, obj: AdminAccount):
        return moment_html(obj.last_login, empty="never")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("groups")

    def get_form(self, request: HttpRequest, obj: AdminAccount | None = None, **kwargs):
        kwargs["form"] = self.add_form if obj is None else self.form
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: AdminAccount | None = None) -> list:
        if obj is None:
            return [
                ("Sign-in", {"fields": ["username", "password1", "password2"], "description": (
                    "An admin account signs in to this admin site only. It is not a user of the directory: "
                    "no policy issues it tokens, and its user name does not clash with directory users' names."
                )}),
                ("Profile", {"fields": ["email", "display_name"]}),
                ("Roles", {"fields": ["roles", "is_superuser"]}),
            ]
        return [
            (None, {"fields": ["username", "email", "display_name", "is_active", "last_sign_in"]}),
            ("Roles", {"fields": ["roles", "is_superuser"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: AdminAccount | None = None) -> list[str]:
        readonly = [] if obj is None else ["username", "email", "last_sign_in"]
        if not request.user.is_superuser:
            readonly.append("is_superuser")  # only a superuser makes another
        return readonly

    def save_model(self, request: HttpRequest, obj: AdminAccount, form, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            account = admin_accounts.admin_account_create(
                actor=request.user, username=data["username"], password=data["password1"], email=data.get("email"),
                display_name=data.get("display_name", ""), roles=data.get("roles", []),
                superuser=bool(data.get("is_superuser")),
            )
            obj.__dict__.update(account.__dict__)
            return
        # The form set the fields on `obj`; the services compare them with the stored row and audit.
        stored = AdminAccount.objects.get(pk=obj.pk)
        if "is_active" in form.changed_data:
            admin_accounts.admin_account_set_enabled(account=stored, enabled=obj.is_active, actor=request.user)
        admin_accounts.admin_account_update(account=stored, actor=request.user, display_name=obj.display_name,
                                            superuser=obj.is_superuser)
        admin_accounts.admin_account_set_roles(account=stored, roles=data.get("roles", []), actor=request.user)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        """Roles are set by save_model through the service; the form has no other relations."""

    def has_change_permission(self, request: HttpRequest, obj: AdminAccount | None = None) -> bool:
        # Whoever may change a superuser (its password, say) may become one: only superusers may.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: AdminAccount | None = None) -> bool:
        if obj is not None and (obj.pk == request.user.pk or (obj.is_superuser and not request.user.is_superuser)):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: AdminAccount) -> None:
        if obj.pk == request.user.pk:
            raise PermissionDenied("You cannot delete your own admin account.")
        admin_accounts.admin_account_delete(account=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for account in queryset:
            self.delete_model(request, account)

    def get_urls(self) -> list:
        return [
            path("<path:object_id>/set-password/", self.admin_site.admin_view(self.set_password_view),
                 name="accounts_adminaccount_set_password"),
            *super().get_urls(),
        ]

    def set_password_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        account = self.get_object_or_denied(request, object_id)
        form = AdminSetPasswordForm(request.POST or None, user=account)
        if request.method == "POST" and form.is_valid():
            try:
                admin_accounts.admin_account_set_password(account=account, password=form.cleaned_data["password1"],
                                                          actor=request.user)
            except ValidationError as exc:
                form.add_error("password1", exc)
            else:
                self.message_user(request, f"Password of {account} set.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:accounts_adminaccount_change", args=[account.pk]))
        context = self.page_context(request, account, "Set password", form=form, submit_label="Set password")
        return TemplateResponse(request, "admin/trustframe/form_page.html", context)


# Groups are the built-in roles, shown as "Admin roles" and never edited: an edited group would be a
# second, unaudited path to permissions.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(AdminRole)
class RoleAdmin(ReadOnlyAdmin):
    """The built-in admin roles, read-only: assign them on an administrator's page or with `assignrole`."""

    list_display = ["name", "description", "members"]
    fields = ["name", "description", "members", "permission_list"]
    readonly_fields = fields

    @admin.display(description="what it may do")
    def description(self, obj: Group) -> str:
        role = role_named(obj.name)
        return role.description if role else (
            "Not a built-in role (a group made before them): it still grants its permissions to its members, "
            "and is not assigned or changed here.")

    @admin.display(description="administrators")
    def members(self, obj: Group) -> str:
        return ", ".join(sorted(str(u) for u in obj.user_set.all())) or "—"

    @admin.display(description="permissions")
    def permission_list(self, obj: Group):
        rows = obj.permissions.select_related("content_type").order_by("content_type__app_label", "codename")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((p.name,) for p in rows))) \
            if rows else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Every group, so that one made before the built-in roles is seen, not silently in force.
        return super().get_queryset(request).prefetch_related("user_set")
