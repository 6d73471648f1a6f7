"""The admin site, branded: Trustframe and the tenant it runs, not "Django administration" (issue 17
item 19). Everything else is Django's own admin site."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class TrustframeAdminSite(admin.AdminSite):
    site_header = "Trustframe"
    site_title = "Trustframe admin"
    index_title = "Tenant administration"
    # "View site" opens the landing page: the tenant's endpoints for developers.
    site_url = "/"

    def each_context(self, request: HttpRequest) -> dict:
        from identity.tenant import tenant_name  # imports models: not before the apps are ready

        return {**super().each_context(request), "tenant_name": tenant_name()}


class TrustframeAdminConfig(AdminConfig):
    default_site = "identity.admin_site.TrustframeAdminSite"
