"""The B2C token response of user grants (SPEC §4.1, §4.2): exactly the fields B2C returns."""

from datetime import datetime

from applications.assignments import user_roles_for_tokens
from applications.models import RefreshToken
from applications.refresh_tokens import refresh_token_issue, refresh_token_rotate
from identity.oauth import tokens
from identity.oauth.context import context_of
from identity.oauth.scopes import UserScopes
from policies.models import Policy


def user_token_response(
    request, scopes: UserScopes, *, auth_time: datetime, predecessor: RefreshToken | None = None
) -> dict:
    policy: Policy = context_of(request).policy
    client, result, now = request.client, request.policy_result, request.now
    epoch, auth_epoch = int(now.timestamp()), int(auth_time.timestamp())
    object_id = result.claims["objectId"]
    # The app roles assigned to the user on each token's audience: read fresh for every token, so an
    # assignment removed since the sign-in is gone from the next refresh.
    roles = user_roles_for_tokens(user=result.user, applications=(scopes.resource, client if scopes.openid else None))
    body: dict = {}
    if scopes.resource is not None:
        body["access_token"] = tokens.user_access_token(
            policy, client=client, resource=scopes.resource, subject=result.subject, object_id=object_id,
            scopes=[s.value for s in scopes.delegated], now=now.timestamp(), auth_time=auth_epoch,
            roles=roles.get(scopes.resource.pk, ()),
        )
    if scopes.openid:
        body["id_token"] = tokens.id_token(
            policy, client=client, subject=result.subject, output_claims=result.id_token_claims,
            now=now.timestamp(), auth_time=auth_epoch, roles=roles.get(client.pk, ()),
        )
    lifetime = (policy.access_token_lifetime_minutes if "access_token" in body else policy.id_token_lifetime_minutes)
    body.update(token_type="Bearer", not_before=epoch, expires_in=lifetime * 60, expires_on=epoch + lifetime * 60)
    if scopes.resource is not None:
        body["resource"] = scopes.resource.client_id
    if scopes.openid:
        body["id_token_expires_in"] = policy.id_token_lifetime_minutes * 60
    body["profile_info"] = tokens.profile_info(
        subject=object_id if policy.subject_claim == Policy.SubjectClaim.OBJECT_ID else None,
        name=result.claims.get("displayName") or None, preferred_username=result.claims.get("signInName"),
        idp=result.claims.get("identityProvider", "LocalAccount"),
    )
    body["scope"] = scopes.scope_string
    if predecessor is not None or scopes.offline_access:
        if predecessor is not None:  # RFC 6749 §6: the successor keeps the family and scope it replaces
            value, token = refresh_token_rotate(
                old=predecessor, client=client, user=result.user, policy=policy, auth_time=auth_time, now=now,
            )
        else:
            value, token = refresh_token_issue(client=client, user=result.user, policy=policy, now=now,
                                               auth_time=auth_time, scope=scopes.scope_string)
        body["refresh_token"] = value
        body["refresh_token_expires_in"] = int((token.expires_at - now).total_seconds())
    if getattr(request, "client_info", "") == "1":
        body["client_info"] = tokens.client_info(object_id=object_id, policy=policy)
    return body
