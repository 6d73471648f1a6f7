"""The app registration: DOT's Application, reshaped to B2C's model (SPEC §5)."""

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from oauth2_provider.models import AbstractApplication

UUID_REGEX = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def new_client_id() -> str:
    return str(uuid.uuid4())


class Application(AbstractApplication):
    """An app registration and its service principal.

    Grant types are not stored: B2C derives them from what the app is. Any app may redeem its
    refresh tokens; ROPC is a capability switched on per app; client credentials need a
    confidential client. One secret column is replaced by `ClientSecret` rows (several, hashed,
    expiring), and the space-separated redirect URI text by `RedirectUri` rows.
    """

    # DOT fields that B2C's model replaces (removed from the table).
    authorization_grant_type = None
    client_secret = None
    hash_client_secret = None
    redirect_uris = None

    client_id = models.CharField(
        "client id", max_length=36, unique=True, default=new_client_id,
        help_text="Application (client) ID, a UUID. Give one explicitly to keep a migrated client's id.",
    )
    object_id = models.UUIDField("object id", default=uuid.uuid4, unique=True, editable=False)
    service_principal_id = models.UUIDField(
        "service principal object id", default=uuid.uuid4, unique=True, editable=False,
        help_text="The `sub`/`oid` of app-only tokens issued to this client.",
    )
    ropc_enabled = models.BooleanField(
        "resource owner password credentials (ROPC)", default=False,
        help_text="Allow this app to exchange a user's name and password for tokens.",
    )
    # NULL, not "": apps without an App ID URI must not collide under the unique constraint.
    app_id_uri = models.CharField(  # noqa: DJ001
        "Application ID URI", max_length=512, null=True, blank=True,
        help_text="e.g. https://contoso.onmicrosoft.com/api; clients ask for '{App ID URI}/.default'.",
    )
    enabled = models.BooleanField(default=True)

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = "app registration"
        constraints = [
            models.CheckConstraint(condition=Q(client_id__regex=UUID_REGEX), name="application_client_id_uuid"),
            # App ID URIs are matched case-insensitively (as Entra does), so they are unique that way too.
            models.UniqueConstraint(
                Lower("app_id_uri"), name="application_app_id_uri_unique_ci",
                violation_error_message="An app registration with this Application ID URI already exists.",
            ),
            models.CheckConstraint(
                condition=Q(client_type__in=["public", "confidential"]), name="application_client_type_known"
            ),
            models.CheckConstraint(
                condition=Q(app_id_uri__isnull=True) | (
                    Q(app_id_uri__regex=r"^[A-Za-z][A-Za-z0-9+.-]*:\S*[^/\s]$")
                    & ~Q(app_id_uri__iendswith="/.default")
                ),
                name="application_app_id_uri_well_formed",
            ),
        ]

    @property
    def is_public(self) -> bool:
        return self.client_type == self.CLIENT_PUBLIC

    def grant_types(self) -> frozenset[str]:
        """The RFC 6749 grant types this app may use."""
        types = {"refresh_token"}
        if self.ropc_enabled:
            types.add("password")
        if not self.is_public:
            types.add("client_credentials")
        return frozenset(types)

    def allows_grant_type(self, *grant_types: str) -> bool:
        # DOT passes its own spellings ("client-credentials"); normalise to RFC strings.
        return any(g.replace("-", "_") in self.grant_types() for g in grant_types)

    def clean(self) -> None:
        # DOT's clean() validates the single grant type and secret columns we removed.
        if self.app_id_uri == "":
            self.app_id_uri = None

    def is_usable(self, request) -> bool:
        return self.enabled

    @property
    def redirect_uri_list(self) -> list[str]:
        return [r.uri for r in self.redirect_uri_rows.all()]

    def redirect_uri_allowed(self, uri: str) -> bool:
        return uri in self.redirect_uri_list


class RedirectUri(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="redirect_uri_rows")
    uri = models.CharField("redirect URI", max_length=1024)

    class Meta:
        verbose_name = "redirect URI"
        constraints = [
            models.UniqueConstraint(fields=["application", "uri"], name="redirect_uri_unique_per_app"),
            models.CheckConstraint(
                condition=Q(uri__regex=r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$"), name="redirect_uri_well_formed"
            ),
        ]

    def __str__(self) -> str:
        return self.uri
