"""Refresh token redemption (RFC 6749 §6; SPEC §4.2): rotation, revocation, the refresh journey."""

from django.db import transaction
from oauthlib.oauth2.rfc6749.grant_types import RefreshTokenGrant as OAuthlibRefreshTokenGrant

from applications.refresh_tokens import RotationContended
from identity.oauth.grants.base import B2CGrantMixin, require
from identity.oauth.responses import user_token_response


class RefreshTokenGrant(B2CGrantMixin, OAuthlibRefreshTokenGrant):
    grant_type = "refresh_token"

    def issue(self, request) -> dict:
        self.authenticate_client(request)
        require(request, "refresh_token")
        try:
            # Most refreshes: the token is read without a lock and rotated in one step if still live.
            return self._redeem(request, lock=False)
        except RotationContended:
            # Rotated or revoked, before or meanwhile: judged again in one transaction from the row lock on
            # the presented token to its successor's insert (a retry within the grace window, or reuse),
            # from scratch: the first attempt's user may be gone since (its sign-in event must not name it).
            request.user = request.refresh_token_instance = request.policy_result = None
            with transaction.atomic():
                return self._redeem(request, lock=True)

    def _redeem(self, request, *, lock: bool) -> dict:
        self.request_validator.validate_refresh_token(request.refresh_token, request.client, request, lock=lock)
        token = request.refresh_token_instance
        return user_token_response(
            request, request.user_scopes, auth_time=token.auth_time or token.created, predecessor=token
        )
