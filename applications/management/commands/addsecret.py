"""`manage.py addsecret CLIENT_ID ...` (SPEC §7): a new client secret, printed once and never stored."""

from typing import Any

from django.core.management.base import CommandParser

from applications.selectors import application_get
from applications.services import client_secret_add
from identity.management.base import Output, TrustframeCommand, iso


class Command(TrustframeCommand):
    help = "Add a client secret to a confidential app; the value is shown this once."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="Client id or Application ID URI.")
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--expires-days", type=int, default=None, metavar="N", help="Days until it expires (default from settings)."
        )

    def run(self, **options: Any) -> Output:
        app = application_get(options["client_id"])
        secret, value = client_secret_add(
            application=app, actor=self.actor, description=options["description"], expires_days=options["expires_days"]
        )
        data = {
            "client_id": app.client_id,
            "secret": value,
            "secret_id": str(secret.key_id),
            "hint": secret.hint,
            "description": secret.description,
            "expires_at": iso(secret.expires_at),
        }
        return Output(data, [
            f"New secret for {app.name} ({app.client_id}); copy it now, it is not shown again:",
            value,
            f"secret id: {secret.key_id}, expires {iso(secret.expires_at)}",
        ])
