"""The sign-in log's one filter (audit/selectors.py), shared by the admin and `manage.py signins`."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from applications import services as applications
from audit.models import SignInEvent
from audit.selectors import SignInFilter, app_client_ids, parse_moment, sign_in_events, with_app
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-12-06", datetime(2026, 12, 6, tzinfo=UTC)),
    ("2026-12-06T23:01", datetime(2026, 12, 6, 23, 1, tzinfo=UTC)),
    ("2026-12-06 23:01:05", datetime(2026, 12, 6, 23, 1, 5, tzinfo=UTC)),
    ("2026-12-06T23:01:05Z", datetime(2026, 12, 6, 23, 1, 5, tzinfo=UTC)),
    ("2026-12-07T00:01:05+01:00", datetime(2026, 12, 6, 23, 1, 5, tzinfo=UTC)),
])
def test_a_moment_is_an_iso_date_or_date_time_in_utc_unless_it_names_a_zone(value, expected):
    assert parse_moment(value, name="since") == expected


def test_a_bare_date_as_the_end_of_a_range_is_the_end_of_that_day():
    assert parse_moment("2026-12-06", name="until", end_of_day=True) == datetime(2026, 12, 7, tzinfo=UTC)
    assert parse_moment("2026-12-06T10:00", name="until", end_of_day=True) == datetime(2026, 12, 6, 10, tzinfo=UTC)


def test_a_moment_without_a_zone_is_in_the_current_time_zone():
    with timezone.override("Europe/Berlin"):
        assert parse_moment("2026-12-06T01:00", name="since") == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "2026-12-06T25:00", "06/12/2026"])
def test_a_moment_that_does_not_parse_says_what_to_write(value):
    with pytest.raises(ValidationError) as excinfo:
        parse_moment(value, name="since")
    assert excinfo.value.messages == [
        f"'{value}' is not a valid since: use an ISO 8601 date or date and time, e.g. 2026-12-06 or "
        "2026-12-06T23:00:00Z (no zone: UTC)."]


def test_no_criteria_select_everything():
    assert SignInFilter.parse() == SignInFilter()
    SignInEvent.objects.create(created_at=timezone.now())
    assert sign_in_events(SignInFilter()).count() == 1


def test_an_app_name_shared_by_two_registrations_selects_both(native_app):
    twin = applications.application_register(actor=ACTOR, name="Native app", public=True)
    assert set(app_client_ids("native app")) == {native_app.client_id, twin.client_id}


def test_an_event_of_a_deleted_app_keeps_its_client_id_and_has_no_name(native_app):
    SignInEvent.objects.create(created_at=timezone.now(), client_id=native_app.client_id)
    client_id = native_app.client_id
    native_app.delete()
    event = with_app(SignInEvent.objects.all()).get()
    assert (event.client_id, event.app_name, event.app_pk) == (client_id, None, None)


def test_the_range_selects_since_inclusive_until_exclusive():
    start = datetime(2026, 12, 6, tzinfo=UTC)
    for minutes in (0, 30, 60):
        SignInEvent.objects.create(created_at=start + timedelta(minutes=minutes))
    criteria = SignInFilter.parse(since="2026-12-06T00:00Z", until="2026-12-06T01:00Z")
    assert sorted(sign_in_events(criteria).values_list("created_at", flat=True)) == [
        start, start + timedelta(minutes=30)]


@pytest.mark.parametrize("value", ["9999-12-31", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_moment_out_of_range_is_refused_in_words_not_a_500(value):
    with pytest.raises(ValidationError, match="out of range"):
        parse_moment(value, name="until", end_of_day=True)
