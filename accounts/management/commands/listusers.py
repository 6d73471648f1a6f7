"""`manage.py listusers`: the directory's users (admin accounts are not directory users)."""

from typing import Any

from accounts.models import User
from accounts.selectors import directory_users_list
from identity.management.base import Output, TrustframeCommand, iso, table


def listed_user_data(user: User) -> dict[str, Any]:
    return {
        "object_id": str(user.object_id),
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "enabled": user.is_active,
        "mfa_required": user.mfa_required,
        "password_expired": user.password_expired,
        "has_password": user.has_usable_password(),
        "created_at": iso(user.created_at),
        "refresh_tokens_valid_from": iso(user.refresh_tokens_valid_from),
    }


class Command(TrustframeCommand):
    help = "List the directory's users with their object ids and whether they are enabled."

    def run(self, **options: Any) -> Output:
        users = [listed_user_data(user) for user in directory_users_list()]
        rows = [
            [u["username"] or "-", u["email"] or "-", "enabled" if u["enabled"] else "disabled", u["object_id"],
             u["display_name"]]
            for u in users
        ]
        lines = [*table(["USER NAME", "EMAIL", "STATE", "OBJECT ID", "DISPLAY NAME"], rows), f"{len(users)} user(s)."]
        return Output({"users": users, "count": len(users)}, lines)
