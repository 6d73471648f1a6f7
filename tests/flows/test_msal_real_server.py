"""MSAL Python, unchanged, against a B2C-shaped authority served over TLS by a real server process.

The issue's "Done when": `https://localhost:{port}/{tenant}/B2C_1_ROPC_Auth` served by gunicorn with a
throwaway CA; PublicClientApplication ROPC, a real silent refresh (force_refresh=True), and
ConfidentialClientApplication client credentials with a `.default` scope. Every token is verified
with PyJWT against the JWKS the server publishes over TLS (notes/msal-python.md).
"""

import sqlite3
import time
import uuid
import warnings

import jwt
import msal
import pytest
import requests

from tests.flows.tls_server import HOST, TENANT, session_for, tls_trustframe

pytestmark = [pytest.mark.spec("SPEC.md", "§8"), pytest.mark.spec("notes/msal-python.md", "MSAL against Trustframe")]

POLICY = "B2C_1_ROPC_Auth"


@pytest.fixture(scope="module", params=["granian", "gunicorn"])
def server(request, tmp_path_factory):
    """The production server (granian) and gunicorn, each over TLS on its own fresh database."""
    with tls_trustframe(tmp_path_factory.mktemp(f"tls-trustframe-{request.param}"), server=request.param) as running:
        yield running


@pytest.fixture(scope="module")
def realm_lookup_skipped():
    """MSAL probes https://{host}/common/userrealm/… on port 443 (it drops the port): tell it not to."""
    domains = msal.authority.Authority._domains_without_user_realm_discovery
    had = HOST in domains
    domains.add(HOST)
    yield
    if not had:
        domains.discard(HOST)


@pytest.fixture(scope="module")
def http(server):
    session = session_for(server)
    yield session
    session.close()


@pytest.fixture(scope="module")
def metadata(server, http):
    response = http.get(f"{server.authority(POLICY)}/v2.0/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def keys(server, http, metadata):
    assert metadata["jwks_uri"].startswith(server.origin)
    response = http.get(metadata["jwks_uri"], timeout=10)
    assert response.status_code == 200, response.text
    return jwt.PyJWKSet.from_dict(response.json())


def verify(token: str, keys: jwt.PyJWKSet, *, issuer: str, audience: str) -> dict:
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    key = next((k for k in keys.keys if k.key_id == header.get("kid")), None)
    assert key is not None, f"kid {header.get('kid')} is not in the published JWKS"
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=issuer,
                      options={"require": ["exp", "nbf", "iat", "iss", "aud"]})


def sign_in_events(server, grant_type: str, *, at_least: int = 0) -> list[tuple[int, str, str]]:
    """The server's sign-in events of a grant type, once at least `at_least` are written (the server
    writes them in batches, SIGN_IN_EVENTS_FLUSH_SECONDS after the request)."""
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(server.db_path) as db:
            rows = db.execute(
                "SELECT succeeded, client_id, error FROM audit_signinevent WHERE grant_type = ? ORDER BY id",
                (grant_type,),
            ).fetchall()
        if len(rows) >= at_least or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def user_object_id(server, username: str) -> str:
    with sqlite3.connect(server.db_path) as db:
        (value,) = db.execute("SELECT object_id FROM accounts_user WHERE username = ?", (username,)).fetchone()
    return str(uuid.UUID(str(value)))


def test_the_server_is_served_over_tls_with_the_test_ca_only(server):
    with requests.Session() as plain:
        plain.trust_env = False
        with pytest.raises(requests.exceptions.SSLError):
            plain.get(f"{server.origin}/healthz", timeout=10)  # system CAs do not know ours
    with session_for(server) as session:
        assert session.get(f"{server.origin}/healthz", timeout=10).status_code == 200
        assert session.get(f"https://127.0.0.1:{server.port}/healthz", timeout=10).status_code == 200


def test_discovery_over_tls_names_the_tls_origin(server, metadata):
    assert metadata["token_endpoint"].startswith(f"{server.origin}/{TENANT}/")
    assert metadata["issuer"].startswith(server.origin + "/")


@pytest.mark.spec("notes/msal-python.md", "user realm lookup before ROPC")
def test_the_user_realm_probe_answers_404_json_over_the_real_server(server, http):
    response = http.get(f"{server.origin}/common/userrealm/demo?api-version=1.0",
                        headers={"Accept": "application/json"}, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"error", "error_description"}
    response = http.get(f"{server.origin}/common/userrealm/x?api-version=1.0", timeout=10)
    assert response.status_code == 404 and response.json()["error"] == "not_found"


@pytest.mark.spec("SPEC.md", "§4.1")
def test_msal_ropc_then_a_real_silent_refresh(server, http, keys, metadata, realm_lookup_skipped):
    native = server.demo["native_client_id"]
    app = msal.PublicClientApplication(native, authority=server.authority(POLICY), http_client=http)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # MSAL deprecates ROPC for public clients
        result = app.acquire_token_by_username_password(server.demo["username"], server.demo["password"],
                                                        scopes=[native])
    assert "access_token" in result, result
    assert "id_token_claims" in result, result
    oid = user_object_id(server, server.demo["username"])
    assert result["id_token_claims"]["oid"] == oid
    assert result["id_token_claims"]["sub"] == oid
    issuer = metadata["issuer"]
    first = verify(result["access_token"], keys, issuer=issuer, audience=native)
    assert first["oid"] == oid and first["azp"] == native
    id_claims = verify(result["id_token"], keys, issuer=issuer, audience=native)
    assert id_claims["oid"] == oid and id_claims["tfp"] == POLICY.lower()

    accounts = app.get_accounts()
    assert len(accounts) == 1, accounts
    account = accounts[0]
    assert account["home_account_id"].startswith(oid), account
    assert sign_in_events(server, "refresh_token") == []

    # Tokens carry no jti: the same claims minted in the same second give the same JWT. Let a second
    # pass so that "a new access token" is visible in the token itself, not only in the sign-in log.
    while time.time() < first["iat"] + 1.05:
        time.sleep(0.05)
    refreshed = app.acquire_token_silent([native], account=account, force_refresh=True)
    assert refreshed is not None, "MSAL found no refresh token to redeem"
    assert "access_token" in refreshed, refreshed
    assert refreshed["access_token"] != result["access_token"]
    assert refreshed.get("token_source") == "identity_provider", refreshed  # not served from MSAL's cache
    second = verify(refreshed["access_token"], keys, issuer=issuer, audience=native)
    assert second["oid"] == oid and second["iat"] > first["iat"]
    assert sign_in_events(server, "refresh_token", at_least=1) == [(1, native, "")], "no successful refresh seen"
    # MSAL stored the rotated refresh token: a second forced refresh works too.
    again = app.acquire_token_silent([native], account=account, force_refresh=True)
    assert again is not None and "access_token" in again, again
    assert sign_in_events(server, "refresh_token", at_least=2) == [(1, native, ""), (1, native, "")]


@pytest.mark.spec("SPEC.md", "§4.3")
def test_msal_client_credentials_with_a_default_scope(server, http, keys, metadata):
    demo = server.demo
    app = msal.ConfidentialClientApplication(
        demo["daemon_client_id"], client_credential=demo["daemon_client_secret"], authority=server.authority(POLICY),
        http_client=http,
    )
    result = app.acquire_token_for_client([f"{demo['api_app_id_uri']}/.default"])
    assert "access_token" in result, result
    assert result.get("token_type") == "Bearer"
    claims = verify(result["access_token"], keys, issuer=metadata["issuer"], audience=demo["api_client_id"])
    assert claims["roles"] == ["app.read", "app.write"]
    assert claims["scp"] == "app.read app.write"
    assert claims["azp"] == demo["daemon_client_id"]
    assert claims["sub"] == claims["oid"]
    # The API's client id form of .default, through MSAL too.
    other = msal.ConfidentialClientApplication(
        demo["daemon_client_id"], client_credential=demo["daemon_client_secret"], authority=server.authority(POLICY),
        http_client=http,
    ).acquire_token_for_client([f"{demo['api_client_id']}/.default"])
    assert "access_token" in other, other
    assert verify(other["access_token"], keys, issuer=metadata["issuer"],
                  audience=demo["api_client_id"])["roles"] == ["app.read", "app.write"]
    assert (1, demo["daemon_client_id"], "") in sign_in_events(server, "client_credentials", at_least=2)


@pytest.mark.spec("SPEC.md", "§4.3")
def test_msal_reports_a_wrong_secret_as_invalid_client(server, http):
    demo = server.demo
    app = msal.ConfidentialClientApplication(
        demo["daemon_client_id"], client_credential="not-the-secret", authority=server.authority(POLICY),
        http_client=http,
    )
    result = app.acquire_token_for_client([f"{demo['api_app_id_uri']}/.default"])
    assert result.get("error") == "invalid_client", result
    assert result["error_description"].startswith("AADB2C90081"), result


@pytest.mark.spec("SPEC.md", "§4.1")
def test_msal_reports_a_wrong_password_as_invalid_grant(server, http, realm_lookup_skipped):
    native = server.demo["native_client_id"]
    app = msal.PublicClientApplication(native, authority=server.authority(POLICY), http_client=http)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result = app.acquire_token_by_username_password(server.demo["username"], "wrong-password", scopes=[native])
    assert result.get("error") == "invalid_grant", result
    assert app.get_accounts() == []
