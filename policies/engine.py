"""`evaluate(PolicyRequest) -> PolicyResult` (design/policy-engine.md).

The protocol layer parses the request and authenticates the client, then asks the policy: run the
journey of this grant over a claims bag, and say which claims the tokens carry. Refusals are the
typed errors of identity.oauth.errors, raised by the step that decided them.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from accounts.models import User
from applications.models import Application, DelegatedScope, RefreshToken
from identity.oauth import errors
from policies.builtin import JOURNEYS
from policies.journeys import JourneyState, run_journey
from policies.models import Policy, PolicyOutputClaim
from policies.transformations import SUBJECT_NOT_SUPPORTED


@dataclass(frozen=True)
class PolicyRequest:
    policy: Policy
    grant_type: str
    client: Application
    username: str = ""
    password: str = ""
    refresh_token: RefreshToken | None = None
    api: Application | None = None
    delegated_scopes: tuple[DelegatedScope, ...] = ()
    client_ip: str | None = None  # where the attempt comes from: smart lockout's location


@dataclass(frozen=True)
class PolicyResult:
    journey_id: str
    claims: Mapping[str, Any]
    user: User | None
    id_token_claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return self.claims["sub"]

    @property
    def auth_time(self) -> datetime | None:
        return self.claims.get("authTime")


def evaluate(request: PolicyRequest) -> PolicyResult:
    journey = JOURNEYS.get(request.grant_type)
    if journey is None:
        raise errors.UnsupportedGrantType(f"The supplied grant_type [{request.grant_type}] is not supported.")
    state = JourneyState(request=request)
    try:
        run_journey(journey, state)
    except errors.TokenError as exc:
        if getattr(exc, "user", None) is None:
            exc.user = state.user  # refused after a step identified the user: the sign-in event names them
        raise
    claims = state.claims
    claims.setdefault("sub", _subject(request.policy, claims))
    return PolicyResult(
        journey_id=journey.id, claims=claims, user=state.user,
        id_token_claims=_relying_party_claims(request.policy, claims) if state.user else {},
    )


def _subject(policy: Policy, claims: Mapping[str, Any]) -> str:
    # CreateSubjectClaimFromObjectID in the seed; the policy's "sub" compatibility setting (SPEC §3).
    if policy.subject_claim == Policy.SubjectClaim.NOT_SUPPORTED:
        return SUBJECT_NOT_SUPPORTED
    return claims["objectId"]


def _relying_party_claims(policy: Policy, claims: Mapping[str, Any]) -> dict[str, Any]:
    """The RelyingParty OutputClaims: the policy's output claims under their JWT names."""
    out = {}
    for claim_type in policy.output_claim_types():
        value = claims.get(claim_type)
        if value not in (None, "", []):
            out[PolicyOutputClaim.JWT_NAMES[claim_type]] = value
    return out
