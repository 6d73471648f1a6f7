"""JSON for every error outside the admin (SPEC §2), and MSAL's user-realm probe.

Django's handler400/403/404/500 render HTML pages; protocol clients parse JSON, so every path but
the admin's gets `{"error", "error_description"}`. The admin keeps Django's own pages.
"""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from identity.views.common import JsonGetView, json_error

ADMIN_PREFIX = "/admin/"


def _is_admin(request: HttpRequest) -> bool:
    return request.path.startswith(ADMIN_PREFIX)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_admin(request):
        return defaults.bad_request(request, exception)
    return json_error(400, "invalid_request", "The request is malformed.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_admin(request):
        return defaults.permission_denied(request, exception)
    return json_error(403, "access_denied", "The request is not allowed.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_admin(request):
        return defaults.page_not_found(request, exception)
    return json_error(404, "not_found", "There is nothing at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    # No detail reaches the caller; Django has already logged the traceback (django.request).
    if _is_admin(request):
        return defaults.server_error(request)
    return json_error(500, "server_error", "The server could not complete the request. Please try again later.")


class UserRealmView(JsonGetView):
    """GET `/common/userrealm/{username}`: always 404.

    MSAL calls it before ROPC; a 404 makes it skip realm discovery for this host and go on to the
    token endpoint, where any other status would raise (notes/msal-python.md). B2C has no realms.
    """

    def get(self, request: HttpRequest, rest: str = "") -> HttpResponse:
        return json_error(404, "not_found", "User realm discovery is not supported: every account is local "
                          "to this tenant.")
