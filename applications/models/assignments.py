"""App role assignments to users: Entra's "Enterprise application → Users and groups".

A user assigned an app role of member type User on an API gets the role's value in the `roles` claim of
the access tokens whose audience is that API (Graph: appRoleAssignment, principalType "User").
Assignments are user state: the token endpoint reads them on every token, never from the directory cache.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from applications.models.permissions import AppRole


class AppRoleAssignment(models.Model):
    assignment_id = models.UUIDField("id", default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_role_assignments",
        # Admin accounts are not directory users: they never get tokens, so they get no app roles.
        limit_choices_to={"is_staff": False},
        db_index=False,  # the unique constraint's index leads with user
    )
    app_role = models.ForeignKey(AppRole, on_delete=models.CASCADE, related_name="assignments")
    created_at = models.DateTimeField("assigned at", default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False,
        related_name="+",
    )
    created_by_label = models.CharField("assigned by", max_length=150, blank=True, editable=False)

    class Meta:
        verbose_name = "app role assignment"
        verbose_name_plural = "users and groups (app role assignments)"
        ordering = ["-created_at", "-id"]
        constraints = [
            # Led by user: the token endpoint's read is "this user's assignments among these roles".
            models.UniqueConstraint(fields=["user", "app_role"], name="app_role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.app_role.application.name}: {self.app_role.value}"
