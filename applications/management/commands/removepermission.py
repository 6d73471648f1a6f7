"""`manage.py removepermission CLIENT_ID API ROLE_OR_SCOPE ...`: the client stops requesting permissions.

Their tenant-wide admin consent is revoked with them, as the admin's "Remove" does (the one rule:
applications.services.permission_remove); client-credentials tokens lose the roles in every process
within DIRECTORY_CACHE_SECONDS. A value granted without being requested (Entra's "Other permissions
granted") is revoked too. Re-running changes nothing.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from applications.selectors import application_get
from applications.services import permission_remove, permission_targets
from identity.management.base import Output, TrustframeCommand
from identity.tenant import tenant_name


class Command(TrustframeCommand):
    help = ("Stop a client requesting app roles or scopes of an API, and revoke their admin consent "
            "(API: client id or Application ID URI).")

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="The client: client id or Application ID URI.")
        parser.add_argument("api", metavar="API", help="The API: client id or Application ID URI.")
        parser.add_argument("values", metavar="ROLE_OR_SCOPE", nargs="+", help="App role or scope values.")

    def run(self, **options: Any) -> Output:
        client = application_get(options["client_id"])
        api = application_get(options["api"])
        targets = permission_targets(api=api, values=options["values"])  # all checked before any is removed
        done = permission_remove(client=client, targets=targets, actor=self.actor)
        data = {"client_id": client.client_id, "api": api.client_id, "removed": done.removed,
                "consent_revoked": done.consent_revoked, "not_requested": done.unchanged}
        lines = []
        if done.removed:
            lines.append(f"{client.name} no longer requests {', '.join(done.removed)} on {api.name}.")
        if done.consent_revoked:
            lines.append(f"Revoked admin consent for {tenant_name()} to {', '.join(done.consent_revoked)}; "
                         f"new tokens stop carrying it within {settings.DIRECTORY_CACHE_SECONDS:g} s.")
        if done.unchanged:
            lines.append(f"Neither requested nor granted: {', '.join(done.unchanged)}.")
        return Output(data, lines)
