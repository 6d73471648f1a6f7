"""Models of the identity app: the tenant row and the signing keys."""

from identity.keys.models import SigningKey
from identity.tenant import Tenant

__all__ = ["SigningKey", "Tenant"]
