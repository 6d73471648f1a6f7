"""How the admin shows moments (issue 17 item 11): seconds and zone, the ISO value on hover."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString


def iso_utc(moment: datetime) -> str:
    """As Microsoft Graph writes times: UTC, seconds, a trailing Z."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def moment_text(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def moment_html(moment: datetime | None, empty: str = "—") -> SafeString | str:
    """`2026-12-06 23:01:05 UTC`, with the exact ISO instant as a tooltip and machine-readable value."""
    if moment is None:
        return empty
    iso = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return format_html('<time datetime="{}" title="{}">{}</time>', iso, iso, moment_text(moment))


def header(label: str, help_text: str) -> SafeString:
    """A short column header that explains itself on hover (tables fit at 1366 px; issue 17 item 14)."""
    return format_html('<span title="{}">{}</span>', help_text, label)
