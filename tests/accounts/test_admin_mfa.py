"""Two-step verification for admin accounts (issue 18 item 2): setup, the second step at login, the
ADMIN_REQUIRE_MFA rule, throttling, backup codes and the reset by a Global administrator."""

import re
import time
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import admin_accounts, admin_login_views, admin_mfa
from audit.models import AuditEvent, SignInEvent
from audit.sign_in_buffer import ADMIN_GRANT_TYPE
from tests.accounts.conftest import ADMIN_PASSWORD, form_errors, log_in, totp_code


def enrol(account) -> list[str]:
    """An authenticator set up for `account` through the services, as the setup page does; its backup codes."""
    device = admin_mfa.totp_enrolment(account)
    return admin_mfa.totp_confirm(account=account, device=device, code=totp_code(device), actor="tests")


def verify(client, code: str, **headers):
    return client.post("/admin/login/verify/", {"code": code}, **headers)


def authenticator_of(account) -> TOTPDevice:
    return TOTPDevice.objects.get(user=account, confirmed=True)


# ---- setup (enrolment) -------------------------------------------------------------------------------

def test_when_required_an_admin_without_an_authenticator_sets_one_up_before_any_admin_page(
        client, admin_account, mfa_required):
    response = log_in(client)
    assert response.status_code == 302 and response["Location"] == "/admin/two-step/"
    for page in ("/admin/", "/admin/accounts/user/", "/admin/password_change/"):
        assert client.get(page).status_code == 302, page  # not signed in yet
    page = client.get("/admin/two-step/")
    html = page.content.decode()
    device = TOTPDevice.objects.get(user=admin_account, confirmed=False)
    assert "<svg" in html and device.config_url.replace("&", "&amp;") in html
    secret = page.context["setup"].secret
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4})*", secret) and secret.replace(" ", "") in device.config_url
    assert "otpauth://totp/Trustframe%20contoso.onmicrosoft.com%3Aalice?" in device.config_url


def test_a_wrong_setup_code_is_refused_and_the_right_one_signs_in_with_backup_codes_shown_once(
        client, admin_account, mfa_required):
    log_in(client)
    client.get("/admin/two-step/")
    device = TOTPDevice.objects.get(user=admin_account, confirmed=False)
    wrong = client.post("/admin/two-step/", {"code": "000000" if totp_code(device) != "000000" else "111111"})
    assert "That code is not right" in form_errors(wrong)
    response = client.post("/admin/two-step/", {"code": totp_code(device)})
    assert response.status_code == 302 and response["Location"] == "/admin/two-step/"
    shown = client.get("/admin/two-step/")
    codes = shown.context["backup_codes"]
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}", c) for c in codes)
    assert shown.context["next_url"] == "/admin/"
    again = client.get("/admin/two-step/")  # shown once: now the status page
    assert "backup_codes" not in again.context and again.context["backup_codes_left"] == 10
    assert client.get("/admin/").status_code == 200
    assert AuditEvent.objects.filter(action="admin.mfa_enrol", target_id=str(admin_account.pk)).count() == 1
    assert SignInEvent.objects.filter(grant_type=ADMIN_GRANT_TYPE, succeeded=True, user=admin_account).count() == 1


def test_backup_codes_are_stored_only_as_keyed_digests(admin_account):
    codes = enrol(admin_account)
    stored = set(StaticToken.objects.filter(device__user=admin_account).values_list("token", flat=True))
    assert len(stored) == 10
    assert not stored & {c.replace("-", "") for c in codes} and not stored & set(codes)


def test_a_signed_in_admin_may_set_up_an_authenticator_when_it_is_not_required(client, admin_account):
    assert log_in(client).status_code == 302
    client.get("/admin/two-step/")
    device = TOTPDevice.objects.get(user=admin_account, confirmed=False)
    assert client.post("/admin/two-step/", {"code": totp_code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200  # the session is verified by the new authenticator
    fresh = Client()
    assert log_in(fresh)["Location"] == "/admin/login/verify/"  # and the next sign-in asks for a code


# ---- the second step at login --------------------------------------------------------------------------

def test_an_admin_with_an_authenticator_needs_a_code_after_the_password(client, admin_account):
    enrol(admin_account)
    response = log_in(client)
    assert response.status_code == 302 and response["Location"] == "/admin/login/verify/"
    assert client.get("/admin/").status_code == 302  # the password alone signs nobody in
    signed_in = verify(client, totp_code(authenticator_of(admin_account), steps_ahead=1))
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused_recorded_and_a_code_is_accepted_once(client, admin_account):
    enrol(admin_account)
    log_in(client)
    device = authenticator_of(admin_account)
    right = totp_code(device, steps_ahead=1)
    wrong = verify(client, "000000" if right != "000000" else "111111")
    assert "That code is not right" in form_errors(wrong)
    event = SignInEvent.objects.filter(grant_type=ADMIN_GRANT_TYPE).order_by("id").last()
    assert (event.succeeded, event.result_code, event.failure_reason) == (
        False, "AADSTS500121", "Wrong verification code.")
    with mock.patch.object(TOTPDevice, "verify_is_allowed", return_value=(True, None)):  # past the back-off
        assert verify(client, right).status_code == 302
    other = Client()
    log_in(other)
    with mock.patch.object(TOTPDevice, "verify_is_allowed", return_value=(True, None)):
        replay = verify(other, right)
    assert replay.status_code == 200 and "That code is not right" in form_errors(replay)


def test_wrong_codes_are_throttled_even_against_the_right_code(client, admin_account):
    enrol(admin_account)
    log_in(client)
    device = authenticator_of(admin_account)
    right = totp_code(device, steps_ahead=1)
    verify(client, "000000" if right != "000000" else "111111")
    verify(client, "222222" if right != "222222" else "333333")
    throttled = verify(client, right)
    assert throttled.status_code == 200 and "Too many wrong codes. Wait" in form_errors(throttled)
    assert SignInEvent.objects.filter(grant_type=ADMIN_GRANT_TYPE).order_by("id").last().error == "code_throttled"


def test_five_wrong_codes_end_the_pending_sign_in(client, admin_account):
    enrol(admin_account)
    log_in(client)
    with mock.patch.object(TOTPDevice, "verify_is_allowed", return_value=(True, None)):
        for n in range(admin_login_views.MAX_CODE_FAILURES):
            response = verify(client, f"{n}{n}{n}{n}{n}9")
    assert response.status_code == 302 and response["Location"] == "/admin/login/"
    assert verify(client, totp_code(authenticator_of(admin_account), steps_ahead=1))["Location"] == "/admin/login/"


def test_the_verification_step_counts_against_the_admin_login_quota(client, admin_account, settings):
    settings.RATE_LIMIT_ADMIN_LOGIN_PER_5_MINUTES = 2
    enrol(admin_account)
    log_in(client)  # the password counts once
    verify(client, "123456")
    limited = verify(client, totp_code(authenticator_of(admin_account), steps_ahead=1))
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1


def test_a_pending_sign_in_expires(client, admin_account):
    enrol(admin_account)
    log_in(client)
    later = time.time() + admin_login_views.PENDING_SECONDS + 1
    with mock.patch.object(admin_login_views.time, "time", return_value=later):
        response = verify(client, totp_code(authenticator_of(admin_account), steps_ahead=1))
    assert response["Location"] == "/admin/login/"


def test_a_backup_code_signs_in_once(client, admin_account):
    codes = enrol(admin_account)
    log_in(client)
    assert verify(client, codes[3].upper().replace("-", " "))["Location"] == "/admin/"
    other = Client()
    log_in(other)
    assert "That code is not right" in form_errors(verify(other, codes[3]))
    assert admin_mfa.backup_codes_left(admin_account) == 9


def test_new_backup_codes_replace_the_old_ones_and_keep_a_session_verified_by_one(client, admin_account,
                                                                                  mfa_required):
    old = enrol(admin_account)
    log_in(client)
    verify(client, old[1])
    assert client.post("/admin/two-step/", {"action": "backup-codes"})["Location"] == "/admin/two-step/"
    new = client.get("/admin/two-step/").context["backup_codes"]
    assert client.get("/admin/").status_code == 200
    assert not set(new) & set(old)
    other = Client()
    log_in(other)
    assert "That code is not right" in form_errors(verify(other, old[0]))
    assert AuditEvent.objects.filter(action="admin.mfa_backup_codes").count() == 1


def test_a_session_signed_in_without_the_second_step_is_refused_when_it_is_required(client, admin_account,
                                                                                    mfa_required):
    client.force_login(admin_account)  # e.g. a session from before the setting was turned on
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_with_an_authenticator_the_second_step_applies_even_when_not_required(client, admin_account):
    enrol(admin_account)
    client.force_login(admin_account)
    assert client.get("/admin/").status_code == 302


def test_the_required_setting_defaults_on_in_production_and_off_in_development():
    import subprocess
    import sys

    code = "import django; django.setup(); from django.conf import settings; print(settings.ADMIN_REQUIRE_MFA)"
    base = {"SECRET_KEY": "x" * 50, "IDENTITY_TENANT_NAME": "contoso.onmicrosoft.com", "PATH": "/usr/bin:/bin",
            "IDENTITY_BASE_URL": "https://login.contoso.test", "DJANGO_SETTINGS_MODULE": "identity.settings"}
    answers = [subprocess.run([sys.executable, "-c", code], env={**base, "DEBUG": debug}, capture_output=True,
                              text=True, check=True, timeout=60).stdout.strip() for debug in ("false", "true")]
    assert answers == ["True", "False"]


# ---- reset by a Global administrator -------------------------------------------------------------------

@pytest.fixture
def helen(db):
    """Another admin account, with an authenticator."""
    account = admin_accounts.admin_account_create(actor="tests", username="helen", password=ADMIN_PASSWORD,
                                                  roles=["User administrator"])
    enrol(account)
    return account


def signed_in_with_code(account) -> Client:
    client = Client()
    log_in(client, account.username)
    assert verify(client, totp_code(authenticator_of(account), steps_ahead=1))["Location"] == "/admin/"
    return client


def test_a_global_administrator_resets_another_admins_two_step_verification_after_asking(
        admin_account, helen, mfa_required):
    enrol(admin_account)
    alice = signed_in_with_code(admin_account)
    helens_session = signed_in_with_code(helen)
    page = alice.get(f"/admin/accounts/adminaccount/{helen.pk}/change/")
    assert f"/admin/two-step/reset/{helen.pk}/" in page.content.decode()
    question = alice.get(f"/admin/two-step/reset/{helen.pk}/")
    assert "Reset the two-step verification of helen?" in question.content.decode()
    assert TOTPDevice.objects.filter(user=helen).exists()  # asking changes nothing
    done = alice.post(f"/admin/two-step/reset/{helen.pk}/", {"confirm": "yes"})
    assert done["Location"] == f"/admin/accounts/adminaccount/{helen.pk}/change/"
    assert not TOTPDevice.objects.filter(user=helen).exists() and admin_mfa.backup_codes_left(helen) == 0
    event = AuditEvent.objects.get(action="admin.mfa_reset")
    assert (event.actor_label, event.target_id, event.details) == ("admin:alice", str(helen.pk), {"devices_removed": 2})
    # Helen's session was verified by the removed authenticator: sent back to sign in, then to set up a new one.
    assert helens_session.get("/admin/").status_code == 302
    assert log_in(helens_session, "helen")["Location"] == "/admin/two-step/"


def test_an_admin_without_the_global_administrator_role_cannot_reset(client, admin_account, helen):
    helens_session = signed_in_with_code(helen)
    assert helens_session.get(f"/admin/two-step/reset/{admin_account.pk}/").status_code == 403
    assert helens_session.post(f"/admin/two-step/reset/{admin_account.pk}/", {"confirm": "yes"}).status_code == 403


def test_nobody_resets_their_own_nor_a_non_superuser_a_superusers(admin_account, helen):
    boss = admin_accounts.admin_account_create(actor="tests", username="boss", password=ADMIN_PASSWORD,
                                               superuser=True)
    for actor, account, text in ((admin_account, admin_account, "your own"), (admin_account, boss, "superuser's")):
        with pytest.raises(Exception, match=text):
            admin_mfa.admin_mfa_reset(account=account, actor=actor)
    assert admin_mfa.admin_mfa_reset(account=helen, actor=boss) == 2


def test_the_resetmfa_command_resets_and_is_audited(admin_account):
    enrol(admin_account)
    out = StringIO()
    call_command("resetmfa", "ALICE", "--json", stdout=out)
    assert '"devices_removed": 2' in out.getvalue()
    assert not TOTPDevice.objects.filter(user=admin_account).exists()
    assert AuditEvent.objects.get(action="admin.mfa_reset").actor_label == "manage.py resetmfa"
    with pytest.raises(CommandError, match="Unknown admin account 'nobody'"):
        call_command("resetmfa", "nobody")


def test_django_otps_device_pages_are_not_in_the_admin(client, admin_user):
    admin = client
    admin.force_login(admin_user)
    assert admin.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert admin.get("/admin/otp_static/staticdevice/").status_code == 404
