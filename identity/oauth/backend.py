"""Our OAUTH2_BACKEND_CLASS: how a Django request becomes oauthlib's call.

The policy travels in the path or in `?p=`, which the view has already consumed, so oauthlib (which
refuses any POST with a query string) is given the path alone. The view's TokenContext rides along as
`extra_credentials`.
"""

from oauth2_provider.oauth2_backends import OAuthLibCore

from identity.oauth.context import KEY


class IdentityOAuthLibCore(OAuthLibCore):
    def _get_escaped_full_path(self, request) -> str:
        return request.path

    def _get_extra_credentials(self, request) -> dict:
        return {KEY: request.token_context}

    def create_introspect_response(self, request):
        """DOT's core has no introspection wrapper (its view does it alone); ours mirrors revocation."""
        uri, http_method, body, headers = self._extract_params(request)
        headers, body, status = self.server.create_introspect_response(uri, http_method, body, headers)
        return None, headers, body, status
