"""`manage.py disableuser USER`: stop a directory user signing in (B2C: accountEnabled = false).

Disabling also makes every refresh token issued until now invalid (SPEC §4.2), as the service does for
the admin's switch.
"""

from accounts.management.commands._user_state import UserStateCommand


class Command(UserStateCommand):
    help = "Disable a directory user and revoke its refresh tokens (USER: user name, email or object id)."
    enabled = False
