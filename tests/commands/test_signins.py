"""`manage.py signins` (issue 17 item 18): the sign-in log on the command line, filtered as the admin's is."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts import services as accounts
from audit.models import SignInEvent
from tests.conftest import ACTOR

pytestmark = pytest.mark.spec("SPEC.md", "§7")

NOON = datetime(2026, 12, 6, 12, 0, 5, tzinfo=UTC)


def record(at: datetime = NOON, **fields) -> SignInEvent:
    values = {"created_at": at, "grant_type": "password", "policy_id": "B2C_1_ROPC_Auth", "succeeded": True,
              "ip_address": "203.0.113.9"}
    return SignInEvent.objects.create(**(values | fields))


def refused(**fields) -> SignInEvent:
    values = {"succeeded": False, "error": "invalid_grant", "result_code": "AADB2C90225",
              "failure_reason": "Wrong password."}
    return record(**(values | fields))


def ids(data: dict) -> list[str]:
    return [event["id"] for event in data["events"]]


def test_json_lists_events_newest_first_in_graphs_signin_shape(run, user, native_app):
    ok = record(user=user, sign_in_name="alice", client_id=native_app.client_id)
    bad = refused(user=user, sign_in_name="alice", client_id=native_app.client_id, at=NOON - timedelta(minutes=1))
    data = run.json("signins")
    assert ids(data) == [str(ok.pk), str(bad.pk)] and data["truncated"] is False
    assert data["events"][1] == {
        "id": str(bad.pk), "createdDateTime": "2026-12-06T11:59:05Z", "result": "failure",
        "userId": str(user.object_id), "userPrincipalName": "alice", "signInName": "alice",
        "appId": native_app.client_id, "appDisplayName": "Native app", "ipAddress": "203.0.113.9",
        "grantType": "password", "policyId": "B2C_1_ROPC_Auth",
        "status": {"errorCode": "AADB2C90225", "error": "invalid_grant", "failureReason": "Wrong password."},
    }
    assert data["events"][0]["status"] == {"errorCode": None, "error": None, "failureReason": None}


def test_the_filters_are_the_admins(run, user, native_app, daemon_app):
    bob = accounts.user_create(actor=ACTOR, username="bob", password="Correct-Horse-9")
    mine = refused(user=user, client_id=native_app.client_id)
    record(user=user, client_id=native_app.client_id, at=NOON - timedelta(days=2))
    refused(user=bob, client_id=native_app.client_id)
    record(client_id=daemon_app.client_id, grant_type="client_credentials")
    assert ids(run.json("signins", "--user", str(user.object_id), "--result", "failure")) == [str(mine.pk)]
    assert ids(run.json("signins", "--user", "alice", "--since", "2026-12-06", "--until", "2026-12-06")) == [
        str(mine.pk)]
    assert len(run.json("signins", "--app", "Native app")["events"]) == 3
    assert len(run.json("signins", "--app", daemon_app.client_id, "--result", "success")["events"]) == 1
    other_ip = record(ip_address="2001:db8::1")
    assert ids(run.json("signins", "--ip", "2001:DB8:0::0001")) == [str(other_ip.pk)]


def test_the_limit_keeps_the_newest_and_says_more_match(run):
    for minutes in range(5):
        record(at=NOON - timedelta(minutes=minutes))
    data = run.json("signins", "--limit", "2")
    assert len(data["events"]) == 2 and data["truncated"] is True
    assert data["events"][0]["createdDateTime"] == "2026-12-06T12:00:05Z"
    assert "more match" in run("signins", "--limit", "2")


def test_the_human_output_is_one_line_per_event(run, user, native_app):
    refused(user=user, client_id=native_app.client_id)
    out = run("signins")
    assert out.strip() == (
        "2026-12-06 12:00:05 UTC  failure AADB2C90225  alice  Native app  password  203.0.113.9  Wrong password."
    )
    SignInEvent.objects.all().delete()
    assert run("signins").strip() == "No sign-in events match."


@pytest.mark.parametrize(("args", "message"), [
    (["--user", "nobody"], "Unknown user 'nobody'."),
    (["--app", "Nope"], "Unknown application 'Nope': give its client id, App ID URI or name."),
    (["--result", "maybe"], "Unknown result 'maybe': use success or failure."),
    (["--since", "last week"], "'last week' is not a valid since: use an ISO 8601 date"),
    (["--limit", "0"], "--limit must be between 1 and 100000 (got 0)."),
    (["--ip", "notanip"], "'notanip' is not an IP address: give one such as 203.0.113.9 or 2001:db8::1."),
])
def test_bad_input_is_one_clear_line(run, args, message):
    assert run.fails("signins", *args).startswith(message)
