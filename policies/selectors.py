"""Reads of policies."""

from django.core.exceptions import ValidationError

from identity.directory_cache import directory
from policies.models import Policy


def policy_find(policy_id: str) -> Policy | None:
    """The policy with this id, matched case-insensitively (SPEC §2), or None."""
    return Policy.objects.filter(policy_id__iexact=policy_id.strip()).first() if policy_id else None


def policy_get(policy_id: str) -> Policy:
    policy = policy_find(policy_id)
    if policy is None:
        raise ValidationError(f"Unknown policy '{policy_id}'.", code="unknown_policy")
    return policy


def policy_find_cached(policy_id: str) -> Policy | None:
    """`policy_find` for the request path: from the per-process directory cache, with its output claims
    loaded; shared between requests, so read-only (identity/directory_cache.py)."""
    key = policy_id.strip().lower()

    def load() -> Policy | None:
        return Policy.objects.prefetch_related("output_claims").filter(policy_id__iexact=key).first()

    return directory.get(("policy", key), load) if key else None


def policies_enabled() -> list[Policy]:
    """The enabled policies, by id: what the landing page lists."""
    return list(Policy.objects.filter(enabled=True).order_by("policy_id"))
