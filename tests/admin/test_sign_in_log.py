"""The sign-in log in the web admin (issue 17 item 13): app names linked, users linked, a reason for every
refusal, filters by user, app, result and time range, CSV export, and a chart that says what it shows."""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from accounts.models import User
from audit import export
from audit.admin import app_sign_ins_url, sign_in_activity_url
from audit.models import SignInEvent
from audit.unknown_names import hide_sign_in_name
from tests.conftest import ACTOR

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§6")]

LIST = reverse("admin:audit_signinevent_changelist")
EXPORT = reverse("admin:audit_signinevent_export")
UNKNOWN_CLIENT = "00000000-0000-4000-8000-000000000000"
NOON = datetime(2026, 12, 6, 12, 0, 5, tzinfo=UTC)


def record(at: datetime = NOON, **fields) -> SignInEvent:
    values = {"created_at": at, "grant_type": "password", "policy_id": "B2C_1_ROPC_Auth", "succeeded": True,
              "ip_address": "203.0.113.9"}
    return SignInEvent.objects.create(**(values | fields))


def refused(**fields) -> SignInEvent:
    values = {"succeeded": False, "error": "invalid_grant", "result_code": "AADB2C90225",
              "failure_reason": "Wrong password."}
    return record(**(values | fields))


def listed(response) -> list[int]:
    assert response.status_code == 200, response.status_code
    return [event.pk for event in response.context["cl"].result_list]


def page(response) -> str:
    return response.content.decode()


def rows(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def bob(db):
    return accounts.user_create(actor=ACTOR, username="bob", email="bob@contoso.test", password="Correct-Horse-9")


# --- what a row shows --------------------------------------------------------------------------------------


def test_a_row_names_the_app_linked_to_its_registration_and_the_user_linked_to_theirs(admin, user, native_app):
    record(user=user, sign_in_name="alice", client_id=native_app.client_id)
    body = page(admin.get(LIST))
    app_url = reverse("admin:applications_application_change", args=[native_app.pk])
    user_url = reverse("admin:accounts_user_change", args=[user.pk])
    assert re.search(rf'<a class="tf-cut" href="{app_url}" title="Native app · client id {native_app.client_id}">'
                     r"Native app</a>", body)
    assert f'href="{user_url}"' in body and str(user.object_id) in body
    assert f">{native_app.client_id}<" not in body  # the id is on hover, not in the column


def test_an_unregistered_client_id_shows_its_start_with_the_whole_id_on_hover(admin):
    refused(client_id=UNKNOWN_CLIENT, grant_type="client_credentials", error="invalid_client",
            result_code="AADB2C90018")
    body = page(admin.get(LIST))
    assert f'<span title="Unregistered client id {UNKNOWN_CLIENT}">00000000…</span>' in body


def test_app_names_cost_no_query_per_row(admin, user, native_app, daemon_app):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(LIST).status_code == 200
        return len(ctx)

    record(user=user, client_id=native_app.client_id)
    one = queries()
    for i in range(20):
        record(at=NOON - timedelta(minutes=i), user=user, client_id=(native_app, daemon_app)[i % 2].client_id)
    assert queries() == one


def test_times_show_seconds_and_zone_with_the_iso_value_on_hover(admin):
    record()
    body = page(admin.get(LIST))
    assert ('<time datetime="2026-12-06T12:00:05Z" title="2026-12-06T12:00:05Z">'
            "2026-12-06 12:00:05 UTC</time>") in body


def test_the_column_headers_are_short_with_their_meaning_on_hover(admin):
    record()
    headers = [h["text"] for h in admin.get(LIST).context["result_headers"]]
    labels = [re.sub(r"<[^>]+>", "", str(h)) for h in headers]
    assert labels == ["Time", "User", "App", "Result", "Reason", "IP"]
    assert all('title="' in str(h) for h in headers)


def test_a_refusal_shows_its_code_and_reason_and_a_success_says_so(admin, user):
    ok = record(user=user)
    bad = refused(user=user, failure_reason="Account disabled.", result_code="AADB2C90111")
    old = refused(user=user, result_code="", error="invalid_request", failure_reason="")  # recorded before reasons
    body = page(admin.get(LIST))
    assert '<span class="tf-ok">Success</span>' in body
    assert '<span class="tf-fail tf-cut" title="invalid_grant">AADB2C90111</span>' in body
    assert '<span class="tf-cut" title="Account disabled.">Account disabled.</span>' in body
    assert '<span class="tf-cut" title="invalid_request">invalid_request</span>' in body  # the code stands in
    assert {ok.pk, bad.pk, old.pk} == set(listed(admin.get(LIST)))


def test_the_page_gives_the_table_the_width_of_the_app_menu(admin):
    record()
    body = page(admin.get(LIST))
    assert 'id="nav-sidebar"' not in body
    assert "white-space: nowrap" in body


def test_an_events_page_shows_the_reason_the_app_and_the_user(admin, user, native_app):
    event = refused(user=user, sign_in_name="alice", client_id=native_app.client_id)
    body = page(admin.get(reverse("admin:audit_signinevent_change", args=[event.pk])))
    assert "Wrong password." in body and ">Native app</a>" in body and ">alice</a>" in body
    assert "ROPC (password)" in body and "2026-12-06 12:00:05 UTC" in body


# --- filters ---------------------------------------------------------------------------------------------


def test_a_users_sign_in_activity_is_one_url_by_object_id_name_or_email(admin, user, bob):
    mine = [record(user=user).pk, refused(user=user, at=NOON - timedelta(hours=1)).pk]
    record(user=bob)
    for identifier in (str(user.object_id), "alice", "ALICE@contoso.test"):
        assert listed(admin.get(LIST, {"user": identifier})) == mine


def test_the_sign_in_activity_links_of_a_user_and_an_app_open_the_log_filtered_to_them(admin, user, bob, native_app):
    mine = record(user=user, client_id=native_app.client_id).pk
    record(user=bob)
    assert sign_in_activity_url(user) == f"{LIST}?user={user.object_id}"
    assert app_sign_ins_url(native_app) == f"{LIST}?app={native_app.client_id}"
    assert listed(admin.get(sign_in_activity_url(user))) == [mine]
    assert listed(admin.get(app_sign_ins_url(native_app))) == [mine]


def test_the_app_filter_takes_a_client_id_an_app_id_uri_or_a_name(admin, native_app, api_app):
    native = record(client_id=native_app.client_id).pk
    api = record(client_id=api_app.client_id).pk
    unknown = refused(client_id=UNKNOWN_CLIENT).pk
    assert listed(admin.get(LIST, {"app": native_app.client_id.upper()})) == [native]
    assert listed(admin.get(LIST, {"app": api_app.app_id_uri.upper()})) == [api]
    assert listed(admin.get(LIST, {"app": "native APP"})) == [native]
    assert listed(admin.get(LIST, {"app": UNKNOWN_CLIENT})) == [unknown]  # requests of unregistered clients too


def test_the_result_filter_selects_successes_or_failures(admin):
    ok, bad = record().pk, refused().pk
    assert listed(admin.get(LIST, {"result": "success"})) == [ok]
    assert listed(admin.get(LIST, {"result": "failure"})) == [bad]


def test_the_time_range_is_from_inclusive_to_exclusive_and_a_bare_to_date_is_that_whole_day(admin):
    # One event an hour from 22:00 on the 5th (index 0) to 03:00 on the 6th (index 5), UTC.
    events = [record(at=datetime(2026, 12, 5, 22, tzinfo=UTC) + timedelta(hours=hour)).pk for hour in range(6)]
    newest_first = events[::-1]
    assert listed(admin.get(LIST, {"since": "2026-12-06", "until": "2026-12-06"})) == newest_first[:4]
    assert listed(admin.get(LIST, {"since": "2026-12-05T23:00", "until": "2026-12-06T01:00:00Z"})) == [
        events[2], events[1]]
    assert listed(admin.get(LIST, {"since": "2026-12-06T01:30:00+01:00"})) == newest_first[:3]  # 00:30 UTC


@pytest.mark.parametrize(("params", "message"), [
    ({"user": "nobody"}, "Unknown user 'nobody'."),
    ({"app": "No such app"}, "Unknown application 'No such app'"),
    ({"result": "maybe"}, "Unknown result 'maybe': use success or failure."),
    ({"since": "yesterday"}, "'yesterday' is not a valid since"),
    ({"until": "2026-02-30"}, "'2026-02-30' is not a valid until"),
    ({"since": "2026-12-07", "until": "2026-12-06"}, "'since' (2026-12-07) must be before 'until' (2026-12-06)."),
])
def test_a_filter_value_that_does_not_parse_is_refused_with_its_message_never_a_500(admin, params, message):
    record()
    response = admin.get(LIST, params, follow=True)
    assert response.status_code == 200
    assert message in " ".join(str(m) for m in response.context["messages"])
    assert response.redirect_chain[-1][0].endswith("?e=1")


def test_filters_combine_and_pagination_keeps_them(admin, user, bob, native_app):
    for i in range(120):
        refused(user=user, client_id=native_app.client_id, at=NOON - timedelta(minutes=i))
    record(user=user, client_id=native_app.client_id)
    refused(user=bob, client_id=native_app.client_id)
    response = admin.get(LIST, {"user": "alice", "app": native_app.client_id, "result": "failure",
                                "since": "2026-12-06"})
    changelist = response.context["cl"]
    assert changelist.result_count == 120
    next_page = changelist.get_query_string({"p": 2})
    for part in ("user=alice", f"app={native_app.client_id}", "result=failure", "since=2026-12-06"):
        assert part in next_page


def test_a_filters_form_carries_the_other_filters_and_the_search(admin, user):
    record(user=user)
    body = page(admin.get(LIST, {"result": "failure", "q": "alice"}))
    form = body[body.index('id="tf-filter-user"') - 600:body.index('id="tf-filter-user"')]
    assert '<input type="hidden" name="result" value="failure">' in form
    assert '<input type="hidden" name="q" value="alice">' in form


# --- chart ---------------------------------------------------------------------------------------------


def test_the_chart_says_its_time_range_its_bucket_size_and_what_the_filters_select(admin, user, native_app):
    for minutes in (0, 65, 130):
        refused(user=user, client_id=native_app.client_id, at=NOON - timedelta(minutes=minutes))
    response = admin.get(LIST, {"user": "alice", "result": "failure", "app": "Native app"})
    chart = response.context["chart"]
    assert (chart["from_label"], chart["to_label"], chart["per"], chart["buckets"]) == (
        "2026-12-06 09:00 UTC", "2026-12-06 13:00 UTC", "hour", 4)
    body = " ".join(page(response).split())
    assert "Sign-ins per hour, 2026-12-06 09:00 UTC to 2026-12-06 13:00 UTC: 0 succeeded, 3 failed" in body
    assert "4 bars of one hour each." in body
    assert f"result: Failure; user alice ({user.object_id}); app Native app" in body
    assert "<title>2026-12-06 09:00 to 10:00 UTC: 0 succeeded, 1 failed</title>" in body


def test_the_chart_of_a_long_span_is_per_day_and_says_what_it_leaves_out(admin):
    for days in range(70):
        record(at=NOON - timedelta(days=days))
    chart = admin.get(LIST).context["chart"]
    assert (chart["per"], chart["buckets"], chart["older_events"]) == ("day", 60, 10)
    assert (chart["from_label"], chart["to_label"]) == ("2026-10-08 00:00 UTC", "2026-12-07 00:00 UTC")
    body = " ".join(page(admin.get(LIST)).split())
    assert "10 older events before 2026-10-08 00:00 UTC not drawn" in body


def test_the_page_says_when_nothing_is_filtered(admin):
    record()
    assert "Showing: all sign-in events (no filter)" in " ".join(page(admin.get(LIST)).split())


# --- CSV export --------------------------------------------------------------------------------------


def test_the_export_is_what_the_filters_select_streamed_as_csv(admin, user, bob, native_app):
    refused(user=user, sign_in_name="alice", client_id=native_app.client_id)
    record(user=user, sign_in_name="alice", client_id=native_app.client_id)
    refused(user=bob, sign_in_name="bob")
    body = page(admin.get(LIST, {"user": "alice", "result": "failure"}))
    assert f'href="{EXPORT}?result=failure&amp;user=alice"' in body
    response = admin.get(EXPORT, {"user": "alice", "result": "failure"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="sign-ins-\d{8}T\d{6}Z\.csv"', response["Content-Disposition"])
    exported = rows(response)
    assert exported == [{
        "time (UTC)": "2026-12-06T12:00:05Z", "result": "failure", "error code": "AADB2C90225",
        "oauth error": "invalid_grant", "failure reason": "Wrong password.", "user object id": str(user.object_id),
        "user": "alice", "sign-in name": "alice", "app": "Native app", "client id": native_app.client_id,
        "grant type": "password", "policy": "B2C_1_ROPC_Auth", "ip address": "203.0.113.9",
    }]


def test_the_export_quotes_cells_a_spreadsheet_would_run_as_formulas(admin):
    for name in ("=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "plain"):
        refused(sign_in_name=name)
    names = [row["sign-in name"] for row in rows(admin.get(EXPORT))]
    assert sorted(names) == sorted(["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "plain"])


def test_an_export_over_the_cap_is_refused_with_a_message_keeping_the_filters(admin, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_MAX_ROWS", 2)
    monkeypatch.setattr("audit.admin.EXPORT_MAX_ROWS", 2)
    for minutes in range(3):
        refused(at=NOON - timedelta(minutes=minutes))
    response = admin.get(EXPORT, {"result": "failure"}, follow=True)
    assert response.redirect_chain[0][0] == f"{LIST}?result=failure"
    assert "The filters select 3 sign-in events; the export is limited to 2." in " ".join(
        str(m) for m in response.context["messages"])
    assert len(rows(admin.get(EXPORT, {"result": "failure", "since": "2026-12-06T11:59"}))) == 2


def test_an_export_with_a_bad_filter_is_refused_not_exported_unfiltered(admin):
    record()
    response = admin.get(EXPORT, {"since": "soon"}, follow=True)
    assert not isinstance(response, StreamingHttpResponse)
    assert "'soon' is not a valid since" in " ".join(str(m) for m in response.context["messages"])


def test_the_export_needs_permission_to_view_the_log(client, db):
    staff = User.objects.create_user(username="reader", password="Reader-Pass-123", is_staff=True)
    client.force_login(staff)
    assert client.get(EXPORT).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_signinevent"))
    staff = User.objects.get(pk=staff.pk)
    client.force_login(staff)
    assert client.get(EXPORT).status_code == 200


# --- names that match no user (issue 18 item 9) ---------------------------------------------------------


def attempted(name: str, user=None) -> None:
    """A refused password attempt recorded as the token endpoint records it (the writer decides the name)."""
    from identity.oauth.signals import TokenOutcome, token_request_finished

    token_request_finished.send(sender=None, outcome=TokenOutcome(
        grant_type="password", client_id="", policy_id="B2C_1_ROPC_Auth", user_id=user.pk if user else None,
        sign_in_name=name, client_ip="203.0.113.9", error="invalid_grant", b2c_code="AADB2C90225",
        detail="Unknown sign-in name.",
    ))


def test_a_name_that_matches_no_user_shows_as_its_hash_in_the_log_the_export_and_the_command(admin, user):
    typed = "MyPassw0rd!"
    attempted(typed)
    attempted("ALICE")
    hidden = hide_sign_in_name(typed)
    body = page(admin.get(LIST))
    assert f">{hidden[:22]}…</span>" in body and "MyPassw0rd" not in body
    assert [row["sign-in name"] for row in rows(admin.get(EXPORT))] == ["ALICE", hidden]
    out = io.StringIO()
    call_command("signins", "--json", stdout=out)
    assert [e["signInName"] for e in json.loads(out.getvalue())["events"]] == ["ALICE", hidden]
    assert listed(admin.get(LIST, {"user": "alice"})) == [SignInEvent.objects.get(sign_in_name="ALICE").pk]


def test_searching_a_name_finds_its_hidden_attempts(admin, user):
    attempted("bob.typo")
    attempted("Someone-Else")
    attempted("alice")
    event = SignInEvent.objects.get(sign_in_name=hide_sign_in_name("bob.typo"))
    assert listed(admin.get(LIST, {"q": " Bob.Typo "})) == [event.pk]
    assert len(listed(admin.get(LIST, {"q": "unknown name #"}))) == 2
    assert len(listed(admin.get(LIST, {"q": "alice"}))) == 1


# --- retention (issue 18 item 9) ----------------------------------------------------------------------------


def test_the_log_says_how_long_events_are_kept_and_when_the_daily_purge_is_not_running(admin, settings):
    record(at=timezone.now() - timedelta(days=2))
    assert "Sign-in events are kept 30 days" in page(admin.get(LIST))
    assert "running daily?" not in page(admin.get(LIST))
    record(at=timezone.now() - timedelta(days=40))
    assert re.search(r"but the oldest is from \d{4}-\d\d-\d\d: is\s+<code>manage.py purgesigninevents</code> "
                     r"running daily\?", page(admin.get(LIST)))
    settings.SIGN_IN_EVENTS_RETENTION_DAYS = 0
    assert "Sign-in events are kept forever" in page(admin.get(LIST))
