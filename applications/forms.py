"""Forms of the app-registration admin (SPEC §6). Rules live in the services; these only collect input."""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError

from applications import validators
from applications.manifest import validate_role_value
from applications.models import Application, AppRole, DelegatedScope, RedirectUri
from applications.models.secrets import SECRET_DEFAULT_DAYS, SECRET_MAX_DAYS


class ApplicationForm(forms.ModelForm):
    client_type = forms.ChoiceField(
        label="Client type",
        choices=[
            (Application.CLIENT_CONFIDENTIAL, "Confidential: a server app or daemon that can keep a secret"),
            (Application.CLIENT_PUBLIC, "Public: a native, mobile or desktop app (no secrets)"),
        ],
        initial=Application.CLIENT_CONFIDENTIAL,
        widget=forms.RadioSelect,
        help_text="Only confidential clients get client secrets and may use client credentials.",
    )

    class Meta:
        model = Application
        fields = ["name", "client_id", "client_type", "ropc_enabled", "app_id_uri", "enabled"]
        labels = {"name": "Display name"}
        widgets = {"app_id_uri": forms.TextInput(attrs={"size": 60}), "client_id": forms.TextInput(attrs={"size": 40})}

    def clean_name(self) -> str:
        return validators.name_validate(self.cleaned_data.get("name") or "")

    def clean_client_id(self) -> str:
        return validators.client_id_validate(
            self.cleaned_data.get("client_id") or "", application=self.instance if self.instance.pk else None
        )

    def clean(self) -> dict:
        # The service's App ID URI rule, once the client id it may contain (api://{client id}) is known:
        # the admin's fieldsets may put that field after this one.
        data = super().clean()
        if "app_id_uri" in data and "client_id" not in self.errors:
            try:
                data["app_id_uri"] = validators.app_id_uri_validate(
                    data["app_id_uri"], client_id=data.get("client_id") or self.instance.client_id,
                    application=self.instance if self.instance.pk else None,
                )
            except ValidationError as exc:
                self.add_error("app_id_uri", exc)
        return data


class RedirectUriInlineForm(forms.ModelForm):
    """A redirect URI row, checked by the service's rule (not the database constraint's generic text)."""

    class Meta:
        model = RedirectUri
        fields = ["uri"]

    def clean_uri(self) -> str:
        return validators.redirect_uri_validate(self.cleaned_data.get("uri") or "")


def _value_field(help_text: str) -> forms.CharField:
    return forms.CharField(max_length=120, help_text=help_text, widget=forms.TextInput(attrs={"size": 14}))


class AppRoleInlineForm(forms.ModelForm):
    value = _value_field("Appears in tokens' roles/scp claims; no spaces (e.g. app.read).")

    class Meta:
        model = AppRole
        fields = ["value", "display_name", "description", "allow_application", "allow_user", "is_enabled"]
        # Short headers, so the table fits at 1366 px; the help icon says what each means.
        labels = {"allow_application": "Apps", "allow_user": "Users", "is_enabled": "On"}
        help_texts = {
            "allow_application": "Member type Application: client apps can be granted it by admin consent "
                                 "(client credentials).",
            "allow_user": "Member type User: it can be assigned to users (Users and groups); it appears in "
                          "their tokens' roles.",
            "is_enabled": "Enabled: only enabled roles are granted, assigned and put in tokens.",
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 24}),
                   "display_name": forms.TextInput(attrs={"size": 16})}

    def clean_value(self) -> str:
        return validate_role_value(self.cleaned_data["value"])

    def clean(self) -> dict:
        data = super().clean()
        if not (data.get("allow_application") or data.get("allow_user")):
            # On the field, so the model's constraint check (app_role_has_member_type) is skipped, not repeated
            # in Django's words.
            self.add_error("allow_application", "Choose at least one allowed member type (Application, User).")
        return data


class UniqueValueFormSet(forms.BaseInlineFormSet):
    """Says which rule a duplicate breaks, instead of Django's generic "duplicate data" text."""

    def get_unique_error_message(self, unique_check) -> str:
        if "value" in unique_check:
            return "Two rows have the same value; a value must be unique within the app."
        return super().get_unique_error_message(unique_check)


class DelegatedScopeInlineForm(forms.ModelForm):
    value = _value_field("The scope's name; no spaces (e.g. tasks.read).")

    class Meta:
        model = DelegatedScope
        fields = ["value", "display_name", "description", "is_enabled"]
        labels = {"display_name": "Consent display name", "is_enabled": "On"}
        help_texts = {"is_enabled": "Enabled: only enabled scopes are requested, consented and put in tokens."}
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 24}),
                   "display_name": forms.TextInput(attrs={"size": 16})}

    def clean_value(self) -> str:
        return validate_role_value(self.cleaned_data["value"])


# Entra's choices on "Add a client secret" (recommended: 180 days).
SECRET_PRESETS = [
    ("90", "90 days (3 months)"),
    ("180", "180 days (6 months), recommended"),
    ("365", "365 days (12 months)"),
    ("545", "545 days (18 months)"),
    ("730", "730 days (24 months)"),
    ("custom", "Custom: the number of days below"),
]


class ClientSecretForm(forms.Form):
    description = forms.CharField(
        max_length=256, required=False, help_text="What the secret is for, e.g. 'CI pipeline'."
    )
    expires = forms.ChoiceField(
        label="Expires", choices=SECRET_PRESETS, required=False, initial=str(SECRET_DEFAULT_DAYS),
        widget=forms.RadioSelect,
        help_text="Rotate secrets before they expire: add the new one, move the service to it, then delete the old.",
    )
    expires_days = forms.IntegerField(
        label="Custom: expires in (days)", required=False, min_value=1, max_value=SECRET_MAX_DAYS,
        help_text=f"With “Custom”: 1 to {SECRET_MAX_DAYS} days (2 years).",
    )

    def clean(self) -> dict:
        data = super().clean()
        preset = data.get("expires") or "custom"
        if preset != "custom":
            data["expires_days"] = int(preset)
        elif data.get("expires_days") is None and not self.has_error("expires_days"):
            self.add_error("expires_days", f"Give the number of days (1 to {SECRET_MAX_DAYS}) or choose a preset.")
        return data


class CertificateUploadForm(forms.Form):
    certificate = forms.FileField(
        label="Certificate file", widget=forms.ClearableFileInput(attrs={"accept": ".cer,.crt,.pem"}),
        help_text="The public certificate only (.cer, .crt or .pem; PEM or DER). Never upload the private key: "
        "it stays with the app, which signs its client assertions with it (private_key_jwt).",
    )
    description = forms.CharField(max_length=256, required=False, help_text="e.g. 'Nightly job, 2027'.")


class AppRolesManifestForm(forms.Form):
    manifest = forms.CharField(
        label="appRoles JSON",
        widget=forms.Textarea(attrs={"rows": 20, "cols": 90, "spellcheck": "false"}),
        help_text='Paste the "appRoles" array of an Azure app manifest (the array, an object holding it, or the '
        '"appRoles": [...] fragment). Roles are matched by id: existing ids are updated, new ids are added.',
    )


@dataclass(frozen=True)
class PickerOption:
    """One checkbox of the permission picker: an app role or a delegated scope of an API."""

    choice: str  # "{api pk}|{value}", what the form posts
    value: str
    display_name: str
    description: str
    kind: str  # "Application" (an app role) or "Delegated" (a scope)


@dataclass(frozen=True)
class PickerGroup:
    api: Application
    options: list[PickerOption]
    is_self: bool


def permission_picker(client: Application) -> list[PickerGroup]:
    """Every enabled app role (member type Application) and scope of every API, grouped by API, without
    what the client has requested already (issue 17 item 17)."""
    requested = set(client.required_permissions.values_list("app_role_id", "scope_id"))
    requested_roles = {role for role, _ in requested if role}
    requested_scopes = {scope for _, scope in requested if scope}
    groups = []
    for api in Application.objects.prefetch_related("app_roles", "scopes").order_by("name"):
        options = [
            PickerOption(f"{api.pk}|{r.value}", r.value, r.display_name, r.description, "Application")
            for r in api.app_roles.all() if r.allow_application and r.is_enabled and r.pk not in requested_roles
        ] + [
            PickerOption(f"{api.pk}|{s.value}", s.value, s.display_name, s.description, "Delegated")
            for s in api.scopes.all() if s.is_enabled and s.pk not in requested_scopes
        ]
        if options:
            groups.append(PickerGroup(api, options, api.pk == client.pk))
    return groups


class PermissionAddForm(forms.Form):
    permissions = forms.MultipleChoiceField(
        label="Permissions to request", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one permission to request."},
    )

    def __init__(self, *args, client: Application, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.picker = permission_picker(client)
        self.fields["permissions"].choices = [(o.choice, o.value) for g in self.picker for o in g.options]

    def by_api(self) -> dict[Application, list[str]]:
        """The chosen values grouped by the API that defines them."""
        grouped: dict[int, list[str]] = {}
        for choice in self.cleaned_data["permissions"]:
            api_pk, _, value = choice.partition("|")
            grouped.setdefault(int(api_pk), []).append(value)
        apis = Application.objects.in_bulk(list(grouped))
        return {apis[pk]: values for pk, values in grouped.items() if pk in apis}
