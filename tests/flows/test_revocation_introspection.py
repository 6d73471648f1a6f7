"""Revocation (RFC 7009) and introspection (RFC 7662) (SPEC §2; issue 18 item 8).

Revocation: a client's own refresh tokens (with their family), public clients' included; the hint is only
a hint. Introspection: confidential clients, about tokens of the policy whose endpoint is asked.
"""

import base64
from types import SimpleNamespace
from unittest import mock
from urllib.parse import urlencode

import jwt
import pytest
from django.core.cache import cache

from accounts import services as accounts
from applications import services as applications
from identity import ratelimit
from identity.demo import demo_tenant_create
from policies import services as policies

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC", "2")]
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def demo(db):
    return demo_tenant_create(actor="tests")


@pytest.fixture
def web_app(demo):
    """A confidential app with ROPC, so it holds user refresh tokens it may revoke and introspect."""
    app = applications.application_register(actor="tests", name="Web app", ropc=True)
    _, secret = applications.client_secret_add(application=app, actor="tests")
    return app, secret


def _post(client, demo, endpoint, data, *, basic=None):
    headers = {}
    if basic:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
    return client.post(f"/{demo.tenant}/{demo.policy_id}/oauth2/v2.0/{endpoint}", urlencode(data),
                       content_type=FORM, **headers)


def _introspect(client, demo, token, app, secret, *, policy_id=None) -> dict:
    endpoint = f"/{demo.tenant}/{policy_id or demo.policy_id}/oauth2/v2.0/introspect"
    basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    response = client.post(endpoint, urlencode({"token": token}), content_type=FORM,
                           HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200, response.content
    return response.json()


def _client_credentials(client, demo) -> dict:
    response = _post(client, demo, "token", {"grant_type": "client_credentials", "client_id": demo.daemon_client_id,
                                             "client_secret": demo.daemon_client_secret,
                                             "scope": f"{demo.api_app_id_uri}/.default"})
    assert response.status_code == 200, response.content
    return response.json()


def _sign_in(client, demo, app, secret):
    response = _post(client, demo, "token", {
        "grant_type": "password", "client_id": app.client_id, "client_secret": secret, "username": demo.username,
        "password": demo.password, "scope": f"openid {app.client_id} offline_access",
    })
    assert response.status_code == 200, response.content
    return response.json()


def test_revoking_a_refresh_token_revokes_its_family(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    response = _post(client, demo, "revoke", {"token": tokens["refresh_token"]}, basic=(app.client_id, secret))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    refresh = _post(client, demo, "token", {"grant_type": "refresh_token", "client_id": app.client_id,
                                            "client_secret": secret, "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_revoking_an_unknown_or_foreign_token_answers_200_and_changes_nothing(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    response = _post(client, demo, "revoke", {"token": "not-a-token", "client_id": app.client_id,
                                              "client_secret": secret})
    assert response.status_code == 200
    other = applications.application_register(actor="tests", name="Other")
    _, other_secret = applications.client_secret_add(application=other, actor="tests")
    response = _post(client, demo, "revoke", {"token": tokens["refresh_token"], "client_id": other.client_id,
                                              "client_secret": other_secret})
    assert response.status_code == 200
    assert _post(client, demo, "introspect", {"token": tokens["refresh_token"]},
                 basic=(app.client_id, secret)).json()["active"] is True


def test_access_tokens_cannot_be_revoked_whatever_the_hint(client, demo, web_app):
    """RFC 7009 §2.2.1: unsupported_token_type is about the presented token's type, not the hint."""
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    for hint in (None, "access_token", "refresh_token"):
        data = {"token": tokens["access_token"], **({"token_type_hint": hint} if hint else {})}
        response = _post(client, demo, "revoke", data, basic=(app.client_id, secret))
        assert response.status_code == 400 and response.json()["error"] == "unsupported_token_type"


def test_an_unknown_token_with_the_access_token_hint_is_200_not_an_error(client, demo, web_app):
    """RFC 7009 §2.2: an invalid token is no error; the hint does not make it one."""
    app, secret = web_app
    response = _post(client, demo, "revoke", {"token": "x", "token_type_hint": "access_token"},
                     basic=(app.client_id, secret))
    assert response.status_code == 200


@pytest.mark.parametrize("hint", ["access_token", "id_token", "no-such-type"])
def test_a_refresh_token_is_found_and_revoked_whatever_the_hint_says(client, demo, web_app, hint):
    """RFC 7009 §2.1: the hint only helps the lookup; a wrong or unknown one is ignored, not an error."""
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    response = _post(client, demo, "revoke", {"token": tokens["refresh_token"], "token_type_hint": hint},
                     basic=(app.client_id, secret))
    assert response.status_code == 200, response.content
    assert _introspect(client, demo, tokens["refresh_token"], app, secret) == {"active": False}
    refresh = _post(client, demo, "token", {"grant_type": "refresh_token", "client_id": app.client_id,
                                            "client_secret": secret, "refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_another_clients_access_token_is_200_and_says_nothing(client, demo, web_app):
    """Only the caller's own tokens get an answer that tells what they are."""
    app, secret = web_app
    cc = _client_credentials(client, demo)
    other = _post(client, demo, "revoke", {"token": cc["access_token"]}, basic=(app.client_id, secret))
    assert other.status_code == 200
    own = _post(client, demo, "revoke", {"token": cc["access_token"]},
                basic=(demo.daemon_client_id, demo.daemon_client_secret))
    assert own.status_code == 400 and own.json()["error"] == "unsupported_token_type"


def _native_sign_in(client, demo) -> dict:
    response = _post(client, demo, "token", {
        "grant_type": "password", "client_id": demo.native_client_id, "username": demo.username,
        "password": demo.password, "scope": f"openid {demo.native_client_id} offline_access",
    })
    assert response.status_code == 200, response.content
    return response.json()


def _native_refresh(client, demo, token: str):
    return _post(client, demo, "token", {"grant_type": "refresh_token", "client_id": demo.native_client_id,
                                         "refresh_token": token})


def test_a_public_client_revokes_its_own_refresh_token_with_its_client_id_alone(client, demo):
    """RFC 7009 §2.1: public clients may revoke (a native app's logout); the whole family goes."""
    first = _native_sign_in(client, demo)["refresh_token"]
    rotated = _native_refresh(client, demo, first)
    assert rotated.status_code == 200
    response = _post(client, demo, "revoke", {"token": rotated.json()["refresh_token"],
                                              "client_id": demo.native_client_id})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert _native_refresh(client, demo, rotated.json()["refresh_token"]).json()["error"] == "invalid_grant"
    # Another sign-in is another family, untouched.
    assert _native_refresh(client, demo, _native_sign_in(client, demo)["refresh_token"]).status_code == 200


def test_a_public_client_cannot_revoke_another_clients_refresh_token(client, demo, web_app):
    app, secret = web_app
    theirs = _sign_in(client, demo, app, secret)["refresh_token"]
    response = _post(client, demo, "revoke", {"token": theirs, "client_id": demo.native_client_id})
    assert response.status_code == 200  # says nothing, changes nothing
    assert _introspect(client, demo, theirs, app, secret)["active"] is True
    # Nor may another public client revoke the native app's.
    other = applications.application_register(actor="tests", name="Other native", public=True, ropc=True)
    mine = _native_sign_in(client, demo)["refresh_token"]
    assert _post(client, demo, "revoke", {"token": mine, "client_id": other.client_id}).status_code == 200
    assert _native_refresh(client, demo, mine).status_code == 200


def test_a_public_client_that_sends_a_secret_or_introspects_is_refused(client, demo):
    token = _native_sign_in(client, demo)["refresh_token"]
    sent_secret = _post(client, demo, "revoke", {"token": token, "client_id": demo.native_client_id,
                                                 "client_secret": "anything"})
    assert sent_secret.status_code == 400 and sent_secret.json()["error_description"].startswith("AADB2C90084")
    introspect = _post(client, demo, "introspect", {"token": token, "client_id": demo.native_client_id})
    assert introspect.status_code == 400 and introspect.json()["error"] == "unauthorized_client"
    assert _native_refresh(client, demo, token).status_code == 200  # nothing was revoked


@pytest.fixture
def empty_cache():
    """Quotas are counted in the cache: start and leave it empty."""
    cache.clear()
    yield
    cache.clear()


def test_public_revocation_counts_against_the_clients_quota(client, demo, settings, empty_cache):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 2
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    # A pinned clock: the three requests cannot straddle a second boundary.
    with mock.patch.object(ratelimit, "time", SimpleNamespace(time=lambda: 1_900_000_000.25)):
        for _ in range(2):
            assert _post(client, demo, "revoke", {"token": "x", "client_id": demo.native_client_id}).status_code == 200
        throttled = _post(client, demo, "revoke", {"token": "x", "client_id": demo.native_client_id})
    assert throttled.status_code == 429 and throttled.json()["error_description"].startswith("AADB2C90244")
    assert throttled["Retry-After"] == "1"


def test_the_ip_quota_applies_to_public_revocation_too(client, demo, settings, empty_cache):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = 0
    settings.RATE_LIMIT_IP_PER_5_MINUTES = 2
    for _ in range(2):
        assert _post(client, demo, "revoke", {"token": "x", "client_id": demo.native_client_id}).status_code == 200
    assert _post(client, demo, "revoke", {"token": "x", "client_id": demo.native_client_id}).status_code == 429


def test_a_bad_secret_is_refused_with_a_basic_challenge(client, demo, web_app):
    app, _ = web_app
    response = _post(client, demo, "introspect", {"token": "x"}, basic=(app.client_id, "wrong"))
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic")
    assert response.json()["error"] == "invalid_client"


def test_introspection_of_refresh_and_access_tokens(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    refresh = _post(client, demo, "introspect", {"token": tokens["refresh_token"]}, basic=(app.client_id, secret))
    assert refresh.status_code == 200
    assert refresh.json() | {"exp": 0, "iat": 0} == {
        "active": True, "scope": f"openid {app.client_id} offline_access", "client_id": app.client_id,
        "token_type": "refresh_token", "exp": 0, "iat": 0, "sub": refresh.json()["sub"],
    }
    access = _post(client, demo, "introspect", {"token": tokens["access_token"]}, basic=(app.client_id, secret))
    body = access.json()
    assert body["active"] is True and body["aud"] == app.client_id and body["client_id"] == app.client_id


def test_revoked_sessions_make_the_users_tokens_inactive(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    from accounts.selectors import user_get

    accounts.user_revoke_sessions(user=user_get(demo.username), actor="tests")
    for token in (tokens["access_token"], tokens["refresh_token"]):
        response = _post(client, demo, "introspect", {"token": token}, basic=(app.client_id, secret))
        assert response.json() == {"active": False}


def test_only_the_audience_or_the_issued_to_client_learns_about_a_token(client, demo, web_app):
    cc = _post(client, demo, "token", {"grant_type": "client_credentials", "client_id": demo.daemon_client_id,
                                       "client_secret": demo.daemon_client_secret,
                                       "scope": f"{demo.api_app_id_uri}/.default"}).json()
    app, secret = web_app
    assert _post(client, demo, "introspect", {"token": cc["access_token"]},
                 basic=(app.client_id, secret)).json() == {"active": False}
    own = _post(client, demo, "introspect", {"token": cc["access_token"]},
                basic=(demo.daemon_client_id, demo.daemon_client_secret)).json()
    assert own["active"] is True and own["scope"] == "app.read app.write"


def test_a_tampered_or_foreign_jwt_is_inactive(client, demo, web_app):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    header, payload, signature = tokens["access_token"].split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert _post(client, demo, "introspect", {"token": tampered},
                 basic=(app.client_id, secret)).json() == {"active": False}


def test_the_first_token_of_a_fresh_deployment_creates_the_signing_key(client, demo):
    from identity.keys.models import SigningKey

    SigningKey.objects.all().delete()
    response = _post(client, demo, "token", {
        "grant_type": "client_credentials", "client_id": demo.daemon_client_id,
        "client_secret": demo.daemon_client_secret, "scope": f"{demo.api_app_id_uri}/.default"})
    assert response.status_code == 200 and SigningKey.objects.filter(active=True).count() == 1


# --- introspection and policies (RFC 7662 §2.2: "active" as this policy's authority sees it) ------------


@pytest.fixture
def other_policy(demo):
    return policies.policy_create_or_update(actor="tests", policy_id="B2C_1_Other")[0]


def test_a_token_is_active_only_at_its_own_policys_endpoint(client, demo, web_app, other_policy):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    cc = _client_credentials(client, demo)
    daemon = SimpleNamespace(client_id=demo.daemon_client_id)
    for token, asker, key in ((tokens["access_token"], app, secret), (tokens["refresh_token"], app, secret),
                              (cc["access_token"], daemon, demo.daemon_client_secret)):
        assert _introspect(client, demo, token, asker, key)["active"] is True
        assert _introspect(client, demo, token, asker, key, policy_id=other_policy.policy_id) == {"active": False}
        # The policy's id is matched as URLs match it: in any case.
        assert _introspect(client, demo, token, asker, key, policy_id=demo.policy_id.lower())["active"] is True


def test_a_token_of_a_disabled_policy_is_active_nowhere(client, demo, web_app, other_policy):
    app, secret = web_app
    tokens = _sign_in(client, demo, app, secret)
    policies.policy_create_or_update(actor="tests", policy_id=demo.policy_id, enabled=False)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert _introspect(client, demo, token, app, secret, policy_id=other_policy.policy_id) == {"active": False}
        own = _post(client, demo, "introspect", {"token": token}, basic=(app.client_id, secret))
        assert own.status_code == 404 and own.json()["error"] == "not_found"


def test_introspection_itself_refuses_an_access_token_whose_policy_is_disabled(client, demo, web_app):
    """The rule holds in the function too, not only because a disabled policy's URLs answer 404."""
    from applications.selectors import application_find
    from identity.oauth.introspection import access_token_introspect
    from policies.selectors import policy_find

    app, secret = web_app
    token = _sign_in(client, demo, app, secret)["access_token"]
    policy = policy_find(demo.policy_id)
    assert access_token_introspect(token, application_find(app.client_id), policy) is not None
    policies.policy_create_or_update(actor="tests", policy_id=demo.policy_id, enabled=False)
    policy.refresh_from_db()
    assert access_token_introspect(token, application_find(app.client_id), policy) is None


def test_a_policy_that_names_itself_in_acr_is_matched_the_same(client, demo, web_app, other_policy):
    policies.policy_create_or_update(actor="tests", policy_id=demo.policy_id, policy_claim="acr")
    app, secret = web_app
    token = _sign_in(client, demo, app, secret)["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["acr"] == demo.policy_id.lower() and "tfp" not in claims
    assert _introspect(client, demo, token, app, secret)["active"] is True
    assert _introspect(client, demo, token, app, secret, policy_id=other_policy.policy_id) == {"active": False}
