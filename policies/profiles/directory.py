"""Directory reads by objectId (`AAD-UserReadUsingObjectId…`, Protocol Proprietary).

The plain read also enforces what a password sign-in needs of the account (SPEC §4.1): enabled,
no MFA requirement, password not expired, consent to the requested delegated scopes. The refresh
variant raises AADB2C90128 for a deleted user and reads refreshTokensValidFromDateTime.
"""

from django.db.models import Q

from accounts.models import User
from applications.models import ConsentGrant
from identity.oauth import errors
from policies.journeys import JourneyState, TechnicalProfile

LOCAL_ACCOUNT = "LocalAccount"


def _user_claims(user: User) -> dict:
    return {
        "objectId": str(user.object_id),
        "displayName": user.display_name or user.get_full_name(),
        "givenName": user.given_name,
        "surname": user.surname,
        "email": user.email,
        "emails": [user.email] if user.email else [],
        "identityProvider": LOCAL_ACCOUNT,
        "signInName": user.username or user.email,
        "refreshTokensValidFromDateTime": user.refresh_tokens_valid_from,
    }


def read(state: JourneyState, profile: TechnicalProfile) -> None:
    user = state.user or User.objects.filter(object_id=state.claims.get("objectId")).first()
    if user is None or user.is_staff:  # an admin account is not in the directory (issue 17)
        raise errors.account_deleted()
    state.user = user
    state.claims.update(_user_claims(user))
    if profile.metadata.get("CheckAccountForPasswordSignIn") == "true":
        try:
            _check_account(state, user)
        except errors.TokenError as exc:
            exc.user = user  # the password was right: the sign-in event names the user
            raise
    elif not user.is_active:
        # Disabling moved refreshTokensValidFromDateTime (SPEC §4.2): the refresh answer is "revoked".
        raise errors.grant_revoked("Account disabled (its refresh tokens are revoked).")
    else:
        _check_consent(state, user)  # consent withdrawn since the sign-in stops refreshes too


def _check_account(state: JourneyState, user: User) -> None:
    if not user.is_active:
        raise errors.account_disabled()
    if user.password_expired:
        raise errors.InvalidGrant(
            "The password has expired. The user must change it in an interactive sign-in before using this flow."
        )
    if user.mfa_required:
        raise errors.InteractionRequired(
            "The user must complete multi-factor authentication, which the resource owner password flow "
            "does not support. Use an interactive sign-in."
        )
    _check_consent(state, user)


def _check_consent(state: JourneyState, user: User) -> None:
    missing = _scopes_without_consent(state, user)
    if missing:
        raise errors.InvalidGrant(
            f"consent_required: the user or an administrator has not consented to use the application "
            f"with scope(s) {' '.join(missing)}."
        )


def _scopes_without_consent(state: JourneyState, user: User) -> list[str]:
    scopes = state.request.delegated_scopes
    if not scopes:
        return []
    # Tenant-wide admin consent (user empty) or this user's own consent.
    granted = set(
        ConsentGrant.objects.filter(Q(user=user) | Q(user__isnull=True), client=state.request.client, scope__in=scopes)
        .values_list("scope_id", flat=True)
    )
    return [s.value for s in scopes if s.pk not in granted]
