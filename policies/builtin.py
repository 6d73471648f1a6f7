"""The built-in user flows as journeys, named after the seed's ids (b2c-ropc-custom-policy.md,
b2c-client-credentials.md), so that importing the seed's XML later yields the same objects."""

from policies.journeys import TechnicalProfile, UserJourney
from policies.profiles import client_credentials, directory, local_password, refresh_session
from policies.transformations import BUILTIN as T

ROPC_PROFILE = TechnicalProfile(
    id="ResourceOwnerPasswordCredentials-OAUTH2", handler=local_password.run, metadata=local_password.METADATA,
)
USER_READ = TechnicalProfile(
    id="AAD-UserReadUsingObjectId", handler=directory.read, metadata={"CheckAccountForPasswordSignIn": "true"},
)
USER_READ_CHECK_REFRESH_DATE = TechnicalProfile(
    id="AAD-UserReadUsingObjectId-CheckRefreshTokenDate", handler=directory.read,
    metadata={"RaiseErrorIfClaimsPrincipalDoesNotExist": "true"},
    output_transformations=(T["AssertRefreshTokenIssuedLaterThanValidFromDate"],),
)
REFRESH_SETUP = TechnicalProfile(id="SM-RefreshTokenReadAndSetup", handler=refresh_session.run)
CLIENT_CREDENTIALS_SETUP = TechnicalProfile(id="ClientCredentials_Setup", handler=client_credentials.run)

JOURNEYS = {
    "password": UserJourney("ResourceOwnerPasswordCredentials", (ROPC_PROFILE, USER_READ)),
    "refresh_token": UserJourney(
        "ResourceOwnerPasswordCredentials-RedeemRefreshToken", (REFRESH_SETUP, USER_READ_CHECK_REFRESH_DATE)
    ),
    "client_credentials": UserJourney("ClientCredentialsJourney", (CLIENT_CREDENTIALS_SETUP,)),
}
