"""App roles assigned to users reach their tokens' `roles` claim (issue 17 item 16; Entra: Enterprise
application → Users and groups).

An access token carries the values of the enabled User-type roles assigned to its user on its audience; an
ID token those assigned on its client (as Entra does). Assignments are read for every token: a removal is
gone from the next refresh. Every JWT is verified against the published JWKS.
"""

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as accounts
from applications import assignments
from applications import services as applications
from applications.models import AppRole
from identity.oauth import responses
from tests.conftest import ACTOR, DEMO_PASSWORD
from tests.flows.token_helpers import FORM, TENANT, basic_auth, post_token, refresh_data, ropc_data, verify_jwt

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§3")]

HR_API_URI = "https://contoso.onmicrosoft.com/hr-api"


@pytest.fixture(autouse=True)
def _signing_key(signing_key):
    return signing_key


@pytest.fixture
def cid(native_app) -> str:
    return native_app.client_id


@pytest.fixture
def hr_api(db, native_app):
    """An API with User-type roles and a delegated scope the native app has admin consent to."""
    api = applications.application_register(actor=ACTOR, name="HR API", app_id_uri=HR_API_URI)
    for value, types in (("hr.read", "User"), ("hr.admin", "User,Application"), ("hr.sync", "Application")):
        applications.app_role_add(application=api, actor=ACTOR, value=value, member_types=types)
    applications.delegated_scope_add(application=api, actor=ACTOR, value="hr.access")
    applications.permission_add(client=native_app, api=api, values=["hr.access"], actor=ACTOR)
    applications.admin_consent_grant(client=native_app, actor=ACTOR)
    return api


@pytest.fixture
def bob(db):
    return accounts.user_create(actor=ACTOR, username="bob", password=DEMO_PASSWORD)


def role(api, value: str) -> AppRole:
    return api.app_roles.get(value=value)


def assign(user, api, *values: str) -> None:
    for value in values:
        assignments.app_role_assign(user=user, app_role=role(api, value), actor=ACTOR)


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def sign_in(client, cid, *, username="alice", scope=None) -> dict:
    return ok(post_token(client, ropc_data(cid, username=username, scope=scope)))


def sign_in_to_hr(client, cid, *, username="alice") -> dict:
    return sign_in(client, cid, username=username, scope=f"openid {HR_API_URI}/hr.access offline_access")


def refresh(client, cid, token: str) -> dict:
    # No `resource`: the refresh keeps the original grant's resource (the HR API) and scopes.
    return ok(post_token(client, refresh_data(cid, token, resource=None)))


def access_claims(client, body, *, policy, audience) -> dict:
    return verify_jwt(client, body["access_token"], policy=policy, audience=audience)


def id_claims(client, body, *, policy, cid) -> dict:
    return verify_jwt(client, body["id_token"], policy=policy, audience=cid)


# ---- the roles claim ----------------------------------------------------------------------------------


def test_an_access_token_for_an_api_carries_the_user_roles_assigned_on_it(client, user, policy, cid, hr_api):
    assign(user, hr_api, "hr.read", "hr.admin")
    body = sign_in_to_hr(client, cid)
    claims = access_claims(client, body, policy=policy, audience=hr_api.client_id)
    assert claims["roles"] == ["hr.admin", "hr.read"]
    assert claims["scp"] == "hr.access"
    # The ID token's audience is the native app, which defines no roles: none there.
    assert "roles" not in id_claims(client, body, policy=policy, cid=cid)


def test_the_refreshed_access_token_carries_them_too(client, user, policy, cid, hr_api):
    assign(user, hr_api, "hr.read")
    body = refresh(client, cid, sign_in_to_hr(client, cid)["refresh_token"])
    assert body["resource"] == hr_api.client_id
    assert access_claims(client, body, policy=policy, audience=hr_api.client_id)["roles"] == ["hr.read"]


def test_another_user_gets_no_roles_claim_at_all(client, user, bob, policy, cid, hr_api):
    assign(user, hr_api, "hr.read")
    alice = sign_in_to_hr(client, cid)
    assert access_claims(client, alice, policy=policy, audience=hr_api.client_id)["roles"] == ["hr.read"]
    body = sign_in_to_hr(client, cid, username="bob")
    assert "roles" not in access_claims(client, body, policy=policy, audience=hr_api.client_id)
    body = refresh(client, cid, body["refresh_token"])
    assert "roles" not in access_claims(client, body, policy=policy, audience=hr_api.client_id)


def test_roles_on_another_api_stay_out_of_this_apis_token(client, user, policy, native_app, cid, hr_api):
    other = applications.application_register(actor=ACTOR, name="Payroll API",
                                              app_id_uri="https://contoso.onmicrosoft.com/payroll")
    applications.app_role_add(application=other, actor=ACTOR, value="payroll.read", member_types="User")
    assign(user, other, "payroll.read")
    assign(user, hr_api, "hr.read")
    body = sign_in_to_hr(client, cid)
    assert access_claims(client, body, policy=policy, audience=hr_api.client_id)["roles"] == ["hr.read"]


def test_an_unassigned_role_is_gone_from_the_next_refresh(client, user, policy, cid, hr_api):
    assign(user, hr_api, "hr.read", "hr.admin")
    first = sign_in_to_hr(client, cid)
    assignments.app_role_unassign(
        assignment=assignments.app_role_assignment_find(user=user, app_role=role(hr_api, "hr.admin")), actor=ACTOR)
    second = refresh(client, cid, first["refresh_token"])
    assert access_claims(client, second, policy=policy, audience=hr_api.client_id)["roles"] == ["hr.read"]
    assignments.app_role_unassign(
        assignment=assignments.app_role_assignment_find(user=user, app_role=role(hr_api, "hr.read")), actor=ACTOR)
    third = refresh(client, cid, second["refresh_token"])
    assert "roles" not in access_claims(client, third, policy=policy, audience=hr_api.client_id)


def test_a_role_assigned_after_the_sign_in_appears_at_the_next_refresh(client, user, policy, cid, hr_api):
    first = sign_in_to_hr(client, cid)
    assert "roles" not in access_claims(client, first, policy=policy, audience=hr_api.client_id)
    assign(user, hr_api, "hr.read")
    second = refresh(client, cid, first["refresh_token"])
    assert access_claims(client, second, policy=policy, audience=hr_api.client_id)["roles"] == ["hr.read"]


def test_a_disabled_role_is_not_emitted_though_still_assigned(client, user, policy, cid, hr_api):
    assign(user, hr_api, "hr.read", "hr.admin")
    first = sign_in_to_hr(client, cid)
    hr_admin = role(hr_api, "hr.admin")
    hr_admin.is_enabled = False
    hr_admin.save()  # as the admin's inline does: a directory change
    body = refresh(client, cid, first["refresh_token"])
    assert access_claims(client, body, policy=policy, audience=hr_api.client_id)["roles"] == ["hr.read"]
    assert access_claims(client, sign_in_to_hr(client, cid), policy=policy,
                         audience=hr_api.client_id)["roles"] == ["hr.read"]


def test_a_role_that_no_longer_allows_users_is_not_emitted(client, user, policy, cid, hr_api):
    assign(user, hr_api, "hr.admin")
    first = sign_in_to_hr(client, cid)
    assert access_claims(client, first, policy=policy, audience=hr_api.client_id)["roles"] == ["hr.admin"]
    hr_admin = role(hr_api, "hr.admin")
    hr_admin.allow_user = False
    hr_admin.save()
    body = refresh(client, cid, first["refresh_token"])
    assert "roles" not in access_claims(client, body, policy=policy, audience=hr_api.client_id)


def test_roles_defined_on_the_client_itself_reach_its_access_and_id_tokens(
    client, user, bob, policy, native_app, cid
):
    applications.app_role_add(application=native_app, actor=ACTOR, value="reader", member_types="User")
    assign(user, native_app, "reader")
    body = sign_in(client, cid)  # scope "openid {cid} offline_access": the access token's audience is the app
    assert access_claims(client, body, policy=policy, audience=cid)["roles"] == ["reader"]
    assert id_claims(client, body, policy=policy, cid=cid)["roles"] == ["reader"]
    refreshed = refresh(client, cid, body["refresh_token"])
    assert id_claims(client, refreshed, policy=policy, cid=cid)["roles"] == ["reader"]
    assert "roles" not in id_claims(client, sign_in(client, cid, username="bob"), policy=policy, cid=cid)


def test_a_user_role_defined_after_the_cache_learnt_there_was_none_is_seen_by_the_next_token(
    client, user, policy, native_app, cid
):
    first = sign_in(client, cid)  # the directory cache now says: the native app defines no User role
    assert "roles" not in access_claims(client, first, policy=policy, audience=cid)
    reader = applications.app_role_add(application=native_app, actor=ACTOR, value="reader", member_types="User")
    assignments.app_role_assign(user=user, app_role=reader, actor=ACTOR)
    assert access_claims(client, refresh(client, cid, first["refresh_token"]), policy=policy,
                         audience=cid)["roles"] == ["reader"]


def test_an_id_token_alone_carries_the_roles_assigned_on_its_client(client, user, policy, native_app, cid):
    applications.app_role_add(application=native_app, actor=ACTOR, value="reader", member_types="User")
    assign(user, native_app, "reader")
    body = sign_in(client, cid, scope="openid")
    assert "access_token" not in body
    assert id_claims(client, body, policy=policy, cid=cid)["roles"] == ["reader"]


def test_the_roles_claim_is_a_json_array_even_with_one_role(client, user, policy, cid, hr_api):
    assign(user, hr_api, "hr.read")
    claims = access_claims(client, sign_in_to_hr(client, cid), policy=policy, audience=hr_api.client_id)
    assert isinstance(claims["roles"], list)


# ---- what it costs --------------------------------------------------------------------------------------


@pytest.fixture
def warm(settings):
    """A long directory-cache window: the measured request reads no stamp, as most requests in a process."""
    settings.DIRECTORY_CACHE_SECONDS = 3600


def measured(request) -> tuple[dict, list[str]]:
    """Run `request()` (a token request) and return its body and SQL."""
    with CaptureQueriesContext(connection) as ctx:
        body = request()
    return body, [q["sql"] for q in ctx.captured_queries]


def assignment_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "applications_approle" in s]


@pytest.fixture
def without_the_feature(monkeypatch):
    """The grant as it was before assignments: no roles looked up."""
    def stub() -> None:
        monkeypatch.setattr(responses, "user_roles_for_tokens", lambda **_: {})
    return stub


def test_no_query_is_added_when_the_audience_defines_no_user_role(
    client, user, policy, cid, hr_api, warm, without_the_feature
):
    """The native app (the ID token's audience) and the API's User roles are the directory cache's to know:
    when neither token's audience defines one, ROPC and refresh cost what they did without the feature."""
    AppRole.objects.filter(application=hr_api).update(allow_user=False, allow_application=True)
    sign_in_to_hr(client, cid)  # fills the per-process cache
    first, with_roles = measured(lambda: sign_in_to_hr(client, cid))
    _, refresh_with = measured(lambda: refresh(client, cid, first["refresh_token"]))
    assert assignment_reads(with_roles) == [] and assignment_reads(refresh_with) == []
    without_the_feature()
    again, without = measured(lambda: sign_in_to_hr(client, cid))
    _, refresh_without = measured(lambda: refresh(client, cid, again["refresh_token"]))
    assert len(with_roles) == len(without), (with_roles, without)
    assert len(refresh_with) == len(refresh_without), (refresh_with, refresh_without)


def test_one_query_reads_the_users_roles_when_the_audience_defines_user_roles(
    client, user, policy, native_app, cid, hr_api, warm, without_the_feature
):
    # Both tokens' audiences define User roles (the API for the access token, the client for the ID token):
    # still one statement.
    applications.app_role_add(application=native_app, actor=ACTOR, value="reader", member_types="User")
    assign(user, hr_api, "hr.read")
    sign_in_to_hr(client, cid)
    first, with_roles = measured(lambda: sign_in_to_hr(client, cid))
    refreshed, refresh_with = measured(lambda: refresh(client, cid, first["refresh_token"]))
    assert len(assignment_reads(with_roles)) == 1 and len(assignment_reads(refresh_with)) == 1
    assert "applications_approleassignment" in assignment_reads(refresh_with)[0]
    assert access_claims(client, refreshed, policy=policy, audience=hr_api.client_id)["roles"] == ["hr.read"]
    without_the_feature()
    again, without = measured(lambda: sign_in_to_hr(client, cid))
    _, refresh_without = measured(lambda: refresh(client, cid, again["refresh_token"]))
    assert len(with_roles) == len(without) + 1 and len(refresh_with) == len(refresh_without) + 1


# ---- introspection --------------------------------------------------------------------------------------


def test_a_user_token_with_roles_is_still_checked_against_the_user_when_introspected(client, user, policy):
    """Before user tokens carried `roles`, only app-only tokens did, and introspection told the two apart by it."""
    web = applications.application_register(actor=ACTOR, name="Web app", ropc=True)
    _, secret = applications.client_secret_add(application=web, actor=ACTOR)
    applications.app_role_add(application=web, actor=ACTOR, value="reader", member_types="User")
    assign(user, web, "reader")
    body = ok(post_token(client, ropc_data(web.client_id, client_secret=secret)))
    assert access_claims(client, body, policy=policy, audience=web.client_id)["roles"] == ["reader"]

    def introspect() -> dict:
        return ok(client.post(f"/{TENANT}/{policy.policy_id}/oauth2/v2.0/introspect",
                              urlencode({"token": body["access_token"]}), content_type=FORM,
                              **basic_auth(web.client_id, secret)))

    assert introspect()["active"] is True
    accounts.user_revoke_sessions(user=user, actor=ACTOR)
    assert introspect() == {"active": False}
