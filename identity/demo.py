"""The demo tenant `make run` creates in an empty database (README: Quick start).

Everything goes through the same services the admin and the commands use.
"""

import secrets
import uuid
from dataclasses import asdict, dataclass

from django.db import transaction

from accounts import services as accounts
from accounts.models import User
from applications import services as applications
from applications.models import Application
from identity.keys.services import signing_key_ensure
from identity.tenant import tenant_name
from policies import services as policies

POLICY_ID = "B2C_1_ROPC_Auth"
# The role ids of the B2C client-credentials seed's manifest, so its appRoles JSON matches the demo.
READ_ROLE_ID = uuid.UUID("d6a15e20-f83c-4264-8e61-5082688e14c8")
WRITE_ROLE_ID = uuid.UUID("204dc4ab-51e1-439f-8c7f-31a1ebf3c7b9")


@dataclass(frozen=True)
class DemoTenant:
    tenant: str
    policy_id: str
    native_client_id: str
    api_client_id: str
    api_app_id_uri: str
    daemon_client_id: str
    daemon_client_secret: str
    username: str
    password: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def directory_is_empty() -> bool:
    return not Application.objects.exists() and not User.objects.filter(is_staff=False).exists()


@transaction.atomic
def demo_tenant_create(*, actor: str) -> DemoTenant:
    """A ROPC policy, a native ROPC app, an API with two app roles, a consented daemon and a user."""
    signing_key_ensure(actor=actor)
    policy, _ = policies.policy_create_or_update(
        actor=actor, policy_id=POLICY_ID, output_claims=["objectId", "displayName", "givenName", "surname", "emails"]
    )
    native = applications.application_register(actor=actor, name="Demo native app", public=True, ropc=True)
    api = applications.application_register(
        actor=actor, name="Demo API", app_id_uri=f"https://{tenant_name()}/demo-api"
    )
    for role_id, value, name in ((READ_ROLE_ID, "app.read", "Read"), (WRITE_ROLE_ID, "app.write", "Write")):
        applications.app_role_add(application=api, actor=actor, value=value, display_name=name, role_id=role_id)
    daemon = applications.application_register(actor=actor, name="Demo daemon")
    _, secret = applications.client_secret_add(application=daemon, actor=actor, description="demo")
    applications.permission_add(client=daemon, api=api, values=["app.read", "app.write"], actor=actor)
    applications.admin_consent_grant(client=daemon, actor=actor)
    password = f"Demo-{secrets.token_urlsafe(9)}"
    user = accounts.user_create(
        actor=actor, username="demo", email="demo@example.com", password=password,
        display_name="Demo User", given_name="Demo", surname="User",
    )
    return DemoTenant(
        tenant=tenant_name(), policy_id=policy.policy_id, native_client_id=native.client_id,
        api_client_id=api.client_id, api_app_id_uri=api.app_id_uri, daemon_client_id=daemon.client_id,
        daemon_client_secret=secret, username=user.username, password=password,
    )


def curl_commands(demo: DemoTenant, base_url: str) -> list[tuple[str, str]]:
    """(title, command) pairs that work against the demo tenant."""
    tenant_url = f"{base_url}/{demo.tenant}"
    token_url = f"{tenant_url}/{demo.policy_id}/oauth2/v2.0/token"
    return [
        ("OIDC discovery", f"curl -s {tenant_url}/{demo.policy_id}/v2.0/.well-known/openid-configuration"),
        ("Signing keys (JWKS)", f"curl -s {tenant_url}/{demo.policy_id}/discovery/v2.0/keys"),
        ("ROPC sign-in (native app)", (
            f"curl -s {token_url} -d grant_type=password -d client_id={demo.native_client_id} "
            f"--data-urlencode 'scope=openid {demo.native_client_id} offline_access' "
            f"-d username={demo.username} --data-urlencode 'password={demo.password}' "
            "-d 'response_type=token id_token'"
        )),
        ("Refresh (paste the refresh_token from the sign-in)", (
            f"curl -s {token_url} -d grant_type=refresh_token -d client_id={demo.native_client_id} "
            f"-d resource={demo.native_client_id} -d response_type=id_token -d refresh_token=PASTE_REFRESH_TOKEN"
        )),
        ("Client credentials (client_secret_post)", (
            f"curl -s {token_url} -d grant_type=client_credentials -d client_id={demo.daemon_client_id} "
            f"--data-urlencode 'client_secret={demo.daemon_client_secret}' "
            f"--data-urlencode 'scope={demo.api_app_id_uri}/.default'"
        )),
        ("Client credentials (client_secret_basic)", (
            f"curl -s {token_url} -u '{demo.daemon_client_id}:{demo.daemon_client_secret}' "
            f"-d grant_type=client_credentials --data-urlencode 'scope={demo.api_app_id_uri}/.default'"
        )),
    ]
