"""The one tenant a deployment serves (SPEC §2): its name from settings, its id stored once."""

import uuid
from functools import lru_cache

from django.conf import settings
from django.db import models
from django.db.models import Q


class Tenant(models.Model):
    """A single row holding the tenant id, created on first use and never changed."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    tenant_id = models.UUIDField("tenant id", default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "identity"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="tenant_singleton")]

    def __str__(self) -> str:
        return f"{settings.IDENTITY_TENANT_NAME} ({self.tenant_id})"


@lru_cache(maxsize=1)
def _tenant_id_cached(db_alias: str) -> uuid.UUID:
    tenant, _ = Tenant.objects.using(db_alias).get_or_create(id=1)
    return tenant.tenant_id


def tenant_id() -> uuid.UUID:
    """The tenant id; read once per process (it never changes)."""
    return _tenant_id_cached("default")


def tenant_name() -> str:
    return settings.IDENTITY_TENANT_NAME


def tenant_matches(segment: str) -> bool:
    """`{tenant}` in a URL is the tenant name or id, case-insensitively."""
    lowered = segment.lower()
    return lowered == tenant_name().lower() or lowered == str(tenant_id())


def forget_cached_tenant() -> None:
    """Tests that flush the database call this; a deployment's tenant id never changes."""
    _tenant_id_cached.cache_clear()
