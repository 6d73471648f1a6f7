"""Forms of the user admin (SPEC §6). Sign-in name and password rules are the services' own."""

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from accounts import services
from accounts.admin_accounts import NEEDS_A_USER_NAME
from accounts.models import AdminAccount, User
from accounts.roles import ROLES
from accounts.sign_in_names import normalize_sign_in_name


def check_new_password(form: forms.Form, data: dict, user: User) -> None:
    """`password1` typed the same twice (`password2`) and meeting the password rules for `user`, or the
    form's errors say which; an empty password is left to the form (optional on some, required on others)."""
    password, confirmation = data.get("password1") or "", data.get("password2") or ""
    if password != confirmation:
        form.add_error("password2", "The two passwords do not match.")
    elif password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            form.add_error("password1", exc)


_NEEDS_SIGN_IN_NAME = "Give a user name, an email address or both: the user signs in with them."


class _SignInNamesMixin:
    """Sign-in names are checked by the same functions `user_create` uses; unchanged ones pass as they are."""

    def clean_username(self) -> str | None:
        value = self.cleaned_data.get("username") or ""
        if self.instance.pk and value.strip() and normalize_sign_in_name(value) == self.instance.username:
            return self.instance.username
        return services.username_validate(value)

    def clean_email(self) -> str | None:
        value = self.cleaned_data.get("email") or ""
        if self.instance.pk and value.strip() and normalize_sign_in_name(value) == self.instance.email:
            return self.instance.email
        return services.email_validate(value)

    def _require_a_sign_in_name(self, data: dict) -> None:
        # On the field, so the model's own constraint check (which would repeat it, less clearly) is skipped.
        if "username" in data and "email" in data and not data["username"] and not data["email"]:
            self.add_error("username", _NEEDS_SIGN_IN_NAME)


class UserAddForm(_SignInNamesMixin, forms.ModelForm):
    password1 = forms.CharField(
        label="Password", required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=format_html(
            "Leave both password fields empty to create an account that cannot sign in with a password until "
            "one is set.{}", password_validators_help_text_html(),
        ),
    )
    password2 = forms.CharField(
        label="Password confirmation", required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = User
        fields = ["username", "email", "display_name", "given_name", "surname", "is_active", "mfa_required",
                  "password_expired"]

    def clean(self) -> dict:
        data = super().clean()
        self._require_a_sign_in_name(data)
        check_new_password(self, data, User(username=data.get("username"), email=data.get("email"),
                                            display_name=data.get("display_name", "")))
        return data


class UserChangeForm(_SignInNamesMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["username", "email", "display_name", "given_name", "surname", "is_active", "mfa_required",
                  "password_expired"]

    def clean(self) -> dict:
        data = super().clean()
        self._require_a_sign_in_name(data)
        return data


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label="New password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="New password confirmation", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    force_change = forms.BooleanField(
        label="Require a password change at next sign-in", required=False,
        help_text="The user must choose a new password before signing in again (B2C: forceChangePasswordNextSignIn).",
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict:
        data = super().clean()
        check_new_password(self, data, self.user)
        return data


def _role_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="Roles", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(r.name, format_html("<strong>{}</strong> — {}", r.name, r.description)) for r in ROLES],
        help_text="What the account may do in this admin. A superuser may do everything without a role.",
    )


class AdminAccountAddForm(forms.ModelForm):
    """A new admin account: it signs in to this admin site with its user name; it gets no tokens."""

    password1 = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password confirmation", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    roles = _role_field()

    class Meta:
        model = AdminAccount
        fields = ["username", "email", "display_name", "is_superuser"]
        labels = {"is_superuser": "Superuser (every permission, no role needed)"}

    def clean_username(self) -> str:
        name = services.username_validate(self.cleaned_data.get("username") or "", staff=True)
        if name is None:
            raise ValidationError(NEEDS_A_USER_NAME)
        return name

    def clean_email(self) -> str | None:
        return services.email_validate(self.cleaned_data.get("email") or "", staff=True)

    def clean(self) -> dict:
        data = super().clean()
        check_new_password(self, data, AdminAccount(username=data.get("username")))
        return data


class AdminAccountChangeForm(forms.ModelForm):
    roles = _role_field()

    class Meta:
        model = AdminAccount
        fields = ["display_name", "is_active", "is_superuser"]
        labels = {"is_superuser": "Superuser (every permission, no role needed)"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = list(self.instance.groups.values_list("name", flat=True))


class AdminSetPasswordForm(SetPasswordForm):
    """An admin account's password: no "change at next sign-in" (admins change theirs here)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["force_change"]
