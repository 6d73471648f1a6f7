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
    (("revokesessions", "nobody"), "Unknown user"),
])
def test_bad_input_exits_1_with_one_line_on_stderr_and_writes_nothing(cli, args, message):
    before = cli.counts()
    for json_flag in ((), ("--json",)):
        result = cli(*args, *json_flag)
        assert result.returncode == 1
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("CommandError: ") and message in lines[0]
    assert cli.counts() == before


def test_usage_errors_exit_2(cli):
    result = cli("createuser", "x", "--password", "Long-Pass-123", "--password-stdin")
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr
    assert "Long-Pass-123" not in result.stdout + result.stderr
