"""createpolicy and rotatekeys (SPEC §7, §3)."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from identity.keys.models import SigningKey
from identity.keys.selectors import jwks
from identity.keys.services import RETIRED_KEY_PUBLISHED_FOR
from policies.models import Policy

POLICY_KEYS = {
    "policy_id", "created", "kind", "enabled", "access_token_lifetime_minutes", "id_token_lifetime_minutes",
    "refresh_token_lifetime_days", "rolling_refresh_token_lifetime_days", "issuer_pattern", "subject_claim",
    "policy_claim", "distinct_credential_messages", "output_claims",
}


def test_createpolicy_creates_a_ropc_policy_with_b2c_defaults(run):
    out = run("createpolicy", "B2C_1_ROPC_Auth")
    assert "Created policy B2C_1_ROPC_Auth" in out
    data = run.json("createpolicy", "B2C_1_ROPC_Auth")
    assert set(data) == POLICY_KEYS
    assert data == {
        "policy_id": "B2C_1_ROPC_Auth", "created": False, "kind": "ropc", "enabled": True,
        "access_token_lifetime_minutes": 60, "id_token_lifetime_minutes": 60, "refresh_token_lifetime_days": 14,
        "rolling_refresh_token_lifetime_days": 90, "issuer_pattern": "AuthorityAndTenantGuid",
        "subject_claim": "ObjectID", "policy_claim": "tfp", "distinct_credential_messages": False,
        "output_claims": ["objectId", "displayName", "givenName", "surname"],
    }
    assert Policy.objects.count() == 1


def test_createpolicy_sets_every_option(run):
    data = run.json(
        "createpolicy", "B2C_1A_Custom", "--kind", "ropc", "--access-token-minutes", "30", "--id-token-minutes",
        "15", "--refresh-token-days", "7", "--sliding-window-days", "30", "--issuer-pattern", "AuthorityWithTfp",
        "--subject-claim", "NotSupported", "--policy-claim", "acr", "--output-claims", "displayName, emails",
        "--disabled", "--distinct-credential-messages",
    )
    assert data["created"] is True
    assert (data["access_token_lifetime_minutes"], data["id_token_lifetime_minutes"]) == (30, 15)
    assert (data["refresh_token_lifetime_days"], data["rolling_refresh_token_lifetime_days"]) == (7, 30)
    assert (data["issuer_pattern"], data["subject_claim"], data["policy_claim"]) == (
        "AuthorityWithTfp", "NotSupported", "acr")
    assert data["output_claims"] == ["displayName", "emails"]
    assert data["enabled"] is False and data["distinct_credential_messages"] is True
    assert AuditEvent.objects.get(action="policy.create").actor_label == "manage.py createpolicy"


def test_createpolicy_updates_only_the_given_settings_of_an_existing_policy(run, policy):
    run("createpolicy", "B2C_1_ROPC_Auth", "--access-token-minutes", "30", "--no-sliding-expiry")
    data = run.json("createpolicy", "b2c_1_ropc_auth", "--enabled", "--no-distinct-credential-messages")
    assert data["policy_id"] == "B2C_1_ROPC_Auth"  # matched case-insensitively, not created twice
    assert data["created"] is False
    assert data["access_token_lifetime_minutes"] == 30
    assert data["rolling_refresh_token_lifetime_days"] is None
    assert data["output_claims"] == ["objectId", "displayName", "givenName", "surname"]
    assert Policy.objects.count() == 1
    assert "sliding window no expiry" in run("createpolicy", "B2C_1_ROPC_Auth")


@pytest.mark.parametrize(("args", "message"), [
    (("Foo",), "Invalid policy id"),
    (("B2C_1_has space",), "Invalid policy id"),
    (("not a policy id",), "Invalid policy id 'not a policy id': it must start with B2C_1_ (a user flow) or B2C_1A_"),
    (("B2C_1_" + "x" * 123,), "at most 128 characters in all"),
    (("B2C_1_X", "--access-token-minutes", "4"), "between 5 and 1440"),
    (("B2C_1_X", "--id-token-minutes", "1441"), "between 5 and 1440"),
    (("B2C_1_X", "--refresh-token-days", "91"), "between 1 and 90"),
    (("B2C_1_X", "--sliding-window-days", "366"), "between 1 and 365"),
    (("B2C_1_X", "--refresh-token-days", "30", "--sliding-window-days", "20"), "cannot be shorter"),
    (("B2C_1_X", "--issuer-pattern", "Tfp"), "Unknown issuer_pattern 'Tfp'"),
    (("B2C_1_X", "--subject-claim", "oid"), "Unknown subject_claim"),
    (("B2C_1_X", "--policy-claim", "xyz"), "Unknown policy_claim"),
    (("B2C_1_X", "--kind", "magic"), "Unknown kind"),
    (("B2C_1_X", "--output-claims", "displayName,shoeSize"), "Unknown output claim 'shoeSize'"),
    (("B2C_1_X", "--sliding-window-days", "30", "--no-sliding-expiry"), "not allowed with argument"),
    (("B2C_1_X", "--enabled", "--disabled"), "not allowed with argument"),
    (("B2C_1_X", "--access-token-minutes", "ten"), "invalid int value"),
])
def test_createpolicy_rejects_bad_input_and_writes_nothing(run, args, message):
    assert message in run.fails("createpolicy", *args)


def test_a_failed_update_leaves_the_policy_as_it_was(run, policy):
    run.fails("createpolicy", "B2C_1_ROPC_Auth", "--access-token-minutes", "30", "--output-claims", "emails,bogus")
    policy.refresh_from_db()
    assert policy.access_token_lifetime_minutes == 60
    assert policy.output_claim_types() == ["objectId", "displayName", "givenName", "surname"]


def test_rotatekeys_creates_the_first_key(run):
    data = run.json("rotatekeys")
    key = SigningKey.objects.get(active=True)
    assert data["kid"] == key.kid and data["key_size"] == key.key_size >= 2048
    assert data["published_kids"] == [key.kid]
    assert data["published"] == [{"kid": key.kid, "active": True, "published_until": None}]
    assert AuditEvent.objects.get(action="signing_key.rotate").actor_label == "manage.py rotatekeys"


def test_rotatekeys_keeps_the_previous_key_published_until_its_tokens_expire(run):
    first = run.json("rotatekeys")["kid"]
    out = run("rotatekeys")
    second = SigningKey.objects.get(active=True).kid
    assert second != first
    assert f"New signing key: {second}" in out and first in out
    data = run.json("rotatekeys")
    assert set(data) == {"kid", "key_size", "published_kids", "published"}
    assert data["published_kids"][0] == data["kid"]
    assert set(data["published_kids"]) == {data["kid"], first, second}
    assert {k["kid"] for k in jwks()["keys"]} == set(data["published_kids"])
    retired = next(k for k in data["published"] if k["kid"] == first)
    assert retired["active"] is False
    expected = timezone.now() + RETIRED_KEY_PUBLISHED_FOR
    assert abs(datetime.fromisoformat(retired["published_until"]) - expected) < timedelta(minutes=1)


def test_rotatekeys_retire_now_withdraws_the_active_key_and_says_what_signs_now(run):
    compromised = run.json("rotatekeys")["kid"]
    data = run.json("rotatekeys", "--retire-now", compromised)
    active = SigningKey.objects.get(active=True)
    assert data == {
        "withdrawn_kid": compromised, "changed": True, "new_key": True, "kid": active.kid,
        "key_size": active.key_size, "published_kids": [active.kid],
        "published": [{"kid": active.kid, "active": True, "published_until": None}],
    }
    assert compromised not in {k["kid"] for k in jwks()["keys"]}
    assert AuditEvent.objects.get(action="signing_key.withdraw").actor_label == "manage.py rotatekeys"
    out = run("rotatekeys", "--retire-now", compromised)
    assert out.startswith(f"Signing key {compromised} was no longer published: nothing changed.")


def test_rotatekeys_retire_now_of_a_retired_key_keeps_the_active_one(run):
    old = run.json("rotatekeys")["kid"]
    active = run.json("rotatekeys")["kid"]
    out = run("rotatekeys", "--retire-now", old)
    assert out.startswith(f"Withdrew signing key {old} from the JWKS")
    assert "New signing key" not in out
    assert SigningKey.objects.get(active=True).kid == active
    assert {k["kid"] for k in jwks()["keys"]} == {active}


def test_rotatekeys_retire_now_of_an_unknown_kid_fails_and_changes_nothing(run):
    run("rotatekeys")
    assert run.fails("rotatekeys", "--retire-now", "no-such-kid") == "No signing key has the kid 'no-such-kid'."
