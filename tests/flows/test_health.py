"""Liveness and readiness (SPEC §2): /healthz never touches the database; /readyz is 503 JSON without one."""

from unittest import mock

import pytest
from django.db import OperationalError, connections

pytestmark = pytest.mark.spec("SPEC.md", "§2")


def test_healthz_is_ok_without_touching_the_database(client):
    # No `db` fixture: pytest-django fails any database access in this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ready_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {"status": "ready"}


@pytest.mark.django_db
def test_readyz_is_a_json_503_when_the_database_is_unreachable(client):
    def unreachable(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 1 failed: Connection refused')

    with mock.patch.object(connections["default"], "cursor", unreachable):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"].isdigit()
    assert response.json()["status"] == "unavailable"
    assert "port" not in response.content.decode()  # the driver's message stays in the log
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_answers_head_for_load_balancers(client):
    assert client.head("/readyz").status_code == 200
