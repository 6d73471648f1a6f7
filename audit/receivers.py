"""Sign-in events from token outcomes (SPEC §5): every token request, success or refusal."""

from audit.models import SignInEvent
from identity.oauth.signals import TokenOutcome


def record_sign_in(sender, outcome: TokenOutcome, **kwargs) -> None:
    SignInEvent.objects.create(
        user_id=outcome.user_id,
        sign_in_name=outcome.sign_in_name,
        client_id=outcome.client_id,
        policy_id=outcome.policy_id,
        grant_type=outcome.grant_type,
        ip_address=outcome.client_ip,
        succeeded=outcome.succeeded,
        error=outcome.error,
        result_code=outcome.b2c_code,
    )
