"""Admin for app registrations (SPEC §6)."""

from django.contrib import admin

from applications.models import AccessToken, Grant, IDToken, RefreshToken
from applications.models import Application as _Application

# DOT registers admin classes for the swapped models that edit columns we removed; ours replace them.
for _model in (_Application, AccessToken, RefreshToken, IDToken, Grant):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
