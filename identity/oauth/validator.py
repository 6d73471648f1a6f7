"""Our OAUTH2_VALIDATOR_CLASS: DOT's validator with the hooks B2C semantics need, each delegating.

Per-request state lives on the oauthlib request (DOT shares one validator across threads):
`request.client`, `request.presented_client`, `request.policy_result`, `request.refresh_token_instance`.
"""

from oauth2_provider.oauth2_validators import OAuth2Validator

from applications.refresh_tokens import refresh_token_redeem, refresh_token_revoke
from identity.oauth import errors
from identity.oauth.client_auth import (
    ASSERTION,
    NONE,
    authenticate_confidential,
    load_client,
    presented_client,
)
from identity.oauth.client_quota import client_admitted, failures_counted
from identity.oauth.context import KEY, context_of
from identity.oauth.introspection import (
    access_token_claims,
    access_token_introspect,
    looks_like_jwt,
    refresh_token_introspect,
)
from identity.oauth.scopes import refresh_scopes
from policies.engine import PolicyRequest, evaluate


class IdentityValidator(OAuth2Validator):
    def request_client(self, request):
        """Load the client once per request, from the body or the Basic header."""
        if getattr(request, "presented_client", None) is None:
            with failures_counted(request):
                request.presented_client = presented_client(request)
                request.client = load_client(request.presented_client.client_id)
            request.client_id = request.client.client_id
        return request.client

    def client_authentication_required(self, request, *args, **kwargs) -> bool:
        """RFC 6749 §3.2.1: confidential clients authenticate; public ones must not send a secret."""
        client = self.request_client(request)
        if client.is_public:
            with failures_counted(request):
                if request.presented_client.method == ASSERTION:
                    raise errors.public_client_sent_assertion()
                if request.presented_client.method != NONE:
                    raise errors.public_client_sent_secret()
            return False
        return True

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        """A confidential client's secret or assertion; then it counts against its own quota."""
        client = self.request_client(request)
        with failures_counted(request):
            authenticate_confidential(client, request.presented_client, request)
        client_admitted(request)
        return True

    def authenticate_client_id(self, client_id, request, *args, **kwargs) -> bool:
        """A public client that exists (it has no secret to check) counts against its own quota."""
        if not self.request_client(request).is_public:
            return False
        client_admitted(request)
        return True

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs) -> bool:
        """SPEC §4: ROPC is a per-app capability; client credentials need a confidential client.

        Decided here from the app, never through DOT's RFC 9700 password-grant gate (ARCHITECTURE).
        """
        if client.allows_grant_type(grant_type):
            return True
        if grant_type == "password":
            raise errors.ropc_not_enabled()
        if grant_type == "client_credentials":
            raise errors.UnauthorizedClient("Public clients cannot use the client credentials grant.")
        raise errors.UnauthorizedClient(f"The client may not use the grant type '{grant_type}'.")

    def validate_user(self, username, password, client, request, *args, **kwargs) -> bool:
        """SPEC §4.1: the policy's password journey decides; a refusal raises its typed error."""
        request.policy_result = evaluate(PolicyRequest(
            policy=context_of(request).policy, grant_type="password", client=client, username=username,
            password=password, delegated_scopes=request.user_scopes.delegated, client_ip=context_of(request).client_ip,
        ))
        request.user = request.policy_result.user
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, lock: bool = True, **kwargs) -> bool:
        """SPEC §4.2: binding, rotation, expiry (redeem), then the policy's refresh journey."""
        policy = context_of(request).policy
        token = refresh_token_redeem(value=refresh_token, client=client, policy=policy, now=request.now, lock=lock)
        request.refresh_token_instance = token
        request.user_scopes = refresh_scopes(
            original_scope=token.scope, requested=request.scopes or token.scope.split(),
            resource_param=getattr(request, "resource", ""), client=client,
        )
        request.policy_result = evaluate(PolicyRequest(
            policy=policy, grant_type="refresh_token", client=client, refresh_token=token,
            delegated_scopes=request.user_scopes.delegated,
        ))
        request.user = request.policy_result.user
        return True

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs) -> None:
        """RFC 7009 §2.1: a refresh token issued to this client is revoked with its family; public clients
        may revoke theirs too (a native app's logout: they authenticate by client_id alone, as §2.1
        allows). `token_type_hint` is only a hint: the type is read from the token itself, so a refresh
        token sent as `access_token` is still revoked, and any other hint value is ignored.

        Access tokens are self-contained JWTs: one of this client's is `unsupported_token_type`
        (§2.2.1). Anything else — unknown, expired, another client's — is 200 and changes nothing (§2.2),
        so the endpoint says nothing about tokens that are not the caller's.
        """
        if looks_like_jwt(token):  # our refresh tokens are base64url, never dotted
            claims = access_token_claims(token)
            if claims is not None and claims.get("azp") == request.client.client_id:
                raise errors.UnsupportedTokenType()
            return
        refresh_token_revoke(value=token, client=request.client)

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs) -> dict | None:
        """RFC 7662, for confidential clients: the token's audience or the client it was issued to, at its
        own policy's endpoint (identity/oauth/introspection.py says why). The hint is ignored likewise."""
        if request.client.is_public:
            raise errors.UnauthorizedClient("Introspection is for confidential clients.")
        policy = request.headers[KEY].policy
        if looks_like_jwt(token):
            return access_token_introspect(token, request.client, policy)
        return refresh_token_introspect(token, request.client, policy)

    def rotate_refresh_token(self, request) -> bool:
        return True
