"""Every refused token request's sign-in event says why, and names the user where the request did (issue 17
item 13): driven over HTTP, one case per refusal kind of the ROPC, refresh and client-credentials grants
and of the endpoint itself (the lists of tests/flows/test_ropc.py, test_refresh.py,
test_client_credentials.py and test_token_errors.py).
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts import lockout
from accounts import services as accounts
from accounts.hashing_gate import HashingBusy
from accounts.models import FederatedIdentity, SignInThrottle
from applications import services as applications
from applications.models import RefreshToken
from audit.models import SignInEvent
from audit.unknown_names import hide_sign_in_name
from policies import services as policies
from policies.profiles import local_password
from tests.conftest import ACTOR, DEMO_PASSWORD
from tests.flows.token_helpers import (
    basic_auth,
    post_token,
    refresh_data,
    ropc_data,
    sign_in,
    token_url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§5")]

WRONG = "Wrong-Horse-9xyz"
UNKNOWN_CLIENT = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def w(db, signing_key, user, policy, native_app, api_app, daemon_app):
    """A user, the ROPC policy, a public ROPC app, a confidential ROPC app and a consented daemon, with secrets."""
    confidential = applications.application_register(actor=ACTOR, name="Confidential ROPC", ropc=True)
    _, confidential_secret = applications.client_secret_add(application=confidential, actor=ACTOR)
    _, daemon_secret = applications.client_secret_add(application=daemon_app, actor=ACTOR)
    applications.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    applications.admin_consent_grant(client=daemon_app, actor=ACTOR)
    return SimpleNamespace(
        user=user, user_pk=user.pk, policy=policy, native=native_app, cid=native_app.client_id, api=api_app,
        daemon=daemon_app, daemon_secret=daemon_secret, confidential=confidential,
        confidential_secret=confidential_secret, refresh_tokens=[],
    )


def ropc(client, w, **kwargs):
    return post_token(client, ropc_data(w.cid, **kwargs))


def a_refresh_token(client, w) -> str:
    value = sign_in(client, w.native)["refresh_token"]
    w.refresh_tokens.append(value)
    return value


def refresh(client, w, token: str, **extra):
    return post_token(client, refresh_data(w.cid, token, **extra))


def cc(client, w, headers=None, **overrides):
    data = {"grant_type": "client_credentials", "client_id": w.daemon.client_id, "client_secret": w.daemon_secret,
            "scope": f"{w.api.app_id_uri}/.default"}
    data.update(overrides)
    return post_token(client, {k: v for k, v in data.items() if v is not None}, headers=headers)


def disable(w) -> None:
    accounts.user_set_enabled(user=w.user, enabled=False, actor=ACTOR)


def set_flag(w, **flags) -> None:
    for name, value in flags.items():
        setattr(w.user, name, value)
    w.user.save(update_fields=list(flags))


def federated(client, w):
    fred = accounts.user_create(actor=ACTOR, username="fred", email="fred@contoso.test")
    FederatedIdentity.objects.create(user=fred, issuer="https://idp.example.test", issuer_subject="fred-1")
    return ropc(client, w, username="fred", password=WRONG)


def locked_out(client, w):
    key = lockout.name_key("alice")
    SignInThrottle.objects.create(name_key=key, locked_until=timezone.now() + timedelta(minutes=1))
    try:
        return ropc(client, w)
    finally:
        cache.delete(lockout.CACHE_PREFIX + key)  # the row goes with the test's transaction; the cache would stay


def hashing_busy(client, w, monkeypatch):
    def busy(*args, **kwargs):
        raise HashingBusy
    monkeypatch.setattr(local_password, "check_credentials", busy)
    return ropc(client, w)


def reused(client, w, settings):
    settings.REFRESH_TOKEN_REUSE_GRACE_SECONDS = 0
    first = a_refresh_token(client, w)
    assert refresh(client, w, first).status_code == 200
    return refresh(client, w, first)


def expired(client, w):
    token = a_refresh_token(client, w)
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    return refresh(client, w, token)


def other_policy(client, w):
    token = a_refresh_token(client, w)
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_Other")
    return post_token(client, refresh_data(w.cid, token), policy="B2C_1_Other")


def other_client(client, w):
    token = a_refresh_token(client, w)
    return post_token(client, {**refresh_data(str(w.confidential.client_id), token),
                               "client_secret": w.confidential_secret})


def revoked_sessions(client, w):
    token = a_refresh_token(client, w)
    accounts.user_revoke_sessions(user=w.user, actor=ACTOR)
    return refresh(client, w, token)


def disabled_refresh(client, w):
    token = a_refresh_token(client, w)
    disable(w)
    return refresh(client, w, token)


def wider_scope(client, w):
    token = a_refresh_token(client, w)
    return refresh(client, w, token, resource="https://contoso.onmicrosoft.com/nope")


def deleted_user(client, w):
    token = a_refresh_token(client, w)
    accounts.user_delete(user=w.user, actor=ACTOR)
    return refresh(client, w, token)


def app_disabled(app):
    app.enabled = False
    app.save()


# (id, request, B2C code the event must carry or None, whether the event names alice)
ROPC = [
    ("wrong password", lambda c, w: ropc(c, w, password=WRONG), "AADB2C90225", True),
    ("unknown user", lambda c, w: ropc(c, w, username="nobody", password=WRONG), "AADB2C90225", False),
    ("old password", lambda c, w: (accounts.user_set_password(user=w.user, password="Second-Horse-9", actor=ACTOR),
                                   ropc(c, w))[1], "AADB2C90225", True),
    ("missing password", lambda c, w: ropc(c, w, password=""), "AADB2C90083", True),
    ("missing username", lambda c, w: ropc(c, w, username=None), "AADB2C90083", False),
    ("password too long", lambda c, w: ropc(c, w, password="x" * 5000), None, True),
    ("unknown scope", lambda c, w: ropc(c, w, scope="openid https://x.test/nope/read"), "AADB2C90012", True),
    ("two resources", lambda c, w: (applications.delegated_scope_add(application=w.api, actor=ACTOR, value="t.read"),
                                    ropc(c, w, scope=f"openid {w.cid} {w.api.app_id_uri}/t.read"))[1],
     "AADB2C90146", True),
    ("bad response_type", lambda c, w: ropc(c, w, response_type="code"), None, True),
    ("public client sends a secret", lambda c, w: ropc(c, w, client_secret="s3cret-value"), "AADB2C90084", True),
    ("app without ROPC", lambda c, w: post_token(c, ropc_data(w.daemon.client_id, client_secret=w.daemon_secret)),
     "AADB2C90224", True),
    ("unknown client", lambda c, w: post_token(c, ropc_data(UNKNOWN_CLIENT)), "AADB2C90018", True),
    ("disabled app", lambda c, w: (app_disabled(w.native), ropc(c, w))[1], "AADB2C90092", True),
    ("confidential client, wrong secret", lambda c, w: post_token(
        c, ropc_data(w.confidential.client_id, client_secret="wrong")), "AADB2C90081", True),
    ("confidential client, no secret", lambda c, w: post_token(c, ropc_data(w.confidential.client_id)),
     "AADB2C90079", True),
    ("disabled user", lambda c, w: (disable(w), ropc(c, w))[1], "AADB2C90111", True),
    ("password expired", lambda c, w: (set_flag(w, password_expired=True), ropc(c, w))[1], None, True),
    ("MFA required", lambda c, w: (set_flag(w, mfa_required=True), ropc(c, w))[1], None, True),
    ("consent required", lambda c, w: (
        applications.delegated_scope_add(application=w.api, actor=ACTOR, value="tasks.read"),
        ropc(c, w, scope=f"openid {w.api.app_id_uri}/tasks.read"))[1], None, True),
    ("no local password", federated, "AADB2C90225", False),
    ("smart lockout", locked_out, "AADB2C90114", True),
    ("policy without the password grant", lambda c, w: (
        policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_SignUpSignIn", kind="signup_signin"),
        post_token(c, ropc_data(w.cid), policy="B2C_1_SignUpSignIn"))[1], "AADB2C90086", True),
]
REFRESH = [
    ("missing refresh token", lambda c, w: post_token(c, {"grant_type": "refresh_token", "client_id": w.cid}),
     "AADB2C90083", False),
    ("unknown refresh token", lambda c, w: refresh(c, w, "not-a-token-we-issued"), None, False),
    ("token of another client", other_client, "AADB2C90279", True),
    ("token of another policy", other_policy, "AADB2C90088", True),
    ("sessions revoked", revoked_sessions, "AADB2C90129", True),
    ("user disabled", disabled_refresh, "AADB2C90129", True),
    ("user deleted", deleted_user, "AADB2C90128", False),
    ("expired", expired, "AADB2C90080", True),
    ("wider scope", wider_scope, None, True),
    ("disabled app", lambda c, w: (a_refresh_token(c, w), app_disabled(w.native),
                                   refresh(c, w, w.refresh_tokens[0]))[2], "AADB2C90092", False),
    ("public client sends a secret", lambda c, w: refresh(c, w, a_refresh_token(c, w), client_secret="s"),
     "AADB2C90084", False),
    ("confidential client without a secret", lambda c, w: post_token(
        c, refresh_data(w.confidential.client_id, "any-token")), "AADB2C90079", False),
]
CLIENT_CREDENTIALS = [
    ("wrong secret", lambda c, w: cc(c, w, client_secret="wrong"), "AADB2C90081", False),
    ("wrong secret over Basic", lambda c, w: cc(c, w, basic_auth(w.daemon.client_id, "wrong"), client_id=None,
                                                 client_secret=None), "AADB2C90081", False),
    ("no secret", lambda c, w: cc(c, w, client_secret=None), "AADB2C90079", False),
    ("expired secret", lambda c, w: (w.daemon.secrets.update(
        created_at=timezone.now() - timedelta(days=30), expires_at=timezone.now() - timedelta(days=1)), cc(c, w))[1],
     "AADB2C90081", False),
    ("unknown client", lambda c, w: cc(c, w, client_id=UNKNOWN_CLIENT), "AADB2C90018", False),
    ("disabled app", lambda c, w: (app_disabled(w.daemon), cc(c, w))[1], "AADB2C90092", False),
    ("public client", lambda c, w: cc(c, w, client_id=w.cid, client_secret=None), None, False),
    ("Basic and a body secret", lambda c, w: cc(c, w, basic_auth(w.daemon.client_id, w.daemon_secret),
                                                 client_id=None), None, False),
    ("Bearer header", lambda c, w: cc(c, w, {"HTTP_AUTHORIZATION": "Bearer abc"}, client_secret=None), None, False),
    ("missing scope", lambda c, w: cc(c, w, scope=None), None, False),
    ("scope not .default", lambda c, w: cc(c, w, scope="openid"), "AADB2C90012", False),
    ("unknown API", lambda c, w: cc(c, w, scope="https://nowhere.test/api/.default"), "AADB2C90012", False),
    ("no consent", lambda c, w: (applications.admin_consent_revoke(client=w.daemon, actor=ACTOR), cc(c, w))[1],
     "AADB2C90284", False),
]
ENDPOINT = [
    ("unsupported grant type", lambda c, w: post_token(c, {"grant_type": "magic", "client_id": w.cid}),
     "AADB2C90086", False),
    ("missing grant type", lambda c, w: post_token(c, {"client_id": w.cid}), None, False),
    ("repeated parameter", lambda c, w: post_token(c, [*ropc_data(w.cid).items(), ("client_id", w.cid)]), None,
     False),
    ("unknown policy", lambda c, w: post_token(c, ropc_data(w.cid), policy="B2C_1_Nope"), None, False),
    ("parameters in the query", lambda c, w: c.post(token_url() + "?client_secret=x", "grant_type=password",
                                                    content_type="application/x-www-form-urlencoded"), None, False),
    ("not a form", lambda c, w: c.post(token_url(), "{}", content_type="application/json"), None, False),
]
CASES = [pytest.param(build, code, names_user, id=f"{group}: {name}")
         for group, cases in (("ROPC", ROPC), ("refresh", REFRESH), ("client credentials", CLIENT_CREDENTIALS),
                              ("endpoint", ENDPOINT))
         for name, build, code, names_user in cases]


def assert_refusal_recorded(w, response, code, names_user) -> SignInEvent:
    assert 400 <= response.status_code < 600, response.content
    event = SignInEvent.objects.order_by("-id").first()
    assert event is not None and event.succeeded is False
    assert event.failure_reason.strip(), (event.error, event.result_code)
    assert event.error == response.json()["error"]
    if code is not None:
        assert event.result_code == code
    assert (event.user_id == w.user_pk) is names_user, (event.user_id, event.sign_in_name)
    stored = " ".join(str(getattr(event, f.attname)) for f in SignInEvent._meta.concrete_fields)
    for secret in (DEMO_PASSWORD, WRONG, "s3cret-value", w.daemon_secret, w.confidential_secret, *w.refresh_tokens):
        assert secret not in stored
    return event


@pytest.mark.parametrize(("build", "code", "names_user"), CASES)
def test_every_refusal_records_a_reason_and_its_code(client, w, build, code, names_user):
    assert_refusal_recorded(w, build(client, w), code, names_user)


def test_a_busy_password_hasher_records_why(client, w, monkeypatch):
    event = assert_refusal_recorded(w, hashing_busy(client, w, monkeypatch), None, True)
    assert event.error == "temporarily_unavailable" and "sign-ins are being processed" in event.failure_reason


def test_a_reused_refresh_token_names_its_user_and_says_the_family_is_revoked(client, w, settings):
    event = assert_refusal_recorded(w, reused(client, w, settings), "AADB2C90129", True)
    assert "presented again" in event.failure_reason


def test_the_reason_tells_an_unknown_name_from_a_wrong_password_though_the_client_cannot(client, w):
    unknown, wrong = ropc(client, w, username="nobody", password=WRONG), ropc(client, w, password=WRONG)
    assert unknown.content == wrong.content
    reasons = list(SignInEvent.objects.order_by("id").values_list("failure_reason", flat=True))
    assert reasons == ["Unknown sign-in name.", "Wrong password."]


def test_a_name_that_matches_no_user_is_recorded_only_as_its_hash_and_a_users_name_as_typed(client, w):
    """A password typed into the user-name box must not land in the log (issue 18 item 9)."""
    typed = "Correct-Horse-9-but-in-the-wrong-box"
    ropc(client, w, username=typed, password=WRONG)
    ropc(client, w, username=f" {typed.upper()} ", password=WRONG)
    ropc(client, w, username="ALICE", password=WRONG)
    events = list(SignInEvent.objects.order_by("id"))
    assert [e.sign_in_name for e in events] == [hide_sign_in_name(typed)] * 2 + ["ALICE"]
    assert [e.user_id for e in events] == [None, None, w.user_pk]
    assert not SignInEvent.objects.filter(sign_in_name__icontains="horse").exists()


def test_a_disabled_account_is_refused_with_b2cs_code_and_the_reason_says_disabled(client, w):
    disable(w)
    body = ropc(client, w).json()
    assert body["error_description"].startswith("AADB2C90111: ")
    event = SignInEvent.objects.get()
    assert (event.result_code, event.failure_reason, event.user_id) == ("AADB2C90111", "Account disabled.", w.user.pk)


def test_a_refused_refresh_says_which_rule_refused_it(client, w):
    revoked_sessions(client, w)
    disabled_refresh(client, w)
    reasons = list(SignInEvent.objects.filter(grant_type="refresh_token").order_by("id")
                   .values_list("failure_reason", flat=True))
    assert reasons == [
        "Sessions revoked since the token was issued (refreshTokensValidFromDateTime).",
        "Account disabled (its refresh tokens are revoked).",
    ]


def test_a_successful_request_records_no_reason(client, w):
    token = a_refresh_token(client, w)
    assert refresh(client, w, token).status_code == 200
    assert cc(client, w).status_code == 200
    assert list(SignInEvent.objects.values_list("succeeded", "failure_reason")) == [(True, "")] * 3
    assert SignInEvent.objects.filter(grant_type="refresh_token", user=w.user).count() == 1
