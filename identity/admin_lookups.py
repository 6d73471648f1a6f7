"""The log lists' query parameters: each one is a filter the page offers, or a refusal with its message.

Django's changelist also applies any query parameter that names a field (`?ip_address=notanip`,
`?sign_in_name__regex=(`, `?details__contains=x`) and lets the database judge the value: PostgreSQL
refuses an inet or a regular expression it cannot read, SQLite a JSON lookup it lacks, and the page was a
500. Its date drill-down computes the next year or day of 9999-12-31 and fails the same way, and a
value Django cannot convert sends the admin back to the unfiltered list without a word. Here a parameter
no filter of the page takes is refused, the date drill-down and NUL characters are checked first, and
every refusal says why (the list is shown unfiltered), as the sign-in log's own filters do.
"""

from datetime import datetime, timedelta
from typing import NoReturn

from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, SEARCH_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from identity.text import echo


class RefusedLookup(IncorrectLookupParameters):
    """A query parameter refused with a message already shown to the admin."""


def refuse(request: HttpRequest, message: str) -> NoReturn:
    messages.error(request, message)
    raise RefusedLookup(message)


def not_a_filter(parameter: str) -> str:
    return (f"'{echo(parameter)}' is not a filter of this list: use the filters on the right or the search box. "
            "The list is shown unfiltered.")


def _drill_down_bounds(year: str, month: str | None, day: str | None) -> tuple[datetime, datetime]:
    """The range the date drill-down selects, as Django computes it; ValueError/OverflowError if none."""
    start = datetime(int(year), int(month or 1), int(day or 1))
    if day:
        return start, start + timedelta(days=1)
    if month:
        return start, (start + timedelta(days=32)).replace(day=1)
    return start, start.replace(year=start.year + 1)


class StrictChangeList(ChangeList):
    def get_filters(self, request: HttpRequest):
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                if key == SEARCH_VAR:  # Django's search form has said so, and would search for nothing
                    raise RefusedLookup("Null characters are not allowed.")
                refuse(request, "Null characters are not allowed in a filter.")
        self._check_drill_down(request)
        filter_specs, has_filters, remaining, duplicates, active = super().get_filters(request)
        drilled = bool(self.date_hierarchy) and f"{self.date_hierarchy}__year" in self.filter_params
        own = {f"{self.date_hierarchy}__gte", f"{self.date_hierarchy}__lt"} if drilled else set()
        unknown = sorted(set(remaining) - own)
        if unknown:
            refuse(request, not_a_filter(unknown[0]))
        return filter_specs, has_filters, remaining, duplicates, active

    def _check_drill_down(self, request: HttpRequest) -> None:
        if not self.date_hierarchy:
            return
        parts = [self.filter_params.get(f"{self.date_hierarchy}__{name}") for name in ("year", "month", "day")]
        year, month, day = (values[-1] if values else None for values in parts)
        if year is None:
            return
        try:
            _drill_down_bounds(year, month, day)
        except (ValueError, OverflowError):
            date = "-".join(echo(part) for part in (year, month, day) if part)
            refuse(request, f"'{date}' is not a date this list can show. The list is shown unfiltered.")


class StrictLookupsMixin:
    """For a ModelAdmin: its list refuses, with a message, every query parameter it does not offer."""

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return StrictChangeList

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # Django's own rule (no filtering through relations the list does not offer), as a message instead
        # of a bare 400.
        if not super().lookup_allowed(lookup, value, request):
            refuse(request, not_a_filter(lookup))
        return True

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if ERROR_FLAG in request.GET and len(request.GET) > 1:
            # Django takes a refusal with its error flag already set for a broken database ("Database error"
            # page): judge the filters again without the flag, so a refusal says what it refuses.
            query = request.GET.copy()
            del query[ERROR_FLAG]
            return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
        return super().changelist_view(request, extra_context)

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        try:
            return super().get_changelist_instance(request)
        except RefusedLookup:
            raise
        except IncorrectLookupParameters as exc:  # Django's own refusal, which says nothing
            messages.error(request, f"{_reason(exc)} The list is shown unfiltered.")
            raise


def _reason(exc: IncorrectLookupParameters) -> str:
    cause = exc.args[0] if exc.args else exc.__cause__
    if isinstance(cause, ValidationError):
        return "A filter value is not valid: " + " ".join(cause.messages)
    if cause is None:
        return "That page or filter does not exist."
    return f"A filter value is not valid: {echo(str(cause))}."
