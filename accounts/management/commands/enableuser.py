"""`manage.py enableuser USER`: let a disabled directory user sign in again (B2C: accountEnabled = true)."""

from accounts.management.commands._user_state import UserStateCommand


class Command(UserStateCommand):
    help = "Enable a directory user (USER: user name, email or object id)."
    enabled = True
