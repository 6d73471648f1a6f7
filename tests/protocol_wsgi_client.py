"""A Django test client whose OAuth POSTs go through the WSGI front (identity.protocol_wsgi), as under
gunicorn or granian, and everything else through Django's test handler.

The flow tests run with both clients (the `client` fixture of tests/flows and tests/hardening), so every
token, revocation and introspection request they make is checked on both paths a deployment can take.
"""

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client
from django.test.client import ClientHandler

from identity.protocol_wsgi import ProtocolWSGIApplication


class _Declined(Exception):
    """The front handed the request to Django."""


def _decline(environ, start_response):
    raise _Declined


class ProtocolWSGIClientHandler(ClientHandler):
    front = None

    def __call__(self, environ):
        if self.front is None:  # on the first request, as Django's handler loads its middleware
            self.front = ProtocolWSGIApplication(_decline)
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        # As ClientHandler: the test's transaction must outlive the request's connection handling.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            body = self.front(environ, start_response)
        except _Declined:
            return super().__call__(environ)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        content = b"".join(body)
        response = HttpResponse(content, status=int(captured["status"].split()[0]))
        for name in list(response.headers):
            del response.headers[name]
        for name, value in captured["headers"]:
            response.headers[name] = value
        # Not the request the view saw (its body is read): enough for what the test client reads from it.
        response.wsgi_request = WSGIRequest(environ)
        response.served_by_front = True
        response.front_body = body
        return response


class ProtocolWSGIClient(Client):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.handler = ProtocolWSGIClientHandler(self.handler.enforce_csrf_checks)


@pytest.fixture(params=["django", "wsgi-front"])
def client(request):
    """Django's test client, then the same requests through the WSGI front."""
    return Client() if request.param == "django" else ProtocolWSGIClient()
