"""The demo's quick start under TLS (issue 17, item 5): curl with the CA file, and an MSAL Python snippet.

The snippet is run against a real `make run-tls` in tests/flows/test_run_tls.py; here, what it says.
"""

import ast
import json
from io import StringIO

import pytest
from django.core.management import call_command

from identity.demo import DemoTenant, curl_commands, msal_snippet

pytestmark = pytest.mark.spec("issue 17", "item 5")

DEMO = DemoTenant(
    tenant="contoso.onmicrosoft.com", policy_id="B2C_1_ROPC_Auth",
    native_client_id="11111111-1111-1111-1111-111111111111", api_client_id="22222222-2222-2222-2222-222222222222",
    api_app_id_uri="https://contoso.onmicrosoft.com/demo-api",
    daemon_client_id="33333333-3333-3333-3333-333333333333", daemon_client_secret="s3cr'et\"\\x",
    username="demo", password="pa\"ss'word\\",
)


def string_literals(code: str) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Constant)
            and isinstance(node.value, str)}


def test_with_a_ca_file_every_curl_command_trusts_it():
    commands = curl_commands(DEMO, "https://localhost:8443", "var/tls/ca.pem")
    assert len(commands) == 6
    for _, command in commands:
        assert command.startswith("curl -s --cacert var/tls/ca.pem https://localhost:8443/contoso.onmicrosoft.com/")
    assert all("--cacert" not in command for _, command in curl_commands(DEMO, "http://127.0.0.1:8000"))


def test_there_is_no_msal_snippet_for_an_http_origin():
    assert msal_snippet(DEMO, "http://127.0.0.1:8000", "var/tls/ca.pem") is None


def test_the_snippet_names_the_ca_file_and_sends_the_user_realm_probe_to_the_servers_port():
    snippet = msal_snippet(DEMO, "https://localhost:8443", "var/tls/ca.pem")
    literals = string_literals(snippet)  # it parses, and every value is exactly itself
    assert {"var/tls/ca.pem", DEMO.password, DEMO.daemon_client_secret, DEMO.native_client_id,
            "https://localhost:8443/contoso.onmicrosoft.com/B2C_1_ROPC_Auth",
            "https://localhost/", "https://localhost:8443/",
            "https://contoso.onmicrosoft.com/demo-api/.default"} <= literals
    assert 'http.verify = "var/tls/ca.pem"' in snippet
    assert "http.trust_env = False" in snippet
    assert "force_refresh=True" in snippet and "acquire_token_for_client" in snippet
    assert "acquire_token_by_username_password" in snippet
    assert "_domains_without_user_realm_discovery" not in snippet  # no private MSAL attribute
    assert "" not in snippet.splitlines()  # one block: the blank line printed after it ends it
    # Top-level statements only, so that pasting it into Python's interactive prompt works.
    assert all(not line.startswith((" ", "\t")) for line in snippet.splitlines())


def test_on_port_443_the_snippet_needs_no_port_rewrite_and_without_a_ca_file_no_verify():
    snippet = msal_snippet(DEMO, "https://login.contoso.test", None)
    ast.parse(snippet)
    assert "http.request =" not in snippet and "verify" not in snippet
    assert "http.request =" not in msal_snippet(DEMO, "https://login.contoso.test:443", None)


@pytest.mark.django_db
def test_demotenant_with_a_ca_file_prints_cacert_curl_commands_and_the_snippet(settings, tmp_path):
    settings.DEBUG = True
    settings.IDENTITY_BASE_URL = "https://localhost:8443"
    out = StringIO()
    call_command("demotenant", "--credentials-file", str(tmp_path / "demo.json"), "--ca-file", "var/tls/ca.pem",
                 stdout=out)
    text = out.getvalue()
    assert "curl -s --cacert var/tls/ca.pem https://localhost:8443/" in text
    snippet = text.split("# MSAL Python (pip install msal requests)\n", 1)[1].split("\n\n", 1)[0]
    assert snippet == msal_snippet(DemoTenant(**json.loads((tmp_path / "demo.json").read_text())),
                                   "https://localhost:8443", "var/tls/ca.pem")
    out = StringIO()
    call_command("demotenant", "--credentials-file", str(tmp_path / "demo.json"), "--ca-file", "var/tls/ca.pem",
                 "--json", stdout=out)
    assert json.loads(out.getvalue())["msal_python"] == snippet


@pytest.mark.django_db
def test_demotenant_over_http_says_msal_needs_make_run_tls(settings, tmp_path):
    settings.DEBUG = True
    settings.IDENTITY_BASE_URL = "http://127.0.0.1:8000"
    out = StringIO()
    call_command("demotenant", "--credentials-file", str(tmp_path / "demo.json"), stdout=out)
    assert "MSAL Python needs https: `make run-tls`" in out.getvalue()
    out = StringIO()
    call_command("demotenant", "--credentials-file", str(tmp_path / "demo.json"), "--json", stdout=out)
    assert json.loads(out.getvalue())["msal_python"] is None
