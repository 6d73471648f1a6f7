"""App registrations and everything hanging off them (SPEC §5), plus DOT's swapped token models."""

from applications.models.application import Application, RedirectUri
from applications.models.assignments import AppRoleAssignment
from applications.models.certificates import ClientCertificate
from applications.models.permissions import AppRole, ConsentGrant, DelegatedScope, RequiredPermission
from applications.models.secrets import ClientSecret
from applications.models.tokens import AccessToken, Grant, IDToken, RefreshToken

__all__ = [
    "AccessToken",
    "AppRole",
    "AppRoleAssignment",
    "Application",
    "ClientCertificate",
    "ClientSecret",
    "ConsentGrant",
    "DelegatedScope",
    "Grant",
    "IDToken",
    "RedirectUri",
    "RefreshToken",
    "RequiredPermission",
]
