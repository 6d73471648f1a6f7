"""`manage.py addpermission CLIENT_ID API ROLE_OR_SCOPE ...` (SPEC §7): the client requests permissions."""

from typing import Any

from django.core.management.base import CommandParser

from applications.selectors import application_get
from applications.services import permission_add
from identity.management.base import Output, TrustframeCommand


class Command(TrustframeCommand):
    help = "Request app roles or scopes of an API for a client (requiredResourceAccess); consent is separate."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="The client: client id or Application ID URI.")
        parser.add_argument("api", metavar="API", help="The API: client id or Application ID URI.")
        parser.add_argument("values", metavar="ROLE_OR_SCOPE", nargs="+", help="App role or scope values.")

    def run(self, **options: Any) -> Output:
        client = application_get(options["client_id"])
        api = application_get(options["api"])
        values = list(dict.fromkeys(options["values"]))
        added = [p.target.value for p in permission_add(client=client, api=api, values=values, actor=self.actor)]
        unchanged = [v for v in values if v not in added]
        data = {"client_id": client.client_id, "api": api.client_id, "added": added, "already_requested": unchanged}
        lines = [f"{client.name} now requests {', '.join(values)} on {api.name}."]
        if unchanged:
            lines.append(f"Already requested before: {', '.join(unchanged)}.")
        lines.append(f"Run `manage.py grantconsent {client.client_id}` to grant admin consent.")
        return Output(data, lines)
