"""`manage.py purgethrottles`: stale lockout rows go, locks in force stay."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import SignInThrottle

pytestmark = pytest.mark.django_db


def test_stale_rows_are_purged_and_active_locks_kept():
    old = timezone.now() - timedelta(hours=30)
    SignInThrottle.objects.create(name_key="a" * 64, failures=3)
    SignInThrottle.objects.create(name_key="b" * 64, locked_until=timezone.now() + timedelta(minutes=5))
    SignInThrottle.objects.create(name_key="c" * 64)
    SignInThrottle.objects.filter(name_key__in=["a" * 64, "b" * 64]).update(updated_at=old)
    out = StringIO()
    call_command("purgethrottles", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"deleted": 1, "older_than_hours": 24}
    assert set(SignInThrottle.objects.values_list("name_key", flat=True)) == {"b" * 64, "c" * 64}


def test_a_bad_age_is_refused():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("purgethrottles", "--older-than-hours", "0")
