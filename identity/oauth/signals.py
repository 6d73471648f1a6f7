"""One signal per token-endpoint outcome (ARCHITECTURE rule 7); audit records it as a sign-in event."""

from dataclasses import dataclass

from django.dispatch import Signal

# Sent with outcome=TokenOutcome once per token request, success or refusal.
token_request_finished = Signal()


@dataclass(frozen=True)
class TokenOutcome:
    grant_type: str
    client_id: str
    policy_id: str
    user_id: int | None
    sign_in_name: str
    client_ip: str | None
    error: str = ""
    b2c_code: str = ""
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return not self.error
