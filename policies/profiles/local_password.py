"""The ROPC credential check (`ResourceOwnerPasswordCredentials-OAUTH2`, Protocol OpenIdConnect).

Input: {OIDC:Username} / {OIDC:Password}. Output: objectId. The refusals use the profile's metadata
messages; "user not found" and "wrong password" share one text unless the policy opts in to B2C's
distinct messages (SPEC §4.1).
"""

from accounts.authentication import CredentialOutcome, check_credentials
from identity.oauth import errors
from policies.journeys import JourneyState, TechnicalProfile

GENERIC = "The username or password provided in the request are invalid."
METADATA = {
    "UserMessageIfClaimsPrincipalDoesNotExist": "We can't seem to find your account",
    "UserMessageIfInvalidPassword": "Your password is incorrect",
    "UserMessageIfOldPasswordUsed": "Looks like you used an old password",
}


def run(state: JourneyState, profile: TechnicalProfile) -> None:
    request = state.request
    check = check_credentials(request.username, request.password)
    if check.outcome is CredentialOutcome.OK:
        state.user = check.user
        state.claims["objectId"] = str(check.user.object_id)
        state.claims["signInName"] = request.username
        return
    raise _refusal(check.outcome, profile, distinct=request.policy.distinct_credential_messages)


def _refusal(outcome: CredentialOutcome, profile: TechnicalProfile, *, distinct: bool) -> errors.TokenError:
    meta = profile.metadata
    if outcome is CredentialOutcome.OLD_PASSWORD:
        return errors.bad_credentials(meta["UserMessageIfOldPasswordUsed"])
    if outcome is CredentialOutcome.NO_LOCAL_PASSWORD:
        return errors.InvalidGrant(
            "This account signs in with an external identity provider and has no local password; "
            "the resource owner password flow supports local accounts only.", b2c_code="AADB2C90225",
        )
    if outcome is CredentialOutcome.TOO_LONG:
        return errors.InvalidRequest("The password is longer than the maximum allowed.")
    if distinct and outcome is CredentialOutcome.UNKNOWN_USER:
        return errors.bad_credentials(meta["UserMessageIfClaimsPrincipalDoesNotExist"])
    if distinct and outcome is CredentialOutcome.WRONG_PASSWORD:
        return errors.bad_credentials(meta["UserMessageIfInvalidPassword"])
    return errors.bad_credentials(GENERIC)
