"""`manage.py resetmfa USERNAME`: remove an admin account's authenticator and backup codes (a lost phone).

The way back in when no other Global administrator can reset it on the web (the only superuser lost the
phone). The account then signs in with its password and sets up a new authenticator; audited.
"""

from typing import Any

from django.core.management.base import CommandParser

from accounts.admin_accounts import admin_account_get
from accounts.admin_mfa import admin_mfa_reset, mfa_required
from identity.management.base import Output, TrustframeCommand


class Command(TrustframeCommand):
    help = "Reset an admin account's two-step verification: its authenticator app and backup codes are removed."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", metavar="USERNAME", help="The admin account's user name.")

    def run(self, **options: Any) -> Output:
        account = admin_account_get(options["username"])
        removed = admin_mfa_reset(account=account, actor=self.actor)
        then = ("it sets up a new authenticator app after its password at the next sign-in" if mfa_required()
                else "it signs in with its password alone until it sets up a new authenticator app")
        return Output({"username": account.username, "devices_removed": removed},
                      [f"Reset the two-step verification of {account.username} ({removed} device(s) removed); {then}."])
