"""`manage.py purgethrottles [--older-than-hours N]`: prune stale smart-lockout rows.

Every failed sign-in for a new name, existing or not, creates a row; run this from cron (hourly) so a
guessing campaign over random names does not grow the table without bound. Lockouts in force stay, and so
do networks a name signed in from within LOCKOUT_FAMILIAR_DAYS (accounts/lockout.py).
"""

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from accounts.lockout import throttles_purge
from identity.management.base import Output, TrustframeCommand


class Command(TrustframeCommand):
    help = "Delete smart-lockout rows with no lock in force, no failure for a while and no familiar network."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-hours", type=int, default=24, help="Default 24.")

    def run(self, **options: Any) -> Output:
        hours = options["older_than_hours"]
        if hours < 1:
            raise ValidationError("--older-than-hours must be at least 1.")
        deleted = throttles_purge(older_than=timedelta(hours=hours))
        return Output({"deleted": deleted, "older_than_hours": hours},
                      [f"Deleted {deleted} stale lockout row(s) older than {hours} h."])
