"""Web admin for policies (SPEC §5, §6): lifetimes within B2C's bounds, output claims, audited."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from policies.models import Policy
from tests.admin.conftest import errors_of, form_data

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§5")]

ADD_URL = reverse("admin:policies_policy_add")


def change_url(policy: Policy) -> str:
    return reverse("admin:policies_policy_change", args=[policy.pk])


def add_data(admin, **overrides) -> dict:
    data = form_data(admin.get(ADD_URL))
    data.update({"policy_id": "B2C_1_Admin_Test", **overrides})
    return {k: v for k, v in data.items() if v is not None}


def test_creating_a_policy_calls_the_service_with_defaults_and_is_audited(admin, admin_user):
    response = admin.post(ADD_URL, add_data(admin))
    assert response.status_code == 302, errors_of(response)
    policy = Policy.objects.get(policy_id="B2C_1_Admin_Test")
    assert (policy.access_token_lifetime_minutes, policy.refresh_token_lifetime_days,
            policy.rolling_refresh_token_lifetime_days) == (60, 14, 90)
    assert policy.output_claim_types() == ["objectId", "displayName", "givenName", "surname"]
    event = AuditEvent.objects.get(action="policy.create")
    assert event.actor == admin_user and event.details["access_token_lifetime_minutes"] == 60


@pytest.mark.parametrize(("overrides", "field", "message"), [
    # The service's words, the same as createpolicy prints (policies.services.policy_validate).
    ({"access_token_lifetime_minutes": "4"}, "access_token_lifetime_minutes",
     "Access token lifetime (minutes) must be between 5 and 1440 (got 4)."),
    ({"id_token_lifetime_minutes": "1441"}, "id_token_lifetime_minutes", "must be between 5 and 1440 (got 1441)"),
    ({"refresh_token_lifetime_days": "91"}, "refresh_token_lifetime_days", "must be between 1 and 90 (got 91)"),
    ({"rolling_refresh_token_lifetime_days": "366"}, "rolling_refresh_token_lifetime_days",
     "Sliding window (days) must be between 1 and 365"),
    ({"refresh_token_lifetime_days": "30", "rolling_refresh_token_lifetime_days": "20"},
     "rolling_refresh_token_lifetime_days", "sliding window (20 days) cannot be shorter"),
    ({"policy_id": "MyPolicy"}, "policy_id", "must start with B2C_1_"),
    ({"policy_id": "not a policy id"}, "policy_id", "Invalid policy id 'not a policy id': it must start with"),
    ({"policy_id": "b2c_1_ropc_auth"}, "policy_id", "A policy 'B2C_1_ROPC_Auth' already exists"),
])
def test_out_of_bounds_settings_are_shown_and_nothing_is_written(admin, policy, overrides, field, message):
    response = admin.post(ADD_URL, add_data(admin, **overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    assert "Constraint" not in errors_of(response)  # the clear message only, not the database's
    assert list(Policy.objects.values_list("policy_id", flat=True)) == ["B2C_1_ROPC_Auth"]
    assert not AuditEvent.objects.filter(actor__isnull=False).exists()


def test_empty_sliding_window_means_no_expiry(admin, policy):
    data = form_data(admin.get(change_url(policy)))
    data["rolling_refresh_token_lifetime_days"] = ""
    assert admin.post(change_url(policy), data).status_code == 302
    policy.refresh_from_db()
    assert policy.rolling_refresh_token_lifetime_days is None
    assert "No expiry" in admin.get(reverse("admin:policies_policy_changelist")).content.decode()


def test_editing_lifetimes_and_output_claims_goes_through_the_service(admin, policy):
    data = form_data(admin.get(change_url(policy)))
    assert "policy_id" not in data  # read-only once created: clients name the policy by it
    data.update(access_token_lifetime_minutes="90", output_claims=["objectId", "emails"])
    assert admin.post(change_url(policy), data).status_code == 302
    policy.refresh_from_db()
    assert policy.access_token_lifetime_minutes == 90
    assert policy.output_claim_types() == ["objectId", "emails"]
    event = AuditEvent.objects.get(action="policy.update")
    assert event.details["access_token_lifetime_minutes"] == 90
    assert event.details["output_claims"] == ["objectId", "emails"]


def test_deleting_a_policy_is_audited(admin, policy):
    response = admin.post(reverse("admin:policies_policy_delete", args=[policy.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Policy.objects.exists()
    assert AuditEvent.objects.get(action="policy.delete").details == {"policy_id": "B2C_1_ROPC_Auth"}
