"""User journeys: ordered technical profiles over one claims bag (B2C's OrchestrationSteps).

The last step of every journey is SendClaims; it is implicit here: `run_journey` returns the bag and
the token issuer (identity.oauth.tokens) reads it. Built-in user flows and (later) imported custom
policies are both expressed as these objects.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from policies.engine import PolicyRequest


@dataclass
class JourneyState:
    """Per-request state: the claims bag, and the directory objects the profiles already read."""

    request: "PolicyRequest"
    claims: dict[str, Any] = field(default_factory=dict)
    user: "User | None" = None


Handler = Callable[[JourneyState, "TechnicalProfile"], None]
Transformation = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class TechnicalProfile:
    id: str
    handler: Handler
    metadata: Mapping[str, str] = field(default_factory=dict)
    output_transformations: tuple[Transformation, ...] = ()

    def run(self, state: JourneyState) -> None:
        self.handler(state, self)
        for transformation in self.output_transformations:
            transformation(state.claims)


@dataclass(frozen=True)
class UserJourney:
    id: str
    steps: tuple[TechnicalProfile, ...]


def run_journey(journey: UserJourney, state: JourneyState) -> JourneyState:
    for profile in journey.steps:
        profile.run(state)
    return state
