"""`manage.py revokesessions USER` (SPEC §7): B2C's revokeSignInSessions for one user."""

from typing import Any

from django.core.management.base import CommandParser

from accounts.selectors import user_get
from accounts.services import user_revoke_sessions
from identity.management.base import Output, TrustframeCommand, iso


class Command(TrustframeCommand):
    help = "Make every refresh token issued to a user until now invalid (refreshTokensValidFromDateTime = now)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", metavar="USER", help="User name, email address or object id.")

    def run(self, **options: Any) -> Output:
        user = user_revoke_sessions(user=user_get(options["user"]), actor=self.actor)
        valid_from = iso(user.refresh_tokens_valid_from)
        data = {
            "object_id": str(user.object_id),
            "username": user.username,
            "email": user.email,
            "refresh_tokens_valid_from": valid_from,
        }
        return Output(data, [
            f"Revoked the sessions of {user.username or user.email} ({user.object_id}).",
            f"refreshTokensValidFromDateTime: {valid_from}",
        ])
