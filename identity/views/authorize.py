"""`/{tenant}/{policy}/oauth2/v2.0/authorize`: served, so that discovery advertises no 404 (issue 17, item 6).

Interactive sign-in (authorization code + PKCE) is a later milestone (SPEC §9), but the discovery document
must name an authorization endpoint: OIDC Discovery §3 marks `authorization_endpoint` REQUIRED and MSAL
Python reads it unconditionally. This endpoint tells whoever arrives there, in a JSON error, that no
response type is available here and what to use instead. It never redirects: redirecting an error to a
`redirect_uri` the server has not validated would make it an open redirector (RFC 6749 §4.1.2.1 says to
inform the resource owner directly when the redirect URI cannot be trusted).
"""

from django.http import HttpRequest, HttpResponse

from identity.text import echo
from identity.views.common import JsonGetView, MissingPolicy, NotServed, UnknownPolicy, find_policy, json_error

NOT_AVAILABLE = (
    "Interactive sign-in is not available on this server: the authorization endpoint issues no code or token. "
    "Use the token endpoint of the discovery document: grant_type=password (ROPC), refresh_token or "
    "client_credentials."
)


class AuthorizeView(JsonGetView):
    """GET or POST (OIDC Core §3.1.2.1 allows both) `/{tenant}/{policy}/oauth2/v2.0/authorize`,
    and `/{tenant}/oauth2/v2.0/authorize?p={policy}`."""

    http_method_names = ["get", "post", "head", "options"]

    def get(self, request: HttpRequest, tenant: str, policy: str | None = None) -> HttpResponse:
        # Only the query: a POST's body is never read (it may be large and is of no use here).
        policy_id = policy or request.GET.get("p")
        try:
            find_policy(tenant, policy_id)
        except MissingPolicy:
            return json_error(400, "invalid_request", "The request names no policy: use "
                              "/{tenant}/{policy}/oauth2/v2.0/authorize or add ?p={policy}.")
        except UnknownPolicy as exc:
            return json_error(404, "not_found", f"The policy '{echo(exc.policy_id)}' does not exist in tenant "
                              f"'{echo(exc.tenant)}'.")
        except NotServed as exc:
            return json_error(404, "not_found", exc.description)
        return json_error(400, "unsupported_response_type", NOT_AVAILABLE)

    def post(self, request: HttpRequest, tenant: str, policy: str | None = None) -> HttpResponse:
        return self.get(request, tenant, policy)
