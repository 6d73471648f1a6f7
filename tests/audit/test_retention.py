"""The sign-in log's retention (audit/retention.py): events past SIGN_IN_EVENTS_RETENTION_DAYS are deleted
in batches, each its own statement and transaction; audit events stay."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import retention
from audit.models import AuditEvent, SignInEvent
from audit.retention import oldest_beyond_retention, sign_in_events_purge

pytestmark = pytest.mark.django_db


def events_aged(*days: float) -> list[int]:
    now = timezone.now()
    return [SignInEvent.objects.create(created_at=now - timedelta(days=age), sign_in_name=f"n{age}").pk
            for age in days]


def deletes(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if re.match(r"\s*DELETE\b", q["sql"], re.IGNORECASE)]


def test_events_older_than_the_retention_go_in_batches_and_the_rest_stay(monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    kept = events_aged(0, 29.9)
    events_aged(30.1, 31, 45, 400, 1000)
    with CaptureQueriesContext(connection) as ctx:
        purge = sign_in_events_purge(actor="tests", older_than=timedelta(days=30))
    assert (purge.deleted, purge.batches) == (5, 3)
    assert len(deletes(ctx)) == 3  # one bounded statement per batch, never one over the whole backlog
    assert sorted(SignInEvent.objects.values_list("pk", flat=True)) == sorted(kept)
    event = AuditEvent.objects.get(action="sign_in_events.purge")
    assert event.actor_label == "tests" and event.details["deleted"] == 5 and event.details["older_than_days"] == 30


def test_a_purge_with_nothing_to_delete_writes_no_audit_event():
    events_aged(1)
    assert sign_in_events_purge(actor="tests", older_than=timedelta(days=30)).deleted == 0
    assert not AuditEvent.objects.exists() and SignInEvent.objects.count() == 1


def test_audit_events_are_never_purged():
    old = timezone.now() - timedelta(days=5000)
    AuditEvent.objects.create(created_at=old, actor_label="tests", action="user.create", target_type="x",
                              target_id="1", target_repr="x")
    events_aged(5000)
    sign_in_events_purge(actor="tests", older_than=timedelta(days=1))
    assert AuditEvent.objects.filter(action="user.create").exists()


def test_the_log_page_can_tell_when_the_purge_is_not_running():
    assert oldest_beyond_retention(30) is None  # an empty log
    events_aged(30.5)
    assert oldest_beyond_retention(30) is None  # within a day of the cutoff: the daily run may be due
    events_aged(32)
    assert oldest_beyond_retention(30) is not None
    assert oldest_beyond_retention(0) is None  # kept forever
