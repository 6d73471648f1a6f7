"""Admin for the logs (SPEC §6): audit events and sign-in events, read-only, with a chart of sign-ins.

The sign-in log shows who (linked to the user), which app (its name, linked to the registration), the
result and why a refusal was refused, filtered by user, app, result and time range
(`?user=<object id>` is a user's sign-in activity), exported as CSV with the same filters. The chart
is server-rendered SVG (no scripts, no CDN) over whatever the filters and search select.
"""

import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from accounts.models import User
from applications.models import Application
from audit.admin_filters import (
    GRANT_LABELS,
    AppFilter,
    GrantFilter,
    IpFilter,
    ResultFilter,
    TimeRangeFilter,
    UserFilter,
    describe_filters,
)
from audit.chart import sign_in_chart
from audit.export import EXPORT_MAX_ROWS, csv_response
from audit.models import AuditEvent, SignInEvent
from audit.retention import oldest_beyond_retention
from audit.selectors import with_app
from audit.unknown_names import hide_sign_in_name, is_hidden, short_form
from identity.admin import ReadOnlyAdmin
from identity.admin_display import header, moment_html


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["time", "actor_label", "action", "target_type", "target_repr"]
    list_filter = ["created_at", "action", "target_type"]
    search_fields = ["actor_label", "action", "target_repr", "target_id"]
    date_hierarchy = "created_at"
    fields = ["time", "actor_label", "action", "target_type", "target_id", "target_repr", "details_pretty"]
    readonly_fields = ["time", "details_pretty"]

    @admin.display(description="time", ordering="created_at")
    def time(self, obj: AuditEvent) -> str:
        return moment_html(obj.created_at)

    @admin.display(description="details")
    def details_pretty(self, obj: AuditEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.details, indent=2, sort_keys=True, ensure_ascii=False))


def sign_in_activity_url(user: User) -> str:
    """A user's sign-in activity: the log filtered to them (for a link on the user's page)."""
    return f"{reverse('admin:audit_signinevent_changelist')}?{urlencode({'user': str(user.object_id)})}"


def app_sign_ins_url(application: Application) -> str:
    """An app's sign-ins: the log filtered to its client id (for a link on the app's page)."""
    return f"{reverse('admin:audit_signinevent_changelist')}?{urlencode({'app': application.client_id})}"


def _admin_url(name: str, pk: object) -> str | None:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # that model's admin is not registered (or is named otherwise)
        return None


@admin.register(SignInEvent)
class SignInEventAdmin(ReadOnlyAdmin):
    change_list_template = "admin/audit/signinevent/change_list.html"
    # The key columns only, to fit at 1366 px; the grant type is a filter, and on each event's page.
    list_display = ["time", "who", "app", "result", "reason", "ip"]
    list_filter = [ResultFilter, UserFilter, AppFilter, TimeRangeFilter, IpFilter, GrantFilter, "result_code",
                   "policy_id"]
    list_select_related = ["user"]
    search_fields = ["sign_in_name", "client_id", "ip_address", "result_code", "error", "failure_reason", "policy_id"]
    search_help_text = ("Sign-in name (also one that matches no user, kept hidden), client id, IP address, error code "
                        "or text, policy.")
    date_hierarchy = "created_at"
    # No COUNT(*) of the whole table beside the filtered count: the log only grows.
    show_full_result_count = False
    fields = ["time", "outcome", "who", "sign_in_name", "app", "client_id", "grant", "policy_id", "ip_address",
              "error", "result_code", "failure_reason"]
    readonly_fields = ["time", "outcome", "who", "app", "grant"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SignInEvent]:
        return with_app(super().get_queryset(request))

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Also the attempts on the searched name when it matches no user: stored only as its keyed hash."""
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            results |= queryset.filter(sign_in_name=hide_sign_in_name(search_term))
        return results, duplicates

    @admin.display(description=header("Time", "When the token request was answered"), ordering="created_at")
    def time(self, obj: SignInEvent) -> str:
        return moment_html(obj.created_at)

    @admin.display(description=header("User", "The account the request named (linked), else the sign-in name typed"))
    def who(self, obj: SignInEvent) -> str:
        if obj.user is not None:
            # An admin sign-in names an admin account: its page is under Administrators.
            page = "admin:accounts_adminaccount_change" if obj.user.is_staff else "admin:accounts_user_change"
            url = _admin_url(page, obj.user.pk)
            text = str(obj.user)
            title = f"{obj.user.get_full_name() or text} · object id {obj.user.object_id}"
            if url:
                return format_html('<a class="tf-cut" href="{}" title="{}">{}</a>', url, title, text)
            return format_html('<span class="tf-cut" title="{}">{}</span>', title, text)
        if is_hidden(obj.sign_in_name):
            return format_html('<span class="tf-cut" title="{}: a sign-in name no account has, kept only as a keyed '
                               'hash (it may be a mistyped password); the same name typed again shows the same #. '
                               'Search for a name to find its attempts.">{}</span>',
                               obj.sign_in_name, short_form(obj.sign_in_name))
        if obj.sign_in_name:
            return format_html('<span class="tf-cut" title="{}: no account has this sign-in name">{}</span>',
                               obj.sign_in_name, obj.sign_in_name)
        return format_html('<span title="{}">—</span>', "App-only (client credentials)"
                           if obj.grant_type == "client_credentials" else "No user named")

    @admin.display(description=header("App", "The app registration the client id names (linked)"))
    def app(self, obj: SignInEvent) -> str:
        name, pk = getattr(obj, "app_name", None), getattr(obj, "app_pk", None)
        url = _admin_url("admin:applications_application_change", pk) if pk else None
        if name is not None and url:
            return format_html('<a class="tf-cut" href="{}" title="{} · client id {}">{}</a>',
                               url, name, obj.client_id, name)
        if obj.client_id:
            # No registration has this client id (any more): its start, the whole id on hover.
            return format_html('<span title="Unregistered client id {}">{}…</span>', obj.client_id, obj.client_id[:8])
        return "—"

    @admin.display(description=header("Result", "Success, or the B2C error code (else the OAuth error) of a refusal"),
                   ordering="succeeded")
    def result(self, obj: SignInEvent) -> str:
        if obj.succeeded:
            return format_html('<span class="tf-ok">{}</span>', "Success")
        return format_html('<span class="tf-fail tf-cut" title="{}">{}</span>', obj.error, obj.result_code or obj.error)

    @admin.display(description="grant type")
    def grant(self, obj: SignInEvent) -> str:
        label = GRANT_LABELS.get(obj.grant_type)
        return f"{label} ({obj.grant_type})" if label else obj.grant_type or "—"

    @admin.display(description="result")
    def outcome(self, obj: SignInEvent) -> str:
        return "Success" if obj.succeeded else "Failure"

    @admin.display(description=header("Reason", "Why the request was refused (the whole text on hover)"))
    def reason(self, obj: SignInEvent) -> str:
        text = obj.failure_reason or ("" if obj.succeeded else obj.error)
        return format_html('<span class="tf-cut" title="{}">{}</span>', text, text) if text else ""

    @admin.display(description=header("IP", "The client's IP address"), ordering="ip_address")
    def ip(self, obj: SignInEvent) -> str:
        if not obj.ip_address:
            return "—"
        return format_html('<span class="tf-cut" title="{}">{}</span>', obj.ip_address, obj.ip_address)

    def get_urls(self) -> list:
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="audit_signinevent_export"),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The changelist's selection (filters, search, date drill-down, order) as CSV."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        changelist_url = reverse("admin:audit_signinevent_changelist")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:  # a filter did not parse: its message says why
            return HttpResponseRedirect(f"{changelist_url}?{ERROR_FLAG}=1")
        if changelist.result_count > EXPORT_MAX_ROWS:
            messages.error(request, f"The filters select {changelist.result_count:,} sign-in events; the export "
                           f"is limited to {EXPORT_MAX_ROWS:,}. Narrow the time range, or use "
                           "`manage.py signins --json`.")
            return HttpResponseRedirect(changelist_url + changelist.get_query_string())
        return csv_response(changelist.queryset)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # The log is a wide table: the page gives it the width the app menu would take (breadcrumbs and
        # the home page still lead everywhere), so the key columns fit at 1366 px.
        extra_context = {"title": "Sign-in events", "is_nav_sidebar_enabled": False, **(extra_context or {})}
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:  # absent when the request was redirected (e.g. a bad filter)
            selection = describe_filters(changelist)
            response.context_data["chart"] = sign_in_chart(changelist.queryset, selection)
            response.context_data["selection"] = selection
            response.context_data["export_url"] = (
                reverse("admin:audit_signinevent_export") + changelist.get_query_string()
            )
            response.context_data["export_max_rows"] = EXPORT_MAX_ROWS
            response.context_data["retention_days"] = settings.SIGN_IN_EVENTS_RETENTION_DAYS
            response.context_data["purge_overdue"] = oldest_beyond_retention(settings.SIGN_IN_EVENTS_RETENTION_DAYS)
        return response
