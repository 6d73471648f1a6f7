"""Times as an admin reads them (identity/admin_display.py; issue 17 item 11): seconds and zone, the ISO
instant on hover."""

from datetime import UTC, datetime

from django.utils import timezone

from identity.admin_display import header, moment_html, moment_text

AT = datetime(2026, 12, 6, 23, 1, 5, 250000, tzinfo=UTC)


def test_a_moment_has_seconds_and_its_zone():
    assert moment_text(AT) == "2026-12-06 23:01:05 UTC"
    assert moment_text(None) == ""


def test_a_moment_on_a_page_carries_its_iso_instant_for_machines_and_on_hover():
    assert moment_html(AT) == ('<time datetime="2026-12-06T23:01:05.250000Z" title="2026-12-06T23:01:05.250000Z">'
                               "2026-12-06 23:01:05 UTC</time>")
    assert moment_html(None) == "—" and moment_html(None, empty="never") == "never"


def test_a_moment_is_shown_in_the_current_time_zone_with_that_zones_name():
    with timezone.override("Europe/Berlin"):
        assert moment_text(AT) == "2026-12-07 00:01:05 CET"
        html = moment_html(AT)
        assert "2026-12-07 00:01:05 CET" in html and 'datetime="2026-12-06T23:01:05.250000Z"' in html


def test_a_short_header_explains_itself_on_hover_and_escapes():
    assert header("ROPC", 'a "quoted" <b>') == '<span title="a &quot;quoted&quot; &lt;b&gt;">ROPC</span>'
