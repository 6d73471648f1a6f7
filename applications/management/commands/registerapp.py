"""`manage.py registerapp NAME ...` (SPEC §7): create an app registration and its service principal."""

from typing import Any

from django.core.management.base import CommandParser

from applications.models import Application
from applications.services import application_register
from identity.management.base import Output, TrustframeCommand


def application_data(app: Application) -> dict[str, Any]:
    return {
        "name": app.name,
        "client_id": app.client_id,
        "object_id": str(app.object_id),
        "service_principal_id": str(app.service_principal_id),
        "client_type": app.client_type,
        "ropc_enabled": app.ropc_enabled,
        "app_id_uri": app.app_id_uri,
        # From the rows as loaded: one query for a whole listing when they are prefetched (listapps).
        "redirect_uris": [row.uri for row in sorted(app.redirect_uri_rows.all(), key=lambda row: row.pk)],
    }


class Command(TrustframeCommand):
    help = "Register an application; prints its client id and object id."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", metavar="NAME", help="Display name of the app registration.")
        parser.add_argument("--client-id", default=None, metavar="UUID", help="Keep a migrated client's id.")
        parser.add_argument("--public", action="store_true", help="A public (native/SPA) client: no secrets.")
        parser.add_argument("--ropc", action="store_true", help="Allow the ROPC (password) grant.")
        parser.add_argument("--app-id-uri", default=None, metavar="URI", help="Application ID URI of an API.")
        parser.add_argument(
            "--redirect-uri", dest="redirect_uris", nargs="+", action="extend", default=[], metavar="URI",
            help="Redirect URI(s); may be repeated.",
        )

    def run(self, **options: Any) -> Output:
        app = application_register(
            actor=self.actor,
            name=options["name"],
            public=options["public"],
            ropc=options["ropc"],
            client_id=options["client_id"],
            app_id_uri=options["app_id_uri"],
            redirect_uris=options["redirect_uris"],
        )
        return Output(application_data(app), [
            f"Registered {app.name} ({app.client_type}{', ROPC' if app.ropc_enabled else ''}).",
            f"client id: {app.client_id}",
            f"object id: {app.object_id}",
        ])
