"""Recording audit events. Every directory write goes through a service that calls `audit_record`."""

from typing import Any

from django.db import models

from accounts.models import User
from audit.models import AuditEvent

# Who made a change: an admin user (web admin), or a label such as "manage.py createuser".
Actor = User | str | None


def actor_label(actor: Actor) -> str:
    if isinstance(actor, User):
        return f"admin:{actor}"
    return actor or "system"


def audit_record(
    *, actor: Actor, action: str, target: models.Model, details: dict[str, Any] | None = None
) -> AuditEvent:
    """Write one audit event. `details` must never hold a secret, password or token."""
    return AuditEvent.objects.create(
        actor=actor if isinstance(actor, User) else None,
        actor_label=actor_label(actor)[:150],
        action=action,
        target_type=target._meta.label,
        target_id=str(target.pk),
        target_repr=str(target)[:256],
        details=details or {},
    )
