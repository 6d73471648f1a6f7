"""DOT's token models, swapped into this app from the first migration.

Refresh tokens carry what B2C's refresh semantics need (SPEC §4.2): the policy that issued them,
the family, when the user authenticated (the sliding window runs from there), their own expiry,
and the token that replaced them. They are stored as a SHA-256 checksum only
(`COMPLIANT_BCP_RFC9700_TOKEN_STORAGE`). Access tokens are JWTs and are not stored.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.models import AbstractAccessToken, AbstractGrant, AbstractIDToken, AbstractRefreshToken


class AccessToken(AbstractAccessToken):
    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"


class RefreshToken(AbstractRefreshToken):
    # Outlives its user (DOT cascades), so that redeeming it after the user is deleted is answered
    # with B2C's AADB2C90128 rather than "unknown token".
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="refresh_tokens"
    )
    policy = models.ForeignKey(
        "policies.Policy", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scope = models.TextField(blank=True)
    auth_time = models.DateTimeField(null=True, blank=True, help_text="When the user last entered a password.")
    expires_at = models.DateTimeField(null=True, blank=True)
    successor = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="predecessor"
    )
    # DOT's is auto_now_add: the issue time the valid-from rule compares is the one the grant decided,
    # written with the row rather than by a second UPDATE.
    created = models.DateTimeField(default=timezone.now)

    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"
        # One row per token, whatever its state (DOT's own key is (token_checksum, revoked), which its
        # #1816 says should be the checksum alone: NULLs are distinct, so two live rows could share one).
        # It is also what lets PostgreSQL's planner know a checksum matches at most one row before any
        # ANALYZE: with the two-column key alone it guessed dozens on a young table and read the token
        # by walking the primary key backwards, a scan of every newer row on each refresh.
        unique_together = ()
        constraints = [models.UniqueConstraint(fields=["token_checksum"], name="refresh_token_checksum_unique")]


class IDToken(AbstractIDToken):
    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"


class Grant(AbstractGrant):
    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"
