"""Admin for the tenant and its signing keys (SPEC §3, §6), and the helpers every admin module shares."""

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from identity.admin_display import header
from identity.admin_lookups import StrictLookupsMixin
from identity.keys.models import SigningKey
from identity.keys.services import signing_key_rotate
from identity.tenant import Tenant, tenant_id, tenant_name


class ServiceErrorsMixin(StrictLookupsMixin):
    """Turns a service's ValidationError raised while saving into a message instead of a 500.

    Forms validate first, so this only catches what changed between validation and save (a
    concurrent edit); the admin's own transaction has rolled back by then, so nothing is half-written.
    """

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_object_or_denied(self, request: HttpRequest, object_id: str, *, change: bool = True) -> Model:
        """The object of a custom admin view, checking the same permission as its change page."""
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404(f"No {self.model._meta.verbose_name} with id {object_id!r}.")
        allowed = self.has_change_permission(request, obj) if change else self.has_view_permission(request, obj)
        if not allowed:
            raise PermissionDenied
        return obj

    def page_context(self, request: HttpRequest, obj: Model | None, title: str, **extra: Any) -> dict[str, Any]:
        """What the admin's base templates need to render a custom page with breadcrumbs."""
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "original": obj, "title": title,
            "has_view_permission": self.has_view_permission(request, obj), **extra,
        }

    def confirmation_page(
        self, request: HttpRequest, obj: Model | None, *, title: str, question: str, consequences: Iterable[str],
        confirm_label: str, cancel_url: str, objects: Iterable[Any] = (), hidden: Iterable[tuple[str, str]] = (),
        action_url: str = "", danger: bool = True, objects_label: str = "",
    ) -> TemplateResponse:
        """A page that says exactly what an action will do, and does it only when its button is pressed
        (it posts `confirm=yes` back, with `hidden` fields: see `is_confirmed`)."""
        context = self.page_context(
            request, obj, title, question=question, consequences=list(consequences), confirm_label=confirm_label,
            cancel_url=cancel_url, objects=list(objects), hidden=list(hidden), action_url=action_url, danger=danger,
            objects_label=objects_label,
        )
        return TemplateResponse(request, "admin/trustframe/confirm.html", context)


def is_confirmed(request: HttpRequest) -> bool:
    """The request is the POST of a confirmation page's button (`confirmation_page`)."""
    return request.method == "POST" and request.POST.get("confirm") == "yes"


def reposted_fields(request: HttpRequest, drop: Iterable[str] = ("csrfmiddlewaretoken", "confirm")) -> list:
    """A form's POST data as (name, value) pairs, to carry through a confirmation page unchanged."""
    dropped = set(drop)
    return [(name, value) for name in request.POST if name not in dropped for value in request.POST.getlist(name)]


class ReadOnlyAdmin(StrictLookupsMixin, admin.ModelAdmin):
    """Records kept by the system: viewable, never added, edited or deleted through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(SigningKey)
class SigningKeyAdmin(ServiceErrorsMixin, ReadOnlyAdmin):
    """Key material is never shown or edited; "Rotate keys" makes a new active key (SPEC §3)."""

    change_list_template = "admin/identity/signingkey/change_list.html"
    list_display = ["short_kid", "created_at", "active", "retired_at", "published_until", "in_jwks"]
    list_display_links = ["short_kid"]
    list_filter = ["active"]
    fields = ["kid", "algorithm", "key_size", "created_at", "active", "retired_at", "published_until", "public_jwk"]

    @admin.display(boolean=True, description=header("in JWKS", "Published at /discovery/v2.0/keys: tokens it "
                                                            "signed still validate"))
    def in_jwks(self, obj: SigningKey) -> bool:
        return obj.is_published

    @admin.display(description="kid", ordering="kid")
    def short_kid(self, obj: SigningKey):
        # A kid is 43 characters: the first 12 tell keys apart, the whole is on hover and on its page.
        return format_html('<code title="{}">{}…</code>', obj.kid, obj.kid[:12])

    def get_urls(self) -> list:
        return [
            path("rotate/", self.admin_site.admin_view(self.rotate_view), name="identity_signingkey_rotate"),
            *super().get_urls(),
        ]

    def rotate_view(self, request: HttpRequest) -> HttpResponse:
        # Rotating is a change to the key set, whatever the read-only display says.
        if not request.user.has_perm("identity.add_signingkey"):
            raise PermissionDenied
        changelist = reverse("admin:identity_signingkey_changelist")
        if not is_confirmed(request):
            if request.method not in ("GET", "HEAD", "POST"):
                return HttpResponseNotAllowed(["GET", "POST"])
            return self.confirmation_page(
                request, None, title="Rotate signing keys", question="Rotate the tenant's signing keys?",
                consequences=[
                    "A new RSA key is created and becomes the active signing key.",
                    "Every running process signs with the new key once its directory cache has seen it "
                    f"(within {settings.DIRECTORY_CACHE_SECONDS:g} s); until then tokens are still signed "
                    "with the current key.",
                    "The current key stays published in the JWKS until every token it signed has expired, "
                    "so tokens already issued keep validating.",
                    "Clients that cache the JWKS pick up the new key at their next refresh of it.",
                ],
                confirm_label="Yes, rotate keys", cancel_url=changelist, danger=False,
            )
        key = signing_key_rotate(actor=request.user)
        self.message_user(request, f"New active signing key {key.kid}; the previous key stays published "
                                   "until the tokens it signed have expired.", messages.SUCCESS)
        return HttpResponseRedirect(changelist)


@admin.register(Tenant)
class TenantAdmin(ReadOnlyAdmin):
    list_display = ["name", "tenant_id", "created_at"]
    fields = ["name", "tenant_id", "created_at"]
    readonly_fields = ["name"]

    @admin.display(description="tenant name")
    def name(self, obj: Tenant) -> str:
        return tenant_name()

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        tenant_id()  # the row is created on first use; make sure there is one to show
        return super().changelist_view(request, extra_context)
