"""Admin for policies (user flows): lifetimes, token compatibility, output claims (SPEC §5, §6).

Saving goes through `policies.services.policy_create_or_update`, whose rules the form checks first.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from identity.admin import ServiceErrorsMixin
from policies import models as m
from policies import services
from policies.models import OutputClaimType, Policy

SETTINGS = ["kind", "enabled", "access_token_lifetime_minutes", "id_token_lifetime_minutes",
            "refresh_token_lifetime_days", "rolling_refresh_token_lifetime_days", "issuer_pattern",
            "subject_claim", "policy_claim", "distinct_credential_messages"]


def _bounded(label: str, low: int, high: int, unit: str, default: int | None, required: bool = True):
    # The bounds are the service's rule (policies.services.policy_validate), whose message the form shows;
    # min/max are only the browser's hint.
    default_text = f"default {default}" if default is not None else ""
    return forms.IntegerField(
        label=label, required=required, initial=default,
        widget=forms.NumberInput(attrs={"min": low, "max": high}),
        help_text=f"{low} to {high} {unit}; {default_text}." + ("" if required else " Empty means no expiry."),
    )


class PolicyForm(forms.ModelForm):
    access_token_lifetime_minutes = _bounded(
        "Access token lifetime (minutes)", m.TOKEN_MINUTES_MIN, m.TOKEN_MINUTES_MAX, "minutes", m.TOKEN_MINUTES_DEFAULT)
    id_token_lifetime_minutes = _bounded(
        "ID token lifetime (minutes)", m.TOKEN_MINUTES_MIN, m.TOKEN_MINUTES_MAX, "minutes", m.TOKEN_MINUTES_DEFAULT)
    refresh_token_lifetime_days = _bounded(
        "Refresh token lifetime (days)", m.REFRESH_DAYS_MIN, m.REFRESH_DAYS_MAX, "days", m.REFRESH_DAYS_DEFAULT)
    rolling_refresh_token_lifetime_days = _bounded(
        "Refresh token sliding window lifetime (days)", m.ROLLING_DAYS_MIN, m.ROLLING_DAYS_MAX, "days",
        m.ROLLING_DAYS_DEFAULT, required=False)
    output_claims = forms.MultipleChoiceField(
        label="Application claims", choices=OutputClaimType.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text="Claims returned in the ID token.",
    )

    class Meta:
        model = Policy
        fields = ["policy_id", *SETTINGS]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["output_claims"].initial = (
            self.instance.output_claim_types() if self.instance.pk else list(services.DEFAULT_OUTPUT_CLAIMS)
        )

    def clean_policy_id(self) -> str:
        policy_id = self.cleaned_data["policy_id"].strip()
        services.policy_id_validate(policy_id)
        services.policy_id_available(policy_id)
        return policy_id

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        probe = Policy(policy_id=data.get("policy_id", self.instance.policy_id),
                       **{f: data.get(f) for f in SETTINGS if f in data})
        try:
            services.policy_validate(probe)  # the rules policy_create_or_update applies
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


@admin.register(Policy)
class PolicyAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = PolicyForm
    list_display = ["policy_id", "kind", "enabled", "access_token_lifetime_minutes", "id_token_lifetime_minutes",
                    "refresh_token_lifetime_days", "sliding_window", "claims"]
    list_filter = ["kind", "enabled"]
    search_fields = ["policy_id"]
    fieldsets = [
        (None, {"fields": ["policy_id", "kind", "enabled"]}),
        ("Token lifetimes", {"fields": ["access_token_lifetime_minutes", "id_token_lifetime_minutes",
                                        "refresh_token_lifetime_days", "rolling_refresh_token_lifetime_days"]}),
        ("Token compatibility settings", {"fields": ["issuer_pattern", "subject_claim", "policy_claim"]}),
        ("Application claims", {"fields": ["output_claims"]}),
        ("Messages", {"fields": ["distinct_credential_messages"]}),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Policy | None = None) -> list[str]:
        return ["policy_id"] if obj is not None else []  # the id is how clients name the policy

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("output_claims")

    @admin.display(description="sliding window (days)", ordering="rolling_refresh_token_lifetime_days")
    def sliding_window(self, obj: Policy) -> str:
        days = obj.rolling_refresh_token_lifetime_days
        return "No expiry" if days is None else str(days)

    @admin.display(description="application claims")
    def claims(self, obj: Policy) -> str:
        return ", ".join(c.claim_type for c in obj.output_claims.all())

    def save_model(self, request: HttpRequest, obj: Policy, form: PolicyForm, change: bool) -> None:
        data = form.cleaned_data
        settings = {f: data[f] for f in SETTINGS if f in data}
        rolling = settings.get("rolling_refresh_token_lifetime_days")
        policy, _ = services.policy_create_or_update(
            actor=request.user, policy_id=obj.policy_id, output_claims=data.get("output_claims", []),
            no_sliding_expiry=rolling is None, **settings,
        )
        obj.__dict__.update(policy.__dict__)  # the admin goes on with the object its form built

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Policy) -> None:
        services.policy_delete(policy=obj, actor=request.user)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for policy in queryset:
            self.delete_model(request, policy)
