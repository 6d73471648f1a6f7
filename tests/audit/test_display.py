"""Times as an admin reads them (audit/display.py): seconds and zone, the ISO value on hover."""

from datetime import UTC, datetime

from django.utils import timezone

from audit.display import moment, moment_html

AT = datetime(2026, 12, 6, 23, 1, 5, 250000, tzinfo=UTC)


def test_a_moment_has_seconds_and_its_zone():
    assert moment(AT) == "2026-12-06 23:01:05 UTC"
    assert moment(None) == ""


def test_a_moment_on_a_page_carries_its_iso_value_for_machines_and_on_hover():
    assert moment_html(AT) == ('<time datetime="2026-12-06T23:01:05+00:00" title="2026-12-06T23:01:05.250000+00:00">'
                               "2026-12-06 23:01:05 UTC</time>")
    assert moment_html(None) == "—"


def test_a_moment_is_shown_in_the_current_time_zone_with_that_zones_name():
    with timezone.override("Europe/Berlin"):
        assert moment(AT) == "2026-12-07 00:01:05 CET"
        assert 'datetime="2026-12-07T00:01:05+01:00"' in moment_html(AT)
