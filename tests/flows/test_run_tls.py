"""`make run-tls` as a developer runs it, on a free port: https with a local CA, the printed quick start, and
MSAL Python (ROPC, silent refresh, client credentials) with only the CA file and the printed snippet
(issue 17, item 5, "Done when").

The test runs the Makefile's own target (`make run-tls PORT=… TLS_DIR=… DEMO_CREDENTIALS=…`, with the
database in a temporary SQLite file), reads what it prints, runs the printed curl commands and the printed
MSAL snippet in a fresh Python process, and verifies every token against the JWKS the server publishes.
"""

import json
import os
import shlex
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
import requests

from tests.flows.processes import free_port, granian_path, stop_process_group, wait_until_answering

pytestmark = [pytest.mark.spec("issue 17", "item 5"),
              pytest.mark.spec("notes/msal-python.md", "MSAL against Trustframe")]

ROOT = Path(__file__).resolve().parents[2]
TENANT = "trustframe.onmicrosoft.com"  # the development default: `make run-tls` sets no tenant name
POLICY = "B2C_1_ROPC_Auth"
SNIPPET_TITLE = "# MSAL Python (pip install msal requests)\n"
# What the test process's environment holds for the suite (tests/settings.py) and a developer's shell would not.
NOT_A_DEVELOPERS_SHELL = {
    "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "IDENTITY_TENANT_NAME", "IDENTITY_BASE_URL", "IDENTITY_KEY_SECRET",
    "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "DATABASE_URL", "REDIS_URL", "DEBUG", "PORT", "HOST", "TLS_DIR", "VENV",
    "DEMO_CREDENTIALS", "MAKEFLAGS", "MAKELEVEL", "MFLAGS",
}


@dataclass
class RunTls:
    port: int
    directory: Path
    log_path: Path

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.directory / "tls" / "ca.pem"

    @property
    def demo(self) -> dict:
        return json.loads((self.directory / "demo.json").read_text())

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def printed_snippet(self) -> str:
        return self.output().split(SNIPPET_TITLE, 1)[1].split("\n\n", 1)[0]

    def printed_command(self, title: str) -> str:
        return self.output().split(f"# {title}\n", 1)[1].split("\n", 1)[0]


def answers(port: int, ca_file: Path) -> bool:
    """/healthz answers 200 over TLS, trusting the CA file only."""
    try:
        context = ssl.create_default_context(cafile=str(ca_file))
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(f"GET /healthz HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode())
                return tls.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:  # not listening yet, or the CA file not written yet
        return False


def developer_env(directory: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in NOT_A_DEVELOPERS_SHELL}
    return env | {"DATABASE_URL": f"sqlite:///{directory}/trustframe.sqlite3"}


@pytest.fixture(scope="module")
def run_tls(tmp_path_factory) -> Iterator[RunTls]:
    directory = tmp_path_factory.mktemp("make-run-tls")
    venv = Path(sys.executable).parent.parent
    server = RunTls(port=free_port(), directory=directory, log_path=directory / "make.log")
    command = [
        "make", "--no-print-directory", "run-tls", f"VENV={venv}", f"PORT={server.port}",
        f"TLS_DIR={directory}/tls", f"DEMO_CREDENTIALS={directory}/demo.json",
        # The venv is the one running these tests: never reinstall into it (pyproject.toml may be newer).
        "-o", f"{venv}/.installed",
    ]
    with open(server.log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=developer_env(directory), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_answering(process, lambda: answers(server.port, server.ca_file), timeout=240,
                             log_tail=lambda: server.output()[-3000:], what=" over TLS (make run-tls)")
        yield server
    finally:
        stop_process_group(process)


@pytest.fixture(scope="module")
def http(run_tls) -> Iterator[requests.Session]:
    """What the README tells a developer to configure: the CA file, and nothing from the environment."""
    with requests.Session() as session:
        session.verify = str(run_tls.ca_file)
        session.trust_env = False
        yield session


@pytest.fixture(scope="module")
def keys(run_tls, http) -> jwt.PyJWKSet:
    response = http.get(f"{run_tls.origin}/{TENANT}/{POLICY}/discovery/v2.0/keys", timeout=10)
    assert response.status_code == 200, response.text
    return jwt.PyJWKSet.from_dict(response.json())


def verify(token: str, keys: jwt.PyJWKSet, *, audience: str, issuer: str) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=issuer)


def test_make_run_tls_serves_https_that_only_the_local_ca_vouches_for(run_tls, http):
    with requests.Session() as plain:
        plain.trust_env = False
        with pytest.raises(requests.exceptions.SSLError):
            plain.get(f"{run_tls.origin}/healthz", timeout=10)
    for origin in (run_tls.origin, f"https://127.0.0.1:{run_tls.port}"):
        assert http.get(f"{origin}/healthz", timeout=10).status_code == 200
    tls = run_tls.directory / "tls"
    assert oct((tls / "server-key.pem").stat().st_mode & 0o777) == "0o600"
    assert oct((tls / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
    assert f"Local CA {tls / 'ca.pem'} (created" in run_tls.output()


def test_discovery_and_the_landing_page_name_the_https_origin_and_its_port(run_tls, http):
    doc = http.get(f"{run_tls.origin}/{TENANT}/{POLICY}/v2.0/.well-known/openid-configuration", timeout=10).json()
    for field in ("issuer", "token_endpoint", "jwks_uri", "authorization_endpoint"):
        assert doc[field].startswith(f"{run_tls.origin}/"), field
    landing = http.get(f"{run_tls.origin}/", timeout=10)
    assert landing.status_code == 200 and f"{run_tls.origin}/{TENANT}/{POLICY}" in landing.text
    assert 'role="alert"' not in landing.text


def test_the_admin_with_its_static_files_is_served(run_tls, http):
    assert http.get(f"{run_tls.origin}/admin/login/", timeout=10).status_code == 200
    css = http.get(f"{run_tls.origin}/static/admin/css/base.css", timeout=10)
    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]


def test_the_printed_curl_commands_work_with_the_ca_file_they_name(run_tls):
    ca = str(run_tls.directory / "tls" / "ca.pem")
    for title in ("OIDC discovery", "Client credentials (client_secret_basic)", "ROPC sign-in (native app)"):
        command = shlex.split(run_tls.printed_command(title))
        assert command[:4] == ["curl", "-s", "--cacert", ca], command
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (title, result.returncode, result.stderr)
        body = json.loads(result.stdout)
        assert "token_endpoint" in body or "access_token" in body, (title, body)


def test_the_printed_msal_snippet_signs_in_refreshes_silently_and_gets_an_app_token(run_tls, keys):
    snippet = run_tls.printed_snippet()
    assert f'http.verify = "{run_tls.ca_file}"' in snippet
    report = '\nimport json\nprint("RESULT", json.dumps({"ropc": result, "refreshed": refreshed, "app": app_token}))\n'
    # A fresh interpreter, the developer's environment (REQUESTS_CA_BUNDLE and all): only the snippet configures.
    ran = subprocess.run([sys.executable, "-c", snippet + report], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env=developer_env(run_tls.directory))
    assert ran.returncode == 0, ran.stderr[-3000:]
    results = json.loads(next(line for line in ran.stdout.splitlines() if line.startswith("RESULT "))[7:])
    demo = run_tls.demo
    issuer = results["ropc"]["id_token_claims"]["iss"]
    assert issuer.startswith(f"{run_tls.origin}/")
    native = demo["native_client_id"]
    first = verify(results["ropc"]["access_token"], keys, audience=native, issuer=issuer)
    refreshed = results["refreshed"]
    assert refreshed["token_source"] == "identity_provider", refreshed  # redeemed, not read from MSAL's cache
    second = verify(refreshed["access_token"], keys, audience=native, issuer=issuer)
    assert second["oid"] == first["oid"] and second["jti"] != first["jti"]
    app = verify(results["app"]["access_token"], keys, audience=demo["api_client_id"], issuer=issuer)
    assert app["roles"] == ["app.read", "app.write"] and app["azp"] == demo["daemon_client_id"]
    # MSAL's user-realm probe reached this server on its port (through the snippet's http_client) and
    # got its 404, which is what lets MSAL go on with plain ROPC.
    deadline = time.monotonic() + 10
    while '"GET /common/userrealm/demo HTTP/1.1" 404' not in run_tls.output():  # granian logs no query
        assert time.monotonic() < deadline, run_tls.output()[-3000:]
        time.sleep(0.1)


def test_without_the_snippets_port_rewrite_msal_would_probe_port_443(run_tls):
    # Why the snippet carries it: the installed MSAL builds the probe's URL from the host name alone.
    lines = run_tls.printed_snippet().splitlines()
    rewrite = [line for line in lines if line.startswith(("request = http.request", "http.request ="))]
    assert len(rewrite) == 2
    stop_at_port_443 = (
        "get = http.get\n"
        "def stopping_get(url, **kwargs):\n"
        "    if url.startswith('https://localhost/'):\n"
        "        raise SystemExit('PORT 443: ' + url)\n"
        "    return get(url, **kwargs)\n"
        "http.get = stopping_get\n"
    )
    code = "\n".join(line for line in lines if line not in rewrite).replace("# ROPC", stop_at_port_443 + "# ROPC", 1)
    ran = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=developer_env(run_tls.directory))
    assert "PORT 443: https://localhost/common/userrealm/demo?api-version=1.0" in ran.stderr, ran.stderr[-2000:]


@pytest.fixture(scope="module")
def tls_without_base_url(run_tls) -> Iterator[RunTls]:
    """granian over TLS as the Makefile starts it, by hand, with DEBUG=true and IDENTITY_BASE_URL unset."""
    server = RunTls(port=free_port(), directory=run_tls.directory, log_path=run_tls.directory / "bare.log")
    tls = run_tls.directory / "tls"
    command = [granian_path(), "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(server.port), "--no-ws",
               "--ssl-certificate", str(tls / "server.pem"), "--ssl-keyfile", str(tls / "server-key.pem"),
               "identity.wsgi:application"]
    with open(server.log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=developer_env(run_tls.directory) | {"DEBUG": "true"},
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_answering(process, lambda: answers(server.port, server.ca_file), timeout=60,
                             log_tail=lambda: server.output()[-3000:], what=" over TLS")
        yield server
    finally:
        stop_process_group(process)


def test_tls_with_identity_base_url_unset_never_advertises_the_http_default(tls_without_base_url, http):
    origin = tls_without_base_url.origin
    response = http.get(f"{origin}/{TENANT}/{POLICY}/v2.0/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 421
    body = response.json()
    assert body["error"] == "misdirected_request"
    assert f"set IDENTITY_BASE_URL=https://localhost:{tls_without_base_url.port}" in body["error_description"]
    assert "token_endpoint" not in response.text
    landing = http.get(f"{origin}/", timeout=10)
    assert landing.status_code == 200 and 'role="alert"' in landing.text
