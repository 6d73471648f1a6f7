"""Our OAUTH2_BACKEND_CLASS: how a Django request becomes oauthlib's call.

The policy travels in the path or in `?p=`, which the view has already consumed, so oauthlib (which
refuses any POST with a query string) is given the path alone. The view's TokenContext rides along as
`extra_credentials`.
"""

from oauth2_provider.oauth2_backends import OAuthLibCore

from identity.oauth.context import KEY

# What oauthlib and our grants read of the request's headers. DOT copies the whole WSGI environ
# (dozens of entries) into oauthlib's case-insensitive dict on every request.
HEADERS = {"HTTP_AUTHORIZATION": "Authorization", "CONTENT_TYPE": "Content-Type", "HTTP_ORIGIN": "Origin"}


class IdentityOAuthLibCore(OAuthLibCore):
    def _get_escaped_full_path(self, request) -> str:
        return request.path

    def extract_headers(self, request) -> dict:
        meta = request.META
        headers = {name: meta[key] for key, name in HEADERS.items() if key in meta}
        if request.is_secure():
            headers["X_DJANGO_OAUTH_TOOLKIT_SECURE"] = "1"
        return headers

    def _get_extra_credentials(self, request) -> dict:
        return {KEY: request.token_context}

    def create_introspect_response(self, request):
        """DOT's core has no introspection wrapper (its view does it alone); ours mirrors revocation."""
        uri, http_method, body, headers = self._extract_params(request)
        headers, body, status = self.server.create_introspect_response(uri, http_method, body, headers)
        return None, headers, body, status
