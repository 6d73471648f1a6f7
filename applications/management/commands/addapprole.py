"""`manage.py addapprole CLIENT_ID VALUE ...` (SPEC §7): define an app role on an API."""

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from applications.models import AppRole
from applications.selectors import application_get
from applications.services import app_role_add
from identity.management.base import Output, TrustframeCommand


def role_data(role: AppRole) -> dict[str, Any]:
    return {
        "id": str(role.role_id),
        "value": role.value,
        "display_name": role.display_name,
        "description": role.description,
        "member_types": role.member_types,
        "enabled": role.is_enabled,
    }


class Command(TrustframeCommand):
    help = "Define an app role (appRoles entry) on an API app registration."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="The API: client id or Application ID URI.")
        parser.add_argument("value", metavar="VALUE", help="Appears in tokens' roles/scp (no spaces).")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--member-types", default="Application", metavar="TYPES", help="Application, User or Application,User."
        )
        parser.add_argument("--id", dest="role_id", default=None, metavar="GUID", help="Keep a manifest's role id.")

    def run(self, **options: Any) -> Output:
        role_id = None
        if options["role_id"] is not None:
            try:
                role_id = uuid.UUID(options["role_id"].strip())
            except ValueError:
                raise ValidationError(f"The role id must be a GUID (got '{options['role_id']}').") from None
        app = application_get(options["client_id"])
        role = app_role_add(
            application=app, actor=self.actor, value=options["value"], display_name=options["display_name"],
            description=options["description"], member_types=options["member_types"], role_id=role_id,
        )
        data = {"client_id": app.client_id, **role_data(role)}
        return Output(data, [
            f"Added app role {role.value} to {app.name} (id {role.role_id}, "
            f"member types {', '.join(role.member_types)}).",
        ])
