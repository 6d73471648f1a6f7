"""Protocol endpoints skip the browser middleware but keep what they need from it (identity/middleware.py)."""

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import OperationalError

from identity import middleware
from identity.views.token import TokenView
from tests.flows.token_helpers import ROPC_POLICY, post_token, token_url

pytestmark = pytest.mark.spec("ISSUE-5", "no middleware work the token endpoint does not need")

TENANT = "contoso.onmicrosoft.com"


def test_the_token_endpoint_answers_without_the_session_and_csrf_middleware(client, policy, monkeypatch):
    calls = []
    monkeypatch.setattr(SessionMiddleware, "process_request", lambda self, request: calls.append(request.path))
    response = post_token(client, {"grant_type": "client_credentials"})
    assert response.status_code in (400, 401)
    assert calls == []
    assert response.cookies == {}
    assert response["Content-Length"] == str(len(response.content))  # not chunked
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still ran
    assert response["Content-Type"] == "application/json"


def test_the_admin_still_gets_the_whole_chain(client, db, monkeypatch):
    calls = []
    original = SessionMiddleware.process_request

    def spy(self, request):
        calls.append(request.path)
        return original(self, request)

    monkeypatch.setattr(SessionMiddleware, "process_request", spy)
    client.get("/admin/login/")
    assert calls == ["/admin/login/"]


@pytest.mark.parametrize("path", [
    f"/{TENANT}/{ROPC_POLICY}/discovery/v2.0/keys",
    f"/{TENANT}/{ROPC_POLICY}/v2.0/.well-known/openid-configuration",
    "/healthz",
])
def test_metadata_endpoints_take_the_short_path_too(client, policy, path):
    assert middleware.protocol_route(path) is not None
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(response.content))


def test_other_paths_are_not_protocol_routes():
    assert middleware.protocol_route("/admin/login/") is None
    assert middleware.protocol_route("/no/such/path") is None


def test_a_host_outside_allowed_hosts_is_still_refused(client, policy):
    response = client.post(token_url(ROPC_POLICY), "grant_type=client_credentials",
                           content_type="application/x-www-form-urlencoded", HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_an_unreachable_database_is_still_a_503(client, policy, monkeypatch):
    def down(self, request, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(TokenView, "post", down)
    response = post_token(client, {"grant_type": "client_credentials"})
    assert response.status_code == 503
    assert response["Retry-After"] and response.json()["error"] == "temporarily_unavailable"
