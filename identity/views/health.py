"""Liveness and readiness probes (SPEC §2): `/healthz` never touches the database, `/readyz` does."""

import logging

from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from identity.views.common import JsonGetView

logger = logging.getLogger(__name__)

# Seconds a load balancer should wait before asking again when the database is unreachable.
READY_RETRY_AFTER = 5


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The driver's message names host and port, never the password; it stays in the log.
        logger.warning("readiness: database unreachable: %s: %s", type(exc).__name__, exc)
        return False
    return True


class HealthView(JsonGetView):
    """GET `/healthz`: the process is up and serving requests."""

    def get(self, request: HttpRequest) -> HttpResponse:
        return _no_store(JsonResponse({"status": "ok"}))


class ReadyView(JsonGetView):
    """GET `/readyz`: 200 when the database answers, else 503 with Retry-After."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if database_reachable():
            return _no_store(JsonResponse({"status": "ready"}))
        response = JsonResponse({"status": "unavailable", "reason": "database unreachable"}, status=503)
        response["Retry-After"] = str(READY_RETRY_AFTER)
        return _no_store(response)
