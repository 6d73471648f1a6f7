"""`manage.py purgesigninevents [--older-than-days N]`: the sign-in log's retention (audit/retention.py).

Run it daily from cron. Without --older-than-days it keeps SIGN_IN_EVENTS_RETENTION_DAYS (default 30; 0
keeps every event and deletes nothing). Deletes in batches, each committed on its own.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from audit.retention import sign_in_events_purge
from identity.management.base import Output, TrustframeCommand, iso


class Command(TrustframeCommand):
    help = "Delete sign-in events older than the retention (SIGN_IN_EVENTS_RETENTION_DAYS, default 30 days)."
    # Each batch commits on its own: one transaction over a large purge would hold its locks throughout.
    atomic = False

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-days", type=int, default=None,
                            help="Delete events older than this many days (default SIGN_IN_EVENTS_RETENTION_DAYS).")

    def run(self, **options: Any) -> Output:
        days = options["older_than_days"]
        if days is not None and days < 1:
            raise ValidationError(f"--older-than-days must be at least 1 (got {days}).")
        if days is None:
            days = settings.SIGN_IN_EVENTS_RETENTION_DAYS
            if days == 0:
                return Output({"deleted": 0, "older_than_days": None, "cutoff": None, "batches": 0},
                              ["SIGN_IN_EVENTS_RETENTION_DAYS is 0: sign-in events are kept; nothing was deleted."])
        purge = sign_in_events_purge(actor=self.actor, older_than=timedelta(days=days))
        data = {"deleted": purge.deleted, "older_than_days": days, "cutoff": iso(purge.cutoff),
                "batches": purge.batches}
        return Output(data, [f"Deleted {purge.deleted} sign-in event(s) created before {iso(purge.cutoff)} "
                             f"(older than {days} days)."])
