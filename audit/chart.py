"""The sign-in chart (SPEC §6): successes and failures per hour or per day, drawn as server-side SVG.

Labelled with what it really shows: the first and last bucket with date, time and zone, the bucket
size, how many buckets (only the latest CHART_MAX_BARS are drawn), and what the page's filters select.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

CHART_MAX_BARS = 60
CHART_HEIGHT = 120
BAR_WIDTH = 12


@dataclass(frozen=True)
class Bar:
    """One bucket of the chart, with its geometry precomputed so the template only draws."""

    start: datetime
    label: str
    succeeded: int
    failed: int
    x: int
    ok_y: int
    ok_height: int
    fail_y: int
    fail_height: int


def bucket_label(start: datetime, step: timedelta) -> str:
    """`2026-12-06 21:00 to 22:00 UTC` for an hour, `2026-12-06 00:00 to 2026-12-07 00:00 UTC` for a day."""
    local, end = timezone.localtime(start), timezone.localtime(start + step)
    end_text = f"{end:%H:%M}" if step == timedelta(hours=1) else f"{end:%Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d %H:%M} to {end_text} {end.tzname()}"


def edge(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def sign_in_chart(queryset: QuerySet, selection: list[str] | None = None) -> dict | None:
    """Successes and failures per hour (spans up to two days) or per day, for the latest buckets.

    `selection` describes what the filters select (one phrase per filter); the chart repeats it.
    """
    events = queryset.order_by()
    span = events.aggregate(first=Min("created_at"), last=Max("created_at"))
    if span["first"] is None:
        return None
    hourly = span["last"] - span["first"] <= timedelta(days=2)
    step, trunc = (timedelta(hours=1), TruncHour) if hourly else (timedelta(days=1), TruncDay)
    tz = timezone.get_current_timezone()
    counts = {
        row["bucket"]: (row["ok"], row["failed"])
        for row in events.annotate(bucket=trunc("created_at", tzinfo=tz)).values("bucket").annotate(
            ok=Count("id", filter=Q(succeeded=True)), failed=Count("id", filter=Q(succeeded=False)),
        )
    }
    last, earliest = max(counts), min(counts)
    first = max(earliest, last - step * (CHART_MAX_BARS - 1))
    starts = [first + step * i for i in range(int((last - first) / step) + 1)]
    peak = max(ok + failed for ok, failed in counts.values()) or 1
    bars = []
    for i, start in enumerate(starts):
        ok, failed = counts.get(start, (0, 0))
        ok_h, fail_h = round(ok * CHART_HEIGHT / peak), round(failed * CHART_HEIGHT / peak)
        bars.append(Bar(
            start=start, label=bucket_label(start, step), succeeded=ok, failed=failed, x=i * (BAR_WIDTH + 2),
            ok_y=CHART_HEIGHT - ok_h - fail_h, ok_height=ok_h, fail_y=CHART_HEIGHT - fail_h, fail_height=fail_h,
        ))
    older = [(ok, failed) for start, (ok, failed) in counts.items() if start < first]
    return {
        "bars": bars, "per": "hour" if hourly else "day", "peak": peak, "height": CHART_HEIGHT,
        "width": len(bars) * (BAR_WIDTH + 2), "bar_width": BAR_WIDTH,
        "total_ok": sum(b.succeeded for b in bars), "total_failed": sum(b.failed for b in bars),
        # The range drawn: from the first bucket's start to the last bucket's end.
        "from_label": edge(first), "to_label": edge(last + step), "buckets": len(bars),
        "older_buckets": len(older), "older_events": sum(ok + failed for ok, failed in older),
        "selection": selection or [],
    }
