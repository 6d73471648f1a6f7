"""`manage.py demotenant`: the demo tenant of `make run`, created only in an empty directory.

Development only: it prints (and may keep in a file) a working password and client secret, so it refuses
to run unless DEBUG is on. A production tenant is made with the other commands or `applyconfig`.
"""

import json
import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from identity.demo import DemoTenant, curl_commands, demo_tenant_create, directory_is_empty, msal_snippet
from identity.management.base import Output, TrustframeCommand


class Command(TrustframeCommand):
    help = (
        "Create a demo tenant (ROPC policy, native app, API with app roles, consented daemon, demo user) "
        "if the directory is empty, and print curl commands that work against it."
    )

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--credentials-file", type=Path,
            help="Keep the demo's generated password and secret here (mode 0600) so later runs can print "
            "the commands again. Development only: it holds a plaintext secret.",
        )
        parser.add_argument("--base-url", default=None, help="Origin for the commands (default IDENTITY_BASE_URL).")
        parser.add_argument("--ca-file", default=None,
                            help="The CA the server's certificate comes from (make run-tls: var/tls/ca.pem): named in "
                            "the curl commands and the MSAL snippet.")

    def run(self, **options: Any) -> Output:
        if not settings.DEBUG:
            raise ValidationError("demotenant is for development only (it prints a password and a client secret): "
                                  "run it with DEBUG=true, as `make run` does.")
        path: Path | None = options["credentials_file"]
        created = directory_is_empty()
        if created:
            demo = demo_tenant_create(actor=self.actor)
            if path is not None:
                _write_private(path, json.dumps(demo.as_dict(), indent=2))
        elif path is not None and path.is_file():
            demo = DemoTenant(**json.loads(path.read_text()))
        else:
            return Output({"created": False}, ["The directory is not empty: no demo tenant was created."])
        base_url = (options["base_url"] or settings.IDENTITY_BASE_URL).rstrip("/")
        commands = curl_commands(demo, base_url, options["ca_file"])
        snippet = msal_snippet(demo, base_url, options["ca_file"])
        data = {"created": created, **demo.as_dict(), "commands": dict(commands), "msal_python": snippet}
        lines = [
            "Demo tenant created." if created else "Demo tenant (from an earlier run).",
            f"  user {demo.username} / password {demo.password}",
            f"  native app {demo.native_client_id}, daemon {demo.daemon_client_id}, API {demo.api_app_id_uri}",
            "",
        ]
        for title, command in commands:
            lines += [f"# {title}", command, ""]
        if snippet is None:
            lines += ["# MSAL Python needs https: `make run-tls` serves over TLS and prints an MSAL snippet."]
        else:
            # No blank line inside the snippet: the blank line after it ends it, as after each command.
            lines += ["# MSAL Python (pip install msal requests)", snippet]
        return Output(data, [*lines, "", ""])  # the last "" only ends the text: the one before is the blank line


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
