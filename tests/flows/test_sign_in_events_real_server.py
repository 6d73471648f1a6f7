"""A graceful shutdown writes the sign-in events still waiting in each worker (audit/sign_in_buffer.py).

The flush interval is set far longer than the test, so every event is still pending when the server
is stopped (SIGTERM to its process group, as a deploy or restart does): granian's workers leave through
multiprocessing (os._exit, no atexit), gunicorn's through sys.exit.
"""

import base64
import sqlite3

import pytest
import requests

from tests.flows.tls_server import tls_trustframe

pytestmark = pytest.mark.spec("SPEC.md", "§5")

POLICY = "B2C_1_ROPC_Auth"
REQUESTS = 20


@pytest.mark.parametrize("server_name", ["granian", "gunicorn"])
def test_events_pending_at_a_graceful_shutdown_are_written(tmp_path, server_name):
    with tls_trustframe(tmp_path, server=server_name, extra_env={"SIGN_IN_EVENTS_FLUSH_SECONDS": "600"}) as server:
        demo = server.demo
        basic = base64.b64encode(f"{demo['daemon_client_id']}:{demo['daemon_client_secret']}".encode()).decode()
        with requests.Session() as http:
            http.verify, http.trust_env = str(server.ca_file), False
            for _ in range(REQUESTS):
                response = http.post(f"{server.authority(POLICY)}/oauth2/v2.0/token", timeout=10,
                                     headers={"Authorization": f"Basic {basic}"},
                                     data={"grant_type": "client_credentials",
                                           "scope": f"{demo['api_app_id_uri']}/.default"})
                assert response.status_code == 200, response.text
        with sqlite3.connect(server.db_path) as db:
            (pending_now,) = db.execute(
                "SELECT COUNT(*) FROM audit_signinevent WHERE grant_type = 'client_credentials'").fetchone()
        assert pending_now < REQUESTS  # still waiting in the workers: the shutdown is what writes them
    with sqlite3.connect(server.db_path) as db:
        (written,) = db.execute(
            "SELECT COUNT(*) FROM audit_signinevent WHERE grant_type = 'client_credentials' AND succeeded = 1"
        ).fetchone()
    assert written == REQUESTS, server.log_tail()
