"""Fixtures of the admin sign-in tests (issue 18 items 2 and 6): an admin account, the login form, TOTP codes."""

import time

import pytest
from django.core.cache import cache
from django_otp.oath import TOTP

from accounts import admin_accounts

ADMIN_PASSWORD = "Admin-Pass-123!"


@pytest.fixture
def clean_cache():
    """Quotas and cached locks live in the cache: every test starts (and leaves) it empty."""
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def admin_account(db, clean_cache):
    """An admin account `alice` with the Global administrator role."""
    return admin_accounts.admin_account_create(actor="tests", username="alice", password=ADMIN_PASSWORD,
                                               roles=["Global administrator"])


@pytest.fixture
def mfa_required(settings):
    settings.ADMIN_REQUIRE_MFA = True
    return settings


def log_in(client, username: str = "alice", password: str = ADMIN_PASSWORD, **headers):
    """POST the admin login form as a browser does (next=/admin/)."""
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"}, **headers)


def form_errors(response) -> str:
    """The form errors a page shows (non-field and field), as one string."""
    form = response.context["form"]
    return " ".join(str(message) for messages in form.errors.values() for message in messages)


def totp_code(device, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for `device`, now or `steps_ahead` steps later (django-otp accepts
    each time step once, and one step of clock drift either way)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"
