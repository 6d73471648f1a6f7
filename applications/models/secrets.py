"""Client secrets: several per app, hashed, expiring, shown once (SPEC §5)."""

import uuid
from datetime import timedelta

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from applications.models.application import Application

SECRET_DEFAULT_DAYS = 180
SECRET_MAX_DAYS = 730  # two years, as Entra allows


class ClientSecret(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="secrets")
    key_id = models.UUIDField("secret id", default=uuid.uuid4, unique=True, editable=False)
    description = models.CharField(max_length=256, blank=True)
    hint = models.CharField(max_length=3, help_text="The first characters of the value, to recognise it.")
    secret_hash = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="client_secret_expires_later"),
            models.CheckConstraint(condition=~Q(secret_hash=""), name="client_secret_hash_present"),
        ]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.description or 'secret'})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @staticmethod
    def default_expiry(days: int = SECRET_DEFAULT_DAYS) -> "timezone.datetime":
        return timezone.now() + timedelta(days=days)
