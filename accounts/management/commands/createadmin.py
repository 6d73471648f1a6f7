"""`manage.py createadmin USERNAME ...`: an admin account with built-in roles (issue 17 items 1, 4).

Like `createsuperuser`, but with roles instead of all-or-nothing, a password from stdin, and --json.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from accounts.admin_accounts import admin_account_create
from accounts.models import User
from accounts.roles import ROLES
from identity.management.base import Output, TrustframeCommand, read_secret_line


def admin_data(account: User) -> dict[str, Any]:
    return {
        "username": account.username,
        "email": account.email,
        "display_name": account.display_name,
        "roles": sorted(account.groups.values_list("name", flat=True)),
        "superuser": account.is_superuser,
        "enabled": account.is_active,
    }


class Command(TrustframeCommand):
    help = "Create an admin account (signs in to /admin/ only; never gets tokens) with built-in roles."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="USERNAME", help="The name it signs in to the admin with.")
        parser.add_argument("--email", default=None)
        parser.add_argument("--display-name", default="")
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the password from one line of standard input (asked for on a terminal).")
        parser.add_argument("--role", dest="roles", action="append", default=[], metavar="ROLE",
                            help=f"A built-in role; may be repeated. One of: {', '.join(r.name for r in ROLES)}.")
        parser.add_argument("--superuser", action="store_true", help="Every permission, no role needed.")

    def run(self, **options: Any) -> Output:
        stdin = self.stdin(options)
        if not options["password_stdin"] and not stdin.isatty():
            raise ValidationError("Give the password on standard input with --password-stdin.")
        password = read_secret_line(stdin)
        if not password:
            raise ValidationError("No password on standard input (use --password-stdin and give one line).")
        account = admin_account_create(
            actor=self.actor, username=options["username"], password=password, email=options["email"],
            display_name=options["display_name"], roles=options["roles"], superuser=options["superuser"],
        )
        data = admin_data(account)
        roles = ", ".join(data["roles"]) or ("none (superuser)" if account.is_superuser else "none")
        return Output(data, [f"Created admin account {account.username}.", f"roles: {roles}"])
