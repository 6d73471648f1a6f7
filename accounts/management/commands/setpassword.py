"""`manage.py setpassword USER [--password-stdin] [--force-change]`: reset a directory user's password.

The password never comes from an argument (other users see those in the process list): it is typed twice
without echo on a terminal, or read from one line of standard input with --password-stdin. The service
checks it against the password rules, keeps the previous hash ("Looks like you used an old password")
and revokes the user's refresh tokens (SPEC §4.2).
"""

import argparse
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from accounts.selectors import user_get
from accounts.services import user_set_password
from identity.management.base import Output, TrustframeCommand, iso, read_new_password, read_secret_line


class Command(TrustframeCommand):
    help = "Set a directory user's password, typed without echo or read from standard input."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", metavar="USER", help="User name, email address or object id.")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from one line of standard input."
        )
        # Only to refuse it without repeating the value (argparse would take it for --password-stdin and
        # print the password back as an unrecognized argument).
        parser.add_argument("--password", dest="password_argument", default=None, help=argparse.SUPPRESS)
        parser.add_argument(
            "--force-change", action="store_true",
            help="The user must choose a new password at the next sign-in (B2C: forceChangePasswordNextSignIn).",
        )

    def run(self, **options: Any) -> Output:
        if options["password_argument"] is not None:
            raise ValidationError(
                "setpassword takes no --password: other users can read arguments in the process list. Type it "
                "when asked, or pipe it in with --password-stdin."
            )
        user = user_get(options["user"])  # before asking: an unknown user is told at once
        stream = self.stdin(options)
        if options["password_stdin"]:
            password = read_secret_line(stream)
            if not password:
                raise ValidationError("No password on standard input.")
        else:
            password = read_new_password(stream)
        user = user_set_password(user=user, password=password, actor=self.actor, force_change=options["force_change"])
        data = {
            "object_id": str(user.object_id),
            "username": user.username,
            "email": user.email,
            "password_changed_at": iso(user.password_changed_at),
            "force_change": user.password_expired,
            "refresh_tokens_valid_from": iso(user.refresh_tokens_valid_from),
        }
        lines = [f"Set the password of {user.username or user.email} ({user.object_id}); its refresh tokens "
                 "stopped working."]
        if user.password_expired:
            lines.append("The user must choose a new password at the next sign-in.")
        return Output(data, lines)
