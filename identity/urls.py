"""URL map (SPEC §2). Tenant and policy segments are matched by the views, case-insensitively.

`{tenant}` and `{policy}` are plain segments here: the views decide (identity.views.common.find_policy)
so that an unknown tenant or policy gets a JSON 404 that says which, not a generic one.
"""

from django.contrib import admin
from django.urls import path

from identity.views.authorize import AuthorizeView
from identity.views.discovery import OpenIdConfigurationView
from identity.views.errors import ADMIN_PREFIX, UserRealmView
from identity.views.health import HealthView, ReadyView
from identity.views.jwks import JwksView
from identity.views.landing import LandingView
from identity.views.token import IntrospectView, RevokeView, TokenView

openid_configuration = OpenIdConfigurationView.as_view()
keys = JwksView.as_view()
token = TokenView.as_view()
revoke = RevokeView.as_view()
introspect = IntrospectView.as_view()
authorize = AuthorizeView.as_view()

urlpatterns = [
    path("", LandingView.as_view(), name="landing"),
    path(ADMIN_PREFIX.lstrip("/"), admin.site.urls),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
    path("common/userrealm/<path:rest>", UserRealmView.as_view(), name="userrealm"),
    # OIDC discovery and JWKS: the policy in the path, or (second shape) in ?p=.
    path("<str:tenant>/<str:policy>/v2.0/.well-known/openid-configuration", openid_configuration,
         name="openid-configuration"),
    path("<str:tenant>/v2.0/.well-known/openid-configuration", openid_configuration,
         name="openid-configuration-p"),
    path("<str:tenant>/<str:policy>/discovery/v2.0/keys", keys, name="jwks"),
    path("<str:tenant>/discovery/v2.0/keys", keys, name="jwks-p"),
    # The token endpoint (SPEC §4), in the same two shapes.
    path("<str:tenant>/<str:policy>/oauth2/v2.0/token", token, name="token"),
    path("<str:tenant>/oauth2/v2.0/token", token, name="token-p"),
    path("<str:tenant>/<str:policy>/oauth2/v2.0/revoke", revoke, name="revoke"),
    path("<str:tenant>/oauth2/v2.0/revoke", revoke, name="revoke-p"),
    path("<str:tenant>/<str:policy>/oauth2/v2.0/introspect", introspect, name="introspect"),
    path("<str:tenant>/oauth2/v2.0/introspect", introspect, name="introspect-p"),
    # Advertised by discovery (REQUIRED there, and read by MSAL); says interactive sign-in is not available.
    path("<str:tenant>/<str:policy>/oauth2/v2.0/authorize", authorize, name="authorize"),
    path("<str:tenant>/oauth2/v2.0/authorize", authorize, name="authorize-p"),
]

handler400 = "identity.views.errors.bad_request"
handler403 = "identity.views.errors.permission_denied"
handler404 = "identity.views.errors.page_not_found"
handler500 = "identity.views.errors.server_error"
