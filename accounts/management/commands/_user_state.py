"""What enableuser and disableuser share: one switch, through `accounts.services.user_set_enabled`."""

from typing import Any

from django.core.management.base import CommandParser

from accounts.selectors import user_get
from accounts.services import user_set_enabled
from identity.management.base import Output, TrustframeCommand, iso


class UserStateCommand(TrustframeCommand):
    enabled: bool

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user", metavar="USER", help="User name, email address or object id.")

    def run(self, **options: Any) -> Output:
        user = user_get(options["user"])
        changed = user.is_active != self.enabled
        if changed:  # already so: nothing to write, audit or revoke again
            user = user_set_enabled(user=user, enabled=self.enabled, actor=self.actor)
        state = "enabled" if self.enabled else "disabled"
        data = {
            "object_id": str(user.object_id),
            "username": user.username,
            "email": user.email,
            "enabled": user.is_active,
            "changed": changed,
            "refresh_tokens_valid_from": iso(user.refresh_tokens_valid_from),
        }
        name = f"{user.username or user.email} ({user.object_id})"
        lines = [f"{'Now' if changed else 'Already'} {state}: {name}."]
        if changed and not self.enabled:
            valid_from = data["refresh_tokens_valid_from"]
            lines.append(f"Its refresh tokens stopped working (refreshTokensValidFromDateTime: {valid_from}).")
        return Output(data, lines)
