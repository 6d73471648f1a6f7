"""Admin changes reach every worker within DIRECTORY_CACHE_SECONDS (identity/directory_cache.py).

The production server (granian, two workers of two threads) caches the directory in each worker; the
changes come from another process (manage.py), as an admin's would. Each test measures from the
moment the change was committed to the first refusal, and then checks that every later request is
refused (whichever worker answers).
"""

import json
import time

import pytest

from tests.flows.processes import manage
from tests.flows.tls_server import client_credentials, session_for, tls_trustframe

pytestmark = pytest.mark.spec("ISSUE-5", "cached directory: bounded staleness")

BOUND = 1.0  # DIRECTORY_CACHE_SECONDS, the deployed default
SLACK = 1.0  # a request in flight, a loaded machine

CREATE_DAEMON = """
import json
from applications import services
from applications.selectors import application_get
api = application_get({api!r})
daemon = services.application_register(actor="tests", name="Staleness daemon")
first = services.client_secret_add(application=daemon, actor="tests", description="first")
second = services.client_secret_add(application=daemon, actor="tests", description="second")
services.permission_add(client=daemon, api=api, values=["app.read"], actor="tests")
services.admin_consent_grant(client=daemon, actor="tests")
print(json.dumps({{"client_id": daemon.client_id, "first": first[1], "second": second[1],
                   "first_id": first[0].pk}}))
"""

REMOVE_SECRET = """
from applications import services
from applications.models import ClientSecret
services.client_secret_remove(secret=ClientSecret.objects.get(pk={pk}), actor="tests")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with tls_trustframe(tmp_path_factory.mktemp("directory-changes"), server="granian") as running:
        yield running


@pytest.fixture(scope="module")
def http(server):
    with session_for(server) as session:
        yield session


def seconds_until_refused(send, refused) -> float:
    """From now (the change is committed) until the first refusal; once the bound has passed, every
    request is refused, whichever worker answers (a worker that looked at the stamp just before the
    commit may answer from its cache until then: that is the documented staleness)."""
    start = time.monotonic()
    while not refused(send()):
        assert time.monotonic() - start < BOUND + SLACK, "the change did not take effect in time"
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    time.sleep(max(0.0, start + BOUND - time.monotonic()))
    later = [send() for _ in range(20)]
    assert all(refused(r) for r in later), [(r.status_code, r.text[:200]) for r in later]
    return elapsed


@pytest.fixture(scope="module")
def daemon(server):
    created = manage(server.env, "shell", "-c", CREATE_DAEMON.format(api=server.demo["api_app_id_uri"]))
    return json.loads(created.strip().splitlines()[-1])


def test_a_removed_secret_stops_working_in_every_worker_within_the_bound(server, http, daemon):
    for _ in range(20):  # both workers have the app and its secrets cached
        assert client_credentials(server, http, daemon["client_id"], daemon["first"]).status_code == 200
    manage(server.env, "shell", "-c", REMOVE_SECRET.format(pk=daemon["first_id"]))
    elapsed = seconds_until_refused(
        lambda: client_credentials(server, http, daemon["client_id"], daemon["first"]),
        lambda r: r.status_code == 401 and r.json()["error"] == "invalid_client",
    )
    assert elapsed <= BOUND + SLACK
    # The app's other secret still works.
    assert client_credentials(server, http, daemon["client_id"], daemon["second"]).status_code == 200


def test_withdrawn_consent_stops_tokens_in_every_worker_within_the_bound(server, http, daemon):
    for _ in range(20):
        response = client_credentials(server, http, daemon["client_id"], daemon["second"])
        assert response.status_code == 200, response.text
    manage(server.env, "grantconsent", "--revoke", daemon["client_id"])
    elapsed = seconds_until_refused(
        lambda: client_credentials(server, http, daemon["client_id"], daemon["second"]),
        lambda r: r.status_code == 400 and r.json()["error_description"].startswith("AADB2C90284"),
    )
    assert elapsed <= BOUND + SLACK
