"""Production settings: `manage.py check --deploy` is clean, and the identity checks fire (SPEC §1)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check_deploy(tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "identity.settings",
        "DEBUG": "false",
        "SECRET_KEY": "Zq3-vKx8_pL2mN7wR4tY9uE1iO6aS5dF0gH8jK3lZ2xC7vB4nM1q",
        "ALLOWED_HOSTS": "login.contoso.com",
        "IDENTITY_TENANT_NAME": "contoso.onmicrosoft.com",
        "IDENTITY_BASE_URL": "https://login.contoso.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    } | overrides
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = _check_deploy(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_an_http_issuer_fails_the_deploy_check(tmp_path):
    result = _check_deploy(tmp_path, IDENTITY_BASE_URL="http://login.contoso.com")
    assert result.returncode != 0 and "identity.E003" in result.stderr


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _check_deploy(tmp_path, SECRET_KEY="")
    assert result.returncode != 0


def test_argon2_is_the_first_password_hasher_in_production():
    from identity import settings as production

    assert production.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idPasswordHasher"
    assert "applications.hashers.ClientSecretHasher" in production.PASSWORD_HASHERS
    assert production.LOGGING["loggers"]["oauthlib"]["level"] == "INFO"


def test_a_missing_required_variable_is_named(tmp_path):
    result = _check_deploy(tmp_path, IDENTITY_BASE_URL="")
    assert result.returncode != 0 and "Set the IDENTITY_BASE_URL environment variable" in result.stderr


def test_a_copied_env_example_with_blanks_starts_in_development(tmp_path):
    # Empty DATABASE_URL and IDENTITY_KEY_SECRET mean "use the default", not "empty".
    result = _check_deploy(tmp_path, DEBUG="true", DATABASE_URL="", IDENTITY_KEY_SECRET="", SECRET_KEY="",
                           IDENTITY_BASE_URL="")
    assert "no issues" in result.stdout or "issue" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
