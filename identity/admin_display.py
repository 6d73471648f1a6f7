"""How the admin shows moments (issue 17 item 11): seconds and zone, the ISO value on hover."""

from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString


def moment_text(moment: datetime | None) -> str:
    """`2026-12-06 23:01:05 UTC`: seconds and the zone's name, in the current time zone; "" for None."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def moment_html(moment: datetime | None, empty: str = "—") -> SafeString | str:
    """`moment_text` with the exact instant as ISO 8601 in UTC, machine-readable and on hover."""
    if moment is None:
        return empty
    iso = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return format_html('<time datetime="{}" title="{}">{}</time>', iso, iso, moment_text(moment))


def header(label: str, help_text: str) -> SafeString:
    """A short column header that explains itself on hover (tables fit at 1366 px; issue 17 item 14)."""
    return format_html('<span title="{}">{}</span>', help_text, label)


def propagation() -> str:
    """How soon an admin change reaches every process (the directory cache's window), in words."""
    seconds = settings.DIRECTORY_CACHE_SECONDS
    return "a second" if seconds == 1 else f"{seconds:g} seconds"
