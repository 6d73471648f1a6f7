"""Policies: B2C's defaults and bounds, idempotent create-or-update (SPEC §5)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from policies.models import Policy
from policies.selectors import policy_find
from policies.services import policy_create_or_update, policy_id_available, policy_validate
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


def test_a_new_policy_has_b2c_defaults(policy):
    assert (policy.access_token_lifetime_minutes, policy.id_token_lifetime_minutes) == (60, 60)
    assert (policy.refresh_token_lifetime_days, policy.rolling_refresh_token_lifetime_days) == (14, 90)
    compatibility = (policy.issuer_pattern, policy.subject_claim, policy.policy_claim)
    assert compatibility == ("AuthorityAndTenantGuid", "ObjectID", "tfp")
    assert policy.output_claim_types() == ["objectId", "displayName", "givenName", "surname"]
    assert not policy.distinct_credential_messages


def test_policy_ids_match_case_insensitively_and_updates_are_idempotent(policy):
    assert policy_find("b2c_1_ropc_auth") == policy
    updated, created = policy_create_or_update(
        actor=ACTOR, policy_id="B2C_1_ropc_AUTH", refresh_token_lifetime_days=None
    )
    assert not created and updated.pk == policy.pk and Policy.objects.count() == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"access_token_lifetime_minutes": 4}, "between 5 and 1440"),
        ({"id_token_lifetime_minutes": 1441}, "between 5 and 1440"),
        ({"refresh_token_lifetime_days": 91}, "between 1 and 90"),
        ({"rolling_refresh_token_lifetime_days": 366}, "between 1 and 365"),
        ({"refresh_token_lifetime_days": 30, "rolling_refresh_token_lifetime_days": 20}, "cannot be shorter"),
        ({"issuer_pattern": "Whatever"}, "Unknown issuer_pattern"),
    ],
)
def test_out_of_bounds_settings_are_refused_and_nothing_is_written(db, settings, message):
    with pytest.raises(ValidationError, match=message):
        policy_create_or_update(actor=ACTOR, policy_id="B2C_1_x", **settings)
    assert not Policy.objects.exists()


@pytest.mark.parametrize("policy_id", ["ROPC", "B2C_2_x", "B2C_1_has space", "B2C_1_", "not a policy id",
                                       "B2C_1_" + "x" * 123])
def test_policy_ids_must_look_like_b2c_ones(db, policy_id):
    with pytest.raises(ValidationError) as excinfo:
        policy_create_or_update(actor=ACTOR, policy_id=policy_id)
    assert excinfo.value.messages == [
        f"Invalid policy id '{policy_id}': it must start with B2C_1_ (a user flow) or B2C_1A_ (a custom policy) and "
        "go on with letters, digits, '_', '.' or '-', at most 128 characters in all, e.g. B2C_1_ROPC_Auth."
    ]
    assert not Policy.objects.exists()


def test_every_broken_rule_is_reported_at_once_keyed_by_its_setting(db):
    probe = Policy(policy_id="Nope", access_token_lifetime_minutes=2, refresh_token_lifetime_days=30,
                   rolling_refresh_token_lifetime_days=20, subject_claim="oid")
    with pytest.raises(ValidationError) as excinfo:
        policy_validate(probe)
    assert sorted(excinfo.value.message_dict) == [
        "access_token_lifetime_minutes", "policy_id", "rolling_refresh_token_lifetime_days", "subject_claim",
    ]
    assert excinfo.value.message_dict["rolling_refresh_token_lifetime_days"] == [
        "The sliding window (20 days) cannot be shorter than the refresh token lifetime (30 days); make it at "
        "least as long, or choose no expiry."
    ]


def test_a_taken_policy_id_is_named_with_its_stored_spelling(policy):
    with pytest.raises(ValidationError, match=r"A policy 'B2C_1_ROPC_Auth' already exists \(policy ids are case-ins"):
        policy_id_available("b2c_1_ropc_AUTH")
    policy_id_available("B2C_1_Other")


def test_no_sliding_expiry_is_b2cs_no_expiry(db):
    policy, _ = policy_create_or_update(actor=ACTOR, policy_id="B2C_1A_x", no_sliding_expiry=True)
    assert policy.rolling_refresh_token_lifetime_days is None


def test_the_database_enforces_the_bounds_too(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Policy.objects.create(policy_id="B2C_1_x", access_token_lifetime_minutes=2000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Policy.objects.create(policy_id="not_a_policy")
    Policy.objects.create(policy_id="B2C_1_x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Policy.objects.create(policy_id="b2c_1_X")
