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


POLICY_ID_MAX_LENGTH = Policy._meta.get_field("policy_id").max_length


def policy_id_validate(policy_id: str) -> None:
    if len(policy_id) > POLICY_ID_MAX_LENGTH or not re.fullmatch(m.POLICY_ID_REGEX, policy_id):
        raise ValidationError(
            f"Invalid policy id '{policy_id}': it must start with B2C_1_ (a user flow) or B2C_1A_ (a custom "
            f"policy) and go on with letters, digits, '_', '.' or '-', at most {POLICY_ID_MAX_LENGTH} characters "
            "in all, e.g. B2C_1_ROPC_Auth."
        )


def policy_id_available(policy_id: str) -> None:
    """The id of a policy being added is not taken (ids are case-insensitive, as B2C matches them)."""
    existing = policy_find(policy_id)
    if existing is not None:
        raise ValidationError(
            f"A policy '{existing.policy_id}' already exists (policy ids are case-insensitive); "
            "choose another id or edit that policy."
        )


def policy_validate(policy: Policy) -> None:
    """Every rule of a policy's settings at once, as a ValidationError keyed by field.

    Each message names its setting, so a command can print them on one line and a form on each field.
    """
    errors: dict[str, list[str]] = {}
    try:
        policy_id_validate(policy.policy_id)
    except ValidationError as exc:
        errors["policy_id"] = exc.messages
    for field, (low, high, label) in _BOUNDS.items():
        value = getattr(policy, field)
        if value is not None and not (isinstance(value, int) and low <= value <= high):
            errors[field] = [f"{label} must be between {low} and {high} (got {value})."]
    rolling = policy.rolling_refresh_token_lifetime_days
    lifetimes_valid = not {"refresh_token_lifetime_days", "rolling_refresh_token_lifetime_days"} & set(errors)
    if lifetimes_valid and rolling is not None and rolling < policy.refresh_token_lifetime_days:
        errors["rolling_refresh_token_lifetime_days"] = [
            f"The sliding window ({rolling} days) cannot be shorter than the refresh token lifetime "
            f"({policy.refresh_token_lifetime_days} days); make it at least as long, or choose no expiry."
        ]
    for field, choices in _CHOICES.items():
        if getattr(policy, field) not in choices.values:
            errors[field] = [f"Unknown {field} '{getattr(policy, field)}' (allowed: {', '.join(choices.values)})."]
    if errors:
        raise ValidationError(errors)


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
