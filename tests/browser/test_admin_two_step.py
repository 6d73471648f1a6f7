"""The admin's sign-in with two-step verification, in headless Chromium at 1366 px (issue 18 item 2): the
password, the setup page read like a person reads it (the key typed into an "authenticator"), backup
codes, then a later sign-in with a code. Screenshots in var/screenshots/."""

import base64
import time

import pytest
from django_otp.oath import TOTP

from accounts import admin_accounts
from tests.browser.conftest import ADMIN_PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True)]


def code_from(secret_shown: str, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed from the page (base32, in groups)."""
    key = "".join(secret_shown.split())
    totp = TOTP(base64.b32decode(key + "=" * (-len(key) % 8)))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def test_an_admin_sets_up_two_step_verification_at_first_sign_in_then_signs_in_with_a_code(
        browser, transactional_db, settings):
    settings.ADMIN_REQUIRE_MFA = True
    admin_accounts.admin_account_create(actor="tests", username="root", password=ADMIN_PASSWORD, superuser=True)
    b = browser
    b.sign_in("root")
    assert b.path == "/admin/two-step/", b.path
    assert "must use two-step verification" in b.text
    assert b.find("#tf-qr svg").is_displayed() and b.fits_width()
    secret = b.find("#tf-secret").text
    b.screenshot("two-step-setup")

    b.go("/admin/")  # no admin page before the setup is done
    assert b.path.startswith("/admin/login/")
    b.go("/admin/two-step/")
    assert b.find("#tf-secret").text == secret  # the same key until it is confirmed
    b.find("#id_code").send_keys(code_from(secret))
    b.click("input[type=submit][value='Turn on two-step verification']")
    codes = [e.text for e in b.find_all("#tf-backup-codes code")]
    assert len(codes) == 10 and "shown only this once" in b.text
    b.screenshot("two-step-backup-codes")
    b.click("#tf-continue")
    assert b.path == "/admin/" and "Tenant administration" in b.text

    b.sign_in("root")
    assert b.path == "/admin/login/verify/"
    b.find("#id_code").send_keys("000000" if code_from(secret, 1) != "000000" else "111111")
    b.click("input[type=submit][value='Verify']")
    assert "That code is not right" in b.text
    b.screenshot("two-step-verify-wrong-code")
    time.sleep(1.1)  # django-otp's back-off after one wrong code
    b.find("#id_code").clear()
    b.find("#id_code").send_keys(code_from(secret, 1))
    b.click("input[type=submit][value='Verify']")
    assert b.path == "/admin/", b.path
    b.click("#tf-two-step")
    assert "Two-step verification is on" in b.text and b.find("#tf-codes-left").text == "10"
    b.screenshot("two-step-status")


def test_the_signed_in_fixture_still_signs_in_with_the_password_alone_when_two_step_is_off(signed_in):
    assert signed_in.path == "/admin/"
    assert signed_in.find("#tf-two-step").get_attribute("href").endswith("/admin/two-step/")
