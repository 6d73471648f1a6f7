"""A database that cannot be reached is a 503 with Retry-After, never a 500 (issue "hardening": outages).

Connection-level failures only (OperationalError, InterfaceError): they say "come back later". Other
database errors are bugs and stay 500s (as JSON, by identity.views.errors), so they get noticed.
"""

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> JsonResponse:
    response = JsonResponse(
        {"error": "temporarily_unavailable", "error_description": "The service is temporarily unavailable; "
         "try again shortly."}, status=503,
    )
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
