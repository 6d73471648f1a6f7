"""Our OAUTH2_SERVER_CLASS: oauthlib's token, revocation and introspection endpoints with our grants.

Only the grants of SPEC §4 are routed; any other grant_type (including oauthlib's authorization code
and device grants, which belong to a later milestone) is answered as unsupported.
"""

from oauthlib.oauth2.rfc6749.endpoints import IntrospectEndpoint, RevocationEndpoint, TokenEndpoint

from identity.oauth.grants.base import UnsupportedGrant
from identity.oauth.grants.client_credentials import ClientCredentialsGrant
from identity.oauth.grants.password import PasswordGrant
from identity.oauth.grants.refresh_token import RefreshTokenGrant

UNSUPPORTED = "unsupported"


class IdentityServer(TokenEndpoint, RevocationEndpoint, IntrospectEndpoint):
    def __init__(self, request_validator, **kwargs) -> None:
        grants = {
            "password": PasswordGrant(request_validator),
            "refresh_token": RefreshTokenGrant(request_validator),
            "client_credentials": ClientCredentialsGrant(request_validator),
            UNSUPPORTED: UnsupportedGrant(request_validator),
        }
        TokenEndpoint.__init__(self, default_grant_type=UNSUPPORTED, default_token_type=None, grant_types=grants)
        # Both endpoints keep their token types in one shared attribute, so the revocation rule for
        # access tokens (unsupported_token_type) lives in IdentityValidator.revoke_token instead.
        RevocationEndpoint.__init__(self, request_validator, supported_token_types=("refresh_token", "access_token"))
        IntrospectEndpoint.__init__(self, request_validator, supported_token_types=("refresh_token", "access_token"))
