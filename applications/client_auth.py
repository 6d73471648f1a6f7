"""Client authentication against the app's secrets (SPEC §4.3): any unexpired secret may match."""

from django.contrib.auth.hashers import check_password
from django.utils import timezone

from applications.models import Application


def client_secret_matches(*, application: Application, secret: str) -> bool:
    """True when `secret` is one of the app's unexpired secrets. Several may be valid at once (rotation)."""
    hashes = application.secrets.filter(expires_at__gt=timezone.now()).values_list("secret_hash", flat=True)
    # Checked against every candidate, so the time taken does not say which one matched.
    return sum(check_password(secret, encoded) for encoded in hashes) > 0
