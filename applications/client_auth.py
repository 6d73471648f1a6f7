"""Client authentication against the app's secrets (SPEC §4.3): any unexpired secret may match."""

from django.contrib.auth.hashers import check_password
from django.utils import timezone

from applications.models import Application
from identity.directory_cache import directory


def client_secret_matches(*, application: Application, secret: str) -> bool:
    """True when `secret` is one of the app's unexpired secrets. Several may be valid at once (rotation)."""
    # Digests and expiry times from the directory cache (identity/directory_cache.py): a removed secret
    # stops working within DIRECTORY_CACHE_SECONDS; an expired one at once.
    stored = directory.get(("secrets", application.pk),
                           lambda: tuple(application.secrets.values_list("secret_hash", "expires_at")))
    now = timezone.now()
    # Checked against every candidate, so the time taken does not say which one matched.
    return sum(check_password(secret, encoded) for encoded, expires_at in stored if expires_at > now) > 0
