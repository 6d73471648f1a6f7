"""`manage.py listsecrets CLIENT_ID`: an app's client secrets by id and hint; a value is never shown again."""

from typing import Any

from django.core.management.base import CommandParser

from applications.models import ClientSecret
from applications.selectors import application_get, client_secrets
from identity.management.base import Output, TrustframeCommand, iso, table


def secret_data(secret: ClientSecret) -> dict[str, Any]:
    return {
        "secret_id": str(secret.key_id),
        "hint": secret.hint,
        "description": secret.description,
        "created_at": iso(secret.created_at),
        "expires_at": iso(secret.expires_at),
        "expired": secret.is_expired,
    }


class Command(TrustframeCommand):
    help = "List an app's client secrets: id, hint, description, created, expires (never the value)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="Client id or Application ID URI.")

    def run(self, **options: Any) -> Output:
        app = application_get(options["client_id"])
        secrets = [secret_data(secret) for secret in client_secrets(app)]
        rows = [
            [s["secret_id"], f"{s['hint']}…", s["created_at"], s["expires_at"] + (" (expired)" if s["expired"] else ""),
             s["description"]]
            for s in secrets
        ]
        lines = [
            f"Client secrets of {app.name} ({app.client_id}):",
            *table(["SECRET ID", "HINT", "CREATED", "EXPIRES", "DESCRIPTION"], rows),
            f"{len(secrets)} secret(s)." + (" A public client has none." if app.is_public else ""),
        ]
        return Output({"client_id": app.client_id, "name": app.name, "secrets": secrets}, lines)
