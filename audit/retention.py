"""How long the sign-in log is kept (SPEC §5): SIGN_IN_EVENTS_RETENTION_DAYS, default 30.

Every token request writes a sign-in event, so the table grows with traffic; it holds IP addresses and
sign-in names, personal data nobody needs forever. B2C keeps its audit log, where its sign-ins are, seven
days; Entra ID keeps sign-in logs seven days on its free tier and 30 with P1/P2. Trustframe keeps them 30
days by default: `manage.py purgesigninevents`, run daily from cron, deletes older ones.

It deletes in batches of BATCH rows, each in its own short transaction, oldest first through the
created_at index: a large backlog never holds one long transaction (on SQLite, the database's only
write lock), so the sign-in writer and the admin keep working while it runs.

Audit events (admin changes) are not purged: a few rows per change, no traffic behind them, and the
only record of who granted what; an investigation may start months later.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit.models import SignInEvent
from audit.services import Actor, audit_record
from identity.tenant import Tenant

BATCH = 5_000


@dataclass(frozen=True)
class Purge:
    deleted: int
    batches: int
    cutoff: datetime


def sign_in_events_purge(*, actor: Actor, older_than: timedelta) -> Purge:
    """Delete the sign-in events created before now - `older_than`, BATCH rows per transaction."""
    cutoff = timezone.now() - older_than
    deleted = batches = 0
    while True:
        with transaction.atomic():
            oldest = SignInEvent.objects.filter(created_at__lt=cutoff).order_by("created_at").values("pk")[:BATCH]
            count, _ = SignInEvent.objects.filter(pk__in=oldest).delete()
        batches += 1
        deleted += count
        if count < BATCH:
            break
    if deleted:
        audit_record(actor=actor, action="sign_in_events.purge", target=Tenant.objects.get_or_create(id=1)[0],
                     details={"deleted": deleted, "older_than_days": older_than.days, "cutoff": cutoff.isoformat()})
    return Purge(deleted=deleted, batches=batches, cutoff=cutoff)


def oldest_beyond_retention(days: int) -> datetime | None:
    """When the oldest event was created, if it is older than the retention plus a day: the daily purge is
    not running (for the sign-in log page). One indexed read."""
    if days <= 0:
        return None
    oldest = SignInEvent.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return oldest if oldest is not None and oldest < timezone.now() - timedelta(days=days + 1) else None
