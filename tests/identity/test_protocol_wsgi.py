"""The WSGI front (identity/protocol_wsgi.py): OAuth POSTs answered outside Django's handler, with the
same status, headers and body as Django's path, and Django's own answer wherever it turns a request away."""

import logging
from urllib.parse import urlencode

import pytest
from django.core.signals import request_finished
from django.test import Client

from applications import services as applications
from identity import wsgi
from identity.keys.services import signing_key_rotate
from identity.protocol_wsgi import ProtocolWSGIApplication
from identity.views.token import TokenView
from tests.conftest import ACTOR
from tests.flows.token_helpers import FORM, ROPC_POLICY, TENANT, basic_auth, token_url
from tests.protocol_wsgi_client import ProtocolWSGIClient

pytestmark = pytest.mark.spec("ISSUE-5", "no middleware work the token endpoint does not need")


@pytest.fixture
def daemon(db, policy, api_app, daemon_app):
    """A signing key, the policy, and a daemon consented to app.read on the API."""
    signing_key_rotate(actor=ACTOR)
    _, secret = applications.client_secret_add(application=daemon_app, actor=ACTOR, description="t")
    applications.permission_add(client=daemon_app, api=api_app, values=["app.read"], actor=ACTOR)
    applications.admin_consent_grant(client=daemon_app, actor=ACTOR)
    return daemon_app, secret


def both(method: str, path: str, body: str = "", **extra):
    """The same request through Django's handler and through the front."""
    out = []
    for client in (Client(raise_request_exception=False), ProtocolWSGIClient(raise_request_exception=False)):
        call = client.post if method == "POST" else client.get
        response = call(path, body, content_type=FORM, **extra) if method == "POST" else call(path, **extra)
        out.append(response)
    return out


def headers_of(response) -> dict:
    return {name.lower(): value for name, value in response.items()}


def test_production_wsgi_application_is_the_front():
    assert isinstance(wsgi.application, ProtocolWSGIApplication)
    assert wsgi.application.django is wsgi.django_application


@pytest.mark.parametrize("form", [
    {"grant_type": "client_credentials", "scope": "https://contoso.onmicrosoft.com/tasks-api/.default"},
    {"grant_type": "client_credentials"},
    {"grant_type": "password", "client_id": "nobody", "username": "a", "password": "b"},
    {"grant_type": "bogus"},
    {},
])
@pytest.mark.parametrize("auth", ["basic-wrong", "none"])
def test_errors_are_the_same_byte_for_byte_on_both_paths(daemon, form, auth):
    app, _ = daemon
    extra = basic_auth(app.client_id, "wrong-secret") if auth == "basic-wrong" else {}
    django, front = both("POST", token_url(), urlencode(form), **extra)
    assert getattr(front, "served_by_front", False) and not getattr(django, "served_by_front", False)
    assert front.status_code == django.status_code >= 400
    assert headers_of(front) == headers_of(django)
    assert front.content == django.content


def test_a_token_has_the_same_status_headers_and_claims_on_both_paths(daemon):
    app, secret = daemon
    form = urlencode({"grant_type": "client_credentials", "scope": "https://contoso.onmicrosoft.com/tasks-api/.default"})
    django, front = both("POST", token_url(), form, **basic_auth(app.client_id, secret))
    assert front.status_code == django.status_code == 200
    assert headers_of(front).keys() == headers_of(django).keys()
    assert {k: v for k, v in headers_of(front).items() if k != "content-length"} == {
        k: v for k, v in headers_of(django).items() if k != "content-length"}
    assert front.json().keys() == django.json().keys()
    assert front["Content-Length"] == str(len(front.content))
    assert front["X-Content-Type-Options"] == "nosniff"


def test_https_requests_get_hsts_from_the_front_as_from_django(daemon, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    django, front = both("POST", token_url(), "grant_type=client_credentials", secure=True)
    assert front["Strict-Transport-Security"] == django["Strict-Transport-Security"]
    assert headers_of(front) == headers_of(django)


def test_plain_http_is_redirected_by_django_when_https_is_required(daemon, settings):
    settings.SECURE_SSL_REDIRECT = True
    django, front = both("POST", token_url(), "grant_type=client_credentials")
    assert not getattr(front, "served_by_front", False)
    assert front.status_code == django.status_code == 301
    assert front["Location"] == django["Location"]


def test_a_host_outside_allowed_hosts_is_django_s_400(daemon):
    django, front = both("POST", token_url(), "grant_type=client_credentials", HTTP_HOST="evil.example")
    assert not getattr(front, "served_by_front", False)
    assert front.status_code == django.status_code == 400
    assert front.content == django.content


@pytest.mark.parametrize("path", [token_url(), f"/{TENANT}/{ROPC_POLICY}/discovery/v2.0/keys", "/healthz"])
def test_other_methods_and_endpoints_are_django_s(daemon, path):
    django, front = both("GET", path)
    assert not getattr(front, "served_by_front", False)
    assert front.status_code == django.status_code
    assert front.content == django.content


def test_the_revocation_and_introspection_endpoints_are_served_too(daemon):
    for name in ("revoke", "introspect"):
        django, front = both("POST", f"/{TENANT}/{ROPC_POLICY}/oauth2/v2.0/{name}", "token=x")
        assert getattr(front, "served_by_front", False)
        assert front.status_code == django.status_code
        assert front.content == django.content


def test_an_unexpected_error_is_a_logged_json_500_without_detail(daemon, monkeypatch, caplog):
    def boom(self, request, tenant, policy):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(TokenView, "answer", boom)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        django, front = both("POST", token_url(), "grant_type=client_credentials")
    assert getattr(front, "served_by_front", False)
    assert front.status_code == django.status_code == 500
    assert front.json()["error"] == "server_error" and b"secret internals" not in front.content
    assert front.content == django.content
    assert [r.exc_info[0] for r in caplog.records if r.name == "django.request"] == [RuntimeError, RuntimeError]


def test_a_refusal_is_logged_as_django_logs_it(daemon, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        both("POST", token_url(), "grant_type=client_credentials")
    lines = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert len(lines) == 2 and lines[0] == lines[1]
    assert lines[0].startswith(("Bad Request: /", "Unauthorized: /"))


def test_the_request_has_ended_when_the_front_returns_a_plain_list(daemon):
    """granian writes a list straight out and never calls close() on it: request_finished (database
    connections past their age, caches) must not wait for a close()."""
    finished = []

    def record(**kwargs):
        finished.append(kwargs["sender"])

    request_finished.connect(record)
    try:
        response = ProtocolWSGIClient().post(token_url(), "grant_type=client_credentials", content_type=FORM)
    finally:
        request_finished.disconnect(record)
    assert response.served_by_front
    assert type(response.front_body) is list and not hasattr(response.front_body, "close")
    assert len(finished) == 1


def test_the_view_is_set_up_as_as_view_would(daemon, monkeypatch):
    seen = []
    original = TokenView.reply

    def spy(self, request, *args, **kwargs):
        seen.append((self.request is request, self.kwargs))
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(TokenView, "reply", spy)
    ProtocolWSGIClient().post(token_url(), "grant_type=client_credentials", content_type=FORM)
    assert seen == [(True, {"tenant": TENANT, "policy": ROPC_POLICY})]
