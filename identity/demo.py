"""The demo tenant `make run` creates in an empty database (README: Quick start).

Everything goes through the same services the admin and the commands use.
"""

import json
import secrets
import shlex
import uuid
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

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


def curl_commands(demo: DemoTenant, base_url: str, ca_file: str | None = None) -> list[tuple[str, str]]:
    """(title, command) pairs that work against the demo tenant; with `ca_file`, curl trusts that CA."""
    tenant_url = f"{base_url}/{demo.tenant}"
    token_url = f"{tenant_url}/{demo.policy_id}/oauth2/v2.0/token"
    curl = f"curl -s --cacert {shlex.quote(ca_file)}" if ca_file else "curl -s"
    return [
        ("OIDC discovery", f"{curl} {tenant_url}/{demo.policy_id}/v2.0/.well-known/openid-configuration"),
        ("Signing keys (JWKS)", f"{curl} {tenant_url}/{demo.policy_id}/discovery/v2.0/keys"),
        ("ROPC sign-in (native app)", (
            f"{curl} {token_url} -d grant_type=password -d client_id={demo.native_client_id} "
            f"--data-urlencode 'scope=openid {demo.native_client_id} offline_access' "
            f"-d username={demo.username} --data-urlencode 'password={demo.password}' "
            "-d 'response_type=token id_token'"
        )),
        ("Refresh (paste the refresh_token from the sign-in)", (
            f"{curl} {token_url} -d grant_type=refresh_token -d client_id={demo.native_client_id} "
            f"-d resource={demo.native_client_id} -d response_type=id_token -d refresh_token=PASTE_REFRESH_TOKEN"
        )),
        ("Client credentials (client_secret_post)", (
            f"{curl} {token_url} -d grant_type=client_credentials -d client_id={demo.daemon_client_id} "
            f"--data-urlencode 'client_secret={demo.daemon_client_secret}' "
            f"--data-urlencode 'scope={demo.api_app_id_uri}/.default'"
        )),
        ("Client credentials (client_secret_basic)", (
            f"{curl} {token_url} -u '{demo.daemon_client_id}:{demo.daemon_client_secret}' "
            f"-d grant_type=client_credentials --data-urlencode 'scope={demo.api_app_id_uri}/.default'"
        )),
    ]


def msal_snippet(demo: DemoTenant, base_url: str, ca_file: str | None = None) -> str | None:
    """Python that signs in with MSAL (ROPC), refreshes silently and gets an app token; None unless https.

    MSAL accepts only https authorities. Before ROPC it asks https://{host}/common/userrealm/{user} on
    port 443 whatever port the authority names (msal/authority.py, user_realm_discovery); off port 443 the
    snippet's http_client, MSAL's documented hook for the HTTP it does, sends that one request to the
    server's port, where Trustframe's 404 tells MSAL to go on with plain ROPC.
    """
    origin = urlsplit(base_url)
    if origin.scheme != "https" or not origin.hostname:
        return None
    q = json.dumps  # a Python string literal for any value
    lines = [
        "import msal", "import requests", f"AUTHORITY = {q(f'{base_url}/{demo.tenant}/{demo.policy_id}')}",
        "http = requests.Session()",
    ]
    if origin.port not in (None, 443):
        host, port = f"https://{origin.hostname}/", f"{base_url}/"
        # One statement, no block: the snippet must survive being pasted into Python's interactive prompt.
        lines += [
            f"# MSAL asks {host}common/userrealm/{{user}} on port 443 before ROPC: send it to this server's port.",
            "request = http.request",
            f"http.request = lambda method, url, **kw: request(method, url.replace({q(host)}, {q(port)}, 1), **kw)",
        ]
    if ca_file:
        lines += [
            f"http.verify = {q(ca_file)}  # the local CA (manage.py localtls)",
            "http.trust_env = False  # else REQUESTS_CA_BUNDLE, when set, silently replaces verify",
        ]
    native, scopes = q(demo.native_client_id), f"[{q(demo.native_client_id)}]"
    lines += [
        "# ROPC (native app): MSAL adds openid profile offline_access itself.",
        f"app = msal.PublicClientApplication({native}, authority=AUTHORITY, http_client=http)",
        f"result = app.acquire_token_by_username_password({q(demo.username)}, {q(demo.password)}, scopes={scopes})",
        'print(result.get("id_token_claims") or result)',
        "# Silent refresh: redeems (and rotates) the cached refresh token.",
        f"refreshed = app.acquire_token_silent({scopes}, account=app.get_accounts()[0], force_refresh=True)",
        'print("refreshed:", "access_token" in refreshed)',
        "# Client credentials (daemon): roles/scp are the app roles admin consent granted.",
        f"daemon = msal.ConfidentialClientApplication({q(demo.daemon_client_id)}, "
        f"client_credential={q(demo.daemon_client_secret)}, authority=AUTHORITY, http_client=http)",
        f"app_token = daemon.acquire_token_for_client([{q(demo.api_app_id_uri + '/.default')}])",
        'print(app_token.get("access_token") or app_token)',
    ]
    return "\n".join(lines)
