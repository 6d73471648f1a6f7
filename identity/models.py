"""Models of the identity app: the tenant row, the signing keys, the directory stamp."""

from identity.directory_cache import DirectoryStamp
from identity.keys.models import SigningKey
from identity.tenant import Tenant

__all__ = ["DirectoryStamp", "SigningKey", "Tenant"]
