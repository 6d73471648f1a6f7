"""A client's mistake is one log line, never a traceback (issue 18 item 9): bad Host headers, bodies in
another charset; server errors keep their traceback. Checked through the console handler that settings'
LOGGING configures, on both WSGI paths (Django's handler and the protocol front)."""

import io
import logging

import pytest
from django.test import Client

from identity.logs import PATH_MAX, ClientErrorOneLine
from tests.protocol_wsgi_client import ProtocolWSGIClientHandler

pytestmark = pytest.mark.django_db

TOKEN = "/contoso.onmicrosoft.com/B2C_1_ROPC_Auth/oauth2/v2.0/token"


@pytest.fixture
def log():
    """What the configured console handler writes during the test."""
    [handler] = [h for h in logging.getLogger().handlers
                 if any(isinstance(f, ClientErrorOneLine) for f in h.filters)]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@pytest.fixture(params=["django", "wsgi-front"])
def client(request):
    client = Client(raise_request_exception=False)
    if request.param == "wsgi-front":
        client.handler = ProtocolWSGIClientHandler(enforce_csrf_checks=False)
    return client


def lines(log) -> list[str]:
    return log.getvalue().splitlines()


@pytest.mark.parametrize(("method", "path"), [("GET", "/healthz"), ("POST", TOKEN), ("GET", "/admin/")])
def test_a_bad_host_header_is_one_line_naming_logger_reason_and_path(client, log, policy, method, path):
    response = client.generic(method, path, b"grant_type=password", content_type="application/x-www-form-urlencoded",
                              HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert lines(log) == [f"django.security.DisallowedHost: Invalid HTTP_HOST header: 'evil.example'. You may need "
                          f"to add 'evil.example' to ALLOWED_HOSTS. (path {path})"]


def test_a_body_in_another_charset_is_one_line(client, log):
    response = client.generic("POST", "/admin/login/", "username=a".encode("utf-16"),
                              content_type="application/x-www-form-urlencoded; charset=utf-16")
    assert response.status_code == 400
    assert lines(log) == ["django.request: HTTP requests with the 'application/x-www-form-urlencoded' content type "
                          "must be UTF-8 encoded. (path /admin/login/)"]


def test_what_the_client_sent_is_escaped_and_truncated(client, log):
    client.get("/x%0AFAKE%20LINE" + "a" * 1000, HTTP_HOST="\u00e9vil.example")
    [line] = lines(log)
    assert line.startswith("django.security.DisallowedHost: Invalid HTTP_HOST header: '\\xe9vil.example'.")
    assert line.endswith(f"(path {'/x' + chr(92) + 'nFAKE LINE' + 'a' * (PATH_MAX - 13)}…)")


def test_a_server_error_keeps_its_traceback_and_other_lines_stay_as_they_are(log):
    logger = logging.getLogger("django.request")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        logger.error("Internal Server Error: /x", exc_info=True, extra={"status_code": 500})
    logger.warning("Not Found: /nothing", extra={"status_code": 404})
    text = log.getvalue()
    assert "Internal Server Error: /x\nTraceback (most recent call last):" in text and "RuntimeError: a bug" in text
    assert text.endswith("Not Found: /nothing\n")


def test_a_refusal_django_already_logs_in_one_line_is_left_as_it_is(log):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/admin/login/", {"username": "a"}).status_code == 403  # no CSRF cookie
    assert lines(log) == ["Forbidden (CSRF cookie not set.): /admin/login/"]
