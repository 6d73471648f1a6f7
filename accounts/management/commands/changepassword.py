"""`manage.py changepassword [USERNAME] [--password-stdin]`: Django's command, through the one service (issue 18
item 6).

Django's own command set the hash and saved the row: no password rules beyond its own loop, no audit
event. This one, of the same name (accounts comes after django.contrib.auth in INSTALLED_APPS, so it wins),
changes an admin account's password with `admin_account_set_password`, as the admin's "Set password" and
"Change password" do. Directory users' passwords are set with `setpassword` (which also revokes their
refresh tokens and keeps the previous password): a directory user's name is refused with that hint.
"""

import getpass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from accounts.admin_accounts import admin_account_get, admin_account_set_password
from accounts.selectors import user_get_by_sign_in_name
from identity.management.base import Output, TrustframeCommand, read_new_password, read_secret_line


class Command(TrustframeCommand):
    help = "Change an admin account's password (typed twice without echo, or one line of standard input)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", metavar="USERNAME",
                            help="The admin account's user name; by default, the name you are logged in as.")
        parser.add_argument("--password-stdin", action="store_true",
                            help="Read the new password from one line of standard input.")
        # Django's command took --database; one database here, but scripts that pass the default still run.
        parser.add_argument("--database", default="default", choices=["default"], help="Only 'default'.")

    def run(self, **options: Any) -> Output:
        username = options["username"] or getpass.getuser()
        try:
            account = admin_account_get(username)
        except ValidationError:
            if user_get_by_sign_in_name(username) is not None:
                raise ValidationError(f"'{username}' is a directory user, not an admin account: set its password "
                                      "with `manage.py setpassword`.") from None
            raise
        stream = self.stdin(options)
        if options["password_stdin"]:
            password = read_secret_line(stream)
            if not password:
                raise ValidationError("No password on standard input.")
        else:
            password = read_new_password(stream)
        admin_account_set_password(account=account, password=password, actor=self.actor)
        return Output({"username": account.username, "password_changed": True},
                      [f"Password changed successfully for admin account '{account.username}'."])
