"""The admin's confirmation pages, the secret shown once, the permission picker, the overview and the
administrators, clicked through in headless Chromium at 1366 px, with screenshots (issue 17)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By

from accounts import services as accounts
from accounts.models import User
from applications import services as applications
from applications.models import Application, ClientSecret, ConsentGrant
from identity.keys.models import SigningKey
from identity.keys.services import signing_key_rotate
from policies import services as policies
from tests.conftest import ACTOR, DEMO_PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice(transactional_db) -> User:
    user = accounts.user_create(actor=ACTOR, username="alice", email="alice@contoso.test", password=DEMO_PASSWORD,
                                display_name="Alice Example")
    User.objects.filter(pk=user.pk).update(refresh_tokens_valid_from=timezone.now() - timedelta(days=3))
    return user


@pytest.fixture
def apps(transactional_db) -> dict[str, Application]:
    api = applications.application_register(actor=ACTOR, name="Tasks API",
                                            app_id_uri="https://contoso.onmicrosoft.com/tasks-api")
    applications.app_role_add(application=api, actor=ACTOR, value="app.read", display_name="Read tasks")
    applications.app_role_add(application=api, actor=ACTOR, value="app.write", display_name="Write tasks")
    applications.delegated_scope_add(application=api, actor=ACTOR, value="tasks.read", display_name="Read tasks",
                                     description="Read the signed-in user's tasks")
    daemon = applications.application_register(actor=ACTOR, name="Nightly job")
    return {"api": api, "daemon": daemon}


def test_revoke_sessions_and_disable_ask_first_and_say_what_happens(signed_in, alice):
    b = signed_in
    b.go(f"/admin/accounts/user/{alice.pk}/change/")
    before = b.find(".field-refresh_tokens_valid_from_display time").get_attribute("datetime")
    b.click_text("Revoke sessions", "a")
    assert "Revoke the sessions of alice?" in b.text and "every refresh token issued until now" in b.text
    b.screenshot("confirm-revoke-sessions")
    b.click("#tf-cancel")
    assert b.path == f"/admin/accounts/user/{alice.pk}/change/"
    alice.refresh_from_db()
    assert alice.refresh_tokens_valid_from.isoformat().startswith(before[:19].replace("Z", ""))

    b.click_text("Revoke sessions", "a")
    b.click("#tf-confirm")
    assert "Revoked the sessions of alice" in b.text
    shown = b.find(".field-refresh_tokens_valid_from_display time")
    assert shown.text.endswith(" UTC") and len(shown.text) == len("2026-12-06 23:01:05 UTC")
    assert shown.get_attribute("title") > before  # the ISO instant on hover moved to now
    b.screenshot("user-after-revoke-sessions")

    b.click_text("Disable", "a")
    assert "Disable alice?" in b.text and "can no longer sign in" in b.text
    b.screenshot("confirm-disable-user")
    b.click("#tf-confirm")
    alice.refresh_from_db()
    assert not alice.is_active


def test_a_new_secret_is_shown_once_and_a_reload_makes_no_other(signed_in, apps):
    b = signed_in
    daemon = apps["daemon"]
    b.go(f"/admin/applications/application/{daemon.pk}/new-secret/")
    b.find("#id_description").send_keys("CI pipeline")
    b.find("input[name=expires][value='90']").click()
    b.screenshot("secret-add")
    b.click("input[type=submit][value='Add secret']")
    value = b.find("#secret-value").text
    secret = ClientSecret.objects.get()
    assert value.startswith(secret.hint) and "will never be shown again" in b.text
    assert (secret.expires_at - secret.created_at).days == 90
    b.screenshot("secret-created-shown-once")
    b.driver.refresh()
    assert "was shown once" in b.text and value not in b.driver.page_source
    assert ClientSecret.objects.count() == 1
    b.screenshot("secret-after-reload")


def test_deleting_a_secret_and_going_public_ask_first(signed_in, apps):
    b = signed_in
    daemon = apps["daemon"]
    applications.client_secret_add(application=daemon, actor=ACTOR, description="CI pipeline", expires_days=12)
    b.go(f"/admin/applications/application/{daemon.pk}/change/")
    assert "Expires soon (in 11 days)" in b.text or "Expires soon (in 12 days)" in b.text
    b.screenshot("app-with-expiring-secret")

    b.find("input[name=client_type][value=public]").click()
    b.click("input[name=_save]")
    assert "Make Nightly job a public client and delete its 1 client secret(s) and 0 certificate(s)?" in b.text
    b.screenshot("confirm-make-public")
    b.click("#tf-cancel")
    daemon.refresh_from_db()
    assert not daemon.is_public and ClientSecret.objects.count() == 1

    b.go(f"/admin/applications/application/{daemon.pk}/change/")
    b.click("a.deletelink[href*='/secrets/']")
    assert "Delete the client secret" in b.text and "cannot be undone" in b.text
    b.screenshot("confirm-delete-secret")
    b.click("#tf-confirm")
    assert "Deleted the client secret" in b.text and not ClientSecret.objects.exists()


def test_the_permission_picker_searches_requests_and_consent_asks_first(signed_in, apps):
    b = signed_in
    daemon = apps["daemon"]
    b.go(f"/admin/applications/application/{daemon.pk}/permissions/")
    rows = b.find_all(".tf-picker-option")
    assert len(rows) == 3
    b.find("#permission-search").send_keys("write")
    visible = [r for r in rows if r.is_displayed()]
    assert [r.find_element(By.CSS_SELECTOR, "code").text for r in visible] == ["app.write"]
    b.screenshot("permission-picker-search")
    b.find("#permission-search").clear()
    b.find("#permission-search").send_keys("x")  # nothing matches
    assert b.find("#picker-empty").is_displayed()
    b.find("#permission-search").clear()
    b.find("#permission-search").send_keys(" ")
    for value in ("app.read", "app.write"):
        b.driver.find_element(By.XPATH, f"//tr[.//code[text()='{value}']]//input[@type='checkbox']").click()
    b.click("#permission-picker input[type=submit]")
    assert "Requested 2 permission(s)" in b.text and b.text.count("Not granted for contoso.onmicrosoft.com") == 2
    assert [r.find_element(By.CSS_SELECTOR, "code").text for r in b.find_all(".tf-picker-option")] == ["tasks.read"]
    b.click("#grant-consent")
    assert "Grant admin consent for contoso.onmicrosoft.com to 2 permission(s) of Nightly job?" in b.text
    b.screenshot("confirm-grant-consent")
    b.click("#tf-confirm")
    assert b.text.count("Granted for contoso.onmicrosoft.com") == 2 and ConsentGrant.objects.count() == 2
    b.screenshot("permissions-granted")
    # Removing a granted permission asks first, and takes its admin consent with it (issue 18 item 5).
    b.driver.find_element(By.XPATH, "//table[@id='permissions']//tr[.//code[text()='app.write']]"
                                    "//input[@value='Remove…']").click()
    assert "Remove app.write and revoke its admin consent for contoso.onmicrosoft.com?" in b.text
    b.screenshot("confirm-remove-granted-permission")
    b.click("#tf-confirm")
    assert "Removed app.write and revoked its admin consent." in b.text
    assert [g.app_role.value for g in ConsentGrant.objects.all()] == ["app.read"]
    assert "Other permissions granted" not in b.text


def test_the_overview_gives_the_msal_values_and_sets_an_app_id_uri(signed_in, apps):
    policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_ROPC_Auth")
    b = signed_in
    daemon = apps["daemon"]
    b.go(f"/admin/applications/application/{daemon.pk}/change/")
    b.click_text("Overview", "a")
    assert daemon.client_id in b.text and "/b2c_1_ropc_auth/oauth2/v2.0/token" in b.text
    assert b.fits_width()
    b.click("#set-app-id-uri input[type=submit]")
    daemon.refresh_from_db()
    assert daemon.app_id_uri == f"api://{daemon.client_id}" and "App ID URI of Nightly job set" in b.text
    b.screenshot("app-overview")


def test_rotating_keys_asks_first(signed_in):
    first = signing_key_rotate(actor=ACTOR)
    b = signed_in
    b.go("/admin/identity/signingkey/")
    b.click_text("Rotate keys", "a")
    assert "stays published in the JWKS" in b.text
    b.screenshot("confirm-rotate-keys")
    b.click("#tf-confirm")
    assert SigningKey.objects.get(active=True) != first


def test_administrators_are_a_list_apart_with_roles(signed_in, alice):
    b = signed_in
    b.go("/admin/accounts/adminaccount/add/")
    b.find("#id_username").send_keys("helen")
    b.find("#id_password1").send_keys("Helen-Pass-123!")
    b.find("#id_password2").send_keys("Helen-Pass-123!")
    b.find("input[name=roles][value='User administrator']").click()
    b.screenshot("administrator-add")
    b.click("input[name=_save]")
    assert "was added successfully" in b.text, [e.text for e in b.find_all(".errornote, .errorlist")]
    assert "helen" in b.text and "User administrator" in b.text and "alice" not in b.text
    assert b.fits_width()
    b.screenshot("administrators")
    b.go("/admin/accounts/user/")
    assert "alice" in b.text and "helen" not in b.text and b.fits_width()
    b.screenshot("users")

    b.sign_in("helen", "Helen-Pass-123!")
    assert b.path == "/admin/" and "Users" in b.text and "App registrations" not in b.text
    b.sign_in("alice", DEMO_PASSWORD)  # a directory user never reaches the admin
    assert b.path.startswith("/admin/login/") and "Please enter the correct" in b.text


def test_the_lists_and_an_api_page_fit_at_1366_px(signed_in, apps, alice):
    """Issue 17 item 14: long headers and ids do not push the tables past the window."""
    signing_key_rotate(actor=ACTOR)
    signing_key_rotate(actor=ACTOR)
    b = signed_in
    pages = {
        "app-registrations": "/admin/applications/application/",
        "api-app-roles": f"/admin/applications/application/{apps['api'].pk}/change/",
        "signing-keys": "/admin/identity/signingkey/",
        "users-list": "/admin/accounts/user/",
        "audit-events": "/admin/audit/auditevent/",
    }
    for name, path in pages.items():
        b.go(path)
        b.screenshot(f"width-{name}")
        assert b.fits_width(), name


def test_the_sign_in_log_fits_names_apps_filters_and_exports(signed_in, apps, alice):
    from audit.models import SignInEvent

    now = timezone.now()
    daemon = apps["daemon"]
    SignInEvent.objects.create(created_at=now - timedelta(minutes=5), user=alice, sign_in_name="alice",
                               client_id=daemon.client_id, grant_type="password", policy_id="B2C_1_ROPC_Auth",
                               ip_address="2001:db8:85a3::8a2e:370:7334", succeeded=True)
    for minutes in (1, 2, 3):
        SignInEvent.objects.create(created_at=now - timedelta(minutes=minutes), user=alice, sign_in_name="alice",
                                   client_id=daemon.client_id, grant_type="password",
                                   policy_id="B2C_1_ROPC_Auth", ip_address="203.0.113.9", succeeded=False,
                                   error="invalid_grant", result_code="AADB2C90225", failure_reason="Wrong password.")
    SignInEvent.objects.create(created_at=now, sign_in_name="", client_id="7f9c2b4e-0000-4000-8000-00000000abcd",
                               grant_type="client_credentials", ip_address="198.51.100.7", succeeded=False,
                               error="invalid_client", result_code="AADB2C90018",
                               failure_reason="Client '7f9c2b4e-0000-4000-8000-00000000abcd' is not registered.")
    b = signed_in
    b.go("/admin/audit/signinevent/")
    assert "Nightly job" in b.text and "Wrong password." in b.text and b.fits_width()
    b.screenshot("sign-in-log")
    b.find("#tf-filter-user").send_keys("alice")
    b.click("#tf-filter-user ~ button[type=submit]")
    assert "not registered" not in b.text and b.text.count("Wrong password.") == 3 and b.fits_width()
    b.screenshot("sign-in-log-filtered-by-user")
    assert b.find_all("a[href*='/admin/audit/signinevent/export/']")
