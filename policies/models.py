"""Policies (user flows): lifetimes, token compatibility settings, output claims (SPEC §5)."""

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

# B2C's bounds (JwtIssuer metadata / user-flow token settings).
TOKEN_MINUTES_MIN, TOKEN_MINUTES_MAX, TOKEN_MINUTES_DEFAULT = 5, 1440, 60
REFRESH_DAYS_MIN, REFRESH_DAYS_MAX, REFRESH_DAYS_DEFAULT = 1, 90, 14
ROLLING_DAYS_MIN, ROLLING_DAYS_MAX, ROLLING_DAYS_DEFAULT = 1, 365, 90
POLICY_ID_REGEX = r"^[Bb]2[Cc]_1[Aa]?_[A-Za-z0-9_.-]+$"


class Policy(models.Model):
    class Kind(models.TextChoices):
        ROPC = "ropc", "Sign in using resource owner password credentials (ROPC)"
        SIGN_UP_SIGN_IN = "signup_signin", "Sign up and sign in"
        CUSTOM = "custom", "Custom policy"

    class IssuerPattern(models.TextChoices):
        AUTHORITY_AND_TENANT_GUID = "AuthorityAndTenantGuid", "https://<domain>/<tenant id>/v2.0/"
        AUTHORITY_WITH_TFP = "AuthorityWithTfp", "https://<domain>/tfp/<tenant id>/<policy id>/v2.0/"

    class SubjectClaim(models.TextChoices):
        OBJECT_ID = "ObjectID", "ObjectID"
        NOT_SUPPORTED = "NotSupported", "Not supported"

    class PolicyClaim(models.TextChoices):
        TFP = "tfp", "tfp"
        ACR = "acr", "acr"

    policy_id = models.CharField(
        "policy id", max_length=128, help_text="e.g. B2C_1_ROPC_Auth or B2C_1A_ROPC_Auth; case-insensitive."
    )
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.ROPC)
    enabled = models.BooleanField(default=True)
    access_token_lifetime_minutes = models.PositiveIntegerField(default=TOKEN_MINUTES_DEFAULT)
    id_token_lifetime_minutes = models.PositiveIntegerField(default=TOKEN_MINUTES_DEFAULT)
    refresh_token_lifetime_days = models.PositiveIntegerField(default=REFRESH_DAYS_DEFAULT)
    rolling_refresh_token_lifetime_days = models.PositiveIntegerField(
        "refresh token sliding window (days)", null=True, blank=True, default=ROLLING_DAYS_DEFAULT,
        help_text="Empty means no expiry (B2C's 'No expiry').",
    )
    issuer_pattern = models.CharField(
        "issuer (iss) claim", max_length=32, choices=IssuerPattern.choices,
        default=IssuerPattern.AUTHORITY_AND_TENANT_GUID,
    )
    subject_claim = models.CharField(
        "subject (sub) claim", max_length=16, choices=SubjectClaim.choices, default=SubjectClaim.OBJECT_ID
    )
    policy_claim = models.CharField(
        "claim representing the policy id", max_length=3, choices=PolicyClaim.choices, default=PolicyClaim.TFP
    )
    distinct_credential_messages = models.BooleanField(
        default=False,
        help_text="Say 'We can't seem to find your account' / 'Your password is incorrect' instead of one "
        "message for both. Off by default: distinct messages let callers enumerate users.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["policy_id"]
        constraints = [
            models.UniqueConstraint(Lower("policy_id"), name="policy_id_unique_ci"),
            models.CheckConstraint(condition=Q(policy_id__regex=POLICY_ID_REGEX), name="policy_id_well_formed"),
            models.CheckConstraint(
                condition=Q(access_token_lifetime_minutes__gte=TOKEN_MINUTES_MIN)
                & Q(access_token_lifetime_minutes__lte=TOKEN_MINUTES_MAX)
                & Q(id_token_lifetime_minutes__gte=TOKEN_MINUTES_MIN)
                & Q(id_token_lifetime_minutes__lte=TOKEN_MINUTES_MAX),
                name="policy_token_lifetimes_in_bounds",
            ),
            models.CheckConstraint(
                condition=Q(refresh_token_lifetime_days__gte=REFRESH_DAYS_MIN)
                & Q(refresh_token_lifetime_days__lte=REFRESH_DAYS_MAX),
                name="policy_refresh_lifetime_in_bounds",
            ),
            models.CheckConstraint(
                condition=Q(rolling_refresh_token_lifetime_days__isnull=True) | (
                    Q(rolling_refresh_token_lifetime_days__gte=ROLLING_DAYS_MIN)
                    & Q(rolling_refresh_token_lifetime_days__lte=ROLLING_DAYS_MAX)
                    & Q(rolling_refresh_token_lifetime_days__gte=F("refresh_token_lifetime_days"))
                ),
                name="policy_sliding_window_in_bounds",
            ),
        ]

    def __str__(self) -> str:
        return self.policy_id

    def output_claim_types(self) -> list[str]:
        return [c.claim_type for c in self.output_claims.all()]


class OutputClaimType(models.TextChoices):
    DISPLAY_NAME = "displayName", "Display Name (name)"
    GIVEN_NAME = "givenName", "Given Name (given_name)"
    SURNAME = "surname", "Surname (family_name)"
    EMAILS = "emails", "Email Addresses (emails)"
    EMAIL = "email", "Email (email)"
    IDENTITY_PROVIDER = "identityProvider", "Identity Provider (idp)"
    OBJECT_ID = "objectId", "User's Object ID (oid)"


class PolicyOutputClaim(models.Model):
    """A claim the policy puts into the ID token (B2C's "Application claims" / RelyingParty OutputClaims)."""

    ClaimType = OutputClaimType

    # The JWT claim each claim type is issued as.
    JWT_NAMES = {
        "displayName": "name", "givenName": "given_name", "surname": "family_name", "emails": "emails",
        "email": "email", "identityProvider": "idp", "objectId": "oid",
    }

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="output_claims")
    claim_type = models.CharField(max_length=32, choices=OutputClaimType.choices)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "claim_type"], name="policy_output_claim_unique"),
            models.CheckConstraint(
                condition=Q(claim_type__in=OutputClaimType.values), name="policy_output_claim_known"
            ),
        ]

    def __str__(self) -> str:
        return self.claim_type
