"""The ROPC credential check (`ResourceOwnerPasswordCredentials-OAUTH2`, Protocol OpenIdConnect).

Input: {OIDC:Username} / {OIDC:Password}. Output: objectId. The refusals use the profile's metadata
messages; "user not found", "wrong password", "old password" and "no local password" share one text
unless the policy opts in to B2C's distinct messages (SPEC §4.1). The sign-in event records the real
reason either way.
"""

from accounts import lockout
from accounts.authentication import CredentialOutcome, check_credentials
from accounts.hashing_gate import HashingBusy
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
    name, password, ip = request.username, request.password, request.client_ip
    # Smart lockout first: a name locked where this attempt comes from is refused without hashing,
    # whether or not it exists. A lock the cache remembers is refused before queueing for a hashing
    # slot; the database is asked once a slot is held, right before the hash (one read, which also says
    # whether a success has an episode to clear or a familiar location to record).
    if lockout.known_locked(name, ip=ip):
        raise errors.account_locked()
    seen: list[lockout.LockState] = []

    def still_allowed() -> bool:
        seen.append(lockout.lock_state(name, ip=ip))
        return seen[-1].locked_until is None

    try:
        # The failure is recorded inside the hashing slot (no transaction is open here: the password
        # grant checks credentials before opening one), so the next queued attempt sees it.
        check = check_credentials(
            name, password, still_allowed=still_allowed,
            on_failure=lambda: lockout.record_failure(name, password, ip=ip),
        )
    except HashingBusy:
        raise errors.TemporarilyUnavailable("Too many sign-ins are being processed; try again shortly.",
                                            retry_after=1) from None
    if check.outcome is CredentialOutcome.OK:
        # Nothing to clear when the name had no failures here a moment ago and this location's familiarity
        # is fresh: no write on the usual sign-in. A failure recorded concurrently in between then stays
        # counted (the safe side).
        if not seen or seen[-1].episode:
            lockout.record_success(name, ip=ip)
        state.user = check.user
        state.claims["objectId"] = str(check.user.object_id)
        state.claims["signInName"] = name
        return
    if check.outcome is CredentialOutcome.LOCKED:
        raise errors.account_locked()
    raise _refusal(check.outcome, profile, distinct=request.policy.distinct_credential_messages)


def _refusal(outcome: CredentialOutcome, profile: TechnicalProfile, *, distinct: bool) -> errors.TokenError:
    meta = profile.metadata
    if outcome is CredentialOutcome.OLD_PASSWORD:
        # Like the others, only where the policy opted in: otherwise "old password" would confirm to any
        # caller that the name exists and that a guessed password was once right (issue 18 item 7).
        text = meta["UserMessageIfOldPasswordUsed"] if distinct else GENERIC
        return errors.bad_credentials(text, detail="Old password used.")
    if outcome is CredentialOutcome.NO_LOCAL_PASSWORD:
        # Its own message only where the policy opted in to distinct messages: otherwise it would tell
        # a caller that the name exists. The reason still reaches the sign-in event (detail).
        text = ("This account signs in with an external identity provider and has no local password; "
                "the resource owner password flow supports local accounts only.") if distinct else GENERIC
        return errors.bad_credentials(text, detail="No local password (the account signs in elsewhere).")
    if outcome is CredentialOutcome.TOO_LONG:
        return errors.InvalidRequest("The password is longer than the maximum allowed.")
    # The client may get one text for both (no user enumeration); the admin's sign-in log tells them apart.
    if outcome is CredentialOutcome.UNKNOWN_USER:
        text = meta["UserMessageIfClaimsPrincipalDoesNotExist"] if distinct else GENERIC
        return errors.bad_credentials(text, detail="Unknown sign-in name.")
    text = meta["UserMessageIfInvalidPassword"] if distinct else GENERIC
    return errors.bad_credentials(text, detail="Wrong password.")
