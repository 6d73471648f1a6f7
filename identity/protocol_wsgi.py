"""The WSGI application: the OAuth POST endpoints (token, revocation, introspection) answered without
Django's request handler; every other request, and any of theirs that Django must turn away, by Django.

Why: on the client-credentials path Django's handler, its middleware chain, the class-based-view dispatch
and HttpResponse cost about a third of the request's CPU beyond the RSA signature (issue 5: bench/README).

No rule is copied. The front builds Django's own WSGIRequest and asks the endpoint view's `reply` (the
code path the view's `post` takes, under Django's test client too), and around it does what Django's chain
would do for these endpoints (identity.middleware.ProtocolEndpointMiddleware: they leave the chain right
after SecurityMiddleware): ALLOWED_HOSTS and SecurityMiddleware's https redirect (a request either of them
turns away goes to Django untouched, which answers it as usual), SecurityMiddleware's response headers,
request_started / request_finished (database connections, caches), Django's exception responses and its
django.request log lines for 4xx and 5xx.
"""

import logging
from collections.abc import Callable, Iterable
from types import SimpleNamespace

from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.core.signals import request_finished, request_started
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.urls import set_script_prefix
from django.utils.log import log_response

from identity.middleware import protocol_route
from identity.views.token import OAuthEndpointView, Reply

logger = logging.getLogger(__name__)
StartResponse = Callable[..., object]


class _Secure:
    """What SecurityMiddleware.process_response asks of a request."""

    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def is_secure(self) -> bool:
        return self.secure


def _security_headers(security: SecurityMiddleware, secure: bool) -> list[tuple[str, str]]:
    """The headers SecurityMiddleware adds to a response without them (HSTS on https only), read from
    the middleware itself so they follow its settings."""
    plain = HttpResponse()
    response = security.process_response(_Secure(secure), HttpResponse())
    return [(name, value) for name, value in response.items() if name not in plain]


class _Finished(list):
    """The response body; closing it ends the request as HttpResponse.close() does."""

    def __init__(self, body: bytes, request: WSGIRequest) -> None:
        super().__init__((body,))
        self.request = request

    def close(self) -> None:
        self.request.close()
        request_finished.send(sender=WSGIHandler)


class ProtocolWSGIApplication:
    def __init__(self, django: WSGIHandler) -> None:
        self.django = django
        self.security = SecurityMiddleware(lambda request: HttpResponse())
        self.security_headers = {secure: _security_headers(self.security, secure) for secure in (False, True)}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.django(environ, start_response)
        request = WSGIRequest(environ)
        match = protocol_route(request.path_info)
        view_class = getattr(match.func, "view_class", None) if match is not None else None
        if view_class is None or not issubclass(view_class, OAuthEndpointView) or self._turned_away(request):
            return self.django(environ, start_response)
        set_script_prefix(get_script_name(environ))
        request_started.send(sender=WSGIHandler, environ=environ)
        request.resolver_match = match
        try:
            reply = view_class().reply(request, *match.args, **match.kwargs)
        except Exception as exc:  # as Django's handler: its 4xx for client errors, else a logged 500
            response = response_for_exception(request, exc)
            status, headers, body = f"{response.status_code} {response.reason_phrase}", list(response.items()), \
                response.content
        else:
            status, headers, body = reply.status_line, reply.headers(), reply.body.encode()
            if reply.status >= 400:
                self._log(request, reply)
        present = {name.lower() for name, _ in headers}
        headers += [(name, value) for name, value in self.security_headers[request.is_secure()]
                    if name.lower() not in present]
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return _Finished(body, request)

    def _turned_away(self, request: WSGIRequest) -> bool:
        """A host outside ALLOWED_HOSTS (Django's 400) or plain http to redirect to https (its 301)."""
        try:
            request.get_host()
        except DisallowedHost:
            return True
        return self.security.process_request(request) is not None

    @staticmethod
    def _log(request: WSGIRequest, reply: Reply) -> None:
        # The line Django's handler writes for every 4xx/5xx response ("Unauthorized: /path").
        phrase = reply.status_line.partition(" ")[2]
        log_response("%s: %s", phrase, request.path, response=SimpleNamespace(status_code=reply.status),
                     request=request)
