"""Fixtures shared by every test: domain nouns (users, apps, policies), an admin actor."""

import pytest
from django.db import connection

from accounts import services as accounts
from applications import services as applications
from identity import cache_guard
from identity.directory_cache import directory
from identity.tenant import forget_cached_tenant
from policies import services as policies

ACTOR = "tests"
DEMO_PASSWORD = "Correct-Horse-9"


def pytest_report_header(config) -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return f"trustframe: database {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}, cache {cache}"


@pytest.fixture(autouse=True)
def _fresh_process_state():
    """Per-process memories that must not leak between tests: the tenant id, a recorded cache outage,
    the directory cache."""
    forget_cached_tenant()
    cache_guard.reset()
    directory.clear()
    yield
    forget_cached_tenant()
    cache_guard.reset()
    directory.clear()


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def user(db):
    return accounts.user_create(
        actor=ACTOR, username="alice", email="alice@contoso.test", password=DEMO_PASSWORD,
        display_name="Alice Example", given_name="Alice", surname="Example",
    )


@pytest.fixture
def policy(db):
    return policies.policy_create_or_update(actor=ACTOR, policy_id="B2C_1_ROPC_Auth")[0]


@pytest.fixture
def native_app(db):
    return applications.application_register(actor=ACTOR, name="Native app", public=True, ropc=True)


@pytest.fixture
def api_app(db):
    api = applications.application_register(
        actor=ACTOR, name="Tasks API", app_id_uri="https://contoso.onmicrosoft.com/tasks-api"
    )
    applications.app_role_add(application=api, actor=ACTOR, value="app.read", display_name="Read")
    applications.app_role_add(application=api, actor=ACTOR, value="app.write", display_name="Write")
    return api


@pytest.fixture
def daemon_app(db):
    return applications.application_register(actor=ACTOR, name="Daemon")


@pytest.fixture
def admin_user(db):
    from accounts.models import User

    return User.objects.create_superuser(username="admin", email="admin@contoso.test", password="Admin-Pass-123")
