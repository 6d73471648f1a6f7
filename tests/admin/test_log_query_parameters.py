"""The log lists' query parameters (issue 18 item 9): each is a filter the page offers, or a refusal with a
message and the list unfiltered, never a 500 (PostgreSQL refused `?ip_address=notanip` as an inet, and
regular expressions it cannot read; the date drill-down failed past year 9999)."""

from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.urls import reverse

from audit.models import AuditEvent, SignInEvent

pytestmark = pytest.mark.django_db

SIGN_INS = reverse("admin:audit_signinevent_changelist")
EXPORT = reverse("admin:audit_signinevent_export")
AUDIT = reverse("admin:audit_auditevent_changelist")
NOT_A_FILTER = "is not a filter of this list: use the filters on the right or the search box."


@pytest.fixture
def events(db):
    at = datetime(2026, 12, 6, 12, tzinfo=UTC)
    return SimpleNamespace(
        v4=SignInEvent.objects.create(created_at=at, ip_address="203.0.113.9", result_code="AADB2C90225"),
        v6=SignInEvent.objects.create(created_at=at, ip_address="2001:db8::1"),
        audit=AuditEvent.objects.create(created_at=at, actor_label="tests", action="user.create",
                                        target_type="accounts.User", target_id="1", target_repr="alice"),
    )


def refused_with(admin, url: str, query: str) -> str:
    response = admin.get(f"{url}?{query}", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and response.redirect_chain[-1][0].endswith("?e=1")
    return " ".join(str(m) for m in response.context["messages"])


@pytest.mark.parametrize(("url", "query", "message"), [
    (SIGN_INS, "ip_address=notanip", "'notanip' is not an IP address: give one such as 203.0.113.9 or 2001:db8::1."),
    (EXPORT, "ip_address=notanip", "'notanip' is not an IP address"),
    (SIGN_INS, "ip_address__regex=(", f"'ip_address__regex' {NOT_A_FILTER}"),
    (SIGN_INS, "sign_in_name__regex=(", f"'sign_in_name__regex' {NOT_A_FILTER}"),
    (AUDIT, "action__regex=[", f"'action__regex' {NOT_A_FILTER}"),
    (AUDIT, "details__contains=x", f"'details__contains' {NOT_A_FILTER}"),
    (SIGN_INS, "user__username=alice", f"'user__username' {NOT_A_FILTER}"),
    (SIGN_INS, "created_at__gte=2026-12-06", f"'created_at__gte' {NOT_A_FILTER}"),
    (EXPORT, "succeeded=maybe", f"'succeeded' {NOT_A_FILTER}"),
    (SIGN_INS, "result_code=%00", "Null characters are not allowed in a filter."),
    (AUDIT, "action=%00", "Null characters are not allowed in a filter."),
    (EXPORT, "q=%00", "Null characters are not allowed."),
    (SIGN_INS, "created_at__year=9999", "'9999' is not a date this list can show."),
    (AUDIT, "created_at__year=9999&created_at__month=12&created_at__day=31",
     "'9999-12-31' is not a date this list can show."),
    (SIGN_INS, "created_at__year=2026&created_at__month=13", "'2026-13' is not a date this list can show."),
    (AUDIT, "created_at__gte=soon", "A filter value is not valid: “soon” value has an invalid format."),
    (SIGN_INS, "e=1&ip_address=notanip", "'notanip' is not an IP address"),  # not Django's "Database error"
])
def test_a_query_parameter_the_list_does_not_offer_or_cannot_read_is_refused_with_a_message(
        admin, events, url, query, message):
    assert message in refused_with(admin, url, query)


def test_the_ip_address_filter_selects_that_address_in_either_spelling(admin, events):
    def listed(query: str) -> list[int]:
        response = admin.get(f"{SIGN_INS}?{query}")
        assert response.status_code == 200
        return [event.pk for event in response.context["cl"].result_list]

    assert listed("ip_address=203.0.113.9") == [events.v4.pk]
    assert listed("ip_address=2001:DB8:0:0::0001") == [events.v6.pk]
    assert 'name="ip_address"' in admin.get(SIGN_INS).content.decode()  # a box of the filter column


@pytest.mark.parametrize(("url", "query", "count"), [
    (SIGN_INS, "created_at__year=2026&created_at__month=12&created_at__day=6", 2),
    (SIGN_INS, "result_code=AADB2C90225", 1),
    (SIGN_INS, "policy_id__isnull=True", 0),
    (AUDIT, "action=user.create&target_type=accounts.User", 1),
    (AUDIT, f"created_at__gte={quote('2026-12-06 00:00:00+00:00')}&created_at__lt={quote('2026-12-07 00:00:00+00:00')}",
     1),
    (AUDIT, "created_at__year=2026", 1),
])
def test_the_filters_each_list_offers_still_work(admin, events, url, query, count):
    response = admin.get(f"{url}?{query}")
    assert response.status_code == 200
    assert response.context["cl"].result_count == count
    assert not list(response.context["messages"])
