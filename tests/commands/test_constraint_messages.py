"""Every database constraint of accounts, applications and policies is met by a service rule that says what
is wrong in words, never by Django's "Constraint … is violated." (issue 17, item 7).

CASES names each constraint once and how input that would break it is answered: a command that fails
with the rule's message (and writes nothing), a command that makes the duplicate harmless, a service call,
or why no input can reach it. A constraint added without a case fails the first test. The admin side is in
tests/admin/test_validation_messages.py, test_policies.py and test_applications.py.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from applications import services as applications
from applications.certificates import client_certificate_add
from applications.models import AppRoleAssignment, ClientSecret, ConsentGrant, RedirectUri, RequiredPermission
from policies.models import Policy, PolicyOutputClaim
from tests.applications.certificate_maker import certificate, pem
from tests.conftest import ACTOR

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§7")]

API_URI = "https://contoso.onmicrosoft.com/tasks-api"


@dataclass(frozen=True)
class Fails:
    """A command refused with the rule's words; `run.fails` also checks that nothing was written."""

    args: tuple[str, ...]
    message: str
    stdin: str | None = None


@dataclass(frozen=True)
class Harmless:
    """A command given the duplicate (in its arguments, or by running it again) succeeds and stores it once."""

    args: tuple[str, ...]
    count: Callable[[], int]
    times: int = 1


@dataclass(frozen=True)
class ServiceRefuses:
    """No command writes it; the service the admin and the API call refuses in words."""

    call: Callable[[dict], object]
    message: str


@dataclass(frozen=True)
class NotFromInput:
    """The service builds these values itself; no input reaches the constraint."""

    why: str


CASES = {
    # accounts.User
    "user_has_sign_in_name": Fails(("createuser", " "), "A user needs a user name or an email address"),
    "user_username_well_formed": Fails(("createuser", "bob@contoso.test"), "A user name cannot contain '@'"),
    "user_email_well_formed": Fails(("createuser", "bob", "--email", "bob@"), "Invalid email address 'bob@': an "
                                    "email sign-in name looks like name@contoso.com"),
    # Directory users and admin accounts have sign-in names of their own kind.
    "user_username_unique_directory": Fails(("createuser", "ALICE"), "The sign-in name 'alice' is already in use."),
    "user_email_unique_directory": Fails(("createuser", "zed", "--email", "Alice@contoso.test"),
                                         "The sign-in name 'alice@contoso.test' is already in use."),
    "user_username_unique_admin": Fails(("createadmin", "Admin", "--password-stdin"),
                                        "The sign-in name 'admin' is already in use.", stdin="Admin-Pass-123456\n"),
    "user_email_unique_admin": Fails(("createadmin", "other", "--email", "admin@contoso.test", "--password-stdin"),
                                     "The sign-in name 'admin@contoso.test' is already in use.",
                                     stdin="Admin-Pass-123456\n"),
    # accounts.FederatedIdentity
    "federated_identity_unique": NotFromInput(
        "written only by the user admin's inline (no command or service yet); Django's form validation answers "
        "'Federated identity with this Issuer and Subject already exists.'"),
    "federated_identity_not_blank": NotFromInput(
        "written only by the user admin's inline, whose issuer and subject are required fields"),
    # accounts.SignInThrottle
    "sign_in_throttle_name_location": NotFromInput(
        "rows are written only by accounts.lockout, with keyed hashes it computes and INSERT ... ON CONFLICT "
        "DO NOTHING"),
    # applications.Application
    "application_client_id_uuid": Fails(("registerapp", "X", "--client-id", "12"), "Client id must be a UUID such as"),
    "application_app_id_uri_unique_ci": Fails(("registerapp", "X", "--app-id-uri", API_URI.upper()),
                                              "is already the App ID URI of 'Tasks API'"),
    "application_client_type_known": ServiceRefuses(
        lambda f: applications.application_update(
            application=_with(f["DAEMON_APP"], client_type="daemon"), changed=["client_type"], actor=ACTOR),
        "Client type must be 'confidential' or 'public' (got 'daemon')."),
    "application_app_id_uri_well_formed": Fails(("registerapp", "X", "--app-id-uri", "notauri"),
                                                "App ID URI: 'notauri' is not a URI"),
    # applications.RedirectUri
    "redirect_uri_unique_per_app": Harmless(("registerapp", "X", "--redirect-uri", "myapp://auth", "myapp://auth"),
                                            lambda: RedirectUri.objects.filter(uri="myapp://auth").count()),
    "redirect_uri_well_formed": Fails(("registerapp", "X", "--redirect-uri", "not a uri"),
                                      "Redirect URI 'not a uri' is not valid: give an absolute URI with a scheme"),
    # applications.AppRole
    "app_role_value_unique_per_app": Fails(("addapprole", "API", "app.read"),
                                           "'Tasks API' already has an app role 'app.read'"),
    "app_role_id_unique_per_app": Fails(("addapprole", "API", "x.read", "--id", "ROLE_ID"),
                                        "'Tasks API' already has an app role with id"),
    "app_role_value_no_spaces": Fails(("addapprole", "API", "app read"),
                                      "value must be a non-empty string without spaces"),
    "app_role_has_member_type": Fails(("addapprole", "API", "x.read", "--member-types", ","),
                                      "allowedMemberTypes must list at least one of Application, User"),
    # applications.DelegatedScope
    "scope_value_unique_per_app": ServiceRefuses(
        lambda f: [applications.delegated_scope_add(application=f["API_APP"], actor=ACTOR, value="tasks.read")
                   for _ in range(2)],
        "'Tasks API' already exposes a scope 'tasks.read'."),
    "scope_id_unique_per_app": NotFromInput("scope ids are generated by delegated_scope_add (uuid4)"),
    "scope_value_no_spaces": ServiceRefuses(
        lambda f: applications.delegated_scope_add(application=f["API_APP"], actor=ACTOR, value="tasks read"),
        "value must be a non-empty string without spaces"),
    # applications.RequiredPermission
    "permission_one_target": NotFromInput("permission_add resolves each value to one app role or one scope"),
    "permission_role_unique": Harmless(("addpermission", "DAEMON", "API", "app.read", "app.read"),
                                       lambda: RequiredPermission.objects.filter(app_role__value="app.read").count()),
    "permission_scope_unique": Harmless(("addpermission", "DAEMON", "API", "tasks.read", "tasks.read"),
                                        lambda: RequiredPermission.objects.filter(scope__isnull=False).count()),
    # applications.ConsentGrant
    "consent_one_target": NotFromInput("admin_consent_grant copies the one target of each requested permission"),
    "consent_role_is_admin_only": NotFromInput("only admin_consent_grant grants app roles, always tenant-wide"),
    "consent_role_unique": Harmless(("grantconsent", "DAEMON"),
                                    lambda: ConsentGrant.objects.filter(app_role__isnull=False).count(), times=2),
    "consent_scope_tenant_unique": Harmless(("grantconsent", "DAEMON"),
                                            lambda: ConsentGrant.objects.filter(scope__isnull=False).count(), times=2),
    "consent_scope_user_unique": NotFromInput("no service grants a user's own consent yet (interactive sign-in)"),
    # applications.AppRoleAssignment
    "app_role_assignment_unique": Harmless(("assignapprole", "alice", "API", "user.read"),
                                           lambda: AppRoleAssignment.objects.count(), times=2),
    # applications.ClientCertificate
    "client_certificate_unique_per_app": ServiceRefuses(
        lambda f: [client_certificate_add(application=f["DAEMON_APP"], certificate=f["CERTIFICATE"], actor=ACTOR)
                   for _ in range(2)],
        "This certificate is already registered on the app."),
    "client_certificate_valid_period": NotFromInput(
        "the period is read from the parsed certificate; client_certificate_add refuses an expired or empty one"),
    "client_certificate_sha1_hex": NotFromInput("thumbprints are computed from the certificate"),
    "client_certificate_sha256_hex": NotFromInput("thumbprints are computed from the certificate"),
    # applications.ClientSecret
    "client_secret_expires_later": Fails(("addsecret", "DAEMON", "--expires-days", "0"),
                                         "A secret must expire in 1 to 730 days (got 0)."),
    "client_secret_hash_present": NotFromInput("client_secret_add hashes the value it generates"),
    # applications.RefreshToken
    "refresh_token_checksum_unique": NotFromInput("refresh tokens are random, generated by the token endpoint"),
    # policies.Policy
    # createpolicy creates or updates (SPEC §7, idempotent); the admin's add form refuses a taken id in words.
    "policy_id_unique_ci": Harmless(("createpolicy", "b2c_1_ropc_AUTH"), lambda: Policy.objects.count()),
    "policy_id_well_formed": Fails(("createpolicy", "not a policy id"), "Invalid policy id 'not a policy id': it "
                                   "must start with B2C_1_"),
    "policy_token_lifetimes_in_bounds": Fails(("createpolicy", "B2C_1_X", "--id-token-minutes", "4"),
                                              "ID token lifetime (minutes) must be between 5 and 1440 (got 4)."),
    "policy_refresh_lifetime_in_bounds": Fails(("createpolicy", "B2C_1_X", "--refresh-token-days", "0"),
                                               "Refresh token lifetime (days) must be between 1 and 90 (got 0)."),
    "policy_sliding_window_in_bounds": Fails(
        ("createpolicy", "B2C_1_X", "--refresh-token-days", "30", "--sliding-window-days", "20"),
        "The sliding window (20 days) cannot be shorter than the refresh token lifetime (30 days)"),
    # policies.PolicyOutputClaim
    "policy_output_claim_unique": Harmless(
        ("createpolicy", "B2C_1_X", "--output-claims", "objectId,objectId"),
        lambda: PolicyOutputClaim.objects.filter(policy__policy_id="B2C_1_X", claim_type="objectId").count()),
    "policy_output_claim_known": Fails(("createpolicy", "B2C_1_X", "--output-claims", "shoeSize"),
                                       "Unknown output claim 'shoeSize'"),
}


def _with(instance, **changes):
    for name, value in changes.items():
        setattr(instance, name, value)
    return instance


def constraint_names() -> set[str]:
    return {
        constraint.name
        for label in ("accounts", "applications", "policies")
        for model in apps.get_app_config(label).get_models()
        for constraint in model._meta.constraints
    }


def test_every_constraint_has_a_case():
    assert set(CASES) == constraint_names()


@pytest.fixture
def directory(run, user, admin_user, policy, api_app, daemon_app) -> dict:
    """An API with roles and a scope, a daemon that requests them: what the cases refer to by name."""
    applications.delegated_scope_add(application=api_app, actor=ACTOR, value="tasks.read")
    run("addpermission", daemon_app.client_id, API_URI, "app.read", "tasks.read")
    applications.app_role_add(application=api_app, actor=ACTOR, value="user.read", member_types="User")
    return {
        "CERTIFICATE": pem(certificate()),
        "API": api_app.client_id, "DAEMON": daemon_app.client_id, "API_APP": api_app, "DAEMON_APP": daemon_app,
        "ROLE_ID": str(api_app.app_roles.get(value="app.read").role_id),
    }


@pytest.mark.parametrize("name", sorted(CASES))
def test_input_that_would_break_a_constraint_is_answered_in_words(run, directory, name):
    case = CASES[name]
    if isinstance(case, Fails):
        message = run.fails(*(directory.get(a, a) for a in case.args), stdin=case.stdin)
        assert case.message in message
        assert "Constraint" not in message and "violated" not in message
    elif isinstance(case, Harmless):
        for _ in range(case.times):
            run(*(directory.get(a, a) for a in case.args))
        assert case.count() == 1
    elif isinstance(case, ServiceRefuses):
        with pytest.raises(ValidationError) as excinfo:
            case.call(directory)
        assert case.message in " ".join(excinfo.value.messages)
        assert "Constraint" not in str(excinfo.value)
    else:
        assert case.why


def test_a_secret_never_reaches_its_constraints_empty(directory):
    secret, _ = applications.client_secret_add(application=directory["DAEMON_APP"], actor=ACTOR, expires_days=1)
    stored = ClientSecret.objects.get(pk=secret.pk)
    assert stored.secret_hash and stored.expires_at > stored.created_at
