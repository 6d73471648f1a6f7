"""Times as an admin reads them: to the second, with the zone, and the exact ISO value on hover.

A small stand-in for the site-wide helper the admin will get (issue 17 item 11): `moment` for text
(CSV, the command's lines), `moment_html` for pages.
"""

from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString


def moment(value: datetime | None) -> str:
    """`2026-12-06 23:01:05 UTC`, in the current time zone; "" for None."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def moment_html(value: datetime | None) -> SafeString | str:
    """`<time datetime="2026-12-06T23:01:05+00:00" title="…">2026-12-06 23:01:05 UTC</time>`; "—" for None."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(timespec="seconds"), local.isoformat(), moment(value),
    )
