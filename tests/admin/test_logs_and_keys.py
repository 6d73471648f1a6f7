"""Web admin for logs and signing keys (SPEC §3, §6): read-only logs with a sign-in chart; key rotation."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, SignInEvent
from identity.keys.models import SigningKey
from identity.keys.services import signing_key_rotate
from tests.conftest import ACTOR

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§6")]

SIGN_INS = reverse("admin:audit_signinevent_changelist")


def sign_ins(at, ok: int, failed: int) -> None:
    for i in range(ok + failed):
        SignInEvent.objects.create(created_at=at, succeeded=i < ok, grant_type="password", client_id="c",
                                   sign_in_name="alice", result_code="" if i < ok else "AADB2C90225")


def test_sign_in_chart_counts_successes_and_failures_per_day(admin):
    today = timezone.now().replace(hour=12, minute=0)
    sign_ins(today - timedelta(days=3), ok=4, failed=1)
    sign_ins(today, ok=2, failed=3)
    response = admin.get(SIGN_INS)
    chart = response.context["chart"]
    assert chart["per"] == "day"
    assert [(b.succeeded, b.failed) for b in chart["bars"]] == [(4, 1), (0, 0), (0, 0), (2, 3)]
    assert (chart["total_ok"], chart["total_failed"]) == (6, 4)
    body = response.content.decode()
    assert "<svg" in body and "6 succeeded, 4 failed" in body
    assert "<script src=\"http" not in body  # no CDN: there is no network


def test_sign_in_chart_is_hourly_for_short_spans_and_follows_filters(admin):
    now = timezone.now().replace(minute=30)
    sign_ins(now - timedelta(hours=2), ok=1, failed=2)
    sign_ins(now, ok=5, failed=0)
    chart = admin.get(SIGN_INS).context["chart"]
    assert chart["per"] == "hour" and len(chart["bars"]) == 3
    failures = admin.get(SIGN_INS, {"result": "failure"}).context["chart"]
    assert (failures["total_ok"], failures["total_failed"]) == (0, 2)


def test_sign_in_changelist_without_events_has_no_chart(admin):
    response = admin.get(SIGN_INS)
    assert response.status_code == 200 and response.context["chart"] is None


def test_logs_can_be_searched_and_filtered(admin, user):
    sign_ins(timezone.now(), ok=1, failed=1)
    response = admin.get(SIGN_INS, {"q": "AADB2C90225"})
    assert [e.result_code for e in response.context["cl"].result_list] == ["AADB2C90225"]
    response = admin.get(reverse("admin:audit_auditevent_changelist"), {"action": "user.create"})
    assert [e.action for e in response.context["cl"].result_list] == ["user.create"]
    event = AuditEvent.objects.get()
    assert "object_id" in admin.get(reverse("admin:audit_auditevent_change", args=[event.pk])).content.decode()


def test_audit_events_show_their_time_with_seconds_and_zone(admin, user):
    event = AuditEvent.objects.get()
    local = timezone.localtime(event.created_at)
    body = admin.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert f'<time datetime="{local.isoformat(timespec="seconds")}"' in body
    assert f"{local:%Y-%m-%d %H:%M:%S} UTC</time>" in body


@pytest.mark.parametrize("model", ["auditevent", "signinevent"])
def test_logs_are_read_only(admin, user, model):
    sign_ins(timezone.now(), ok=1, failed=0)
    obj = (AuditEvent if model == "auditevent" else SignInEvent).objects.first()
    assert admin.get(reverse(f"admin:audit_{model}_add")).status_code == 403
    assert admin.post(reverse(f"admin:audit_{model}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    page = admin.get(reverse(f"admin:audit_{model}_change", args=[obj.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_rotate_keys_button_makes_a_new_active_key_and_is_audited(admin, admin_user):
    first = signing_key_rotate(actor=ACTOR)
    changelist = admin.get(reverse("admin:identity_signingkey_changelist")).content.decode()
    assert "Rotate keys" in changelist and first.kid in changelist
    ask = admin.get(reverse("admin:identity_signingkey_rotate"))
    assert ask.status_code == 200 and "stays published in the JWKS" in ask.content.decode()
    assert SigningKey.objects.get(active=True) == first  # asking changed nothing
    response = admin.post(reverse("admin:identity_signingkey_rotate"), {"confirm": "yes"})
    assert response.status_code == 302
    first.refresh_from_db()
    new = SigningKey.objects.get(active=True)
    assert new != first and first.retired_at is not None and first.published_until is not None
    event = AuditEvent.objects.get(action="signing_key.rotate", actor=admin_user)
    assert event.details == {"kid": new.kid, "retired": [first.kid]}


def test_signing_keys_cannot_be_added_edited_or_shown_privately(admin):
    key = signing_key_rotate(actor=ACTOR)
    assert admin.get(reverse("admin:identity_signingkey_add")).status_code == 403
    assert admin.put(reverse("admin:identity_signingkey_rotate")).status_code == 405
    body = admin.get(reverse("admin:identity_signingkey_change", args=[key.pk])).content.decode()
    assert key.private_key_encrypted not in body and key.kid in body


def test_tenant_is_shown_read_only(admin):
    body = admin.get(reverse("admin:identity_tenant_changelist")).content.decode()
    assert "contoso.onmicrosoft.com" in body
    assert admin.get(reverse("admin:identity_tenant_add")).status_code == 403
