"""Middleware: protocol endpoints straight to their views, and database outages as 503s.

A database that cannot be reached is a 503 with Retry-After, never a 500 (issue "hardening": outages).
Connection-level failures only (OperationalError, InterfaceError): they say "come back later". Other
database errors are bugs and stay 500s (as JSON, by identity.views.errors), so they get noticed.
"""

import logging
from collections.abc import Callable
from functools import lru_cache

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, ResolverMatch, resolve

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = {"error": "temporarily_unavailable",
                        "error_description": "The service is temporarily unavailable; try again shortly."}


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(DATABASE_UNAVAILABLE, status=503)
    response["Cache-Control"] = "no-store"
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            logger.error("database unavailable at %s: %s", request.path, type(exception).__name__)
            return database_unavailable_response()
        return None


@lru_cache(maxsize=1024)
def protocol_route(path: str) -> ResolverMatch | None:
    """The URL map's match for a protocol endpoint's path, else None. Cached: clients send the same few
    paths over and over; a stream of distinct paths only cycles the bounded cache."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match if getattr(getattr(match.func, "view_class", None), "protocol_endpoint", False) else None


class ProtocolEndpointMiddleware:
    """Token, revocation, introspection, discovery and JWKS requests go straight to their views.

    They are machine-to-machine JSON endpoints with no session, cookie, CSRF token, login or page to
    frame, so the browser middleware after this one (sessions, common, CSRF, auth, messages,
    clickjacking) would only cost time on the busiest path. What of it they need stays: SecurityMiddleware
    runs before this one (HTTPS redirect, HSTS, nosniff); the host is checked against ALLOWED_HOSTS and
    Content-Length set as CommonMiddleware would; an unreachable database is a 503 as
    DatabaseUnavailableMiddleware makes it. Under a WSGI server the OAuth POSTs never reach this chain:
    identity.protocol_wsgi answers them with the same rules (this path serves the test client, and GETs).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = protocol_route(request.path_info)
        if match is None:
            return self.get_response(request)
        request.get_host()  # DisallowedHost -> 400, as for every other URL
        request.resolver_match = match
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except (OperationalError, InterfaceError) as exc:
            logger.error("database unavailable at %s: %s", request.path, type(exc).__name__)
            response = database_unavailable_response()
        if not response.streaming and "Content-Length" not in response:
            response["Content-Length"] = str(len(response.content))  # as CommonMiddleware: no chunking
        return response
