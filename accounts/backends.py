"""Who may sign in to the web admin: admin accounts only (SPEC §6; issue 17 item 1).

Directory users sign in to applications through policies, never here. `UserManager.get_by_natural_key`
already looks in the admin namespace only; this backend's `user_can_authenticate` also refuses a
directory user, which Django asks both at login and when it loads a session's user (`get_user`), so no
path leads a directory user to `/admin/`.

Checking a password goes through `accounts.admin_login.admin_password_check` (issue 18 item 2): the
admin login's quota, smart lockout, hashing gate, equal time and sign-in events apply to any caller of
Django's authenticate(), not only to the login form. A password alone never passes the second step:
the admin site asks for it (identity/admin_site.py).
"""

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from accounts.admin_login import admin_password_check
from accounts.models import User
from identity.client_ip import client_ip


class AdminAccountBackend(ModelBackend):
    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs) -> User | None:
        if username is None or password is None:
            return None
        check = admin_password_check(username=username, password=password,
                                     ip=client_ip(request) if request is not None else None)
        return check.account if check.account is not None and self.user_can_authenticate(check.account) else None

    def user_can_authenticate(self, user: User) -> bool:
        return bool(user.is_staff) and super().user_can_authenticate(user)
