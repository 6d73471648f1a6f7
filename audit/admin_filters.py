"""The sign-in log's filters: result, user, app and time range, each a query parameter the admin's
changelist, its CSV export and its pagination links carry (`?user=<object id>&result=failure&since=…`).

They parse and apply through audit.selectors, the code path `manage.py signins` uses; a value that does
not parse is refused with its one-line message (and the list shown unfiltered), never silently ignored.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from audit.selectors import FAILURE, SUCCESS, SignInFilter, sign_in_events
from audit.sign_in_buffer import ADMIN_GRANT_TYPE
from identity.admin_display import moment_text
from identity.admin_lookups import refuse

GRANT_LABELS = {"password": "ROPC", "refresh_token": "Refresh", "client_credentials": "Client credentials",
                ADMIN_GRANT_TYPE: "Admin sign-in"}


def _refuse(request: HttpRequest, exc: ValidationError) -> None:
    refuse(request, " ".join(exc.messages))


class InputFilter(admin.ListFilter):
    """A filter typed into a box, for values too many to list (users, apps, times)."""

    template = "admin/audit/input_filter.html"
    parameters: tuple[tuple[str, str, str], ...] = ()  # (query parameter, label, placeholder)
    input_type = "text"

    def __init__(self, request, params, model, model_admin) -> None:
        super().__init__(request, params, model, model_admin)
        for name, _, _ in self.parameters:
            value = params.pop(name, [""])[-1].strip()  # an empty box submitted: no filter
            if value:
                self.used_parameters[name] = value
        try:
            self.criteria = SignInFilter.parse(**self.used_parameters)
        except ValidationError as exc:
            _refuse(request, exc)

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [name for name, _, _ in self.parameters]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return sign_in_events(self.criteria, queryset)

    def choices(self, changelist):
        """One "choice": the form's fields, the other parameters to carry along, and a link that clears it."""
        mine = set(self.expected_parameters())
        yield {
            "fields": [
                {"name": name, "label": label, "placeholder": placeholder, "value": self.used_parameters.get(name, "")}
                for name, label, placeholder in self.parameters
            ],
            "input_type": self.input_type,
            "carried": [(k, v) for k, values in changelist.filter_params.items() if k not in mine for v in values],
            "clear_url": changelist.get_query_string(remove=list(mine)) if self.used_parameters else None,
        }

    def describe(self) -> str:
        """What this filter selects, in words (for the chart's caption)."""
        return ", ".join(f"{label.lower()} {self.used_parameters[name]}"
                         for name, label, _ in self.parameters if self.used_parameters.get(name))


class UserFilter(InputFilter):
    title = "user"
    parameters = (("user", "User", "object id, user name or email"),)

    def describe(self) -> str:
        user = self.criteria.user
        return f"user {user} ({user.object_id})" if user else ""


class AppFilter(InputFilter):
    title = "app"
    parameters = (("app", "App", "client id, App ID URI or name"),)


class TimeRangeFilter(InputFilter):
    title = "time range (UTC unless a zone is given)"
    parameters = (("since", "From", "2026-12-06 or 2026-12-06T21:00"), ("until", "To", "2026-12-07 (whole day)"))

    def describe(self) -> str:
        since, until = self.criteria.since, self.criteria.until
        parts = (f"from {moment_text(since)}" if since else "", f"until {moment_text(until)}" if until else "")
        return " ".join(part for part in parts if part)


class IpFilter(InputFilter):
    title = "IP address"
    parameters = (("ip_address", "IP address", "203.0.113.9 or 2001:db8::1"),)


class ResultFilter(admin.SimpleListFilter):
    title = "result"
    parameter_name = "result"

    def lookups(self, request, model_admin):
        return [(SUCCESS, "Success"), (FAILURE, "Failure")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        try:
            return sign_in_events(SignInFilter.parse(result=self.value()), queryset)
        except ValidationError as exc:
            _refuse(request, exc)


class GrantFilter(admin.SimpleListFilter):
    """The grant types we serve, listed without reading the table (a DISTINCT over every event)."""

    title = "grant"
    parameter_name = "grant"

    def lookups(self, request, model_admin):
        return list(GRANT_LABELS.items())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset if self.value() is None else queryset.filter(grant_type=self.value())


def describe_filters(changelist) -> list[str]:
    """One phrase per active filter, the search and the date drill-down: what the page selects."""
    phrases = []
    for spec in changelist.filter_specs:
        if not spec.used_parameters:
            continue
        if isinstance(spec, InputFilter):
            phrases.append(spec.describe())
        else:
            chosen = [str(c["display"]) for c in spec.choices(changelist) if c.get("selected")]
            phrases.append(f"{spec.title}: {', '.join(chosen)}")
    drill = [changelist.params.get(f"created_at__{part}") for part in ("year", "month", "day")]
    drill = [value[-1] if isinstance(value, list) else value for value in drill if value]
    if drill:
        phrases.append("date " + "-".join(part.zfill(2) for part in drill))
    if changelist.query:
        phrases.append(f'search "{changelist.query}"')
    return [phrase for phrase in phrases if phrase]
