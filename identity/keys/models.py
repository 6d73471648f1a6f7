"""Signing keys in the database (SPEC §3): RSA, private part encrypted at rest."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class SigningKey(models.Model):
    kid = models.CharField("key id (kid)", max_length=64, unique=True, editable=False)
    algorithm = models.CharField(max_length=8, default="RS256", editable=False)
    key_size = models.PositiveIntegerField(editable=False)
    public_jwk = models.JSONField("public key (JWK)", editable=False)
    private_key_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    active = models.BooleanField(default=False, editable=False, help_text="Signs new tokens.")
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_until = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="Kept in the JWKS until every token it signed has expired; empty while active.",
    )

    class Meta:
        app_label = "identity"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="one_active_signing_key"),
            models.CheckConstraint(condition=Q(key_size__gte=2048), name="signing_key_at_least_2048_bits"),
            models.CheckConstraint(
                condition=Q(active=False) | Q(retired_at__isnull=True), name="active_signing_key_not_retired"
            ),
        ]

    def __str__(self) -> str:
        state = "active" if self.active else ("retired" if self.retired_at else "inactive")
        return f"{self.kid} ({state})"

    @property
    def is_published(self) -> bool:
        return self.active or self.published_until is None or self.published_until > timezone.now()
