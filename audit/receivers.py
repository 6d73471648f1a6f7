"""Sign-in events from token outcomes (SPEC §5): every token request, success or refusal."""

import logging

from django.db import DatabaseError, transaction

from audit.models import SignInEvent
from identity.oauth.signals import TokenOutcome

logger = logging.getLogger(__name__)


def _text(value: str) -> str:
    """What a client sent, made storable: NUL is not allowed in PostgreSQL text."""
    return value.replace("\x00", "\ufffd")


def record_sign_in(sender, outcome: TokenOutcome, **kwargs) -> None:
    """Never turns an outcome into a failure: by now a successful grant has committed its tokens, and an
    error here would withhold them from the client."""
    try:
        with transaction.atomic():  # a failed insert must not leave an enclosing transaction aborted
            _create(outcome)
    except (DatabaseError, ValueError):
        logger.exception("could not record a sign-in event (%s, %s)", outcome.grant_type, outcome.error or "success")


def _create(outcome: TokenOutcome) -> None:
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
