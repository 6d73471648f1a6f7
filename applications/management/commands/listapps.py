"""`manage.py listapps`: every app registration with its client id and what it is."""

from typing import Any

from applications.management.commands.registerapp import application_data
from applications.models import Application
from applications.selectors import applications_list
from identity.management.base import Output, TrustframeCommand, table


def listed_application_data(app: Application) -> dict[str, Any]:
    return {**application_data(app), "enabled": app.enabled}


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
