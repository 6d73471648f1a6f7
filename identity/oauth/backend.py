"""Our OAUTH2_BACKEND_CLASS: how a Django request becomes oauthlib's call.

The policy travels in the path or in `?p=`, which the view has already consumed, so oauthlib (which
refuses any POST with a query string) is given the path alone. The view's TokenContext rides along as
`extra_credentials`.
"""

from oauth2_provider.oauth2_backends import OAuthLibCore
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749.utils import scope_to_list

from identity.oauth.context import KEY

# What oauthlib and our grants read of the request's headers. DOT copies the whole WSGI environ
# (dozens of entries) into oauthlib's case-insensitive dict on every request.
HEADERS = {"HTTP_AUTHORIZATION": "Authorization", "CONTENT_TYPE": "Content-Type", "HTTP_ORIGIN": "Origin"}

# The names oauthlib and our grants keep per-request state under (see IdentityValidator). oauthlib's
# Request answers any form field as an attribute until that attribute is set, so a field named `client`
# or `user` would stand in for state not set yet (a refusal's sign-in record reads both) and turn a
# refusal into a 500. They are not protocol parameters: dropped, as unknown parameters are ignored
# (RFC 6749 §3.2).
REQUEST_STATE = frozenset({
    "client", "user", "scopes", "extra_credentials", "request_token",
    "presented_client", "policy_result", "refresh_token_instance", "user_scopes", "now",
})


class IdentityOAuthLibCore(OAuthLibCore):
    def _get_escaped_full_path(self, request) -> str:
        return request.path

    def extract_headers(self, request) -> dict:
        meta = request.META
        headers = {name: meta[key] for key, name in HEADERS.items() if key in meta}
        if request.is_secure():
            headers["X_DJANGO_OAUTH_TOOLKIT_SECURE"] = "1"
        # The view's TokenContext, for client authentication on every endpoint: oauthlib builds the
        # revocation and introspection requests itself, from these headers, with no extra_credentials.
        # Never a client's header: only the names above are copied from the request.
        if hasattr(request, "token_context"):
            headers[KEY] = request.token_context
        return headers

    def extract_body(self, request) -> list[tuple[str, str]]:
        """The form oauthlib is given, on every endpoint: DOT's, without the fields that would shadow
        request state."""
        return [(key, value) for key, value in super().extract_body(request) if key not in REQUEST_STATE]

    def _get_extra_credentials(self, request) -> dict:
        return {KEY: request.token_context}

    def create_token_response(self, request):
        """oauthlib's TokenEndpoint.create_token_response, minus the detour: DOT would re-encode the form
        for oauthlib to decode again, and the endpoint's checks are already the view's (POST only, no
        query parameters: `refusal`). The oauthlib request is built from the parsed form and handed to
        the grant its grant_type names, as oauthlib dispatches (IdentityServer.grant_types)."""
        server = self.server
        # dict(): the view has refused repeated parameters already.
        oauth_request = Request(request.path, "POST", dict(self.extract_body(request)), self.extract_headers(request))
        oauth_request.scopes = scope_to_list(oauth_request.scope)
        oauth_request.extra_credentials = self._get_extra_credentials(request)
        grant = server.grant_types.get(oauth_request.grant_type, server.default_grant_type_handler)
        headers, body, status = grant.create_token_response(oauth_request, server.default_token_type)
        return None, headers, body, status

    def create_introspect_response(self, request):
        """DOT's core has no introspection wrapper (its view does it alone); ours mirrors revocation."""
        uri, http_method, body, headers = self._extract_params(request)
        headers, body, status = self.server.create_introspect_response(uri, http_method, body, headers)
        return None, headers, body, status
