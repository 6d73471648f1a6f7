"""Configuration invariants as system checks (identity.E001…)."""

from django.conf import settings
from django.core import checks
from django.db import DatabaseError


@checks.register(checks.Tags.security)
def password_hashers(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    first = settings.PASSWORD_HASHERS[0] if settings.PASSWORD_HASHERS else ""
    if not first.endswith("Argon2idPasswordHasher") and not getattr(settings, "TESTING_FAST_HASHER", False):
        errors.append(checks.Error(
            "Argon2id must be the first password hasher.",
            hint="Put accounts.hashers.Argon2idPasswordHasher first in PASSWORD_HASHERS.", id="identity.E001",
        ))
    if "applications.hashers.ClientSecretHasher" not in settings.PASSWORD_HASHERS:
        errors.append(checks.Error(
            "The client-secret hasher is not registered.",
            hint="Add applications.hashers.ClientSecretHasher to PASSWORD_HASHERS.", id="identity.E002",
        ))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def public_origin(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not settings.IDENTITY_BASE_URL.startswith("https://"):
        return [checks.Error(
            "IDENTITY_BASE_URL must be https in production: token issuers and endpoints are built from it.",
            id="identity.E003",
        )]
    return []


@checks.register(checks.Tags.database)
def signing_key_present(app_configs, databases=None, **kwargs) -> list[checks.CheckMessage]:
    if not databases or "default" not in databases:
        return []
    from identity.keys.models import SigningKey

    try:
        present = SigningKey.objects.filter(active=True).exists()
    except DatabaseError:
        return []
    if not present:
        return [checks.Warning(
            "There is no active signing key; tokens cannot be issued.",
            hint="Run `manage.py rotatekeys`.", id="identity.W004",
        )]
    return []
