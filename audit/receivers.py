"""Sign-in events from token outcomes (SPEC §5): every token request, success or refusal."""

import logging

from django.db import DatabaseError
from django.utils import timezone

from audit.sign_in_buffer import SignInRecord, sign_in_events
from identity.oauth.signals import TokenOutcome

logger = logging.getLogger(__name__)


def _text(value: str) -> str:
    """What a client sent, made storable: NUL is not allowed in PostgreSQL text."""
    return value.replace("\x00", "\ufffd")


def record_sign_in(sender, outcome: TokenOutcome, **kwargs) -> None:
    """Never turns an outcome into a failure: by now a successful grant has committed its tokens, and an
    error here would withhold them from the client. Written in batches, off the request (sign_in_buffer)."""
    try:
        sign_in_events.add(_event(outcome))
    except (DatabaseError, ValueError):
        logger.exception("could not record a sign-in event (%s, %s)", outcome.grant_type, outcome.error or "success")


def _event(outcome: TokenOutcome) -> SignInRecord:
    return SignInRecord(
        created_at=timezone.now(),
        user_id=outcome.user_id,
        sign_in_name=_text(outcome.sign_in_name),
        client_id=_text(outcome.client_id),
        policy_id=_text(outcome.policy_id),
        grant_type=_text(outcome.grant_type),
        ip_address=outcome.client_ip,
        succeeded=outcome.succeeded,
        error=outcome.error,
        result_code=outcome.b2c_code,
        # Every refusal says why (the outcome's detail), at worst by its RFC 6749 code.
        failure_reason="" if outcome.succeeded else _text(outcome.detail or outcome.error)[:256],
    )
