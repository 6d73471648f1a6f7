"""Admin for the logs (SPEC §6): audit events and sign-in events, read-only, with a chart of sign-ins.

The chart is server-rendered SVG (no scripts, no CDN): successes and failures per hour or per day
over whatever the changelist's filters and search select.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import admin
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html

from audit.models import AuditEvent, SignInEvent
from identity.admin import ReadOnlyAdmin

CHART_MAX_BARS = 60
CHART_HEIGHT = 120
BAR_WIDTH = 12


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "target_type", "target_repr"]
    list_filter = ["created_at", "action", "target_type"]
    search_fields = ["actor_label", "action", "target_repr", "target_id"]
    date_hierarchy = "created_at"
    fields = ["created_at", "actor_label", "action", "target_type", "target_id", "target_repr", "details_pretty"]
    readonly_fields = ["details_pretty"]

    @admin.display(description="details")
    def details_pretty(self, obj: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.details, indent=2, sort_keys=True, ensure_ascii=False))


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


def sign_in_chart(queryset: QuerySet) -> dict | None:
    """Successes and failures per hour (spans up to two days) or per day, for the latest buckets."""
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
    last = max(counts)
    first = max(min(counts), last - step * (CHART_MAX_BARS - 1))
    starts = [first + step * i for i in range(int((last - first) / step) + 1)]
    peak = max(ok + failed for ok, failed in counts.values()) or 1
    bars = []
    for i, start in enumerate(starts):
        ok, failed = counts.get(start, (0, 0))
        ok_h, fail_h = round(ok * CHART_HEIGHT / peak), round(failed * CHART_HEIGHT / peak)
        local = timezone.localtime(start, tz)
        bars.append(Bar(
            start=start, label=f"{local:%Y-%m-%d %H:00}" if hourly else f"{local:%Y-%m-%d}",
            succeeded=ok, failed=failed, x=i * (BAR_WIDTH + 2),
            ok_y=CHART_HEIGHT - ok_h - fail_h, ok_height=ok_h, fail_y=CHART_HEIGHT - fail_h, fail_height=fail_h,
        ))
    return {
        "bars": bars, "per": "hour" if hourly else "day", "peak": peak, "height": CHART_HEIGHT,
        "width": len(bars) * (BAR_WIDTH + 2), "bar_width": BAR_WIDTH,
        "total_ok": sum(b.succeeded for b in bars), "total_failed": sum(b.failed for b in bars),
        "first_label": bars[0].label, "last_label": bars[-1].label,
    }


@admin.register(SignInEvent)
class SignInEventAdmin(ReadOnlyAdmin):
    change_list_template = "admin/audit/signinevent/change_list.html"
    list_display = ["created_at", "sign_in_name", "client_id", "policy_id", "grant_type", "ip_address", "outcome",
                    "result_code", "error"]
    list_filter = ["succeeded", "created_at", "grant_type", "result_code", "policy_id"]
    search_fields = ["sign_in_name", "client_id", "ip_address", "result_code", "error", "policy_id"]
    date_hierarchy = "created_at"

    @admin.display(boolean=True, description="succeeded", ordering="succeeded")
    def outcome(self, obj: SignInEvent) -> bool:
        return obj.succeeded

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:  # absent when the request was redirected (e.g. a bad filter)
            response.context_data["chart"] = sign_in_chart(changelist.queryset)
        return response
