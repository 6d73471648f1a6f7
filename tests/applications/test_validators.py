"""The rules of an app registration, in words (applications/validators.py).

App ID URIs follow Microsoft Entra's documented identifierUris restrictions for apps that sign in B2C users:
the secure api:// and https:// patterns, https on a verified domain of the tenant, no trailing '/', no urn:,
wildcards, query strings or fragments, at most 120 characters.
"""

import uuid

import pytest
from django.core.exceptions import ValidationError

from applications import services
from applications.models import Application
from applications.validators import (
    app_id_uri_default,
    app_id_uri_validate,
    client_id_validate,
    client_type_validate,
    redirect_uri_validate,
    verified_domains,
)
from identity.tenant import tenant_id
from tests.conftest import ACTOR

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§5")]

CLIENT_ID = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
TENANT = "contoso.onmicrosoft.com"  # tests/settings.py; IDENTITY_BASE_URL is https://login.contoso.test


def message(value: str, client_id: str = CLIENT_ID, application: Application | None = None) -> str:
    with pytest.raises(ValidationError) as excinfo:
        app_id_uri_validate(value, client_id=client_id, application=application)
    [text] = excinfo.value.messages
    return text


@pytest.mark.parametrize("uri", [
    f"https://{TENANT}/tasks-api",  # https://{initial domain}/{string}: the demo tenant's and conftest's shape
    f"https://{TENANT}/Ärzte",
    f"https://graph.{TENANT}",  # https://{string}.{verified domain}: SPEC §9's management API default
    f"https://tasks.{TENANT}/v1/api",
    "https://login.contoso.test/api",  # IDENTITY_BASE_URL's host: a custom domain B2C has verified
    f"HTTPS://{TENANT.upper()}/API",
    f"api://{CLIENT_ID}",  # the default
    f"api://{CLIENT_ID.upper()}",
    f"api://{CLIENT_ID}/read",
    f"api://{TENANT}/tasks-api",  # api://{verified domain}/{string}
    f"api://tasks.{TENANT}/api",
    f"api://productapi/{CLIENT_ID}",  # api://{string}/{appId}
])
def test_entras_secure_patterns_are_accepted(uri):
    assert app_id_uri_validate(f"  {uri} ", client_id=CLIENT_ID) == uri


def test_the_tenant_id_patterns_are_accepted():
    tenant = tenant_id()
    for uri in (f"api://{tenant}/tasks-api", f"api://{tenant}/{CLIENT_ID}", f"api://tasks/{tenant}"):
        assert app_id_uri_validate(uri, client_id=CLIENT_ID) == uri


def test_nothing_means_no_app_id_uri():
    assert app_id_uri_validate("  ", client_id=CLIENT_ID) is None
    assert app_id_uri_validate(None, client_id=CLIENT_ID) is None


@pytest.mark.parametrize(("uri", "text"), [
    ("notauri", "App ID URI: 'notauri' is not a URI; use the default api://{client id} or "
                "https://{a verified domain}/{name}, e.g. https://contoso.onmicrosoft.com/tasks-api."),
    ("ftp://x/y", "App ID URI: the scheme must be api:// or https:// (got 'ftp:'); e.g. api://{client id}."),
    (f"urn:{TENANT}:api", "App ID URI: the scheme must be api:// or https:// (got 'urn:')"),
    ("http://insecure.example/api", "App ID URI: use https://, not http:// (Entra accepts only api:// and https://)"),
    (f"http://{TENANT}/api", "App ID URI: use https://, not http://"),
    (f"https://{TENANT}/api?version=2", "App ID URI: query strings ('?…') are not allowed"),
    (f"https://{TENANT}/api#part", "App ID URI: fragments ('#…') are not allowed"),
    (f"https://*.{TENANT}/api", "App ID URI: wildcards ('*') are not allowed"),
    (f"https://{TENANT}/tasks api", "App ID URI: no spaces or control characters"),
    (f"https://{TENANT}/api/", "App ID URI: must not end with '/' (Entra's rule)"),
    (f"https://{TENANT}/api/.DEFAULT", "App ID URI: must not end with '/.default': clients append that"),
    (f"https://{TENANT}/" + "a" * 100, "App ID URI: at most 120 characters, as Entra allows (got 132)."),
    ("https://insecure.example/api",
     "App ID URI: https URIs must use a verified domain of the tenant (contoso.onmicrosoft.com, login.contoso.test) "
     "or a subdomain of one (got 'insecure.example')"),
    (f"https://not{TENANT}/api", "https URIs must use a verified domain"),  # a suffix is not a subdomain
    (f"https://{TENANT}", "App ID URI: https://contoso.onmicrosoft.com alone names the whole domain; add a path"),
    (f"https://{TENANT}:8443/api", "without a user name or a port"),
    (f"https://me@{TENANT}/api", "without a user name or a port"),
    ("https:///api", "App ID URI: nothing after https://"),
    (f"api:{CLIENT_ID}", "App ID URI: write api:// with two slashes"),
    ("api://productapi", "App ID URI: an api:// URI must contain this app's client id, the tenant id or a "
                         "verified domain of the tenant"),
    ("api://Ärzte/read", "an api:// URI must contain this app's client id"),
    (f"api://{uuid.UUID(int=1)}", "App ID URI: a GUID after api:// must be this app's client id or the tenant id"),
    (f"api://{TENANT}", "App ID URI: add a name after the domain, e.g. api://contoso.onmicrosoft.com/tasks-api."),
])
def test_each_broken_rule_is_named(uri, text):
    said = message(uri)
    assert said.startswith("App ID URI: ") and text in said


def test_api_with_the_tenant_id_alone_would_claim_the_tenant():
    assert "alone would claim the whole tenant" in message(f"api://{tenant_id()}")


def test_the_default_is_api_and_the_client_id():
    assert app_id_uri_default(CLIENT_ID) == f"api://{CLIENT_ID}"
    assert app_id_uri_validate(app_id_uri_default(CLIENT_ID), client_id=CLIENT_ID)


def test_more_verified_domains_come_from_settings(settings):
    assert "https URIs must use a verified domain" in message("https://contoso.com/api")
    settings.IDENTITY_VERIFIED_DOMAINS = ["contoso.com"]
    assert verified_domains() == [TENANT, "login.contoso.test", "contoso.com"]
    for uri in ("https://contoso.com/api", "https://tasks.contoso.com", "api://contoso.com/tasks"):
        assert app_id_uri_validate(uri, client_id=CLIENT_ID) == uri


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "https://[::1]", "http://localhost:8000"])
def test_an_ip_address_or_localhost_is_no_verified_domain(settings, base_url):
    settings.IDENTITY_BASE_URL = base_url
    assert verified_domains() == [TENANT]


def test_app_id_uris_are_unique_case_insensitively(api_app):
    assert message(api_app.app_id_uri.upper()).startswith(
        "App ID URI: 'HTTPS://CONTOSO.ONMICROSOFT.COM/TASKS-API' is already the App ID URI of 'Tasks API'"
    )
    assert app_id_uri_validate(api_app.app_id_uri, client_id=api_app.client_id, application=api_app)


def test_a_stored_uri_is_not_checked_again_only_a_new_one(api_app):
    """As in Entra: URIs set before the rules keep working when the app is edited; a changed one is checked."""
    Application.objects.filter(pk=api_app.pk).update(app_id_uri="http://legacy.example/api")
    api_app.refresh_from_db()
    api_app.name = "Renamed API"
    services.application_update(application=api_app, changed=["name"], actor=ACTOR)
    api_app.app_id_uri = "http://legacy.example/other"
    with pytest.raises(ValidationError, match="use https://, not http://"):
        services.application_update(application=api_app, changed=["app_id_uri"], actor=ACTOR)
    assert Application.objects.get(pk=api_app.pk).app_id_uri == "http://legacy.example/api"


def test_the_service_checks_the_uri_against_the_client_id_it_registers():
    client_id = str(uuid.uuid4())
    app = services.application_register(actor=ACTOR, name="API", client_id=client_id.upper(),
                                        app_id_uri=f"api://{client_id}")
    assert app.app_id_uri == f"api://{client_id}"
    with pytest.raises(ValidationError, match="a GUID after api:// must be this app's client id"):
        services.application_register(actor=ACTOR, name="Other", app_id_uri=f"api://{client_id}/x")


def test_client_ids_are_uuids_unique_among_apps(api_app):
    assert client_id_validate(CLIENT_ID.upper()) == CLIENT_ID
    assert uuid.UUID(client_id_validate(None))
    with pytest.raises(ValidationError, match=r"Client id must be a UUID such as .* \(got '12'\); leave it out"):
        client_id_validate("12")
    with pytest.raises(ValidationError, match="is already used by the app 'Tasks API'"):
        client_id_validate(api_app.client_id.upper())
    assert client_id_validate(api_app.client_id, application=api_app) == api_app.client_id


def test_client_type_is_confidential_or_public(daemon_app):
    assert client_type_validate("public") == "public"
    daemon_app.client_type = "secret-keeping"
    with pytest.raises(ValidationError, match=r"must be 'confidential' or 'public' \(got 'secret-keeping'\)"):
        services.application_update(application=daemon_app, changed=["client_type"], actor=ACTOR)


@pytest.mark.parametrize("uri", ["https://app.contoso.com/auth", "msal6f1b2c3d://auth", "http://localhost:5000/cb",
                                 "https://app.contoso.com/cb?idp=x"])
def test_redirect_uris_are_absolute_without_spaces_or_fragments(uri):
    assert redirect_uri_validate(f" {uri} ") == uri


@pytest.mark.parametrize("uri", ["not a uri", "/relative", "https://app.contoso.com/cb#frag", "", "x:" + "a" * 1030])
def test_a_bad_redirect_uri_says_what_to_write(uri):
    with pytest.raises(ValidationError, match="is not valid: give an absolute URI with a scheme"):
        redirect_uri_validate(uri)
