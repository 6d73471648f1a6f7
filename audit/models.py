"""Sign-in events (token outcomes) and audit events (admin changes), SPEC §5."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from audit.display import moment


class AuditEvent(models.Model):
    """One admin change: who, what, when. Written by services, so admin and commands alike."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField("actor", max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField("target", max_length=256)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_repr}"


class SignInEvent(models.Model):
    """One token request outcome: when, who, which app, which IP, result code, and why a refusal was refused.

    The app is stored by client id only (what the request named, registered or not); its name is read
    at display time (audit.selectors.with_app), so the writer needs nothing but the request's own values.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sign_in_name = models.CharField("sign-in name", max_length=256, blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    policy_id = models.CharField(max_length=128, blank=True)
    grant_type = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    error = models.CharField(max_length=64, blank=True)
    result_code = models.CharField(max_length=32, blank=True, help_text="B2C code, e.g. AADB2C90225")
    failure_reason = models.CharField(
        max_length=256, blank=True,
        help_text="Why the request was refused, for admins (never a password, secret or token).",
    )

    class Meta:
        verbose_name = "sign-in event"
        ordering = ["-created_at", "-id"]
        # The admin's and `manage.py signins`' filter by app, newest first (the user filter has the
        # foreign key's index, the time range the created_at index).
        indexes = [models.Index(fields=["client_id", "created_at"], name="signinevent_app_time")]

    def __str__(self) -> str:
        outcome = "success" if self.succeeded else (self.result_code or self.error)
        who = self.sign_in_name or self.client_id[:8]
        return " ".join(part for part in (moment(self.created_at), self.grant_type, who, outcome) if part)
