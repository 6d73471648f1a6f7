"""Who may sign in to the web admin: admin accounts only (SPEC §6; issue 17 item 1).

Directory users sign in to applications through policies, never here. `UserManager.get_by_natural_key`
already looks in the admin namespace only; this backend's `user_can_authenticate` also refuses a
directory user, which Django asks both at login and when it loads a session's user (`get_user`), so no
path leads a directory user to `/admin/`.
"""

from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class AdminAccountBackend(ModelBackend):
    def user_can_authenticate(self, user: User) -> bool:
        return bool(user.is_staff) and super().user_can_authenticate(user)
