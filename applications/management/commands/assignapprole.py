"""`manage.py assignapprole USER API ROLE [--remove]`: Entra's "Users and groups" of an enterprise app.

Assigns an app role of member type User to a directory user (or removes the assignment); the role's value
appears in the `roles` claim of the user's next tokens for API. Re-running is harmless: assigning what is
assigned, or removing what is not, changes nothing and says so.
"""

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from accounts.selectors import user_get
from applications.assignments import (
    app_role_assign,
    app_role_assignment_find,
    app_role_assignments_of_user,
    app_role_unassign,
)
from applications.models import Application, AppRole
from applications.selectors import application_get
from identity.management.base import Output, TrustframeCommand


def _role_get(api: Application, identifier: str) -> AppRole:
    """An app role of `api` by value (exact, as in tokens) or by id."""
    try:
        found = api.app_roles.filter(role_id=uuid.UUID(identifier.strip())).first()
    except ValueError:
        found = api.app_roles.filter(value=identifier).first()
    if found is None:
        raise ValidationError(f"'{api.name}' has no app role '{identifier}'.", code="unknown_role")
    return found


class Command(TrustframeCommand):
    help = "Assign an app role of member type User to a user (or remove it with --remove)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", metavar="USER", help="User name, email address or object id.")
        parser.add_argument("api", metavar="API", help="The app defining the role: client id or Application ID URI.")
        parser.add_argument("role", metavar="ROLE", help="The app role's value (e.g. app.read) or id.")
        parser.add_argument("--remove", action="store_true", help="Remove the assignment instead.")

    def run(self, **options: Any) -> Output:
        user = user_get(options["user"])
        api = application_get(options["api"])
        role = _role_get(api, options["role"])
        existing = app_role_assignment_find(user=user, app_role=role)
        who = user.username or user.email
        if options["remove"]:
            if existing is not None:
                app_role_unassign(assignment=existing, actor=self.actor)
            changed, line = existing is not None, (
                f"Removed app role {role.value} of {api.name} from {who}." if existing is not None
                else f"{who} was not assigned app role {role.value} of {api.name}; nothing changed.")
        else:
            if existing is None:
                app_role_assign(user=user, app_role=role, actor=self.actor)
            changed, line = existing is None, (
                f"Assigned app role {role.value} of {api.name} to {who}." if existing is None
                else f"{who} already has app role {role.value} of {api.name}; nothing changed.")
        assigned = [a.app_role.value for a in app_role_assignments_of_user(user) if a.app_role.application_id == api.pk]
        data = {
            "object_id": str(user.object_id), "username": user.username, "email": user.email,
            "api": api.client_id, "role": role.value, "role_id": str(role.role_id),
            "action": "remove" if options["remove"] else "assign", "changed": changed, "assigned_roles": assigned,
        }
        return Output(data, [line, f"{who}'s app roles on {api.name}: {', '.join(assigned) or 'none'}."])
