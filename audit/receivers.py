"""Sign-in events from token outcomes (SPEC §5): every token request, success or refusal."""

from audit.models import SignInEvent
from identity.oauth.signals import TokenOutcome


def _text(value: str) -> str:
    """What a client sent, made storable: NUL is not allowed in PostgreSQL text."""
    return value.replace("\x00", "\ufffd")


def record_sign_in(sender, outcome: TokenOutcome, **kwargs) -> None:
    SignInEvent.objects.create(
        user_id=outcome.user_id,
        sign_in_name=_text(outcome.sign_in_name),
        client_id=_text(outcome.client_id),
        policy_id=_text(outcome.policy_id),
        grant_type=_text(outcome.grant_type),
        ip_address=outcome.client_ip,
        succeeded=outcome.succeeded,
        error=outcome.error,
        result_code=outcome.b2c_code,
    )
