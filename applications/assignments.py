"""App role assignments to users (Entra: Enterprise application → Users and groups; Graph:
`servicePrincipals/{id}/appRoleAssignedTo`): the writes, and the reads of the admin, the commands and the
token endpoint.

An assigned role appears in the `roles` claim of the user's tokens whose audience is the role's app, while
the role is enabled and allows member type User; assignments are read on every token (never cached), so an
assignment or its removal changes the next token, a refresh included.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts.models import User
from applications.models import Application, AppRole, AppRoleAssignment
from applications.selectors import defines_user_roles_cached
from audit.services import Actor, actor_label, audit_record

# ---- writes --------------------------------------------------------------------------------------------


def app_role_assign_check(*, user: User, app_role: AppRole) -> None:
    """The refusals of an assignment, one clear line each (also the admin form's validation)."""
    api = app_role.application
    if user.is_staff:
        raise ValidationError(
            f"'{user}' is an admin account; app roles are assigned to directory users only.", code="admin_account"
        )
    if not app_role.allow_user:
        raise ValidationError(
            f"App role '{app_role.value}' of '{api.name}' does not allow member type User.", code="not_user_role"
        )
    if not app_role.is_enabled:
        raise ValidationError(
            f"App role '{app_role.value}' of '{api.name}' is disabled; enable it before assigning it.",
            code="role_disabled",
        )
    if AppRoleAssignment.objects.filter(user=user, app_role=app_role).exists():
        raise _already_assigned(user, app_role)


def _already_assigned(user: User, app_role: AppRole) -> ValidationError:
    return ValidationError(f"'{user}' is already assigned app role '{app_role.value}' of "
                           f"'{app_role.application.name}'.", code="already_assigned")


@transaction.atomic
def app_role_assign(*, user: User, app_role: AppRole, actor: Actor) -> AppRoleAssignment:
    """Assign an app role of member type User to a directory user."""
    app_role_assign_check(user=user, app_role=app_role)
    try:
        with transaction.atomic():
            assignment = AppRoleAssignment.objects.create(
                user=user, app_role=app_role, created_by=actor if isinstance(actor, User) else None,
                created_by_label=actor_label(actor)[:150],
            )
    except IntegrityError:  # a concurrent assignment of the same pair won
        raise _already_assigned(user, app_role) from None
    audit_record(actor=actor, action="app_role.assign", target=app_role.application,
                 details=_details(assignment))
    return assignment


@transaction.atomic
def app_role_unassign(*, assignment: AppRoleAssignment, actor: Actor) -> None:
    """Remove an assignment: the role leaves the user's next token (a refresh included)."""
    audit_record(actor=actor, action="app_role.unassign", target=assignment.app_role.application,
                 details=_details(assignment))
    assignment.delete()


def _details(assignment: AppRoleAssignment) -> dict:
    user, role = assignment.user, assignment.app_role
    return {
        "assignment_id": str(assignment.assignment_id), "user": str(user), "user_object_id": str(user.object_id),
        "role_id": str(role.role_id), "value": role.value,
    }


# ---- reads ---------------------------------------------------------------------------------------------


def app_role_assignments_of_user(user: User) -> QuerySet[AppRoleAssignment]:
    return (AppRoleAssignment.objects.filter(user=user).select_related("app_role__application")
            .order_by("app_role__application__name", "app_role__value"))


def app_role_assignments_of_app(application: Application) -> QuerySet[AppRoleAssignment]:
    return (AppRoleAssignment.objects.filter(app_role__application=application)
            .select_related("user", "app_role").order_by("app_role__value", "user__username", "user__email"))


def app_role_assignment_find(*, user: User, app_role: AppRole) -> AppRoleAssignment | None:
    return AppRoleAssignment.objects.filter(user=user, app_role=app_role).select_related("app_role").first()


def assignable_app_roles() -> QuerySet[AppRole]:
    """The roles an admin may assign to users: enabled, member type User."""
    return (AppRole.objects.filter(is_enabled=True, allow_user=True).select_related("application")
            .order_by("application__name", "value"))


def user_roles_for_tokens(*, user: User, applications: Iterable[Application]) -> dict[int, list[str]]:
    """The `roles` of the user's tokens for each of these apps (by pk): the values of the enabled User-type
    roles assigned to the user on it, sorted.

    No query when none of the apps defines such a role (the directory cache knows), one otherwise, whatever
    the number of apps: the access token's audience and the ID token's client are read together.
    """
    app_ids = {app.pk for app in applications if app is not None and defines_user_roles_cached(app)}
    if not app_ids:
        return {}
    rows = (AppRoleAssignment.objects
            .filter(user_id=user.pk, app_role__application_id__in=app_ids, app_role__is_enabled=True,
                    app_role__allow_user=True)
            .order_by("app_role__value").values_list("app_role__application_id", "app_role__value"))
    roles: dict[int, list[str]] = {}
    for app_id, value in rows:
        roles.setdefault(app_id, []).append(value)
    return roles
