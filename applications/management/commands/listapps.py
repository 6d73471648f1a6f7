"""`manage.py listapps`: every app registration with its client id and what it is."""

from typing import Any

from applications.models import Application
from applications.selectors import applications_list
from identity.management.base import Output, TrustframeCommand, table


def listed_application_data(app: Application) -> dict[str, Any]:
    return {
        "name": app.name,
        "client_id": app.client_id,
        "object_id": str(app.object_id),
        "service_principal_id": str(app.service_principal_id),
        "client_type": app.client_type,
        "ropc_enabled": app.ropc_enabled,
        "app_id_uri": app.app_id_uri,
        "enabled": app.enabled,
        "redirect_uris": [row.uri for row in sorted(app.redirect_uri_rows.all(), key=lambda row: row.pk)],
    }


class Command(TrustframeCommand):
    help = "List the app registrations: name, client id, client type, ROPC, App ID URI."

    def run(self, **options: Any) -> Output:
        apps = [listed_application_data(app) for app in applications_list()]
        rows = [
            [a["name"], a["client_id"], a["client_type"] + (", ROPC" if a["ropc_enabled"] else ""),
             "enabled" if a["enabled"] else "disabled", a["app_id_uri"] or "-"]
            for a in apps
        ]
        lines = [*table(["NAME", "CLIENT ID", "TYPE", "STATE", "APP ID URI"], rows), f"{len(apps)} app(s)."]
        return Output({"applications": apps, "count": len(apps)}, lines)
