"""`manage.py assignrole USERNAME ROLE ... [--remove]`: built-in admin roles of an admin account."""

from typing import Any

from django.core.management.base import CommandParser

from accounts.admin_accounts import admin_account_add_role, admin_account_get
from accounts.management.commands.createadmin import admin_data
from accounts.roles import ROLES
from identity.management.base import Output, TrustframeCommand


class Command(TrustframeCommand):
    help = "Give an admin account built-in roles (or take them away with --remove)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="USERNAME", help="An admin account's user name.")
        parser.add_argument("roles", metavar="ROLE", nargs="+",
                            help=f"Built-in roles, quoted: {', '.join(repr(r.name) for r in ROLES)}.")
        parser.add_argument("--remove", action="store_true", help="Take the roles away instead.")

    def run(self, **options: Any) -> Output:
        account = admin_account_get(options["username"])
        for role in options["roles"]:
            admin_account_add_role(account=account, role=role, actor=self.actor, remove=options["remove"])
        data = admin_data(account)
        return Output(data, [f"{account.username}: {', '.join(data['roles']) or 'no roles'}."])
