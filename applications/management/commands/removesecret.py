"""`manage.py removesecret CLIENT_ID SECRET_ID`: delete one client secret.

It stops working in every process within DIRECTORY_CACHE_SECONDS (identity/directory_cache.py).
"""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from applications.management.commands.listsecrets import secret_data
from applications.selectors import application_get, client_secret_get
from applications.services import client_secret_remove
from identity.management.base import Output, TrustframeCommand


class Command(TrustframeCommand):
    help = "Remove a client secret (SECRET_ID as addsecret and listsecrets print it)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="Client id or Application ID URI.")
        parser.add_argument("secret_id", metavar="SECRET_ID", help="The secret's id (see listsecrets).")

    def run(self, **options: Any) -> Output:
        app = application_get(options["client_id"])
        secret = client_secret_get(application=app, secret_id=options["secret_id"])
        data = {"client_id": app.client_id, **secret_data(secret), "removed": True}
        client_secret_remove(secret=secret, actor=self.actor)
        return Output(data, [
            f"Removed the secret {secret.hint}… ({data['secret_id']}) of {app.name} ({app.client_id}); clients "
            f"using it are refused within {settings.DIRECTORY_CACHE_SECONDS:g} s."
        ])
