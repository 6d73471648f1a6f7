"""Admin for app role assignments: Entra's "Enterprise application → Users and groups" (issue 17 item 16).

List who has which app role of which app; assign an enabled User-type role to a directory user (the user
picked by search, the role from a list of assignable roles); remove an assignment. Writes go through
`applications.assignments`, so each is refused for the same reasons as the command and audited. Links
from other pages may narrow the pages: the list by `?app_role__application__id__exact={app pk}` or
`?user__id__exact={user pk}`, the add form by `?api={app pk}` (its roles only) and `?user={user pk}`.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from applications.assignments import (
    app_role_assign,
    app_role_assign_check,
    app_role_unassign,
    assignable_app_roles,
)
from applications.models import AppRole, AppRoleAssignment
from identity.admin import ServiceErrorsMixin


class AssignableRoleField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AppRole) -> str:
        name = f" ({obj.display_name})" if obj.display_name and obj.display_name != obj.value else ""
        return f"{obj.application.name}: {obj.value}{name}"


class AppRoleAssignmentForm(forms.ModelForm):
    app_role = AssignableRoleField(
        queryset=AppRole.objects.none(), label="app role",
        help_text="Enabled app roles whose allowed member types include User. The role's value appears in the "
                  "roles claim of the user's tokens for that app.",
    )

    class Meta:
        model = AppRoleAssignment
        fields = ["user", "app_role"]
        help_texts = {"user": "A directory user (search by user name, email or display name)."}

    def __init__(self, *args, api_pk: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        roles = assignable_app_roles()
        self.fields["app_role"].queryset = roles.filter(application_id=api_pk) if api_pk else roles

    def clean(self) -> dict:
        data = super().clean()
        if data.get("user") and data.get("app_role"):
            try:
                app_role_assign_check(user=data["user"], app_role=data["app_role"])
            except ValidationError as exc:
                # On a field, not the form: that keeps the model's unique constraint from saying it again.
                # (Admin accounts never get here: the user field offers directory users only.)
                self.add_error("app_role", exc)
        return data


@admin.register(AppRoleAssignment)
class AppRoleAssignmentAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = AppRoleAssignmentForm
    list_display = ["user", "api", "role", "role_display_name", "in_tokens", "created_at", "created_by_label"]
    list_select_related = ["user", "app_role__application"]
    # The user filter also takes the user page's "App roles" link (?user__id__exact=): every admin list
    # refuses a query parameter none of its filters offers (identity/admin_lookups.py).
    list_filter = [("app_role__application", admin.RelatedOnlyFieldListFilter),
                   ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "user__email", "user__display_name", "app_role__value",
                     "app_role__application__name", "app_role__application__client_id"]
    autocomplete_fields = ["user"]

    @admin.display(description="app", ordering="app_role__application__name")
    def api(self, obj: AppRoleAssignment) -> str:
        return obj.app_role.application.name

    @admin.display(description="role", ordering="app_role__value")
    def role(self, obj: AppRoleAssignment) -> str:
        return obj.app_role.value

    @admin.display(description="role name")
    def role_display_name(self, obj: AppRoleAssignment) -> str:
        return obj.app_role.display_name

    @admin.display(description="in tokens")
    def in_tokens(self, obj: AppRoleAssignment) -> str:
        # Kept assignments of a role disabled or no longer for users since: listed, but not emitted.
        role = obj.app_role
        if not role.is_enabled:
            return "No: the role is disabled"
        if not role.allow_user:
            return "No: the role no longer allows member type User"
        return "Yes"

    # ---- the form: add only; an assignment has nothing to edit ---------------------------------------

    def get_fields(self, request: HttpRequest, obj: AppRoleAssignment | None = None) -> list[str]:
        if obj is None:
            return ["user", "app_role"]
        return ["user", "api", "role", "role_display_name", "in_tokens", "created_at", "created_by_label"]

    def get_readonly_fields(self, request: HttpRequest, obj: AppRoleAssignment | None = None) -> list[str]:
        return [] if obj is None else self.get_fields(request, obj)

    def get_form(self, request: HttpRequest, obj: AppRoleAssignment | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        api_pk = request.GET.get("api", "")
        if obj is not None or not api_pk.isdecimal():
            return form

        class NarrowedForm(form):
            def __init__(self, *args, **kw) -> None:
                super().__init__(*args, api_pk=api_pk, **kw)

        return NarrowedForm

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = super().get_changeform_initial_data(request)
        initial.pop("api", None)  # a narrowing of the role list, not a field
        return initial

    def has_change_permission(self, request: HttpRequest, obj: AppRoleAssignment | None = None) -> bool:
        return False

    # ---- writes through the services -------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: AppRoleAssignment, form, change: bool) -> None:
        assignment = app_role_assign(user=obj.user, app_role=obj.app_role, actor=request.user)
        obj.__dict__.update(assignment.__dict__)

    def delete_model(self, request: HttpRequest, obj: AppRoleAssignment) -> None:
        app_role_unassign(assignment=obj, actor=request.user)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for assignment in queryset.select_related("user", "app_role__application"):
            app_role_unassign(assignment=assignment, actor=request.user)

