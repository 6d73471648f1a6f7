"""Certificate credentials: public certificates whose private keys sign a client's assertions (SPEC §5;
Entra's "Certificates & secrets" → Certificates; RFC 7523 §2.2).

Only the public certificate is stored (PEM). The thumbprints are what a client assertion names its
key by: `x5t` is the base64url SHA-1 of the DER certificate, `x5t#S256` its SHA-256.
"""

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from applications.models.application import Application


class ClientCertificate(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="certificates")
    key_id = models.UUIDField("certificate id", default=uuid.uuid4, unique=True, editable=False)
    description = models.CharField(max_length=256, blank=True)
    certificate = models.TextField(help_text="The public certificate, PEM. Never a private key.")
    thumbprint_sha1 = models.CharField(
        "thumbprint (SHA-1)", max_length=40, help_text="Upper-case hex, as Entra shows it."
    )
    thumbprint_sha256 = models.CharField("thumbprint (SHA-256)", max_length=64)
    subject = models.CharField(max_length=512, blank=True)
    not_before = models.DateTimeField("valid from")
    not_after = models.DateTimeField("expires")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "certificate"
        constraints = [
            models.UniqueConstraint(
                fields=["application", "thumbprint_sha256"], name="client_certificate_unique_per_app"
            ),
            models.CheckConstraint(condition=Q(not_after__gt=F("not_before")), name="client_certificate_valid_period"),
            models.CheckConstraint(condition=Q(thumbprint_sha1__regex=r"^[0-9A-F]{40}$"),
                                   name="client_certificate_sha1_hex"),
            models.CheckConstraint(condition=Q(thumbprint_sha256__regex=r"^[0-9A-F]{64}$"),
                                   name="client_certificate_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.thumbprint_sha1} ({self.description or self.subject or 'certificate'})"

    @property
    def is_expired(self) -> bool:
        return self.not_after <= timezone.now()
