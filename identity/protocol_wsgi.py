"""The WSGI application: the OAuth POST endpoints (token, revocation, introspection) answered without
Django's request handler; every other request, and any of theirs that Django must turn away, by Django.

Why: Django's handler, its middleware chain, the class-based-view dispatch and HttpResponse cost ~0.07 ms
of a client-credentials token's ~0.75 ms in-process, a tenth of the server's work per token (issue 5).

No protocol rule is copied: the front builds Django's own WSGIRequest and asks the endpoint view's
`reply` (the code path the view's `post` takes, under Django's test client too). Around it, it does what
Django's chain does for these endpoints, which leave the chain right after SecurityMiddleware
(identity.middleware.ProtocolEndpointMiddleware): ALLOWED_HOSTS and the https redirect (a request either
would turn away goes to Django untouched, which answers it as usual), Content-Length, SecurityMiddleware's
response headers, request_started / request_finished (database connections, caches), Django's responses
to exceptions and its django.request log line for each 4xx and 5xx. The tests run every flow through both.
"""

from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest, get_script_name
from django.core.signals import request_finished, request_started
from django.http import HttpResponse
from django.middleware.security import SecurityMiddleware
from django.urls import ResolverMatch, set_script_prefix
from django.utils.log import log_response

from identity.middleware import protocol_route
from identity.views.token import OAuthEndpointView

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
    plain = HttpResponse()  # its own headers (Content-Type) are not the middleware's
    response = security.process_response(_Secure(secure), HttpResponse())
    return [(name, value) for name, value in response.items() if name not in plain]


class ProtocolWSGIApplication:
    def __init__(self, django: WSGIHandler) -> None:
        self.django = django
        self.security = SecurityMiddleware(lambda request: HttpResponse())
        self.security_headers = {secure: _security_headers(self.security, secure) for secure in (False, True)}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.django(environ, start_response)
        request = WSGIRequest(environ)
        match = protocol_route(request.path_info)
        view_class = getattr(match.func, "view_class", None) if match is not None else None
        if view_class is None or not issubclass(view_class, OAuthEndpointView) or self._turned_away(request):
            return self.django(environ, start_response)
        set_script_prefix(get_script_name(environ))
        request_started.send(sender=WSGIHandler, environ=environ)
        try:
            status, headers, body = self._answer(request, match)
        finally:
            # Django ends a request when the server closes the response. granian never closes a list (it
            # writes one straight out), and this body is complete already: the request ends here.
            _finish(request)
        start_response(status, headers)
        return [body]

    def _answer(self, request: WSGIRequest, match: ResolverMatch) -> tuple[str, list[tuple[str, str]], bytes]:
        """(status line, headers, body) as Django's handler would send them for this view."""
        try:
            view = match.func.view_class(**match.func.view_initkwargs)
            view.setup(request, *match.args, **match.kwargs)
            request.resolver_match = match
            reply = view.reply(request, *match.args, **match.kwargs)
            status, headers, body = reply.status_line, reply.headers(), reply.body.encode()
            answered: Any = SimpleNamespace(status_code=reply.status)
            security = self.security_headers[request.is_secure()]  # a Reply never sets any of them
        except Exception as exc:  # as Django's handler: its 4xx for client errors, else a logged 500
            answered = response_for_exception(request, exc)
            status, headers, body = _status_line(answered), list(answered.items()), answered.content
            security = [(name, value) for name, value in self.security_headers[request.is_secure()]
                        if name not in answered]  # as the middleware's setdefault
        if answered.status_code >= 400:
            # The line Django's handler writes for every 4xx/5xx ("Unauthorized: /path"), once.
            log_response("%s: %s", status.partition(" ")[2], request.path, response=answered, request=request)
        headers.append(("Content-Length", str(len(body))))  # where ProtocolEndpointMiddleware adds it
        return status, headers + security, body

    def _turned_away(self, request: WSGIRequest) -> bool:
        """A host outside ALLOWED_HOSTS (Django's 400) or plain http to redirect to https (its 301)."""
        try:
            request.get_host()
        except DisallowedHost:
            return True
        return self.security.process_request(request) is not None


def _status_line(response: HttpResponse) -> str:
    return f"{response.status_code} {response.reason_phrase}"


def _finish(request: WSGIRequest) -> None:
    """What HttpResponse.close() does at the end of a request: the request's files, then request_finished
    (database connections past their age or broken, caches, the URLconf)."""
    try:
        request.close()
    finally:
        request_finished.send(sender=WSGIHandler)
