"""The commands as an operator runs them: real `manage.py` processes, exit codes, stdout and stderr (SPEC §7).

The test database lives in memory inside pytest, so these use their own SQLite file, migrated once.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password

ROOT = Path(settings.BASE_DIR)
TABLES = (
    "accounts_user", "applications_application", "applications_clientsecret", "applications_approle",
    "applications_requiredpermission", "applications_consentgrant", "policies_policy", "audit_auditevent",
)


class Cli:
    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": f"sqlite:///{db_path}",
        }

    def __call__(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, input=stdin, capture_output=True,
            text=True, timeout=120, check=False,
        )

    def ok_json(self, *args: str, stdin: str = "") -> dict:
        result = self(*args, "--json", stdin=stdin)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        return json.loads(result.stdout)

    def counts(self) -> dict[str, int]:
        with sqlite3.connect(self.db_path) as db:
            return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608

    def query(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.db_path) as db:
            return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> Cli:
    cli = Cli(tmp_path_factory.mktemp("cli") / "db.sqlite3")
    result = cli("migrate", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stderr
    return cli


def test_createuser_reads_the_password_from_stdin_and_prints_json(cli):
    data = cli.ok_json("createuser", "stdin-user", "--password-stdin", stdin="Stdin-Pass-123\n")
    assert data["username"] == "stdin-user" and data["has_password"] is True
    [(password_hash,)] = cli.query("SELECT password FROM accounts_user WHERE object_id = ?",
                                   data["object_id"].replace("-", ""))
    assert check_password("Stdin-Pass-123", password_hash)


def test_register_request_consent_and_add_secret_end_to_end(cli):
    api = cli.ok_json("registerapp", "CLI API", "--app-id-uri", "https://contoso.onmicrosoft.com/cli-api")
    cli.ok_json("addapprole", api["client_id"], "cli.read")
    client = cli.ok_json("registerapp", "CLI daemon")
    assert set(client) >= {"client_id", "object_id", "service_principal_id"}
    added = cli.ok_json("addpermission", client["client_id"], api["app_id_uri"], "cli.read")
    assert added["added"] == ["cli.read"]
    consent = cli.ok_json("grantconsent", client["client_id"])
    assert [p["status"] for p in consent["permissions"]] == ["Granted"]
    secret = cli.ok_json("addsecret", client["client_id"], "--expires-days", "10")
    [(secret_hash,)] = cli.query("SELECT secret_hash FROM applications_clientsecret WHERE key_id = ?",
                                 secret["secret_id"].replace("-", ""))
    assert check_password(secret["secret"], secret_hash)
    assert not cli.query("SELECT id FROM audit_auditevent WHERE details LIKE ?", f"%{secret['secret']}%")


def test_human_output_is_short_text(cli):
    result = cli("createpolicy", "B2C_1_CLI")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Created policy B2C_1_CLI")
    assert not result.stdout.lstrip().startswith("{")


@pytest.mark.parametrize(("args", "message"), [
    (("addsecret", "00000000-0000-0000-0000-000000000000"), "Unknown application"),
    (("createuser", "weak", "--password", "abc"), "too short"),
    (("createuser", "bad", "--email", "nope"), "Invalid email address"),
    (("createpolicy", "Not_A_Policy"), "Invalid policy id"),
    (("createpolicy", "B2C_1_CLI_Bad", "--refresh-token-days", "500"), "between 1 and 90"),
    (("registerapp", "X", "--client-id", "123"), "must be a UUID"),
    (("registerapp", "X", "--app-id-uri", "notauri"), "App ID URI: 'notauri' is not a URI"),
    (("revokesessions", "nobody"), "Unknown user"),
    (("disableuser", "nobody"), "Unknown user"),
    (("removesecret", "00000000-0000-0000-0000-000000000000", "x"), "Unknown application"),
])
def test_bad_input_exits_1_with_one_line_on_stderr_and_writes_nothing(cli, args, message):
    before = cli.counts()
    result = cli(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("CommandError: ") and message in lines[0]
    assert "Constraint" not in result.stderr
    assert cli.counts() == before


@pytest.mark.parametrize(("args", "message"), [
    (("addsecret", "00000000-0000-0000-0000-000000000000"), "Unknown application"),
    (("createuser", "bad", "--email", "nope"), "Invalid email address"),
    (("createpolicy", "Not_A_Policy"), "Invalid policy id"),
    (("registerapp", "X", "--app-id-uri", "ftp://x/y"), "App ID URI: the scheme must be api:// or https://"),
    (("revokesessions", "nobody"), "Unknown user"),
    (("listsecrets", "nope"), "Unknown application"),
])
def test_with_json_a_failure_is_one_json_object_on_stderr_and_nothing_on_stdout(cli, args, message):
    before = cli.counts()
    result = cli(*args, "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    error = json.loads(result.stderr)
    assert list(error) == ["error"] and message in error["error"]
    assert cli.counts() == before


def test_usage_errors_exit_2(cli):
    result = cli("createuser", "x", "--password", "Long-Pass-123", "--password-stdin")
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr
    assert "Long-Pass-123" not in result.stdout + result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("registerapp",), "the following arguments are required: NAME"),
    (("listusers", "--bogus"), "unrecognized arguments: --bogus"),
    (("addsecret", "x", "--expires-days", "ten"), "invalid int value: 'ten'"),
    (("setpassword",), "the following arguments are required: USER"),
])
def test_with_json_usage_errors_are_json_too_and_exit_2(cli, args, message):
    result = cli(*args, "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    error = json.loads(result.stderr)
    assert list(error) == ["error"] and message in error["error"] and "--help" in error["error"]


def test_with_json_an_unexpected_error_is_json_too(cli, tmp_path):
    unmigrated = Cli(tmp_path / "empty.sqlite3")
    result = unmigrated("listapps", "--json")
    assert result.returncode == 1 and result.stdout == ""
    assert "no such table" in json.loads(result.stderr)["error"]


def test_setpassword_reads_stdin_and_the_password_shows_nowhere(cli):
    user = cli.ok_json("createuser", "pw-user")
    data = cli.ok_json("setpassword", "pw-user", "--password-stdin", "--force-change", stdin="Piped-Pass-456\n")
    assert data["object_id"] == user["object_id"] and data["force_change"] is True
    [(password_hash,)] = cli.query("SELECT password FROM accounts_user WHERE object_id = ?",
                                   user["object_id"].replace("-", ""))
    assert check_password("Piped-Pass-456", password_hash)
    human = cli("setpassword", "pw-user", "--password-stdin", stdin="Other-Pass-789\n")
    assert human.returncode == 0 and "Other-Pass-789" not in human.stdout + human.stderr


def test_setpassword_without_a_terminal_or_password_stdin_asks_for_it_and_changes_nothing(cli):
    cli.ok_json("createuser", "no-tty-user", "--password-stdin", stdin="First-Pass-123\n")
    before = cli.query("SELECT password FROM accounts_user WHERE username = 'no-tty-user'")
    result = cli("setpassword", "no-tty-user", "--json", stdin="Ignored-Pass-123\n")
    assert result.returncode == 1
    assert "--password-stdin" in json.loads(result.stderr)["error"]
    assert cli.query("SELECT password FROM accounts_user WHERE username = 'no-tty-user'") == before
