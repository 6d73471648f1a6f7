"""What the token view knows that oauthlib does not: the policy of the URL and the client's address.

The view resolves them and the backend hands them to oauthlib as `extra_credentials`, so they live on
the oauthlib request (never on the shared validator). Our grants build their responses themselves,
so these never leak into a token response the way oauthlib's BearerToken would merge them.
"""

from dataclasses import dataclass

from policies.models import Policy

KEY = "trustframe"


@dataclass(frozen=True)
class TokenContext:
    policy: Policy
    client_ip: str | None = None


def context_of(request) -> TokenContext:
    return request.extra_credentials[KEY]

