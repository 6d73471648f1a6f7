"""Forms of the admin's sign-in (issue 18 items 2 and 6): password, verification code, password change.

Each asks the services (accounts/admin_login.py, accounts/admin_mfa.py, accounts/admin_accounts.py) and
turns their refusals into one clear form error; none checks a password or code by itself.
"""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError

from accounts.admin_accounts import admin_account_set_password
from accounts.admin_login import PasswordCheck, Refusal, admin_password_check, verify_current_password
from identity.client_ip import client_ip

BAD_CREDENTIALS = "Please enter the correct user name and password of an admin account."
MESSAGES = {
    # One text for an unknown name, a wrong or overlong password and a disabled account: the page must not
    # tell which names exist (the sign-in log, for admins, tells them apart).
    Refusal.UNKNOWN_NAME: BAD_CREDENTIALS,
    Refusal.WRONG_PASSWORD: BAD_CREDENTIALS,
    Refusal.TOO_LONG: BAD_CREDENTIALS,
    Refusal.DISABLED: BAD_CREDENTIALS,
    # Locks are counted for every name, existing or not, so saying so reveals nothing.
    Refusal.LOCKED: "This user name is locked for a while after too many wrong passwords. Try again later.",
    Refusal.BUSY: "The server is busy checking other sign-ins. Try again in a moment.",
}


def rate_limited_text(seconds: int) -> str:
    return f"Too many sign-in attempts from your network. Try again in {seconds} seconds."


class AdminLoginForm(AdminAuthenticationForm):
    """Django's admin login form, checking through `admin_password_check` (quota, lockout, hashing gate,
    equal time, sign-in events) instead of authenticate()."""

    check: PasswordCheck | None = None

    def clean(self) -> dict:
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        self.check = admin_password_check(username=username, password=password, ip=client_ip(self.request))
        if self.check.refusal is Refusal.RATE_LIMITED:
            raise ValidationError(rate_limited_text(self.check.retry_after or 1), code="rate_limited")
        if self.check.refusal is not None:
            raise ValidationError(MESSAGES[self.check.refusal], code=self.check.refusal.error)
        self.user_cache = self.check.account
        self.user_cache.backend = "accounts.backends.AdminAccountBackend"
        return self.cleaned_data


class VerificationCodeForm(forms.Form):
    code = forms.CharField(
        label="Verification code", max_length=32, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True,
                                      "spellcheck": "false", "autocapitalize": "off"}),
        help_text="The 6-digit code your authenticator app shows now, or one of your backup codes.",
    )


class EnrolmentCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the app", max_length=16, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="After adding the account, type the 6-digit code the app shows for it.",
    )


class AdminPasswordChangeForm(PasswordChangeForm):
    """An admin changing its own password (/admin/password_change/): the current password is checked like a
    sign-in (hashing gate, admin lockout), and the new one is set by `admin_account_set_password`, which
    applies the password rules and writes the audit event."""

    required_css_class = "required"

    def clean_old_password(self) -> str:
        password = self.cleaned_data["old_password"]
        refusal = verify_current_password(account=self.user, password=password)
        if refusal in (Refusal.LOCKED, Refusal.BUSY):
            raise ValidationError(MESSAGES[refusal], code=refusal.error)
        if refusal is not None:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return password

    def save(self, commit: bool = True):
        admin_account_set_password(account=self.user, password=self.cleaned_data["new_password1"], actor=self.user)
        return self.user
