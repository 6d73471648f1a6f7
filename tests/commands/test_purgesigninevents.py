"""`manage.py purgesigninevents [--older-than-days N]`: the sign-in log's retention, for a daily cron job."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import SignInEvent

pytestmark = pytest.mark.django_db


def aged(days: float) -> SignInEvent:
    return SignInEvent.objects.create(created_at=timezone.now() - timedelta(days=days))


def purge(*args: str) -> dict:
    out = StringIO()
    call_command("purgesigninevents", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_by_default_it_keeps_the_configured_retention_of_30_days(settings):
    assert settings.SIGN_IN_EVENTS_RETENTION_DAYS == 30
    recent, _ = aged(29), aged(31)
    data = purge()
    assert (data["deleted"], data["older_than_days"], data["batches"]) == (1, 30, 1)
    assert data["cutoff"].endswith("Z")
    assert list(SignInEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_older_than_days_overrides_the_setting_and_the_text_says_what_went():
    aged(3), aged(10)
    out = StringIO()
    call_command("purgesigninevents", "--older-than-days", "7", stdout=out)
    assert out.getvalue().startswith("Deleted 1 sign-in event(s) created before ")
    assert out.getvalue().rstrip().endswith("(older than 7 days).")
    assert SignInEvent.objects.count() == 1


def test_a_retention_of_zero_keeps_everything(settings):
    settings.SIGN_IN_EVENTS_RETENTION_DAYS = 0
    aged(3000)
    assert purge() == {"deleted": 0, "older_than_days": None, "cutoff": None, "batches": 0}
    assert SignInEvent.objects.count() == 1


@pytest.mark.parametrize("days", ["0", "-5"])
def test_a_bad_age_is_refused_and_deletes_nothing(days):
    aged(100)
    with pytest.raises(CommandError, match=r"^--older-than-days must be at least 1"):
        call_command("purgesigninevents", "--older-than-days", days)
    assert SignInEvent.objects.count() == 1
