"""`manage.py createuser USERNAME ...` (SPEC §7): create a local account; prints its object id.

`--password P` keeps working (SPEC §7 lists it), but a password on the command line is visible to every
user of the machine in the process list and stays in the shell's history: the command says so on stderr
once the user is made, and points to `--password-stdin`.
"""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from accounts.models import User
from accounts.services import user_create
from identity.management.base import Output, TrustframeCommand, read_secret_line


def user_data(user: User) -> dict[str, Any]:
    return {
        "object_id": str(user.object_id),
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "given_name": user.given_name,
        "surname": user.surname,
        "enabled": user.is_active,
        "mfa_required": user.mfa_required,
        "password_expired": user.password_expired,
        "has_password": user.has_usable_password(),
    }


class Command(TrustframeCommand):
    help = "Create a local user with a user-name sign-in name; prints its object id."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="USERNAME", help="User-name sign-in name (no '@').")
        parser.add_argument("--email", default=None, help="Email sign-in name.")
        password = parser.add_mutually_exclusive_group()
        password.add_argument("--password", default=None, help="Initial password. Discouraged: visible in the process "
                              "list and kept in the shell history; prefer --password-stdin.")
        password.add_argument(
            "--password-stdin", action="store_true", help="Read the password from one line of standard input."
        )
        parser.add_argument("--given-name", default="")
        parser.add_argument("--surname", default="")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--mfa-required", action="store_true", help="Require MFA at sign-in.")
        parser.add_argument("--password-expired", action="store_true", help="Force a password change first.")
        parser.add_argument("--disabled", action="store_true", help="Create the account disabled.")

    def run(self, **options: Any) -> Output:
        password = options["password"]
        if options["password_stdin"]:
            password = read_secret_line(self.stdin(options))
            if not password:
                raise ValidationError("No password on standard input.")
        user = user_create(
            actor=self.actor,
            username=options["username"],
            email=options["email"],
            password=password,
            display_name=options["display_name"],
            given_name=options["given_name"],
            surname=options["surname"],
            enabled=not options["disabled"],
            mfa_required=options["mfa_required"],
            password_expired=options["password_expired"],
        )
        if options["password"] is not None:
            self.warn_password_argument(as_json=options["json"])
        data = user_data(user)
        lines = [f"Created user {user.username or user.email}.", f"object id: {user.object_id}"]
        if not data["has_password"]:
            lines.append("It has no password yet, so it cannot sign in with one.")
        return Output(data, lines)

    def warn_password_argument(self, *, as_json: bool) -> None:
        """On stderr, after success only: a failure's stderr stays its one error line (or JSON object)."""
        text = ARGUMENT_WARNING
        self.stderr.write(json.dumps({"warning": text}) if as_json else f"Warning: {text}",
                          style_func=lambda line: line)


ARGUMENT_WARNING = (
    "--password is visible to other users in the process list and stays in your shell history; use "
    "--password-stdin instead (it asks on a terminal without echo, or reads one line piped in)."
)
