"""Forms of the app-registration admin (SPEC §6). Rules live in the services; these only collect input."""

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
    return forms.CharField(max_length=120, help_text=help_text)


class AppRoleInlineForm(forms.ModelForm):
    value = _value_field("Appears in tokens' roles/scp claims; no spaces (e.g. app.read).")

    class Meta:
        model = AppRole
        fields = ["value", "display_name", "description", "allow_application", "allow_user", "is_enabled"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 30})}

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
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 30})}

    def clean_value(self) -> str:
        return validate_role_value(self.cleaned_data["value"])


class ClientSecretForm(forms.Form):
    description = forms.CharField(
        max_length=256, required=False, help_text="What the secret is for, e.g. 'CI pipeline'."
    )
    expires_days = forms.IntegerField(
        label="Expires in (days)", initial=SECRET_DEFAULT_DAYS, min_value=1, max_value=SECRET_MAX_DAYS,
        help_text=f"Default {SECRET_DEFAULT_DAYS} days (6 months); at most {SECRET_MAX_DAYS} days (2 years).",
    )


class AppRolesManifestForm(forms.Form):
    manifest = forms.CharField(
        label="appRoles JSON",
        widget=forms.Textarea(attrs={"rows": 20, "cols": 90, "spellcheck": "false"}),
        help_text='Paste the "appRoles" array of an Azure app manifest (the array, an object holding it, or the '
        '"appRoles": [...] fragment). Roles are matched by id: existing ids are updated, new ids are added.',
    )


def permission_choices(client: Application) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every enabled app role (member type Application) and scope of every API, grouped by API."""
    groups = []
    apis = Application.objects.prefetch_related("app_roles", "scopes").order_by("name")
    for api in apis:
        options = [
            (f"{api.pk}|{r.value}", f"{r.value} — {r.display_name} (Application)")
            for r in api.app_roles.all() if r.allow_application and r.is_enabled
        ] + [
            (f"{api.pk}|{s.value}", f"{s.value} — {s.display_name} (Delegated)")
            for s in api.scopes.all() if s.is_enabled
        ]
        if options:
            label = f"{api.name} ({api.app_id_uri or api.client_id})" + (" — this app" if api.pk == client.pk else "")
            groups.append((label, options))
    return groups


class PermissionAddForm(forms.Form):
    permissions = forms.MultipleChoiceField(
        label="Permissions to request",
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="App roles (application permissions) and scopes (delegated permissions), grouped by API. "
        "Hold Ctrl (Cmd on a Mac) to choose several.",
    )

    def __init__(self, *args, client: Application, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = permission_choices(client)

    def by_api(self) -> dict[Application, list[str]]:
        """The chosen values grouped by the API that defines them."""
        grouped: dict[int, list[str]] = {}
        for choice in self.cleaned_data["permissions"]:
            api_pk, _, value = choice.partition("|")
            grouped.setdefault(int(api_pk), []).append(value)
        apis = Application.objects.in_bulk(list(grouped))
        return {apis[pk]: values for pk, values in grouped.items() if pk in apis}
