"""Writes to policies: created or updated idempotently, within B2C's bounds (SPEC §5)."""

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import Actor, audit_record
from policies import models as m
from policies.models import OutputClaimType, Policy, PolicyOutputClaim
from policies.selectors import policy_find

# The claims a new ROPC policy returns, as the seed's ROPC_Auth.xml RelyingParty lists them.
DEFAULT_OUTPUT_CLAIMS = ("objectId", "displayName", "givenName", "surname")

_BOUNDS = {
    "access_token_lifetime_minutes": (m.TOKEN_MINUTES_MIN, m.TOKEN_MINUTES_MAX, "Access token lifetime (minutes)"),
    "id_token_lifetime_minutes": (m.TOKEN_MINUTES_MIN, m.TOKEN_MINUTES_MAX, "ID token lifetime (minutes)"),
    "refresh_token_lifetime_days": (m.REFRESH_DAYS_MIN, m.REFRESH_DAYS_MAX, "Refresh token lifetime (days)"),
    "rolling_refresh_token_lifetime_days": (m.ROLLING_DAYS_MIN, m.ROLLING_DAYS_MAX, "Sliding window (days)"),
}
_CHOICES = {
    "kind": Policy.Kind, "issuer_pattern": Policy.IssuerPattern,
    "subject_claim": Policy.SubjectClaim, "policy_claim": Policy.PolicyClaim,
}


def policy_validate(policy: Policy) -> None:
    if not re.fullmatch(m.POLICY_ID_REGEX, policy.policy_id):
        raise ValidationError(
            f"Invalid policy id '{policy.policy_id}': it must start with B2C_1_ or B2C_1A_ and contain only "
            "letters, digits, '_', '.' and '-'."
        )
    for field, (low, high, label) in _BOUNDS.items():
        value = getattr(policy, field)
        if value is not None and not low <= value <= high:
            raise ValidationError(f"{label} must be between {low} and {high} (got {value}).")
    rolling = policy.rolling_refresh_token_lifetime_days
    if rolling is not None and rolling < policy.refresh_token_lifetime_days:
        raise ValidationError("The sliding window cannot be shorter than the refresh token lifetime.")
    for field, choices in _CHOICES.items():
        if getattr(policy, field) not in choices.values:
            raise ValidationError(f"Unknown {field} '{getattr(policy, field)}' (allowed: {', '.join(choices.values)}).")


@transaction.atomic
def policy_create_or_update(
    *,
    actor: Actor,
    policy_id: str,
    output_claims: Iterable[str] | None = None,
    no_sliding_expiry: bool = False,
    **settings: object,
) -> tuple[Policy, bool]:
    """Create the policy, or update the given settings of an existing one. Returns (policy, created)."""
    unknown = set(settings) - set(_BOUNDS) - set(_CHOICES) - {"enabled", "distinct_credential_messages"}
    if unknown:
        raise TypeError(f"unknown policy settings: {', '.join(sorted(unknown))}")
    policy = policy_find(policy_id)
    created = policy is None
    if created:
        policy = Policy(policy_id=policy_id.strip())
    for field, value in settings.items():
        if value is not None:
            setattr(policy, field, value)
    if no_sliding_expiry:
        policy.rolling_refresh_token_lifetime_days = None
    policy_validate(policy)
    policy.save()
    claims = list(output_claims) if output_claims is not None else (list(DEFAULT_OUTPUT_CLAIMS) if created else None)
    if claims is not None:
        policy_set_output_claims(policy=policy, claim_types=claims)
    audit_record(actor=actor, action="policy.create" if created else "policy.update", target=policy, details={
        k: v for k, v in settings.items() if v is not None
    } | ({"output_claims": claims} if claims is not None else {}))
    return policy, created


def policy_set_output_claims(*, policy: Policy, claim_types: Iterable[str]) -> None:
    claim_types = list(dict.fromkeys(claim_types))
    unknown = [c for c in claim_types if c not in OutputClaimType.values]
    if unknown:
        raise ValidationError(f"Unknown output claim '{unknown[0]}' (allowed: {', '.join(OutputClaimType.values)}).")
    policy.output_claims.exclude(claim_type__in=claim_types).delete()
    for claim_type in claim_types:
        PolicyOutputClaim.objects.get_or_create(policy=policy, claim_type=claim_type)


@transaction.atomic
def policy_delete(*, policy: Policy, actor: Actor) -> None:
    audit_record(actor=actor, action="policy.delete", target=policy, details={"policy_id": policy.policy_id})
    policy.delete()
