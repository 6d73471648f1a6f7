"""The admin site, branded: Trustframe and the tenant it runs, not "Django administration" (issue 17
item 19), with its sign-in hardened (issue 18 item 2): the login checks through accounts/admin_login.py
(quota, smart lockout, hashing gate, sign-in events), a second step (TOTP) follows for admins who have an
authenticator or must have one (ADMIN_REQUIRE_MFA), and changing one's password goes through the audited
service (item 6). Everything else is Django's own admin site.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

# Admin pages other apps register that would be unaudited second paths: django-otp's device pages (keys
# edited, devices removed; devices are managed on the two-step page and by "Reset two-step verification")
# and django.contrib.auth's groups (the built-in roles are shown read-only as "Admin roles").
_NOT_REGISTERED = {"otp_totp", "otp_static", "otp_hotp", "otp_email", "auth.group"}


class TrustframeAdminSite(admin.AdminSite):
    site_header = "Trustframe"
    site_title = "Trustframe admin"
    index_title = "Tenant administration"
    # "View site" opens the landing page: the tenant's endpoints for developers.
    site_url = "/"
    # Django's app sidebar takes ~300 px beside every page: without it the lists fit at 1366 px
    # (issue 17 item 14); the breadcrumbs and the index lead everywhere.
    enable_nav_sidebar = False

    def each_context(self, request: HttpRequest) -> dict:
        from identity.tenant import tenant_name  # imports models: not before the apps are ready

        return {**super().each_context(request), "tenant_name": tenant_name()}

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else list(model_or_iterable)
        models = [m for m in models if not {m._meta.app_label, m._meta.label_lower} & _NOT_REGISTERED]
        if models:
            super().register(models, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        """Django's rule (an active admin account), and the second step where it applies."""
        from accounts.admin_mfa import second_factor_satisfied

        return super().has_permission(request) and second_factor_satisfied(request)

    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        from accounts.admin_login_views import login_view

        return login_view(self, request, extra_context)

    def password_change(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Django's view with our form: the current password checked like a sign-in, the new one set by
        admin_account_set_password (password rules, audit event)."""
        from django.contrib.auth.views import PasswordChangeView

        from accounts.admin_login_forms import AdminPasswordChangeForm

        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=AdminPasswordChangeForm, success_url=reverse("admin:password_change_done"),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)

    def get_urls(self) -> list:
        from accounts import admin_login_views, admin_mfa_views

        def bare(view):
            # The steps between the password and the session: not behind admin_view (nobody is signed in yet).
            return never_cache(csrf_protect(lambda request, *args, **kwargs: view(self, request, *args, **kwargs)))

        return [
            path("login/verify/", bare(admin_login_views.verify_view), name="mfa_verify"),
            path("two-step/", bare(admin_mfa_views.two_step_view), name="mfa"),
            path("two-step/reset/<str:account_id>/",
                 self.admin_view(lambda request, account_id: admin_mfa_views.reset_view(self, request, account_id)),
                 name="mfa_reset"),
            *super().get_urls(),
        ]


class TrustframeAdminConfig(AdminConfig):
    default_site = "identity.admin_site.TrustframeAdminSite"
