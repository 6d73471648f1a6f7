"""`manage.py grantconsent CLIENT_ID [--revoke]` (SPEC §7): admin consent for what the client requested."""

from typing import Any

from django.core.management.base import CommandParser

from applications.selectors import application_get, other_permissions_granted, permissions_with_status
from applications.services import admin_consent_grant, admin_consent_revoke
from identity.management.base import Output, TrustframeCommand


class Command(TrustframeCommand):
    help = "Grant (or with --revoke withdraw) tenant-wide admin consent for every permission the client requested."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="Client id or Application ID URI.")
        parser.add_argument("--revoke", action="store_true", help="Withdraw the admin consent instead.")

    def run(self, **options: Any) -> Output:
        client = application_get(options["client_id"])
        if options["revoke"]:
            revoked = admin_consent_revoke(client=client, actor=self.actor)
            data: dict[str, Any] = {"client_id": client.client_id, "action": "revoke", "revoked": revoked}
            lines = [f"Withdrew admin consent for {client.name}: {revoked} permission(s)."]
        else:
            granted = [g.target.value for g in admin_consent_grant(client=client, actor=self.actor)]
            data = {"client_id": client.client_id, "action": "grant", "granted": granted}
            lines = [f"Granted admin consent for {client.name}"
                     + (f": {', '.join(granted)}." if granted else " (nothing new).")]
        permissions = [
            {
                "api": s.permission.api.client_id,
                "api_name": s.permission.api.name,
                "value": s.permission.target.value,
                "type": s.permission.kind,
                "status": s.status,
            }
            for s in permissions_with_status(client)
        ]
        data["permissions"] = permissions
        lines += [f"  {p['api_name']}: {p['value']} ({p['type']}) - {p['status']}" for p in permissions]
        if not permissions:
            lines.append("  The client requests no permissions (see `manage.py addpermission`).")
        # Entra's "Other permissions granted": consent in force without a request (left by earlier builds).
        others = [
            {"api": g.target.application.client_id, "api_name": g.target.application.name, "value": g.target.value,
             "type": "Application" if g.app_role_id else "Delegated"}
            for g in other_permissions_granted(client)
        ]
        data["other_granted"] = others
        if others:
            lines.append("Other permissions granted (not requested; `manage.py removepermission` revokes them):")
            lines += [f"  {p['api_name']}: {p['value']} ({p['type']}) - Granted" for p in others]
        return Output(data, lines)
