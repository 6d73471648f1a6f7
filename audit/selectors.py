"""Reads of the sign-in log: one filter for the admin's changelist, its CSV export and `manage.py signins`.

`SignInFilter.parse` turns what a person typed (a user's name or object id, an app's client id, App ID
URI or name, "success"/"failure", ISO dates) into criteria, or a ValidationError with one clear line;
`sign_in_events` applies them. The app's name is read at display time (`with_app`), never stored: the
token endpoint writes only what the request named.
"""

import ipaddress
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accounts.models import User
from accounts.selectors import user_get
from applications.models import Application
from audit.models import SignInEvent

SUCCESS, FAILURE = "success", "failure"
RESULTS = (SUCCESS, FAILURE)
MOMENT_HELP = "an ISO 8601 date or date and time, e.g. 2026-12-06 or 2026-12-06T23:00:00Z (no zone: UTC)"


@dataclass(frozen=True)
class SignInFilter:
    """What to select; every field optional. `until` is exclusive; a bare date as `until` means that whole day."""

    user: User | None = None
    client_ids: tuple[str, ...] | None = None
    succeeded: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    ip_address: str | None = None

    @classmethod
    def parse(
        cls, *, user: str = "", app: str = "", result: str = "", since: str = "", until: str = "",
        ip_address: str = "",
    ) -> "SignInFilter":
        criteria = cls(
            user=user_get(user) if user.strip() else None,
            client_ids=app_client_ids(app) if app.strip() else None,
            succeeded=parse_result(result) if result.strip() else None,
            ip_address=parse_ip(ip_address) if ip_address.strip() else None,
            since=parse_moment(since, name="since") if since.strip() else None,
            until=parse_moment(until, name="until", end_of_day=True) if until.strip() else None,
        )
        if criteria.since and criteria.until and criteria.since >= criteria.until:
            raise ValidationError(f"'since' ({since.strip()}) must be before 'until' ({until.strip()}).",
                                  code="empty_range")
        return criteria


def sign_in_events(criteria: SignInFilter, queryset: QuerySet[SignInEvent] | None = None) -> QuerySet[SignInEvent]:
    """The events `criteria` selects, newest first unless `queryset` is already ordered."""
    events = SignInEvent.objects.all() if queryset is None else queryset
    if criteria.user is not None:
        # Password attempts refused before any account was read are named by the writer (sign_in_buffer).
        events = events.filter(user=criteria.user)
    if criteria.client_ids is not None:
        events = events.filter(client_id__in=criteria.client_ids)
    if criteria.succeeded is not None:
        events = events.filter(succeeded=criteria.succeeded)
    if criteria.ip_address is not None:
        events = events.filter(ip_address=criteria.ip_address)
    if criteria.since is not None:
        events = events.filter(created_at__gte=criteria.since)
    if criteria.until is not None:
        events = events.filter(created_at__lt=criteria.until)
    return events


def with_app(events: QuerySet[SignInEvent]) -> QuerySet[SignInEvent]:
    """Each event with `app_name` and `app_pk` of the registration its client id names (None if none
    does), as subqueries on the unique client id: no join, no query per row."""
    apps = Application.objects.filter(client_id=OuterRef("client_id"))
    return events.annotate(
        app_name=Subquery(apps.values("name")[:1]), app_pk=Subquery(apps.values("pk")[:1])
    )


def app_client_ids(identifier: str) -> tuple[str, ...]:
    """The client ids an app identifier names: a client id itself (registered or not: the log keeps
    requests from unknown clients too), else the app with that App ID URI, else the apps of that name."""
    identifier = identifier.strip()
    try:
        return (str(uuid.UUID(identifier)),)
    except ValueError:
        pass
    found = tuple(
        Application.objects.filter(Q(app_id_uri__iexact=identifier) | Q(name__iexact=identifier))
        .order_by("client_id").values_list("client_id", flat=True)
    )
    if not found:
        raise ValidationError(f"Unknown application '{identifier}': give its client id, App ID URI or name.",
                              code="unknown_application")
    return found


def parse_result(value: str) -> bool:
    value = value.strip().lower()
    if value not in RESULTS:
        raise ValidationError(f"Unknown result '{value}': use {' or '.join(RESULTS)}.", code="bad_result")
    return value == SUCCESS


def parse_ip(value: str) -> str:
    """One IP address, normalised as the log keeps it (IPv6 compressed, lower-case)."""
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValidationError(f"'{value[:64]}' is not an IP address: give one such as 203.0.113.9 or 2001:db8::1.",
                              code="bad_ip") from None


def parse_moment(value: str, *, name: str, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time; without a zone it is in the current time zone (UTC unless set).
    A bare date is its midnight, or the next midnight with `end_of_day` (so `until=2026-12-06` includes that day)."""
    value = value.strip()
    moment = day = None
    try:
        # A bare date first: Python's fromisoformat (which parse_datetime tries) reads one as its midnight.
        day = parse_date(value)
        if day is None:
            moment = parse_datetime(value.replace(" ", "T", 1))
    except ValueError:  # well formed but impossible, e.g. 2026-02-30
        pass
    if moment is None and day is None:
        raise ValidationError(f"'{value}' is not a valid {name}: use {MOMENT_HELP}.", code="bad_moment")
    try:
        if moment is None:
            moment = datetime.combine(day + timedelta(days=1) if end_of_day else day, time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        moment.astimezone(UTC)  # the database stores UTC: a moment that has none is refused here
    except (OverflowError, ValueError):  # the last day of year 9999, or a zone that takes it past it
        raise ValidationError(f"'{value}' is out of range for a {name}.", code="bad_moment") from None
    return moment
