"""Admin for directory users (SPEC §5, §6): create, set password, disable/enable, revoke sessions.

Every write goes through `accounts.services` with the signed-in admin as actor, so each change
leaves an AuditEvent. Password hashes (current or previous) are never displayed.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from accounts import services
from accounts.forms import SetPasswordForm, UserAddForm, UserChangeForm
from accounts.models import FederatedIdentity, User
from identity.admin import ServiceErrorsMixin

# Permissions here are "admin access" plus superuser; groups would be a second, unaudited path.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class FederatedIdentityInline(admin.TabularInline):
    model = FederatedIdentity
    extra = 0
    fields = ["issuer", "issuer_subject", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name_plural = "federated identities (sign-ins at other identity providers)"


@admin.register(User)
class UserAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = UserChangeForm
    add_form = UserAddForm
    change_form_template = "admin/accounts/user/change_form.html"
    list_display = ["__str__", "display_name", "email", "is_active", "mfa_required", "password_expired",
                    "refresh_tokens_valid_from", "last_login", "is_staff"]
    list_filter = ["is_active", "mfa_required", "password_expired", "is_staff"]
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
                                "refresh_tokens_valid_from", "last_login", "created_at"]}),
        ("Admin access", {"fields": ["is_staff", "is_superuser"],
                          "description": "Admin access lets the user sign in to this admin site."}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> list:
        return self.add_fieldsets if obj is None else self.change_fieldsets

    def get_form(self, request: HttpRequest, obj: User | None = None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:
        if obj is None:
            return []
        return ["object_id", "password_status", "refresh_tokens_valid_from", "last_login", "created_at"]

    def get_inlines(self, request: HttpRequest, obj: User | None) -> list:
        return [FederatedIdentityInline] if obj is not None else []

    @admin.display(description="password")
    def password_status(self, obj: User) -> str:
        if not obj.has_usable_password():
            return "Not set: the user cannot sign in with a password. Use “Set password”."
        changed = f", last changed {timezone.localtime(obj.password_changed_at):%Y-%m-%d %H:%M}" \
            if obj.password_changed_at else ""
        return f"Set{changed}. Use “Set password” to reset it."

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            object_id = uuid.UUID(search_term.strip())
        except ValueError:
            return queryset, may_have_duplicates
        return queryset | self.model.objects.filter(object_id=object_id), may_have_duplicates

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
        done = 0
        for user in users:
            if operation == "disable" and user.pk == request.user.pk:
                self.message_user(request, "You cannot disable your own account.", messages.ERROR)
                continue
            if operation == "revoke":
                services.user_revoke_sessions(user=user, actor=request.user)
            else:
                services.user_set_enabled(user=user, enabled=operation == "enable", actor=request.user)
            done += 1
        return done

    @admin.action(description="Disable selected users (also revokes their sessions)", permissions=["change"])
    def disable_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = self._apply(request, queryset, "disable")
        self.message_user(request, f"Disabled {count} user(s).", messages.SUCCESS)

    @admin.action(description="Enable selected users", permissions=["change"])
    def enable_users(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = self._apply(request, queryset, "enable")
        self.message_user(request, f"Enabled {count} user(s).", messages.SUCCESS)

    @admin.action(description="Revoke sessions of selected users (refresh tokens stop working)",
                  permissions=["change"])
    def revoke_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = self._apply(request, queryset, "revoke")
        self.message_user(request, f"Revoked the sessions of {count} user(s).", messages.SUCCESS)

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

    def _button(self, request: HttpRequest, object_id: str, operation: str, done: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        user = self.get_object_or_denied(request, object_id)
        if self._apply(request, [user], operation):
            self.message_user(request, done.format(user=user), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))

    def disable_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._button(request, object_id, "disable", "Disabled {user}; their refresh tokens stop working.")

    def enable_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._button(request, object_id, "enable", "Enabled {user}.")

    def revoke_sessions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._button(request, object_id, "revoke",
                            "Revoked the sessions of {user}: refresh tokens issued until now stop working.")

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

    def _password_page(self, request: HttpRequest, user: User, form: SetPasswordForm) -> HttpResponse:
        context = self.page_context(request, user, "Set password", form=form, submit_label="Set password")
        return TemplateResponse(request, "admin/accounts/user/set_password.html", context)
