"""No plaintext secret at rest or in the logs (issue 4; T65, T66 (storage part), T68).

A full set of flows runs with every logger at DEBUG (SQL included), then the whole database is dumped —
every row of every model, plus `pg_dump` of the test database on PostgreSQL or SQLite's own SQL dump —
and the dump and every captured log record (message, args, exception text, extra attributes) are
searched for every value issued or presented: passwords (right, wrong, old, new), client secrets,
refresh tokens, access tokens and ID tokens. Access tokens are JWTs and are not stored at all.
"""

import base64
import logging
import shutil
import subprocess
import traceback
from urllib.parse import quote, quote_plus

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from accounts import services as accounts
from accounts.models import User
from applications import services as applications
from tests.hardening.conftest import post_form, ropc
from tests.hardening.figures import record_figures

pytestmark = pytest.mark.spec("SPEC.md", "§5")


@pytest.fixture
def every_logger_at_debug(caplog):
    """Root and every logger known so far at DEBUG, SQL logging on; restored afterwards."""
    names = ["", "django", "django.request", "django.db.backends", "django.security", "oauthlib", "oauth2_provider",
             *logging.root.manager.loggerDict]
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    forced = connection.force_debug_cursor
    connection.force_debug_cursor = True  # django.db.backends logs every query with its parameters
    try:
        yield caplog
    finally:
        connection.force_debug_cursor = forced
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


class Issued:
    """Every sensitive value the flows handled, by kind."""

    def __init__(self) -> None:
        self.values: dict[str, set[str]] = {}

    def add(self, kind: str, *values: str) -> None:
        for value in values:
            assert value and len(value) >= 8, (kind, value)
            self.values.setdefault(kind, set()).add(value)

    def tokens(self, body: dict) -> dict:
        for key, kind in (("access_token", "access token"), ("id_token", "ID token"),
                          ("refresh_token", "refresh token")):
            if body.get(key):
                self.add(kind, body[key])
        return body

    def needles(self):
        """(kind, needle): the value, its form and percent encodings, and for a JWT its signature alone."""
        for kind, values in self.values.items():
            for value in values:
                forms = {value, quote_plus(value), quote(value, safe="")}
                if value.count(".") == 2 and kind in ("access token", "ID token"):
                    forms.add(value.rsplit(".", 1)[1])
                for form in forms:
                    yield kind, form


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def basic(client_id: str, secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}"
                                                              .encode()).decode()}


def run_flows(demo, issued: Issued) -> None:
    client = Client()
    issued.add("password", demo.password)
    issued.add("client secret", demo.daemon_client_secret)
    native = demo.native_client_id

    # ROPC with offline_access, then two refreshes.
    tokens = issued.tokens(ok(ropc(client, demo)))
    for _ in range(2):
        tokens = issued.tokens(ok(post_form(client, demo, {
            "grant_type": "refresh_token", "client_id": native, "resource": native, "response_type": "id_token",
            "refresh_token": tokens["refresh_token"]})))
    # A wrong password and a reused (rotated) refresh token: refusals must not log the values either.
    issued.add("password", "Wrong-Password-4711")
    assert ropc(client, demo, demo.username, "Wrong-Password-4711").status_code == 400

    # Client credentials, Basic and post; a second secret added through the service.
    scope = f"{demo.api_app_id_uri}/.default"
    issued.tokens(ok(post_form(client, demo, {"grant_type": "client_credentials", "scope": scope},
                               **basic(demo.daemon_client_id, demo.daemon_client_secret))))
    issued.tokens(ok(post_form(client, demo, {"grant_type": "client_credentials", "scope": scope,
                                              "client_id": demo.daemon_client_id,
                                              "client_secret": demo.daemon_client_secret})))
    from applications.models import Application

    daemon = Application.objects.get(client_id=demo.daemon_client_id)
    _, second_secret = applications.client_secret_add(application=daemon, actor="tests", description="second")
    issued.add("client secret", second_secret)
    issued.tokens(ok(post_form(client, demo, {"grant_type": "client_credentials", "scope": scope,
                                              "client_id": demo.daemon_client_id, "client_secret": second_secret})))
    issued.add("client secret", second_secret[:-2] + "xx")
    assert post_form(client, demo, {"grant_type": "client_credentials", "scope": scope,
                                    "client_id": demo.daemon_client_id,
                                    "client_secret": second_secret[:-2] + "xx"}).status_code == 401

    # A user created with a password, who then changes it (the old one is kept hashed, for its message).
    first, second = "Carol-First-Pass-1", "Carol-Second-Pass-2"
    issued.add("password", first, second)
    carol = accounts.user_create(actor="tests", username="carol", email="carol@contoso.test", password=first)
    issued.tokens(ok(ropc(client, demo, "carol", first)))
    accounts.user_set_password(user=User.objects.get(pk=carol.pk), password=second, actor="tests")
    assert ropc(client, demo, "carol", first).status_code == 400  # "Looks like you used an old password"
    issued.tokens(ok(ropc(client, demo, "carol", second)))

    # A confidential ROPC app: its refresh token introspected, then revoked.
    web = applications.application_register(actor="tests", name="Web app", ropc=True)
    _, web_secret = applications.client_secret_add(application=web, actor="tests")
    issued.add("client secret", web_secret)
    web_tokens = issued.tokens(ok(post_form(client, demo, {
        "grant_type": "password", "client_id": web.client_id, "client_secret": web_secret, "username": "carol",
        "password": second, "scope": f"openid {web.client_id} offline_access"})))
    body = ok(post_form(client, demo, {"token": web_tokens["refresh_token"]}, name="introspect",
                        **basic(web.client_id, web_secret)))
    assert body["active"] is True, body
    # (Whether this access token is active depends on the second it was issued in: see
    # test_valid_from_precision.py. Here only what the introspection writes to logs and tables matters.)
    ok(post_form(client, demo, {"token": web_tokens["access_token"]}, name="introspect",
                 **basic(web.client_id, web_secret)))
    ok(post_form(client, demo, {"token": web_tokens["refresh_token"]}, name="revoke",
                 **basic(web.client_id, web_secret)))
    body = ok(post_form(client, demo, {"token": web_tokens["refresh_token"]}, name="introspect",
                        **basic(web.client_id, web_secret)))
    assert body["active"] is False
    # The revoked token presented again: a refusal that still must not echo it.
    assert post_form(client, demo, {"grant_type": "refresh_token", "client_id": web.client_id,
                                    "client_secret": web_secret,
                                    "refresh_token": web_tokens["refresh_token"]}).status_code == 400


def model_dump() -> str:
    """Every field of every row of every model (auto-created through tables included)."""
    lines = []
    for model in apps.get_models(include_auto_created=True):
        for row in model._base_manager.all().values():
            lines.append(f"{model._meta.db_table} {row!r}")
    return "\n".join(lines)


def database_dump() -> tuple[str, str]:
    """(how, text): pg_dump of the test database, or SQLite's SQL dump of the connection."""
    if connection.vendor == "postgresql" and shutil.which("pg_dump"):
        params = connection.settings_dict
        command = ["pg_dump", "--no-owner", "-h", params.get("HOST") or "127.0.0.1", "-p",
                   str(params.get("PORT") or 5432), "-U", params.get("USER") or "postgres", params["NAME"]]
        env = {"PATH": "/usr/bin:/bin", "PGPASSWORD": params.get("PASSWORD") or ""}
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 0, result.stderr
        return "pg_dump", result.stdout
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "sqlite iterdump", "\n".join(connection.connection.iterdump())
    return "model dump only", ""


def record_text(record: logging.LogRecord) -> str:
    parts = [str(record.msg), repr(record.args)]
    try:
        parts.append(record.getMessage())
    except Exception as exc:  # a malformed record is still searched through msg and args
        parts.append(f"unformattable: {exc!r}")
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    parts += [record.exc_text or "", record.stack_info or "", repr(vars(record))]
    return "\n".join(parts)


@pytest.mark.django_db(transaction=True)
def test_no_issued_value_is_in_the_database_dump_or_any_log_record(demo, every_logger_at_debug, settings):
    settings.RATE_LIMIT_CLIENT_PER_SECOND = settings.RATE_LIMIT_IP_PER_5_MINUTES = 0
    issued = Issued()
    run_flows(demo, issued)

    how, dump = database_dump()
    models = model_dump()
    logs = [record_text(record) for record in every_logger_at_debug.records]
    log_text = "\n".join(logs)
    assert len(dump) > 10_000 or how == "model dump only", how
    assert "token_checksum" in models  # the dump really holds the token tables
    # Positive control: a value that is meant to be stored and logged is found by the same search.
    for text in (dump or models, models, log_text):
        assert demo.native_client_id in text

    hits = []
    for kind, needle in issued.needles():
        for where, text in ((how, dump), ("model dump", models), ("logs", log_text)):
            if needle in text:
                at = text.index(needle)
                hits.append((kind, where, text[max(0, at - 120):at + 40]))
    counts = {kind: len(values) for kind, values in issued.values.items()}
    record_figures("plaintext_at_rest_and_in_logs", values_searched=sum(counts.values()), by_kind=counts,
                   dump=how, dump_chars=len(dump), model_rows_chars=len(models), log_records=len(logs),
                   sql_statements_logged=sum(1 for r in every_logger_at_debug.records
                                             if r.name == "django.db.backends"),
                   hits=len(hits))
    assert len(logs) > 100  # DEBUG really was on (SQL statements at least)
    assert hits == [], hits
