"""Reads of policies."""

from django.core.exceptions import ValidationError

from policies.models import Policy


def policy_find(policy_id: str) -> Policy | None:
    """The policy with this id, matched case-insensitively (SPEC §2), or None."""
    return Policy.objects.filter(policy_id__iexact=policy_id.strip()).first() if policy_id else None


def policy_get(policy_id: str) -> Policy:
    policy = policy_find(policy_id)
    if policy is None:
        raise ValidationError(f"Unknown policy '{policy_id}'.", code="unknown_policy")
    return policy
