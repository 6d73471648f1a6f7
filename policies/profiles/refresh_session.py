"""`SM-RefreshTokenReadAndSetup` (Protocol None): the presented refresh token's subject and issue time."""

from policies.journeys import JourneyState, TechnicalProfile


def run(state: JourneyState, profile: TechnicalProfile) -> None:
    token = state.request.refresh_token
    # The user row came with the token, in the same read: the directory read that follows
    # (AAD-UserReadUsingObjectId-CheckRefreshTokenDate) starts from it instead of a second query.
    state.user = token.user if token.user_id else None
    state.claims["objectId"] = str(token.user.object_id) if token.user_id else None
    state.claims["refreshTokenIssuedOnDateTime"] = token.created
    state.claims["authTime"] = token.auth_time
